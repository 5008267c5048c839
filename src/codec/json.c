// SPDX-License-Identifier: MIT
/*
 * json.c: the JSON parser (see json.h): strict RFC 8259 input into a DOM. The getters that read
 * the finished DOM live in json_dom.c. It also owns the grammar helpers that the writer
 * (jsonw.c) shares through json_int.h, which holds the document layout as well.
 *
 * The parser runs the same code twice. The first pass validates and counts values and decoded
 * string bytes; the second fills one allocation of exactly that size. Because control flow
 * never depends on which pass is running, the validator and the builder cannot disagree, the
 * DOM has no slack and never moves, and every limit and error fires in the first pass before
 * anything big is allocated. Scanning twice is cheap next to the read that produced the input.
 * Open containers live on an explicit stack that starts inside the parser and moves to the heap
 * only for deep documents, so depth never costs C stack and usual documents cost one
 * allocation in all.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../base/err.h"
#include "../base/mem.h"
#include "json.h"
#include "json_int.h"

struct frame {
	struct json *c;    /* the open container (pass 2; a scratch node in pass 1) */
	struct json *last; /* its last child so far */
	bool obj;
};

struct parser {
	const char *p;
	size_t n, i;
	struct json_limits lim;
	struct ebuf *eb;
	struct frame *stack;  /* frames[] until a document nests deeper */
	size_t cap, depth;
	size_t nodes, bytes;  /* pass 1 counts them; pass 2 uses them as cursors */
	struct json *node_at; /* pass 2 only: where nodes go */
	char *str_at;         /* pass 2 only: where decoded strings go */
	const char *key;      /* member name waiting for its value */
	size_t keylen;
	struct json scratch;  /* pass 1 writes every node here and forgets it */
	struct frame frames[16];
};

static int fail(struct parser *ps, int err, size_t off, const char *fmt, ...) __printf(4, 5);
static int fail(struct parser *ps, int err, size_t off, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ebuf_vset(ps->eb, fmt, ap);
	va_end(ap);
	ebuf_prefix(ps->eb, "offset %zu", off);
	return err;
}

/* Name the byte at off for an error message without printing raw control or UTF-8 bytes. */
static int fail_at_byte(struct parser *ps, size_t off, const char *what)
{
	unsigned char c = (unsigned char)ps->p[off];

	if (c > 0x20 && c < 0x7f)
		return fail(ps, -EINVAL, off, "unexpected '%c', %s", c, what);
	return fail(ps, -EINVAL, off, "unexpected byte 0x%02x, %s", c, what);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static size_t digits(const char *p, size_t n, size_t i)
{
	while (i < n && is_digit(p[i]))
		i++;
	return i;
}

size_t json_num_scan(const char *p, size_t n, size_t *bad)
{
	size_t i = 0, j;

	if (i < n && p[i] == '-')
		i++;
	if (i >= n || !is_digit(p[i]))
		goto bad;
	if (p[i] == '0') {
		i++;
		if (i < n && is_digit(p[i]))
			goto bad; /* leading zero */
	} else {
		i = digits(p, n, i);
	}
	if (i < n && p[i] == '.') {
		j = digits(p, n, i + 1);
		if (j == i + 1) {
			i = j;
			goto bad;
		}
		i = j;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		j = digits(p, n, i);
		if (j == i)
			goto bad;
		i = j;
	}
	return i;
bad:
	*bad = i;
	return 0;
}

size_t json_utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t k, j;

	if (c >= 0xc2 && c <= 0xdf) {
		k = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		k = 3;
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
	} else if (c >= 0xf0 && c <= 0xf4) {
		k = 4;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
	} else {
		return 0;
	}
	if (n < k || s[1] < lo || s[1] > hi)
		return 0;
	for (j = 2; j < k; j++)
		if ((s[j] & 0xc0) != 0x80)
			return 0;
	return k;
}

static size_t utf8_put(char *out, unsigned long cp)
{
	unsigned char b[4];
	size_t k;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | cp >> 18);
		b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 4;
	}
	if (out)
		memcpy(out, b, k);
	return k;
}

