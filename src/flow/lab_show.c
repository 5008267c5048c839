// SPDX-License-Identifier: MIT
/*
 * lab_show.c: the commands of `virgil lab` that only look (lab.h): status as a table or JSON,
 * the reachability matrix (io/probe.c measures, core/reach.c renders) and a node's nf_tables
 * ruleset. They share the lab's lock with each other, never with a command that changes it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/mem.h"
#include "../codec/json.h"
#include "../core/reach.h"
#include "../io/netns.h"
#include "../io/probe.h"
#include "lab_int.h"

static void put_addrs(struct jw *w, const struct ipaddr *ip)
{
	char a[IPADDR_STRLEN];
	int i;

	jw_key(w, "addresses");
	jw_arr_begin(w);
	for (i = 0; i < 2; i++)
		if (ip[i].family && !ipaddr_format(&ip[i], a, sizeof(a)))
			jw_str(w, a);
	jw_arr_end(w);
}

static void node_addrs(const struct lab_node *n, char a[4][40])
{
	snprintf(a[0], 40, "192.168.86.%u", n->idx);
	snprintf(a[1], 40, "fd86::%x", n->idx);
	snprintf(a[2], 40, "10.244.%u.0/24", n->idx);
	snprintf(a[3], 40, "fd00:10:244:%x::/64", n->idx);
}

static void status_json(struct lab *l, struct jw *w)
{
	char a[4][40];
	size_t i;

	jw_obj_begin(w);
	jw_key(w, "nodes");
	jw_arr_begin(w);
	for (i = 0; i < l->nnodes; i++) {
		const struct lab_node *n = &l->nodes[i];

		node_addrs(n, a);
		jw_obj_begin(w);
		jw_kstr(w, "name", n->name);
		jw_kstr(w, "netns", n->netns);
		jw_key(w, "addresses");
		jw_arr_begin(w);
		jw_str(w, a[0]);
		jw_str(w, a[1]);
		jw_arr_end(w);
		jw_key(w, "podCIDRs");
		jw_arr_begin(w);
		jw_str(w, a[2]);
		jw_str(w, a[3]);
		jw_arr_end(w);
		jw_key(w, "agentPid");
		jw_i64(w, n->agent.pid);
		jw_key(w, "running");
		jw_bool(w, lab_proc_alive(&n->agent));
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_key(w, "pods");
	jw_arr_begin(w);
	for (i = 0; i < l->npods; i++) {
		const struct lab_pod *p = &l->pods[i];
		char id[LAB_NS_MAX + LAB_NAME_MAX + 2];

		snprintf(id, sizeof(id), "%s/%s", p->ns, p->name);
		jw_obj_begin(w);
		jw_kstr(w, "pod", id);
		jw_kstr(w, "node", p->node);
		jw_kstr(w, "netns", p->netns);
		put_addrs(w, p->ip);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
}

static int status_text(struct lab *l, struct buf *out)
{
	char a[4][40], ip[2][IPADDR_STRLEN];
	size_t i;
	int r, k;

	r = buf_printf(out, "%-5s %-12s %-29s %-35s %s\n", "NODE", "NETNS", "ADDRESSES",
		       "POD CIDRS", "AGENT");
	for (i = 0; i < l->nnodes && !r; i++) {
		const struct lab_node *n = &l->nodes[i];

		node_addrs(n, a);
		r = buf_printf(out, "%-5s %-12s %-12s %-16s %-14s %-20s pid %d, %s\n", n->name,
			       n->netns, a[0], a[1], a[2], a[3], (int)n->agent.pid,
			       lab_proc_alive(&n->agent) ? "running" : "NOT RUNNING");
	}
	if (!r)
		r = buf_printf(out, "\n%-20s %-5s %-12s %s\n", "POD", "NODE", "NETNS", "ADDRESSES");
	for (i = 0; i < l->npods && !r; i++) {
		const struct lab_pod *p = &l->pods[i];
		char id[LAB_NS_MAX + LAB_NAME_MAX + 2];

		for (k = 0; k < 2; k++)
			if (!p->ip[k].family || ipaddr_format(&p->ip[k], ip[k], sizeof(ip[k])))
				ip[k][0] = '\0';
		snprintf(id, sizeof(id), "%s/%s", p->ns, p->name);
		r = buf_printf(out, "%-20s %-5s %-12s %s%s%s\n", id, p->node, p->netns, ip[0],
			       ip[0][0] && ip[1][0] ? " " : "", ip[1]);
	}
	return r;
}

int lab_status(const struct lab_opts *o, bool json, struct buf *out, struct ebuf *eb)
{
	struct lab l;
	struct jw w;
	int r;

	r = lab_begin(&l, o, false, eb);
	if (!r && json) {
		jw_init(&w, out);
		status_json(&l, &w);
		r = jw_finish(&w);
		if (!r)
			r = buf_addc(out, '\n');
	} else if (!r) {
		r = status_text(&l, out);
	}
	lab_release(&l);
	return r;
}

static int pod_cmp(const void *a, const void *b)
{
	const struct lab_pod *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->name, y->name);
}

static int probe(struct lab *l, const struct lab_probe_opts *po, struct buf *out,
		 struct ebuf *eb)
{
	size_t n = l->npods, i;
	struct probe_pod *pp = mem_calloc(n ? n : 1, sizeof(*pp));
	char (*ids)[LAB_NS_MAX + LAB_NAME_MAX + 2] = mem_calloc(n ? n : 1, sizeof(*ids));
	char (*paths)[sizeof(NETNS_RUN_DIR) + LAB_NETNS_MAX + 1] = mem_calloc(n ? n : 1,
									       sizeof(*paths));
	const char **idv = mem_calloc(n ? n : 1, sizeof(*idv));
	bool *m = mem_calloc(n ? n * n : 1, sizeof(*m));
	int slot = po->family == AF_INET6 ? K8SOBJ_V6 : K8SOBJ_V4, r = -ENOMEM;
	struct reach rc = { .port = po->port, .proto = po->proto, .family = po->family, .n = n };

	if (!pp || !ids || !paths || !idv || !m)
		goto out;
	qsort(l->pods, n, sizeof(*l->pods), pod_cmp);
	for (i = 0; i < n; i++) {
		snprintf(ids[i], sizeof(ids[i]), "%s/%s", l->pods[i].ns, l->pods[i].name);
		snprintf(paths[i], sizeof(paths[i]), NETNS_RUN_DIR "/%s", l->pods[i].netns);
		idv[i] = ids[i];
		pp[i] = (struct probe_pod){ .id = ids[i], .netns_path = paths[i],
					    .addr = l->pods[i].ip[slot] };
	}
	/*
	 * A probe asks whether a new connection gets through. UDP sockets take a random source
	 * port, so an earlier probe's conntrack entry (30 s after its echo) could otherwise
	 * answer for a pair a policy now denies, through `ct state established accept`.
	 */
	for (i = 0, r = 0; i < l->nnodes && !r; i++)
		r = lab_node_ct_flush(&l->nodes[i], eb);
	if (!r)
		r = probe_matrix(pp, n, po->port, po->proto, po->timeout_ms, m, eb);
	rc.ids = idv;
	rc.matrix = m;
	if (!r)
		r = po->json ? reach_render_json(&rc, out) : reach_render_grid(&rc, out);
	if (!r && po->json)
		r = buf_addc(out, '\n');
out:
	if (r == -ENOMEM)
		ebuf_setdef(eb, "out of memory");
	mem_free(pp);
	mem_free(ids);
	mem_free(paths);
	mem_free(idv);
	mem_free(m);
	return r;
}

int lab_probe(const struct lab_opts *o, const struct lab_probe_opts *po, struct buf *out,
	      struct ebuf *eb)
{
	struct lab l;
	int r;

	r = lab_begin(&l, o, false, eb);
	if (!r)
		r = probe(&l, po, out, eb);
	lab_release(&l);
	return r;
}

int lab_ruleset(const struct lab_opts *o, const char *node, struct buf *out, struct ebuf *eb)
{
	struct lab_node *n;
	struct lab l;
	int r;

	r = lab_begin(&l, o, false, eb);
	if (!r && !(n = lab_node_find(&l, node))) {
		ebuf_set(eb, "no node \"%.16s\" in this lab (n1..n%u)", node, l.nnodes);
		r = -EINVAL;
	}
	if (!r)
		r = lab_node_ruleset(&l, n, out, eb);
	lab_release(&l);
	return r;
}
