// SPDX-License-Identifier: MIT
/*
 * nftdump.c: reading one nf_tables table back (see nftdump.h): the collector that renders
 * each object as it arrives and sorts them at the end, and the requests that fetch a table
 * over a NETLINK_NETFILTER socket. Messages are decoded in nftdump_msg.c, expressions
 * rendered in nftdump_expr.c, sets and elements in nftdump_set.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/mem.h"
#include "nftdump.h"
#include "nftdump_int.h"
#include "nlmsg.h"
#include "nlsock.h"

/* ---- the collector ------------------------------------------------------------------ */

struct item {
	char *key;      /* sort key (a name), or NULL to sort by text */
	char *text;     /* the object's lines, no final newline */
	size_t seq;     /* arrival order, breaks ties */
};

struct items {
	struct item *v;
	size_t n, cap;
};

struct dset {
	struct item it;
	char *table;
	struct nftdump_keyfmt kf, df;  /* key and map data layouts */
	bool known;     /* its NEWSET was seen */
	struct items elems;
};

struct nftdump {
	char *table;
	unsigned flags;
	struct items tables, chains, rules;
	struct dset *sets;
	size_t nsets, capsets;
	size_t seq;
	uint16_t gen;
	bool have_gen, mixed;
};

static void items_clear(struct items *v, size_t from)
{
	for (size_t i = from; i < v->n; i++) {
		mem_free(v->v[i].key);
		mem_free(v->v[i].text);
	}
	v->n = from;
}

static void items_free(struct items *v)
{
	items_clear(v, 0);
	mem_free(v->v);
	*v = (struct items){ 0 };
}

/* arr (of *cap elements of size sz, n used) with room for one more: moved, or NULL when out
 * of memory (arr is then left as it was). */
static void *grow(void *arr, size_t n, size_t *cap, size_t sz)
{
	size_t c = *cap ? *cap * 2 : 8;
	void *p;

	if (n < *cap)
		return arr;
	if (c > SIZE_MAX / sz)
		return NULL;
	p = mem_realloc(arr, c * sz);
	if (p)
		*cap = c;
	return p;
}

/* Append, taking key and text (freed on failure); key may be NULL, text may not. */
static int items_push(struct nftdump *d, struct items *v, char *key, char *text, bool keyed)
{
	struct item *p = text && (key || !keyed) ? grow(v->v, v->n, &v->cap, sizeof(*p)) : NULL;

	if (!p) {
		mem_free(key);
		mem_free(text);
		return -ENOMEM;
	}
	v->v = p;
	v->v[v->n++] = (struct item){ key, text, d->seq++ };
	return 0;
}

struct nftdump *nftdump_new(const char *table, unsigned flags)
{
	struct nftdump *d = mem_calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->flags = flags;
	if (table && !(d->table = mem_strndup(table, strlen(table)))) {
		mem_free(d);
		return NULL;
	}
	return d;
}

void nftdump_reset(struct nftdump *d)
{
	items_free(&d->tables);
	items_free(&d->chains);
	items_free(&d->rules);
	for (size_t i = 0; i < d->nsets; i++) {
		mem_free(d->sets[i].it.key);
		mem_free(d->sets[i].it.text);
		mem_free(d->sets[i].table);
		items_free(&d->sets[i].elems);
	}
	mem_free(d->sets);
	d->sets = NULL;
	d->nsets = d->capsets = 0;
	d->seq = 0;
	d->have_gen = d->mixed = false;
}

void nftdump_free(struct nftdump *d)
{
	if (!d)
		return;
	nftdump_reset(d);
	mem_free(d->table);
	mem_free(d);
}

bool nftdump_mixed(const struct nftdump *d)
{
	return d->mixed;
}

static char *dup_str(const char *s)
{
	return mem_strndup(s, strlen(s));
}

static const char *family_name(uint8_t f)
{
	switch (f) {
	case NFPROTO_INET: return "inet";
	case NFPROTO_IPV4: return "ip";
	case NFPROTO_IPV6: return "ip6";
	case NFPROTO_ARP: return "arp";
	case NFPROTO_BRIDGE: return "bridge";
	case NFPROTO_NETDEV: return "netdev";
	default: return "?";
	}
}

static void table_line(struct nftdump_out *o, const struct nftdump_msg *m)
{
	nftdump_printf(o, "table %s ", family_name(m->family));
	nftdump_name(o, m->name);
	if (m->flags)
		nftdump_printf(o, " flags 0x%x", m->flags);
	if (o->flags & NFTDUMP_VOLATILE)
		nftdump_printf(o, " handle %llu use %u", (unsigned long long)m->handle, m->use);
}