/* The four hex digits of a \u escape starting at p[i], or -1; never reads past p[n-1]. */
static long hex4(const char *p, size_t n, size_t i)
{
	long v = 0;
	size_t j;
	char c;

	if (n - i < 4)
		return -1;
	for (j = i; j < i + 4; j++) {
		c = p[j];
		if (is_digit(c))
			v = v * 16 + (c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v = v * 16 + ((c | 0x20) - 'a' + 10);
		else
			return -1;
	}
	return v;
}

/* \uXXXX at p[*pi] (the backslash), or a surrogate pair as two escapes. */
static int scan_uescape(struct parser *ps, size_t *pi, char *out, size_t *k)
{
	size_t at = *pi;
	long hi = hex4(ps->p, ps->n, at + 2), lo;

	if (hi < 0)
		return fail(ps, -EINVAL, at, "\\u needs four hex digits");
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return fail(ps, -EINVAL, at, "lone low surrogate \\u%04lx", hi);
	if (hi < 0xd800 || hi > 0xdbff) {
		*pi = at + 6;
		*k = utf8_put(out, (unsigned long)hi);
		return 0;
	}
	lo = -1;
	if (ps->n - at >= 12 && ps->p[at + 6] == '\\' && ps->p[at + 7] == 'u')
		lo = hex4(ps->p, ps->n, at + 8);
	if (lo < 0xdc00 || lo > 0xdfff)
		return fail(ps, -EINVAL, at, "lone high surrogate \\u%04lx", hi);
	*pi = at + 12;
	*k = utf8_put(out, 0x10000 + (((unsigned long)hi - 0xd800) << 10) +
				   ((unsigned long)lo - 0xdc00));
	return 0;
}

/* The escape at p[*pi] (the backslash): decoded into out (if any), *k bytes. */
static int scan_escape(struct parser *ps, size_t *pi, char *out, size_t *k)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;
	size_t at = *pi;
	unsigned char c;

	if (at + 1 >= ps->n)
		return fail(ps, -EINVAL, ps->n, "unexpected end of input in string");
	c = (unsigned char)ps->p[at + 1];
	if (c == 'u')
		return scan_uescape(ps, pi, out, k);
	hit = c ? strchr(from, c) : NULL;
	if (!hit) {
		if (c > 0x20 && c < 0x7f)
			return fail(ps, -EINVAL, at, "invalid escape \\%c", c);
		return fail(ps, -EINVAL, at, "invalid escape: byte 0x%02x after \\", c);
	}
	if (out)
		*out = to[hit - from];
	*k = 1;
	*pi = at + 2;
	return 0;
}

bool json_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/*
 * Decode the string whose opening quote is at p[i] into out (NULL in pass 1), set *len to the
 * decoded length and step past the closing quote.
 */
static int scan_string(struct parser *ps, char *out, size_t *len)
{
	const unsigned char *u = (const unsigned char *)ps->p;
	size_t i = ps->i + 1, o = 0, run, k = 0;
	int r;

	for (;;) {
		run = i;
		while (i < ps->n && json_plain(u[i]))
			i++;
		if (out)
			memcpy(out + o, ps->p + run, i - run);
		o += i - run;
		if (i >= ps->n)
			return fail(ps, -EINVAL, ps->n, "unexpected end of input in string");
		if (u[i] == '"')
			break;
		if (u[i] == '\\') {
			r = scan_escape(ps, &i, out ? out + o : NULL, &k);
			if (r)
				return r;
		} else if (u[i] < 0x20) {
			return fail(ps, -EINVAL, i, "unescaped control character 0x%02x in string",
				    u[i]);
		} else {
			k = json_utf8_seq(u + i, ps->n - i);
			if (!k)
				return fail(ps, -EINVAL, i, "invalid UTF-8 byte 0x%02x", u[i]);
			if (out)
				memcpy(out + o, ps->p + i, k);
			i += k;
		}
		o += k;
	}
	ps->i = i + 1;
	*len = o;
	return 0;
}

/* Decode a string into the string area; *s is NULL in pass 1. */
static int take_string(struct parser *ps, const char **s, size_t *len)
{
	char *dst = ps->str_at ? ps->str_at + ps->bytes : NULL;
	int r = scan_string(ps, dst, len);

	if (r)
		return r;
	if (dst)
		dst[*len] = '\0';
	ps->bytes += *len + 1;
	*s = dst;
	return 0;
}

static void skip_ws(struct parser *ps)
{
	char c;

	while (ps->i < ps->n) {
		c = ps->p[ps->i];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		ps->i++;
	}
}

