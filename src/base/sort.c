// SPDX-License-Identifier: MIT
/*
 * sort.c: sort_vec(), a stable natural merge sort (see sort.h for the contract).
 *
 * After the ascending check, the array is cut into natural runs: strictly descending ones are
 * reversed (strictly, so equal elements never swap), runs shorter than SORT_MINRUN are extended
 * by binary insertion. Runs are merged in powersort order (Munro and Wild, 2018), which keeps
 * merges balanced with a stack of O(log n) runs and no tuning. A merge first skips the prefix of
 * the left run and the suffix of the right run that are already in place (exponential search,
 * so nearly sorted input pays little) and copies only the shorter remaining side to scratch.
 *
 * Elements of SORT_IND_MIN bytes or more are not moved while sorting: 32-bit indexes are, and
 * each element moves once at the end. That costs an extra multiply per comparison and a final
 * pass, and saves most of the copying: on 44-byte records with 1% of them swapped, moving the
 * records through every merge level was 3x slower than sorting indexes. Bytes move through
 * mv_fwd()/mv_bwd(), inline word loops: memcpy() with a run-time size is an out-of-line call into
 * musl's generic routine, which dominated qsort's profile for these sizes.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "mem.h"
#include "sort.h"

/* Runs shorter than this are extended by binary insertion (8 to 32 measured the same). */
#define SORT_MINRUN 16
/* Largest element kept in the on-stack temporary; larger ones get room in the scratch. */
#define SORT_TMP_MAX 128
/* Arrays this short (of small elements) are insertion-sorted without allocating. */
#define SORT_SMALL 32
/* Elements this large are sorted by index; at 16 bytes both ways measured the same. */
#define SORT_IND_MIN 24
/* Wins in a row after which a merge searches for the end of the streak instead. */
#define SORT_GALLOP 7
/* Powersort keeps at most log2(n) + 2 runs on its stack; more is a bug, forced to merge. */
#define SORT_STACK 72

/* The release build is -Os, which otherwise keeps these one-liners out of line in hot loops. */
#define SORT_HOT inline __attribute__((always_inline))

struct sort_ctx {
	char *base;
	size_t size;
	int (*cmp)(const void *, const void *);
	char *tmp;		/* room for one element */
	char *buf;		/* room for n / 2 elements: the shorter side of a merge */
	const char *elems;	/* when not NULL, base holds uint32_t indexes into elems */
	size_t esize;		/* of the elements at elems */
};

struct sort_run {
	size_t lo, len;
	unsigned power;		/* of the boundary with the run above it on the stack */
};

/*
 * Copy n bytes front to back in 8-byte words, then a 4-byte word and bytes for the tail, so dst
 * may overlap src when dst < src: every word is loaded before it is stored. The fixed-size
 * memcpy()s compile to single loads and stores; the empty asm keeps gcc from turning the loop
 * back into a memcpy() call.
 */
static SORT_HOT void mv_fwd(char *dst, const char *src, size_t n)
{
	uint64_t x;
	uint32_t y;
	size_t i;

	for (i = 0; n - i >= 8; i += 8) {
		memcpy(&x, src + i, 8);
		__asm__("" : "+r"(x));
		memcpy(dst + i, &x, 8);
	}
	if (n - i >= 4) {
		memcpy(&y, src + i, 4);
		memcpy(dst + i, &y, 4);
		i += 4;
	}
	for (; i < n; i++)
		dst[i] = src[i];
}

/* Copy n bytes back to front, so dst may overlap src when dst > src. */
static SORT_HOT void mv_bwd(char *dst, const char *src, size_t n)
{
	uint64_t x;
	uint32_t y;

	for (; n >= 8; n -= 8) {
		memcpy(&x, src + n - 8, 8);
		__asm__("" : "+r"(x));
		memcpy(dst + n - 8, &x, 8);
	}
	if (n >= 4) {
		n -= 4;
		memcpy(&y, src + n, 4);
		memcpy(dst + n, &y, 4);
	}
	while (n--)
		dst[n] = src[n];
}

static SORT_HOT char *at(const struct sort_ctx *c, size_t i)
{
	return c->base + i * c->size;
}

