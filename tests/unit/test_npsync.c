// SPDX-License-Identifier: MIT
/* deps: flow/npsync.c flow/npsync_batch.c flow/npsync_groups.c flow/npsync_put.c nl/nftdump.c nl/nftdump_msg.c nl/nftdump_expr.c nl/nftdump_set.c nl/nftmsg.c nl/nlsock.c nl/nlmsg.c core/npplan.c core/npplan_share.c core/npplan_norm.c core/npplan_render.c core/cidr.c base/buf.c base/err.c base/mem.c base/sort.c base/util.c */
/*
 * test_npsync.c: the nf_tables reconciler against the kernel, as root in private network
 * namespaces (unshare(), gone with the process). Plans are built by hand. The reference is
 * nft itself: after every apply, `nft list ruleset` of our namespace must equal that of a
 * second namespace loaded with `nft -f` of npplan_render() of the same plan (exactly after a
 * full resync; after incremental applies, with the table's blocks sorted, since objects
 * created later are listed later), and after a full resync the rules' bytecode (`nft
 * --debug=netlink list ruleset`) must be nft's too. Cases: every element shape and both
 * families; incremental sequences with exact message counts; a failing batch named in the
 * error and repaired by the next apply; tampering repaired by a forced resync; allocation and
 * send failures at every point; and, as diag lines, a large plan timed against nft -f.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "core/npplan.h"
#include "flow/npsync.h"

static int home_ns = -1, other_ns = -1;

static struct ipaddr A(const char *s)
{
	struct ipaddr a = { 0 };

	if (ipaddr_parse(s, strlen(s), &a))
		abort();
	return a;
}

static struct cidr C(const char *s)
{
	struct cidr c = { 0 };

	if (cidr_parse(s, strlen(s), &c))
		abort();
	return c;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- plans by hand ------------------------------------------------------------------------- */

static struct npplan_elem ex(const char *a, unsigned pr, unsigned port)
{
	struct npplan_elem e = { .lo = A(a), .hi = A(a), .prlo = (uint8_t)pr, .prhi = (uint8_t)pr,
				 .plo = (uint16_t)port, .phi = (uint16_t)port,
				 .shape = NPPLAN_EXACT };
	return e;
}

static struct npplan_elem pr(const char *a, unsigned p)
{
	struct npplan_elem e = ex(a, p, 0);

	e.shape = NPPLAN_PROTO;
	return e;
}

static struct npplan_elem ad(const char *a)
{
	struct npplan_elem e = ex(a, 0, 0);

	e.shape = NPPLAN_ADDR;
	return e;
}

/* A pod peer with a port range: a hash-set element of the set of its range. */
static struct npplan_elem qs(const char *a, unsigned p, unsigned lo, unsigned hi)
{
	struct npplan_elem e = ex(a, p, lo);

	e.phi = (uint16_t)hi;
	e.shape = NPPLAN_PORTS;
	return e;
}

static struct npplan_elem rg(const char *lo, const char *hi, unsigned p1, unsigned p2,
			     unsigned q1, unsigned q2)
{
	struct npplan_elem e = { .lo = A(lo), .hi = A(hi), .prlo = (uint8_t)p1,
				 .prhi = (uint8_t)p2, .plo = (uint16_t)q1, .phi = (uint16_t)q2,
				 .shape = NPPLAN_RANGE };
	return e;
}

static struct npplan_group *grp(const char *name, bool all, const struct npplan_elem *e,
				size_t n)
{
	struct npplan_group *g = npplan_group_new(name, name[0] == 'i' ? NPPLAN_IN : NPPLAN_EG);

	if (!g)
		abort();
	g->allow_all = all;
	if (n) {
		g->elems = mem_alloc(n * sizeof(*e));
		if (!g->elems)
			abort();
		memcpy(g->elems, e, n * sizeof(*e));
		g->nelems = n;
		if (npplan_normalize(&g->elems, &g->nelems))
			abort();
	}
	return g;
}

static int find_group(const struct npplan *p, const char *name, size_t *at)
{
	size_t i;

	for (i = 0; i < p->ngroups && strcmp(p->groups[i]->name, name) < 0; i++)
		;
	*at = i;
	return i < p->ngroups && !strcmp(p->groups[i]->name, name);
}

/* Insert or replace (by name) a group; the plan takes the reference. */
static void put_group(struct npplan *p, struct npplan_group *g)
{
	size_t at;

	if (find_group(p, g->name, &at)) {
		npplan_group_unref(p->groups[at]);
		p->groups[at] = g;
		return;
	}
	p->groups = realloc(p->groups, (p->ngroups + 1) * sizeof(*p->groups));
	memmove(p->groups + at + 1, p->groups + at, (p->ngroups - at) * sizeof(*p->groups));
	p->groups[at] = g;
	p->ngroups++;
	for (size_t i = 0; i < p->ndisp; i++)
		p->disp[i].group += p->disp[i].group >= at;
}

static void del_group(struct npplan *p, const char *name)
{
	size_t at;

	if (!find_group(p, name, &at))
		abort();
	npplan_group_unref(p->groups[at]);
	memmove(p->groups + at, p->groups + at + 1, (p->ngroups - at - 1) * sizeof(*p->groups));
	p->ngroups--;
	for (size_t i = 0; i < p->ndisp; i++)
		p->disp[i].group -= p->disp[i].group > at;
}

