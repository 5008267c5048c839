// SPDX-License-Identifier: MIT
/*
 * npplan_render.c: a plan as an nft script (npplan_render() in npplan.h), for golden tests,
 * the nft baseline of the benchmark and `virgil lab`. The layout follows nft's own listing
 * (one element a line, a blank line between objects) so a render and `nft list ruleset` can
 * be read side by side. Objects come in a fixed order (maps, masquerade sets, base chains,
 * then each group's sets and chain, groups by name). nft -f sends every chain of a file
 * before any set and any rule, so the dispatch maps may name group chains declared further
 * down; the kernel keeps sets and chains in creation order and `nft list` prints all sets,
 * then all chains, in that order, so npsync must create them in this file's order for its
 * listing to read the same. Elements are listed sorted by nft itself, in any case.
 *
 * nft 1.0.6 quirks met on the way: a closing brace must be followed by a newline or ';'
 * before another closing brace ("elements = { ... } }" is a syntax error); overlapping
 * intervals in one set are refused ("conflicting intervals specified") while adjacent ones
 * are kept apart, which is why nested masquerade CIDRs are dropped here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/buf.h"
#include "../base/mem.h"
#include "npplan.h"

/* The writer: the first failure sticks, so the emitters need no error plumbing. */
struct rnd {
	struct buf *b;
	int err;
};

static void putf(struct rnd *w, const char *fmt, ...) __printf(2, 3);
static void putf(struct rnd *w, const char *fmt, ...)
{
	/* every line is short: two IPv6 addresses and a few numbers at most */
	char line[256];
	va_list ap;
	int n;

	if (w->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		w->err = -EOVERFLOW;
	else
		w->err = buf_add(w->b, line, (size_t)n);
}

static void put(struct rnd *w, const char *s)
{
	if (!w->err)
		w->err = buf_adds(w->b, s);
}

/* Open or continue an elements list; k counts the elements written so far. */
static void elem_sep(struct rnd *w, size_t *k)
{
	put(w, *k ? ",\n\t\t\t     " : "\t\telements = { ");
	(*k)++;
}

static void elems_end(struct rnd *w, size_t k)
{
	if (k)
		put(w, " }\n");
}

static void addr_text(const struct ipaddr *a, char out[IPADDR_STRLEN])
{
	if (ipaddr_format(a, out, IPADDR_STRLEN))
		snprintf(out, IPADDR_STRLEN, "?");
}

/* "lo-hi", or the single address when lo == hi. */
static void addr_range_text(const struct ipaddr *lo, const struct ipaddr *hi,
			    char out[2 * IPADDR_STRLEN])
{
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN];

	addr_text(lo, a);
	addr_text(hi, b);
	if (ipaddr_eq(lo, hi))
		snprintf(out, 2 * IPADDR_STRLEN, "%s", a);
	else
		snprintf(out, 2 * IPADDR_STRLEN, "%s-%s", a, b);
}

/* nft's names for the protocols a NetworkPolicy can name; numbers for the rest. */
static void proto_text(unsigned p, char out[8])
{
	switch (p) {
	case 6:
		snprintf(out, 8, "tcp");
		break;
	case 17:
		snprintf(out, 8, "udp");
		break;
	case 132:
		snprintf(out, 8, "sctp");
		break;
	default:
		snprintf(out, 8, "%u", p);
	}
}

static void proto_range_text(unsigned lo, unsigned hi, char out[8])
{
	if (lo == hi)
		proto_text(lo, out);
	else
		snprintf(out, 8, "%u-%u", lo, hi);
}

static void elem_line(struct rnd *w, const struct npplan_elem *e)
{
	char a[2 * IPADDR_STRLEN], pr[8];

	switch (e->shape) {
	case NPPLAN_EXACT:
		addr_text(&e->lo, a);
		proto_text(e->prlo, pr);
		putf(w, "%s . %s . %u", a, pr, e->plo);
		break;
	case NPPLAN_PROTO:
	case NPPLAN_PORTS:
		addr_text(&e->lo, a);
		proto_text(e->prlo, pr);
		putf(w, "%s . %s", a, pr);
		break;
	case NPPLAN_ADDR:
		addr_text(&e->lo, a);
		put(w, a);
		break;
	default:
		addr_range_text(&e->lo, &e->hi, a);
		proto_range_text(e->prlo, e->prhi, pr);
		if (e->plo == e->phi)
			putf(w, "%s . %s . %u", a, pr, e->plo);
		else
			putf(w, "%s . %s . %u-%u", a, pr, e->plo, e->phi);
	}
}