/* A new value at p[i], linked under the open container (pass 2). */
static int new_node(struct parser *ps, enum json_type t, struct json **out)
{
	struct frame *f = ps->depth ? &ps->stack[ps->depth - 1] : NULL;
	struct json *v = &ps->scratch;

	if (ps->nodes >= ps->lim.max_nodes)
		return fail(ps, -E2BIG, ps->i, "more than %zu values", ps->lim.max_nodes);
	if (ps->node_at) {
		v = &ps->node_at[ps->nodes];
		memset(v, 0, sizeof(*v));
		if (f) {
			if (f->last)
				f->last->next = v;
			else
				f->c->child = v;
			f->last = v;
			f->c->count++;
		}
	}
	ps->nodes++;
	v->type = t;
	if (f && f->obj) {
		v->key = ps->key;
		v->keylen = ps->keylen;
	}
	*out = v;
	return 0;
}

static int parse_key(struct parser *ps)
{
	int r;

	skip_ws(ps);
	if (ps->i >= ps->n)
		return fail(ps, -EINVAL, ps->i, "unexpected end of input, expected a member name");
	if (ps->p[ps->i] != '"')
		return fail_at_byte(ps, ps->i, "expected a member name");
	r = take_string(ps, &ps->key, &ps->keylen);
	if (r)
		return r;
	skip_ws(ps);
	if (ps->i >= ps->n)
		return fail(ps, -EINVAL, ps->i, "unexpected end of input, expected ':'");
	if (ps->p[ps->i] != ':')
		return fail_at_byte(ps, ps->i, "expected ':'");
	ps->i++;
	return 0;
}

/* Only pass 1 grows the stack: pass 2 reaches the same depth. */
static int grow_stack(struct parser *ps)
{
	size_t cap = MIN(ps->cap * 2, ps->lim.max_depth);
	struct frame *s;

	if (cap > SIZE_MAX / sizeof(*s))
		return -ENOMEM;
	if (ps->stack == ps->frames) {
		s = mem_alloc(cap * sizeof(*s));
		if (s)
			memcpy(s, ps->frames, sizeof(ps->frames));
	} else {
		s = mem_realloc(ps->stack, cap * sizeof(*s));
	}
	if (!s)
		return -ENOMEM;
	ps->stack = s;
	ps->cap = cap;
	return 0;
}

/* Returns 1: a member or element is due next; 0: the container was empty and is closed. */
static int open_container(struct parser *ps, bool obj)
{
	struct json *v;
	int r;

	if (ps->depth >= ps->lim.max_depth)
		return fail(ps, -E2BIG, ps->i, "nesting deeper than %zu", ps->lim.max_depth);
	if (ps->depth == ps->cap) {
		r = grow_stack(ps);
		if (r)
			return r;
	}
	r = new_node(ps, obj ? JSON_OBJECT : JSON_ARRAY, &v);
	if (r)
		return r;
	ps->stack[ps->depth++] = (struct frame){ .c = v, .obj = obj };
	ps->i++;
	skip_ws(ps);
	if (ps->i < ps->n && ps->p[ps->i] == (obj ? '}' : ']')) {
		ps->i++;
		ps->depth--;
		return 0;
	}
	if (obj) {
		r = parse_key(ps);
		if (r)
			return r;
	}
	return 1;
}

static int parse_literal(struct parser *ps, const char *lit, enum json_type t)
{
	size_t k = strlen(lit);
	struct json *v;
	int r;

	if (ps->n - ps->i < k || memcmp(ps->p + ps->i, lit, k))
		return fail(ps, -EINVAL, ps->i, "invalid literal, expected %s", lit);
	r = new_node(ps, t, &v);
	ps->i += k;
	return r;
}

/* Numbers keep their source text, so big and exact values pass through untouched. */
static int parse_number(struct parser *ps)
{
	size_t k, bad = 0;
	struct json *v;
	char *dst;
	int r;

	k = json_num_scan(ps->p + ps->i, ps->n - ps->i, &bad);
	if (!k)
		return fail(ps, -EINVAL, ps->i + bad, "invalid number");
	r = new_node(ps, JSON_NUMBER, &v);
	if (r)
		return r;
	dst = ps->str_at ? ps->str_at + ps->bytes : NULL;
	if (dst) {
		memcpy(dst, ps->p + ps->i, k);
		dst[k] = '\0';
	}
	v->str = dst;
	v->len = k;
	ps->bytes += k + 1;
	ps->i += k;
	return 0;
}