static void chain_line(struct nftdump_out *o, const struct nftdump_msg *m)
{
	static const char *const hooks[] = {
		"prerouting", "input", "forward", "output", "postrouting", "ingress",
	};
	uint32_t flags = m->flags & ~(uint32_t)NFT_CHAIN_BASE;

	nftdump_printf(o, "chain ");
	nftdump_name(o, m->name);
	if (m->has_hook) {
		if (m->hooknum < ARRAY_SIZE(hooks))
			nftdump_printf(o, " hook %s", hooks[m->hooknum]);
		else
			nftdump_printf(o, " hook %u", m->hooknum);
		nftdump_printf(o, " prio %d policy ", m->priority);
		if (m->policy == NF_ACCEPT || m->policy == NF_DROP)
			nftdump_printf(o, "%s", m->policy == NF_ACCEPT ? "accept" : "drop");
		else
			nftdump_printf(o, "%u", m->policy);
		nftdump_printf(o, " type ");
		nftdump_name(o, m->chain_type ? m->chain_type : "?");
	}
	if (m->dev) {
		nftdump_printf(o, " dev ");
		nftdump_name(o, m->dev);
	}
	if (flags)
		nftdump_printf(o, " flags 0x%x", flags);
	if (o->flags & NFTDUMP_VOLATILE)
		nftdump_printf(o, " handle %llu use %u", (unsigned long long)m->handle, m->use);
}

static void rule_text(struct nftdump_out *o, const struct nftdump_msg *m)
{
	const struct nlattr *a;
	size_t left;

	nftdump_printf(o, "rule ");
	nftdump_name(o, m->name);
	if (o->flags & NFTDUMP_VOLATILE)
		nftdump_printf(o, " handle %llu", (unsigned long long)m->handle);
	if (!m->list)
		return;
	for_each_nla(a, nla_data(m->list), nla_datalen(m->list), left) {
		nftdump_printf(o, "\n  ");
		nftdump_expr(o, a);
	}
}

static struct dset *set_new(struct nftdump *d, const struct nftdump_msg *m, char *text)
{
	char *key = dup_str(m->name), *table = dup_str(m->table);
	struct dset *s = text && key && table ? grow(d->sets, d->nsets, &d->capsets, sizeof(*s))
					       : NULL;

	if (!s) {
		mem_free(text);
		mem_free(key);
		mem_free(table);
		return NULL;
	}
	d->sets = s;
	s = &d->sets[d->nsets++];
	*s = (struct dset){ .it = { key, text, d->seq++ }, .table = table };
	return s;
}

static void set_drop_last(struct nftdump *d)
{
	struct dset *s = &d->sets[--d->nsets];

	mem_free(s->it.key);
	mem_free(s->it.text);
	mem_free(s->table);
	items_free(&s->elems);
}

static struct dset *set_find(struct nftdump *d, const struct nftdump_msg *m)
{
	for (size_t i = d->nsets; i-- > 0;) {
		if (!strcmp(d->sets[i].it.key, m->name) && !strcmp(d->sets[i].table, m->table))
			return &d->sets[i];
	}
	return NULL;
}

/* One element per line, each kept; a malformed one drops those of the message already kept. */
static int add_elems(struct nftdump *d, struct nftdump_out *o, const struct nftdump_msg *m)
{
	struct dset *s = set_find(d, m);
	bool made = !s;
	size_t from, left;
	const struct nlattr *a;
	struct buf line = BUF_INIT;
	char *p;

	if (made) {
		/* elements before their set: shown, undecoded, under its name */
		nftdump_printf(o, "set ");
		nftdump_name(o, m->name);
		if (o->err || !(s = set_new(d, m, buf_steal(o->b))))
			return o->err ? o->err : -ENOMEM;
	}
	from = s->elems.n;
	o->b = &line;
	for_each_nla(a, nla_data(m->list), nla_datalen(m->list), left) {
		buf_reset(&line);
		nftdump_elem(o, a, s->known ? &s->kf : NULL, s->known ? &s->df : NULL);
		p = o->err ? NULL : buf_steal(&line);
		if (!o->err && items_push(d, &s->elems, NULL, p, false))
			o->err = -ENOMEM;
		if (o->err)
			break;
	}
	buf_free(&line);
	if (o->err && made)
		set_drop_last(d);
	else if (o->err)
		items_clear(&s->elems, from);
	return o->err;
}

