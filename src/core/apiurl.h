/* SPDX-License-Identifier: MIT */
/*
 * apiurl.h: the API server addresses Virgil meets (kubeconfig "server:", --server, cached
 * endpoints, KUBERNETES_SERVICE_HOST/PORT) as host + port. Only https is accepted: the agent
 * never talks to an API server in clear text. Pure.
 */
#ifndef VIRGIL_APIURL_H
#define VIRGIL_APIURL_H

#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"

struct ebuf;

#define APIURL_HOST_MAX 253

struct apiurl {
	char host[APIURL_HOST_MAX + 1]; /* IP literal without brackets, or a DNS name */
	uint16_t port;
};

/*
 * "https://host[:port][/]" with host a DNS name, an IPv4 literal or a bracketed IPv6 literal;
 * port defaults to 443. A path other than "/", a query, userinfo, or another scheme is
 * -EINVAL with the reason in eb.
 */
int apiurl_parse(const char *s, struct apiurl *out, struct ebuf *eb) __must_check;
/* "host:port" or "[v6]:port" (cached endpoints, the service env pair joined). */
int apiurl_parse_hostport(const char *s, struct apiurl *out, struct ebuf *eb) __must_check;
/* Format as "host:port" / "[v6]:port" into out; 0 or -ENOSPC. */
int apiurl_format(const struct apiurl *u, char *out, size_t cap) __must_check;

#endif
