// SPDX-License-Identifier: MIT
/* deps: base/sort.c base/mem.c */
/*
 * test_sort.c: sort_vec() against a stable counting sort kept here as the reference, byte for
 * byte, for element sizes 1 to 200, every n in 0..100 and a few larger ones, on random, sorted,
 * reversed, equal, nearly sorted and sawtooth inputs. Each element carries its input index in
 * the bytes after the key, so byte equality with the stable reference also proves stability and
 * that no byte was lost in a partial copy. Also: comparison counts (n - 1 for sorted input,
 * O(n) for reversed, n log n for random), no allocation for small or sorted inputs, and the
 * in-place fallback when the scratch allocation fails.
 */
#include <errno.h>

#include "tap.h"
#include "base/mem.h"
#include "base/sort.h"

enum pattern { P_RANDOM, P_SORTED, P_REVERSED, P_EQUAL, P_NEARLY, P_SAWTOOTH, P_COUNT };

static const char *const pattern_name[P_COUNT] = {
	"random", "sorted", "reversed", "equal", "nearly sorted", "sawtooth",
};

static uint32_t rng_state = 2463534242u;
static unsigned long ncmp;
/* number of key values drawn by random patterns: small forces many ties */
static unsigned nkeys = 7;

/* xorshift32: deterministic, so a failure reproduces */
static uint32_t rng(void)
{
	uint32_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

/* Only byte 0 is the key: the other bytes are payload that must travel with it. */
static int key_cmp(const void *a, const void *b)
{
	ncmp++;
	return (int)*(const unsigned char *)a - (int)*(const unsigned char *)b;
}

static unsigned char key_of(enum pattern p, size_t i, size_t n)
{
	switch (p) {
	case P_RANDOM:
		return (unsigned char)(rng() % nkeys);
	case P_SORTED:
		return (unsigned char)(i * 256 / (n + 1));
	case P_REVERSED:
		return (unsigned char)(255 - i * 256 / (n + 1));
	case P_EQUAL:
		return 42;
	case P_NEARLY:
		return (unsigned char)(i * 200 / (n + 1));
	default:
		return (unsigned char)(i % 23);
	}
}

/* n elements of size bytes: the key, then index i and a pattern derived from it. */
static void fill(unsigned char *v, size_t n, size_t size, enum pattern p)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		unsigned char *e = v + i * size;

		e[0] = key_of(p, i, n);
		for (j = 1; j < size; j++)
			e[j] = (unsigned char)(j < 5 ? i >> (8 * (j - 1)) : i * 7 + j);
	}
	if (p == P_NEARLY && n > 1) {
		for (i = 0; i < n / 100 + 1; i++) {
			unsigned char *x = v + rng() % n * size, *y = v + rng() % n * size, t;

			for (j = 0; j < size; j++) {
				t = x[j];
				x[j] = y[j];
				y[j] = t;
			}
		}
	}
}

/*
 * The reference: a stable counting sort on the key byte, too simple to be wrong. Elements are
 * dealt into out in input order, each key's slots starting after all smaller keys.
 */
static void ref_sort(unsigned char *v, size_t n, size_t size, unsigned char *out)
{
	size_t start[257] = { 0 }, i, k;

	for (i = 0; i < n; i++)
		start[v[i * size] + 1]++;
	for (k = 1; k < 257; k++)
		start[k] += start[k - 1];
	for (i = 0; i < n; i++)
		memcpy(out + start[v[i * size]]++ * size, v + i * size, size);
	memcpy(v, out, n * size);
}

/* Sort one input both ways; false (with a diagnostic) when they differ. */
static bool check_one(size_t n, size_t size, enum pattern p)
{
	unsigned char *got = malloc(n * size + 1), *want = malloc(n * size + 1);
	unsigned char *tmp = malloc(n * size + 1);
	bool same;

	fill(got, n, size, p);
	memcpy(want, got, n * size);
	ref_sort(want, n, size, tmp);
	sort_vec(got, n, size, key_cmp);
	same = memcmp(got, want, n * size) == 0;
	if (!same)
		diag("differs: n %zu size %zu %s", n, size, pattern_name[p]);
	free(got);
	free(want);
	free(tmp);
	return same;
}

