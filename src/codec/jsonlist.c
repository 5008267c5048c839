// SPDX-License-Identifier: MIT
/*
 * jsonlist.c: the incremental List scanner (see jsonlist.h). One state machine walks the bytes
 * once; a bit stack remembers which open containers are objects so commas, colons and closing
 * brackets can be checked without a DOM. Each byte belongs to one region: the envelope (copied,
 * minus whitespace), the gap between items (dropped) or an item (handed over, in place when
 * the whole item lies in one chunk). Top-level keys are copied into the envelope anyway, so
 * they are compared with "items" there, after unescaping, once the key is complete.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "../base/err.h"
#include "../base/util.h"
#include "jsonlist.h"

enum {
	JL_START,   /* before the top-level object */
	JL_VALUE,   /* a value is due (after '[', ':' or ',' in an array) */
	JL_KEY,     /* a key is due (after '{' or ',' in an object) */
	JL_COLON,   /* after a key */
	JL_AFTER,   /* after a value: ',' or a closing bracket */
	JL_STR,     /* inside a string */
	JL_SCALAR,  /* inside a number or literal */
	JL_DONE,    /* the top-level object closed */
};

enum { JL_ENV, JL_GAP, JL_ITEM };

static int fail(struct jsonlist *l, size_t i, int err, struct ebuf *eb, const char *why)
{
	ebuf_set(eb, "offset %" PRIu64 ": %s", l->off + i, why);
	return err;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_scalar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '+' || c == '-' || c == '.';
}

/*
 * Raw key text k[0..n), escapes already validated, equal to "items" once decoded? Any escape
 * other than \u of an ASCII letter decodes to a character "items" does not contain.
 */
static bool key_is_items(const char *k, size_t n)
{
	static const char want[] = "items";
	size_t i = 0, j = 0;
	unsigned cp;

	while (i < n) {
		if (k[i] != '\\') {
			cp = (unsigned char)k[i++];
		} else if (k[i + 1] == 'u') {
			cp = (unsigned)(hexval(k[i + 2]) << 12 | hexval(k[i + 3]) << 8 |
					hexval(k[i + 4]) << 4 | hexval(k[i + 5]));
			i += 6;
		} else {
			return false;
		}
		if (j >= sizeof(want) - 1 || cp != (unsigned char)want[j++])
			return false;
	}
	return j == sizeof(want) - 1;
}

static bool top_is_obj(const struct jsonlist *l)
{
	unsigned d = l->depth - 1;

	return l->stack[d / 8] & (1u << (d % 8));
}

static int env_add(struct jsonlist *l, char c, size_t i, struct ebuf *eb)
{
	int r;

	if (l->env.len >= l->max_env) {
		ebuf_set(eb, "offset %" PRIu64 ": envelope longer than %zu bytes", l->off + i,
			 l->max_env);
		return -E2BIG;
	}
	r = buf_addc(&l->env, c);
	return r ? fail(l, i, -ENOMEM, eb, "out of memory") : 0;
}

static int item_too_big(struct jsonlist *l, struct ebuf *eb)
{
	ebuf_set(eb, "offset %" PRIu64 ": item longer than %zu bytes", l->item_off, l->max_item);
	return -E2BIG;
}

/* Keep the current item's bytes p[ist..end) for when it ends in a later chunk. */
static int item_carry(struct jsonlist *l, const char *p, size_t end, struct ebuf *eb)
{
	size_t n = end - l->ist;

	if (n > l->max_item - l->ibuf.len)
		return item_too_big(l, eb);
	if (n && buf_add(&l->ibuf, p + l->ist, n))
		return fail(l, end, -ENOMEM, eb, "out of memory");
	return 0;
}

/* The current item ends before p[end]: hand it over, in place when it began in this chunk. */
static int item_emit(struct jsonlist *l, const char *p, size_t end, struct ebuf *eb)
{
	int r;

	l->region = JL_GAP;
	l->nitems++;
	if (l->ibuf.len == 0) {
		if (end - l->ist > l->max_item)
			return item_too_big(l, eb);
		return l->item(l->ctx, p + l->ist, end - l->ist);
	}
	r = item_carry(l, p, end, eb);
	if (r == 0)
		r = l->item(l->ctx, l->ibuf.p, l->ibuf.len);
	buf_reset(&l->ibuf);
	return r;
}

/* A value ended just before p[end]. */
static int value_end(struct jsonlist *l, const char *p, size_t end, struct ebuf *eb)
{
	l->state = l->depth ? JL_AFTER : JL_DONE;
	if (l->region == JL_ITEM && l->depth == l->items_depth)
		return item_emit(l, p, end, eb);
	return 0;
}

