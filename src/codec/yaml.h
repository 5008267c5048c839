/* SPDX-License-Identifier: MIT */
/*
 * yaml.h: the YAML subset that hand- and tool-written configuration files use (kubeconfig is
 * the reason it exists), read into a tree of mappings, sequences and scalars. A pure codec:
 * the input is caller memory, not retained; the tree is heap memory the caller frees.
 *
 * Accepted: block mappings and sequences (a sequence may sit at its parent key's indentation,
 * as kubectl writes "clusters:\n- name: x"), plain, single- and double-quoted scalars with
 * their escapes and line folding, literal and folded block scalars (| and >, with chomping
 * and indentation indicators), flow collections ([a, b], {k: v}), comments, one document with
 * optional '---' / '...' markers, CRLF line ends. Refused with an error: tabs in indentation,
 * anchors, aliases, tags, complex keys, directives, a second document, invalid UTF-8, control
 * characters and NUL (also as an escape, so every scalar is a C string). Rules kept on
 * purpose: "key: value" needs the space; a plain value may not contain ": " (usually a sign of
 * bad indentation); continuation lines of multi-line scalars and flow collections must be
 * indented past their parent. A byte order mark is the caller's to strip.
 *
 * Scalars are not typed: each is YAML_STR with its text, except the plain null words (~, null,
 * Null, NULL), which are YAML_NULL, and an absent value ("key:" and nothing below), which is a
 * YAML_NULL without text. plain says the scalar was unquoted, so a caller that reads booleans
 * or numbers can tell "true" from true. Mapping keys are kept in input order, duplicates too:
 * the caller's schema decides whether a repeated key is an error.
 *
 * Positions are byte offsets into the text given to yaml_parse(); yaml_line_col() turns one
 * into the line:column that messages show.
 *
 * Secrets: configuration files carry tokens and private keys, so the reader never leaves a
 * copy of a scalar behind. Each scalar is allocated once at its exact size (measured, then
 * copied: no grown and abandoned buffer ever held part of one), and yaml_free() wipes every
 * scalar and key with explicit_bzero() before freeing it. A caller may take a scalar out of
 * the tree instead of copying it (see struct yaml_node); it then owns the wipe as well.
 * Error messages never quote a value and show only the keys the caller allows.
 */
#ifndef VIRGIL_YAML_H
#define VIRGIL_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"

struct ebuf;

/* An offset for a node that did not come from text (built by a caller, e.g. from JSON). */
#define YAML_NOPOS SIZE_MAX
/* The deepest nesting any reader allows; it sizes the error path in struct yaml_report. */
#define YAML_MAX_DEPTH 64

enum yaml_type { YAML_NULL, YAML_STR, YAML_MAP, YAML_SEQ };

/*
 * One value. The members of a mapping or the entries of a sequence are its child list, linked
 * by next, count of them. s is NUL-terminated in exactly n + 1 bytes, set for YAML_STR and for
 * a null word (text "null" and type YAML_NULL); NULL otherwise. A caller may take s: copy the
 * pointer and set s to NULL, and the string is its own, to free with yaml_wipe_free(s, n)
 * (mem_free() is enough only if it can hold no secret).
 */
struct yaml_node {
	enum yaml_type type;
	bool plain;             /* an unquoted scalar: only these can be booleans */
	char *s;                /* scalar text, NUL-terminated */
	size_t n;
	char *key;              /* member name when the parent is a mapping, NULL otherwise */
	size_t off, koff;       /* input offsets of the value and its key; YAML_NOPOS if none */
	struct yaml_node *child, *next;
	size_t count;
};

struct yaml_opts {
	unsigned max_depth;     /* nested collections; 0 or over YAML_MAX_DEPTH: YAML_MAX_DEPTH */
	size_t max_nodes;       /* values in the tree (keys are part of theirs); 0: no limit */
	bool (*key_shown)(const char *key);     /* keys error paths may show, see below */
};

/*
 * Parse p[0..n) (need not be NUL-terminated). 0 with *root set to a tree (an empty document is
 * one YAML_NULL node), or with *root NULL: -EINVAL (syntax), -E2BIG (nesting over max_depth,
 * more than max_nodes values) or -ENOMEM, the ebuf filled as described at struct yaml_report.
 * Re-entrant: no state outside the arguments.
 */
int yaml_parse(const char *p, size_t n, const struct yaml_opts *o, struct yaml_node **root,
	       struct ebuf *eb) __must_check;

/* NULL-safe; frees the node, its children and the siblings after it, wiping all text first. */
void yaml_free(struct yaml_node *y);

/* explicit_bzero(p, n), then free: for strings taken from a tree. NULL-safe. */
void yaml_wipe_free(void *p, size_t n);

/*
 * For callers that build a tree themselves (from JSON, say) to share one schema walk: a zeroed
 * node of type t at offset off (koff YAML_NOPOS), or NULL with errno ENOMEM. yaml_append() adds
 * v as the last child of parent; *tail starts as &parent->child and follows the appends.
 */
struct yaml_node *yaml_node_new(enum yaml_type t, size_t off);
void yaml_append(struct yaml_node *parent, struct yaml_node ***tail, struct yaml_node *v);

/* 1-based line and column (in bytes) of offset off in p[0..n). */
void yaml_line_col(const char *p, size_t n, size_t off, size_t *line, size_t *col);

/*
 * Error reports, shared by the parser and by callers that walk the tree for a schema, so that
 * both read "line 12:7: users[0].user.token: expected a string". The path lists the keys and
 * sequence indexes from the root down to where the reader is: push on the way into a value,
 * pop on the way out (beyond YAML_MAX_DEPTH + 1 segments the rest is not shown). A key prints
 * only if key_shown(key) is true, "?" otherwise, since a malformed file may put a secret
 * where a key is expected; a NULL key_shown shows every key. The position is shown when p is
 * set and off is not YAML_NOPOS. Fill the first four members and leave the path zeroed.
 */
struct yaml_seg {
	const char *key;        /* borrowed while pushed; NULL for a sequence index */
	size_t idx;
};

struct yaml_report {
	const char *p;          /* the text the offsets point into, or NULL */
	size_t n;
	bool (*key_shown)(const char *key);
	struct ebuf *eb;        /* may be NULL */
	unsigned npath;
	struct yaml_seg path[YAML_MAX_DEPTH + 1];
};

void yaml_push_key(struct yaml_report *r, const char *key);
void yaml_push_idx(struct yaml_report *r, size_t idx);
void yaml_pop(struct yaml_report *r);

/* Fill the ebuf with "line L:C: path: why" (parts left out when unknown); returns err. */
int yaml_fail(struct yaml_report *r, int err, size_t off, const char *fmt, ...) __printf(4, 5);

/* "out of memory", without position or path; returns -ENOMEM. */
int yaml_nomem(struct yaml_report *r);

#endif
