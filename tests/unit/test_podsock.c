// SPDX-License-Identifier: MIT
/* deps: flow/podsock.c io/agentcall.c io/ev.c core/podmsg.c core/cidr.c codec/json.c codec/json_dom.c codec/jsonw.c base/buf.c base/err.c base/log.c base/mem.c */
/*
 * test_podsock.c: the agent's socket and the plugin's call, over a real unix socket. A
 * forked "plugin" makes calls while the parent runs the event loop as the agent does and
 * answers by pod name: at once, later (as after a sync), with a refusal, or too late for the
 * caller's deadline. Also: no agent listening, a garbage request, a request that never
 * ends, the socket's mode, and its removal on free.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "base/err.h"
#include "core/podmsg.h"
#include "flow/podsock.h"
#include "io/agentcall.h"
#include "io/ev.h"

static char path[108];
static struct ev *ev;

struct later {
	struct podsock_conn *c;
	bool ok;
};

static void answer_later(struct ev *e, uint64_t id, void *ctx)
{
	struct later *l = ctx;

	podsock_reply(l->c, l->ok, l->ok ? NULL : "refused later");
	free(l);
}

static void on_req(void *ctx, struct podsock_conn *c, const struct podmsg_req *r)
{
	struct later *l;
	uint64_t id;
	unsigned delay = 0;

	if (!strcmp(r->name, "now")) {
		podsock_reply(c, true, NULL);
		return;
	}
	if (!strcmp(r->name, "no")) {
		podsock_reply(c, false, "pod x/no is not known to the agent");
		return;
	}
	delay = !strcmp(r->name, "later") ? 50 : 1500;
	l = malloc(sizeof(*l));
	l->c = c;
	l->ok = true;
	if (ev_timer_add(ev, delay, answer_later, l, &id))
		abort();
}

/* The plugin side: one line per call, "<name> <rc> <reason>", on fd. */
static void plugin(int fd)
{
	static const struct {
		const char *name;
		unsigned timeout;
	} calls[] = { { "now", 2000 }, { "later", 2000 }, { "no", 2000 }, { "slow", 300 } };
	struct podmsg_req r = { .op = PODMSG_ADD };
	size_t i;

	strcpy(r.ns, "x");
	strcpy(r.id, "c1");
	if (ipaddr_parse("10.0.0.9", 8, &r.ip[0]))
		_exit(2);
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		struct ebuf eb = { "" };
		int rc;

		snprintf(r.name, sizeof(r.name), "%s", calls[i].name);
		rc = agentcall(path, &r, calls[i].timeout, &eb);
		dprintf(fd, "%s %d %s\n", calls[i].name, rc, eb.msg);
	}
	_exit(0);
}

static void raw_garbage(int fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char in[256] = "";
	ssize_t n;
	int s;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)))
		_exit(3);
	if (write(s, "{\"op\":\"nuke\"}\n", 14) != 14)
		_exit(3);
	n = read(s, in, sizeof(in) - 1);
	dprintf(fd, "garbage %s", n > 0 ? in : "(nothing)\n");
	close(s);
	/* a request that never ends: the agent gives up after PODSOCK_READ_MS */
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) || write(s, "{\"op\"", 5) != 5)
		_exit(3);
	memset(in, 0, sizeof(in));
	n = read(s, in, sizeof(in) - 1);
	dprintf(fd, "partial %s", n > 0 ? in : "(nothing)\n");
	_exit(0);
}

static void on_chld(struct ev *e, int signo, void *ctx)
{
	int *left = ctx;

	while (waitpid(-1, NULL, WNOHANG) > 0)
		if (--*left == 0)
			ev_stop(e);
}

static void check_lines(FILE *f)
{
	static const struct {
		const char *prefix, *want, *what;
	} want[] = {
		{ "now ", "now 0 ", "answered at once" },
		{ "later ", "later 0 ", "answered after a delay (as after a sync)" },
		{ "no ", "no -71 pod x/no is not known to the agent",
		  "a refusal comes back as -EPROTO with the agent's reason" },
		{ "slow ", "slow -110 waiting for the answer: Connection timed out",
		  "the caller's deadline holds" },
		{ "garbage ", "garbage {\"ok\":false,\"error\":\"op: unknown operation "
		  "\\\"nuke\\\"\"}", "garbage is answered with the reason" },
		{ "partial ", "partial {\"ok\":false,\"error\":\"request incomplete\"}",
		  "a request that never ends is closed" },
	};
	char line[512];
	int seen = 0;
	size_t i;

	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			if (strncmp(line, want[i].prefix, strlen(want[i].prefix)))
				continue;
			is_str(line, want[i].want, want[i].what);
			seen++;
		}
	}
	is_int(seen, 6, "every call reported");
}

int main(void)
{
	struct podsock *s = NULL;
	struct podmsg_req r = { .op = PODMSG_DEL };
	struct ebuf eb = { "" };
	struct stat st;
	int p[2], left = 2;
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/virgil-podsock-%d.sock", (int)getpid());
	strcpy(r.ns, "x");
	strcpy(r.name, "a");
	strcpy(r.id, "c");
	ok(agentcall(path, &r, 500, &eb) == -ENOENT, "no agent: -ENOENT");
	ok(strstr(eb.msg, "connecting to ") != NULL, "  says so");
	ev = ev_new();
	is_int(podsock_new(ev, path, on_req, NULL, &s, &eb), 0, "listen");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "socket mode 0600");
	if (pipe(p) || ev_signal(ev, SIGCHLD, on_chld, &left))
		abort();
	if (fork() == 0)
		plugin(p[1]);
	if (fork() == 0)
		raw_garbage(p[1]);
	close(p[1]);
	is_int(ev_run(ev), 0, "the loop ran until both clients were done");
	f = fdopen(p[0], "r");
	check_lines(f);
	fclose(f);
	podsock_free(s);	/* the slow answer's timer still holds a connection */
	ok(stat(path, &st) < 0 && errno == ENOENT, "socket removed on free");
	ev_free(ev);
	return tap_done();
}
