// SPDX-License-Identifier: MIT
/*
 * lab_net.c: a lab's machines (see lab_int.h). The wire is a namespace with bridge br0; each
 * node is a namespace whose eth0 is a veth to a port of that bridge, with 192.168.86.<i>/24
 * and fd86::<i>/64, forwarding on; and each node runs its agent. Links are configured over
 * our own rtnetlink module from sockets opened inside each namespace, and sysctls through
 * /proc/sys while the thread visits the namespace: no `ip`, no shell, so the lab runs from a
 * scratch image. rtnl.h has no bridge requests (the agent and the plugin never make one), so
 * the two the wire needs are built here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <net/if.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/log.h"
#include "../base/util.h"
#include "../codec/json.h"
#include "../io/atomic.h"
#include "../io/netns.h"
#include "../nl/ctmsg.h"
#include "../nl/nftdump.h"
#include "../nl/nlmsg.h"
#include "../nl/nlsock.h"
#include "../nl/rtnl.h"
#include "lab_int.h"

#define BRIDGE "br0"
#define LO_IFINDEX 1		/* the loopback device of every network namespace */

/* Run fn inside namespace netns and come back. */
static int visit(const char *netns, int (*fn)(void *ctx, struct ebuf *eb), void *ctx,
		 struct ebuf *eb)
{
	char path[sizeof(NETNS_RUN_DIR) + LAB_NETNS_MAX + 1];
	int fd = -1, self = -1, r, back;

	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", netns);
	r = netns_open(path, &fd, eb);
	if (!r && (r = netns_self(&self)))
		ebuf_set(eb, "cannot open this thread's network namespace: %s", strerror(-r));
	if (!r && (r = netns_enter(fd)))
		ebuf_set(eb, "cannot enter %s: %s", netns, strerror(-r));
	if (!r) {
		r = fn(ctx, eb);
		back = netns_enter(self);
		if (back && !r) {
			ebuf_set(eb, "cannot return from %s: %s", netns, strerror(-back));
			r = back;
		}
	}
	if (fd >= 0)
		close(fd);
	if (self >= 0)
		close(self);
	return r;
}

struct sock_ctx {
	struct nlsock *s;
	int proto;
};

static int sock_open(void *ctx, struct ebuf *eb)
{
	struct sock_ctx *c = ctx;
	int r = nlsock_open(c->s, c->proto);

	if (r)
		ebuf_set(eb, "netlink socket: %s", strerror(-r));
	return r;
}

/* A netlink socket bound to namespace netns. */
static int sock_in(const char *netns, int proto, struct nlsock *s, struct ebuf *eb)
{
	struct sock_ctx c = { .s = s, .proto = proto };
	int r = visit(netns, sock_open, &c, eb);

	if (r)
		ebuf_prefix(eb, "namespace %s", netns);
	return r;
}

static int sysctl_on(void *ctx, struct ebuf *eb)
{
	static const char *const knobs[][2] = {
		{ "/proc/sys/net/ipv4/ip_forward", "1\n" },
		{ "/proc/sys/net/ipv6/conf/all/forwarding", "1\n" },
		/*
		 * A neighbour solicitation for a packet the node forwards goes out from the
		 * link-local address, and not at all while that is tentative: without this,
		 * pod traffic between nodes over IPv6 is dropped for the first second or two.
		 */
		{ "/proc/sys/net/ipv6/conf/eth0/accept_dad", "0\n" },
	};
	size_t i;
	int fd, r = 0;

	(void)ctx;
	/* /proc/sys/net shows the namespace of whoever opens the file, so opening it here
	 * reaches the node's own knobs */
	for (i = 0; i < ARRAY_SIZE(knobs) && !r; i++) {
		fd = open(knobs[i][0], O_WRONLY | O_CLOEXEC);
		r = fd < 0 ? -errno : write_all(fd, knobs[i][1], strlen(knobs[i][1]));
		if (fd >= 0)
			close(fd);
		if (r)
			ebuf_set(eb, "%s: %s", knobs[i][0], strerror(-r));
	}
	return r;
}

