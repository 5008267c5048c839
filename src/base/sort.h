/* SPDX-License-Identifier: MIT */
/*
 * sort.h: sort_vec(), a stable, adaptive replacement for qsort(3) on hot paths.
 *
 * musl's qsort is a smoothsort that moves elements through a memcpy with a run-time size, which
 * is slow for the 24-48 byte records the policy compiler sorts, and most of those arrays arrive
 * already (or nearly) sorted. sort_vec() checks for that first and otherwise runs a natural merge
 * sort that moves elements with inline word copies.
 */
#ifndef VIRGIL_SORT_H
#define VIRGIL_SORT_H

#include <stddef.h>

/*
 * Sort n elements of size bytes at base in the order cmp gives, like qsort(3), with these
 * guarantees:
 * - stable: elements that compare equal keep their input order, always (also on the fallback
 *   below);
 * - n - 1 comparisons and no allocation or element move when the input is already ascending
 *   (cmp <= 0 for every neighbour pair); O(n) as well for a strictly descending input;
 * - O(n log n) comparisons otherwise, and O(n log n) element moves of fewer than 24 bytes, or
 *   O(n) moves of 24 bytes and more (for n < 2^32 those are sorted as 32-bit indexes, each
 *   element then moved once);
 * - one scratch allocation: n / 2 elements when size < 24, else 6n bytes plus one element;
 *   none for n <= 32 elements of at most 128 bytes, nor for ascending input;
 * - never fails: when the scratch cannot be allocated it sorts in place by insertion, still
 *   stable but O(n^2). errno is left as it was.
 * n 0 or 1 (with any base, NULL too) and size 0 are no-ops. cmp is called only with pointers
 * into base or into scratch aligned as malloc aligns, so it may read the elements as their type.
 * cmp must be a consistent total preorder; with one that is not the order is unspecified, but
 * memory outside base[0..n*size) and the scratch is never touched. Re-entrant; no global state.
 */
void sort_vec(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

#endif
