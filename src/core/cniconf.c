// SPDX-License-Identifier: MIT
/*
 * cniconf.c: the network config on stdin (see cniconf.h): name and version gates, our keys,
 * requested addresses and MAC from args/runtimeConfig/CNI_ARGS, prevResult, the GC
 * attachment list, and the agent's node-state file. The messages that the Go skel library
 * prints are reproduced byte for byte, so runtimes and people comparing plugins see the
 * familiar text; everything else names the key and the value that were wrong.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/err.h"
#include "../base/mem.h"
#include "../codec/json.h"
#include "cniconf.h"

#define DEFAULT_DATA_DIR "/var/lib/virgil"
#define PATH_CAP 1024           /* dataDir and logFile, leaving room for what is appended */
#define NAME_CAP 255            /* the network name is a directory name */

/* ---- shared value parsers -------------------------------------------------------------- */

static const struct json *member(const struct json *o, const char *key)
{
	const struct json *v = json_get(o, key);

	return json_is(v, JSON_NULL) ? NULL : v;
}

static bool is_cstr(const struct json *v)
{
	return json_is(v, JSON_STRING) && !json_str_has_nul(v);
}

/* A short, printable rendering of a value for messages. */
static void describe(const struct json *v, char *out, size_t cap)
{
	static const char *const names[] = {
		[JSON_NULL] = "null", [JSON_FALSE] = "false", [JSON_TRUE] = "true",
		[JSON_ARRAY] = "an array", [JSON_OBJECT] = "an object",
	};

	if (json_is(v, JSON_STRING))
		snprintf(out, cap, "\"%.*s%s\"", (int)MIN(v->len, 80), v->str,
			 v->len > 80 ? "..." : "");
	else if (json_is(v, JSON_NUMBER))
		snprintf(out, cap, "%.*s", (int)MIN(v->len, 40), v->str);
	else
		snprintf(out, cap, "%s", v && names[v->type] ? names[v->type] : "nothing");
}

/* Code 7 "invalid <path>", details "<value>: <why>". */
static int bad(struct cni_error *err, const char *path, const struct json *v, const char *why)
{
	char msg[sizeof(err->msg)], val[128];

	snprintf(msg, sizeof(msg), "invalid %s", path);
	describe(v, val, sizeof(val));
	cni_error_set(err, CNI_ERR_CONFIG, msg, "%s: %s", val, why);
	return -EINVAL;
}

static int bad_text(struct cni_error *err, const char *path, const char *s, size_t n,
		    const char *why)
{
	char msg[sizeof(err->msg)];

	snprintf(msg, sizeof(msg), "invalid %s", path);
	cni_error_set(err, CNI_ERR_CONFIG, msg, "\"%.*s\": %s", (int)MIN(n, 80), s, why);
	return -EINVAL;
}

static int ranges_parse(const struct json *arr, struct cidr out[2], size_t *n, struct ebuf *eb)
{
	const struct json *it;
	struct cidr c;
	size_t i = 0, j;

	*n = 0;
	if (!arr || json_is(arr, JSON_NULL))
		return 0;
	if (!json_is(arr, JSON_ARRAY)) {
		ebuf_set(eb, "podCIDRs: not an array");
		return -EINVAL;
	}
	json_for_each(it, arr) {
		if (!json_is(it, JSON_STRING) || cidr_parse(it->str, it->len, &c)) {
			ebuf_set(eb, "podCIDRs[%zu]: not an address with a prefix", i);
			return -EINVAL;
		}
		if (cidr_has_host_bits(&c)) {
			ebuf_set(eb, "podCIDRs[%zu]: %s has host bits set", i, it->str);
			return -EINVAL;
		}
		for (j = 0; j < *n; j++) {
			if (out[j].addr.family == c.addr.family) {
				ebuf_set(eb, "podCIDRs[%zu]: a second IPv%c range", i,
					 c.addr.family == AF_INET ? '4' : '6');
				return -EINVAL;
			}
		}
		out[(*n)++] = c;
		i++;
	}
	return 0;
}

static const char *mtu_parse(const struct json *v, uint32_t *out)
{
	uint64_t u;

	*out = 0;
	if (!v || json_is(v, JSON_NULL))
		return NULL;
	if (json_u64(v, &u) || (u && (u < 576 || u > 65535)))
		return "want an integer 576..65535 (0 or absent: the uplink's)";
	*out = (uint32_t)u;
	return NULL;
}