/* RTM_NEWLINK for an existing link: up, and enslaved to master when > 0. */
static void put_port(struct nlb *b, int ifindex, int master)
{
	struct ifinfomsg *ifi;

	if (!nlb_msg(b, RTM_NEWLINK, NLM_F_REQUEST))
		return;
	ifi = nlb_extra(b, sizeof(*ifi));
	if (!ifi)
		return;
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (master > 0)
		nlb_put_u32(b, IFLA_MASTER, (uint32_t)master);
}

static void put_bridge(struct nlb *b, const char *name)
{
	struct ifinfomsg *ifi;
	struct nlattr *info;

	if (!nlb_msg(b, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL))
		return;
	ifi = nlb_extra(b, sizeof(*ifi));
	if (!ifi)
		return;
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	nlb_put_strz(b, IFLA_IFNAME, name);
	info = nlb_nest_start(b, IFLA_LINKINFO);
	nlb_put_strz(b, IFLA_INFO_KIND, "bridge");
	nlb_nest_end(b, info);
}

/* Send the messages built in b; a builder overflow is a bug here, reported as such. */
static int send_batch(struct nlsock *s, struct nlb *b, struct ebuf *eb)
{
	if (nlb_err(b)) {
		ebuf_set(eb, "netlink request too large");
		return nlb_err(b);
	}
	return nlsock_batch(s, b->buf, b->len, NULL, eb);
}

int lab_wire_make(struct lab *l, struct ebuf *eb)
{
	uint64_t buf[64];
	struct nlsock s = { .fd = -1 };
	char ns[LAB_NETNS_MAX];
	struct nlb b;
	int r;

	snprintf(ns, sizeof(ns), "%s-wire", l->name);
	l->wire = true;
	r = lab_save(l, eb);
	if (!r)
		r = netns_create(ns, eb);
	if (!r)
		r = sock_in(ns, NETLINK_ROUTE, &s, eb);
	if (!r) {
		nlb_init(&b, buf, sizeof(buf));
		rtnl_put_link_up(&b, LO_IFINDEX);
		put_bridge(&b, BRIDGE);
		r = send_batch(&s, &b, eb);
		if (r)
			ebuf_prefix(eb, "%s: bridge %s", ns, BRIDGE);
	}
	nlsock_close(&s);
	return r;
}

/* The veth eth0 (node) <-> n<i> (wire), the wire end a port of br0. */
static int node_link(struct lab *l, struct lab_node *n, struct ebuf *eb)
{
	char path[sizeof(NETNS_RUN_DIR) + LAB_NETNS_MAX + 1], wire[LAB_NETNS_MAX];
	struct rtnl_veth v = { .name = n->name, .peer = "eth0", .queues = 1 };
	struct nlsock s = { .fd = -1 };
	struct rtnl_link br;
	uint64_t buf[32];
	int fd = -1, port = 0, r;
	struct nlb b;

	snprintf(wire, sizeof(wire), "%s-wire", l->name);
	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", n->netns);
	r = netns_open(path, &fd, eb);
	if (!r)
		r = sock_in(wire, NETLINK_ROUTE, &s, eb);
	v.peer_netns_fd = fd;
	if (!r)
		r = rtnl_link_get(&s, BRIDGE, &br, eb);
	if (!r)
		r = rtnl_veth_add(&s, &v, &port, eb);
	if (!r) {
		nlb_init(&b, buf, sizeof(buf));
		put_port(&b, port, br.ifindex);
		r = send_batch(&s, &b, eb);
	}
	if (r)
		ebuf_prefix(eb, "%s: link to the wire", n->name);
	nlsock_close(&s);
	if (fd >= 0)
		close(fd);
	return r;
}

