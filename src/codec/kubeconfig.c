// SPDX-License-Identifier: MIT
/*
 * kubeconfig.c: kubeconfig files (see kubeconfig.h) in two steps. First the text becomes a
 * small tree (struct ynode: null, string, mapping, sequence), from the YAML subset below or
 * from JSON through codec/json; then a table-driven walk copies the fields we know into
 * struct kubeconfig and skips the rest, so exec plugins and other extensions cost nothing.
 *
 * The YAML reader works on lines. A block collection is parsed at a known indentation and
 * ends at the first content line indented less; a value's indentation decides whether the
 * next lines belong to it. Scalars are scanned twice by the same function, once to measure
 * and once to copy, so each is one exact allocation: a secret never sits in a grown and
 * abandoned buffer. Every scalar is wiped when the tree is freed, and strings that reach the
 * result are moved there, not copied.
 *
 * YAML rules kept on purpose: tabs never indent; "key: value" needs the space; a plain value
 * may not contain ": " (a frequent sign of bad indentation); continuation lines of multi-line
 * scalars and flow collections must be indented past their parent. Dropped on purpose:
 * anchors, aliases, tags, complex keys, directives, more than one document.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/err.h"
#include "../base/mem.h"
#include "../base/util.h"
#include "b64.h"
#include "json.h"
#include "kubeconfig.h"

#define NOPOS SIZE_MAX

enum ytype { Y_NULL, Y_STR, Y_MAP, Y_SEQ };

struct ynode {
	enum ytype type;
	bool plain;             /* an unquoted scalar: only these can be booleans */
	char *s;                /* scalar text, NUL-terminated */
	size_t n;
	char *key;              /* member name when the parent is a mapping */
	size_t off, koff;       /* input offsets of the value and its key; NOPOS from JSON */
	struct ynode *child, *next;
	size_t count;
};

struct seg {
	const char *key;        /* NULL for a sequence index */
	size_t idx;
};

struct kc_ctx {
	const char *p;
	size_t n;
	size_t end;             /* n, or where a '...' document end marker sits */
	size_t pos;             /* start of the first line not consumed yet */
	bool seen;              /* content seen: a '---' now would start a second document */
	bool json;              /* the tree came from JSON: offsets mean nothing */
	unsigned depth, npath;
	size_t nodes;
	struct ebuf *eb;
	struct seg path[KUBECONFIG_MAX_DEPTH + 1];
};

struct line {
	size_t ls, ind, cs;     /* line start, indentation, first content byte */
};

struct out {
	char *p;                /* NULL: only count */
	size_t n;
};

/* ---- errors ---------------------------------------------------------------------------- */

/* Key names an error may show; any other key could be a misplaced secret and shows as "?". */
static const char *const kc_known_keys[] = {
	"apiVersion", "kind", "preferences", "clusters", "users", "contexts", "current-context",
	"extensions", "extension", "name", "cluster", "user", "context", "server",
	"certificate-authority", "certificate-authority-data", "insecure-skip-tls-verify",
	"tls-server-name", "proxy-url", "disable-compression", "client-certificate",
	"client-certificate-data", "client-key", "client-key-data", "token", "tokenFile", "exec",
	"command", "args", "env", "value", "installHint", "provideClusterInfo",
	"interactiveMode", "auth-provider", "config", "username", "password", "as", "as-uid",
	"as-groups", "as-user-extra", "namespace", "colors",
};

static bool known_key(const char *k)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kc_known_keys); i++) {
		if (strcmp(k, kc_known_keys[i]) == 0)
			return true;
	}
	return false;
}

static void format_path(const struct kc_ctx *c, char *dst, size_t cap)
{
	size_t len = 0, i;
	int k;

	dst[0] = '\0';
	for (i = 0; i < c->npath && len < cap; i++) {
		if (!c->path[i].key)
			k = snprintf(dst + len, cap - len, "[%zu]", c->path[i].idx);
		else
			k = snprintf(dst + len, cap - len, "%s%s", len ? "." : "",
				     known_key(c->path[i].key) ? c->path[i].key : "?");
		if (k < 0)
			break;
		len += (size_t)k;
	}
}

static void line_col(const char *p, size_t n, size_t off, size_t *line, size_t *col)
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

static int kc_fail(struct kc_ctx *c, int err, size_t off, const char *fmt, ...) __printf(4, 5);
static int kc_fail(struct kc_ctx *c, int err, size_t off, const char *fmt, ...)
{
	char why[160], path[200], where[48] = "";
	size_t line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	format_path(c, path, sizeof(path));
	if (off != NOPOS && !c->json) {
		line_col(c->p, c->n, off, &line, &col);
		snprintf(where, sizeof(where), "line %zu:%zu: ", line, col);
	}
	ebuf_set(c->eb, "%s%s%s%s", where, path, path[0] ? ": " : "", why);
	return err;
}

#define fail(c, off, ...) kc_fail(c, -EINVAL, off, __VA_ARGS__)

static int nomem(struct kc_ctx *c)
{
	ebuf_set(c->eb, "out of memory");
	return -ENOMEM;
}

static void push_key(struct kc_ctx *c, const char *key)
{
	c->path[c->npath++] = (struct seg){ key, 0 };
}

static void push_idx(struct kc_ctx *c, size_t idx)
{
	c->path[c->npath++] = (struct seg){ NULL, idx };
}

static void pop(struct kc_ctx *c)
{
	c->npath--;
}

/* ---- tree ------------------------------------------------------------------------------ */

static void wipe_free(void *p, size_t n)
{
	if (p) {
		explicit_bzero(p, n);
		mem_free(p);
	}
}

static void ynode_free(struct ynode *y)
{
	struct ynode *next;

	for (; y; y = next) {
		next = y->next;
		ynode_free(y->child);
		wipe_free(y->s, y->n);
		wipe_free(y->key, y->key ? strlen(y->key) : 0);
		mem_free(y);
	}
}

static int new_node(struct kc_ctx *c, enum ytype t, size_t off, struct ynode **out)
{
	struct ynode *y;

	if (c->nodes >= KUBECONFIG_MAX_NODES)
		return kc_fail(c, -E2BIG, off, "more than %u values", KUBECONFIG_MAX_NODES);
	y = mem_calloc(1, sizeof(*y));
	if (!y)
		return nomem(c);
	c->nodes++;
	y->type = t;
	y->off = off;
	y->koff = NOPOS;
	*out = y;
	return 0;
}