static SORT_HOT bool gt(const struct sort_ctx *c, const void *a, const void *b)
{
	if (c->elems) {
		a = c->elems + *(const uint32_t *)a * c->esize;
		b = c->elems + *(const uint32_t *)b * c->esize;
	}
	return c->cmp(a, b) > 0;
}

static void swap(const struct sort_ctx *c, char *a, char *b)
{
	size_t i;

	for (i = 0; i < c->size; i++) {
		char x = a[i];

		a[i] = b[i];
		b[i] = x;
	}
}

/* Length of the ascending prefix of [lo, n): the already-sorted check and the first run. */
static size_t ascending(const struct sort_ctx *c, size_t lo, size_t n)
{
	size_t i;

	for (i = lo + 1; i < n; i++)
		if (gt(c, at(c, i - 1), at(c, i)))
			break;
	return i - lo;
}

/* Length of the run starting at lo (< n), reversed first if it is strictly descending. */
static size_t find_run(const struct sort_ctx *c, size_t lo, size_t n)
{
	size_t i = lo + 1, a, b;

	if (i == n || !gt(c, at(c, lo), at(c, i)))
		return ascending(c, lo, n);
	for (i++; i < n && gt(c, at(c, i - 1), at(c, i)); i++)
		;
	for (a = lo, b = i - 1; a < b; a++, b--)
		swap(c, at(c, a), at(c, b));
	return i - lo;
}

/* Insert each of [mid, hi) into the sorted [lo, mid), after any equal element (stable). */
static void insert_bin(const struct sort_ctx *c, size_t lo, size_t mid, size_t hi)
{
	size_t i, l, r, m;

	for (i = mid; i < hi; i++) {
		if (!gt(c, at(c, i - 1), at(c, i)))
			continue;
		for (l = lo, r = i - 1; l < r;) {
			m = l + (r - l) / 2;
			if (gt(c, at(c, m), at(c, i)))
				r = m;
			else
				l = m + 1;
		}
		mv_fwd(c->tmp, at(c, i), c->size);
		mv_bwd(at(c, l + 1), at(c, l), (i - l) * c->size);
		mv_fwd(at(c, l), c->tmp, c->size);
	}
}

/* insert_bin() without a temporary: the fallback for large elements when allocation failed. */
static void insert_swap(const struct sort_ctx *c, size_t lo, size_t mid, size_t hi)
{
	size_t i, j;

	for (i = mid; i < hi; i++)
		for (j = i; j > lo && gt(c, at(c, j - 1), at(c, j)); j--)
			swap(c, at(c, j - 1), at(c, j));
}

/* Does e come after key: e > key when strict, e >= key otherwise. */
static SORT_HOT bool past(const struct sort_ctx *c, const char *e, const char *key, bool strict)
{
	return strict ? gt(c, e, key) : !gt(c, key, e);
}

/*
 * First i in [0, len] where a[i] (a at p, sorted) is past key. Exponential search from the
 * front or the back, so an answer d elements from that end costs O(log d) comparisons.
 */
static size_t search(const struct sort_ctx *c, const char *key, const char *p, size_t len,
		     bool strict, bool back)
{
	size_t lo = 0, hi = len, step = 1, m;

	/* the answer stays in [lo, hi] */
	for (; back && step <= hi; step *= 2) {
		m = hi - step;
		if (!past(c, p + m * c->size, key, strict)) {
			lo = m + 1;
			break;
		}
		hi = m;
	}
	for (; !back && step - 1 < len - lo; step *= 2) {
		m = lo + step - 1;
		if (past(c, p + m * c->size, key, strict)) {
			hi = m;
			break;
		}
		lo = m + 1;
	}
	while (lo < hi) {
		m = lo + (hi - lo) / 2;
		if (past(c, p + m * c->size, key, strict))
			hi = m;
		else
			lo = m + 1;
	}
	return lo;
}

/*
 * Merge a = [a, a + na) and b = [a + na, + nb) with a copied out to scratch; na <= nb. After
 * SORT_GALLOP wins in a row for one side, the length of its winning streak is searched for and
 * moved at once: a far displaced element then costs O(log n), not O(n), comparisons.
 */