/* lo and eth0 up, the node's addresses on eth0. */
static int node_addrs(struct lab_node *n, struct ebuf *eb)
{
	struct nlsock s = { .fd = -1 };
	struct rtnl_link eth;
	struct cidr a[2];
	char text[2][32];
	uint64_t buf[64];
	struct nlb b;
	int r, i;

	snprintf(text[0], sizeof(text[0]), "192.168.86.%u/24", n->idx);
	snprintf(text[1], sizeof(text[1]), "fd86::%x/64", n->idx);
	for (i = 0; i < 2; i++)
		if (cidr_parse(text[i], strlen(text[i]), &a[i]))
			return -EINVAL;
	r = sock_in(n->netns, NETLINK_ROUTE, &s, eb);
	if (!r)
		r = rtnl_link_get(&s, "eth0", &eth, eb);
	if (!r) {
		nlb_init(&b, buf, sizeof(buf));
		rtnl_put_link_up(&b, LO_IFINDEX);
		rtnl_put_link_up(&b, eth.ifindex);
		/* nodad: the lab's addresses are unique by construction, and usable at once */
		for (i = 0; i < 2; i++)
			rtnl_put_addr(&b, RTM_NEWADDR, eth.ifindex, &a[i], IFA_F_NODAD);
		r = send_batch(&s, &b, eb);
	}
	if (r)
		ebuf_prefix(eb, "%s: addresses", n->name);
	nlsock_close(&s);
	return r;
}

static int node_dirs(struct lab *l, const struct lab_node *n, struct ebuf *eb)
{
	char p[PATH_MAX];
	int r;

	r = lab_path(l, p, sizeof(p), "nodes");
	if (!r && mkdir(p, 0755) < 0 && errno != EEXIST)
		r = -errno;
	if (!r && !(r = lab_path(l, p, sizeof(p), "nodes/%s", n->name)) && mkdir(p, 0755) < 0)
		r = errno == EEXIST ? 0 : -errno;
	if (!r && !(r = lab_path(l, p, sizeof(p), "nodes/%s/cni", n->name)) && mkdir(p, 0755) < 0)
		r = errno == EEXIST ? 0 : -errno;
	if (r)
		ebuf_set(eb, "cannot create %s: %s", p, strerror(-r));
	return r;
}

int lab_node_make(struct lab *l, struct lab_node *n, struct ebuf *eb)
{
	int r = lab_save(l, eb);

	if (!r)
		r = node_dirs(l, n, eb);
	if (!r)
		r = netns_create(n->netns, eb);
	if (!r)
		r = node_link(l, n, eb);
	/* before eth0 goes up, so its link-local address never starts tentative */
	if (!r && (r = visit(n->netns, sysctl_on, NULL, eb)))
		ebuf_prefix(eb, "%s: sysctls", n->name);
	if (!r)
		r = node_addrs(n, eb);
	return r;
}

/* ---- agents ---------------------------------------------------------------------------- */

int lab_agent_start(struct lab *l, struct lab_node *n, struct ebuf *eb)
{
	char api[PATH_MAX], data[PATH_MAX], cni[PATH_MAX], log[PATH_MAX], pidf[PATH_MAX];
	const char *debug = getenv("VIRGIL_LAB_DEBUG");
	const char *argv[] = { "virgild", "--source", api, "--node-name", n->name,
			       "--data-dir", data, "--cni-conf-dir", cni,
			       debug && *debug ? "--debug" : NULL, NULL };
	const char *envp[] = { NULL };
	struct lab_exec x = { .argv = argv, .envp = envp, .netns = n->netns, .log = log,
			      .pass_fd = -1 };
	char text[24];
	int r;

	if (lab_path(l, api, sizeof(api), "api") ||
	    lab_path(l, data, sizeof(data), "nodes/%s", n->name) ||
	    lab_path(l, cni, sizeof(cni), "nodes/%s/cni", n->name) ||
	    lab_path(l, log, sizeof(log), "nodes/%s/agent.log", n->name) ||
	    lab_path(l, pidf, sizeof(pidf), "nodes/%s/agent.pid", n->name))
		return -ENAMETOOLONG;
	r = lab_spawn(&x, &n->agent, eb);
	if (r) {
		ebuf_prefix(eb, "%s: starting the agent", n->name);
		return r;
	}
	snprintf(text, sizeof(text), "%d\n", (int)n->agent.pid);
	/* a convenience for people; lab.json is the record */
	if (atomic_write(pidf, text, strlen(text), 0644))
		log_warnx("cannot write %s", pidf);
	return lab_save(l, eb);
}

