// SPDX-License-Identifier: MIT
/*
 * yaml.c: the text side of the YAML reader (yaml.h), its tokenizer. It owns the line level
 * (indentation, comments, document markers, and the text check that runs first), the
 * scalars in all five styles (plain in block and in flow context, single- and double-quoted,
 * literal and folded blocks) with their escapes and folding, and the small scans between
 * collection items (implicit keys, whitespace inside flow collections). yaml_tree.c builds
 * the tree from these through yaml_int.h.
 *
 * Scalars are scanned twice by the same function, once to measure and once to copy, so each
 * is one exact allocation: a secret never sits in a grown and abandoned buffer.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "../base/mem.h"
#include "../base/util.h"
#include "yaml.h"
#include "yaml_int.h"

struct yaml_out {
	char *p;                /* NULL: only count */
	size_t n;
};

/* ---- characters and lines -------------------------------------------------------------- */

size_t yaml_skip_blanks(const struct yaml_ctx *c, size_t i)
{
	while (is_blank(ch(c, i)))
		i++;
	return i;
}

static size_t line_end(const struct yaml_ctx *c, size_t i)
{
	while (!is_eol(ch(c, i)))
		i++;
	return i;
}

size_t yaml_next_line(const struct yaml_ctx *c, size_t i)
{
	i = line_end(c, i);
	if (ch(c, i) == '\r')
		i++;
	if (ch(c, i) == '\n')
		i++;
	return i;
}

size_t yaml_line_start(const struct yaml_ctx *c, size_t i)
{
	while (i > 0 && c->p[i - 1] != '\n')
		i--;
	return i;
}

/* A '#' starts a comment only at the start of a line or after whitespace. */
static bool is_comment(const struct yaml_ctx *c, size_t i)
{
	return ch(c, i) == '#' && (i == 0 || is_wsend(c->p[i - 1]));
}

/* Only blanks and maybe a comment from i to the end of the line. */
bool yaml_rest_empty(const struct yaml_ctx *c, size_t i)
{
	i = yaml_skip_blanks(c, i);
	return is_eol(ch(c, i)) || is_comment(c, i);
}

static bool is_marker(const struct yaml_ctx *c, size_t ls)
{
	return ls + 3 <= c->n && (!memcmp(c->p + ls, "---", 3) || !memcmp(c->p + ls, "...", 3)) &&
	       is_wsend(ch(c, ls + 3));
}

bool yaml_is_seq_entry(const struct yaml_ctx *c, size_t i)
{
	return ch(c, i) == '-' && is_wsend(ch(c, i + 1));
}

/* A continuation line of a multi-line scalar or flow collection must be indented past pind. */
static bool cont_ok(const struct yaml_ctx *c, size_t ls, long pind)
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
int yaml_check_text(struct yaml_ctx *c)
{
	const unsigned char *u = (const unsigned char *)c->p;
	size_t i = 0, k;

	while (i < c->n) {
		if (u[i] >= 0x80) {
			k = utf8_len(u + i, c->n - i);
			if (!k)
				return yaml_bad(c, i, "invalid UTF-8");
			i += k;
			continue;
		}
		if (u[i] == '\r' && (i + 1 >= c->n || u[i + 1] != '\n'))
			return yaml_bad(c, i, "carriage return without a line feed");
		if ((u[i] < 0x20 && u[i] != '\t' && u[i] != '\n' && u[i] != '\r') || u[i] == 0x7f)
			return yaml_bad(c, i, "control character 0x%02x", u[i]);
		i++;
	}
	return 0;
}

/* '---' before any content is skipped; '...' ends the document (returns 0, like EOF). */
static int marker(struct yaml_ctx *c, size_t ls)
{
	size_t i;

	if (!yaml_rest_empty(c, ls + 3))
		return yaml_bad(c, ls + 4, "content on a document marker line is not supported");
	if (c->p[ls] == '-') {
		if (c->seen)
			return yaml_bad(c, ls, "a second document ('---') is not supported");
		return 1;
	}
	c->end = ls;
	for (i = yaml_next_line(c, ls); i < c->n; i = yaml_next_line(c, i)) {
		if (!yaml_rest_empty(c, i))
			return yaml_bad(c, yaml_skip_blanks(c, i),
					"content after the document end marker");
	}
	return 0;
}