/* ---- network config -------------------------------------------------------------------- */

static const char *const supported_list =
	"[\"0.1.0\" \"0.2.0\" \"0.3.0\" \"0.3.1\" \"0.4.0\" \"1.0.0\" \"1.1.0\"]";

static int conf_version(const struct json *root, const struct cni_env *env, struct cni_conf *c,
			struct cni_error *err)
{
	const struct json *v = member(root, "cniVersion");
	static const char *const verbs[] = {
		[CNI_CMD_CHECK] = "CHECK", [CNI_CMD_STATUS] = "STATUS", [CNI_CMD_GC] = "GC",
	};
	enum cni_ver need = env->cmd == CNI_CMD_CHECK ? CNI_V040 : CNI_V110;
	char msg[64];

	if (v && !json_is(v, JSON_STRING)) {
		cni_error_set(err, CNI_ERR_DECODE, "decoding version from network config: "
			      "cniVersion is not a string", NULL);
		return -EINVAL;
	}
	if (!v || v->len == 0) {
		c->ver = CNI_V010;
	} else if (json_str_has_nul(v) || cni_ver_parse(v->str, &c->ver)) {
		cni_error_set(err, CNI_ERR_INCOMPATIBLE, "incompatible CNI versions",
			      "config is \"%.64s\", plugin supports %s", v->str, supported_list);
		return -EINVAL;
	}
	c->ver_str = cni_ver_str(c->ver);
	if ((env->cmd == CNI_CMD_CHECK || env->cmd == CNI_CMD_STATUS || env->cmd == CNI_CMD_GC) &&
	    c->ver < need) {
		snprintf(msg, sizeof(msg), "config version does not allow %s", verbs[env->cmd]);
		cni_error_set(err, CNI_ERR_INCOMPATIBLE, msg, NULL);
		return -EINVAL;
	}
	return 0;
}

static int conf_name(const struct json *root, struct cni_conf *c, struct cni_error *err)
{
	const struct json *v = member(root, "name");

	if (json_is(v, JSON_STRING) && v->len == 0)
		v = NULL;
	if (!v) {
		cni_error_set(err, CNI_ERR_CONFIG, "missing network name", NULL);
		return -EINVAL;
	}
	if (!json_is(v, JSON_STRING))
		return bad(err, "name", v, "not a string");
	if (v->len > NAME_CAP || !cni_id_valid(v->str, v->len)) {
		cni_error_set(err, CNI_ERR_CONFIG, "invalid characters found in network name",
			      "\"%.80s\"", v->str);
		return -EINVAL;
	}
	c->name = v->str;
	return 0;
}

static int conf_ipam(const struct json *root, struct cni_error *err)
{
	const struct json *v = member(root, "ipam"), *t;

	if (!v)
		return 0;
	t = json_get(v, "type");
	cni_error_set(err, CNI_ERR_UNSUPPORTED_FIELD, "unsupported field: ipam",
		      "ipam type \"%.64s\": Virgil allocates pod addresses itself; remove the "
		      "\"ipam\" section", is_cstr(t) ? t->str : "");
	return -EINVAL;
}

static int abs_path(const struct json *v, const char *key, const char **out, struct cni_error *err)
{
	if (!v)
		return 0;
	if (!is_cstr(v) || v->len == 0 || v->str[0] != '/' || v->len >= PATH_CAP)
		return bad(err, key, v, "want an absolute path under 1024 bytes");
	*out = v->str;
	return 0;
}

static int conf_scalars(const struct json *root, struct cni_conf *c, struct cni_error *err)
{
	const struct json *v;
	const char *why;

	v = member(root, "type");
	if (v && !is_cstr(v))
		return bad(err, "type", v, "not a string");
	c->type = v ? v->str : NULL;
	why = mtu_parse(member(root, "mtu"), &c->mtu);
	if (why)
		return bad(err, "mtu", member(root, "mtu"), why);
	c->data_dir = DEFAULT_DATA_DIR;
	if (abs_path(member(root, "dataDir"), "dataDir", &c->data_dir, err) ||
	    abs_path(member(root, "logFile"), "logFile", &c->log_file, err) ||
	    abs_path(member(root, "agentSocket"), "agentSocket", &c->agent_socket, err))
		return -EINVAL;
	/* sun_path is 108 bytes */
	if (c->agent_socket && strlen(c->agent_socket) >= 108)
		return bad(err, "agentSocket", member(root, "agentSocket"),
			   "want a path under 108 bytes (a unix socket)");
	v = member(root, "debug");
	if (v && !json_is_bool(v))
		return bad(err, "debug", v, "want true or false");
	c->debug = json_is(v, JSON_TRUE);
	return 0;
}

