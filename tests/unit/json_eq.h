/* SPDX-License-Identifier: MIT */
/*
 * json_eq.h: dom_eq(), the deep comparison of two parsed JSON trees, with which the unit test
 * and the fuzz target of the JSON codec both check write -> parse round trips. One copy, so
 * both hold a tree to the same "identical": same types, counts, keys (presence and bytes),
 * string and number text, children in order.
 */
#ifndef VIRGIL_JSON_EQ_H
#define VIRGIL_JSON_EQ_H

#include <stdbool.h>
#include <string.h>

#include "codec/json.h"

static __attribute__((unused)) bool dom_eq(const struct json *a, const struct json *b)
{
	const struct json *x, *y;

	if (!a || !b)
		return a == b;
	if (a->type != b->type || a->count != b->count || !a->key != !b->key)
		return false;
	if (a->key && (a->keylen != b->keylen || memcmp(a->key, b->key, a->keylen)))
		return false;
	if ((a->type == JSON_STRING || a->type == JSON_NUMBER) &&
	    (a->len != b->len || memcmp(a->str, b->str, a->len)))
		return false;
	for (x = a->child, y = b->child; x && y; x = x->next, y = y->next)
		if (!dom_eq(x, y))
			return false;
	return !x && !y;
}

#endif