/* The next line at or after from holding more than blanks and comments: 1, 0 (EOF), -errno. */
int yaml_next_content(struct yaml_ctx *c, size_t from, struct yaml_line *l)
{
	size_t ls, i, j;
	int r;

	for (ls = from; ls < c->end; ls = yaml_next_line(c, ls)) {
		for (i = ls; ch(c, i) == ' '; i++)
			;
		j = yaml_skip_blanks(c, i);
		if (is_eol(ch(c, j)) || ch(c, j) == '#')
			continue;
		if (j != i)
			return yaml_bad(c, i, "tab in indentation (YAML indents with spaces only)");
		if (i == ls && is_marker(c, ls)) {
			r = marker(c, ls);
			if (r <= 0)
				return r;
			continue;
		}
		/* nested collections ending here look again: skip the blank lines once */
		c->seen = true;
		c->pos = ls;
		*l = (struct yaml_line){ ls, i - ls, i };
		return 1;
	}
	c->pos = ls;
	return 0;
}

/* ---- scalars --------------------------------------------------------------------------- */

static void put(struct yaml_out *o, const char *s, size_t k)
{
	if (o->p && k)
		memcpy(o->p + o->n, s, k);
	o->n += k;
}

static void put_nl(struct yaml_out *o, size_t k)
{
	while (k--)
		put(o, "\n", 1);
}

static void put_utf8(struct yaml_out *o, uint32_t cp)
{
	char b[4];
	size_t k = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4, i;

	b[0] = (char)(k == 1 ? cp : (0xf00u >> k & 0xff) | cp >> (6 * (k - 1)));
	for (i = 1; i < k; i++)
		b[i] = (char)(0x80 | ((cp >> (6 * (k - 1 - i))) & 0x3f));
	put(o, b, k);
}

/* A line break inside a quoted scalar: one break folds to a space, n empty lines to n '\n'. */
static int fold(struct yaml_ctx *c, size_t *ip, long pind, size_t open, struct yaml_out *o)
{
	size_t i = *ip, breaks = 0, ls, j;

	for (;;) {
		ls = yaml_next_line(c, i);
		j = yaml_skip_blanks(c, ls);
		if (ls >= c->n || !is_eol(ch(c, j)))
			break;
		breaks++;
		i = j;
	}
	if (ls < c->n && !cont_ok(c, ls, pind))
		return yaml_bad(c, open, "quoted string not closed before a less indented line");
	if (breaks)
		put_nl(o, breaks);
	else
		put(o, " ", 1);
	*ip = ls < c->n ? j : c->n;
	return 0;
}

static int escape(struct yaml_ctx *c, size_t *ip, long pind, size_t open, struct yaml_out *o)
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
		ls = yaml_next_line(c, i);
		if (!cont_ok(c, ls, pind) && !yaml_rest_empty(c, ls))
			return yaml_bad(c, open,
					"quoted string not closed before a less indented line");
		*ip = yaml_skip_blanks(c, ls);
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
	default: return yaml_bad(c, *ip, "invalid escape in a double-quoted string");
	}
	for (d = 0; d < k; d++) {
		v = hexval(ch(c, i + 1 + d));
		if (v < 0)
			return yaml_bad(c, *ip, "invalid escape in a double-quoted string");
		cp = cp << 4 | (uint32_t)v;
	}
	/* NUL would silently cut the C string a caller gets */
	if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return yaml_bad(c, *ip, "escape for a character that is not allowed");
	put_utf8(o, cp);
	*ip = i + 1 + k;
	return 0;
}

