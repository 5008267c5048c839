// SPDX-License-Identifier: MIT
/*
 * yaml_tree.c: the tree side of the YAML reader (yaml.h). It owns the nodes (allocation under
 * the node limit, appending, the wiping free), the error reports with their key path that the
 * parser and schema walkers share, and the collections: flow ([a, b], {k: v}) and block
 * mappings and sequences, nested by recursion under the depth limit, down to the scalars that
 * yaml.c scans. yaml_parse() is the entry point.
 *
 * Keys and scalars move into the tree as they are made and every failure path frees what it
 * made with the wiping free, so a half-parsed secret is cleared like a whole one.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../base/err.h"
#include "../base/mem.h"
#include "yaml.h"
#include "yaml_int.h"

/* ---- positions and error reports ------------------------------------------------------- */

static void format_path(const struct yaml_report *r, char *dst, size_t cap)
{
	size_t len = 0, i;
	const char *key;
	int k;

	dst[0] = '\0';
	for (i = 0; i < r->npath && i < ARRAY_SIZE(r->path) && len < cap; i++) {
		key = r->path[i].key;
		if (!key)
			k = snprintf(dst + len, cap - len, "[%zu]", r->path[i].idx);
		else
			k = snprintf(dst + len, cap - len, "%s%s", len ? "." : "",
				     !r->key_shown || r->key_shown(key) ? key : "?");
		if (k < 0)
			break;
		len += (size_t)k;
	}
}

void yaml_line_col(const char *p, size_t n, size_t off, size_t *line, size_t *col)
{
	size_t i, ls = 0;

	*line = 1;
	for (i = 0; i < off && i < n; i++) {
		if (p[i] == '\n') {
			++*line;
			ls = i + 1;
		}
	}
	*col = off - ls + 1;
}

int yaml_fail(struct yaml_report *r, int err, size_t off, const char *fmt, ...)
{
	char why[160], path[200], where[48] = "";
	size_t line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	format_path(r, path, sizeof(path));
	if (off != YAML_NOPOS && r->p) {
		yaml_line_col(r->p, r->n, off, &line, &col);
		snprintf(where, sizeof(where), "line %zu:%zu: ", line, col);
	}
	ebuf_set(r->eb, "%s%s%s%s", where, path, path[0] ? ": " : "", why);
	return err;
}

int yaml_nomem(struct yaml_report *r)
{
	ebuf_set(r->eb, "out of memory");
	return -ENOMEM;
}

/* Past the array the count goes on, so pops stay paired; format_path shows what fits. */
void yaml_push_key(struct yaml_report *r, const char *key)
{
	if (r->npath < ARRAY_SIZE(r->path))
		r->path[r->npath] = (struct yaml_seg){ key, 0 };
	r->npath++;
}

void yaml_push_idx(struct yaml_report *r, size_t idx)
{
	if (r->npath < ARRAY_SIZE(r->path))
		r->path[r->npath] = (struct yaml_seg){ NULL, idx };
	r->npath++;
}

void yaml_pop(struct yaml_report *r)
{
	if (r->npath)
		r->npath--;
}

/* ---- nodes ----------------------------------------------------------------------------- */

void yaml_wipe_free(void *p, size_t n)
{
	if (p) {
		explicit_bzero(p, n);
		mem_free(p);
	}
}

void yaml_free(struct yaml_node *y)
{
	struct yaml_node *next;

	for (; y; y = next) {
		next = y->next;
		yaml_free(y->child);
		yaml_wipe_free(y->s, y->n);
		yaml_wipe_free(y->key, y->key ? strlen(y->key) : 0);
		mem_free(y);
	}
}

struct yaml_node *yaml_node_new(enum yaml_type t, size_t off)
{
	struct yaml_node *y = mem_calloc(1, sizeof(*y));

	if (y) {
		y->type = t;
		y->off = off;
		y->koff = YAML_NOPOS;
	}
	return y;
}

static int new_node(struct yaml_ctx *c, enum yaml_type t, size_t off, struct yaml_node **out)
{
	if (c->nodes >= c->max_nodes)
		return yaml_fail(&c->rep, -E2BIG, off, "more than %zu values", c->max_nodes);
	*out = yaml_node_new(t, off);
	if (!*out)
		return yaml_nomem(&c->rep);
	c->nodes++;
	return 0;
}