static int conf_misc(const struct json *root, struct cni_conf *c, struct cni_error *err)
{
	struct ebuf eb = { { 0 } };
	const struct json *v;
	char why[128];

	if (ranges_parse(json_get(root, "podCIDRs"), c->ranges, &c->nranges, &eb)) {
		cni_error_set(err, CNI_ERR_CONFIG, "invalid podCIDRs", "%s", eb.msg);
		return -EINVAL;
	}
	v = member(root, "dns");
	if (v && cni_dns_check(v, why, sizeof(why)))
		return bad(err, "dns", v, why);
	c->dns = v;
	return 0;
}

/* ---- requested addresses, MAC and CNI_ARGS --------------------------------------------- */

static int req_ip_add(struct cni_conf *c, const char *s, size_t n, const char *path,
		      struct cni_error *err)
{
	struct ipaddr a;
	struct cidr cd;
	size_t i;

	if (memchr(s, '/', n) ? cidr_parse(s, n, &cd) : ipaddr_parse(s, n, &a))
		return bad_text(err, path, s, n, "not an IP address");
	if (memchr(s, '/', n))
		a = cd.addr;
	for (i = 0; i < c->nreq_ips; i++) {
		if (c->req_ips[i].family != a.family)
			continue;
		if (ipaddr_eq(&c->req_ips[i], &a))
			return 0;
		return bad_text(err, path, s, n, "a second requested address of this family");
	}
	c->req_ips[c->nreq_ips++] = a;
	return 0;
}

static int ips_list(const struct json *arr, const char *key, struct cni_conf *c,
		    struct cni_error *err)
{
	const struct json *it;
	char path[64];
	size_t i = 0;

	if (!arr)
		return 0;
	if (!json_is(arr, JSON_ARRAY))
		return bad(err, key, arr, "not an array");
	json_for_each(it, arr) {
		snprintf(path, sizeof(path), "%s[%zu]", key, i++);
		if (!json_is(it, JSON_STRING))
			return bad(err, path, it, "not a string");
		if (req_ip_add(c, it->str, it->len, path, err))
			return -EINVAL;
	}
	return 0;
}

static int mac_take(const char *s, size_t n, const char *path, struct cni_conf *c,
		    struct cni_error *err)
{
	static const uint8_t zero[6];
	uint8_t mac[6];

	if (cni_mac_parse(s, n, mac))
		return bad_text(err, path, s, n, "not a MAC address");
	if ((mac[0] & 1) || memcmp(mac, zero, 6) == 0)
		return bad_text(err, path, s, n, "not a unicast MAC address");
	if (!c->has_mac)
		memcpy(c->mac, mac, 6);
	c->has_mac = true;
	return 0;
}

static int mac_member(const struct json *v, const char *path, struct cni_conf *c,
		      struct cni_error *err)
{
	if (!v)
		return 0;
	if (!json_is(v, JSON_STRING))
		return bad(err, path, v, "not a string");
	return v->len ? mac_take(v->str, v->len, path, c, err) : 0;
}

static int obj_member(const struct json *o, const char *key, const char *path,
		      const struct json **out, struct cni_error *err)
{
	*out = member(o, key);
	if (*out && !json_is(*out, JSON_OBJECT))
		return bad(err, path, *out, "not an object");
	return 0;
}

struct cargs {
	const char *ip, *mac;
};

/* K=V;K=V in place; the last of a repeated key wins, as with Go's LoadArgs. */
static int cni_args_split(char *p, struct cni_conf *c, struct cargs *a, struct cni_error *err)
{
	char *semi, *eq;

	for (; p; p = semi ? semi + 1 : NULL) {
		semi = strchr(p, ';');
		if (semi)
			*semi = '\0';
		if (!*p)
			continue;
		eq = strchr(p, '=');
		if (!eq || eq == p)
			return bad_text(err, "CNI_ARGS", p, strlen(p), "want KEY=VALUE");
		*eq++ = '\0';
		if (strcmp(p, "IP") == 0)
			a->ip = *eq ? eq : NULL;
		else if (strcmp(p, "MAC") == 0)
			a->mac = *eq ? eq : NULL;
		else if (strcmp(p, "K8S_POD_NAME") == 0)
			c->pod_name = *eq ? eq : NULL;
		else if (strcmp(p, "K8S_POD_NAMESPACE") == 0)
			c->pod_namespace = *eq ? eq : NULL;
	}
	return 0;
}

