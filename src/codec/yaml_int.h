/* SPDX-License-Identifier: MIT */
/*
 * yaml_int.h: private to the YAML reader (yaml.c, yaml_tree.c); nothing outside
 * src/codec/yaml*.c may include it. yaml.c reads the text: lines, indentation, comments,
 * document markers and scalars; yaml_tree.c builds the collections from them. This header is
 * the seam: the parse state both sides share and the scanners the tree builder calls.
 *
 * The reader works on lines. A block collection is parsed at a known indentation and ends at
 * the first content line indented less; a value's indentation decides whether the next lines
 * belong to it. Offsets are into c->p. yaml_check_text() runs first, so the text holds no NUL
 * and ch() can return '\0' for the end of input.
 */
#ifndef VIRGIL_YAML_INT_H
#define VIRGIL_YAML_INT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "yaml.h"

struct yaml_ctx {
	const char *p;
	size_t n;
	size_t end;             /* n, or where a '...' document end marker sits */
	size_t pos;             /* start of the first line not consumed yet */
	bool seen;              /* content seen: a '---' now would start a second document */
	unsigned depth, max_depth;
	size_t nodes, max_nodes;
	struct yaml_report rep; /* its path follows the keys and indexes being parsed */
};

struct yaml_line {
	size_t ls, ind, cs;     /* line start, indentation, first content byte */
};

/* A syntax error at offset off. */
#define yaml_bad(c, off, ...) yaml_fail(&(c)->rep, -EINVAL, off, __VA_ARGS__)

/* ---- characters ---------------------------------------------------------------------- */

static inline char ch(const struct yaml_ctx *c, size_t i)
{
	return i < c->n ? c->p[i] : '\0';
}

static inline bool is_eol(char x)
{
	return x == '\n' || x == '\r' || x == '\0';
}

static inline bool is_blank(char x)
{
	return x == ' ' || x == '\t';
}

static inline bool is_wsend(char x)
{
	return is_blank(x) || is_eol(x);
}

static inline bool is_flow_ind(char x)
{
	return x && strchr(",[]{}", x);
}

/* ---- lines (yaml.c) ---------------------------------------------------------------------- */

size_t yaml_skip_blanks(const struct yaml_ctx *c, size_t i);
/* Start of the line after the one holding i (or c->n). */
size_t yaml_next_line(const struct yaml_ctx *c, size_t i);
size_t yaml_line_start(const struct yaml_ctx *c, size_t i);
/* Only blanks and maybe a comment from i to the end of the line. */
bool yaml_rest_empty(const struct yaml_ctx *c, size_t i);
bool yaml_is_seq_entry(const struct yaml_ctx *c, size_t i);
/* No NUL or other control bytes, valid UTF-8, CR only in CRLF: 0 or -EINVAL. */
int yaml_check_text(struct yaml_ctx *c);
/* The next line at or after from holding more than blanks and comments: 1, 0 (EOF), -errno. */
int yaml_next_content(struct yaml_ctx *c, size_t from, struct yaml_line *l);

/* ---- scalars (yaml.c) -------------------------------------------------------------------- */

/*
 * A scanner reads the scalar starting at s, continuation lines indented past pind (-1: the
 * document level), appends its value to o (which may only count) and sets *end past it.
 */
struct yaml_out;
typedef int yaml_scan_fn(struct yaml_ctx *c, size_t s, long pind, struct yaml_out *o,
			 size_t *end);

yaml_scan_fn yaml_scan_quoted, yaml_scan_plain, yaml_scan_flow_plain, yaml_scan_block;

/* Run scan to a new exact allocation *str of *len + 1 bytes. */
int yaml_scan_dup(struct yaml_ctx *c, yaml_scan_fn *scan, size_t s, long pind, char **str,
		  size_t *len, size_t *end);
/* Can a plain scalar start at i? 0 or -EINVAL. */
int yaml_plain_start(struct yaml_ctx *c, size_t i, bool flow);

/* ---- between items (yaml.c) -------------------------------------------------------------- */

/* Skip blanks, comments and line breaks inside the flow collection opened at open. */
int yaml_flow_ws(struct yaml_ctx *c, size_t *ip, long pind, size_t open);
/* Is there an implicit key ("key:" then a blank or the end of the line) at s? */
bool yaml_find_key(struct yaml_ctx *c, size_t s, size_t *colon);

#endif