static int add_set(struct nftdump *d, struct nftdump_out *o, const struct nftdump_msg *m)
{
	struct dset *s;

	nftdump_set_line(o, m);
	if (o->err)
		return o->err;
	s = set_new(d, m, buf_steal(o->b));
	if (!s)
		return -ENOMEM;
	nftdump_keyfmt(&s->kf, m->key_type, m->key_len, m->nfields, m->fields);
	nftdump_keyfmt(&s->df, m->data_type, m->data_len, 0, NULL);
	s->known = true;
	return 0;
}

static int add_msg(struct nftdump *d, struct nftdump_out *o, const struct nftdump_msg *m)
{
	struct items *v = m->type == NFT_MSG_NEWTABLE ? &d->tables :
			  m->type == NFT_MSG_NEWCHAIN ? &d->chains : &d->rules;

	switch (m->type) {
	case NFT_MSG_NEWSET:
		return add_set(d, o, m);
	case NFT_MSG_NEWSETELEM:
		return m->list ? add_elems(d, o, m) : 0;
	case NFT_MSG_NEWTABLE:
		table_line(o, m);
		break;
	case NFT_MSG_NEWCHAIN:
		chain_line(o, m);
		break;
	default:
		rule_text(o, m);
	}
	if (o->err)
		return o->err;
	return items_push(d, v, dup_str(m->name), buf_steal(o->b), true);
}

int nftdump_add(struct nftdump *d, const struct nlmsghdr *nlh, struct ebuf *eb)
{
	struct buf text = BUF_INIT;
	struct nftdump_out o = { .b = &text, .nlh = nlh, .eb = eb, .flags = d->flags };
	struct nftdump_msg m;
	int r = nftdump_parse(nlh, &m, eb);

	if (r)
		return r == -ENOENT ? 0 : r;
	if (d->table && (m.family != NFPROTO_INET || strcmp(m.table, d->table)))
		return 0;
	if (!d->have_gen)
		d->gen = m.gen;
	d->mixed = d->mixed || (d->have_gen && d->gen != m.gen);
	d->have_gen = true;
	r = add_msg(d, &o, &m);
	buf_free(&text);
	return r;
}

/* ---- rendering ---------------------------------------------------------------------- */

static int item_cmp(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;
	int c = strcmp(a->key ? a->key : a->text, b->key ? b->key : b->text);

	return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

static int set_cmp(const void *a, const void *b)
{
	return item_cmp(&((const struct dset *)a)->it, &((const struct dset *)b)->it);
}

static void sort_items(struct items *v)
{
	if (v->n > 1)
		qsort(v->v, v->n, sizeof(*v->v), item_cmp);
}

static int put_items(struct buf *out, const struct items *v)
{
	int r = 0;

	for (size_t i = 0; i < v->n && !r; i++) {
		r = buf_adds(out, v->v[i].text);
		if (!r)
			r = buf_addc(out, '\n');
	}
	return r;
}

int nftdump_render(struct nftdump *d, struct buf *out)
{
	size_t len = out->len;
	int r;

	sort_items(&d->tables);
	sort_items(&d->chains);
	sort_items(&d->rules);
	if (d->nsets > 1)
		qsort(d->sets, d->nsets, sizeof(*d->sets), set_cmp);
	r = put_items(out, &d->tables);
	if (!r)
		r = put_items(out, &d->chains);
	for (size_t i = 0; i < d->nsets && !r; i++) {
		sort_items(&d->sets[i].elems);
		r = buf_adds(out, d->sets[i].it.text);
		r = r ? r : buf_addc(out, '\n');
		r = r ? r : put_items(out, &d->sets[i].elems);
	}
	if (!r)
		r = put_items(out, &d->rules);
	if (r) {
		out->len = len;
		if (out->p)
			out->p[len] = '\0';
	}
	return r;
}

/* ---- the kernel --------------------------------------------------------------------- */

void nftdump_put_request(struct nlb *b, int msg, const char *table, const char *set)
{
	if (!nlb_nfmsg(b, (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | msg), 0, NFPROTO_INET, 0))
		return;
	/* the table attribute is type 1 in all five: NFTA_TABLE_NAME, NFTA_CHAIN_TABLE... */
	if (table)
		nlb_put_strz(b, NFTA_TABLE_NAME, table);
	if (msg == NFT_MSG_GETSETELEM && set)
		nlb_put_strz(b, NFTA_SET_ELEM_LIST_SET, set);
}

struct io {
	struct nlsock *s;
	struct nftdump *d;
	struct ebuf *eb;
	bool intr;      /* a dump was restarted: what it fed in twice must go */
};

static int io_cb(const struct nlmsghdr *nlh, void *ctx)
{
	struct io *io = ctx;

	return nftdump_add(io->d, nlh, io->eb);
}

static void io_restart(void *ctx)
{
	((struct io *)ctx)->intr = true;
}

static int io_request(struct io *io, int msg, const char *set)
{
	/* two names of at most NFT_NAME_MAXLEN bytes and the headers */
	uint64_t buf[96];
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf));
	nftdump_put_request(&b, msg, io->d->table, set);
	if (nlb_err(&b)) {
		ebuf_set(io->eb, "nf_tables dump: a name is too long for a request");
		return nlb_err(&b);
	}
	/* a GET names one table and fails with ENOENT without it; the rest are dumps */
	if (msg == NFT_MSG_GETTABLE)
		return nlsock_talk(io->s, b.nlh, io_cb, io, io->eb);
	return nlsock_dump(io->s, b.nlh, io_cb, io_restart, io, io->eb);
}