/* The last line of a log, for an error message. */
static void log_tail(const char *path, char *out, size_t n)
{
	struct buf b = BUF_INIT;
	char *p, *e;

	out[0] = '\0';
	if (read_file(path, &b, 1u << 20) || !b.len) {
		buf_free(&b);
		return;
	}
	e = b.p + b.len;
	while (e > b.p && e[-1] == '\n')
		*--e = '\0';
	p = strrchr(b.p, '\n');
	snprintf(out, n, "%s", p ? p + 1 : b.p);
	buf_free(&b);
}

static int agent_ready(struct lab *l, struct lab_node *n, bool *ready, struct ebuf *eb)
{
	char conf[PATH_MAX], log[PATH_MAX], tail[200];
	struct stat st;

	if (lab_path(l, conf, sizeof(conf), "nodes/%s/cni/10-virgil.conflist", n->name) ||
	    lab_path(l, log, sizeof(log), "nodes/%s/agent.log", n->name))
		return -ENAMETOOLONG;
	*ready = stat(conf, &st) == 0 && st.st_size > 0;
	if (*ready || lab_proc_alive(&n->agent))
		return 0;
	log_tail(log, tail, sizeof(tail));
	ebuf_set(eb, "the agent on %s exited: %s (see %s)", n->name,
		 tail[0] ? tail : "no output", log);
	return -ECHILD;
}

int lab_agents_ready(struct lab *l, struct ebuf *eb)
{
	uint64_t end = lab_now() + LAB_AGENT_WAIT_MS;
	unsigned i, ready;
	bool ok;
	int r;

	for (;;) {
		for (i = 0, ready = 0; i < l->nnodes; i++) {
			r = agent_ready(l, &l->nodes[i], &ok, eb);
			if (r)
				return r;
			ready += ok;
		}
		if (ready == l->nnodes)
			return 0;
		if (lab_stopped(l)) {
			ebuf_set(eb, "stopped");
			return -EINTR;
		}
		if (lab_now() > end)
			break;
		lab_sleep(l, 20);
	}
	ebuf_set(eb, "%u of %u agents are not ready after %d s (see %s/nodes/*/agent.log)",
		 l->nnodes - ready, l->nnodes, LAB_AGENT_WAIT_MS / 1000, l->dir);
	return -ETIMEDOUT;
}

/* ---- generations ------------------------------------------------------------------------ */

struct agent_status {
	uint64_t gen;
	bool have;
	struct buf problems;	/* "; "-separated, for a warning */
};

static void read_problems(const struct json *pol, struct buf *out)
{
	const struct json *v, *err = json_get(pol, "error");

	json_for_each(v, json_get(pol, "problems")) {
		const struct json *who = json_get(v, "policy"), *why = json_get(v, "why");

		if (json_is(v, JSON_STRING) && buf_printf(out, "%s%s", out->len ? "; " : "",
							  v->str))
			return;
		if (json_is(who, JSON_STRING) && json_is(why, JSON_STRING) &&
		    buf_printf(out, "%spolicy %s: %s", out->len ? "; " : "", who->str, why->str))
			return;
	}
	if (json_is(err, JSON_STRING) && err->len &&
	    buf_printf(out, "%s%s", out->len ? "; " : "", err->str))
		return;
}

/* <data-dir>/status.json of node n; st->have false while it is missing or unreadable. */
static void agent_status(struct lab *l, const struct lab_node *n, struct agent_status *st)
{
	struct json_doc *doc = NULL;
	struct buf b = BUF_INIT;
	char path[PATH_MAX];

	st->have = false;
	if (lab_path(l, path, sizeof(path), "nodes/%s/status.json", n->name) ||
	    read_file(path, &b, 1u << 20) || json_parse(b.p, b.len, NULL, &doc, NULL))
		goto out;
	st->have = !json_u64(json_get(json_root(doc), "sourceGeneration"), &st->gen);
	buf_reset(&st->problems);
	read_problems(json_get(json_root(doc), "policy"), &st->problems);
out:
	json_doc_free(doc);
	buf_free(&b);
}

static int gen_write(struct lab *l, struct ebuf *eb)
{
	char path[PATH_MAX], text[24];
	int r;

	snprintf(text, sizeof(text), "%llu\n", (unsigned long long)l->gen);
	r = lab_path(l, path, sizeof(path), "api/.generation");
	if (!r && (r = atomic_write(path, text, strlen(text), 0644)))
		ebuf_set(eb, "cannot write %s: %s", path, strerror(-r));
	return r;
}