static int disp_qcmp(const void *a, const void *b)
{
	const struct npplan_disp *x = a, *y = b;

	if (x->dir != y->dir)
		return x->dir < y->dir ? -1 : 1;
	return ipaddr_cmp(&x->addr, &y->addr);
}

/* Send addr (dir) to group name; name NULL removes the entry. */
static void set_disp(struct npplan *p, const char *addr, int dir, const char *name)
{
	struct npplan_disp d = { .addr = A(addr), .dir = (uint8_t)dir };
	size_t i, at = 0;

	for (i = 0; i < p->ndisp; i++) {
		if (!disp_qcmp(&p->disp[i], &d)) {
			p->disp[i] = p->disp[--p->ndisp];
			break;
		}
	}
	if (name) {
		if (!find_group(p, name, &at))
			abort();
		d.group = at;
		p->disp = realloc(p->disp, (p->ndisp + 1) * sizeof(*p->disp));
		p->disp[p->ndisp++] = d;
	}
	qsort(p->disp, p->ndisp, sizeof(*p->disp), disp_qcmp);
}

static void set_cidrs(struct cidr **v, size_t *n, const char *const *s, size_t k)
{
	mem_free(*v);
	*v = k ? mem_alloc(k * sizeof(**v)) : NULL;
	for (size_t i = 0; i < k; i++)
		(*v)[i] = C(s[i]);
	*n = k;
}

/* A copy sharing the groups by reference, as the compiler hands them on. */
static struct npplan plan_clone(const struct npplan *p)
{
	struct npplan c = *p;

	c.groups = mem_alloc((p->ngroups + 1) * sizeof(*c.groups));
	c.disp = mem_alloc((p->ndisp + 1) * sizeof(*c.disp));
	c.src_cidrs = mem_alloc((p->nsrc + 1) * sizeof(*c.src_cidrs));
	c.cluster_cidrs = mem_alloc((p->ncluster + 1) * sizeof(*c.cluster_cidrs));
	c.problems = NULL;
	c.nproblems = 0;
	for (size_t i = 0; i < p->ngroups; i++)
		c.groups[i] = npplan_group_ref(p->groups[i]);
	memcpy(c.disp, p->disp, p->ndisp * sizeof(*c.disp));
	memcpy(c.src_cidrs, p->src_cidrs, p->nsrc * sizeof(*c.src_cidrs));
	memcpy(c.cluster_cidrs, p->cluster_cidrs, p->ncluster * sizeof(*c.cluster_cidrs));
	return c;
}

#define GA "in-00000000000000a1"
#define GALL "in-00000000000000f0"
#define GB "eg-00000000000000b1"
#define GBALL "eg-00000000000000f1"
#define GC "in-00000000000000c1"
#define GD "in-00000000000000d1"
#define GE "in-00000000000000e1"

static struct npplan base_plan(void)
{
	static const char *const src[] = { "10.0.0.0/24", "fd00::/64" };
	static const char *const cluster[] = { "10.0.0.0/16", "10.1.0.0/16", "10.0.5.0/24",
					       "fd00::/48", "192.168.7.0/24" };
	const struct npplan_elem a[] = {
		ex("10.1.0.5", 6, 80), ex("10.1.0.5", 6, 443), ex("fd00::5", 17, 53),
		pr("10.1.0.6", 17), pr("fd00::6", 132), ad("10.1.0.7"), ad("fd00::7"),
		qs("10.1.0.8", 6, 9000, 9100), qs("10.1.0.8", 6, 8080, 8090),
		qs("10.1.0.9", 17, 8080, 8090), qs("fd00::8", 132, 30000, 32767),
		rg("10.2.0.0", "10.2.0.255", 6, 6, 1000, 2000),
		rg("0.0.0.0", "255.255.255.255", 1, 5, 0, 65535),
		rg("fd00:1::", "fd00:1::ffff", 17, 17, 53, 53),
	};
	const struct npplan_elem b[] = {
		ex("10.3.0.1", 6, 5432), ad("fd00:3::1"),
		rg("10.4.0.0", "10.4.255.255", 0, 255, 0, 65535),
	};
	struct npplan p = { .masquerade = true };

	put_group(&p, grp(GA, false, a, sizeof(a) / sizeof(*a)));
	put_group(&p, grp(GALL, true, NULL, 0));
	put_group(&p, grp(GB, false, b, sizeof(b) / sizeof(*b)));
	put_group(&p, grp(GBALL, true, NULL, 0));
	set_disp(&p, "10.0.0.1", NPPLAN_IN, GA);
	set_disp(&p, "10.0.0.2", NPPLAN_IN, GALL);
	set_disp(&p, "fd00::1", NPPLAN_IN, GA);
	set_disp(&p, "10.0.0.1", NPPLAN_EG, GB);
	set_disp(&p, "fd00::2", NPPLAN_EG, GBALL);
	set_cidrs(&p.src_cidrs, &p.nsrc, src, 2);
	set_cidrs(&p.cluster_cidrs, &p.ncluster, cluster, 5);
	return p;
}

/* ---- nft, in our namespace or the reference one --------------------------------------------- */

