// SPDX-License-Identifier: MIT
/* apiurl.c: API server URL and host:port parsing (see apiurl.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../base/err.h"
#include "../base/util.h"
#include "apiurl.h"
#include "cidr.h"

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

/* host[:port] or [v6][:port] in s[0..n); the port defaults to def. */
static int parse_authority(const char *s, size_t n, uint16_t def, struct apiurl *u,
			   struct ebuf *eb)
{
	const char *host = s, *colon = NULL;
	size_t hn, i;
	uint64_t port = def;
	struct ipaddr ip;

	if (n && s[0] == '[') {
		const char *end = memchr(s, ']', n);

		if (!end) {
			ebuf_set(eb, "unterminated '[' in the address");
			return -EINVAL;
		}
		host = s + 1;
		hn = (size_t)(end - host);
		if (ipaddr_parse(host, hn, &ip) || ip.family != AF_INET6) {
			ebuf_set(eb, "'%.*s' is not an IPv6 address", (int)hn, host);
			return -EINVAL;
		}
		if (end + 1 < s + n) {
			if (end[1] != ':') {
				ebuf_set(eb, "garbage after ']'");
				return -EINVAL;
			}
			colon = end + 1;
		}
	} else {
		colon = memchr(s, ':', n);
		hn = colon ? (size_t)(colon - s) : n;
		for (i = 0; i < hn; i++)
			if (!host_char(s[i])) {
				ebuf_set(eb, "invalid character in host '%.*s'", (int)hn, s);
				return -EINVAL;
			}
	}
	if (hn == 0 || hn > APIURL_HOST_MAX) {
		ebuf_set(eb, "missing or overlong host");
		return -EINVAL;
	}
	if (colon && (parse_u64(colon + 1, (size_t)(s + n - colon - 1), 65535, &port) || !port)) {
		ebuf_set(eb, "invalid port '%.*s'", (int)(s + n - colon - 1), colon + 1);
		return -EINVAL;
	}
	memcpy(u->host, host, hn);
	u->host[hn] = '\0';
	u->port = (uint16_t)port;
	return 0;
}

int apiurl_parse(const char *s, struct apiurl *out, struct ebuf *eb)
{
	static const char scheme[] = "https://";
	const char *auth, *end;
	size_t n;

	if (!s || strncmp(s, scheme, sizeof(scheme) - 1) != 0) {
		ebuf_set(eb, "'%s' is not an https:// URL", s ? s : "");
		return -EINVAL;
	}
	auth = s + sizeof(scheme) - 1;
	end = auth + strcspn(auth, "/?#@");
	if (*end == '@' || *end == '?' || *end == '#' || (*end == '/' && end[1] != '\0')) {
		ebuf_set(eb, "'%s': only scheme, host and port are allowed", s);
		return -EINVAL;
	}
	n = (size_t)(end - auth);
	return parse_authority(auth, n, 443, out, eb);
}

int apiurl_parse_hostport(const char *s, struct apiurl *out, struct ebuf *eb)
{
	if (!s) {
		ebuf_set(eb, "empty address");
		return -EINVAL;
	}
	return parse_authority(s, strlen(s), 443, out, eb);
}

int apiurl_format(const struct apiurl *u, char *out, size_t cap)
{
	int n = strchr(u->host, ':') ? snprintf(out, cap, "[%s]:%u", u->host, u->port) :
				       snprintf(out, cap, "%s:%u", u->host, u->port);

	return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}