static void merge_lo(const struct sort_ctx *c, char *a, size_t na, size_t nb)
{
	size_t sz = c->size, wa = 0, wb = 0, k;
	char *out = a, *pa = c->buf, *ea = c->buf + na * sz, *pb = a + na * sz, *eb = pb + nb * sz;

	mv_fwd(c->buf, a, na * sz);
	while (pa < ea && pb < eb) {
		if (wb >= SORT_GALLOP) {
			k = search(c, pa, pb, (size_t)(eb - pb) / sz, false, false) * sz;
			mv_fwd(out, pb, k);
			pb += k;
			out += k;
			wb = 0;
		} else if (wa >= SORT_GALLOP) {
			k = search(c, pb, pa, (size_t)(ea - pa) / sz, true, false) * sz;
			mv_fwd(out, pa, k);
			pa += k;
			out += k;
			wa = 0;
		} else if (gt(c, pa, pb)) {
			mv_fwd(out, pb, sz);
			pb += sz;
			out += sz;
			wb++;
			wa = 0;
		} else {
			mv_fwd(out, pa, sz);
			pa += sz;
			out += sz;
			wa++;
			wb = 0;
		}
	}
	mv_fwd(out, pa, (size_t)(ea - pa));
}

/* Merge as merge_lo() but with b copied out and filling from the back; nb < na. */
static void merge_hi(const struct sort_ctx *c, char *a, size_t na, size_t nb)
{
	size_t sz = c->size, wa = 0, wb = 0, k;
	char *ea = a + na * sz, *eb = c->buf + nb * sz, *out = ea + nb * sz;

	mv_fwd(c->buf, ea, nb * sz);
	while (ea > a && eb > c->buf) {
		if (wa >= SORT_GALLOP) {
			k = (size_t)(ea - a) / sz;
			k = (k - search(c, eb - sz, a, k, true, true)) * sz;
			mv_bwd(out - k, ea - k, k);
			ea -= k;
			out -= k;
			wa = 0;
		} else if (wb >= SORT_GALLOP) {
			k = (size_t)(eb - c->buf) / sz;
			k = (k - search(c, ea - sz, c->buf, k, false, true)) * sz;
			mv_fwd(out - k, eb - k, k);
			eb -= k;
			out -= k;
			wb = 0;
		} else if (gt(c, ea - sz, eb - sz)) {
			ea -= sz;
			out -= sz;
			mv_fwd(out, ea, sz);
			wa++;
			wb = 0;
		} else {
			eb -= sz;
			out -= sz;
			mv_fwd(out, eb, sz);
			wb++;
			wa = 0;
		}
	}
	mv_fwd(a, c->buf, (size_t)(eb - c->buf));
}

/* Merge the sorted runs [lo, mid) and [mid, hi). */
static void merge(const struct sort_ctx *c, size_t lo, size_t mid, size_t hi)
{
	size_t na, nb;

	if (!gt(c, at(c, mid - 1), at(c, mid)))
		return;
	/* a[lo..] <= b[0] and b[..hi) >= a[mid - 1] are in place already */
	lo += search(c, at(c, mid), at(c, lo), mid - lo, true, false);
	hi = mid + search(c, at(c, mid - 1), at(c, mid), hi - mid, false, true);
	na = mid - lo;
	nb = hi - mid;
	if (na <= nb)
		merge_lo(c, at(c, lo), na, nb);
	else
		merge_hi(c, at(c, lo), na, nb);
}

/*
 * Powersort's priority of the boundary between runs [s1, s1 + n1) and [s1 + n1, + n2) of n: the
 * first bit where the binary fractions of the two runs' midpoints (as parts of n) differ. Here
 * a and b are the midpoints times 2n, doubled each round so their integer parts fall out.
 */
static unsigned node_power(size_t n, size_t s1, size_t n1, size_t n2)
{
	size_t a = 2 * s1 + n1, b = a + n1 + n2, two_n = 2 * n;
	unsigned p;

	for (p = 1;; p++) {
		a *= 2;
		b *= 2;
		if (b >= two_n && a < two_n)
			return p;
		if (a >= two_n) {
			a -= two_n;
			b -= two_n;
		}
	}
}

