// SPDX-License-Identifier: MIT
/* deps: io/probe.c io/labserve.c io/netns.c core/reach.c core/cidr.c codec/json.c codec/json_dom.c codec/jsonw.c base/util.c base/buf.c base/err.c base/mem.c */
/*
 * test_probe.c: the lab's pod server and reachability prober against the kernel, as root.
 *
 *     pod p1 (eth0)   pod p2 (eth0)   ...   pod p9 (eth0)      10.9.0.<i>/24, 10.9.0.<100+i>/24
 *          |               |                     |             fd09::<i>/64, fd09::1<i>/64
 *         vp1             vp2        ...        vp9
 *          +------------ br0 (this process's namespace) ----+
 *
 * This process first unshares a private namespace (the "wire", holding br0); every pod
 * namespace is unshared by its server child (labserve_run on ports 80 and 81), which dies with
 * this process (PR_SET_PDEATHSIG), and its namespace with it: nothing is named, nothing reaches
 * the machine's namespace, and no exit path needs more than the atexit() that kills the
 * servers. A tenth pod has no address. Cases: everything open (TCP, UDP, IPv4, IPv6, both
 * ports, the pods' second addresses); nothing listening; a reject rule in p2 (false at once);
 * a drop rule in p3 (false after the timeout); the server's own answers; argument and bind
 * errors; repeated matrices for timing.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "base/buf.h"
#include "base/err.h"
#include "core/cidr.h"
#include "core/reach.h"
#include "io/labserve.h"
#include "io/probe.h"

#define NPODS 9
#define NALL (NPODS + 1)	/* the last one has no address */
#define NONE NPODS

static const uint16_t ports[] = { 80, 81, 80 };	/* the repeat must count once */
static pid_t servers[NPODS];
static int podfd[NPODS] = { -1, -1, -1, -1, -1, -1, -1, -1, -1 };
static int wire = -1;
static char paths[NPODS][48];
static char ids[NALL][16];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void kill_servers(void)
{
	for (size_t i = 0; i < NPODS; i++) {
		if (servers[i] <= 0)
			continue;
		kill(servers[i], SIGKILL);
		waitpid(servers[i], NULL, 0);
		servers[i] = 0;
	}
}

static bool sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	r = system(cmd);
	if (r)
		diag("failed (%d): %s", r, cmd);
	return r == 0;
}

/* Run a shell command inside pod i's namespace. */
static bool in_pod(size_t i, const char *cmd)
{
	bool r;

	if (setns(podfd[i], CLONE_NEWNET))
		return false;
	r = sh("%s", cmd);
	if (setns(wire, CLONE_NEWNET))
		abort();
	return r;
}

