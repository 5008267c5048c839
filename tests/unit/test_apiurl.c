// SPDX-License-Identifier: MIT
/* deps: core/apiurl.c core/cidr.c base/err.c base/util.c base/buf.c base/mem.c */
/* test_apiurl.c: API server URLs and host:port pairs, valid and invalid. */
#include <errno.h>
#include "tap.h"
#include "base/err.h"
#include "core/apiurl.h"

static const struct {
	const char *in;
	const char *host;
	int port;
} good[] = {
	{ "https://10.0.0.10:6443", "10.0.0.10", 6443 },
	{ "https://10.0.0.10:6443/", "10.0.0.10", 6443 },
	{ "https://k8s.example.com", "k8s.example.com", 443 },
	{ "https://[fd00::10]:6443", "fd00::10", 6443 },
	{ "https://[::1]", "::1", 443 },
	{ "https://127.0.0.1:7445", "127.0.0.1", 7445 },
	{ "https://control-plane.minikube.internal:8443", "control-plane.minikube.internal", 8443 },
};

static const char *bad[] = {
	"http://10.0.0.10:6443", "10.0.0.10:6443", "https://", "https://:6443",
	"https://10.0.0.10:0", "https://10.0.0.10:65536", "https://10.0.0.10:64x",
	"https://user@host", "https://host/api", "https://host?x=1", "https://[fd00::10",
	"https://[10.0.0.1]:6443", "https://[fd00::1]x", "https://ho st", "https://host:",
};

int main(void)
{
	struct apiurl u;
	struct ebuf eb;
	char s[300];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		is_int(apiurl_parse(good[i].in, &u, &eb), 0, good[i].in);
		is_str(u.host, good[i].host, "host");
		is_int(u.port, good[i].port, "port");
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ebuf_clear(&eb);
		is_int(apiurl_parse(bad[i], &u, &eb), -EINVAL, bad[i]);
		ok(!ebuf_empty(&eb), "with a reason");
	}
	is_int(apiurl_parse_hostport("[fd00::1]:6443", &u, NULL), 0, "hostport v6");
	is_int(apiurl_format(&u, s, sizeof(s)), 0, "format v6");
	is_str(s, "[fd00::1]:6443", "formatted v6 has brackets");
	is_int(apiurl_parse_hostport("10.96.0.1:443", &u, NULL), 0, "hostport v4");
	is_int(apiurl_format(&u, s, sizeof(s)), 0, "format v4");
	is_str(s, "10.96.0.1:443", "formatted v4");
	is_int(apiurl_format(&u, s, 5), -ENOSPC, "format: too small");
	is_int(apiurl_parse_hostport(NULL, &u, NULL), -EINVAL, "NULL");
	return tap_done();
}
