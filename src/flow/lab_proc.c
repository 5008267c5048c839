// SPDX-License-Identifier: MIT
/*
 * lab_proc.c: the lab's child processes (see lab_int.h). Every one is this same binary
 * (/proc/self/exe) with argv[0] naming the applet, started in a node's or a pod's network
 * namespace: daemons (agents, pod servers) detached into their own session with their output
 * in a log file, and short runs (the CNI plugin) with stdin fed, stdout and stderr captured
 * and a deadline. Processes are known by pid and start time, so a pid reused by someone else
 * is never signalled.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/util.h"
#include "../io/netns.h"
#include "lab_int.h"

#define SELF "/proc/self/exe"
#define OUT_MAX (1u << 20)	/* bytes of a short run's stdout or stderr kept */

uint64_t lab_now(void)
{
	return mono_ms();
}

void lab_sleep(const struct lab *l, unsigned ms)
{
	uint64_t end = lab_now() + ms;

	while (!lab_stopped(l) && lab_now() < end) {
		struct timespec ts = { 0, 10 * 1000000L };

		nanosleep(&ts, NULL);
	}
}

/* The state letter and start time (field 22) of /proc/PID/stat; -ESRCH when gone. */
static int proc_stat(pid_t pid, char *state, uint64_t *start)
{
	char path[32], text[1024], *p;
	unsigned long long st = 0;
	size_t n = 0;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	i = read_full(fd, text, sizeof(text) - 1, &n);
	close(fd);
	text[n] = '\0';
	/* the command name may hold spaces and parentheses: fields count from the last ')' */
	p = strrchr(text, ')');
	if (i || !p || sscanf(p + 1, " %c", state) != 1)
		return -ESRCH;
	for (i = 0, p += 2; i < 19 && p; i++) {
		p = strchr(p, ' ');
		p = p ? p + 1 : NULL;
	}
	if (!p || sscanf(p, "%llu", &st) != 1)
		return -ESRCH;
	*start = st;
	return 0;
}

int lab_proc_ident(pid_t pid, struct lab_proc *p)
{
	char state;

	p->pid = pid;
	return proc_stat(pid, &state, &p->start);
}

/* Collect our own child's exit, if pid is one and has exited. */
static void reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, WNOHANG) < 0 && errno == EINTR)
		;
}

bool lab_proc_alive(const struct lab_proc *p)
{
	uint64_t start;
	char state;

	if (!p || p->pid <= 0 || proc_stat(p->pid, &state, &start))
		return false;
	return start == p->start && state != 'Z' && state != 'X';
}

void lab_proc_stop(struct lab_proc *p, unsigned wait_ms)
{
	uint64_t end = lab_now() + wait_ms;
	struct timespec ts = { 0, 5 * 1000000L };

	if (!lab_proc_alive(p)) {
		if (p && p->pid > 0)
			reap(p->pid);
		return;
	}
	kill(p->pid, SIGTERM);
	while (lab_now() < end) {
		reap(p->pid);
		if (!lab_proc_alive(p))
			break;
		nanosleep(&ts, NULL);
	}
	if (lab_proc_alive(p))
		kill(p->pid, SIGKILL);
	while (lab_proc_alive(p) && lab_now() < end + 2000) {
		reap(p->pid);
		nanosleep(&ts, NULL);
	}
	reap(p->pid);
}