static const size_t sizes[] = { 1, 2, 3, 4, 8, 12, 13, 24, 44, 48, 129, 200 };
static const size_t big_n[] = { 127, 128, 129, 255, 1000, 4099, 10000 };

static void test_against_reference(void)
{
	char msg[96];
	size_t s, n, k;
	bool all;
	int p;

	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (p = 0; p < P_COUNT; p++) {
			all = true;
			for (n = 0; n <= 100; n++)
				all &= check_one(n, sizes[s], p);
			for (k = 0; k < sizeof(big_n) / sizeof(big_n[0]); k++)
				all &= check_one(big_n[k], sizes[s], p);
			snprintf(msg, sizeof(msg), "size %zu, %s, n 0..100 and up to 10000",
				 sizes[s], pattern_name[p]);
			ok(all, msg);
		}
	}
}

/* Random inputs with few and with many distinct keys, several seeds. */
static void test_random_keys(void)
{
	static const unsigned keys[] = { 2, 3, 17, 256 };
	char msg[96];
	size_t k, n, seed;
	bool all;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		nkeys = keys[k];
		all = true;
		for (seed = 0; seed < 20; seed++)
			for (n = 2; n <= 300; n += 7)
				all &= check_one(n, 44, P_RANDOM);
		all &= check_one(10000, 24, P_RANDOM) && check_one(10000, 48, P_RANDOM);
		snprintf(msg, sizeof(msg), "random with %u distinct keys", keys[k]);
		ok(all, msg);
	}
	nkeys = 7;
}

struct rec44 {
	uint32_t key;
	uint32_t idx;
	char payload[36];
};

static int rec_cmp(const void *a, const void *b)
{
	const struct rec44 *x = a, *y = b;

	ncmp++;
	return x->key < y->key ? -1 : x->key > y->key;
}

/* A realistic record with a 32-bit key: sorted, stable, payload intact, n log n comparisons. */
static void test_struct44(void)
{
	size_t n = 10000, i;
	struct rec44 *v = calloc(n, sizeof(*v));
	bool sorted = true, stable = true, intact = true;

	is_int(sizeof(*v), 44, "struct is 44 bytes");
	for (i = 0; i < n; i++) {
		v[i].key = rng() % 5000;
		v[i].idx = (uint32_t)i;
		memset(v[i].payload, (int)(i & 0x7f), sizeof(v[i].payload));
	}
	ncmp = 0;
	sort_vec(v, n, sizeof(*v), rec_cmp);
	ok(ncmp <= n * 14, "random: at most n log2 n comparisons");
	for (i = 0; i < n; i++) {
		intact &= v[i].payload[0] == (char)(v[i].idx & 0x7f) &&
			  v[i].payload[35] == (char)(v[i].idx & 0x7f);
		if (i > 0) {
			sorted &= v[i - 1].key <= v[i].key;
			stable &= v[i - 1].key < v[i].key || v[i - 1].idx < v[i].idx;
		}
	}
	ok(sorted, "struct44: sorted");
	ok(stable, "struct44: equal keys in input order");
	ok(intact, "struct44: payload travelled with its key");
	free(v);
}

static int int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	ncmp++;
	return x < y ? -1 : x > y;
}

