// SPDX-License-Identifier: MIT
/*
 * json_dom.c: the DOM side of the JSON parser (see json.h): everything that only reads a
 * finished document, namely the root, member and element lookup, the string and exact-integer
 * accessors, and freeing the document. json.c builds the document; its layout is shared
 * through json_int.h.
 */
#include <errno.h>
#include <string.h>

#include "../base/mem.h"
#include "json.h"
#include "json_int.h"

const struct json *json_root(const struct json_doc *doc)
{
	return doc ? &doc->nodes[0] : NULL;
}

void json_doc_free(struct json_doc *doc)
{
	mem_free(doc);
}

const struct json *json_get(const struct json *obj, const char *key)
{
	const struct json *it;
	size_t n;

	if (!json_is(obj, JSON_OBJECT) || !key)
		return NULL;
	n = strlen(key);
	json_for_each(it, obj)
		if (it->keylen == n && memcmp(it->key, key, n) == 0)
			return it;
	return NULL;
}

const struct json *json_at(const struct json *arr, size_t i)
{
	const struct json *it;

	if (!json_is(arr, JSON_ARRAY) || i >= arr->count)
		return NULL;
	json_for_each(it, arr)
		if (i-- == 0)
			return it;
	return NULL;
}

bool json_str_has_nul(const struct json *v)
{
	return json_is(v, JSON_STRING) && v->len && memchr(v->str, '\0', v->len);
}

/* Sign and magnitude of an integer-looking number; overflow is reported after the syntax. */
static int int_parts(const struct json *v, bool *neg, uint64_t *mag)
{
	bool over = false;
	size_t i = 0;
	unsigned d;

	if (!json_is(v, JSON_NUMBER) || !v->str)
		return -EINVAL;
	*neg = v->len && v->str[0] == '-';
	i = *neg;
	if (i >= v->len)
		return -EINVAL;
	for (*mag = 0; i < v->len; i++) {
		if (v->str[i] < '0' || v->str[i] > '9')
			return -EINVAL;
		d = (unsigned)(v->str[i] - '0');
		if (*mag > (UINT64_MAX - d) / 10)
			over = true;
		else
			*mag = *mag * 10 + d;
	}
	return over ? -ERANGE : 0;
}

int json_u64(const struct json *v, uint64_t *out)
{
	uint64_t mag;
	bool neg;
	int r = int_parts(v, &neg, &mag);

	if (r)
		return r;
	if (neg && mag)
		return -ERANGE;
	*out = mag;
	return 0;
}

int json_i64(const struct json *v, int64_t *out)
{
	uint64_t mag;
	bool neg;
	int r = int_parts(v, &neg, &mag);

	if (r)
		return r;
	if (mag > (uint64_t)INT64_MAX + neg)
		return -ERANGE;
	/* two's complement: the magnitude of INT64_MIN is only representable unsigned */
	*out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	return 0;
}