/* A server child in a namespace of its own; 0 once it listens, else -1. */
static pid_t start_server(const uint16_t *p, size_t n)
{
	pid_t parent = getpid(), pid;
	int fds[2];
	char c;

	if (pipe2(fds, O_CLOEXEC))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct ebuf eb = { "" };
		int e;

		close(fds[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent || unshare(CLONE_NEWNET))
			_exit(1);
		e = labserve_run(p, n, fds[1], &eb);
		fprintf(stderr, "labserve: %d: %s\n", e, eb.msg);
		_exit(1);
	}
	close(fds[1]);
	if (pid > 0 && read(fds[0], &c, 1) != 1) {
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(fds[0]);
	return pid;
}

static bool setup_pod(size_t i)
{
	char cmd[400];
	int k = (int)i + 1;

	servers[i] = start_server(ports, ARRAY_SIZE(ports));
	if (servers[i] <= 0)
		return false;
	snprintf(paths[i], sizeof(paths[i]), "/proc/%d/ns/net", (int)servers[i]);
	podfd[i] = open(paths[i], O_RDONLY | O_CLOEXEC);
	if (podfd[i] < 0)
		return false;
	if (!sh("ip link add vp%d type veth peer name eth0 netns %d", k, (int)servers[i]) ||
	    !sh("ip link set vp%d master br0 up", k))
		return false;
	snprintf(cmd, sizeof(cmd),
		 "ip link set lo up && ip link set eth0 up && "
		 "ip addr add 10.9.0.%d/24 dev eth0 && ip addr add 10.9.0.%d/24 dev eth0 && "
		 "ip addr add fd09::%d/64 dev eth0 nodad && "
		 "ip addr add fd09::1%d/64 dev eth0 nodad",
		 k, 100 + k, k, k);
	return in_pod(i, cmd);
}

static bool setup(void)
{
	if (unshare(CLONE_NEWNET))
		return false;
	wire = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (wire < 0 || !sh("ip link set lo up && ip link add br0 type bridge && "
			    "ip link set br0 up"))
		return false;
	for (size_t i = 0; i < NPODS; i++)
		if (!setup_pod(i))
			return false;
	return true;
}

/* Pod i's address of a family: primary (10.9.0.i, fd09::i) or second (10.9.0.100+i, fd09::1i). */
static struct ipaddr addr_of(size_t i, int family, bool second)
{
	char s[IPADDR_STRLEN];
	struct ipaddr a = { 0 };

	if (family == AF_INET)
		snprintf(s, sizeof(s), "10.9.0.%zu", second ? 101 + i : 1 + i);
	else
		snprintf(s, sizeof(s), second ? "fd09::1%zu" : "fd09::%zu", 1 + i);
	if (ipaddr_parse(s, strlen(s), &a))
		abort();
	return a;
}

static void make_pods(struct probe_pod *pp, int family, bool second)
{
	for (size_t i = 0; i < NALL; i++) {
		snprintf(ids[i], sizeof(ids[i]), i == NONE ? "x/none" : "x/p%zu", i + 1);
		pp[i] = (struct probe_pod){ .id = ids[i], .netns_path = i == NONE ? NULL : paths[i],
					    .addr = i == NONE ? (struct ipaddr){ 0 } :
								addr_of(i, family, second) };
	}
}

static void show(const bool *m, uint16_t port, int proto, int family)
{
	const char *idp[NALL];
	struct reach r = { .port = port, .proto = proto, .family = family, .n = NALL,
			   .ids = idp, .matrix = m };
	struct buf b = BUF_INIT;
	char *line, *save = NULL;

	for (size_t i = 0; i < NALL; i++)
		idp[i] = ids[i];
	if (!reach_render_grid(&r, &b))
		for (line = strtok_r(b.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			diag("%s", line);
	buf_free(&b);
}

struct expect {
	bool open;		/* false: every cell blocked */
	int blocked;		/* a column blocked (pod index), or -1 */
	double min_s, max_s;	/* bounds on the time taken */
};

/* Probe and compare with what is expected; the pod without an address is always blocked. */
static void check(const char *what, int proto, int family, uint16_t port, unsigned timeout_ms,
		  bool second, struct expect x)
{
	struct probe_pod pp[NALL];
	bool m[NALL * NALL];
	struct ebuf eb = { "" };
	size_t wrong = 0;
	double t;
	int e;

	make_pods(pp, family, second);
	t = now_s();
	e = probe_matrix(pp, NALL, port, proto, timeout_ms, m, &eb);
	t = now_s() - t;
	if (!ok(e == 0, what)) {
		diag("%d: %s", e, eb.msg);
		return;
	}
	for (size_t i = 0; i < NALL; i++)
		for (size_t j = 0; j < NALL; j++)
			wrong += m[i * NALL + j] != (x.open && i != NONE && j != NONE &&
						      (int)j != x.blocked);
	if (!ok(wrong == 0, "  every cell as expected"))
		show(m, port, proto, family);
	if (!ok(t >= x.min_s && t < x.max_s, "  in the expected time"))
		diag("took %.3f s, want %.2f..%.2f", t, x.min_s, x.max_s);
	else
		diag("%s: %.1f ms", what, t * 1e3);
}

static const struct expect all_open = { true, -1, 0, 0.5 };
static const struct expect all_closed = { false, -1, 0, 0.5 };

static void open_matrix(void)
{
	static const int protos[] = { IPPROTO_TCP, IPPROTO_UDP }, fams[] = { AF_INET, AF_INET6 };
	char what[96];

	for (size_t p = 0; p < 2; p++)
		for (size_t f = 0; f < 2; f++)
			for (uint16_t port = 80; port <= 81; port++) {
				snprintf(what, sizeof(what), "open: %s/%u IPv%d",
					 p ? "UDP" : "TCP", port, f ? 6 : 4);
				check(what, protos[p], fams[f], port, 2000, false, all_open);
			}
	check("open: UDP/81 IPv4 to second addresses (replies from them)", IPPROTO_UDP, AF_INET,
	      81, 2000, true, all_open);
	check("open: UDP/80 IPv6 to second addresses (replies from them)", IPPROTO_UDP,
	      AF_INET6, 80, 2000, true, all_open);
	check("closed port: TCP/82 IPv4 refused at once", IPPROTO_TCP, AF_INET, 82, 2000, false,
	      all_closed);
	check("closed port: UDP/82 IPv6 refused at once", IPPROTO_UDP, AF_INET6, 82, 2000,
	      false, all_closed);
}

/* Repeated full matrices: the servers keep up, and how long one takes. */
static void repeated(void)
{
	struct probe_pod pp[NALL];
	bool m[NALL * NALL];
	struct ebuf eb = { "" };
	size_t bad = 0, runs = 20;
	double t = now_s();

	make_pods(pp, AF_INET, false);
	for (size_t r = 0; r < runs; r++) {
		bad += probe_matrix(pp, NALL, 80, IPPROTO_TCP, 2000, m, &eb) != 0;
		for (size_t i = 0; i < NPODS; i++)
			for (size_t j = 0; j < NPODS; j++)
				bad += !m[i * NALL + j];
	}
	t = now_s() - t;
	is_int(bad, 0, "20 TCP 9x9 matrices in a row: every cell open");
	diag("9x9 TCP matrix: %.1f ms each (%.0f probes/s)", t * 1e3 / runs,
	     runs * NPODS * NPODS / t);
	t = now_s();
	make_pods(pp, AF_INET6, false);
	for (size_t r = 0; r < runs; r++) {
		bad += probe_matrix(pp, NALL, 81, IPPROTO_UDP, 2000, m, &eb) != 0;
		for (size_t i = 0; i < NPODS; i++)
			for (size_t j = 0; j < NPODS; j++)
				bad += !m[i * NALL + j];
	}
	t = now_s() - t;
	is_int(bad, 0, "20 UDP 9x9 matrices in a row: every cell open");
	diag("9x9 UDP matrix: %.1f ms each", t * 1e3 / runs);
}

static void rules(void)
{
	struct expect reject = { true, 1, 0, 0.5 }, drop = { true, 2, 0.55, 1.5 };

	ok(in_pod(1, "nft add table inet t && "
		     "nft add chain inet t input '{ type filter hook input priority 0; }' && "
		     "nft add rule inet t input tcp dport 80 reject with tcp reset && "
		     "nft add rule inet t input udp dport 80 reject"),
	   "reject rules in p2");
	check("reject: TCP/80 IPv4 to p2 false at once", IPPROTO_TCP, AF_INET, 80, 2000, false,
	      reject);
	check("reject: UDP/80 IPv4 to p2 false at once", IPPROTO_UDP, AF_INET, 80, 2000, false,
	      reject);
	check("reject: TCP/80 IPv6 to p2 false at once", IPPROTO_TCP, AF_INET6, 80, 2000, false,
	      reject);
	check("reject: UDP/80 IPv6 to p2 false at once", IPPROTO_UDP, AF_INET6, 80, 2000, false,
	      reject);
	check("reject: TCP/81 IPv4 untouched", IPPROTO_TCP, AF_INET, 81, 2000, false, all_open);
	ok(in_pod(2, "nft add table inet t && "
		     "nft add chain inet t input '{ type filter hook input priority 0; }' && "
		     "nft add rule inet t input tcp dport 81 drop && "
		     "nft add rule inet t input udp dport 81 drop"),
	   "drop rules in p3");
	check("drop: TCP/81 IPv4 to p3 false after the timeout", IPPROTO_TCP, AF_INET, 81, 600,
	      false, drop);
	check("drop: UDP/81 IPv6 to p3 false after the timeout", IPPROTO_UDP, AF_INET6, 81, 600,
	      false, drop);
}

/* Talk to p4's server from p1 directly: the greeting, and a large datagram echoed whole. */
static void server_answers(void)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(81) };
	struct ipaddr a4 = addr_of(3, AF_INET, false), a6 = addr_of(3, AF_INET6, true);
	char got[2000] = "", big[1400];
	ssize_t n = -1;
	int fd;

	memcpy(&s4.sin_addr, a4.a, 4);
	memcpy(&s6.sin6_addr, a6.a, 16);
	memset(big, 'v', sizeof(big));
	if (setns(podfd[0], CLONE_NEWNET))
		abort();
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && !connect(fd, (struct sockaddr *)&s4, sizeof(s4)))
		n = read(fd, got, sizeof(got) - 1);
	close(fd);
	is_str(n == 7 ? got : "", LABSERVE_GREETING, "TCP: the greeting, then the end");
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ 2, 0 }, sizeof(struct timeval));
	n = -1;
	if (fd >= 0 && !connect(fd, (struct sockaddr *)&s6, sizeof(s6)) &&
	    send(fd, big, sizeof(big), 0) == sizeof(big))
		n = recv(fd, got, sizeof(got), 0);
	close(fd);
	ok(n == sizeof(big) && !memcmp(got, big, sizeof(big)),
	   "UDP: 1400 bytes echoed whole to a second address, from it");
	if (setns(wire, CLONE_NEWNET))
		abort();
}

