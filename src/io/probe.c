// SPDX-License-Identifier: MIT
/*
 * probe.c: the reachability prober (probe.h). The parent forks one child per source pod, a
 * bounded number at a time; a child enters its pod's namespace (setns() moves only a process
 * that has no other threads, and a child is cheaper than a thread per namespace anyway), opens
 * one non-blocking socket per destination, drives them all from one poll() loop and writes
 * its row back in one pipe write. Everything a child needs is allocated by the parent before
 * the fork, so a child never allocates and only ever leaves by _exit().
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../base/err.h"
#include "../base/mem.h"
#include "../base/util.h"
#include "netns.h"
#include "probe.h"

#define PAYLOAD "probe"
#define GRACE_MS 5000		/* past a child's own budget before it is killed */

/* One destination in flight in a child. */
struct slot {
	int fd;
	size_t to;
	uint64_t deadline;	/* ms, monotonic */
	uint64_t resend;	/* UDP: when to send again */
};

/* What a child writes: the setns() result, then one byte per destination. */
struct row_msg {
	int32_t status;
	uint8_t cells[PROBE_MAX_PODS];
};

struct prober {
	const struct probe_pod *pods;
	size_t n;
	uint16_t port;
	bool udp;
	unsigned timeout_ms;
	unsigned resend_ms;
	struct slot *slots;	/* PROBE_WINDOW, the child's */
	struct pollfd *cpfd;	/* PROBE_WINDOW, the child's */
	struct row_msg *msg;
};

/* ---- the child: one source, every destination ------------------------------------------ */

static socklen_t sockaddr_of(const struct ipaddr *a, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a->a, 4);
		return sizeof(*s4);
	}
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	memcpy(&s6->sin6_addr, a->a, 16);
	return sizeof(*s6);
}

/*
 * Start probing one destination: 1 when it is in flight on *fd, 0 when the verdict is already
 * in (cell written), never an error: a probe that cannot even start is a blocked cell.
 */
