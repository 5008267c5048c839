// SPDX-License-Identifier: MIT
/* vethname.c: host veth names from attachment identity (see vethname.h). */
#include <stdint.h>
#include <string.h>

#include "vethname.h"

static uint64_t fnv1a(uint64_t h, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void vethname(const char *id, const char *ifname, char *out)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t h = 0xcbf29ce484222325ULL;
	int i;

	/* the NUL separator keeps ("ab","c") and ("a","bc") apart */
	h = fnv1a(h, id, strlen(id) + 1);
	h = fnv1a(h, ifname, strlen(ifname));
	memcpy(out, VETHNAME_PREFIX, 2);
	for (i = 0; i < 12; i++)
		out[2 + i] = hex[(h >> (60 - 4 * i)) & 0xf];
	out[VETHNAME_LEN] = '\0';
}

bool vethname_is_ours(const char *name)
{
	int i;

	if (strlen(name) != VETHNAME_LEN || memcmp(name, VETHNAME_PREFIX, 2) != 0)
		return false;
	for (i = 2; i < VETHNAME_LEN; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return true;
}