static const char *addr_type(int v)
{
	return v == 4 ? "ipv4_addr" : "ipv6_addr";
}

/* ---- the dispatch maps and the masquerade sets ------------------------------------------- */

static void dispatch_map(struct rnd *w, const struct npplan *p, enum npplan_dir dir, int v)
{
	int family = v == 4 ? AF_INET : AF_INET6;
	size_t i, k = 0;

	putf(w, "\tmap %s%d {\n\t\ttype %s : verdict\n", dir == NPPLAN_IN ? "ing" : "egr", v,
	     addr_type(v));
	for (i = 0; i < p->ndisp; i++) {
		const struct npplan_disp *d = &p->disp[i];
		char a[IPADDR_STRLEN];

		if (d->dir != dir || d->addr.family != family || d->group >= p->ngroups)
			continue;
		addr_text(&d->addr, a);
		elem_sep(w, &k);
		putf(w, "%s : %s %s", a, dir == NPPLAN_IN ? "goto" : "jump",
		     p->groups[d->group]->name);
	}
	elems_end(w, k);
	put(w, "\t}\n\n");
}

static int cidr_qcmp(const void *a, const void *b)
{
	const struct cidr *x = a, *y = b;
	int r = ipaddr_cmp(&x->addr, &y->addr);

	return r ? r : (x->prefix > y->prefix) - (x->prefix < y->prefix);
}

/*
 * An interval set of CIDRs. A CIDR inside another is left out: nft (and the kernel) refuse
 * overlapping intervals, and two CIDRs overlap only when one holds the other.
 */
static void cidr_set(struct rnd *w, const char *name, int v, const struct cidr *c, size_t n)
{
	int family = v == 4 ? AF_INET : AF_INET6;
	struct cidr *s = NULL;
	size_t i, m = 0, k = 0, kept = 0;

	putf(w, "\tset %s%d {\n\t\ttype %s\n\t\tflags interval\n", name, v, addr_type(v));
	if (n && !w->err && !(s = mem_alloc(n * sizeof(*s))))
		w->err = -ENOMEM;
	for (i = 0; s && i < n; i++) {
		if (c[i].addr.family != family)
			continue;
		s[m] = c[i];
		cidr_first(&c[i], &s[m++].addr);
	}
	if (m > 1)
		qsort(s, m, sizeof(*s), cidr_qcmp);
	for (i = 0; i < m; i++) {
		char t[CIDR_STRLEN];

		if (k && cidr_contains(&s[kept], &s[i].addr))
			continue;
		kept = i;
		if (cidr_format(&s[i], t, sizeof(t)))
			continue;
		elem_sep(w, &k);
		put(w, t);
	}
	mem_free(s);
	elems_end(w, k);
	put(w, "\t}\n\n");
}

/* Every local pod address of family v in a dispatch map, once, as "a . a". */
static void self_set(struct rnd *w, const struct npplan *p, int v)
{
	struct npplan_self it = npplan_self_begin(p, v == 4 ? AF_INET : AF_INET6);
	const struct ipaddr *a;
	size_t k = 0;

	putf(w, "\tset self%d {\n\t\ttype %s . %s\n", v, addr_type(v), addr_type(v));
	while ((a = npplan_self_peek(&it))) {
		char t[IPADDR_STRLEN];

		addr_text(a, t);
		elem_sep(w, &k);
		putf(w, "%s . %s", t, t);
		npplan_self_skip(&it, a);
	}
	elems_end(w, k);
	put(w, "\t}\n\n");
}

