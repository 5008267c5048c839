/* SPDX-License-Identifier: MIT */
/*
 * selector.h: Kubernetes label selector matching (apimachinery LabelSelector semantics) over
 * the selectors and sorted label arrays that k8sobj.h decodes. matchLabels and
 * matchExpressions are ANDed; an empty selector ({}) matches every label set. Pure: no
 * allocation, no state, re-entrant.
 */
#ifndef VIRGIL_SELECTOR_H
#define VIRGIL_SELECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include "k8sobj.h"

/*
 * Whether the labels (n entries sorted by key with strcmp, as in struct k8sobj) satisfy sel.
 * In: key present with one of the values. NotIn: key absent, or its value is none of them.
 * Exists: key present (any value, "" included). DoesNotExist: key absent. A NULL selector
 * matches nothing (Go's nil selector); an unknown operator matches nothing.
 */
bool selector_match(const struct k8sobj_selector *sel, const struct k8sobj_kv *labels,
		    uint32_t n);
/* selector_match against an object's labels; false when o is NULL. */
bool selector_match_obj(const struct k8sobj_selector *sel, const struct k8sobj *o);
/* No matchLabels and no matchExpressions: matches everything. */
bool selector_is_empty(const struct k8sobj_selector *sel);

#endif