/* Length of the run at lo, extended to SORT_MINRUN (or the end) by insertion. */
static size_t next_run(const struct sort_ctx *c, size_t lo, size_t n, size_t len)
{
	size_t end = n - lo < SORT_MINRUN ? n : lo + SORT_MINRUN;

	if (!len)
		len = find_run(c, lo, n);
	if (lo + len < end) {
		insert_bin(c, lo, lo + len, end);
		len = end - lo;
	}
	return len;
}

static void merge_top(const struct sort_ctx *c, struct sort_run *st, size_t *top)
{
	struct sort_run *l = &st[*top - 1], *r = &st[*top];

	merge(c, l->lo, r->lo, r->lo + r->len);
	l->len += r->len;
	(*top)--;
}

/* Sort [0, n) given that [0, first) is ascending (first 1 when nothing is known). */
static void merge_sort(const struct sort_ctx *c, size_t n, size_t first)
{
	struct sort_run st[SORT_STACK];
	size_t top = 0, lo, len;
	unsigned p;

	st[0].lo = 0;
	st[0].len = next_run(c, 0, n, first > 1 ? first : 0);
	for (lo = st[0].len; lo < n; lo += len) {
		len = next_run(c, lo, n, 0);
		p = node_power(n, st[top].lo, st[top].len, len);
		while (top > 0 && (st[top - 1].power > p || top + 1 >= SORT_STACK))
			merge_top(c, st, &top);
		st[top].power = p;
		top++;
		st[top].lo = lo;
		st[top].len = len;
	}
	while (top > 0)
		merge_top(c, st, &top);
}

/* Move every element to where v says it belongs, following each cycle once. */
static void permute(const struct sort_ctx *c, uint32_t *v, size_t n)
{
	size_t i, j, k;

	for (i = 0; i < n; i++) {
		if (v[i] == i)
			continue;
		mv_fwd(c->tmp, at(c, i), c->size);
		for (j = i;; j = k) {
			k = v[j];
			v[j] = (uint32_t)j;
			if (k == i)
				break;
			mv_fwd(at(c, j), at(c, k), c->size);
		}
		mv_fwd(at(c, j), c->tmp, c->size);
	}
}

/*
 * Sort 32-bit indexes and move each element once at the end: merges then move 4 bytes per
 * element instead of size, and the scratch is smaller. False when it cannot be allocated.
 */
static bool sort_ind(struct sort_ctx *c, size_t n, size_t first)
{
	struct sort_ctx ic = { .size = 4, .cmp = c->cmp, .elems = c->base, .esize = c->size };
	uint32_t *v = mem_alloc((n + n / 2 + 2) * sizeof(*v) + c->size);
	size_t i;

	if (!v)
		return false;
	for (i = 0; i < n; i++)
		v[i] = (uint32_t)i;
	ic.base = (char *)v;
	ic.buf = (char *)(v + n);
	ic.tmp = (char *)(v + n + n / 2);
	merge_sort(&ic, n, first);
	if (!c->tmp)
		c->tmp = (char *)(v + n + n / 2 + 2);
	permute(c, v, n);
	mem_free(v);
	return true;
}

/* Sort the elements themselves, with n / 2 of them as scratch. False when not allocated. */
static bool sort_direct(struct sort_ctx *c, size_t n, size_t first)
{
	c->buf = mem_alloc(n / 2 * c->size);
	if (!c->buf)
		return false;
	if (!c->tmp)
		c->tmp = c->buf;
	merge_sort(c, n, first);
	mem_free(c->buf);
	return true;
}

void sort_vec(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	_Alignas(16) char tmp[SORT_TMP_MAX];
	struct sort_ctx c = {
		.base = base, .size = size, .cmp = cmp, .tmp = size <= sizeof(tmp) ? tmp : NULL,
	};
	size_t first;
	int saved = errno;
	bool done = false;

	if (n < 2 || size == 0)
		return;
	first = ascending(&c, 0, n);
	if (first == n)
		return;
	if (n > SORT_SMALL || !c.tmp) {
		if (size >= SORT_IND_MIN && n <= UINT32_MAX)
			done = sort_ind(&c, n, first);
		else
			done = sort_direct(&c, n, first);
	}
	if (!done && c.tmp)
		insert_bin(&c, 0, first, n);
	else if (!done)
		insert_swap(&c, 0, first, n);
	errno = saved;
}
