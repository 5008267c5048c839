// SPDX-License-Identifier: MIT
/*
 * lab_main.c: the `virgil lab` applet: subcommands and flags in, flow/lab.h, output and exit
 * code out (0 ok, 100 usage or a permanent error, 111 a system or temporary error). Also the
 * hidden helpers the lab runs in its pods (`serve`) and for operators (`ruleset`).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>

#include "../applets.h"
#include "../base/buf.h"
#include "../base/err.h"
#include "../base/log.h"
#include "../base/util.h"
#include "../flow/lab.h"
#include "../io/labserve.h"

static const char usage[] =
	"usage: virgil lab up [--nodes N] [DIR]     a cluster of N nodes (default 2) running the\n"
	"                                          objects in DIR/*.json, or the default scenario\n"
	"       virgil lab apply FILE...           create or replace objects\n"
	"       virgil lab delete FILE...          delete objects\n"
	"       virgil lab probe [--port P] [--protocol tcp|udp] [--family 4|6]\n"
	"                        [--timeout MS] [--json]   every pod to every pod\n"
	"       virgil lab status [--json]         nodes and pods\n"
	"       virgil lab down                    take everything down\n"
	"  VIRGIL_LAB_DIR: state dir (default " LAB_DEFAULT_DIR "); VIRGIL_LAB_NAME: namespace\n"
	"  prefix, 1 to 6 of [a-z0-9] (default " LAB_DEFAULT_NAME "). See docs/lab.md.\n";

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* Ctrl-C during `up` takes down what was made instead of leaving it half-built. */
static void setup(bool handlers)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int fd;

	/* 0..2 open, so no pipe or socket of ours ever lands there */
	while ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0 && fd <= 2)
		fcntl(fd, F_SETFD, 0);
	if (fd > 2)
		close(fd);
	if (!handlers)
		return;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int fail(const char *cmd, int r, const struct ebuf *eb)
{
	fprintf(stderr, "virgil lab: %s: %s\n", cmd, eb->msg[0] ? eb->msg : strerror(-r));
	switch (-r) {
	case EINVAL:
	case EEXIST:
	case ENOENT:
	case E2BIG:
	case ENAMETOOLONG:
		return 100;
	default:
		return 111;
	}
}

static int usage_err(const char *fmt, ...) __printf(1, 2);

/* One line: what is wrong, and where the usage is. */
static int usage_err(const char *fmt, ...)
{
	va_list ap;

	fputs("virgil lab: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see virgil lab help)\n", stderr);
	return 100;
}

/* getopt's own message would be a second line: say it once, ours. */
static int bad_opt(const char *cmd, char **argv)
{
	const char *o = optind > 0 ? argv[optind - 1] : "?";

	return usage_err("%s: unknown option or missing value: %s", cmd, o);
}

static int num(const char *s, uint64_t max, uint64_t *v)
{
	return parse_u64(s, strlen(s), max, v) || *v == 0 ? -1 : 0;
}

static int put(struct buf *b)
{
	int r = b->len ? write_all(1, b->p, b->len) : 0;

	buf_free(b);
	if (r) {
		fprintf(stderr, "virgil lab: writing the output: %s\n", strerror(-r));
		return 111;
	}
	return 0;
}

static int need_root(const char *cmd)
{
	if (geteuid() == 0)
		return 0;
	fprintf(stderr, "virgil lab: %s needs root (it makes network namespaces)\n", cmd);
	return 100;
}

static int cmd_up(const struct lab_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nodes", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct ebuf eb = { "" };
	uint64_t nodes = 2;
	int c, r;

	while ((c = getopt_long(argc, argv, "+n:", opts, NULL)) != -1) {
		if (c != 'n')
			return bad_opt("up", argv);
		if (num(optarg, 1000, &nodes))
			return usage_err("up: --nodes %s: want 1 to 16", optarg);
	}
	if (argc - optind > 1)
		return usage_err("up: one DIR at most (got %s and %s)", argv[optind],
				 argv[optind + 1]);
	if ((r = need_root("up")))
		return r;
	r = lab_up(o, (unsigned)nodes, optind < argc ? argv[optind] : NULL, &eb);
	return r ? fail("up", r, &eb) : 0;
}

static int cmd_apply(const struct lab_opts *o, int argc, char **argv, bool del)
{
	const char *name = del ? "delete" : "apply";
	struct ebuf eb = { "" };
	int r;

	if (argc < 2)
		return usage_err("%s: name at least one FILE", name);
	if (argv[1][0] == '-' && argv[1][1])
		return usage_err("%s: unknown option", name);
	if ((r = need_root(name)))
		return r;
	r = lab_apply(o, argv + 1, (size_t)argc - 1, del, &eb);
	return r ? fail(name, r, &eb) : 0;
}