/* Has every running agent applied l->gen? *behind: the first that has not, else nnodes.
 * An agent that is not running is skipped (there is nobody to wait for) with a warning. */
static void gen_applied(struct lab *l, struct agent_status *st, unsigned *behind, bool *warned)
{
	unsigned i;

	*behind = l->nnodes;
	for (i = 0; i < l->nnodes; i++) {
		struct lab_node *n = &l->nodes[i];

		if (!lab_proc_alive(&n->agent)) {
			if (!warned[i])
				log_warnx("the agent on %s is not running: its node does not follow "
					  "(see %s/nodes/%s/agent.log)", n->name, l->dir, n->name);
			warned[i] = true;
			continue;
		}
		agent_status(l, n, st);
		if (!st->have || st->gen < l->gen) {
			*behind = i;
			return;
		}
	}
}

int lab_publish(struct lab *l, struct ebuf *eb)
{
	struct agent_status st = { .problems = BUF_INIT };
	uint64_t end = lab_now() + LAB_GEN_WAIT_MS;
	bool warned[LAB_MAX_NODES] = { false };
	unsigned behind = 0;
	int r;

	l->gen++;
	r = lab_save(l, eb);
	if (!r)
		r = gen_write(l, eb);
	while (!r) {
		gen_applied(l, &st, &behind, warned);
		if (behind == l->nnodes)
			break;
		if (lab_stopped(l)) {
			ebuf_set(eb, "stopped");
			r = -EINTR;
		} else if (lab_now() > end) {
			char seen[48] = "it has written no status.json";

			if (st.have)
				snprintf(seen, sizeof(seen), "it reports %llu",
					 (unsigned long long)st.gen);
			ebuf_set(eb, "the agent on %s has not applied generation %llu within %d s "
				 "(%s; see %s/nodes/%s/agent.log)", l->nodes[behind].name,
				 (unsigned long long)l->gen, LAB_GEN_WAIT_MS / 1000, seen, l->dir,
				 l->nodes[behind].name);
			r = -ETIMEDOUT;
		} else {
			lab_sleep(l, 10);
		}
	}
	/* every agent sees the same objects: the last one's complaints stand for all */
	if (!r && st.problems.len)
		log_warnx("the agents report: %s", st.problems.p);
	buf_free(&st.problems);
	return r;
}

/* ---- pods and operators ------------------------------------------------------------------ */

int lab_lo_up(const char *netns, struct ebuf *eb)
{
	struct nlsock s = { .fd = -1 };
	uint64_t buf[16];
	struct nlb b;
	int r;

	r = sock_in(netns, NETLINK_ROUTE, &s, eb);
	if (!r) {
		nlb_init(&b, buf, sizeof(buf));
		rtnl_put_link_up(&b, LO_IFINDEX);
		r = send_batch(&s, &b, eb);
	}
	nlsock_close(&s);
	return r;
}

int lab_node_ct_flush(struct lab_node *n, struct ebuf *eb)
{
	struct nlsock s = { .fd = -1 };
	uint64_t buf[8];
	struct nlb b;
	int r;

	nlb_init(&b, buf, sizeof(buf));
	ctmsg_flush(&b);
	if (nlb_err(&b))
		return nlb_err(&b);	/* cannot happen: buf holds the message twice over */
	r = sock_in(n->netns, NETLINK_NETFILTER, &s, eb);
	if (!r && (r = nlsock_talk(&s, b.nlh, NULL, NULL, eb)))
		ebuf_prefix(eb, "%s: emptying its connection tracking table", n->name);
	nlsock_close(&s);
	return r;
}

int lab_node_ruleset(struct lab *l, struct lab_node *n, struct buf *out, struct ebuf *eb)
{
	struct nlsock s = { .fd = -1 };
	int r;

	(void)l;
	r = sock_in(n->netns, NETLINK_NETFILTER, &s, eb);
	if (!r)
		r = nftdump_table(&s, "virgil", 0, out, eb);
	if (r == -ENOENT)
		ebuf_set(eb, "%s has no table inet virgil (yet)", n->name);
	nlsock_close(&s);
	return r;
}
