// SPDX-License-Identifier: MIT
/*
 * selector.c: label selector matching (see selector.h). Labels come sorted, so a key is found
 * by binary search; selectors are small and scanned in order, failing on the first miss.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "k8sobj.h"
#include "selector.h"

/* The value of key in the sorted labels, or NULL when absent. */
static const char *label_find(const struct k8sobj_kv *labels, uint32_t n, const char *key)
{
	uint32_t lo = 0, hi = n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(labels[mid].key, key);
		if (c == 0)
			return labels[mid].val;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool in_values(const struct k8sobj_expr *e, const char *val)
{
	uint32_t i;

	for (i = 0; i < e->nvalues; i++)
		if (strcmp(e->values[i], val) == 0)
			return true;
	return false;
}

static bool expr_match(const struct k8sobj_expr *e, const struct k8sobj_kv *labels, uint32_t n)
{
	const char *val = label_find(labels, n, e->key);

	switch (e->op) {
	case K8SOBJ_OP_IN:
		return val && in_values(e, val);
	case K8SOBJ_OP_NOTIN:
		return !val || !in_values(e, val);
	case K8SOBJ_OP_EXISTS:
		return val != NULL;
	case K8SOBJ_OP_NOTEXIST:
		return val == NULL;
	default:
		return false;
	}
}

bool selector_match(const struct k8sobj_selector *sel, const struct k8sobj_kv *labels,
		    uint32_t n)
{
	const char *val;
	uint32_t i;

	if (!sel)
		return false;
	for (i = 0; i < sel->nlabels; i++) {
		val = label_find(labels, n, sel->labels[i].key);
		if (!val || strcmp(val, sel->labels[i].val) != 0)
			return false;
	}
	for (i = 0; i < sel->nexprs; i++)
		if (!expr_match(&sel->exprs[i], labels, n))
			return false;
	return true;
}

bool selector_match_obj(const struct k8sobj_selector *sel, const struct k8sobj *o)
{
	return o && selector_match(sel, o->labels, o->nlabels);
}

bool selector_is_empty(const struct k8sobj_selector *sel)
{
	return sel && sel->nlabels == 0 && sel->nexprs == 0;
}