static int conf_cni_args(const char *args, bool ips_given, struct cni_conf *c,
			 struct cni_error *err)
{
	struct cargs a = { 0 };
	const char *p, *comma;

	if (!args)
		return 0;
	c->args_buf = mem_strndup(args, strlen(args));
	if (!c->args_buf)
		return -ENOMEM;
	if (cni_args_split(c->args_buf, c, &a, err))
		return -EINVAL;
	/* CONVENTIONS.md: CNI_ARGS IP is ignored when args/runtimeConfig carry the same */
	for (p = ips_given ? NULL : a.ip; p; p = comma ? comma + 1 : NULL) {
		comma = strchr(p, ',');
		if (req_ip_add(c, p, comma ? (size_t)(comma - p) : strlen(p), "CNI_ARGS IP", err))
			return -EINVAL;
	}
	if (!c->has_mac && a.mac)
		return mac_take(a.mac, strlen(a.mac), "CNI_ARGS MAC", c, err);
	return 0;
}

static int conf_addrs(const struct json *root, const struct cni_env *env, struct cni_conf *c,
		      struct cni_error *err)
{
	const struct json *rc, *args, *acni, *aips, *rips;

	if (obj_member(root, "runtimeConfig", "runtimeConfig", &rc, err) ||
	    obj_member(root, "args", "args", &args, err) ||
	    obj_member(args, "cni", "args.cni", &acni, err))
		return -EINVAL;
	aips = member(acni, "ips");
	rips = member(rc, "ips");
	if (ips_list(aips, "args.cni.ips", c, err) || ips_list(rips, "runtimeConfig.ips", c, err))
		return -EINVAL;
	if (mac_member(member(rc, "mac"), "runtimeConfig.mac", c, err) ||
	    mac_member(member(acni, "mac"), "args.cni.mac", c, err))
		return -EINVAL;
	return conf_cni_args(env->args, (aips && aips->count) || (rips && rips->count), c, err);
}

/* ---- prevResult and GC attachments ----------------------------------------------------- */

static int conf_prev(const struct json *root, enum cni_cmd cmd, struct cni_conf *c,
		     struct cni_error *err)
{
	const struct json *v = member(root, "prevResult");

	if (!v)
		return 0;
	if (cni_result_decode_named(v, "prevResult", &c->prev,
				    cmd == CNI_CMD_DEL ? &c->prev_err : err))
		return cmd == CNI_CMD_DEL ? 0 : -EINVAL;
	c->has_prev = true;
	return 0;
}

static int att_cmp(const void *a, const void *b)
{
	const struct cni_attachment *x = a, *y = b;
	int r = strcmp(x->id, y->id);

	return r ? r : strcmp(x->ifname, y->ifname);
}

static int att_list(const struct json *arr, const char *key, struct cni_conf *c,
		    struct cni_error *err)
{
	const struct json *it, *id, *ifn;
	char path[64];
	size_t i = 0;

	json_for_each(it, arr) {
		id = json_get(it, "containerID");
		ifn = json_get(it, "ifname");
		snprintf(path, sizeof(path), "%s[%zu]", key, i++);
		if (!json_is(it, JSON_OBJECT))
			return bad(err, path, it, "not an object");
		if (!is_cstr(id) || !is_cstr(ifn))
			return bad(err, path, it, "want string containerID and ifname");
		c->valid[c->nvalid].id = id->str;
		c->valid[c->nvalid++].ifname = ifn->str;
	}
	return 0;
}