static void probe_errors(void)
{
	struct probe_pod pp[NALL];
	bool m[NALL * NALL];
	struct ebuf eb = { "" };

	make_pods(pp, AF_INET, false);
	is_int(probe_matrix(pp, NALL, 80, IPPROTO_ICMP, 100, m, &eb), -EINVAL, "protocol ICMP");
	is_int(probe_matrix(pp, NALL, 0, IPPROTO_TCP, 100, m, &eb), -EINVAL, "port 0");
	is_int(probe_matrix(pp, NALL, 80, IPPROTO_TCP, 0, m, &eb), -EINVAL, "timeout 0");
	is_int(probe_matrix(pp, PROBE_MAX_PODS + 1, 80, IPPROTO_TCP, 100, m, &eb), -EINVAL,
	       "too many pods");
	is_int(probe_matrix(pp, 0, 80, IPPROTO_TCP, 100, m, &eb), 0, "no pods: nothing to do");
	pp[4].netns_path = NULL;
	is_int(probe_matrix(pp, NALL, 80, IPPROTO_TCP, 100, m, &eb), -EINVAL,
	       "an address without a namespace");
	pp[4].netns_path = "/run/netns/virgil-test-no-such-namespace";
	is_int(probe_matrix(pp, NALL, 80, IPPROTO_TCP, 100, m, &eb), -ENOENT,
	       "a missing namespace");
	ok(strstr(eb.msg, "x/p5") && strstr(eb.msg, "no-such-namespace"), "  names pod and path");
	pp[4].netns_path = "/proc/self/ns/uts";
	is_int(probe_matrix(pp, NALL, 80, IPPROTO_TCP, 100, m, &eb), -EINVAL,
	       "not a network namespace");
	ok(!m[0], "  the matrix is left all false");
}