static void append(struct ynode *parent, struct ynode ***tail, struct ynode *v)
{
	**tail = v;
	*tail = &v->next;
	parent->count++;
}

/* Collections nest through recursion: bound it before the C stack or the path array. */
static int enter(struct kc_ctx *c, size_t off)
{
	if (c->depth >= KUBECONFIG_MAX_DEPTH)
		return kc_fail(c, -E2BIG, off, "nesting deeper than %d", KUBECONFIG_MAX_DEPTH);
	c->depth++;
	return 0;
}

/* ---- characters and lines -------------------------------------------------------------- */

/* The text has no NUL (check_text), so '\0' can stand for the end of input. */
static char ch(const struct kc_ctx *c, size_t i)
{
	return i < c->n ? c->p[i] : '\0';
}

static bool is_eol(char x)
{
	return x == '\n' || x == '\r' || x == '\0';
}

static bool is_blank(char x)
{
	return x == ' ' || x == '\t';
}

static bool is_wsend(char x)
{
	return is_blank(x) || is_eol(x);
}

static bool is_flow_ind(char x)
{
	return x && strchr(",[]{}", x);
}

static size_t skip_blanks(const struct kc_ctx *c, size_t i)
{
	while (is_blank(ch(c, i)))
		i++;
	return i;
}

static size_t line_end(const struct kc_ctx *c, size_t i)
{
	while (!is_eol(ch(c, i)))
		i++;
	return i;
}

static size_t next_line(const struct kc_ctx *c, size_t i)
{
	i = line_end(c, i);
	if (ch(c, i) == '\r')
		i++;
	if (ch(c, i) == '\n')
		i++;
	return i;
}

static size_t line_start(const struct kc_ctx *c, size_t i)
{
	while (i > 0 && c->p[i - 1] != '\n')
		i--;
	return i;
}

/* A '#' starts a comment only at the start of a line or after whitespace. */
static bool is_comment(const struct kc_ctx *c, size_t i)
{
	return ch(c, i) == '#' && (i == 0 || is_wsend(c->p[i - 1]));
}

/* Only blanks and maybe a comment from i to the end of the line. */
static bool rest_empty(const struct kc_ctx *c, size_t i)
{
	i = skip_blanks(c, i);
	return is_eol(ch(c, i)) || is_comment(c, i);
}

static bool is_marker(const struct kc_ctx *c, size_t ls)
{
	return ls + 3 <= c->n && (!memcmp(c->p + ls, "---", 3) || !memcmp(c->p + ls, "...", 3)) &&
	       is_wsend(ch(c, ls + 3));
}

static bool is_seq_entry(const struct kc_ctx *c, size_t i)
{
	return ch(c, i) == '-' && is_wsend(ch(c, i + 1));
}

/* A continuation line of a multi-line scalar or flow collection must be indented past pind. */
static bool cont_ok(const struct kc_ctx *c, size_t ls, long pind)
{
	size_t i = ls;

	while (ch(c, i) == ' ')
		i++;
	return pind < 0 ? !is_marker(c, ls) : (long)(i - ls) > pind;
}

static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t k, i;
	uint32_t cp;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	k = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	if (n < k)
		return 0;
	cp = s[0] & (0x7fu >> k);
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k;
}

/* YAML text is printable Unicode: no NUL or other control bytes, valid UTF-8, CR only in CRLF. */
static int check_text(struct kc_ctx *c)
{
	const unsigned char *u = (const unsigned char *)c->p;
	size_t i = 0, k;

	while (i < c->n) {
		if (u[i] >= 0x80) {
			k = utf8_len(u + i, c->n - i);
			if (!k)
				return fail(c, i, "invalid UTF-8");
			i += k;
			continue;
		}
		if (u[i] == '\r' && (i + 1 >= c->n || u[i + 1] != '\n'))
			return fail(c, i, "carriage return without a line feed");
		if ((u[i] < 0x20 && u[i] != '\t' && u[i] != '\n' && u[i] != '\r') || u[i] == 0x7f)
			return fail(c, i, "control character 0x%02x", u[i]);
		i++;
	}
	return 0;
}

/* '---' before any content is skipped; '...' ends the document (returns 0, like EOF). */
static int marker(struct kc_ctx *c, size_t ls)
{
	size_t i;

	if (!rest_empty(c, ls + 3))
		return fail(c, ls + 4, "content on a document marker line is not supported");
	if (c->p[ls] == '-') {
		if (c->seen)
			return fail(c, ls, "a second document ('---') is not supported");
		return 1;
	}
	c->end = ls;
	for (i = next_line(c, ls); i < c->n; i = next_line(c, i)) {
		if (!rest_empty(c, i))
			return fail(c, skip_blanks(c, i), "content after the document end marker");
	}
	return 0;
}

/* The next line at or after from holding more than blanks and comments: 1, 0 (EOF), -errno. */
static int next_content(struct kc_ctx *c, size_t from, struct line *l)
{
	size_t ls, i, j;
	int r;

	for (ls = from; ls < c->end; ls = next_line(c, ls)) {
		for (i = ls; ch(c, i) == ' '; i++)
			;
		j = skip_blanks(c, i);
		if (is_eol(ch(c, j)) || ch(c, j) == '#')
			continue;
		if (j != i)
			return fail(c, i, "tab in indentation (YAML indents with spaces only)");
		if (i == ls && is_marker(c, ls)) {
			r = marker(c, ls);
			if (r <= 0)
				return r;
			continue;
		}
		/* nested collections ending here look again: skip the blank lines once */
		c->seen = true;
		c->pos = ls;
		*l = (struct line){ ls, i - ls, i };
		return 1;
	}
	c->pos = ls;
	return 0;
}

/* ---- scalars --------------------------------------------------------------------------- */

static void put(struct out *o, const char *s, size_t k)
{
	if (o->p && k)
		memcpy(o->p + o->n, s, k);
	o->n += k;
}

static void put_nl(struct out *o, size_t k)
{
	while (k--)
		put(o, "\n", 1);
}

static void put_utf8(struct out *o, uint32_t cp)
{
	char b[4];
	size_t k = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4, i;

	b[0] = (char)(k == 1 ? cp : (0xf00u >> k & 0xff) | cp >> (6 * (k - 1)));
	for (i = 1; i < k; i++)
		b[i] = (char)(0x80 | ((cp >> (6 * (k - 1 - i))) & 0x3f));
	put(o, b, k);
}