static int conf_valid(const struct json *root, struct cni_conf *c, struct cni_error *err)
{
	static const char *const keys[] = { "cni.dev/valid-attachments", "cni.dev/attachments" };
	const struct json *v[2];
	size_t i, j, n = 0;

	for (i = 0; i < 2; i++) {
		v[i] = member(root, keys[i]);
		if (v[i] && !json_is(v[i], JSON_ARRAY))
			return bad(err, keys[i], v[i], "not an array");
		n += v[i] ? v[i]->count : 0;
	}
	if (!n)
		return 0;
	c->valid = mem_calloc(n, sizeof(*c->valid));
	if (!c->valid)
		return -ENOMEM;
	for (i = 0; i < 2; i++) {
		if (att_list(v[i], keys[i], c, err))
			return -EINVAL;
	}
	qsort(c->valid, c->nvalid, sizeof(*c->valid), att_cmp);
	for (i = j = 0; i < c->nvalid; i++) {
		if (j == 0 || att_cmp(&c->valid[j - 1], &c->valid[i]))
			c->valid[j++] = c->valid[i];
	}
	c->nvalid = j;
	return 0;
}

bool cni_conf_attachment_valid(const struct cni_conf *c, const char *id, const char *ifname)
{
	struct cni_attachment key = { .id = id, .ifname = ifname };

	if (!c || !c->nvalid || !id || !ifname)
		return false;
	return bsearch(&key, c->valid, c->nvalid, sizeof(key), att_cmp) != NULL;
}

/* ---- entry points ---------------------------------------------------------------------- */

static int conf_all(const char *in, size_t n, const struct cni_env *env, struct cni_conf *c,
		    struct cni_error *err)
{
	struct ebuf eb = { { 0 } };
	const struct json *root;
	struct cni_error verr;
	int e, ev;

	e = json_parse(in, n, NULL, &c->doc, &eb);
	if (e)
		return cni_error_json(e, &eb, "error unmarshall network config", err);
	root = json_root(c->doc);
	if (!json_is(root, JSON_OBJECT)) {
		ebuf_set(&eb, "not a JSON object");
		return cni_error_json(-EINVAL, &eb, "error unmarshall network config", err);
	}
	/* skel reports the name first; reading the version anyway lets that error carry it */
	ev = conf_version(root, env, c, &verr);
	e = conf_name(root, c, err);
	if (!e && ev && err)
		*err = verr;
	if (!e)
		e = ev;
	if (!e)
		e = conf_ipam(root, err);
	if (!e)
		e = conf_scalars(root, c, err);
	if (!e)
		e = conf_misc(root, c, err);
	if (!e)
		e = conf_addrs(root, env, c, err);
	if (!e)
		e = conf_prev(root, env->cmd, c, err);
	if (!e && env->cmd == CNI_CMD_GC)
		e = conf_valid(root, c, err);
	if (e == -ENOMEM)
		cni_error_set(err, CNI_ERR_TRY_AGAIN, "out of memory", NULL);
	return e;
}

int cni_conf_parse(const char *in, size_t n, const struct cni_env *env, struct cni_conf *out,
		   struct cni_error *err)
{
	const char *ver_str;
	enum cni_ver ver;
	int e;

	memset(out, 0, sizeof(*out));
	e = conf_all(in, n, env, out, err);
	if (!e)
		return 0;
	ver = out->ver;
	ver_str = out->ver_str;
	cni_conf_free(out);
	out->ver = ver;
	out->ver_str = ver_str;
	return e;
}

void cni_conf_free(struct cni_conf *c)
{
	if (!c)
		return;
	json_doc_free(c->doc);
	mem_free(c->args_buf);
	mem_free(c->valid);
	memset(c, 0, sizeof(*c));
}

int cni_nodestate_parse(const char *in, size_t n, struct cidr ranges[2], size_t *nranges,
			uint32_t *mtu, struct ebuf *eb)
{
	struct json_doc *doc = NULL;
	const struct json *root;
	const char *why;
	int e;

	*nranges = 0;
	*mtu = 0;
	e = json_parse(in, n, NULL, &doc, eb);
	if (e)
		return e;
	root = json_root(doc);
	e = -EINVAL;
	if (!json_is(root, JSON_OBJECT)) {
		ebuf_set(eb, "not a JSON object");
		goto out;
	}
	if (ranges_parse(json_get(root, "podCIDRs"), ranges, nranges, eb))
		goto out;
	why = mtu_parse(json_get(root, "mtu"), mtu);
	if (why) {
		ebuf_set(eb, "mtu: %s", why);
		goto out;
	}
	e = 0;
out:
	if (e)
		*nranges = 0;
	json_doc_free(doc);
	return e;
}