void yaml_append(struct yaml_node *parent, struct yaml_node ***tail, struct yaml_node *v)
{
	**tail = v;
	*tail = &v->next;
	parent->count++;
}

/* Collections nest through recursion: bound it before the C stack or the path array. */
static int enter(struct yaml_ctx *c, size_t off)
{
	if (c->depth >= c->max_depth)
		return yaml_fail(&c->rep, -E2BIG, off, "nesting deeper than %u", c->max_depth);
	c->depth++;
	return 0;
}

static bool is_null_word(const char *s)
{
	return !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int make_scalar(struct yaml_ctx *c, yaml_scan_fn *scan, size_t s, long pind,
		       struct yaml_node **out, size_t *end)
{
	char *str = NULL;
	size_t len = 0;
	int r;

	r = yaml_scan_dup(c, scan, s, pind, &str, &len, end);
	if (r)
		return r;
	r = new_node(c, YAML_STR, s, out);
	if (r) {
		yaml_wipe_free(str, len);
		return r;
	}
	(*out)->s = str;
	(*out)->n = len;
	(*out)->plain = scan == yaml_scan_plain || scan == yaml_scan_flow_plain;
	if ((*out)->plain && is_null_word(str))
		(*out)->type = YAML_NULL;
	return 0;
}

static int make_key(struct yaml_ctx *c, size_t s, size_t colon, char **key)
{
	size_t e = colon, len;
	int r;

	if (ch(c, s) == '"' || ch(c, s) == '\'')
		return yaml_scan_dup(c, yaml_scan_quoted, s, -1, key, &len, &e);
	r = yaml_plain_start(c, s, false);
	if (r)
		return r;
	while (e > s && is_blank(c->p[e - 1]))
		e--;
	*key = mem_strndup(c->p + s, e - s);
	return *key ? 0 : yaml_nomem(&c->rep);
}

/* ---- flow collections ------------------------------------------------------------------ */

static int parse_flow(struct yaml_ctx *c, size_t *ip, long pind, struct yaml_node **out);

static int flow_member(struct yaml_ctx *c, size_t *ip, long pind, size_t open,
		       struct yaml_node **out)
{
	size_t i = *ip, klen = 0;
	struct yaml_node *v = NULL;
	char *key = NULL, x = ch(c, i);
	int r;

	if (x == '"' || x == '\'')
		r = yaml_scan_dup(c, yaml_scan_quoted, i, pind, &key, &klen, &i);
	else if (x == '[' || x == '{')
		r = yaml_bad(c, i, "complex mapping keys are not supported");
	else if (!(r = yaml_plain_start(c, i, true)))
		r = yaml_scan_dup(c, yaml_scan_flow_plain, i, pind, &key, &klen, &i);
	if (r)
		return r;
	yaml_push_key(&c->rep, key);
	r = yaml_flow_ws(c, &i, pind, open);
	if (!r && ch(c, i) == ':') {
		i++;
		r = yaml_flow_ws(c, &i, pind, open);
		if (!r && ch(c, i) != ',' && ch(c, i) != '}')
			r = parse_flow(c, &i, pind, &v);
	}
	if (!r && !v)
		r = new_node(c, YAML_NULL, i, &v);
	yaml_pop(&c->rep);
	if (r) {
		yaml_wipe_free(key, klen);
		return r;
	}
	v->key = key;
	v->koff = *ip;
	*ip = i;
	*out = v;
	return 0;
}

static int parse_flow_coll(struct yaml_ctx *c, size_t *ip, long pind, struct yaml_node **out)
{
	size_t open = *ip, i = open + 1;
	bool map = c->p[open] == '{';
	char close = map ? '}' : ']';
	struct yaml_node *coll = NULL, *v, **tail;
	int r;

	r = enter(c, open);
	if (r)
		return r;
	r = new_node(c, map ? YAML_MAP : YAML_SEQ, open, &coll);
	if (r)
		goto out;
	tail = &coll->child;
	for (;;) {
		r = yaml_flow_ws(c, &i, pind, open);
		if (r || ch(c, i) == close)
			break;
		if (ch(c, i) == '\0') {
			r = yaml_bad(c, open, "flow collection not closed");
			break;
		}
		if (map) {
			r = flow_member(c, &i, pind, open, &v);
		} else {
			yaml_push_idx(&c->rep, coll->count);
			r = parse_flow(c, &i, pind, &v);
			yaml_pop(&c->rep);
		}
		if (r)
			break;
		yaml_append(coll, &tail, v);
		r = yaml_flow_ws(c, &i, pind, open);
		if (r || ch(c, i) == close)
			break;
		if (ch(c, i) != ',') {
			r = ch(c, i) ? yaml_bad(c, i, "expected ',' or '%c'", close) :
				       yaml_bad(c, open, "flow collection not closed");
			break;
		}
		i++;
	}
	if (!r) {
		*ip = i + 1;
		*out = coll;
		coll = NULL;
	}
out:
	c->depth--;
	yaml_free(coll);
	return r;
}

static int parse_flow(struct yaml_ctx *c, size_t *ip, long pind, struct yaml_node **out)
{
	size_t i = *ip;
	char x = ch(c, i);
	int r;

	if (x == '[' || x == '{')
		return parse_flow_coll(c, ip, pind, out);
	if (x == '"' || x == '\'')
		return make_scalar(c, yaml_scan_quoted, i, pind, out, ip);
	r = yaml_plain_start(c, i, true);
	if (r)
		return r;
	return make_scalar(c, yaml_scan_flow_plain, i, pind, out, ip);
}

/* ---- block collections ----------------------------------------------------------------- */

static int parse_map(struct yaml_ctx *c, size_t s, size_t k, struct yaml_node **out);
static int parse_seq(struct yaml_ctx *c, size_t s, size_t k, struct yaml_node **out);

/* A scalar or flow collection starting at i on a line; continuation lines go past pind. */
static int parse_leaf(struct yaml_ctx *c, size_t i, long pind, struct yaml_node **out)
{
	char x = ch(c, i);
	bool mid_line = false;  /* quoted and flow values end inside a line */
	size_t end = i;
	int r;

	if (x == '|' || x == '>') {
		r = make_scalar(c, yaml_scan_block, i, pind, out, &end);
	} else if (x == '[' || x == '{') {
		r = parse_flow_coll(c, &end, pind, out);
		mid_line = true;
	} else if (x == '"' || x == '\'') {
		r = make_scalar(c, yaml_scan_quoted, i, pind, out, &end);
		mid_line = true;
	} else {
		r = yaml_plain_start(c, i, false);
		if (!r)
			r = make_scalar(c, yaml_scan_plain, i, pind, out, &end);
	}
	if (r || !mid_line) {
		c->pos = end;
		return r;
	}
	if (!yaml_rest_empty(c, end)) {
		yaml_free(*out);
		*out = NULL;
		return yaml_bad(c, yaml_skip_blanks(c, end), "unexpected text after the value");
	}
	c->pos = yaml_next_line(c, end);
	return 0;
}

/* Any node starting at i; collections only where allow says they may begin on this line. */
static int parse_at(struct yaml_ctx *c, size_t i, long pind, bool allow, struct yaml_node **out)
{
	size_t colon;

	if (yaml_is_seq_entry(c, i)) {
		if (!allow)
			return yaml_bad(c, i, "a sequence cannot start on the line of its key");
		return parse_seq(c, i, i - yaml_line_start(c, i), out);
	}
	if (!yaml_find_key(c, i, &colon))
		return parse_leaf(c, i, pind, out);
	if (!allow)
		return yaml_bad(c, i, "a mapping cannot start on the line of its key");
	return parse_map(c, i, i - yaml_line_start(c, i), out);
}

/*
 * The value after a key's ':' or an entry's '-' at s, in a collection indented k. On the next
 * lines it must be indented more, except that a mapping's value may be a sequence at the
 * key's own indentation: kubectl writes "clusters:\n- cluster: ...".
 */
static int parse_value(struct yaml_ctx *c, size_t s, size_t k, bool in_seq, struct yaml_node **out)
{
	struct yaml_line l;
	int r;

	if (!yaml_rest_empty(c, s))
		return parse_at(c, yaml_skip_blanks(c, s), (long)k, in_seq, out);
	c->pos = yaml_next_line(c, s);
	r = yaml_next_content(c, c->pos, &l);
	if (r < 0)
		return r;
	if (r && (l.ind > k || (!in_seq && l.ind == k && yaml_is_seq_entry(c, l.cs))))
		return parse_at(c, l.cs, (long)k, true, out);
	return new_node(c, YAML_NULL, s, out);
}

/* After an entry: 1 if the next one is at indentation k (l says where), 0 at the end. */
static int next_entry(struct yaml_ctx *c, size_t k, struct yaml_line *l)
{
	int r = yaml_next_content(c, c->pos, l);

	if (r <= 0 || l->ind < k)
		return r < 0 ? r : 0;
	if (l->ind > k)
		return yaml_bad(c, l->cs, "bad indentation");
	return 1;
}

static int parse_map(struct yaml_ctx *c, size_t s, size_t k, struct yaml_node **out)
{
	struct yaml_node *m = NULL, *v, **tail;
	struct yaml_line l;
	size_t colon;
	char *key;
	int r;

	r = enter(c, s);
	if (r)
		return r;
	r = new_node(c, YAML_MAP, s, &m);
	for (tail = m ? &m->child : NULL; !r; s = l.cs) {
		if (!yaml_find_key(c, s, &colon)) {
			r = yaml_bad(c, s, "expected 'key: value'");
			break;
		}
		r = make_key(c, s, colon, &key);
		if (r)
			break;
		yaml_push_key(&c->rep, key);
		r = parse_value(c, colon + 1, k, false, &v);
		yaml_pop(&c->rep);
		if (r) {
			yaml_wipe_free(key, strlen(key));
			break;
		}
		v->key = key;
		v->koff = s;
		yaml_append(m, &tail, v);
		r = next_entry(c, k, &l);
		if (r <= 0)
			break;
		r = 0;
	}
	if (!r) {
		*out = m;
		m = NULL;
	}
	c->depth--;
	yaml_free(m);
	return r;
}

static int parse_seq(struct yaml_ctx *c, size_t s, size_t k, struct yaml_node **out)
{
	struct yaml_node *q = NULL, *v, **tail;
	struct yaml_line l;
	int r;

	r = enter(c, s);
	if (r)
		return r;
	r = new_node(c, YAML_SEQ, s, &q);
	for (tail = q ? &q->child : NULL; !r; s = l.cs) {
		yaml_push_idx(&c->rep, q->count);
		r = parse_value(c, s + 1, k, true, &v);
		yaml_pop(&c->rep);
		if (r)
			break;
		yaml_append(q, &tail, v);
		r = next_entry(c, k, &l);
		if (r <= 0)
			break;
		/* same indentation but no '-': the parent mapping's next key */
		r = 0;
		if (!yaml_is_seq_entry(c, l.cs))
			break;
	}
	if (!r) {
		*out = q;
		q = NULL;
	}
	c->depth--;
	yaml_free(q);
	return r;
}

static int parse_doc(struct yaml_ctx *c, struct yaml_node **root)
{
	struct yaml_line l;
	int r;

	r = yaml_check_text(c);
	if (r)
		return r;
	r = yaml_next_content(c, 0, &l);
	if (r <= 0)
		return r ? r : new_node(c, YAML_NULL, 0, root);
	r = parse_at(c, l.cs, -1, true, root);
	if (r)
		return r;
	r = yaml_next_content(c, c->pos, &l);
	if (r)
		return r < 0 ? r : yaml_bad(c, l.cs, "expected the end of the document");
	return 0;
}

/* ---- API ------------------------------------------------------------------------------- */

int yaml_parse(const char *p, size_t n, const struct yaml_opts *o, struct yaml_node **root,
	       struct ebuf *eb)
{
	bool depth_ok = o->max_depth && o->max_depth <= YAML_MAX_DEPTH;
	struct yaml_ctx c = {
		.p = p,
		.n = n,
		.end = n,
		.max_depth = depth_ok ? o->max_depth : YAML_MAX_DEPTH,
		.max_nodes = o->max_nodes ? o->max_nodes : SIZE_MAX,
		.rep = { .p = p, .n = n, .key_shown = o->key_shown, .eb = eb },
	};
	int r;

	*root = NULL;
	r = parse_doc(&c, root);
	if (r) {
		/* a failure after the top-level value (trailing text) leaves a whole tree */
		yaml_free(*root);
		*root = NULL;
	}
	return r;
}