/* A line break inside a quoted scalar: one break folds to a space, n empty lines to n '\n'. */
static int fold(struct kc_ctx *c, size_t *ip, long pind, size_t open, struct out *o)
{
	size_t i = *ip, breaks = 0, ls, j;

	for (;;) {
		ls = next_line(c, i);
		j = skip_blanks(c, ls);
		if (ls >= c->n || !is_eol(ch(c, j)))
			break;
		breaks++;
		i = j;
	}
	if (ls < c->n && !cont_ok(c, ls, pind))
		return fail(c, open, "quoted string not closed before a less indented line");
	if (breaks)
		put_nl(o, breaks);
	else
		put(o, " ", 1);
	*ip = ls < c->n ? j : c->n;
	return 0;
}

static int escape(struct kc_ctx *c, size_t *ip, long pind, size_t open, struct out *o)
{
	static const char names[] = "abtnvfre \"/\\\t";
	static const char values[] = "\a\b\t\n\v\f\r\x1b \"/\\\t";
	size_t i = *ip + 1, k = 0, d, ls;
	const char *hit;
	uint32_t cp = 0;
	char x = ch(c, i);
	int v;

	if (x == '\r' || x == '\n') {
		/* an escaped line break joins the lines without a space */
		ls = next_line(c, i);
		if (!cont_ok(c, ls, pind) && !rest_empty(c, ls))
			return fail(c, open, "quoted string not closed before a less indented line");
		*ip = skip_blanks(c, ls);
		return 0;
	}
	hit = x ? strchr(names, x) : NULL;
	if (hit) {
		put(o, &values[hit - names], 1);
		*ip = i + 1;
		return 0;
	}
	switch (x) {
	case 'N': cp = 0x85; break;
	case '_': cp = 0xa0; break;
	case 'L': cp = 0x2028; break;
	case 'P': cp = 0x2029; break;
	case 'x': k = 2; break;
	case 'u': k = 4; break;
	case 'U': k = 8; break;
	default: return fail(c, *ip, "invalid escape in a double-quoted string");
	}
	for (d = 0; d < k; d++) {
		v = hexval(ch(c, i + 1 + d));
		if (v < 0)
			return fail(c, *ip, "invalid escape in a double-quoted string");
		cp = cp << 4 | (uint32_t)v;
	}
	/* NUL would silently cut the C string a caller gets */
	if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return fail(c, *ip, "escape for a character that is not allowed");
	put_utf8(o, cp);
	*ip = i + 1 + k;
	return 0;
}

typedef int scan_fn(struct kc_ctx *c, size_t s, long pind, struct out *o, size_t *end);

/* Single- or double-quoted, from the opening quote at s; *end is past the closing one. */
static int scan_quoted(struct kc_ctx *c, size_t s, long pind, struct out *o, size_t *end)
{
	char q = c->p[s], x;
	size_t i = s + 1, bl = 0, nbl = 0;
	int r;

	for (;;) {
		x = ch(c, i);
		if (x == '\0')
			return fail(c, s, "quoted string not closed");
		if (x == q && !(q == '\'' && ch(c, i + 1) == '\''))
			break;
		if (is_blank(x)) {
			/* held back: blanks before a line break are dropped */
			bl = nbl++ ? bl : i;
			i++;
			continue;
		}
		if (x == '\r' || x == '\n') {
			nbl = 0;
			r = fold(c, &i, pind, s, o);
			if (r)
				return r;
			continue;
		}
		put(o, c->p + bl, nbl);
		nbl = 0;
		if (q == '"' && x == '\\') {
			r = escape(c, &i, pind, s, o);
			if (r)
				return r;
			continue;
		}
		put(o, c->p + i, 1);
		i += x == '\'' ? 2 : 1;
	}
	put(o, c->p + bl, nbl);
	*end = i + 1;
	return 0;
}

/* Plain scalar in block context: this line, then more-indented lines folded into it. */
static int scan_plain(struct kc_ctx *c, size_t s, long pind, struct out *o, size_t *end)
{
	size_t i = s, e, ls, j, breaks;
	char x;

	for (;;) {
		for (e = i; !is_eol(x = ch(c, e)); e++) {
			if (x == ':' && is_wsend(ch(c, e + 1)))
				return fail(c, e, "': ' inside a plain value (bad indentation, or quote it)");
			if (is_comment(c, e))
				break;
		}
		while (e > i && is_blank(c->p[e - 1]))
			e--;
		put(o, c->p + i, e - i);
		if (!is_eol(x))
			break;
		breaks = 0;
		for (ls = next_line(c, e); ls < c->end; ls = next_line(c, ls), breaks++) {
			if (!is_eol(ch(c, skip_blanks(c, ls))))
				break;
		}
		j = skip_blanks(c, ls);
		if (ls >= c->end || ch(c, j) == '#' || !cont_ok(c, ls, pind))
			break;
		if (breaks)
			put_nl(o, breaks);
		else
			put(o, " ", 1);
		i = j;
	}
	*end = next_line(c, e);
	return 0;
}

/* Plain scalar inside a flow collection: one line, up to an indicator; *end stays on it. */
static int scan_flow_plain(struct kc_ctx *c, size_t s, long pind, struct out *o, size_t *end)
{
	size_t e;
	char x;

	for (e = s; !is_eol(x = ch(c, e)); e++) {
		if (is_flow_ind(x) || is_comment(c, e))
			break;
		if (x == ':' && (is_wsend(ch(c, e + 1)) || is_flow_ind(ch(c, e + 1))))
			break;
	}
	*end = e;
	while (e > s && is_blank(c->p[e - 1]))
		e--;
	put(o, c->p + s, e - s);
	return 0;
}