static int push(struct jsonlist *l, bool obj, size_t i, struct ebuf *eb)
{
	unsigned d = l->depth;

	if (d >= JSONLIST_MAX_DEPTH)
		return fail(l, i, -E2BIG, eb, "nesting too deep");
	if (obj)
		l->stack[d / 8] |= (unsigned char)(1u << (d % 8));
	else
		l->stack[d / 8] &= (unsigned char)~(1u << (d % 8));
	l->depth++;
	l->state = obj ? JL_KEY : JL_VALUE;
	l->empty_ok = true;
	return 0;
}

static int close_container(struct jsonlist *l, const char *p, size_t i, struct ebuf *eb)
{
	if (top_is_obj(l) != (p[i] == '}'))
		return fail(l, i, -EINVAL, eb, "mismatched closing bracket");
	l->depth--;
	if (l->region == JL_GAP && l->depth + 1 == l->items_depth)
		l->region = JL_ENV;
	return value_end(l, p, i + 1, eb);
}

/* The items member's value decides whether the array gets streamed. */
static int items_value(struct jsonlist *l, char c, size_t i, struct ebuf *eb)
{
	l->items_next = false;
	if (c == 'n') {
		l->items_null = true;
		l->null_idx = 1;
		return 0;
	}
	if (c != '[')
		return fail(l, i, -EINVAL, eb, "\"items\" is neither an array nor null");
	return 0;
}

static int value_begin(struct jsonlist *l, const char *p, size_t i, struct ebuf *eb)
{
	bool open_items = l->items_next && p[i] == '[';
	char c = p[i];
	int r;

	if (l->region == JL_GAP) {
		l->region = JL_ITEM;
		l->ist = i;
		l->item_off = l->off + i;
	}
	if (l->items_next && (r = items_value(l, c, i, eb)))
		return r;
	if (c == '{' || c == '[') {
		r = push(l, c == '{', i, eb);
		if (r == 0 && open_items) {
			l->region = JL_GAP;
			l->items_depth = l->depth;
		}
		return r;
	}
	if (c == '"') {
		l->state = JL_STR;
		l->str_key = false;
		l->esc = 0;
		return 0;
	}
	if (c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n') {
		l->state = JL_SCALAR;
		return 0;
	}
	return fail(l, i, -EINVAL, eb, "expected a value");
}

static int str_end(struct jsonlist *l, const char *p, size_t i, struct ebuf *eb)
{
	if (!l->str_key)
		return value_end(l, p, i + 1, eb);
	l->state = JL_COLON;
	/* the closing quote is already in the envelope */
	if (l->depth == 1 && !l->items_seen &&
	    key_is_items(l->env.p + l->kstart, l->env.len - 1 - l->kstart)) {
		l->items_seen = true;
		l->items_next = true;
	}
	return 0;
}

static int str_byte(struct jsonlist *l, const char *p, size_t i, struct ebuf *eb)
{
	char c = p[i];

	if (l->esc == 0) {
		if (c == '"')
			return str_end(l, p, i, eb);
		if (c == '\\')
			l->esc = 1;
		else if ((unsigned char)c < 0x20)
			return fail(l, i, -EINVAL, eb, "control character in string");
	} else if (l->esc == 1) {
		if (c == 'u')
			l->esc = 2;
		else if (c && strchr("\"\\/bfnrt", c))
			l->esc = 0;
		else
			return fail(l, i, -EINVAL, eb, "invalid escape");
	} else {
		if (hexval(c) < 0)
			return fail(l, i, -EINVAL, eb, "invalid \\u escape");
		l->esc = l->esc == 5 ? 0 : l->esc + 1;
	}
	return 0;
}

static int after_byte(struct jsonlist *l, const char *p, size_t i, struct ebuf *eb)
{
	char c = p[i];

	if (is_ws(c))
		return 0;
	if (c == '}' || c == ']')
		return close_container(l, p, i, eb);
	if (c != ',')
		return fail(l, i, -EINVAL, eb, "expected ',' or a closing bracket");
	l->state = top_is_obj(l) ? JL_KEY : JL_VALUE;
	l->empty_ok = false;
	return 0;
}

/* A number or literal goes on until a byte that cannot be part of one. */
static int scalar_byte(struct jsonlist *l, const char *p, size_t i, struct ebuf *eb)
{
	int r;

	if (is_scalar(p[i])) {
		if (l->items_null && (l->null_idx >= 4 || p[i] != "null"[l->null_idx]))
			l->null_idx = 5;
		else if (l->items_null)
			l->null_idx++;
		return 0;
	}
	if (l->items_null) {
		l->items_null = false;
		if (l->null_idx != 4)
			return fail(l, i, -EINVAL, eb, "\"items\" is neither an array nor null");
	}
	r = value_end(l, p, i, eb);
	return r ? r : after_byte(l, p, i, eb);
}

