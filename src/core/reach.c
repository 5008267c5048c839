// SPDX-License-Identifier: MIT
/*
 * reach.c: rendering of a reachability matrix (grid and JSON) and the strict reader of that
 * JSON (reach.h). The reader takes files a person or another program may have edited, so it
 * checks every cell against the pod list instead of trusting positions, and lookups go through
 * a sorted index so a hostile member order cannot make it quadratic in the pods.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/mem.h"
#include "../codec/json.h"
#include "reach.h"

#define CORNER "from\\to"

static const char *proto_name(int proto)
{
	return proto == IPPROTO_TCP ? "TCP" : proto == IPPROTO_UDP ? "UDP" : NULL;
}

static int family_num(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 6 : 0;
}

static int check_ids(const struct reach *r)
{
	if (!proto_name(r->proto) || !family_num(r->family) || (r->n && (!r->ids || !r->matrix)))
		return -EINVAL;
	for (size_t i = 0; i < r->n; i++)
		if (!r->ids[i] || !r->ids[i][0])
			return -EINVAL;
	return 0;
}

/* ---- grid ------------------------------------------------------------------------------- */

static int pad(struct buf *b, size_t n)
{
	int e = 0;

	while (n-- && !e)
		e = buf_addc(b, ' ');
	return e;
}

/*
 * One line: the label in a column w wide, then one cell per pod in a column as wide as that
 * pod's id. Padding is owed, not written, until something follows it: no trailing blanks.
 */
static int grid_line(const struct reach *r, struct buf *b, const char *label, size_t w,
		     const bool *row)
{
	size_t owed = w - strlen(label) + 1;
	int e = buf_adds(b, label);

	for (size_t j = 0; j < r->n && !e; j++) {
		const char *t = row ? (row[j] ? "." : "X") : r->ids[j];

		e = pad(b, owed);
		if (!e)
			e = buf_adds(b, t);
		owed = strlen(r->ids[j]) - strlen(t) + 1;
	}
	return e ? e : buf_addc(b, '\n');
}

int reach_render_grid(const struct reach *r, struct buf *b)
{
	size_t w = strlen(CORNER);
	int e = check_ids(r);

	if (e)
		return e;
	for (size_t i = 0; i < r->n; i++)
		w = MAX(w, strlen(r->ids[i]));
	e = buf_printf(b, "%s/%u (IPv%d)\n", proto_name(r->proto), r->port,
		       family_num(r->family));
	if (!e)
		e = grid_line(r, b, CORNER, w, NULL);
	for (size_t i = 0; i < r->n && !e; i++)
		e = grid_line(r, b, r->ids[i], w, r->matrix + i * r->n);
	return e;
}

/* ---- JSON out --------------------------------------------------------------------------- */

static bool has_dup_ids(const struct reach *r)
{
	for (size_t i = 0; i < r->n; i++)
		for (size_t j = i + 1; j < r->n; j++)
			if (!strcmp(r->ids[i], r->ids[j]))
				return true;
	return false;
}

int reach_render_json(const struct reach *r, struct buf *b)
{
	struct jw w;
	int e = check_ids(r);

	if (e || has_dup_ids(r))
		return -EINVAL;
	jw_init(&w, b);
	jw_obj_begin(&w);
	jw_ku64(&w, "port", r->port);
	jw_kstr(&w, "protocol", proto_name(r->proto));
	jw_ku64(&w, "family", (uint64_t)family_num(r->family));
	jw_key(&w, "pods");
	jw_arr_begin(&w);
	for (size_t i = 0; i < r->n; i++)
		jw_str(&w, r->ids[i]);
	jw_arr_end(&w);
	jw_key(&w, "matrix");
	jw_obj_begin(&w);
	for (size_t i = 0; i < r->n; i++) {
		jw_key(&w, r->ids[i]);
		jw_obj_begin(&w);
		for (size_t j = 0; j < r->n; j++) {
			jw_key(&w, r->ids[j]);
			jw_bool(&w, reach_cell(r, i, j));
		}
		jw_obj_end(&w);
	}
	jw_obj_end(&w);
	jw_obj_end(&w);
	return jw_finish(&w);
}

/* ---- JSON in ---------------------------------------------------------------------------- */

/* A pod id in the sorted index, with its place in the pod list. */
struct ent {
	const char *id;
	size_t len;
	size_t idx;
};

