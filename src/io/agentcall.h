/* SPDX-License-Identifier: MIT */
/*
 * agentcall.h: the CNI plugin's end of the plugin <-> agent socket (core/podmsg.h): connect,
 * send one request, wait for the answer, all within one deadline.
 */
#ifndef VIRGIL_AGENTCALL_H
#define VIRGIL_AGENTCALL_H

#include "../base/compat.h"

struct ebuf;
struct podmsg_req;

/*
 * 0 when the agent confirmed. -EPROTO when it answered no (its reason in eb), -ETIMEDOUT,
 * -ECONNREFUSED / -ENOENT (no agent listening), other -errno; eb always says what happened.
 */
int agentcall(const char *path, const struct podmsg_req *r, unsigned timeout_ms,
	      struct ebuf *eb) __must_check;

#endif