/* Adaptivity: what sorted, reversed and nearly sorted inputs cost, and when memory is used. */
static void test_adaptive(void)
{
	size_t n = 10000, i;
	int *v = malloc(n * sizeof(*v));
	bool sorted = true;

	for (i = 0; i < n; i++)
		v[i] = (int)i;
	ncmp = 0;
	fault_reset(1);
	sort_vec(v, n, sizeof(*v), int_cmp);
	is_int(fault_reset(0), 0, "sorted: no allocation");
	is_int(ncmp, n - 1, "sorted: n - 1 comparisons");

	for (i = 0; i < n; i++)
		v[i] = (int)(n - i);
	ncmp = 0;
	sort_vec(v, n, sizeof(*v), int_cmp);
	ok(ncmp <= 2 * n, "strictly descending: at most 2n comparisons");
	for (i = 0; i < n; i++)
		sorted &= v[i] == (int)i + 1;
	ok(sorted, "strictly descending: sorted");

	for (i = 0; i < n; i++)
		v[i] = (int)i;
	for (i = 0; i < n / 100; i++) {
		size_t a = rng() % n, b = rng() % n;
		int t = v[a];

		v[a] = v[b];
		v[b] = t;
	}
	ncmp = 0;
	sort_vec(v, n, sizeof(*v), int_cmp);
	ok(ncmp < n * 14 / 2, "1% swapped: well under n log2 n comparisons");
	diag("1%% swapped: %lu comparisons for n %zu", ncmp, n);
	for (sorted = true, i = 0; i < n; i++)
		sorted &= v[i] == (int)i;
	ok(sorted, "1% swapped: sorted");

	for (i = 0; i < 32; i++)
		v[i] = (int)(rng() % 100);
	fault_reset(1);
	sort_vec(v, 32, sizeof(*v), int_cmp);
	is_int(fault_reset(0), 0, "32 small elements: no allocation");
	free(v);
}

static int never_called(const void *a, const void *b)
{
	(void)a;
	(void)b;
	ncmp++;
	return 0;
}

static void test_limits(void)
{
	unsigned char one[3] = { 9, 8, 7 }, two[2] = { 5, 1 };

	ncmp = 0;
	sort_vec(NULL, 0, 8, never_called);
	sort_vec(NULL, 1, 8, never_called);
	sort_vec(one, 1, 3, never_called);
	sort_vec(one, 3, 0, never_called);
	is_int(ncmp, 0, "n 0, n 1, size 0: no comparison");
	is_int(one[0] * 100 + one[1] * 10 + one[2], 987, "n 1: untouched");
	sort_vec(two, 2, 1, key_cmp);
	ok(two[0] == 1 && two[1] == 5, "two elements swapped");
	sort_vec(two, 2, 1, key_cmp);
	ok(two[0] == 1 && two[1] == 5, "two sorted elements kept");
}

/* The scratch allocation fails: still sorted and stable, for small and large elements. */
static void test_fallback(void)
{
	static const size_t fsizes[] = { 1, 4, 24, 44, 48, 200 };
	static const size_t fn[] = { 33, 100, 1000 };
	char msg[96];
	size_t s, k;
	int p, saved;
	bool all;

	for (s = 0; s < sizeof(fsizes) / sizeof(fsizes[0]); s++) {
		all = true;
		for (k = 0; k < sizeof(fn) / sizeof(fn[0]); k++) {
			for (p = 0; p < P_COUNT; p++) {
				fault_reset(1);
				errno = 0;
				all &= check_one(fn[k], fsizes[s], p);
				saved = errno;
				/* sorted and equal inputs return before allocating */
				if (p != P_SORTED && p != P_EQUAL)
					all &= fault_reset(0) == 1;
				fault_reset(0);
				all &= saved == 0;
			}
		}
		snprintf(msg, sizeof(msg), "allocation fails, size %zu: sorted, stable, errno kept",
			 fsizes[s]);
		ok(all, msg);
	}
	/* with size > 128 even a short array needs the allocation for its temporary */
	fault_reset(1);
	all = check_one(20, 200, P_RANDOM);
	is_int(fault_reset(0), 1, "size 200, n 20: the allocation was tried");
	ok(all, "size 200, n 20, allocation fails: sorted and stable");
}

int main(void)
{
	test_limits();
	test_against_reference();
	test_random_keys();
	test_struct44();
	test_adaptive();
	test_fallback();
	return tap_done();
}