/* Single- or double-quoted, from the opening quote at s; *end is past the closing one. */
int yaml_scan_quoted(struct yaml_ctx *c, size_t s, long pind, struct yaml_out *o, size_t *end)
{
	char q = c->p[s], x;
	size_t i = s + 1, bl = 0, nbl = 0;
	int r;

	for (;;) {
		x = ch(c, i);
		if (x == '\0')
			return yaml_bad(c, s, "quoted string not closed");
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
int yaml_scan_plain(struct yaml_ctx *c, size_t s, long pind, struct yaml_out *o, size_t *end)
{
	size_t i = s, e, ls, j, breaks;
	char x;

	for (;;) {
		for (e = i; !is_eol(x = ch(c, e)); e++) {
			if (x == ':' && is_wsend(ch(c, e + 1)))
				return yaml_bad(c, e,
						"': ' inside a plain value (bad indentation, or quote it)");
			if (is_comment(c, e))
				break;
		}
		while (e > i && is_blank(c->p[e - 1]))
			e--;
		put(o, c->p + i, e - i);
		if (!is_eol(x))
			break;
		breaks = 0;
		for (ls = yaml_next_line(c, e); ls < c->end; ls = yaml_next_line(c, ls), breaks++) {
			if (!is_eol(ch(c, yaml_skip_blanks(c, ls))))
				break;
		}
		j = yaml_skip_blanks(c, ls);
		if (ls >= c->end || ch(c, j) == '#' || !cont_ok(c, ls, pind))
			break;
		if (breaks)
			put_nl(o, breaks);
		else
			put(o, " ", 1);
		i = j;
	}
	*end = yaml_next_line(c, e);
	return 0;
}

/* Plain scalar inside a flow collection: one line, up to an indicator; *end stays on it. */
int yaml_scan_flow_plain(struct yaml_ctx *c, size_t s, long pind, struct yaml_out *o, size_t *end)
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
int yaml_scan_block(struct yaml_ctx *c, size_t s, long pind, struct yaml_out *o, size_t *end)
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
	if (!yaml_rest_empty(c, i))
		return yaml_bad(c, i, "invalid block scalar header");
	if (!ind) {
		/* from the first line that is not all blanks ("  # x" is text here) */
		ls = yaml_next_line(c, i);
		while (ls < c->n && is_eol(ch(c, yaml_skip_blanks(c, ls))))
			ls = yaml_next_line(c, ls);
		for (j = ls; ch(c, j) == ' '; j++)
			;
		ind = (long)(j - ls) > pind ? j - ls : (size_t)(pind + 1);
	}
	for (ls = yaml_next_line(c, i); ls < c->n; ls = yaml_next_line(c, ls)) {
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
int yaml_scan_dup(struct yaml_ctx *c, yaml_scan_fn *scan, size_t s, long pind, char **str,
		  size_t *len, size_t *end)
{
	struct yaml_out o = { NULL, 0 };
	int r;

	r = scan(c, s, pind, &o, end);
	if (r)
		return r;
	*str = mem_alloc(o.n + 1);
	if (!*str)
		return yaml_nomem(&c->rep);
	*len = o.n;
	o = (struct yaml_out){ *str, 0 };
	(void)scan(c, s, pind, &o, end);
	(*str)[*len] = '\0';
	return 0;
}

int yaml_plain_start(struct yaml_ctx *c, size_t i, bool flow)
{
	char x = ch(c, i), y = ch(c, i + 1);

	if (is_eol(x))
		return yaml_bad(c, i, "expected a value");
	if (x == '&' || x == '*' || x == '!')
		return yaml_bad(c, i, "anchors, aliases and tags are not supported");
	if ((x == '-' || x == '?' || x == ':') && !is_wsend(y) && !(flow && is_flow_ind(y)))
		return 0;
	if (strchr("-?:,[]{}#|>'\"%@`", x))
		return yaml_bad(c, i, "unexpected '%c'", x);
	return 0;
}

/* ---- between the items of a collection ------------------------------------------------ */

int yaml_flow_ws(struct yaml_ctx *c, size_t *ip, long pind, size_t open)
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
			ls = yaml_next_line(c, i);
			j = yaml_skip_blanks(c, ls);
			/* a closing bracket may come back to the parent's indentation */
			if (!yaml_rest_empty(c, j) && ch(c, j) != ']' && ch(c, j) != '}' &&
			    !cont_ok(c, ls, pind))
				return yaml_bad(c, open, "flow collection not closed");
			i = ls;
		} else {
			break;
		}
	}
	*ip = i;
	return 0;
}

/* Is there an implicit key ("key:" then a blank or the end of the line) at s? */
bool yaml_find_key(struct yaml_ctx *c, size_t s, size_t *colon)
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
		i = yaml_skip_blanks(c, i + 1);
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

