/* SPDX-License-Identifier: MIT */
/*
 * vethname.h: the host-side veth name of an attachment, derived from (container ID, ifname)
 * alone, so DEL and GC find the link with no stored state. "vg" + 12 hex digits of a 64-bit
 * FNV-1a hash: 14 bytes, within IFNAMSIZ; 48 bits make a clash on one node negligible.
 */
#ifndef VIRGIL_VETHNAME_H
#define VIRGIL_VETHNAME_H

#include <stdbool.h>

#define VETHNAME_PREFIX "vg"
#define VETHNAME_LEN 14

/* out must hold VETHNAME_LEN + 1 bytes. */
void vethname(const char *id, const char *ifname, char *out);
/* Does name have the shape of a name vethname() makes? */
bool vethname_is_ours(const char *name);

#endif