static char *run(const char *cmd)
{
	struct buf b = BUF_INIT;
	char chunk[65536];
	FILE *f = popen(cmd, "r");
	size_t n;

	if (!f)
		abort();
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_add(&b, chunk, n))
			abort();
	if (pclose(f) != 0)
		diag("%s: failed", cmd);
	return b.p ? b.p : strdup("");
}

static void enter(int ns)
{
	if (setns(ns, CLONE_NEWNET))
		abort();
}

/* The listing of nft -f of p's render in the reference namespace (emptied first). */
static char *reference(const struct npplan *p, const char *cmd, double *ms)
{
	struct buf b = BUF_INIT;
	FILE *f;
	double t;
	char *out;

	if (npplan_render(p, &b))
		abort();
	f = fopen("/tmp/npsync-test.nft", "w");
	if (!f || fwrite(b.p, 1, b.len, f) != b.len || fclose(f))
		abort();
	buf_free(&b);
	enter(other_ns);
	free(run("nft flush ruleset 2>&1"));
	t = now_ms();
	free(run("nft -f /tmp/npsync-test.nft 2>&1"));
	if (ms)
		*ms = now_ms() - t;
	out = run(cmd);
	enter(home_ns);
	unlink("/tmp/npsync-test.nft");
	return out;
}

static int line_qcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The table's objects (blocks between blank lines) in sorted order. */
/*
 * One object's block with its elements in sorted order, one per line: nft lists an interval
 * set's elements in the order the kernel holds them, which depends on the history of adds.
 */