static int parse_probe(int argc, char **argv, struct lab_probe_opts *p)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "protocol", required_argument, NULL, 'P' },
		{ "family", required_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'p' && !num(optarg, 65535, &v))
			p->port = (uint16_t)v;
		else if (c == 'p')
			return usage_err("probe: --port %s: want 1..65535", optarg);
		else if (c == 'P' && (!strcmp(optarg, "tcp") || !strcmp(optarg, "TCP")))
			p->proto = IPPROTO_TCP;
		else if (c == 'P' && (!strcmp(optarg, "udp") || !strcmp(optarg, "UDP")))
			p->proto = IPPROTO_UDP;
		else if (c == 'P')
			return usage_err("probe: --protocol %s: want tcp or udp", optarg);
		else if (c == 'f' && (!strcmp(optarg, "4") || !strcmp(optarg, "6")))
			p->family = optarg[0] == '4' ? AF_INET : AF_INET6;
		else if (c == 'f')
			return usage_err("probe: --family %s: want 4 or 6", optarg);
		else if (c == 't' && !num(optarg, 600000, &v))
			p->timeout_ms = (unsigned)v;
		else if (c == 't')
			return usage_err("probe: --timeout %s: want 1..600000 ms", optarg);
		else if (c == 'j')
			p->json = true;
		else
			return bad_opt("probe", argv);
	}
	if (optind < argc)
		return usage_err("probe: unexpected argument %s", argv[optind]);
	return 0;
}

static int cmd_probe(const struct lab_opts *o, int argc, char **argv)
{
	struct lab_probe_opts p = { .port = 80, .proto = IPPROTO_TCP, .family = AF_INET,
				    .timeout_ms = 1000 };
	struct buf out = BUF_INIT;
	struct ebuf eb = { "" };
	int r = parse_probe(argc, argv, &p);

	if (r || (r = need_root("probe")))
		return r;
	r = lab_probe(o, &p, &out, &eb);
	if (r) {
		buf_free(&out);
		return fail("probe", r, &eb);
	}
	return put(&out);
}

static int cmd_status(const struct lab_opts *o, int argc, char **argv)
{
	struct buf out = BUF_INIT;
	struct ebuf eb = { "" };
	bool json = argc == 2 && !strcmp(argv[1], "--json");
	int r;

	if (argc > 2 || (argc == 2 && !json))
		return usage_err("status: unexpected argument %s", argv[1]);
	r = lab_status(o, json, &out, &eb);
	if (r) {
		buf_free(&out);
		return fail("status", r, &eb);
	}
	return put(&out);
}

static int cmd_down(const struct lab_opts *o, int argc, char **argv)
{
	struct ebuf eb = { "" };
	bool was_up;
	int r;

	if (argc > 1)
		return usage_err("down: unexpected argument %s", argv[1]);
	if ((r = need_root("down")))
		return r;
	r = lab_down(o, &was_up, &eb);
	if (r)
		return fail("down", r, &eb);
	if (!was_up)
		fprintf(stderr, "virgil lab: down: no lab was up\n");
	return 0;
}

/* serve --ready-fd N PORT...: the pod server; returns only on failure. */
static int cmd_serve(int argc, char **argv)
{
	uint16_t ports[LABSERVE_MAX_PORTS];
	struct ebuf eb = { "" };
	size_t n = 0;
	uint64_t v;
	int i = 1, fd = -1, r;

	if (argc > 2 && !strcmp(argv[1], "--ready-fd")) {
		if (parse_u64(argv[2], strlen(argv[2]), 1024, &v))
			return usage_err("serve: --ready-fd %s: not an fd", argv[2]);
		fd = (int)v;
		i = 3;
	}
	for (; i < argc; i++) {
		if (n == LABSERVE_MAX_PORTS || num(argv[i], 65535, &v))
			return usage_err("serve: port %s: want 1..65535 (64 at most)", argv[i]);
		ports[n++] = (uint16_t)v;
	}
	r = labserve_run(ports, n, fd, &eb);
	return fail("serve", r, &eb);
}

static int cmd_ruleset(const struct lab_opts *o, int argc, char **argv)
{
	struct buf out = BUF_INIT;
	struct ebuf eb = { "" };
	int r;

	if (argc != 2)
		return usage_err("ruleset: name one NODE");
	r = lab_ruleset(o, argv[1], &out, &eb);
	if (r) {
		buf_free(&out);
		return fail("ruleset", r, &eb);
	}
	return put(&out);
}

int lab_main(int argc, char **argv)
{
	struct lab_opts o = { .stop = &stop_flag };
	const char *cmd = argc > 1 ? argv[1] : "";

	log_procinit("virgil lab");
	opterr = 0;
	/* the pod server keeps the default SIGTERM: `down` stops it with one */
	setup(strcmp(cmd, "serve") != 0);
	optind = 1;
	argc--;
	argv++;
	if (!strcmp(cmd, "up"))
		return cmd_up(&o, argc, argv);
	if (!strcmp(cmd, "apply") || !strcmp(cmd, "delete"))
		return cmd_apply(&o, argc, argv, cmd[0] == 'd');
	if (!strcmp(cmd, "probe"))
		return cmd_probe(&o, argc, argv);
	if (!strcmp(cmd, "status"))
		return cmd_status(&o, argc, argv);
	if (!strcmp(cmd, "down"))
		return cmd_down(&o, argc, argv);
	if (!strcmp(cmd, "serve"))
		return cmd_serve(argc, argv);
	if (!strcmp(cmd, "ruleset"))
		return cmd_ruleset(&o, argc, argv);
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		fputs(usage, stdout);
		return 0;
	}
	return *cmd ? usage_err("unknown command %s", cmd) : usage_err("name a command");
}