/* Literal (|) or folded (>) block scalar from its header at s; *end is the first line after. */
static int scan_block(struct kc_ctx *c, size_t s, long pind, struct out *o, size_t *end)
{
	bool folded = c->p[s] == '>', more, prev_more = false;
	size_t i = s + 1, ind = 0, base = pind < 0 ? 0 : (size_t)pind, nl = 0, lines = 0, ls, j, e;
	char chomp = 0, x;

	for (j = 0; j < 2; j++, i++) {
		x = ch(c, i);
		if ((x == '-' || x == '+') && !chomp)
			chomp = x;
		else if (x >= '1' && x <= '9' && !ind)
			ind = base + (size_t)(x - '0');
		else
			break;
	}
	if (!rest_empty(c, i))
		return fail(c, i, "invalid block scalar header");
	if (!ind) {
		/* from the first line that is not all blanks ("  # x" is text here) */
		for (ls = next_line(c, i); ls < c->n && is_eol(ch(c, skip_blanks(c, ls))); )
			ls = next_line(c, ls);
		for (j = ls; ch(c, j) == ' '; j++)
			;
		ind = (long)(j - ls) > pind ? j - ls : (size_t)(pind + 1);
	}
	for (ls = next_line(c, i); ls < c->n; ls = next_line(c, ls)) {
		for (j = ls; ch(c, j) == ' ' && j - ls < ind; j++)
			;
		if (is_eol(ch(c, j))) {
			nl++;
			continue;
		}
		if (j - ls < ind)
			break;
		e = line_end(c, j);
		more = is_blank(ch(c, j));
		if (!lines)
			put_nl(o, nl);
		else if (!folded || more || prev_more)
			put_nl(o, nl + 1);
		else if (nl)
			put_nl(o, nl);
		else
			put(o, " ", 1);
		put(o, c->p + j, e - j);
		lines++;
		nl = 0;
		prev_more = more;
	}
	if (chomp != '-' && lines)
		put_nl(o, 1);
	if (chomp == '+')
		put_nl(o, nl);
	*end = ls;
	return 0;
}

/* Run scan twice: measure, then fill one exact allocation. */
static int scan_dup(struct kc_ctx *c, scan_fn *scan, size_t s, long pind, char **str, size_t *len,
		    size_t *end)
{
	struct out o = { NULL, 0 };
	int r;

	r = scan(c, s, pind, &o, end);
	if (r)
		return r;
	*str = mem_alloc(o.n + 1);
	if (!*str)
		return nomem(c);
	*len = o.n;
	o = (struct out){ *str, 0 };
	(void)scan(c, s, pind, &o, end);
	(*str)[*len] = '\0';
	return 0;
}