static int start(const struct prober *p, size_t to, int *fd)
{
	const struct ipaddr *a = &p->pods[to].addr;
	struct sockaddr_storage ss;
	socklen_t len;
	int s, r;

	p->msg->cells[to] = 0;
	if (a->family != AF_INET && a->family != AF_INET6)
		return 0;
	len = sockaddr_of(a, p->port, &ss);
	s = socket(a->family, (p->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC,
		   0);
	if (s < 0)
		return 0;
	r = connect(s, (struct sockaddr *)&ss, len);
	if (!p->udp && r == 0) {
		p->msg->cells[to] = 1;
		close(s);
		return 0;
	}
	if (p->udp ? r < 0 || send(s, PAYLOAD, strlen(PAYLOAD), MSG_NOSIGNAL) < 0 :
		     errno != EINPROGRESS) {
		close(s);
		return 0;
	}
	*fd = s;
	return 1;
}

/* A ready socket: 1 while still waiting, else 0 with the cell written. */
static int finish(const struct prober *p, const struct slot *sl, short revents)
{
	char got[sizeof(PAYLOAD)];
	socklen_t len = sizeof(int);
	ssize_t n;
	int err = 0;

	if (!p->udp) {
		if (getsockopt(sl->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		p->msg->cells[sl->to] = !err && (revents & POLLOUT);
		return 0;
	}
	n = recv(sl->fd, got, sizeof(got), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 1;
	p->msg->cells[sl->to] = n == (ssize_t)strlen(PAYLOAD) && !memcmp(got, PAYLOAD, (size_t)n);
	return 0;
}

/* UDP is lossy: send again when due; a send error (a queued ICMP error) ends the probe. */
static int resend(const struct prober *p, struct slot *sl, uint64_t now)
{
	if (!p->udp || now < sl->resend)
		return 1;
	sl->resend = now + p->resend_ms;
	return send(sl->fd, PAYLOAD, strlen(PAYLOAD), MSG_NOSIGNAL) < 0 ? 0 : 1;
}

static int wait_ms(const struct prober *p, size_t live)
{
	uint64_t now = mono_ms(), due = UINT64_MAX;

	for (size_t i = 0; i < live; i++) {
		due = MIN(due, p->slots[i].deadline);
		if (p->udp)
			due = MIN(due, p->slots[i].resend);
	}
	return due <= now ? 0 : (int)MIN(due - now, 60000u);
}

/* Move the last live slot into i (the one just finished), closing i's socket. */
static size_t drop(const struct prober *p, size_t i, size_t live)
{
	close(p->slots[i].fd);
	p->slots[i] = p->slots[live - 1];
	p->cpfd[i] = p->cpfd[live - 1];
	return live - 1;
}

/* Refill the window from the next destinations. */
static size_t fill(const struct prober *p, size_t *next, size_t live)
{
	while (live < PROBE_WINDOW && *next < p->n) {
		size_t to = (*next)++;
		uint64_t now = mono_ms();
		int fd;

		if (!start(p, to, &fd))
			continue;
		p->slots[live] = (struct slot){ fd, to, now + p->timeout_ms, now + p->resend_ms };
		p->cpfd[live] = (struct pollfd){ fd, p->udp ? POLLIN : POLLOUT, 0 };
		live++;
	}
	return live;
}

static void probe_row(const struct prober *p)
{
	size_t next = 0, live = fill(p, &next, 0);

	while (live) {
		int r = poll(p->cpfd, live, wait_ms(p, live));
		uint64_t now = mono_ms();

		for (size_t i = live; i-- > 0;) {
			struct slot *sl = &p->slots[i];
			int wait = 1;

			if (r > 0 && p->cpfd[i].revents)
				wait = finish(p, sl, p->cpfd[i].revents);
			if (wait && now >= sl->deadline)
				wait = 0;
			else if (wait)
				wait = resend(p, sl, now);
			if (!wait)
				live = drop(p, i, live);
		}
		live = fill(p, &next, live);
	}
}

static void __noreturn child_main(const struct prober *p, int nsfd, int out)
{
	size_t len = offsetof(struct row_msg, cells) + p->n;

	p->msg->status = netns_enter(nsfd);
	if (!p->msg->status)
		probe_row(p);
	_exit(write_all(out, p->msg, len) ? 1 : 0);
}

/* ---- the parent: a bounded set of children --------------------------------------------- */

struct job {
	pid_t pid;
	int fd;			/* the child's row arrives here */
	size_t row;
	uint64_t deadline;
};

struct jobs {
	struct job j[PROBE_PARALLEL];
	struct pollfd pfd[PROBE_PARALLEL];
	size_t n;
	uint64_t budget_ms;	/* a child's own worst case plus grace */
};

static int launch(const struct prober *p, size_t row, struct jobs *js, struct ebuf *eb)
{
	const struct probe_pod *src = &p->pods[row];
	int nsfd = -1, fds[2] = { -1, -1 }, e;
	pid_t pid;

	if ((e = netns_open(src->netns_path, &nsfd, eb))) {
		ebuf_prefix(eb, "pod %s", src->id);
		return e;
	}
	if (pipe2(fds, O_CLOEXEC) < 0) {
		e = -errno;
		ebuf_set(eb, "pipe: %s", strerror(-e));
		goto out;
	}
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		child_main(p, nsfd, fds[1]);
	}
	if (pid < 0) {
		e = -errno;
		ebuf_set(eb, "fork: %s", strerror(-e));
		close(fds[0]);
		goto out;
	}
	js->j[js->n] = (struct job){ pid, fds[0], row, mono_ms() + js->budget_ms };
	js->pfd[js->n++] = (struct pollfd){ fds[0], POLLIN, 0 };
out:
	if (fds[1] >= 0)
		close(fds[1]);
	close(nsfd);
	return e;
}

/* Reap job i and take it out of the set. */
static void reap(struct jobs *js, size_t i, bool kill_it, int *status)
{
	struct job *j = &js->j[i];

	if (kill_it)
		kill(j->pid, SIGKILL);
	while (waitpid(j->pid, status, 0) < 0 && errno == EINTR)
		;
	close(j->fd);
	js->j[i] = js->j[js->n - 1];
	js->pfd[i] = js->pfd[js->n - 1];
	js->n--;
}

/* Job i has written its row or died: copy the row into the matrix. */
static int collect(const struct prober *p, struct jobs *js, size_t i, bool *matrix,
		   struct ebuf *eb)
{
	size_t want = offsetof(struct row_msg, cells) + p->n, got = 0, row = js->j[i].row;
	const char *id = p->pods[row].id;
	int e = read_full(js->j[i].fd, p->msg, want, &got), status = 0;

	reap(js, i, false, &status);
	if (e || got != want) {
		ebuf_set(eb, "probing from %s: the prober died (wait status %#x)", id,
			 (unsigned)status);
		return -EIO;
	}
	if (p->msg->status) {
		ebuf_set(eb, "probing from %s: entering its network namespace: %s", id,
			 strerror(-p->msg->status));
		return p->msg->status;
	}
	for (size_t to = 0; to < p->n; to++)
		matrix[row * p->n + to] = p->msg->cells[to];
	return 0;
}

/* Wait for some job to report or overrun; collect or kill what is due. */
static int step(const struct prober *p, struct jobs *js, bool *matrix, struct ebuf *eb)
{
	uint64_t now = mono_ms(), due = UINT64_MAX;
	int r, e = 0, status;

	for (size_t i = 0; i < js->n; i++)
		due = MIN(due, js->j[i].deadline);
	r = poll(js->pfd, js->n, due <= now ? 0 : (int)MIN(due - now, 60000u));
	if (r < 0 && errno != EINTR) {
		e = -errno;
		ebuf_set(eb, "poll: %s", strerror(-e));
		return e;
	}
	now = mono_ms();
	for (size_t i = js->n; i-- > 0 && !e;) {
		if (r > 0 && js->pfd[i].revents) {
			e = collect(p, js, i, matrix, eb);
		} else if (now >= js->j[i].deadline) {
			ebuf_set(eb, "probing from %s: no answer in %llu ms",
				 p->pods[js->j[i].row].id, (unsigned long long)js->budget_ms);
			reap(js, i, true, &status);
			e = -ETIMEDOUT;
		}
	}
	return e;
}

static int run(const struct prober *p, bool *matrix, struct ebuf *eb)
{
	struct jobs js = { .n = 0 };
	size_t waves = (p->n + PROBE_WINDOW - 1) / PROBE_WINDOW, next = 0;
	int e = 0, status;

	js.budget_ms = (uint64_t)p->timeout_ms * MAX(waves, 1) + GRACE_MS;
	while (!e && (next < p->n || js.n)) {
		while (!e && js.n < PROBE_PARALLEL && next < p->n) {
			size_t row = next++;

			if (p->pods[row].addr.family)
				e = launch(p, row, &js, eb);
		}
		if (!e && js.n)
			e = step(p, &js, matrix, eb);
	}
	while (js.n)
		reap(&js, js.n - 1, true, &status);
	return e;
}

static int check_args(const struct probe_pod *pods, size_t n, uint16_t port, int proto,
		      unsigned timeout_ms, struct ebuf *eb)
{
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) {
		ebuf_set(eb, "protocol %d is neither TCP nor UDP", proto);
		return -EINVAL;
	}
	if (!port || !timeout_ms || n > PROBE_MAX_PODS) {
		ebuf_set(eb, "port 0, timeout 0 or more than %d pods", PROBE_MAX_PODS);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if (pods[i].addr.family && !pods[i].netns_path) {
			ebuf_set(eb, "pod %s has no network namespace", pods[i].id);
			return -EINVAL;
		}
	return 0;
}

int probe_matrix(const struct probe_pod *pods, size_t n, uint16_t port, int proto,
		 unsigned timeout_ms, bool *matrix, struct ebuf *eb)
{
	struct prober p = { .pods = pods, .n = n, .port = port, .udp = proto == IPPROTO_UDP,
			    .timeout_ms = timeout_ms, .resend_ms = MAX(timeout_ms / 5, 100u) };
	int e = check_args(pods, n, port, proto, timeout_ms, eb);

	if (!e && n)
		memset(matrix, 0, n * n);
	if (e || !n)
		return e;
	p.slots = mem_alloc(PROBE_WINDOW * (sizeof(struct slot) + sizeof(struct pollfd)) +
			    sizeof(struct row_msg));
	if (!p.slots) {
		ebuf_set(eb, "no memory for the prober");
		return -ENOMEM;
	}
	p.cpfd = (struct pollfd *)(p.slots + PROBE_WINDOW);
	p.msg = (struct row_msg *)(p.cpfd + PROBE_WINDOW);
	e = run(&p, matrix, eb);
	if (e)
		memset(matrix, 0, n * n);
	mem_free(p.slots);
	return e;
}