static int key_byte(struct jsonlist *l, const char *p, size_t i, struct ebuf *eb)
{
	if (p[i] == '}' && l->empty_ok)
		return close_container(l, p, i, eb);
	if (p[i] != '"')
		return fail(l, i, -EINVAL, eb, "expected an object key");
	l->state = JL_STR;
	l->str_key = true;
	l->esc = 0;
	l->kstart = l->env.len;
	return 0;
}

static int step(struct jsonlist *l, const char *p, size_t i, struct ebuf *eb)
{
	char c = p[i];

	switch (l->state) {
	case JL_STR:
		return str_byte(l, p, i, eb);
	case JL_SCALAR:
		return scalar_byte(l, p, i, eb);
	case JL_AFTER:
		return after_byte(l, p, i, eb);
	}
	if (is_ws(c))
		return 0;
	switch (l->state) {
	case JL_START:
		if (c != '{')
			return fail(l, i, -EINVAL, eb, "top level is not an object");
		return value_begin(l, p, i, eb);
	case JL_VALUE:
		if (c == ']' && l->empty_ok)
			return close_container(l, p, i, eb);
		return value_begin(l, p, i, eb);
	case JL_KEY:
		return key_byte(l, p, i, eb);
	case JL_COLON:
		if (c != ':')
			return fail(l, i, -EINVAL, eb, "expected ':'");
		l->state = JL_VALUE;
		l->empty_ok = false;
		return 0;
	default:
		return fail(l, i, -EINVAL, eb, "data after the document");
	}
}

/* Inside an item, runs of plain string bytes need no state change: skip them in bulk. */
static size_t skip_plain(const struct jsonlist *l, const char *p, size_t i, size_t n)
{
	if (l->region != JL_ITEM || l->state != JL_STR || l->esc)
		return i;
	while (i < n && p[i] != '"' && p[i] != '\\' && (unsigned char)p[i] >= 0x20)
		i++;
	return i;
}

static int scan(struct jsonlist *l, const char *p, size_t n, struct ebuf *eb)
{
	bool in_env, keep;
	size_t i;
	int r;

	for (i = skip_plain(l, p, 0, n); i < n; i = skip_plain(l, p, i + 1, n)) {
		in_env = l->region == JL_ENV;
		/* whitespace outside strings is dropped: the envelope is smaller and still JSON */
		keep = l->state == JL_STR || !is_ws(p[i]);
		if (in_env && keep && (r = env_add(l, p[i], i, eb)))
			return r;
		r = step(l, p, i, eb);
		if (r)
			return r;
		/* the closing ']' of the streamed array belongs to the envelope again */
		if (!in_env && keep && l->region == JL_ENV && (r = env_add(l, p[i], i, eb)))
			return r;
	}
	if (l->region == JL_ITEM)
		return item_carry(l, p, n, eb);
	return 0;
}

int jsonlist_init(struct jsonlist *l, size_t max_item, size_t max_envelope, jsonlist_item_fn item,
		  void *ctx)
{
	memset(l, 0, sizeof(*l));
	if (!item)
		return -EINVAL;
	l->item = item;
	l->ctx = ctx;
	l->max_item = max_item ? max_item : JSONLIST_DEFAULT_ITEM;
	l->max_env = max_envelope ? max_envelope : JSONLIST_DEFAULT_ENVELOPE;
	return 0;
}

int jsonlist_feed(struct jsonlist *l, const char *p, size_t n, struct ebuf *eb)
{
	if (l->err)
		return l->err;
	if (l->finished)
		return l->err = fail(l, 0, -EINVAL, eb, "data fed after finish");
	l->ist = 0;
	l->err = scan(l, p, n, eb);
	l->off += n;
	return l->err;
}

int jsonlist_finish(struct jsonlist *l, const char **envelope, size_t *n, struct ebuf *eb)
{
	if (!l->err && l->state != JL_DONE)
		l->err = fail(l, 0, -EINVAL, eb, "document truncated");
	l->finished = true;
	if (l->err)
		return l->err;
	*envelope = l->env.p;
	*n = l->env.len;
	return 0;
}

size_t jsonlist_count(const struct jsonlist *l)
{
	return l->nitems;
}

void jsonlist_free(struct jsonlist *l)
{
	if (!l)
		return;
	buf_free(&l->env);
	buf_free(&l->ibuf);
}
