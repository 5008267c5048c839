// SPDX-License-Identifier: MIT
/* deps: core/cniconf.c core/cnienv.c core/cniresult.c core/cniresult_enc.c core/cidr.c codec/json.c codec/json_dom.c codec/jsonw.c base/buf.c base/err.c base/mem.c base/util.c */
/*
 * fuzz_cniconf.c: libFuzzer target for the CNI protocol layer. The first byte selects the
 * command (low 3 bits, mod 6) and the mode (top 2 bits):
 *   0  the rest is stdin for cni_conf_parse()
 *   1  CNI_ARGS up to the first NUL, then stdin
 *   2  NUL-separated CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS, CNI_PATH for
 *      cni_env_parse()
 *   3  the rest is a Result for cni_result_decode() and a node-state file
 * Every mode also runs cni_version_encode() on the rest. Properties checked (abort on
 * failure): every error encodes to valid JSON; a parsed config honours its documented limits;
 * a decoded result encodes in every version, the encoding decodes again, and from 0.3.0 up
 * decode(encode(x)) == x (MTUs dropped below 1.1.0); accepted environments obey their rules.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "codec/json.h"
#include "core/cniconf.h"
#include "fuzz_util.h"

static void check_json(const struct buf *b)
{
	struct json_doc *d = NULL;

	check(json_parse(b->p, b->len, NULL, &d, NULL) == 0);
	json_doc_free(d);
}

static void check_error(const struct cni_error *e, const char *ver)
{
	struct buf b = BUF_INIT;

	check(e->code != 0);
	check(cni_error_encode(e, ver, &b) == 0);
	check_json(&b);
	buf_free(&b);
}

static void roundtrip(const struct cni_result *r)
{
	struct buf b = BUF_INIT;
	struct cni_result back, want;
	struct cni_error err;
	struct json_doc *d;
	unsigned v;
	size_t i;
	int rc;

	for (v = 0; v < CNI_VER_COUNT; v++) {
		buf_reset(&b);
		rc = cni_result_encode(r, (enum cni_ver)v, &b);
		if (v < CNI_V030 && r->nips == 0) {
			check(rc == -EINVAL && b.len == 0);
			continue;
		}
		check(rc == 0);
		d = NULL;
		check(json_parse(b.p, b.len, NULL, &d, NULL) == 0);
		check(cni_result_decode(json_root(d), &back, &err) == 0);
		if (v >= CNI_V030) {
			want = *r;
			for (i = 0; v < CNI_V110 && i < want.nifaces; i++)
				want.ifaces[i].mtu = 0;
			check(cni_result_eq(&back, &want));
		} else {
			check(back.nips >= 1 && back.nips <= 2 && back.nifaces == 0);
		}
		json_doc_free(d);
	}
	buf_free(&b);
}

static void check_conf(const struct cni_conf *c, enum cni_cmd cmd)
{
	size_t i;

	check(c->doc && c->name && c->ver_str && c->data_dir && c->data_dir[0] == '/');
	check(cni_id_valid(c->name, strlen(c->name)));
	check(c->mtu == 0 || (c->mtu >= 576 && c->mtu <= 65535));
	check(c->nranges <= 2 && c->nreq_ips <= 2);
	check(c->nranges < 2 || c->ranges[0].addr.family != c->ranges[1].addr.family);
	check(c->nreq_ips < 2 || c->req_ips[0].family != c->req_ips[1].family);
	check(!c->has_mac || !(c->mac[0] & 1));
	check(cmd != CNI_CMD_CHECK || c->ver >= CNI_V040);
	check((cmd != CNI_CMD_GC && cmd != CNI_CMD_STATUS) || c->ver == CNI_V110);
	check(cmd == CNI_CMD_GC || c->nvalid == 0);
	for (i = 0; i < c->nvalid; i++) {
		check(cni_conf_attachment_valid(c, c->valid[i].id, c->valid[i].ifname));
		check(i == 0 || strcmp(c->valid[i - 1].id, c->valid[i].id) <= 0);
	}
	if (c->prev_err.code)
		check(cmd == CNI_CMD_DEL && !c->has_prev);
	if (c->has_prev)
		roundtrip(&c->prev);
}

static void run_conf(const char *in, size_t n, enum cni_cmd cmd, const char *args)
{
	struct cni_env env = { .cmd = cmd, .args = args };
	struct cni_error err;
	struct cni_conf c;

	if (cni_conf_parse(in, n, &env, &c, &err) == 0)
		check_conf(&c, cmd);
	else
		check_error(&err, c.ver_str);
	cni_conf_free(&c);
}

struct fenv {
	const char *v[6];
};

static const char *fenv_get(const char *name, void *ctx)
{
	static const char *const names[6] = { "CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS",
					      "CNI_IFNAME", "CNI_ARGS", "CNI_PATH" };
	struct fenv *f = ctx;
	int i;

	for (i = 0; i < 6; i++) {
		if (strcmp(name, names[i]) == 0)
			return f->v[i];
	}
	return NULL;
}

static void run_env(char *rest, size_t n, const char *cmd)
{
	struct fenv f = { { cmd } };
	struct cni_error err;
	struct cni_env env;
	size_t i, k = 1;

	f.v[1] = rest;
	for (i = 0; i < n && k < 5; i++) {
		if (rest[i] == '\0')
			f.v[++k] = rest + i + 1;
	}
	if (cni_env_parse(fenv_get, &f, &env, &err)) {
		check_error(&err, NULL);
		return;
	}
	check(env.cmd != CNI_CMD_ADD || (env.containerid && env.netns && env.ifname));
	check(!env.containerid || cni_id_valid(env.containerid, strlen(env.containerid)));
	check(!env.ifname || (strlen(env.ifname) <= 15 && !strchr(env.ifname, '/')));
	check(!env.netns || strlen(env.netns) < 512);
}

static void run_result(const char *in, size_t n)
{
	struct json_doc *d = NULL;
	struct cni_result r;
	struct cni_error err;
	struct cidr ranges[2];
	size_t nr;
	uint32_t mtu;
	struct ebuf eb;

	if (json_parse(in, n, NULL, &d, NULL) == 0) {
		if (cni_result_decode(json_root(d), &r, &err) == 0)
			roundtrip(&r);
		else
			check_error(&err, "1.0.0");
		json_doc_free(d);
	}
	if (cni_nodestate_parse(in, n, ranges, &nr, &mtu, &eb) == 0)
		check(nr <= 2 && (mtu == 0 || mtu >= 576));
	else
		check(nr == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[6] = { "ADD", "DEL", "CHECK", "STATUS", "VERSION", "GC" };
	enum cni_cmd cmd;
	struct buf b = BUF_INIT;
	struct cni_error err;
	char *rest, *nul;
	size_t n;

	if (size < 1)
		return 0;
	cmd = (enum cni_cmd)((data[0] & 7) % 6 + 1);
	n = size - 1;
	/* a private NUL-terminated copy: the env and CNI_ARGS modes need C strings */
	rest = malloc(n + 1);
	if (!rest)
		return 0;
	memcpy(rest, data + 1, n);
	rest[n] = '\0';
	switch (data[0] >> 6) {
	case 0:
		run_conf(rest, n, cmd, NULL);
		break;
	case 1:
		nul = memchr(rest, '\0', n);
		if (nul)
			run_conf(nul + 1, n - (size_t)(nul + 1 - rest), cmd, *rest ? rest : NULL);
		break;
	case 2:
		run_env(rest, n, names[cmd - 1]);
		break;
	default:
		run_result(rest, n);
		break;
	}
	if (cni_version_encode(rest, n, &b, &err) == 0)
		check_json(&b);
	else
		check_error(&err, NULL);
	buf_free(&b);
	free(rest);
	return 0;
}