static bool is_null_word(const char *s)
{
	return !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int make_scalar(struct kc_ctx *c, scan_fn *scan, size_t s, long pind, struct ynode **out,
		       size_t *end)
{
	char *str = NULL;
	size_t len = 0;
	int r;

	r = scan_dup(c, scan, s, pind, &str, &len, end);
	if (r)
		return r;
	r = new_node(c, Y_STR, s, out);
	if (r) {
		wipe_free(str, len);
		return r;
	}
	(*out)->s = str;
	(*out)->n = len;
	(*out)->plain = scan == scan_plain || scan == scan_flow_plain;
	if ((*out)->plain && is_null_word(str))
		(*out)->type = Y_NULL;
	return 0;
}

static int plain_start(struct kc_ctx *c, size_t i, bool flow)
{
	char x = ch(c, i), y = ch(c, i + 1);

	if (is_eol(x))
		return fail(c, i, "expected a value");
	if (x == '&' || x == '*' || x == '!')
		return fail(c, i, "anchors, aliases and tags are not supported");
	if ((x == '-' || x == '?' || x == ':') && !is_wsend(y) && !(flow && is_flow_ind(y)))
		return 0;
	if (strchr("-?:,[]{}#|>'\"%@`", x))
		return fail(c, i, "unexpected '%c'", x);
	return 0;
}

/* ---- flow collections ------------------------------------------------------------------ */

static int parse_flow(struct kc_ctx *c, size_t *ip, long pind, struct ynode **out);

static int flow_ws(struct kc_ctx *c, size_t *ip, long pind, size_t open)
{
	size_t i = *ip, ls, j;
	char x;

	for (;;) {
		x = ch(c, i);
		if (is_blank(x)) {
			i++;
		} else if (is_comment(c, i)) {
			i = line_end(c, i);
		} else if (x == '\r' || x == '\n') {
			ls = next_line(c, i);
			j = skip_blanks(c, ls);
			/* a closing bracket may come back to the parent's indentation */
			if (!rest_empty(c, j) && ch(c, j) != ']' && ch(c, j) != '}' &&
			    !cont_ok(c, ls, pind))
				return fail(c, open, "flow collection not closed");
			i = ls;
		} else {
			break;
		}
	}
	*ip = i;
	return 0;
}

static int flow_member(struct kc_ctx *c, size_t *ip, long pind, size_t open, struct ynode **out)
{
	size_t i = *ip, klen = 0;
	struct ynode *v = NULL;
	char *key = NULL, x = ch(c, i);
	int r;

	if (x == '"' || x == '\'')
		r = scan_dup(c, scan_quoted, i, pind, &key, &klen, &i);
	else if (x == '[' || x == '{')
		r = fail(c, i, "complex mapping keys are not supported");
	else if (!(r = plain_start(c, i, true)))
		r = scan_dup(c, scan_flow_plain, i, pind, &key, &klen, &i);
	if (r)
		return r;
	push_key(c, key);
	r = flow_ws(c, &i, pind, open);
	if (!r && ch(c, i) == ':') {
		i++;
		r = flow_ws(c, &i, pind, open);
		if (!r && ch(c, i) != ',' && ch(c, i) != '}')
			r = parse_flow(c, &i, pind, &v);
	}
	if (!r && !v)
		r = new_node(c, Y_NULL, i, &v);
	pop(c);
	if (r) {
		wipe_free(key, klen);
		return r;
	}
	v->key = key;
	v->koff = *ip;
	*ip = i;
	*out = v;
	return 0;
}

static int parse_flow_coll(struct kc_ctx *c, size_t *ip, long pind, struct ynode **out)
{
	size_t open = *ip, i = open + 1;
	bool map = c->p[open] == '{';
	char close = map ? '}' : ']';
	struct ynode *coll = NULL, *v, **tail;
	int r;

	r = enter(c, open);
	if (r)
		return r;
	r = new_node(c, map ? Y_MAP : Y_SEQ, open, &coll);
	if (r)
		goto out;
	tail = &coll->child;
	for (;;) {
		r = flow_ws(c, &i, pind, open);
		if (r || ch(c, i) == close)
			break;
		if (ch(c, i) == '\0') {
			r = fail(c, open, "flow collection not closed");
			break;
		}
		if (map) {
			r = flow_member(c, &i, pind, open, &v);
		} else {
			push_idx(c, coll->count);
			r = parse_flow(c, &i, pind, &v);
			pop(c);
		}
		if (r)
			break;
		append(coll, &tail, v);
		r = flow_ws(c, &i, pind, open);
		if (r || ch(c, i) == close)
			break;
		if (ch(c, i) != ',') {
			r = ch(c, i) ? fail(c, i, "expected ',' or '%c'", close) :
				       fail(c, open, "flow collection not closed");
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
	ynode_free(coll);
	return r;
}

static int parse_flow(struct kc_ctx *c, size_t *ip, long pind, struct ynode **out)
{
	size_t i = *ip;
	char x = ch(c, i);
	int r;

	if (x == '[' || x == '{')
		return parse_flow_coll(c, ip, pind, out);
	if (x == '"' || x == '\'')
		return make_scalar(c, scan_quoted, i, pind, out, ip);
	r = plain_start(c, i, true);
	if (r)
		return r;
	return make_scalar(c, scan_flow_plain, i, pind, out, ip);
}

/* ---- block collections ----------------------------------------------------------------- */

static int parse_map(struct kc_ctx *c, size_t s, size_t k, struct ynode **out);
static int parse_seq(struct kc_ctx *c, size_t s, size_t k, struct ynode **out);

/* Is there an implicit key ("key:" then a blank or the end of the line) at s? */
static bool find_key(struct kc_ctx *c, size_t s, size_t *colon)
{
	char q = ch(c, s);
	size_t i;

	if (q == '[' || q == '{')
		return false;
	if (q == '"' || q == '\'') {
		/* implicit keys are one line: a quote that runs past it is a value */
		for (i = s + 1; ch(c, i) != q || (q == '\'' && ch(c, i + 1) == q); i++) {
			if (is_eol(ch(c, i)))
				return false;
			if (ch(c, i) == (q == '"' ? '\\' : q) && !is_eol(ch(c, i + 1)))
				i++;
		}
		i = skip_blanks(c, i + 1);
	} else {
		for (i = s; !is_eol(ch(c, i)) && !is_comment(c, i); i++) {
			if (ch(c, i) == ':' && is_wsend(ch(c, i + 1)))
				break;
		}
	}
	if (ch(c, i) != ':' || !is_wsend(ch(c, i + 1)))
		return false;
	*colon = i;
	return true;
}

static int make_key(struct kc_ctx *c, size_t s, size_t colon, char **key)
{
	size_t e = colon, len;
	int r;

	if (ch(c, s) == '"' || ch(c, s) == '\'')
		return scan_dup(c, scan_quoted, s, -1, key, &len, &e);
	r = plain_start(c, s, false);
	if (r)
		return r;
	while (e > s && is_blank(c->p[e - 1]))
		e--;
	*key = mem_strndup(c->p + s, e - s);
	return *key ? 0 : nomem(c);
}

/* A scalar or flow collection starting at i on a line; continuation lines go past pind. */
static int parse_leaf(struct kc_ctx *c, size_t i, long pind, struct ynode **out)
{
	char x = ch(c, i);
	bool mid_line = false;  /* quoted and flow values end inside a line */
	size_t end = i;
	int r;

	if (x == '|' || x == '>') {
		r = make_scalar(c, scan_block, i, pind, out, &end);
	} else if (x == '[' || x == '{') {
		r = parse_flow_coll(c, &end, pind, out);
		mid_line = true;
	} else if (x == '"' || x == '\'') {
		r = make_scalar(c, scan_quoted, i, pind, out, &end);
		mid_line = true;
	} else {
		r = plain_start(c, i, false);
		if (!r)
			r = make_scalar(c, scan_plain, i, pind, out, &end);
	}
	if (r || !mid_line) {
		c->pos = end;
		return r;
	}
	if (!rest_empty(c, end)) {
		ynode_free(*out);
		*out = NULL;
		return fail(c, skip_blanks(c, end), "unexpected text after the value");
	}
	c->pos = next_line(c, end);
	return 0;
}

/* Any node starting at i; collections only where allow says they may begin on this line. */
static int parse_at(struct kc_ctx *c, size_t i, long pind, bool allow, struct ynode **out)
{
	size_t colon;

	if (is_seq_entry(c, i)) {
		if (!allow)
			return fail(c, i, "a sequence cannot start on the line of its key");
		return parse_seq(c, i, i - line_start(c, i), out);
	}
	if (!find_key(c, i, &colon))
		return parse_leaf(c, i, pind, out);
	if (!allow)
		return fail(c, i, "a mapping cannot start on the line of its key");
	return parse_map(c, i, i - line_start(c, i), out);
}

/*
 * The value after a key's ':' or an entry's '-' at s, in a collection indented k. On the next
 * lines it must be indented more, except that a mapping's value may be a sequence at the
 * key's own indentation: kubectl writes "clusters:\n- cluster: ...".
 */
static int parse_value(struct kc_ctx *c, size_t s, size_t k, bool in_seq, struct ynode **out)
{
	struct line l;
	int r;

	if (!rest_empty(c, s))
		return parse_at(c, skip_blanks(c, s), (long)k, in_seq, out);
	c->pos = next_line(c, s);
	r = next_content(c, c->pos, &l);
	if (r < 0)
		return r;
	if (r && (l.ind > k || (!in_seq && l.ind == k && is_seq_entry(c, l.cs))))
		return parse_at(c, l.cs, (long)k, true, out);
	return new_node(c, Y_NULL, s, out);
}

/* After an entry: 1 if the next one is at indentation k (l says where), 0 at the end. */
static int next_entry(struct kc_ctx *c, size_t k, struct line *l)
{
	int r = next_content(c, c->pos, l);

	if (r <= 0 || l->ind < k)
		return r < 0 ? r : 0;
	if (l->ind > k)
		return fail(c, l->cs, "bad indentation");
	return 1;
}

static int parse_map(struct kc_ctx *c, size_t s, size_t k, struct ynode **out)
{
	struct ynode *m = NULL, *v, **tail;
	struct line l;
	size_t colon;
	char *key;
	int r;

	r = enter(c, s);
	if (r)
		return r;
	r = new_node(c, Y_MAP, s, &m);
	for (tail = m ? &m->child : NULL; !r; s = l.cs) {
		if (!find_key(c, s, &colon)) {
			r = fail(c, s, "expected 'key: value'");
			break;
		}
		r = make_key(c, s, colon, &key);
		if (r)
			break;
		push_key(c, key);
		r = parse_value(c, colon + 1, k, false, &v);
		pop(c);
		if (r) {
			wipe_free(key, strlen(key));
			break;
		}
		v->key = key;
		v->koff = s;
		append(m, &tail, v);
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
	ynode_free(m);
	return r;
}

static int parse_seq(struct kc_ctx *c, size_t s, size_t k, struct ynode **out)
{
	struct ynode *q = NULL, *v, **tail;
	struct line l;
	int r;

	r = enter(c, s);
	if (r)
		return r;
	r = new_node(c, Y_SEQ, s, &q);
	for (tail = q ? &q->child : NULL; !r; s = l.cs) {
		push_idx(c, q->count);
		r = parse_value(c, s + 1, k, true, &v);
		pop(c);
		if (r)
			break;
		append(q, &tail, v);
		r = next_entry(c, k, &l);
		if (r <= 0)
			break;
		/* same indentation but no '-': the parent mapping's next key */
		r = 0;
		if (!is_seq_entry(c, l.cs))
			break;
	}
	if (!r) {
		*out = q;
		q = NULL;
	}
	c->depth--;
	ynode_free(q);
	return r;
}

static int parse_yaml(struct kc_ctx *c, struct ynode **root)
{
	struct line l;
	int r;

	r = check_text(c);
	if (r)
		return r;
	r = next_content(c, 0, &l);
	if (r <= 0)
		return r ? r : new_node(c, Y_NULL, 0, root);
	r = parse_at(c, l.cs, -1, true, root);
	if (r)
		return r;
	r = next_content(c, c->pos, &l);
	if (r)
		return r < 0 ? r : fail(c, l.cs, "expected the end of the document");
	return 0;
}

/* ---- JSON ------------------------------------------------------------------------------ */

static int json_scalar(struct kc_ctx *c, const struct json *j, struct ynode **out)
{
	const char *s = j->type == JSON_TRUE ? "true" : j->type == JSON_FALSE ? "false" : j->str;
	size_t n = j->type == JSON_TRUE ? 4 : j->type == JSON_FALSE ? 5 : j->len;
	char *dup;
	int r;

	if (json_str_has_nul(j))
		return fail(c, NOPOS, "NUL character in a string");
	dup = mem_strndup(s, n);
	if (!dup)
		return nomem(c);
	r = new_node(c, Y_STR, NOPOS, out);
	if (r) {
		wipe_free(dup, n);
		return r;
	}
	(*out)->s = dup;
	(*out)->n = n;
	(*out)->plain = j->type != JSON_STRING;
	return 0;
}

/* The JSON DOM as a tree; depth is bounded by the parser's limit. */
static int from_json(struct kc_ctx *c, const struct json *j, struct ynode **out)
{
	const struct json *it;
	struct ynode *y = NULL, *v, **tail;
	int r;

	if (j->type == JSON_NULL)
		return new_node(c, Y_NULL, NOPOS, out);
	if (j->type != JSON_ARRAY && j->type != JSON_OBJECT)
		return json_scalar(c, j, out);
	r = new_node(c, j->type == JSON_ARRAY ? Y_SEQ : Y_MAP, NOPOS, &y);
	tail = y ? &y->child : NULL;
	for (it = r ? NULL : j->child; it; it = it->next) {
		if (it->key && strlen(it->key) != it->keylen) {
			r = fail(c, NOPOS, "NUL character in a key");
			break;
		}
		c->path[c->npath++] = (struct seg){ it->key, y->count };
		r = from_json(c, it, &v);
		pop(c);
		if (r)
			break;
		if (it->key && !(v->key = mem_strndup(it->key, it->keylen))) {
			ynode_free(v);
			r = nomem(c);
			break;
		}
		append(y, &tail, v);
	}
	if (r)
		ynode_free(y);
	else
		*out = y;
	return r;
}

/* json_doc_free() does not wipe; the DOM is one heap block, so its strings are ours to clear. */
static void json_wipe(const struct json *j)
{
	const struct json *it;

	if (j->type == JSON_STRING && j->len)
		explicit_bzero((char *)j->str, j->len);
	json_for_each(it, j)
		json_wipe(it);
}

static int parse_json(struct kc_ctx *c, size_t off, struct ynode **root)
{
	struct json_limits lim = { KUBECONFIG_MAX_DEPTH, KUBECONFIG_MAX_BYTES, KUBECONFIG_MAX_NODES };
	struct json_doc *doc = NULL;
	struct ebuf jeb = { "" };
	size_t at, line, col;
	char *rest;
	int r;

	r = json_parse(c->p + off, c->n - off, &lim, &doc, &jeb);
	if (r) {
		/* restate "offset N: why" as line:column, like the YAML errors */
		at = strncmp(jeb.msg, "offset ", 7) ? NOPOS : strtoul(jeb.msg + 7, &rest, 10);
		if (at == NOPOS || strncmp(rest, ": ", 2)) {
			ebuf_set(c->eb, "%s", jeb.msg);
			return r;
		}
		line_col(c->p, c->n, off + at, &line, &col);
		ebuf_set(c->eb, "line %zu:%zu: %s", line, col, rest + 2);
		return r;
	}
	c->json = true;
	r = from_json(c, json_root(doc), root);
	json_wipe(json_root(doc));
	json_doc_free(doc);
	return r;
}

/* ---- schema ---------------------------------------------------------------------------- */

enum ftype { F_STR, F_DATA, F_BOOL, F_PLUGIN, F_OBJ, F_LIST };

struct field {
	const char *key;
	enum ftype type;
	size_t off, len_off;             /* into the struct being filled */
	const struct field *sub;         /* F_OBJ: fields of the same struct; F_LIST: entry */
	size_t nsub, size;               /* F_LIST: entry struct size */
};

#define FIELD(k, t, T, m) { k, t, offsetof(T, m), 0, NULL, 0, 0 }
#define DATA(k, T, m, l) { k, F_DATA, offsetof(T, m), offsetof(T, l), NULL, 0, 0 }
#define OBJ(k, f) { k, F_OBJ, 0, 0, f, ARRAY_SIZE(f), 0 }
#define LIST(k, T, a, n, f)                                                          \
	{ k, F_LIST, offsetof(struct kubeconfig, a), offsetof(struct kubeconfig, n), f, \
	  ARRAY_SIZE(f), sizeof(T) }

#define CL struct kubeconfig_cluster
#define US struct kubeconfig_user
#define CX struct kubeconfig_context

static const struct field cluster_fields[] = {
	FIELD("server", F_STR, CL, server),
	FIELD("certificate-authority", F_STR, CL, ca_file),
	DATA("certificate-authority-data", CL, ca_data, ca_len),
	FIELD("insecure-skip-tls-verify", F_BOOL, CL, insecure),
	FIELD("tls-server-name", F_STR, CL, tls_server_name),
	FIELD("proxy-url", F_STR, CL, proxy_url),
};

static const struct field user_fields[] = {
	FIELD("token", F_STR, US, token),
	FIELD("tokenFile", F_STR, US, token_file),
	FIELD("client-certificate", F_STR, US, cert_file),
	FIELD("client-key", F_STR, US, key_file),
	DATA("client-certificate-data", US, cert_data, cert_len),
	DATA("client-key-data", US, key_data, key_len),
	FIELD("exec", F_PLUGIN, US, has_exec),
	FIELD("auth-provider", F_PLUGIN, US, has_exec),
};

static const struct field context_fields[] = {
	FIELD("cluster", F_STR, CX, cluster),
	FIELD("user", F_STR, CX, user),
	FIELD("namespace", F_STR, CX, ns),
};

/* Every entry struct starts with its name, which the duplicate check and resolve rely on. */
_Static_assert(offsetof(CL, name) == 0 && offsetof(US, name) == 0 && offsetof(CX, name) == 0,
	       "name first");

static const struct field cluster_entry[] = { FIELD("name", F_STR, CL, name),
					      OBJ("cluster", cluster_fields) };
static const struct field user_entry[] = { FIELD("name", F_STR, US, name),
					   OBJ("user", user_fields) };
static const struct field context_entry[] = { FIELD("name", F_STR, CX, name),
					      OBJ("context", context_fields) };

static const struct field top_fields[] = {
	LIST("clusters", CL, clusters, nclusters, cluster_entry),
	LIST("users", US, users, nusers, user_entry),
	LIST("contexts", CX, contexts, ncontexts, context_entry),
	FIELD("current-context", F_STR, struct kubeconfig, current_context),
};

static int fill(struct kc_ctx *c, struct ynode *map, const struct field *f, size_t nf, char *obj);

static int get_str(struct kc_ctx *c, struct ynode *v, char **dst)
{
	if (v->type == Y_NULL)
		return 0;
	if (v->type != Y_STR)
		return fail(c, v->off, "expected a string");
	if (v->n) {
		*dst = v->s;
		v->s = NULL;
	}
	return 0;
}

static int get_bool(struct kc_ctx *c, struct ynode *v, bool *dst)
{
	static const char *const words[] = { "false", "False", "FALSE", "no", "No", "NO", "off",
					     "Off", "OFF", "true", "True", "TRUE", "yes", "Yes",
					     "YES", "on", "On", "ON" };
	size_t i;

	if (v->type == Y_NULL)
		return 0;
	for (i = 0; v->type == Y_STR && v->plain && i < ARRAY_SIZE(words); i++) {
		if (!strcmp(v->s, words[i])) {
			*dst = i >= ARRAY_SIZE(words) / 2;
			return 0;
		}
	}
	return fail(c, v->off, "expected true or false");
}

static int get_data(struct kc_ctx *c, struct ynode *v, unsigned char **dst, size_t *len)
{
	size_t max, got = 0, bad = 0;
	unsigned char *d;

	if (v->type == Y_NULL)
		return 0;
	if (v->type != Y_STR)
		return fail(c, v->off, "expected a base64 string");
	max = B64_DECODED_MAX(v->n);
	d = mem_alloc(max + 1);
	if (!d)
		return nomem(c);
	if (b64_decode(v->s, v->n, d, max, &got, &bad)) {
		wipe_free(d, max + 1);
		return fail(c, v->off, "invalid base64 at character %zu of the value", bad + 1);
	}
	if (!got) {
		mem_free(d);
		return 0;
	}
	d[got] = '\0';
	*dst = d;
	*len = got;
	return 0;
}

static int walk_list(struct kc_ctx *c, struct ynode *seq, const struct field *f, char *obj)
{
	char **names, *entry;
	struct ynode *it;
	size_t i = 0, j;
	int r;

	if (seq->type == Y_NULL)
		return 0;
	if (seq->type != Y_SEQ)
		return fail(c, seq->off, "expected a sequence");
	if (seq->count > KUBECONFIG_MAX_ENTRIES)
		return kc_fail(c, -E2BIG, seq->off, "more than %u entries", KUBECONFIG_MAX_ENTRIES);
	if (!seq->count)
		return 0;
	entry = mem_calloc(seq->count, f->size);
	if (!entry)
		return nomem(c);
	/* owned by the result at once, so its free cleans up half-filled entries too */
	*(char **)(obj + f->off) = entry;
	*(size_t *)(obj + f->len_off) = seq->count;
	for (it = seq->child; it; it = it->next, i++, entry += f->size) {
		push_idx(c, i);
		r = it->type == Y_MAP ? fill(c, it, f->sub, f->nsub, entry) :
					fail(c, it->off, "expected a mapping");
		names = (char **)(void *)entry;
		if (!r && !*names)
			r = fail(c, it->off, "no name");
		for (j = 0; !r && j < i; j++) {
			if (!strcmp(*names, *(char **)(void *)(entry - (i - j) * f->size)))
				r = fail(c, it->off, "same name as entry %zu", j);
		}
		pop(c);
		if (r)
			return r;
	}
	return 0;
}

static int set_field(struct kc_ctx *c, struct ynode *v, const struct field *f, char *obj)
{
	switch (f->type) {
	case F_STR:
		return get_str(c, v, (char **)(void *)(obj + f->off));
	case F_DATA:
		return get_data(c, v, (unsigned char **)(void *)(obj + f->off),
				(size_t *)(void *)(obj + f->len_off));
	case F_BOOL:
		return get_bool(c, v, (bool *)(obj + f->off));
	case F_PLUGIN:
		*(bool *)(obj + f->off) |= v->type != Y_NULL;
		return 0;
	case F_OBJ:
		return fill(c, v, f->sub, f->nsub, obj);
	case F_LIST:
		return walk_list(c, v, f, obj);
	}
	return 0;
}

/* Copy the known members of a mapping into obj; unknown ones are skipped whatever they hold. */
static int fill(struct kc_ctx *c, struct ynode *map, const struct field *f, size_t nf, char *obj)
{
	uint32_t seen = 0;
	struct ynode *m;
	size_t i;
	int r;

	if (map->type == Y_NULL)
		return 0;
	if (map->type != Y_MAP)
		return fail(c, map->off, "expected a mapping");
	for (m = map->child; m; m = m->next) {
		for (i = 0; i < nf && strcmp(m->key, f[i].key); i++)
			;
		if (i == nf)
			continue;
		push_key(c, f[i].key);
		if (seen & (1u << i))
			r = fail(c, m->koff, "duplicate key");
		else
			r = set_field(c, m, &f[i], obj);
		pop(c);
		if (r)
			return r;
		seen |= 1u << i;
	}
	return 0;
}

/* ---- API ------------------------------------------------------------------------------- */

int kubeconfig_parse(const char *p, size_t n, struct kubeconfig **out, struct ebuf *eb)
{
	struct kc_ctx c = { .p = p, .n = n, .end = n, .eb = eb };
	struct kubeconfig *kc = NULL;
	struct ynode *root = NULL;
	struct ebuf jeb;
	size_t i = 0;
	bool json;
	int r;

	*out = NULL;
	if (n > KUBECONFIG_MAX_BYTES)
		return kc_fail(&c, -E2BIG, NOPOS, "input of %zu bytes is over the limit of %u", n,
			       KUBECONFIG_MAX_BYTES);
	if (n >= 3 && !memcmp(p, "\xef\xbb\xbf", 3)) {
		c.p += 3;
		c.n = c.end = n - 3;
	}
	while (i < c.n && c.p[i] && strchr(" \t\r\n", c.p[i]))
		i++;
	json = i < c.n && c.p[i] == '{';
	r = json ? parse_json(&c, i, &root) : parse_yaml(&c, &root);
	if (r == -EINVAL && json) {
		/* "{current-context: x}" is YAML too; if that fails as well, JSON's reason stands */
		if (eb)
			jeb = *eb;
		c = (struct kc_ctx){ .p = c.p, .n = c.n, .end = c.n, .eb = eb };
		r = parse_yaml(&c, &root);
		if (r && eb)
			*eb = jeb;
	}
	if (r)
		goto out;
	kc = mem_calloc(1, sizeof(*kc));
	if (!kc) {
		r = nomem(&c);
		goto out;
	}
	r = fill(&c, root, top_fields, ARRAY_SIZE(top_fields), (char *)kc);
	if (r)
		goto out;
	*out = kc;
	kc = NULL;
out:
	kubeconfig_free(kc);
	ynode_free(root);
	return r;
}

void kubeconfig_free(struct kubeconfig *kc)
{
	struct kubeconfig_cluster *cl;
	struct kubeconfig_user *u;
	struct kubeconfig_context *x;

	if (!kc)
		return;
	for (cl = kc->clusters; cl && cl < kc->clusters + kc->nclusters; cl++) {
		mem_free(cl->name);
		mem_free(cl->server);
		mem_free(cl->ca_file);
		mem_free(cl->tls_server_name);
		mem_free(cl->proxy_url);
		mem_free(cl->ca_data);
	}
	for (u = kc->users; u && u < kc->users + kc->nusers; u++) {
		mem_free(u->name);
		wipe_free(u->token, u->token ? strlen(u->token) : 0);
		mem_free(u->token_file);
		mem_free(u->cert_file);
		mem_free(u->key_file);
		mem_free(u->cert_data);
		wipe_free(u->key_data, u->key_len);
	}
	for (x = kc->contexts; x && x < kc->contexts + kc->ncontexts; x++) {
		mem_free(x->name);
		mem_free(x->cluster);
		mem_free(x->user);
		mem_free(x->ns);
	}
	mem_free(kc->clusters);
	mem_free(kc->users);
	mem_free(kc->contexts);
	mem_free(kc->current_context);
	mem_free(kc);
}

/* A name as an error shows it: printable ASCII, at most 64 bytes. */
static const char *shown(const char *s, char *buf, size_t cap)
{
	size_t i;

	for (i = 0; s[i] && i < 64 && i + 4 < cap; i++)
		buf[i] = s[i] > 0x20 && s[i] < 0x7f ? s[i] : '?';
	strcpy(buf + i, s[i] ? "..." : "");
	return buf;
}

static const void *find_named(const void *arr, size_t n, size_t size, const char *name)
{
	const char *e = arr;
	size_t i;

	for (i = 0; i < n; i++, e += size) {
		if (!strcmp(*(char *const *)(const void *)e, name))
			return e;
	}
	return NULL;
}

static int pick_context(const struct kubeconfig *kc, const char *name,
			const struct kubeconfig_context **ctx, struct ebuf *eb)
{
	char b[72];

	if (!name && kc->current_context)
		name = kc->current_context;
	if (name) {
		*ctx = find_named(kc->contexts, kc->ncontexts, sizeof(**ctx), name);
		if (!*ctx)
			ebuf_set(eb, "context \"%s\" not found", shown(name, b, sizeof(b)));
	} else if (kc->ncontexts == 1) {
		*ctx = kc->contexts;
	} else if (kc->ncontexts > 1) {
		ebuf_set(eb, "no current-context, and %zu contexts to choose from", kc->ncontexts);
	} else if (kc->nclusters != 1) {
		ebuf_set(eb, "no contexts, and %zu clusters to choose from", kc->nclusters);
	}
	return *ctx || (!name && !kc->ncontexts && kc->nclusters == 1) ? 0 : -ENOENT;
}

int kubeconfig_resolve(const struct kubeconfig *kc, const char *context,
		       const struct kubeconfig_cluster **cluster,
		       const struct kubeconfig_user **user, struct ebuf *eb)
{
	const struct kubeconfig_context *ctx = NULL;
	const struct kubeconfig_cluster *cl = NULL;
	const struct kubeconfig_user *u = NULL;
	char b1[72], b2[72];

	if (!kc) {
		ebuf_set(eb, "no kubeconfig");
		return -EINVAL;
	}
	if (pick_context(kc, context && *context ? context : NULL, &ctx, eb))
		return -ENOENT;
	if (!ctx) {
		cl = kc->clusters;
	} else if (!ctx->cluster) {
		ebuf_set(eb, "context \"%s\" names no cluster", shown(ctx->name, b1, sizeof(b1)));
		return -ENOENT;
	} else if (!(cl = find_named(kc->clusters, kc->nclusters, sizeof(*cl), ctx->cluster))) {
		ebuf_set(eb, "cluster \"%s\" of context \"%s\" not found",
			 shown(ctx->cluster, b1, sizeof(b1)), shown(ctx->name, b2, sizeof(b2)));
		return -ENOENT;
	}
	if (ctx && ctx->user && !(u = find_named(kc->users, kc->nusers, sizeof(*u), ctx->user))) {
		ebuf_set(eb, "user \"%s\" of context \"%s\" not found",
			 shown(ctx->user, b1, sizeof(b1)), shown(ctx->name, b2, sizeof(b2)));
		return -ENOENT;
	}
	if (!cl->server) {
		ebuf_set(eb, "cluster \"%s\" has no server", shown(cl->name, b1, sizeof(b1)));
		return -ENOENT;
	}
	*cluster = cl;
	*user = u;
	return 0;
}