/* Returns 1 when it opened a container whose first member is due, 0 for a complete value. */
static int parse_value(struct parser *ps)
{
	struct json *v;
	int r;

	skip_ws(ps);
	if (ps->i >= ps->n)
		return fail(ps, -EINVAL, ps->i, "unexpected end of input, expected a value");
	switch (ps->p[ps->i]) {
	case '{':
		return open_container(ps, true);
	case '[':
		return open_container(ps, false);
	case '"':
		r = new_node(ps, JSON_STRING, &v);
		return r ? r : take_string(ps, &v->str, &v->len);
	case 't':
		return parse_literal(ps, "true", JSON_TRUE);
	case 'f':
		return parse_literal(ps, "false", JSON_FALSE);
	case 'n':
		return parse_literal(ps, "null", JSON_NULL);
	case '-':
	case '0' ... '9':
		return parse_number(ps);
	default:
		return fail_at_byte(ps, ps->i, "expected a value");
	}
}

/* After a value: close what ends here. Returns 1 when another value is due, 0 at the end. */
static int after_value(struct parser *ps)
{
	struct frame *f;
	char close;

	while (ps->depth) {
		f = &ps->stack[ps->depth - 1];
		close = f->obj ? '}' : ']';
		skip_ws(ps);
		if (ps->i >= ps->n)
			return fail(ps, -EINVAL, ps->i,
				    "unexpected end of input, expected ',' or '%c'", close);
		if (ps->p[ps->i] == ',') {
			ps->i++;
			if (f->obj)
				return parse_key(ps) ?: 1;
			return 1;
		}
		if (ps->p[ps->i] != close)
			return fail_at_byte(ps, ps->i, f->obj ? "expected ',' or '}'" :
								 "expected ',' or ']'");
		ps->i++;
		ps->depth--;
	}
	return 0;
}

static int parse_pass(struct parser *ps)
{
	int r;

	ps->i = ps->depth = ps->nodes = ps->bytes = 0;
	do {
		r = parse_value(ps);
		if (r == 0)
			r = after_value(ps);
	} while (r == 1);
	if (r)
		return r;
	skip_ws(ps);
	if (ps->i != ps->n)
		return fail_at_byte(ps, ps->i, "expected the end of input after the value");
	return 0;
}

static void limits_fill(struct json_limits *l, const struct json_limits *in)
{
	*l = in ? *in : (struct json_limits){ 0 };
	if (!l->max_depth)
		l->max_depth = JSON_DEFAULT_DEPTH;
	if (!l->max_bytes)
		l->max_bytes = JSON_DEFAULT_BYTES;
	if (!l->max_nodes)
		l->max_nodes = JSON_DEFAULT_NODES;
}

/* Pass 2 into one block sized by pass 1; it cannot fail where pass 1 succeeded. */
static int build(struct parser *ps, struct json_doc **out)
{
	struct json_doc *doc;
	size_t nodes = ps->nodes, bytes = ps->bytes;

	if (nodes > (SIZE_MAX - sizeof(*doc) - bytes) / sizeof(struct json))
		return -ENOMEM;
	doc = mem_alloc(sizeof(*doc) + nodes * sizeof(struct json) + bytes);
	if (!doc)
		return -ENOMEM;
	doc->nnodes = nodes;
	ps->node_at = doc->nodes;
	ps->str_at = (char *)(doc->nodes + nodes);
	if (parse_pass(ps) || ps->nodes != nodes || ps->bytes != bytes) {
		mem_free(doc);
		return fail(ps, -EFAULT, 0, "internal error: passes disagree");
	}
	*out = doc;
	return 0;
}

int json_parse(const char *p, size_t n, const struct json_limits *lim, struct json_doc **out,
	       struct ebuf *eb)
{
	struct parser ps = { .p = p, .n = n, .eb = eb };
	int r;

	if (!out)
		return -EINVAL;
	*out = NULL;
	limits_fill(&ps.lim, lim);
	if (n == 0)
		return fail(&ps, -EINVAL, 0, "empty input");
	if (!p)
		return fail(&ps, -EINVAL, 0, "no input buffer");
	if (n > ps.lim.max_bytes)
		return fail(&ps, -E2BIG, ps.lim.max_bytes, "input of %zu bytes is over the limit",
			    n);
	ps.stack = ps.frames;
	ps.cap = ARRAY_SIZE(ps.frames);
	r = parse_pass(&ps);
	if (!r)
		r = build(&ps, out);
	if (ps.stack != ps.frames)
		mem_free(ps.stack);
	return r;
}