static int io_read(struct io *io)
{
	static const int msgs[] = { NFT_MSG_GETTABLE, NFT_MSG_GETCHAIN, NFT_MSG_GETSET };
	size_t nsets;
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(msgs) && !r; i++)
		r = io_request(io, msgs[i], NULL);
	if (r == -ENOENT && !io->d->tables.n)
		ebuf_prefix(io->eb, "no such table");
	nsets = io->d->nsets;
	for (size_t i = 0; i < nsets && !r; i++)
		r = io_request(io, NFT_MSG_GETSETELEM, io->d->sets[i].it.key);
	if (!r)
		r = io_request(io, NFT_MSG_GETRULE, NULL);
	if (!r && (io->intr || nftdump_mixed(io->d)))
		r = -EAGAIN;
	return r;
}

/* The message after the last DELTABLE of buf (with the bytes from it to the end), or NULL. */
static const struct nlmsghdr *after_deltable(const void *buf, size_t len, size_t *rest)
{
	const struct nlmsghdr *nlh = buf, *from = NULL;
	size_t left = len;

	while (nlmsg_ok(nlh, left)) {
		bool del = nlh->nlmsg_type == (NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELTABLE);

		nlh = nlmsg_next(nlh, &left);
		if (del) {
			from = nlh;
			*rest = left;
		}
	}
	return from;
}

int nftdump_batch(const void *buf, size_t len, const char *table, unsigned flags,
		  struct buf *out, struct ebuf *eb)
{
	const struct nlmsghdr *nlh;
	struct nftdump *d;
	size_t left;
	int r = 0;

	ebuf_clear(eb);
	nlh = after_deltable(buf, len, &left);
	if (!nlh) {
		ebuf_set(eb, "the batch replaces no table");
		return -EINVAL;
	}
	d = nftdump_new(table, flags);
	if (!d)
		return -ENOMEM;
	for (; !r && nlmsg_ok(nlh, left); nlh = nlmsg_next(nlh, &left))
		r = nftdump_add(d, nlh, eb);
	if (!r && left) {
		ebuf_set(eb, "a truncated message at byte %zu", len - left);
		r = -EINVAL;
	}
	if (!r)
		r = nftdump_render(d, out);
	if (r == -ENOMEM)
		ebuf_setdef(eb, "out of memory");
	nftdump_free(d);
	return r;
}

int nftdump_table(struct nlsock *s, const char *table, unsigned flags, struct buf *out,
		  struct ebuf *eb)
{
	struct io io = { .s = s, .eb = eb };
	int r = 0, try = 0;

	ebuf_clear(eb);
	if (!table) {
		ebuf_set(eb, "reading a table: no name given");
		return -EINVAL;
	}
	io.d = nftdump_new(table, flags);
	for (try = 0; io.d; try++) {
		r = io_read(&io);
		if (r != -EAGAIN || try == NLSOCK_DUMP_RETRIES)
			break;
		nftdump_reset(io.d);
		io.intr = false;
	}
	if (!io.d)
		r = -ENOMEM;
	if (r == -EAGAIN)
		ebuf_set(eb, "the ruleset changed while it was read, %d times in a row", try + 1);
	if (!r)
		r = nftdump_render(io.d, out);
	if (r == -ENOMEM)
		ebuf_setdef(eb, "out of memory");
	if (r)
		ebuf_prefix(eb, "reading table inet %s", table);
	nftdump_free(io.d);
	return r;
}