/* What one parse needs besides the result: the index and the "seen in this row" marks. */
struct rd {
	struct reach *r;
	struct ent *ents;	/* n, sorted by id */
	size_t *col_seen;	/* row number + 1 where the column was last seen */
	size_t *row_seen;	/* nonzero once the row was read */
	bool *cells;
	struct ebuf *eb;
};

static int ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	int c = memcmp(x->id, y->id, MIN(x->len, y->len));

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static const struct json_limits reach_limits = {
	.max_depth = 4,
	.max_bytes = (size_t)REACH_MAX_PODS * REACH_MAX_PODS * (REACH_MAX_ID + 10),
	.max_nodes = (size_t)REACH_MAX_PODS * (REACH_MAX_PODS + 2) + 16,
};

static int get_header(const struct json *o, struct reach *r, struct ebuf *eb)
{
	const struct json *v;
	uint64_t u;

	if (json_u64(json_get(o, "port"), &u) || u < 1 || u > 65535) {
		ebuf_set(eb, "port: expected an integer 1..65535");
		return -EINVAL;
	}
	r->port = (uint16_t)u;
	v = json_get(o, "protocol");
	r->proto = !json_is(v, JSON_STRING) ? 0 : !strcmp(v->str, "TCP") ? IPPROTO_TCP :
		   !strcmp(v->str, "UDP") ? IPPROTO_UDP : 0;
	if (!r->proto || json_str_has_nul(v)) {
		ebuf_set(eb, "protocol: expected \"TCP\" or \"UDP\"");
		return -EINVAL;
	}
	if (json_u64(json_get(o, "family"), &u) || (u != 4 && u != 6)) {
		ebuf_set(eb, "family: expected 4 or 6");
		return -EINVAL;
	}
	r->family = u == 4 ? AF_INET : AF_INET6;
	return 0;
}

/* Check the pod list and count the bytes its ids need. */
static int check_pods(const struct json *pods, size_t *bytes, struct ebuf *eb)
{
	const struct json *v;
	size_t i = 0;

	if (!json_is(pods, JSON_ARRAY)) {
		ebuf_set(eb, "pods: expected an array");
		return -EINVAL;
	}
	if (pods->count > REACH_MAX_PODS) {
		ebuf_set(eb, "pods: %zu pods, at most %d", pods->count, REACH_MAX_PODS);
		return -E2BIG;
	}
	*bytes = 0;
	json_for_each(v, pods) {
		if (!json_is(v, JSON_STRING) || !v->len || json_str_has_nul(v)) {
			ebuf_set(eb, "pods[%zu]: expected a non-empty string", i);
			return -EINVAL;
		}
		if (v->len > REACH_MAX_ID) {
			ebuf_set(eb, "pods[%zu]: id longer than %d bytes", i, REACH_MAX_ID);
			return -E2BIG;
		}
		*bytes += v->len + 1;
		i++;
	}
	return 0;
}

/* One block: the id pointers, the cells, then the id text. */
static int take_pods(struct rd *d, const struct json *pods, size_t bytes)
{
	size_t n = pods->count, i = 0;
	const struct json *v;
	const char **ids;
	char *text;

	d->r->owned = mem_alloc(n * sizeof(char *) + n * n + bytes + 1);
	if (!d->r->owned)
		return -ENOMEM;
	ids = d->r->owned;
	d->cells = (bool *)(ids + n);
	text = (char *)(d->cells + n * n);
	memset(d->cells, 0, n * n);
	json_for_each(v, pods) {
		memcpy(text, v->str, v->len + 1);
		ids[i] = text;
		d->ents[i] = (struct ent){ text, v->len, i };
		text += v->len + 1;
		i++;
	}
	d->r->n = n;
	d->r->ids = ids;
	d->r->matrix = d->cells;
	qsort(d->ents, n, sizeof(*d->ents), ent_cmp);
	for (i = 1; i < n; i++)
		if (!ent_cmp(&d->ents[i - 1], &d->ents[i])) {
			ebuf_set(d->eb, "pods: \"%s\" listed twice", d->ents[i].id);
			return -EINVAL;
		}
	return 0;
}

/* The pod a member names, by its position in the list; -1 for no such pod. */
static long lookup(const struct rd *d, const struct json *m)
{
	struct ent key = { m->key, m->keylen, 0 };
	const struct ent *hit = bsearch(&key, d->ents, d->r->n, sizeof(key), ent_cmp);

	return hit ? (long)hit->idx : -1;
}

