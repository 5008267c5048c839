/* SPDX-License-Identifier: MIT */
/*
 * k8sobj_int.h: private to the k8sobj module (k8sobj.c, k8sobj_kinds.c, k8sobj_watch.c,
 * k8sobj_netpol.c);
 * nothing outside src/core/k8sobj*.c may include it. It declares the decoder state and the
 * helpers the three files share: packing (two passes, one allocation), the error path built
 * while unwinding, and typed access to DOM members. They live in k8sobj.c, apart from the
 * per-kind decoders, which live in k8sobj_kinds.c.
 */
#ifndef VIRGIL_K8SOBJ_INT_H
#define VIRGIL_K8SOBJ_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"
#include "../codec/json.h"
#include "k8sobj.h"

#define K8SOBJ_PATH_CAP 192

struct k8sobj_dec {
	char *mem;		/* NULL in the sizing pass */
	size_t arr;		/* next offset for arrays, right after the kind's struct */
	size_t str;		/* next offset for strings, after all arrays */
	uint8_t flags;		/* K8SOBJ_F_* found while decoding */
	bool cut;		/* the path lost its outer segments */
	size_t pos;		/* the path is path[pos..], built right to left */
	char path[K8SOBJ_PATH_CAP];
	char why[96];
};

void k8sobj_dec_init(struct k8sobj_dec *d);

/* ---- packing: each returns where it put the copy, NULL in the sizing pass --------------- */

const char *k8sobj_pk_strn(struct k8sobj_dec *d, const char *s, size_t n);
const char *k8sobj_pk_str(struct k8sobj_dec *d, const struct json *s);
void *k8sobj_pk_put(struct k8sobj_dec *d, const void *src, size_t size, size_t align);

/* ---- errors: both return r (-EINVAL for k8sobj_why) so a caller can return the call ----- */

int k8sobj_why(struct k8sobj_dec *d, const char *fmt, ...) __printf(2, 3);
int k8sobj_up(struct k8sobj_dec *d, int r, const char *fmt, ...) __printf(3, 4);
void k8sobj_report(const struct k8sobj_dec *d, int r, struct ebuf *eb);

/* ---- typed access ---------------------------------------------------------------------- */

int k8sobj_check(struct k8sobj_dec *d, const struct json *v, enum json_type t);
int k8sobj_get(struct k8sobj_dec *d, const struct json *o, const char *key, enum json_type t,
	       const struct json **out);
bool k8sobj_text_is(const struct json *s, const char *lit);
size_t k8sobj_lookup(const struct json *s, const char *const *names, size_t n);
int k8sobj_dec_map(struct k8sobj_dec *d, const struct json *map, const char *prefix,
		   const struct k8sobj_kv *extra, const struct k8sobj_kv **arr, uint32_t *n);

/* ---- objects --------------------------------------------------------------------------- */

/* Both passes for one object of any kind; the reason is left in d (k8sobj_report). */
int k8sobj_dec_object(struct k8sobj_dec *d, const struct json *v, enum k8sobj_kind kind,
		      struct k8sobj **out);
int k8sobj_parse_doc(const char *p, size_t n, const struct json_limits *lim,
		     struct json_doc **doc, struct ebuf *eb);

/* The kind's own fields, after k8sobj.c has decoded the metadata into n->obj. */
int k8sobj_dec_node(struct k8sobj_dec *d, const struct json *v, struct k8sobj_node *n);
int k8sobj_dec_pod(struct k8sobj_dec *d, const struct json *v, struct k8sobj_pod *pod);
int k8sobj_dec_eps(struct k8sobj_dec *d, const struct json *v, struct k8sobj_eps *e);
/* In k8sobj_netpol.c; problems in spec go to np->invalid, so this never fails. */
int k8sobj_dec_netpol(struct k8sobj_dec *d, const struct json *v, struct k8sobj_netpol *np);

#endif
