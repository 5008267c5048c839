// SPDX-License-Identifier: MIT
/*
 * jsonw.c: the streaming JSON writer (jw_*, see json.h): compact RFC 8259 text appended to a
 * struct buf, with sticky errors and a check that the calls make exactly one well-formed value.
 * Strings are escaped here; what counts as a JSON number or valid UTF-8 is decided by the same
 * helpers the parser uses (json_int.h), so the writer never emits what the parser would reject.
 */
#include <errno.h>
#include <string.h>

#include "../base/buf.h"
#include "json.h"
#include "json_int.h"

static void jw_fail(struct jw *w, int err)
{
	if (!w->err)
		w->err = err;
}

static void jw_put(struct jw *w, const char *s, size_t n)
{
	int r;

	if (w->err)
		return;
	r = buf_add(w->b, s, n);
	if (r)
		jw_fail(w, r);
}

void jw_init(struct jw *w, struct buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
	w->first[0] = true;
	if (!b)
		w->err = -EINVAL;
}

/* Check that a value may come here and write the separator before it. */
static bool jw_begin_value(struct jw *w)
{
	if (w->err)
		return false;
	if (w->depth == 0 ? !w->first[0] : w->in_obj[w->depth] && !w->want_value) {
		jw_fail(w, -EINVAL);
		return false;
	}
	if (w->depth && !w->in_obj[w->depth] && !w->first[w->depth])
		jw_put(w, ",", 1);
	w->first[w->depth] = false;
	w->want_value = false;
	return !w->err;
}

static void jw_open(struct jw *w, bool obj)
{
	if (!jw_begin_value(w))
		return;
	if (w->depth >= JW_MAX_DEPTH) {
		jw_fail(w, -EINVAL);
		return;
	}
	jw_put(w, obj ? "{" : "[", 1);
	w->depth++;
	w->in_obj[w->depth] = obj;
	w->first[w->depth] = true;
}

static void jw_close(struct jw *w, bool obj)
{
	if (w->err)
		return;
	if (w->depth == 0 || w->in_obj[w->depth] != obj || w->want_value) {
		jw_fail(w, -EINVAL);
		return;
	}
	jw_put(w, obj ? "}" : "]", 1);
	w->depth--;
}

void jw_obj_begin(struct jw *w)
{
	jw_open(w, true);
}

void jw_obj_end(struct jw *w)
{
	jw_close(w, true);
}

void jw_arr_begin(struct jw *w)
{
	jw_open(w, false);
}

void jw_arr_end(struct jw *w)
{
	jw_close(w, false);
}

/* The short forms where RFC 8259 has one, \u00XX for the other control characters. */
static void jw_escape(struct jw *w, unsigned char c)
{
	static const char from[] = "\"\\\b\f\n\r\t", to[] = "\"\\bfnrt";
	static const char hex[] = "0123456789abcdef";
	char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
	const char *hit = c ? strchr(from, c) : NULL;

	if (hit) {
		e[1] = to[hit - from];
		jw_put(w, e, 2);
	} else {
		jw_put(w, e, sizeof(e));
	}
}

/* A quoted, escaped string; runs of bytes that need no escape are copied in one piece. */
static void jw_quote(struct jw *w, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0, k;

	jw_put(w, "\"", 1);
	while (i < n && !w->err) {
		if (json_plain(u[i])) {
			i++;
		} else if (u[i] >= 0x80) {
			k = json_utf8_seq(u + i, n - i);
			if (!k)
				jw_fail(w, -EILSEQ);
			i += k;
		} else {
			jw_put(w, s + run, i - run);
			jw_escape(w, u[i]);
			run = ++i;
		}
	}
	jw_put(w, s + run, i - run);
	jw_put(w, "\"", 1);
}

static void jw_keyn(struct jw *w, const char *key, size_t n)
{
	if (w->err)
		return;
	if (!key || w->depth == 0 || !w->in_obj[w->depth] || w->want_value) {
		jw_fail(w, -EINVAL);
		return;
	}
	if (!w->first[w->depth])
		jw_put(w, ",", 1);
	jw_quote(w, key, n);
	jw_put(w, ":", 1);
	w->first[w->depth] = false;
	w->want_value = true;
}

void jw_key(struct jw *w, const char *key)
{
	jw_keyn(w, key, key ? strlen(key) : 0);
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
	if (!s && !w->err)
		jw_fail(w, -EINVAL);
	if (jw_begin_value(w))
		jw_quote(w, s, n);
}

void jw_str(struct jw *w, const char *s)
{
	jw_strn(w, s, s ? strlen(s) : 0);
}

static void jw_digits(struct jw *w, bool neg, uint64_t v)
{
	char d[21], *p = d + sizeof(d);

	if (!jw_begin_value(w))
		return;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (neg)
		*--p = '-';
	jw_put(w, p, (size_t)(d + sizeof(d) - p));
}

void jw_u64(struct jw *w, uint64_t v)
{
	jw_digits(w, false, v);
}

void jw_i64(struct jw *w, int64_t v)
{
	jw_digits(w, v < 0, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
}

void jw_bool(struct jw *w, bool v)
{
	if (jw_begin_value(w))
		jw_put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(struct jw *w)
{
	if (jw_begin_value(w))
		jw_put(w, "null", 4);
}

/* Number text is checked again: a hand-built node must not smuggle in invalid JSON. */
static void jw_number(struct jw *w, const char *s, size_t n)
{
	size_t bad;

	if (!s || !n || json_num_scan(s, n, &bad) != n) {
		jw_fail(w, -EINVAL);
		return;
	}
	if (jw_begin_value(w))
		jw_put(w, s, n);
}

/* Recursion is bounded: past JW_MAX_DEPTH jw_open fails and the loops stop at the error. */
void jw_value(struct jw *w, const struct json *v)
{
	const struct json *c;

	if (!v) {
		jw_fail(w, -EINVAL);
		return;
	}
	switch (v->type) {
	case JSON_NULL:
		jw_null(w);
		break;
	case JSON_FALSE:
	case JSON_TRUE:
		jw_bool(w, v->type == JSON_TRUE);
		break;
	case JSON_NUMBER:
		jw_number(w, v->str, v->len);
		break;
	case JSON_STRING:
		jw_strn(w, v->str, v->len);
		break;
	case JSON_ARRAY:
	case JSON_OBJECT:
		jw_open(w, v->type == JSON_OBJECT);
		json_for_each(c, v) {
			if (w->err)
				return;
			if (v->type == JSON_OBJECT)
				jw_keyn(w, c->key, c->keylen);
			jw_value(w, c);
		}
		jw_close(w, v->type == JSON_OBJECT);
		break;
	default:
		jw_fail(w, -EINVAL);
	}
}

void jw_kstr(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_str(w, s);
}

void jw_ku64(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	jw_u64(w, v);
}

int jw_finish(const struct jw *w)
{
	if (w->err)
		return w->err;
	if (w->depth || w->want_value || w->first[0])
		return -EINVAL;
	return 0;
}