/* Is /proc/<pid>/ns/net the namespace (dev, ino)? */
static bool in_netns(pid_t pid, dev_t dev, ino_t ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	return stat(path, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

/* Kill what is in the namespace; how many were found. */
static int kill_in(dev_t dev, ino_t ino)
{
	struct dirent *d;
	DIR *proc = opendir("/proc");
	int n = 0;

	if (!proc)
		return 0;
	while ((d = readdir(proc))) {
		pid_t pid = (pid_t)atoi(d->d_name);

		if (pid <= 0 || pid == getpid() || !in_netns(pid, dev, ino))
			continue;
		kill(pid, SIGKILL);
		reap(pid);
		n++;
	}
	closedir(proc);
	return n;
}

void lab_netns_kill(const char *netns)
{
	char path[sizeof(NETNS_RUN_DIR) + LAB_NETNS_MAX + 1];
	struct stat st;
	int tries;

	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", netns);
	if (stat(path, &st) < 0)
		return;
	for (tries = 0; tries < 100 && kill_in(st.st_dev, st.st_ino); tries++) {
		struct timespec ts = { 0, 10 * 1000000L };

		nanosleep(&ts, NULL);
	}
}

/* ---- starting -------------------------------------------------------------------------- */

struct fds {
	int in, out, err, pass, ns;
};

/* In the child: async-signal-safe calls only, then exec. */
static __noreturn void child(const struct lab_exec *x, const struct fds *f, bool daemon)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* an ignored signal stays ignored across exec: give the applet the defaults */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (f->ns >= 0 && setns(f->ns, CLONE_NEWNET) < 0)
		_exit(126);
	/* a daemon pins no directory of the shell that started the lab */
	if (daemon && (setsid() < 0 || chdir("/") < 0))
		_exit(126);
	/* every source fd is >= 3 (0..2 are always open in the lab) and O_CLOEXEC */
	if (dup2(f->in, 0) < 0 || dup2(f->out, 1) < 0 || dup2(f->err, 2) < 0)
		_exit(126);
	/* dup2 onto itself would keep O_CLOEXEC */
	if (f->pass == 3 && fcntl(3, F_SETFD, 0) < 0)
		_exit(126);
	if (f->pass >= 0 && f->pass != 3 && dup2(f->pass, 3) < 0)
		_exit(126);
	execve(SELF, (char *const *)x->argv, (char *const *)x->envp);
	_exit(127);
}

static int open_ns(const struct lab_exec *x, int *fd, struct ebuf *eb)
{
	char path[sizeof(NETNS_RUN_DIR) + LAB_NETNS_MAX + 1];

	*fd = -1;
	if (!x->netns)
		return 0;
	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", x->netns);
	return netns_open(path, fd, eb);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int lab_spawn(const struct lab_exec *x, struct lab_proc *p, struct ebuf *eb)
{
	struct fds f = { .in = -1, .out = -1, .err = -1, .pass = x->pass_fd, .ns = -1 };
	pid_t pid;
	int r;

	memset(p, 0, sizeof(*p));
	r = open_ns(x, &f.ns, eb);
	if (r)
		return r;
	f.in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	f.out = open(x->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	f.err = f.out;
	if (f.in < 0 || f.out < 0) {
		r = -errno;
		ebuf_set(eb, "cannot open %s: %s", x->log, strerror(-r));
		goto out;
	}
	pid = fork();
	if (pid == 0)
		child(x, &f, true);
	if (pid < 0) {
		r = -errno;
		ebuf_set(eb, "fork: %s", strerror(-r));
		goto out;
	}
	if (lab_proc_ident(pid, p))
		p->pid = pid;	/* exited already: the caller finds out soon */
out:
	close_fd(&f.in);
	close_fd(&f.out);
	close_fd(&f.ns);
	return r;
}

/* ---- short runs ------------------------------------------------------------------------ */

struct io {
	struct pollfd pfd[3];		/* stdin (write), stdout, stderr */
	struct buf *dst[3];
	const char *in;
	size_t inlen, off;
};

static void io_write(struct io *o)
{
	ssize_t n = write(o->pfd[0].fd, o->in + o->off, o->inlen - o->off);

	if (n > 0)
		o->off += (size_t)n;
	if ((n < 0 && errno != EAGAIN && errno != EINTR) || o->off == o->inlen) {
		close(o->pfd[0].fd);
		o->pfd[0].fd = -1;
	}
}

static void io_read(struct io *o, int i)
{
	char chunk[4096];
	ssize_t n = read(o->pfd[i].fd, chunk, sizeof(chunk));

	/* past OUT_MAX (or out of memory) the rest is drained and dropped */
	if (n > 0 && o->dst[i] && o->dst[i]->len < OUT_MAX && buf_add(o->dst[i], chunk, (size_t)n))
		o->dst[i] = NULL;
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close(o->pfd[i].fd);
		o->pfd[i].fd = -1;
	}
}

/* Feed and drain until both outputs close or the deadline passes. */
static int io_loop(struct io *o, uint64_t end)
{
	int i;

	while (o->pfd[1].fd >= 0 || o->pfd[2].fd >= 0) {
		uint64_t now = lab_now();

		if (now >= end)
			return -ETIMEDOUT;
		if (poll(o->pfd, 3, (int)(end - now)) < 0 && errno != EINTR)
			return -errno;
		if (o->pfd[0].fd >= 0 && o->pfd[0].revents)
			io_write(o);
		for (i = 1; i < 3; i++)
			if (o->pfd[i].fd >= 0 && o->pfd[i].revents)
				io_read(o, i);
	}
	return 0;
}

static int wait_exit(pid_t pid, uint64_t end, int *status)
{
	struct timespec ts = { 0, 2 * 1000000L };
	int st, r;

	for (;;) {
		r = (int)waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (lab_now() >= end)
			return -ETIMEDOUT;
		nanosleep(&ts, NULL);
	}
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

static int make_pipes(int p[3][2])
{
	int i;

	for (i = 0; i < 3; i++)
		if (pipe2(p[i], O_CLOEXEC) < 0)
			return -errno;
	for (i = 0; i < 3; i++)
		fcntl(p[i][i == 0 ? 1 : 0], F_SETFL, O_NONBLOCK);
	return 0;
}

int lab_run(const struct lab_exec *x, const char *in, size_t inlen, struct buf *out,
	    struct buf *err, unsigned timeout_ms, int *status, struct ebuf *eb)
{
	int p[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } }, i, r;
	struct fds f = { .pass = -1, .ns = -1 };
	uint64_t end = lab_now() + timeout_ms;
	struct io o = { .in = in, .inlen = inlen, .dst = { NULL, out, err } };
	pid_t pid = -1;

	r = open_ns(x, &f.ns, eb);
	if (!r && (r = make_pipes(p)))
		ebuf_set(eb, "pipe: %s", strerror(-r));
	if (r)
		goto out;
	f.in = p[0][0];
	f.out = p[1][1];
	f.err = p[2][1];
	pid = fork();
	if (pid == 0)
		child(x, &f, false);
	if (pid < 0) {
		r = -errno;
		ebuf_set(eb, "fork: %s", strerror(-r));
		goto out;
	}
	close_fd(&p[0][0]);
	close_fd(&p[1][1]);
	close_fd(&p[2][1]);
	o.pfd[0] = (struct pollfd){ .fd = p[0][1], .events = POLLOUT };
	o.pfd[1] = (struct pollfd){ .fd = p[1][0], .events = POLLIN };
	o.pfd[2] = (struct pollfd){ .fd = p[2][0], .events = POLLIN };
	p[0][1] = p[1][0] = p[2][0] = -1;
	if (!inlen)
		close_fd(&o.pfd[0].fd);
	r = io_loop(&o, end);
	if (!r)
		r = wait_exit(pid, end, status);
	if (r == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		ebuf_set(eb, "%s did not finish within %u ms", x->argv[0], timeout_ms);
	}
	for (i = 0; i < 3; i++)
		close_fd(&o.pfd[i].fd);
out:
	for (i = 0; i < 3; i++) {
		close_fd(&p[i][0]);
		close_fd(&p[i][1]);
	}
	close_fd(&f.ns);
	return r;
}