/* The member for one pod: a known pod, not seen before in its object. */
static long member(const struct rd *d, const struct json *m, size_t *seen, size_t mark,
		   const char *where)
{
	long i = lookup(d, m);

	if (i < 0) {
		ebuf_set(d->eb, "%s%s: not one of the pods", where, m->key);
		return -1;
	}
	if (seen[i] == mark) {
		ebuf_set(d->eb, "%s%s: given twice", where, m->key);
		return -1;
	}
	seen[i] = mark;
	return i;
}

static int read_row(struct rd *d, const struct json *row, size_t from)
{
	const struct json *c;
	char where[REACH_MAX_ID + 16];
	long to;

	snprintf(where, sizeof(where), "matrix.%s.", d->r->ids[from]);
	if (!json_is(row, JSON_OBJECT) || row->count != d->r->n) {
		ebuf_set(d->eb, "matrix.%s: expected an object with one member per pod",
			 d->r->ids[from]);
		return -EINVAL;
	}
	json_for_each(c, row) {
		to = member(d, c, d->col_seen, from + 1, where);
		if (to < 0)
			return -EINVAL;
		if (!json_is_bool(c)) {
			ebuf_set(d->eb, "%s%s: expected true or false", where, c->key);
			return -EINVAL;
		}
		d->cells[from * d->r->n + (size_t)to] = c->type == JSON_TRUE;
	}
	return 0;
}

static int read_matrix(struct rd *d, const struct json *mx)
{
	const struct json *row;
	long from;
	int e;

	if (!json_is(mx, JSON_OBJECT) || mx->count != d->r->n) {
		ebuf_set(d->eb, "matrix: expected an object with one member per pod");
		return -EINVAL;
	}
	json_for_each(row, mx) {
		from = member(d, row, d->row_seen, 1, "matrix.");
		if (from < 0)
			return -EINVAL;
		if ((e = read_row(d, row, (size_t)from)))
			return e;
	}
	return 0;
}

static int decode(const struct json *o, struct reach *r, struct ebuf *eb)
{
	const struct json *pods = json_get(o, "pods");
	struct rd d = { .r = r, .eb = eb };
	size_t bytes, n;
	int e;

	if ((e = get_header(o, r, eb)) || (e = check_pods(pods, &bytes, eb)))
		return e;
	n = pods->count;
	d.ents = mem_alloc(n * (sizeof(struct ent) + 2 * sizeof(size_t)) + 1);
	if (!d.ents)
		return -ENOMEM;
	d.col_seen = (size_t *)(d.ents + n);
	d.row_seen = d.col_seen + n;
	memset(d.col_seen, 0, 2 * n * sizeof(size_t));
	e = take_pods(&d, pods, bytes);
	if (!e)
		e = read_matrix(&d, json_get(o, "matrix"));
	mem_free(d.ents);
	return e;
}

int reach_parse_json(const char *p, size_t n, struct reach *out, struct ebuf *eb)
{
	const struct json *root;
	struct json_doc *doc;
	int e;

	memset(out, 0, sizeof(*out));
	e = json_parse(p, n, &reach_limits, &doc, eb);
	if (e)
		return e;
	root = json_root(doc);
	if (json_is(root, JSON_OBJECT)) {
		e = decode(root, out, eb);
	} else {
		ebuf_set(eb, "expected an object");
		e = -EINVAL;
	}
	json_doc_free(doc);
	if (e)
		reach_release(out);
	return e;
}

void reach_release(struct reach *r)
{
	if (!r)
		return;
	mem_free(r->owned);
	memset(r, 0, sizeof(*r));
}

/* ---- comparing -------------------------------------------------------------------------- */

static bool same_pods(const struct reach *a, const struct reach *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->ids[i], b->ids[i]))
			return false;
	return true;
}

bool reach_eq(const struct reach *a, const struct reach *b)
{
	return a->port == b->port && a->proto == b->proto && a->family == b->family &&
	       same_pods(a, b) && (!a->n || !memcmp(a->matrix, b->matrix, a->n * a->n));
}

int reach_diff(const struct reach *got, const struct reach *want, struct buf *b, size_t *ndiff)
{
	size_t n = got->n;
	int e = 0;

	*ndiff = 0;
	if (!same_pods(got, want))
		return -EINVAL;
	for (size_t i = 0; i < n * n && !e; i++) {
		bool g = got->matrix[i], w = want->matrix[i];

		if (g == w)
			continue;
		(*ndiff)++;
		e = buf_printf(b, "%s -> %s: want %c, got %c\n", got->ids[i / n],
			       got->ids[i % n], w ? '.' : 'X', g ? '.' : 'X');
	}
	return e;
}