/* labserve_run's fatal errors: it returns, and the ready pipe ends without its byte. */
static void serve_errors(void)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(7000) };
	uint16_t many[LABSERVE_MAX_PORTS + 1], busy = 7000, zero[] = { 90, 0 };
	struct ebuf eb = { "" };
	int fds[2] = { -1, -1 }, fd;
	char c;

	for (size_t i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = (uint16_t)(2000 + i);
	if (pipe2(fds, O_CLOEXEC))
		abort();
	is_int(labserve_run(zero, 2, fds[1], &eb), -EINVAL, "serve: port 0");
	is_int(read(fds[0], &c, 1), 0, "  the ready pipe is closed without a byte");
	close(fds[0]);
	is_int(labserve_run(many, ARRAY_SIZE(many), -1, &eb), -E2BIG, "serve: 65 ports");
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&s4, sizeof(s4)) || listen(fd, 1))
		abort();
	is_int(labserve_run(&busy, 1, -1, &eb), -EADDRINUSE, "serve: a port taken");
	ok(!strncmp(eb.msg, "TCP port 7000 (IPv4): bind: ", 28), "  says which and where");
	close(fd);
}

static void teardown(void)
{
	pid_t pids[NPODS];
	size_t alive = 0;

	memcpy(pids, servers, sizeof(pids));
	kill_servers();
	for (size_t i = 0; i < NPODS; i++) {
		alive += pids[i] > 0 && kill(pids[i], 0) == 0;
		close(podfd[i]);
		podfd[i] = -1;
	}
	is_int(alive, 0, "every server is gone");
}

int main(void)
{
	atexit(kill_servers);
	if (geteuid() != 0) {
		printf("ok %d - # SKIP needs root for network namespaces\n", ++tap_n);
		return tap_done();
	}
	if (!ok(setup(), "9 pod namespaces on a bridge, a server in each")) {
		kill_servers();
		return tap_done();
	}
	open_matrix();
	repeated();
	server_answers();
	rules();
	probe_errors();
	serve_errors();
	teardown();
	return tap_done();
}