static void base_chains(struct rnd *w, const struct npplan *p)
{
	put(w, "\tchain forward {\n"
		"\t\ttype filter hook forward priority filter; policy accept;\n"
		"\t\tct state established,related accept\n"
		"\t\tip saddr . ip daddr @self4 accept\n"
		"\t\tip6 saddr . ip6 daddr @self6 accept\n"
		"\t\tip saddr vmap @egr4\n"
		"\t\tip6 saddr vmap @egr6\n"
		"\t\tip daddr vmap @ing4\n"
		"\t\tip6 daddr vmap @ing6\n"
		"\t}\n\n");
	put(w, "\tchain postrouting {\n"
		"\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
	if (p->masquerade)
		put(w, "\t\tip saddr @masq-src4 ip daddr != @cluster4 masquerade\n"
			"\t\tip6 saddr @masq-src6 ip6 daddr != @cluster6 masquerade\n");
	put(w, "\t}\n");
}

/* ---- groups ------------------------------------------------------------------------------ */

/* The nft key type of each shape's sets, after the address type, and the match of its rule,
 * after "ip saddr". */
static const struct {
	const char *type, *match;
	bool interval;
} shapes[NPPLAN_NSHAPES] = {
	[NPPLAN_EXACT] = { " . inet_proto . inet_service", " . meta l4proto . th dport" },
	[NPPLAN_PROTO] = { " . inet_proto", " . meta l4proto" },
	[NPPLAN_ADDR] = { "", "" },
	[NPPLAN_PORTS] = { " . inet_proto", " . meta l4proto" },
	[NPPLAN_RANGE] = { " . inet_proto . inet_service", " . meta l4proto . th dport", true },
};

static void group_set(struct rnd *w, const struct npplan_group *g, const struct npplan_kset *ks)
{
	const struct npplan_gset *s = &ks->s;
	size_t i, k = 0;

	putf(w, "\n\tset %s {\n\t\ttype %s%s\n", ks->name, addr_type(s->v), shapes[s->shape].type);
	if (shapes[s->shape].interval)
		put(w, "\t\tflags interval\n");
	for (i = s->a; i < s->b; i++) {
		elem_sep(w, &k);
		elem_line(w, &g->elems[i]);
	}
	elems_end(w, k);
	put(w, "\t}\n");
}

/* The chain of group i; its rules name the sets that hold its elements, its own or shared. */
static void group_chain(struct rnd *w, const struct npplan *p, const struct npplan_shares *sh,
			size_t i)
{
	const struct npplan_group *g = p->groups[i];
	const char *field = g->dir == NPPLAN_IN ? "saddr" : "daddr";
	const char *verdict = g->dir == NPPLAN_IN ? "accept" : "return";
	char ports[24];

	putf(w, "\n\tchain %s {\n", g->name);
	if (g->allow_all) {
		putf(w, "\t\t%s\n\t}\n", verdict);
		return;
	}
	for (size_t k = sh->first[i]; k < sh->first[i + 1]; k++) {
		const struct npplan_kset *ks = &sh->sets[sh->ref[k]];

		ports[0] = '\0';
		if (ks->s.shape == NPPLAN_PORTS)
			snprintf(ports, sizeof(ports), " th dport %u-%u", ks->s.plo, ks->s.phi);
		putf(w, "\t\t%s %s%s @%s%s %s\n", ks->s.v == 4 ? "ip" : "ip6", field,
		     shapes[ks->s.shape].match, ks->name, ports, verdict);
	}
	put(w, "\t\tmeta l4proto tcp reject with tcp reset\n"
		"\t\treject with icmpx admin-prohibited\n\t}\n");
}

/* The sets group i owns, then its chain. */
static void group(struct rnd *w, const struct npplan *p, const struct npplan_shares *sh, size_t i)
{
	for (size_t k = sh->first[i]; k < sh->first[i + 1]; k++)
		if (sh->sets[sh->ref[k]].g == p->groups[i])
			group_set(w, p->groups[i], &sh->sets[sh->ref[k]]);
	group_chain(w, p, sh, i);
}

int npplan_render(const struct npplan *p, struct buf *out)
{
	struct rnd w = { out, 0 };
	struct npplan_shares sh;
	size_t len = out->len, i;

	if (npplan_share(p, &sh))
		return -ENOMEM;
	putf(&w, "table inet " NPPLAN_TABLE " {\n");
	dispatch_map(&w, p, NPPLAN_IN, 4);
	dispatch_map(&w, p, NPPLAN_IN, 6);
	dispatch_map(&w, p, NPPLAN_EG, 4);
	dispatch_map(&w, p, NPPLAN_EG, 6);
	cidr_set(&w, "masq-src", 4, p->src_cidrs, p->nsrc);
	cidr_set(&w, "masq-src", 6, p->src_cidrs, p->nsrc);
	cidr_set(&w, "cluster", 4, p->cluster_cidrs, p->ncluster);
	cidr_set(&w, "cluster", 6, p->cluster_cidrs, p->ncluster);
	self_set(&w, p, 4);
	self_set(&w, p, 6);
	base_chains(&w, p);
	for (i = 0; i < p->ngroups; i++)
		group(&w, p, &sh, i);
	putf(&w, "}\n");
	npplan_shares_free(&sh);
	if (w.err && out->p) {
		out->len = len;
		out->p[len] = '\0';
	}
	return w.err;
}