static char *sorted_elems(const char *block)
{
	const char *open = strstr(block, "elements = { "), *close;
	char *body, **v = NULL, *tok, *save = NULL;
	struct buf b = BUF_INIT;
	size_t n = 0;

	if (!open || !(close = strstr(open, " }")))
		return strdup(block);
	body = strndup(open + 13, (size_t)(close - open - 13));
	for (tok = strtok_r(body, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ' || *tok == '\n' || *tok == '\t')
			tok++;
		v = realloc(v, (n + 1) * sizeof(*v));
		v[n++] = tok;
	}
	qsort(v, n, sizeof(*v), line_qcmp);
	if (buf_add(&b, block, (size_t)(open - block)))
		abort();
	for (size_t i = 0; i < n; i++)
		if (buf_printf(&b, "\n%s", v[i]))
			abort();
	if (buf_adds(&b, close))
		abort();
	free(v);
	free(body);
	return b.p;
}

static char *sorted_blocks(const char *text)
{
	char *t = strdup(text), **v = NULL, *p, *q;
	struct buf b = BUF_INIT;
	size_t n = 0, len = strlen(t);

	/* the table's header and closing brace are not part of its last object */
	p = strchr(t, '\n');
	p = p ? p + 1 : t;
	if (len >= 2 && !strcmp(t + len - 2, "}\n"))
		t[len - 2] = 0;
	for (; p && *p; p = q) {
		q = strstr(p, "\n\n");
		if (q) {
			*q = 0;
			q += 2;
		}
		for (len = strlen(p); len && p[len - 1] == '\n'; len--)
			p[len - 1] = 0;
		v = realloc(v, (n + 1) * sizeof(*v));
		v[n++] = p;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = sorted_elems(v[i]);
	qsort(v, n, sizeof(*v), line_qcmp);
	for (size_t i = 0; i < n; i++) {
		if (buf_adds(&b, v[i]) || buf_adds(&b, "\n--\n"))
			abort();
		free(v[i]);
	}
	free(v);
	free(t);
	return b.p ? b.p : strdup("");
}

/* Only the rules' bytecode of an `nft --debug=netlink list ruleset` (element dumps come in
 * hash order, which differs between namespaces). */
static char *rule_code(const char *text)
{
	struct buf b = BUF_INIT;
	const char *p = text, *e;
	bool in_set = false;

	for (; *p; p = e + (*e != 0)) {
		e = strchrnul(p, '\n');
		if (!strncmp(p, "inet virgil ", 12))
			in_set = p[12] == '@';
		if (in_set || (strncmp(p, "inet virgil ", 12) && strncmp(p, "  [", 3)))
			continue;
		if (buf_add(&b, p, (size_t)(e - p)) || buf_addc(&b, '\n'))
			abort();
	}
	return b.p ? b.p : strdup("");
}

/* For a failed comparison: files to diff, numbered by test. */
static void dump_diff(const char *ours, const char *nft)
{
	char a[64], b[64];
	FILE *f, *g;

	snprintf(a, sizeof(a), "/tmp/npsync-%d-ours.txt", tap_n);
	snprintf(b, sizeof(b), "/tmp/npsync-%d-nft.txt", tap_n);
	f = fopen(a, "w");
	g = fopen(b, "w");
	if (f && g) {
		fputs(ours, f);
		fputs(nft, g);
	}
	if (f)
		fclose(f);
	if (g)
		fclose(g);
	diag("differs: diff %s %s", b, a);
}

/* Our listing equals nft -f of p's render: exactly, or block by block. */
static bool same_as_nft(const struct npplan *p, bool exact, const char *what)
{
	char *ours = run("nft list ruleset 2>&1");
	char *ref = reference(p, "nft list ruleset 2>&1", NULL);
	char *a = exact ? strdup(ours) : sorted_blocks(ours);
	char *b = exact ? strdup(ref) : sorted_blocks(ref);
	bool same = !strcmp(a, b) && *a;

	if (!ok(same, what)) {
		dump_diff(a, b);
	}
	free(ours);
	free(ref);
	free(a);
	free(b);
	return same;
}

/* Apply a clone of *cur (which then stays the test's view of the kernel). */
static int apply(struct npsync *s, const struct npplan *cur, struct npsync_stats *st,
		 struct ebuf *eb)
{
	struct npplan c = plan_clone(cur);
	int r = npsync_apply(s, &c, st, eb);

	if (r)
		diag("apply: %d: %s", r, eb->msg);
	npplan_free(&c);
	return r;
}

/* ---- cases ---------------------------------------------------------------------------------- */

static void test_full(struct npsync *s, struct npplan *p)
{
	struct npsync_stats st;
	struct ebuf eb;
	char *ours, *ref, *a, *b;

	is_int(apply(s, p, &st, &eb), 0, "full: every shape, both families, masquerade");
	ok(st.full == 1 && st.groups_added == 4 && st.msgs > 40, "full: a full resync");
	same_as_nft(p, true, "full: nft list ruleset is byte-for-byte nft -f's");
	ours = run("nft --debug=netlink list ruleset 2>&1");
	ref = reference(p, "nft --debug=netlink list ruleset 2>&1", NULL);
	a = rule_code(ours);
	b = rule_code(ref);
	if (!ok(!strcmp(a, b) && strstr(a, "[ byteorder reg 2 = hton(reg 2, 2, 1) ]"),
		"full: every rule's bytecode (and handle) is nft's")) {
		dump_diff(a, b);
	}
	free(ours);
	free(ref);
	free(a);
	free(b);
	is_int(apply(s, p, &st, &eb), 0, "no-op: the same plan again");
	ok(st.full == 0 && st.msgs == 0 && st.bytes == 0, "no-op: nothing sent");
}

/*
 * A restarted agent (a new reconciler) with the same plan adopts the kernel's table as it is:
 * nothing sent, handles unchanged. A table changed by hand is not adopted but replaced.
 */
static void test_restart(const struct npplan *p)
{
	char *before, *after;
	struct npsync *t = NULL;
	struct npsync_stats st;
	struct ebuf eb;

	before = run("nft -a list ruleset 2>&1");
	if (!ok(npsync_new(&t, &eb) == 0, "restart: a second reconciler"))
		return;
	is_int(apply(t, p, &st, &eb), 0, "restart: the same plan");
	ok(st.full && st.adopted && st.msgs == 0, "restart: the table is adopted, nothing sent");
	after = run("nft -a list ruleset 2>&1");
	ok(!strcmp(before, after), "restart: the listing, handles included, is unchanged");
	free(before);
	free(after);
	npsync_free(t);
	free(run("nft add rule inet virgil forward meta l4proto udp accept 2>&1"));
	if (!ok(npsync_new(&t, &eb) == 0, "restart: a third reconciler"))
		return;
	is_int(apply(t, p, &st, &eb), 0, "restart after a hand edit: applied");
	ok(st.full && !st.adopted && st.msgs > 40, "restart after a hand edit: the table replaced");
	same_as_nft(p, true, "restart after a hand edit: the listing is nft -f's again");
	npsync_free(t);
}

/* One step of an incremental sequence: apply, compare, check the message count. */
static void step(struct npsync *s, const struct npplan *p, size_t msgs, const char *what)
{
	struct npsync_stats st;
	struct ebuf eb;
	char line[160];

	snprintf(line, sizeof(line), "%s: applied", what);
	is_int(apply(s, p, &st, &eb), 0, line);
	snprintf(line, sizeof(line), "%s: %zu messages, incremental", what, msgs);
	if (!ok(st.full == 0 && st.msgs == msgs, line))
		diag("full %d msgs %zu (+%zu -%zu elements)", st.full, st.msgs, st.elems_added,
		     st.elems_deleted);
	snprintf(line, sizeof(line), "%s: listing equals nft -f", what);
	same_as_nft(p, false, line);
}

static void add_elem(struct npplan *p, const char *name, struct npplan_elem e, bool remove)
{
	size_t at;
	struct npplan_group *o, *g;

	if (!find_group(p, name, &at))
		abort();
	o = p->groups[at];
	g = grp(name, o->allow_all, o->elems, o->nelems);
	if (remove) {
		for (size_t i = 0; i < g->nelems; i++)
			if (!npplan_elem_cmp(&g->elems[i], &e))
				g->elems[i] = g->elems[--g->nelems];
	} else {
		g->elems = realloc(g->elems, (g->nelems + 1) * sizeof(e));
		g->elems[g->nelems++] = e;
	}
	if (npplan_normalize(&g->elems, &g->nelems))
		abort();
	put_group(p, g);
}

/* Box i of a spread of disjoint ones: 10.50.i.0-10.50.i.3 . tcp . 8000-8010. */
static struct npplan_elem big_box(int i)
{
	char lo[16], hi[16];

	snprintf(lo, sizeof(lo), "10.50.%d.0", i);
	snprintf(hi, sizeof(hi), "10.50.%d.3", i);
	return rg(lo, hi, 6, 6, 8000, 8010);
}

static void test_incremental(struct npsync *s, struct npplan *p)
{
	static const char *const src2[] = { "10.0.0.0/24", "10.0.9.0/24", "fd00::/64" };
	static const char *const all[] = { "10.0.0.0/8", "0.0.0.0/0", "::/0" };
	const struct npplan_elem c[] = { ex("10.9.0.1", 17, 53), rg("fd00:9::", "fd00:9::f", 6, 6,
								  1, 1024) };

	add_elem(p, GA, ex("10.1.0.9", 6, 8080), false);
	step(s, p, 3, "add one element");
	add_elem(p, GA, ex("10.1.0.9", 6, 8080), true);
	step(s, p, 3, "remove one element");
	add_elem(p, GA, rg("10.2.0.128", "10.2.1.10", 6, 6, 1500, 3000), false);
	step(s, p, 4, "a range that merges with another: delete and add in one batch");
	set_disp(p, "10.0.0.1", NPPLAN_IN, GALL);
	step(s, p, 4, "move a pod between groups: DELSETELEM + NEWSETELEM");
	set_disp(p, "10.0.0.3", NPPLAN_IN, GA);
	set_disp(p, "fd00::1", NPPLAN_IN, NULL);
	/* their map entries and their self entries */
	step(s, p, 4 + 2, "a pod comes, another goes");
	put_group(p, grp(GC, false, c, 2));
	set_disp(p, "10.0.0.4", NPPLAN_IN, GC);
	/* chain, 2 sets (only those with elements), 2 element lists, 2 + 2 rules, dispatch, self */
	step(s, p, 2 + 1 + 2 + 2 + 4 + 1 + 1, "add a group");
	add_elem(p, GC, ad("10.9.0.7"), false);
	/* a set fills: flush, the new set and its list, the chain's 3 + 2 rules again */
	step(s, p, 2 + 1 + 1 + 1 + 5, "a group's empty set fills");
	add_elem(p, GC, ex("10.9.0.2", 6, 22), false);
	step(s, p, 3, "an element into an existing set: no rule rewritten");
	add_elem(p, GC, ex("10.9.0.2", 6, 22), true);
	add_elem(p, GC, ad("10.9.0.7"), true);
	/* a set empties: flush, its DELSET, one DELSETELEM list, 2 + 2 rules */
	step(s, p, 2 + 1 + 1 + 1 + 4, "a group's set empties while another changes");
	for (int i = 0; i < 20; i++)
		add_elem(p, GC, big_box(i), false);
	/* r4 fills: flush, the set and its list, x4 r4 r6 rules and 2 rejects */
	step(s, p, 2 + 1 + 1 + 1 + 5, "20 interval elements into a new set");
	for (int i = 0; i < 16; i++)
		add_elem(p, GC, big_box(i), true);
	/* 16 deletions from an interval set: replaced, not pruned (flush, DELSET, NEWSET, list,
	 * 5 rules) */
	step(s, p, 2 + 1 + 1 + 1 + 1 + 5, "16 deletions from an interval set: the set replaced");
	add_elem(p, GC, big_box(16), true);
	step(s, p, 3, "one deletion from an interval set: pruned in place");
	for (int i = 17; i < 20; i++)
		add_elem(p, GC, big_box(i), true);
	step(s, p, 2 + 1 + 1 + 4, "the interval set empties: flush, DELSET, 4 rules");
	put_group(p, grp(GC, true, NULL, 0));
	/* flush, 2 DELSET, one rule */
	step(s, p, 2 + 1 + 2 + 1, "a group becomes allow-all");
	put_group(p, grp(GC, false, c, 2));
	step(s, p, 2 + 1 + 2 + 2 + 4, "and back");
	set_disp(p, "10.0.0.4", NPPLAN_IN, NULL);
	del_group(p, GC);
	/* dispatch DEL, self DEL, flush, DELCHAIN, 2 DELSET */
	step(s, p, 2 + 1 + 1 + 1 + 1 + 2, "remove a group (after its dispatch element)");
	add_elem(p, GA, qs("10.1.0.10", 6, 8080, 8090), false);
	step(s, p, 3, "a pod into a port-range set: one element, no rule rewritten");
	for (int i = 0; i < 3; i++)
		add_elem(p, GA, qs(i == 0 ? "10.1.0.8" : i == 1 ? "10.1.0.9" : "10.1.0.10",
				   i == 1 ? 17 : 6, 8080, 8090), true);
	add_elem(p, GA, qs("10.1.0.11", 6, 8080, 8090), false);
	step(s, p, 4, "3 pods leave a port-range set and one comes: in place, never replaced");
	add_elem(p, GA, qs("fd00::9", 6, 7000, 7001), false);
	/* flush, the new set and its list, GA's 12 set rules and 2 rejects */
	step(s, p, 2 + 1 + 1 + 1 + 14, "a new port range: its set made, the rules rewritten");
	add_elem(p, GA, qs("10.1.0.8", 6, 9000, 9100), true);
	/* flush, DELSET, 11 set rules and 2 rejects */
	step(s, p, 2 + 1 + 1 + 13, "a port range's last pod goes: its set deleted");
	set_cidrs(&p->src_cidrs, &p->nsrc, src2, 3);
	step(s, p, 2 + 2, "masquerade source CIDRs change: flush and refill one set");
	set_cidrs(&p->cluster_cidrs, &p->ncluster, all, 3);
	step(s, p, 2 + 4, "cluster CIDRs of the whole space (no end elements)");
	p->masquerade = false;
	step(s, p, 2 + 1, "masquerade off: the postrouting chain flushed");
	p->masquerade = true;
	step(s, p, 2 + 3, "masquerade on again");
	step(s, p, 0, "no-op");
}

/*
 * Groups holding the same elements share the kernel's set: it is made once, in the first
 * group's name, and edited once; a group whose elements part ways gets a set of its own,
 * and loses it when they meet again; when the owner goes, the next group makes its own.
 */
static void test_share(struct npsync *s, struct npplan *p)
{
	const struct npplan_elem d[] = { ex("10.7.0.1", 6, 80), ex("10.7.0.2", 6, 80),
					 ad("fd00:7::1") };

	put_group(p, grp(GD, false, d, 3));
	put_group(p, grp(GE, false, d, 3));
	set_disp(p, "10.0.0.5", NPPLAN_IN, GD);
	set_disp(p, "10.0.0.6", NPPLAN_IN, GE);
	/* 2 chains, GD's 2 sets and their lists, 2 x (2 + 2) rules, one dispatch list, one
	 * self list */
	step(s, p, 2 + 2 + 2 + 2 + 8 + 1 + 1, "two groups with the same sets: made once");
	add_elem(p, GD, ex("10.7.0.3", 6, 80), false);
	add_elem(p, GE, ex("10.7.0.3", 6, 80), false);
	step(s, p, 3, "the same element into both: one set edited once");
	add_elem(p, GE, ex("10.7.0.4", 6, 80), false);
	/* GE's own x4 and its list; GE flushed, its 4 rules */
	step(s, p, 2 + 1 + 1 + 1 + 4, "one group parts ways: its own set, its chain again");
	add_elem(p, GE, ex("10.7.0.4", 6, 80), true);
	/* flush, 4 rules, GE's x4 deleted */
	step(s, p, 2 + 1 + 4 + 1, "and meets the other again: its own set deleted");
	set_disp(p, "10.0.0.5", NPPLAN_IN, NULL);
	del_group(p, GD);
	/* dispatch and self out; GE's 2 sets and lists, flush and 4 rules; GD flushed and
	 * deleted, its 2 sets deleted */
	step(s, p, 2 + 2 + 4 + 5 + 2 + 2, "the owner goes: the next group makes the sets");
	for (int i = 0; i < 20; i++)
		add_elem(p, GE, big_box(i), false);
	/* GE's r4 made with its list; GE flushed, its 5 rules */
	step(s, p, 2 + 1 + 1 + 1 + 5, "20 interval elements into a group's own new set");
	{
		size_t at;

		find_group(p, GE, &at);
		put_group(p, grp(GD, false, p->groups[at]->elems, p->groups[at]->nelems));
	}
	/* GD takes the sets over (3 made with their lists), its chain and 5 rules; GE's chain
	 * names them (flush, 5 rules); GE's own 3 sets deleted */
	step(s, p, 2 + 6 + 1 + 5 + 1 + 5 + 3, "a group with the same sets, first by name, owns them");
	for (int i = 0; i < 16; i++) {
		add_elem(p, GD, big_box(i), true);
		add_elem(p, GE, big_box(i), true);
	}
	/* the shared interval set loses 16: both chains flushed before it is deleted and made
	 * again with its list, then their 5 rules each */
	step(s, p, 2 + 2 + 1 + 2 + 10, "a shared interval set replaced: every chain naming it");
	del_group(p, GD);
	set_disp(p, "10.0.0.6", NPPLAN_IN, NULL);
	del_group(p, GE);
	/* dispatch, self; 2 chains flushed and deleted; GD's 3 sets deleted */
	step(s, p, 2 + 2 + 2 + 2 + 3, "and both go");
}

/*
 * Random plans over a small universe, so groups often hold equal sets and sets change hands:
 * every change applies, its listing reads as nft -f of the render, and a restarted
 * reconciler adopts the table the history left (the names and sharing follow from the plan
 * alone).
 */
static void test_random(struct npsync *s)
{
	static const char *const names[] = { "eg-0000000000000a01", "eg-0000000000000a02",
					     "in-0000000000000b01", "in-0000000000000b02",
					     "in-0000000000000b03", "in-0000000000000b04" };
	const struct npplan_elem pool[] = {
		ex("10.8.0.1", 6, 80), ex("10.8.0.2", 6, 80), ex("10.8.0.1", 17, 53),
		ad("fd00:8::1"), ad("fd00:8::2"), qs("10.8.0.1", 6, 8000, 8010),
		qs("10.8.0.3", 6, 8000, 8010), qs("fd00:8::1", 17, 9000, 9001),
		rg("10.9.0.0", "10.9.0.255", 6, 6, 1, 1024),
		rg("10.9.2.0", "10.9.3.255", 0, 255, 0, 65535),
	};
	/* three templates make equal sets likely; a fifth of the time a random subset */
	static const unsigned tmpl[] = { 0x0ff, 0x1a7, 0x3f3 };
	static const char *const src[] = { "10.0.1.0/24" };
	struct npplan p = { .masquerade = true };
	struct npsync_stats st;
	struct ebuf eb;
	/* NPSYNC_SEED=N runs another sequence */
	uint32_t seed = getenv("NPSYNC_SEED") ? (uint32_t)atoi(getenv("NPSYNC_SEED")) : 12345;
	int bad = 0, nftbad = 0;

	set_cidrs(&p.src_cidrs, &p.nsrc, src, 1);
	set_cidrs(&p.cluster_cidrs, &p.ncluster, src, 1);
	npsync_invalidate(s);
	for (int step = 0; step < 80; step++) {
		size_t g, at, n = 0;
		unsigned mask;
		char addr[16];
		struct npplan_elem e[16];

		seed = seed * 1103515245u + 12345u;
		g = (seed >> 8) % 6;
		mask = (seed >> 16) % 5 ? tmpl[(seed >> 20) % 3] : (seed >> 12) & 0x3ff;
		snprintf(addr, sizeof(addr), "10.0.1.%zu", g + 1);
		if (find_group(&p, names[g], &at) && (seed >> 28) % 4 == 0) {
			set_disp(&p, addr, names[g][0] == 'i' ? NPPLAN_IN : NPPLAN_EG, NULL);
			del_group(&p, names[g]);
		} else {
			for (size_t k = 0; k < sizeof(pool) / sizeof(*pool); k++)
				if (mask >> k & 1)
					e[n++] = pool[k];
			put_group(&p, grp(names[g], (seed >> 24) % 16 == 0, e, n));
			set_disp(&p, addr, names[g][0] == 'i' ? NPPLAN_IN : NPPLAN_EG, names[g]);
		}
		if (apply(s, &p, &st, &eb)) {
			diag("random step %d: %s", step, eb.msg);
			bad++;
			break;
		}
		if (step % 4 == 3)
			nftbad += !same_as_nft(&p, false, "random: listing equals nft -f");
	}
	ok(!bad, "random: 80 changes over groups sharing sets, every one applied");
	ok(!nftbad, "random: every fourth listing checked against nft -f");
	/* a restart after all that history: the kernel's table is what it would write */
	npsync_invalidate(s);
	is_int(apply(s, &p, &st, &eb), 0, "random: a restart with the last plan");
	ok(st.full && st.adopted && !st.msgs, "random: ... adopts the table as it is");
	same_as_nft(&p, false, "random: the table reads as nft -f of the render");
	npplan_free(&p);
}

static void test_failure(struct npsync *s, struct npplan *p)
{
	struct npsync_stats st;
	struct ebuf eb;
	int r;

	free(run("nft add element inet virgil ing4 '{ 10.0.0.9 : goto " GALL " }' 2>&1"));
	set_disp(p, "10.0.0.9", NPPLAN_IN, GA);
	r = apply(s, p, &st, &eb);
	is_int(r, -EEXIST, "a clashing map element fails the batch");
	if (!ok(strstr(eb.msg, "adding element 10.0.0.9 to set ing4: File exists") != NULL,
		"the error names the element, the set and the cause"))
		diag("%s", eb.msg);
	is_int(apply(s, p, &st, &eb), 0, "the next apply succeeds");
	ok(st.full == 1, "as a full resync");
	same_as_nft(p, true, "which repairs the table");

	free(run("nft delete element inet virgil " GA "-x4 '{ 10.1.0.5 . tcp . 443 }' 2>&1"));
	add_elem(p, GA, ex("10.1.0.5", 6, 443), true);
	r = apply(s, p, &st, &eb);
	if (!ok(r == -ENOENT && strstr(eb.msg, "deleting element 10.1.0.5 . tcp . 443 from set "
					    GA "-x4: No such file or directory"),
		"deleting an element removed behind our back: named"))
		diag("%d %s", r, eb.msg);
	free(run("nft delete element inet virgil " GA "-a6 '{ fd00::7 }' 2>&1"));
	npsync_invalidate(s);
	is_int(apply(s, p, &st, &eb), 0, "tampering: a forced resync");
	ok(st.full == 1, "is a full one");
	same_as_nft(p, true, "and puts back what was deleted by hand");
}

/* Every allocation and the send failing in turn: an error, no leak, and the next apply of the
 * same plan resyncs fully. */
static void test_faults(struct npsync *s, struct npplan *p)
{
	unsigned long n, bad = 0, fails = 0;
	struct npsync_stats st;
	struct ebuf eb;

	add_elem(p, GB, ex("10.3.0.2", 6, 22), false);
	for (n = 1;; n++) {
		struct npplan c = plan_clone(p);
		unsigned long calls;
		int r;

		fault_reset(n);
		r = npsync_apply(s, &c, &st, &eb);
		calls = fault_reset(0);
		fails += r != 0;
		bad += r != 0 && (c.ngroups != p->ngroups || ebuf_empty(&eb));
		npplan_free(&c);
		if (!r && calls < n)
			break;
		if (!r)
			npsync_invalidate(s);
	}
	ok(bad == 0 && fails > 0, "failing allocations and sends: errors with a reason, plan kept");
	diag("%lu fault points", n - 1);
	is_int(apply(s, p, &st, &eb), 0, "then an apply succeeds");
	same_as_nft(p, true, "and the table is right");
}

static void test_remove(struct npsync *s)
{
	struct ebuf eb;
	char *t;

	is_int(npsync_remove(s, &eb), 0, "remove the table");
	t = run("nft list ruleset 2>&1");
	is_str(t, "", "nothing is left");
	free(t);
	is_int(npsync_remove(s, &eb), 0, "removing an absent table is fine");
}

/* ---- scale ---------------------------------------------------------------------------------- */

static struct ipaddr pod(unsigned i)
{
	struct ipaddr a = { .family = AF_INET, .a = { 10, 64 + (uint8_t)(i >> 16),
						      (uint8_t)(i >> 8), (uint8_t)i } };
	return a;
}

/* 1,000 groups of 100 elements (70 exact, 10 protocol, 10 address, 10 range), 10,000 pods. */
static struct npplan big_plan(void)
{
	static const char *const src[] = { "10.64.0.0/24", "fd00::/64" };
	struct npplan p = { .masquerade = true };
	struct npplan_elem e[100];
	char name[NPPLAN_NAMELEN];

	p.groups = mem_alloc(1000 * sizeof(*p.groups));
	for (unsigned g = 0; g < 1000; g++) {
		for (unsigned k = 0; k < 100; k++) {
			unsigned i = g * 37 + k * 101;

			e[k] = ex("0.0.0.0", 6, 80 + k % 7);
			e[k].lo = e[k].hi = pod(i);
			e[k].shape = k < 70 ? NPPLAN_EXACT : k < 80 ? NPPLAN_PROTO :
				     k < 90 ? NPPLAN_ADDR : NPPLAN_RANGE;
			if (e[k].shape == NPPLAN_RANGE)
				e[k].hi.a[3] |= 7, e[k].phi += 100;
		}
		snprintf(name, sizeof(name), "%s-%016x", g < 500 ? "eg" : "in", g);
		p.groups[p.ngroups++] = grp(name, false, e, 100);
	}
	p.disp = mem_alloc(10000 * sizeof(*p.disp));
	for (unsigned i = 0; i < 10000; i++)
		p.disp[p.ndisp++] = (struct npplan_disp){
			.addr = pod(i), .dir = i % 2 == 0, .group = i % 2 ? i % 500 : 500 + i % 500,
		};
	qsort(p.disp, p.ndisp, sizeof(*p.disp), disp_qcmp);
	set_cidrs(&p.src_cidrs, &p.nsrc, src, 2);
	set_cidrs(&p.cluster_cidrs, &p.ncluster, src, 2);
	return p;
}

static int dbl_qcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void test_scale(struct npsync *s)
{
	struct npplan p = big_plan();
	struct npsync_stats st;
	double t, ours, nft, lat[200];
	struct ebuf eb;
	size_t ne = 0;
	int r;

	for (size_t i = 0; i < p.ngroups; i++)
		ne += p.groups[i]->nelems;
	npsync_invalidate(s);
	t = now_ms();
	r = apply(s, &p, &st, &eb);
	ours = now_ms() - t;
	is_int(r, 0, "scale: one full resync of the large plan");
	free(reference(&p, "true", &nft));
	diag("scale: %zu groups, %zu elements, %zu dispatch: full resync %.0f ms (%zu msgs, "
	     "%zu KiB), nft -f %.0f ms, ratio %.2f", p.ngroups, ne, p.ndisp, ours, st.msgs,
	     st.bytes / 1024, nft, ours / nft);
	same_as_nft(&p, true, "scale: listing equals nft -f");
	for (int i = 0; i < 200; i++) {
		struct npplan_elem e = ex("10.99.0.1", 17, (unsigned)(1000 + i / 2));

		add_elem(&p, "in-00000000000003e7", e, i % 2);
		t = now_ms();
		r |= apply(s, &p, &st, &eb);
		lat[i] = now_ms() - t;
		r |= st.msgs != 3;
	}
	is_int(r, 0, "scale: 200 single-element changes, 3 messages each");
	qsort(lat, 200, sizeof(*lat), dbl_qcmp);
	diag("scale: single-element incremental apply p50 %.2f ms, p99 %.2f ms, max %.2f ms",
	     lat[100], lat[197], lat[199]);
	npplan_free(&p);
}

int main(void)
{
	struct npsync *s = NULL;
	struct npplan p;
	struct ebuf eb;

	if (unshare(CLONE_NEWNET) || (home_ns = open("/proc/self/ns/net", O_RDONLY)) < 0 ||
	    unshare(CLONE_NEWNET) || (other_ns = open("/proc/self/ns/net", O_RDONLY)) < 0) {
		printf("ok 1 - # SKIP no private network namespace (needs root)\n");
		return tap_done();
	}
	enter(home_ns);
	if (!ok(npsync_new(&s, &eb) == 0, "netfilter socket in a private namespace"))
		return tap_done();
	p = base_plan();
	test_full(s, &p);
	test_restart(&p);
	test_incremental(s, &p);
	test_share(s, &p);
	test_failure(s, &p);
	test_faults(s, &p);
	test_remove(s);
	test_random(s);
	npplan_free(&p);
	if (!getenv("NPSYNC_NO_SCALE"))
		test_scale(s);
	npsync_free(s);
	return tap_done();
}
