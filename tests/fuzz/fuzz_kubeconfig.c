// SPDX-License-Identifier: MIT
/* deps: codec/kubeconfig.c codec/yaml.c codec/yaml_tree.c codec/b64.c codec/json.c codec/json_dom.c codec/jsonw.c base/buf.c base/err.c base/mem.c */
/*
 * fuzz_kubeconfig.c: libFuzzer target for the kubeconfig reader. The input is the file. Each
 * run parses it, checks what the header promises about a result (names set and unique, data
 * lengths matching NUL-terminated buffers, no empty strings) or an error (no result, a
 * message, -EINVAL or -E2BIG), resolves the default and every named context, and frees. A
 * resolved cluster always has a server. Any violation aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "codec/kubeconfig.h"
#include "fuzz_util.h"

static void check_str(const char *s)
{
	check(!s || *s);
}

static void check_data(const unsigned char *d, size_t n)
{
	check(!d == !n);
	check(!d || d[n] == '\0');
}

static void check_names(const void *arr, size_t n, size_t size)
{
	const char *e = arr;
	size_t i, j;

	for (i = 0; i < n; i++) {
		const char *a = *(char *const *)(const void *)(e + i * size);

		check(a && *a);
		for (j = 0; j < i; j++)
			check(strcmp(a, *(char *const *)(const void *)(e + j * size)) != 0);
	}
}

static void check_result(const struct kubeconfig *kc)
{
	size_t i;

	check_names(kc->clusters, kc->nclusters, sizeof(*kc->clusters));
	check_names(kc->users, kc->nusers, sizeof(*kc->users));
	check_names(kc->contexts, kc->ncontexts, sizeof(*kc->contexts));
	check_str(kc->current_context);
	for (i = 0; i < kc->nclusters; i++) {
		check_str(kc->clusters[i].server);
		check_str(kc->clusters[i].ca_file);
		check_data(kc->clusters[i].ca_data, kc->clusters[i].ca_len);
	}
	for (i = 0; i < kc->nusers; i++) {
		check_str(kc->users[i].token);
		check_data(kc->users[i].cert_data, kc->users[i].cert_len);
		check_data(kc->users[i].key_data, kc->users[i].key_len);
	}
	for (i = 0; i < kc->ncontexts; i++) {
		check_str(kc->contexts[i].cluster);
		check_str(kc->contexts[i].user);
	}
}

static void resolve(const struct kubeconfig *kc, const char *name)
{
	const struct kubeconfig_cluster *cl = NULL;
	const struct kubeconfig_user *u = NULL;
	struct ebuf eb = { "" };
	int r = kubeconfig_resolve(kc, name, &cl, &u, &eb);

	if (r) {
		check(r == -ENOENT && eb.msg[0]);
		return;
	}
	check(cl && cl->server && cl >= kc->clusters && cl < kc->clusters + kc->nclusters);
	check(!u || (u >= kc->users && u < kc->users + kc->nusers));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kubeconfig *kc = (struct kubeconfig *)&size;
	struct ebuf eb = { "" };
	size_t i;
	int r;

	r = kubeconfig_parse((const char *)data, size, &kc, &eb);
	if (r) {
		check(!kc && eb.msg[0] && (r == -EINVAL || r == -E2BIG));
		return 0;
	}
	check(kc);
	check_result(kc);
	resolve(kc, NULL);
	for (i = 0; i < kc->ncontexts && i < 16; i++)
		resolve(kc, kc->contexts[i].name);
	kubeconfig_free(kc);
	return 0;
}
