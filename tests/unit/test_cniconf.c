// SPDX-License-Identifier: MIT
/* deps: core/cniconf.c core/cnienv.c core/cniresult.c core/cniresult_enc.c core/cidr.c codec/json.c codec/json_dom.c codec/jsonw.c base/buf.c base/err.c base/mem.c base/util.c */
/*
 * test_cniconf.c: the CNI protocol layer. Environment rules per command, config errors with
 * the exact skel messages, CNI_ARGS as real runtimes send it, requested-address and MAC
 * precedence, GC attachment lists, result goldens for every spec version with decode/encode
 * round trips, prevResult decoding, error/VERSION/node-state documents, every prefix of a
 * valid config, and allocation failure at every point. Inputs sit against a guard page.
 */
#include <errno.h>

#include "tap.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "codec/json.h"
#include "core/cniconf.h"

/* ---- helpers --------------------------------------------------------------------------- */

static int parse_g(const char *json, enum cni_cmd cmd, const char *args, struct cni_conf *c,
		   struct cni_error *e)
{
	struct cni_env env = { .cmd = cmd, .args = args };
	size_t n = strlen(json);
	char *g = guard_copy(json, n);
	int r;

	memset(e, 0, sizeof(*e));
	r = cni_conf_parse(g, n, &env, c, e);
	guard_free(g, n);
	return r;
}

static const char *fmt_ip(const struct ipaddr *a)
{
	static char s[4][IPADDR_STRLEN];
	static int k;

	k = (k + 1) % 4;
	if (ipaddr_format(a, s[k], sizeof(s[k])))
		return "?";
	return s[k];
}

static const char *fmt_cidr(const struct cidr *c)
{
	static char s[4][CIDR_STRLEN];
	static int k;

	k = (k + 1) % 4;
	if (cidr_format(c, s[k], sizeof(s[k])))
		return "?";
	return s[k];
}

static const char *fmt_mac(const uint8_t mac[6])
{
	static char s[18];

	cni_mac_format(mac, s);
	return s;
}

/* ---- versions -------------------------------------------------------------------------- */

static void test_versions(void)
{
	static const char *const bad[] = {
		"", "1.0", "v1.0.0", "1.0.0 ", "1.2.0", "0.3.2", "10.0.0",
	};
	enum cni_ver v;
	unsigned i;
	bool all = true;

	for (i = 0; i < CNI_VER_COUNT; i++) {
		all &= cni_ver_parse(cni_ver_str((enum cni_ver)i), &v) == 0 && v == (enum cni_ver)i;
	}
	ok(all, "every version string parses back to its enum");
	is_str(cni_ver_str(CNI_V031), "0.3.1", "0.3.1 string");
	ok(cni_ver_str((enum cni_ver)7) == NULL, "out of range version has no string");
	all = true;
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		all &= cni_ver_parse(bad[i], &v) == -EINVAL;
	ok(all, "near-miss version strings are rejected");
	ok(cni_ver_parse(NULL, &v) == -EINVAL, "NULL version rejected");
}

/* ---- environment ----------------------------------------------------------------------- */

enum { E_CMD, E_ID, E_NETNS, E_IFNAME, E_ARGS, E_PATH, E_N };
static const char *const env_names[E_N] = {
	"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH",
};

static const char *env_lookup(const char *name, void *ctx)
{
	const char *const *vals = ctx;
	int i;

	for (i = 0; i < E_N; i++) {
		if (strcmp(name, env_names[i]) == 0)
			return vals[i];
	}
	return NULL;
}

struct env_case {
	const char *what;
	const char *v[E_N];
	int code;               /* 0 = success */
	const char *msg;
};

static const struct env_case env_cases[] = {
	{ "ADD with everything", { "ADD", "c1", "/run/netns/t1", "eth0", "", "/opt/cni/bin" }, 0,
	  NULL },
	{ "ADD with nothing", { "ADD" }, 4,
	  "required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME] missing" },
	{ "ADD with empty strings (libcni sets them all)", { "ADD", "", "", "", "", "" }, 4,
	  "required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME] missing" },
	{ "ADD without netns", { "ADD", "c1", "", "eth0" }, 4,
	  "required env variables [CNI_NETNS] missing" },
	{ "ADD without id and ifname", { "ADD", NULL, "/run/netns/x" }, 4,
	  "required env variables [CNI_CONTAINERID,CNI_IFNAME] missing" },
	{ "CHECK without ifname", { "CHECK", "c1", "/run/netns/x", "" }, 4,
	  "required env variables [CNI_IFNAME] missing" },
	{ "CHECK with everything", { "CHECK", "c1", "/run/netns/x", "eth0" }, 0, NULL },
	{ "DEL without netns (containerd)", { "DEL", "default-ctrtest1", "", "eth0" }, 0, NULL },
	{ "DEL with netns unset", { "DEL", "c1", NULL, "eth0" }, 0, NULL },
	{ "DEL without id", { "DEL", "", "", "eth0" }, 4,
	  "required env variables [CNI_CONTAINERID] missing" },
	{ "VERSION with libcni dummies", { "VERSION", "", "dummy", "dummy", "", "dummy" }, 0,
	  NULL },
	{ "VERSION ignores a bad ifname", { "VERSION", "-bad", "x", "a/b" }, 0, NULL },
	{ "GC with empties", { "GC", "", "", "", "", "/opt/cni/bin" }, 0, NULL },
	{ "STATUS with nothing", { "STATUS" }, 0, NULL },
	{ "unset command", { NULL, "c1", "/x", "eth0" }, 4, "unknown CNI_COMMAND: " },
	{ "empty command", { "" }, 4, "unknown CNI_COMMAND: " },
	{ "lowercase command", { "add", "c1", "/x", "eth0" }, 4, "unknown CNI_COMMAND: add" },
	{ "unknown command", { "UPDATE" }, 4, "unknown CNI_COMMAND: UPDATE" },
	{ "64-hex podman id", { "ADD",
	  "81c6a43c1a2d0b5e9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3ee1", "/x", "eth0" }, 0,
	  NULL },
	{ "id with _ . -", { "ADD", "a_b.c-d", "/x", "eth0" }, 0, NULL },
	{ "id starting with -", { "ADD", "-abc", "/x", "eth0" }, 4,
	  "invalid characters in CNI_CONTAINERID" },
	{ "id starting with .", { "DEL", ".abc", "", "eth0" }, 4,
	  "invalid characters in CNI_CONTAINERID" },
	{ "id with a space", { "ADD", "a b", "/x", "eth0" }, 4,
	  "invalid characters in CNI_CONTAINERID" },
	{ "id with a slash", { "ADD", "a/../b", "/x", "eth0" }, 4,
	  "invalid characters in CNI_CONTAINERID" },
	{ "ifname of 15 bytes", { "ADD", "c1", "/x", "abcdefghijklmno" }, 0, NULL },
	{ "ifname of 16 bytes", { "ADD", "c1", "/x", "abcdefghijklmnop" }, 4,
	  "invalid CNI_IFNAME" },
	{ "ifname .", { "ADD", "c1", "/x", "." }, 4, "invalid CNI_IFNAME" },
	{ "ifname ..", { "ADD", "c1", "/x", ".." }, 4, "invalid CNI_IFNAME" },
	{ "ifname ...", { "ADD", "c1", "/x", "..." }, 0, NULL },
	{ "ifname with /", { "ADD", "c1", "/x", "a/b" }, 4, "invalid CNI_IFNAME" },
	{ "ifname with :", { "DEL", "c1", "", "eth0:1" }, 4, "invalid CNI_IFNAME" },
	{ "ifname with space", { "CHECK", "c1", "/x", "eth 0" }, 4, "invalid CNI_IFNAME" },
	{ "ifname with tab", { "ADD", "c1", "/x", "eth\t0" }, 4, "invalid CNI_IFNAME" },
	{ "ifname non-ASCII", { "ADD", "c1", "/x", "eth\xc3\xa9" }, 4, "invalid CNI_IFNAME" },
	{ "netns not UTF-8", { "ADD", "c1", "/run/netns/\xff", "eth0" }, 4, "invalid CNI_NETNS" },
};

static void test_env(void)
{
	struct cni_error err;
	struct cni_env env;
	char what[160];
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(env_cases); i++) {
		const struct env_case *c = &env_cases[i];

		memset(&err, 0, sizeof(err));
		r = cni_env_parse(env_lookup, (void *)c->v, &env, &err);
		snprintf(what, sizeof(what), "env: %s", c->what);
		if (!c->code) {
			is_int(r, 0, what);
			continue;
		}
		is_int(r == -EINVAL ? err.code : -1, c->code, what);
		is_str(err.msg, c->msg, what);
	}
}

static void test_env_fields(void)
{
	const char *add[E_N] = { "ADD", "c1", "/run/netns/t1", "eth0", "K8S_POD_NAME=x", "/p" };
	const char *ver[E_N] = { "VERSION", "", "dummy", "dummy", "", "dummy" };
	const char *gc[E_N] = { "GC", "c1", "/x", "eth0", "a=b", "/p" };
	const char *bad[E_N] = { "ADD", "c1", "/x", "a:b" };
	static char netns[600];
	const char *long_ns[E_N] = { "ADD", "c1", netns, "eth0" };
	struct cni_error err;
	struct cni_env env;

	ok(cni_env_parse(env_lookup, add, &env, &err) == 0 && env.cmd == CNI_CMD_ADD &&
	   env.containerid == add[E_ID] && env.netns == add[E_NETNS] &&
	   env.ifname == add[E_IFNAME] && env.args == add[E_ARGS] && env.path == add[E_PATH],
	   "env: ADD keeps every variable, borrowed");
	ok(cni_env_parse(env_lookup, ver, &env, &err) == 0 && env.cmd == CNI_CMD_VERSION &&
	   !env.containerid && !env.netns && !env.ifname && !env.args && !env.path,
	   "env: VERSION sees none of the dummies");
	ok(cni_env_parse(env_lookup, gc, &env, &err) == 0 && env.cmd == CNI_CMD_GC &&
	   !env.containerid && !env.netns && !env.ifname && !env.args && env.path == gc[E_PATH],
	   "env: GC gets only CNI_PATH");
	ok(cni_env_parse(env_lookup, bad, &env, &err) == -EINVAL &&
	   strstr(err.details, "\"a:b\"") != NULL, "env: ifname error quotes the value");
	ok(cni_env_parse(env_lookup, bad, &env, NULL) == -EINVAL, "env: NULL err is accepted");
	memset(netns, 'a', sizeof(netns));
	netns[0] = '/';
	netns[511] = '\0';
	ok(cni_env_parse(env_lookup, long_ns, &env, &err) == 0 && strlen(env.netns) == 511,
	   "env: netns of 511 bytes fits the result's sandbox");
	netns[511] = 'a';
	netns[512] = '\0';
	ok(cni_env_parse(env_lookup, long_ns, &env, &err) == -EINVAL && err.code == 4 &&
	   strcmp(err.msg, "invalid CNI_NETNS") == 0, "env: netns of 512 bytes is refused");
}

/* ---- config errors --------------------------------------------------------------------- */

struct conf_case {
	const char *what;
	enum cni_cmd cmd;
	const char *args;
	const char *json;
	int code;               /* 0 = success */
	const char *msg;        /* exact, when set */
	const char *details;    /* exact, when set */
};

#define HEAD "\"cniVersion\":\"1.0.0\",\"name\":\"k8s\",\"type\":\"virgil\""
#define C(x) "{" HEAD x "}"

static const struct conf_case conf_cases[] = {
	{ "minimal ADD", CNI_CMD_ADD, NULL, C(""), 0, NULL, NULL },
	{ "minimal DEL", CNI_CMD_DEL, NULL, C(""), 0, NULL, NULL },
	{ "minimal CHECK", CNI_CMD_CHECK, NULL, C(""), 0, NULL, NULL },
	{ "GC at 1.1.0", CNI_CMD_GC, NULL, "{\"cniVersion\":\"1.1.0\",\"name\":\"k8s\"}", 0, NULL,
	  NULL },
	{ "STATUS at 1.1.0", CNI_CMD_STATUS, NULL, "{\"cniVersion\":\"1.1.0\",\"name\":\"k8s\"}", 0,
	  NULL, NULL },
	{ "empty input", CNI_CMD_ADD, NULL, "", 6,
	  "error unmarshall network config: offset 0: empty input", NULL },
	{ "bad JSON", CNI_CMD_ADD, NULL, "{\"name\":", 6, NULL, NULL },
	{ "trailing garbage", CNI_CMD_ADD, NULL, C("") "x", 6, NULL, NULL },
	{ "array root", CNI_CMD_ADD, NULL, "[]", 6,
	  "error unmarshall network config: not a JSON object", NULL },
	{ "string root", CNI_CMD_DEL, NULL, "\"k8s\"", 6,
	  "error unmarshall network config: not a JSON object", NULL },
	{ "no cniVersion is 0.1.0", CNI_CMD_ADD, NULL, "{\"name\":\"k8s\"}", 0, NULL, NULL },
	{ "empty cniVersion is 0.1.0", CNI_CMD_ADD, NULL, "{\"cniVersion\":\"\",\"name\":\"k8s\"}",
	  0, NULL, NULL },
	{ "unsupported version", CNI_CMD_ADD, NULL, "{\"cniVersion\":\"2.0.0\",\"name\":\"k8s\"}",
	  1, "incompatible CNI versions",
	  "config is \"2.0.0\", plugin supports [\"0.1.0\" \"0.2.0\" \"0.3.0\" \"0.3.1\" \"0.4.0\" "
	  "\"1.0.0\" \"1.1.0\"]" },
	{ "version 1.0", CNI_CMD_ADD, NULL, "{\"cniVersion\":\"1.0\",\"name\":\"k8s\"}", 1,
	  "incompatible CNI versions", NULL },
	{ "numeric version", CNI_CMD_ADD, NULL, "{\"cniVersion\":1,\"name\":\"k8s\"}", 6, NULL,
	  NULL },
	{ "CHECK at 0.3.1", CNI_CMD_CHECK, NULL, "{\"cniVersion\":\"0.3.1\",\"name\":\"k8s\"}", 1,
	  "config version does not allow CHECK", NULL },
	{ "CHECK at 0.4.0", CNI_CMD_CHECK, NULL, "{\"cniVersion\":\"0.4.0\",\"name\":\"k8s\"}", 0,
	  NULL, NULL },
	{ "CHECK without version", CNI_CMD_CHECK, NULL, "{\"name\":\"k8s\"}", 1,
	  "config version does not allow CHECK", NULL },
	{ "GC at 1.0.0", CNI_CMD_GC, NULL, C(""), 1, "config version does not allow GC", NULL },
	{ "STATUS at 1.0.0", CNI_CMD_STATUS, NULL, C(""), 1, "config version does not allow STATUS",
	  NULL },
	{ "DEL at 0.1.0", CNI_CMD_DEL, NULL, "{\"cniVersion\":\"0.1.0\",\"name\":\"k8s\"}", 0, NULL,
	  NULL },
	{ "name missing", CNI_CMD_ADD, NULL, "{\"cniVersion\":\"1.0.0\"}", 7,
	  "missing network name", NULL },
	{ "name empty", CNI_CMD_ADD, NULL, "{\"cniVersion\":\"1.0.0\",\"name\":\"\"}", 7,
	  "missing network name", NULL },
	{ "name null", CNI_CMD_ADD, NULL, "{\"cniVersion\":\"1.0.0\",\"name\":null}", 7,
	  "missing network name", NULL },
	{ "name before version", CNI_CMD_ADD, NULL, "{\"cniVersion\":\"9\"}", 7,
	  "missing network name", NULL },
	{ "name with a slash", CNI_CMD_ADD, NULL, "{\"name\":\"a/b\"}", 7,
	  "invalid characters found in network name", "\"a/b\"" },
	{ "name starting with .", CNI_CMD_ADD, NULL, "{\"name\":\".k8s\"}", 7,
	  "invalid characters found in network name", NULL },
	{ "name a number", CNI_CMD_ADD, NULL, "{\"name\":5}", 7, "invalid name", NULL },
	{ "ipam section", CNI_CMD_ADD, NULL, C(",\"ipam\":{\"type\":\"host-local\"}"), 2,
	  "unsupported field: ipam", "ipam type \"host-local\": Virgil allocates pod addresses "
	  "itself; remove the \"ipam\" section" },
	{ "ipam null", CNI_CMD_ADD, NULL, C(",\"ipam\":null"), 0, NULL, NULL },
	{ "unknown keys", CNI_CMD_ADD, NULL, C(",\"capabilities\":{\"ips\":true},\"cni.dev/x\":1,"
	  "\"args\":{\"other\":[1]},\"runtimeConfig\":{\"portMappings\":[]},\"bridge\":\"x\""), 0,
	  NULL, NULL },
	{ "type a number", CNI_CMD_ADD, NULL, "{\"name\":\"k8s\",\"type\":1}", 7, "invalid type",
	  NULL },
	{ "mtu 575", CNI_CMD_ADD, NULL, C(",\"mtu\":575"), 7, "invalid mtu",
	  "575: want an integer 576..65535 (0 or absent: the uplink's)" },
	{ "mtu 576", CNI_CMD_ADD, NULL, C(",\"mtu\":576"), 0, NULL, NULL },
	{ "mtu 65535", CNI_CMD_ADD, NULL, C(",\"mtu\":65535"), 0, NULL, NULL },
	{ "mtu 0", CNI_CMD_ADD, NULL, C(",\"mtu\":0"), 0, NULL, NULL },
	{ "mtu 65536", CNI_CMD_ADD, NULL, C(",\"mtu\":65536"), 7, "invalid mtu", NULL },
	{ "mtu 1500.5", CNI_CMD_ADD, NULL, C(",\"mtu\":1500.5"), 7, "invalid mtu", NULL },
	{ "mtu -1", CNI_CMD_ADD, NULL, C(",\"mtu\":-1"), 7, "invalid mtu", NULL },
	{ "mtu string", CNI_CMD_ADD, NULL, C(",\"mtu\":\"1400\""), 7, "invalid mtu",
	  "\"1400\": want an integer 576..65535 (0 or absent: the uplink's)" },
	{ "dataDir relative", CNI_CMD_ADD, NULL, C(",\"dataDir\":\"var/lib\""), 7,
	  "invalid dataDir",
	  "\"var/lib\": want an absolute path under 1024 bytes" },
	{ "dataDir empty", CNI_CMD_ADD, NULL, C(",\"dataDir\":\"\""), 7, "invalid dataDir", NULL },
	{ "dataDir with NUL", CNI_CMD_ADD, NULL, C(",\"dataDir\":\"/a\\u0000b\""), 7,
	  "invalid dataDir", NULL },
	{ "logFile relative", CNI_CMD_ADD, NULL, C(",\"logFile\":\"x.log\""), 7, "invalid logFile",
	  NULL },
	{ "logFile a bool", CNI_CMD_ADD, NULL, C(",\"logFile\":true"), 7, "invalid logFile",
	  "true: want an absolute path under 1024 bytes" },
	{ "debug a string", CNI_CMD_ADD, NULL, C(",\"debug\":\"yes\""), 7, "invalid debug", NULL },
	{ "podCIDRs not an array", CNI_CMD_ADD, NULL, C(",\"podCIDRs\":\"10.0.0.0/8\""), 7,
	  "invalid podCIDRs", "podCIDRs: not an array" },
	{ "podCIDRs host bits", CNI_CMD_ADD, NULL, C(",\"podCIDRs\":[\"10.244.1.1/24\"]"), 7,
	  "invalid podCIDRs", "podCIDRs[0]: 10.244.1.1/24 has host bits set" },
	{ "podCIDRs two IPv4", CNI_CMD_ADD, NULL,
	  C(",\"podCIDRs\":[\"10.244.1.0/24\",\"fd00::/64\",\"10.245.0.0/24\"]"), 7,
	  "invalid podCIDRs", "podCIDRs[2]: a second IPv4 range" },
	{ "podCIDRs not a CIDR", CNI_CMD_ADD, NULL, C(",\"podCIDRs\":[\"10.244.1.0\"]"), 7,
	  "invalid podCIDRs", "podCIDRs[0]: not an address with a prefix" },
	{ "podCIDRs a number", CNI_CMD_ADD, NULL, C(",\"podCIDRs\":[1]"), 7, "invalid podCIDRs",
	  NULL },
	{ "podCIDRs empty", CNI_CMD_ADD, NULL, C(",\"podCIDRs\":[]"), 0, NULL, NULL },
	{ "dns not an object", CNI_CMD_ADD, NULL, C(",\"dns\":[]"), 7, "invalid dns",
	  "an array: not an object" },
	{ "dns search not an array", CNI_CMD_ADD, NULL, C(",\"dns\":{\"search\":\"a\"}"), 7,
	  "invalid dns", "an object: search: not an array" },
	{ "dns nameserver a number", CNI_CMD_ADD, NULL, C(",\"dns\":{\"nameservers\":[\"a\",1]}"),
	  7, "invalid dns", "an object: nameservers[1]: not a string" },
	{ "dns domain a number", CNI_CMD_ADD, NULL, C(",\"dns\":{\"domain\":1}"), 7, "invalid dns",
	  NULL },
	{ "runtimeConfig a string", CNI_CMD_ADD, NULL, C(",\"runtimeConfig\":\"x\""), 7,
	  "invalid runtimeConfig", "\"x\": not an object" },
	{ "args.cni an array", CNI_CMD_ADD, NULL, C(",\"args\":{\"cni\":[]}"), 7,
	  "invalid args.cni", NULL },
	{ "args.cni.ips a string", CNI_CMD_ADD, NULL,
	  C(",\"args\":{\"cni\":{\"ips\":\"10.1.2.3\"}}"),
	  7, "invalid args.cni.ips", NULL },
	{ "runtimeConfig.ips bad", CNI_CMD_ADD, NULL,
	  C(",\"runtimeConfig\":{\"ips\":[\"10.1.2.3\",\"x\"]}"), 7, "invalid runtimeConfig.ips[1]",
	  "\"x\": not an IP address" },
	{ "runtimeConfig.ips a number", CNI_CMD_ADD, NULL, C(",\"runtimeConfig\":{\"ips\":[1]}"), 7,
	  "invalid runtimeConfig.ips[0]", "1: not a string" },
	{ "two IPv4 requested", CNI_CMD_ADD, NULL,
	  C(",\"args\":{\"cni\":{\"ips\":[\"10.1.2.3\",\"10.1.2.4/24\"]}}"), 7,
	  "invalid args.cni.ips[1]", "\"10.1.2.4/24\": a second requested address of this family" },
	{ "mac multicast", CNI_CMD_ADD, NULL,
	  C(",\"runtimeConfig\":{\"mac\":\"01:00:5e:00:00:01\"}"),
	  7, "invalid runtimeConfig.mac", "\"01:00:5e:00:00:01\": not a unicast MAC address" },
	{ "mac zero", CNI_CMD_ADD, NULL, C(",\"args\":{\"cni\":{\"mac\":\"00:00:00:00:00:00\"}}"),
	  7, "invalid args.cni.mac", NULL },
	{ "mac short", CNI_CMD_ADD, NULL, C(",\"runtimeConfig\":{\"mac\":\"02:00:00:00:00\"}"), 7,
	  "invalid runtimeConfig.mac", "\"02:00:00:00:00\": not a MAC address" },
	{ "mac mixed separators", CNI_CMD_ADD, NULL,
	  C(",\"runtimeConfig\":{\"mac\":\"02:00-00:00:00:01\"}"), 7, "invalid runtimeConfig.mac",
	  NULL },
	{ "mac a number", CNI_CMD_ADD, NULL, C(",\"runtimeConfig\":{\"mac\":2}"), 7,
	  "invalid runtimeConfig.mac", NULL },
	{ "mac empty is absent", CNI_CMD_ADD, NULL, C(",\"runtimeConfig\":{\"mac\":\"\"}"), 0, NULL,
	  NULL },
	{ "CNI_ARGS garbage", CNI_CMD_ADD, "garbage", C(""), 7, "invalid CNI_ARGS",
	  "\"garbage\": want KEY=VALUE" },
	{ "CNI_ARGS empty key", CNI_CMD_ADD, "IgnoreUnknown=1;=x", C(""), 7, "invalid CNI_ARGS",
	  NULL },
	{ "CNI_ARGS bad IP", CNI_CMD_ADD, "IP=10.1.2", C(""), 7, "invalid CNI_ARGS IP",
	  "\"10.1.2\": not an IP address" },
	{ "CNI_ARGS bad MAC", CNI_CMD_ADD, "MAC=zz", C(""), 7, "invalid CNI_ARGS MAC", NULL },
	{ "CNI_ARGS empty pieces", CNI_CMD_DEL, ";;IgnoreUnknown=1;;", C(""), 0, NULL, NULL },
	{ "prevResult not an object", CNI_CMD_CHECK, NULL, C(",\"prevResult\":[]"), 6,
	  "failed to decode prevResult", "prevResult: not an object" },
	{ "prevResult bad address", CNI_CMD_CHECK, NULL,
	  C(",\"prevResult\":{\"ips\":[{\"address\":\"10.1.2.3\"}]}"), 6,
	  "failed to decode prevResult",
	  "prevResult.ips[0].address: want an address with a prefix" },
	{ "prevResult bad MAC", CNI_CMD_ADD, NULL,
	  C(",\"prevResult\":{\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"x\"}]}"), 6,
	  "failed to decode prevResult", "prevResult.interfaces[0].mac: not a MAC address" },
	{ "DEL with a bad prevResult", CNI_CMD_DEL, NULL, C(",\"prevResult\":{\"ips\":5}"), 0, NULL,
	  NULL },
	{ "prevResult null", CNI_CMD_CHECK, NULL, C(",\"prevResult\":null"), 0, NULL, NULL },
	{ "GC attachments not an array", CNI_CMD_GC, NULL,
	  "{\"cniVersion\":\"1.1.0\",\"name\":\"k8s\",\"cni.dev/valid-attachments\":{}}", 7,
	  "invalid cni.dev/valid-attachments", NULL },
	{ "GC attachment without ifname", CNI_CMD_GC, NULL,
	  "{\"cniVersion\":\"1.1.0\",\"name\":\"k8s\",\"cni.dev/attachments\":"
	  "[{\"containerID\":\"a\",\"ifname\":\"eth0\"},{\"containerID\":\"b\"}]}", 7,
	  "invalid cni.dev/attachments[1]", "an object: want string containerID and ifname" },
	{ "GC attachment a string", CNI_CMD_GC, NULL,
	  "{\"cniVersion\":\"1.1.0\",\"name\":\"k8s\",\"cni.dev/attachments\":[\"a\"]}", 7,
	  "invalid cni.dev/attachments[0]", NULL },
	{ "ADD ignores a bad attachment list", CNI_CMD_ADD, NULL, C(",\"cni.dev/attachments\":5"),
	  0, NULL, NULL },
};

static void test_conf_errors(void)
{
	struct cni_error err;
	struct cni_conf c;
	char what[160];
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(conf_cases); i++) {
		const struct conf_case *k = &conf_cases[i];

		r = parse_g(k->json, k->cmd, k->args, &c, &err);
		snprintf(what, sizeof(what), "conf: %s", k->what);
		if (!k->code) {
			is_int(r, 0, what);
			if (r)
				diag("%d %s / %s", err.code, err.msg, err.details);
			cni_conf_free(&c);
			continue;
		}
		is_int(r == -EINVAL ? err.code : -100 + r, k->code, what);
		if (k->msg)
			is_str(err.msg, k->msg, what);
		if (k->details)
			is_str(err.details, k->details, what);
		ok(!c.doc && !c.name && !c.valid && !c.args_buf,
		   "conf: error leaves nothing owned");
	}
}

static void test_conf_version_kept(void)
{
	struct cni_error err;
	struct cni_conf c;

	ok(parse_g("{\"cniVersion\":\"0.4.0\",\"mtu\":1}", CNI_CMD_ADD, NULL, &c, &err) ==
	   -EINVAL && c.ver == CNI_V040 && c.ver_str && strcmp(c.ver_str, "0.4.0") == 0,
	   "conf: name error still reports the config's version");
	ok(parse_g(C(",\"mtu\":1"), CNI_CMD_ADD, NULL, &c, &err) == -EINVAL && c.ver_str &&
	   strcmp(c.ver_str, "1.0.0") == 0 && !c.doc, "conf: mtu error keeps ver_str, frees doc");
	ok(parse_g("{\"cniVersion\":\"7.7.7\",\"name\":\"x\"}", CNI_CMD_ADD, NULL, &c, &err) ==
	   -EINVAL && c.ver_str == NULL, "conf: unknown version leaves ver_str NULL");
	ok(parse_g("{\"name\":\"x\"}", CNI_CMD_ADD, NULL, &c, &err) == 0 && c.ver == CNI_V010 &&
	   strcmp(c.ver_str, "0.1.0") == 0, "conf: absent cniVersion reads as 0.1.0");
	cni_conf_free(&c);
	cni_conf_free(NULL);
	ok(c.doc == NULL && c.name == NULL, "conf: free leaves the struct zeroed");
}

static void test_conf_fields(void)
{
	static const char json[] =
		"{\"cniVersion\":\"1.1.0\",\"name\":\"k8s-pod-network\",\"type\":\"virgil\","
		"\"mtu\":1450,\"dataDir\":\"/run/virgil\",\"logFile\":\"/var/log/virgil.log\","
		"\"debug\":true,\"podCIDRs\":[\"fd00:10:244:1::/64\",\"10.244.1.0/24\"],"
		"\"dns\":{\"nameservers\":[\"10.96.0.10\"]},\"capabilities\":{\"ips\":true}}";
	struct cni_error err;
	struct cni_conf c;

	if (!ok(parse_g(json, CNI_CMD_ADD, NULL, &c, &err) == 0, "fields: full config parses"))
		diag("%s / %s", err.msg, err.details);
	is_int(c.ver, CNI_V110, "fields: version");
	is_str(c.name, "k8s-pod-network", "fields: name");
	is_str(c.type, "virgil", "fields: type");
	is_int(c.mtu, 1450, "fields: mtu");
	is_str(c.data_dir, "/run/virgil", "fields: dataDir");
	is_str(c.log_file, "/var/log/virgil.log", "fields: logFile");
	ok(c.debug, "fields: debug");
	is_int(c.nranges, 2, "fields: two ranges");
	is_str(fmt_cidr(&c.ranges[0]), "fd00:10:244:1::/64", "fields: ranges keep their order");
	is_str(fmt_cidr(&c.ranges[1]), "10.244.1.0/24", "fields: second range");
	ok(json_is(c.dns, JSON_OBJECT), "fields: dns object kept");
	ok(!c.has_prev && !c.has_mac && c.nreq_ips == 0 && !c.pod_name, "fields: nothing else");
	cni_conf_free(&c);
	ok(parse_g("{\"name\":\"n\"}", CNI_CMD_DEL, NULL, &c, &err) == 0 &&
	   strcmp(c.data_dir, "/var/lib/virgil") == 0 && !c.log_file && !c.type && !c.debug &&
	   c.mtu == 0 && c.nranges == 0 && !c.dns, "fields: defaults");
	cni_conf_free(&c);
}

/* ---- CNI_ARGS and requested addresses ---------------------------------------------------- */

struct args_case {
	const char *what;
	const char *args;
	const char *extra;      /* members appended to the config */
	int code;
	const char *pod_name, *pod_ns;
	const char *ips;        /* requested addresses, comma-joined, in order */
	const char *mac;        /* NULL = none */
};

static const struct args_case args_cases[] = {
	{ "podman", "IgnoreUnknown=1;K8S_POD_NAME=x;IP=10.1.2.3", "", 0, "x", NULL, "10.1.2.3",
	  NULL },
	{ "podman with MAC", "IgnoreUnknown=1;K8S_POD_NAME=web;MAC=02:42:AC:11:00:02", "", 0, "web",
	  NULL, "", "02:42:ac:11:00:02" },
	{ "containerd/CRI-O", "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;"
	  "K8S_POD_INFRA_CONTAINER_ID=0f3a;K8S_POD_UID=7c1d-11", "", 0, "web-0", "default", "",
	  NULL },
	{ "ctr (empty)", "", "", 0, NULL, NULL, "", NULL },
	{ "no IgnoreUnknown, unknown keys", "FOO=bar;K8S_POD_NAME=a", "", 0, "a", NULL, "", NULL },
	{ "value with =", "X=a=b;K8S_POD_NAME=p=q", "", 0, "p=q", NULL, "", NULL },
	{ "empty value", "K8S_POD_NAME=;IP=", "", 0, NULL, NULL, "", NULL },
	{ "repeated key: last wins", "K8S_POD_NAME=a;K8S_POD_NAME=b", "", 0, "b", NULL, "", NULL },
	{ "IP with prefix", "IP=10.1.2.3/24", "", 0, NULL, NULL, "10.1.2.3", NULL },
	{ "IP dual-stack list", "IP=10.1.2.3,fd00::5", "", 0, NULL, NULL, "10.1.2.3,fd00::5",
	  NULL },
	{ "IP two of one family", "IP=10.1.2.3,10.1.2.4", "", 7, NULL, NULL, NULL, NULL },
	{ "IP trailing comma", "IP=10.1.2.3,", "", 7, NULL, NULL, NULL, NULL },
	{ "garbage", "hello world", "", 7, NULL, NULL, NULL, NULL },
	{ "args.cni.ips beats CNI_ARGS", "IP=10.1.2.3",
	  ",\"args\":{\"cni\":{\"ips\":[\"10.1.2.5/24\"]}}", 0, NULL, NULL, "10.1.2.5", NULL },
	{ "runtimeConfig.ips beats CNI_ARGS", "IP=10.1.2.3",
	  ",\"runtimeConfig\":{\"ips\":[\"fd00::7\"]}", 0, NULL, NULL, "fd00::7", NULL },
	{ "bad CNI_ARGS IP ignored when args has ips", "IP=bogus",
	  ",\"args\":{\"cni\":{\"ips\":[\"10.1.2.5\"]}}", 0, NULL, NULL, "10.1.2.5", NULL },
	{ "empty args.cni.ips leaves CNI_ARGS", "IP=10.1.2.3", ",\"args\":{\"cni\":{\"ips\":[]}}",
	  0, NULL, NULL, "10.1.2.3", NULL },
	{ "args and runtimeConfig union", NULL, ",\"args\":{\"cni\":{\"ips\":[\"10.1.2.5\"]}},"
	  "\"runtimeConfig\":{\"ips\":[\"fd00::7/64\"]}", 0, NULL, NULL, "10.1.2.5,fd00::7", NULL },
	{ "same address twice merges", NULL, ",\"args\":{\"cni\":{\"ips\":[\"10.1.2.5\"]}},"
	  "\"runtimeConfig\":{\"ips\":[\"10.1.2.5/16\"]}", 0, NULL, NULL, "10.1.2.5", NULL },
	{ "conflicting addresses", NULL, ",\"args\":{\"cni\":{\"ips\":[\"10.1.2.5\"]}},"
	  "\"runtimeConfig\":{\"ips\":[\"10.1.2.6\"]}", 7, NULL, NULL, NULL, NULL },
	{ "runtimeConfig.mac wins", "MAC=02:00:00:00:00:03",
	  ",\"runtimeConfig\":{\"mac\":\"02:00:00:00:00:01\"},"
	  "\"args\":{\"cni\":{\"mac\":\"02:00:00:00:00:02\"}}", 0, NULL, NULL, "",
	  "02:00:00:00:00:01" },
	{ "args.cni.mac beats CNI_ARGS", "MAC=02:00:00:00:00:03",
	  ",\"args\":{\"cni\":{\"mac\":\"02-00-00-00-00-02\"}}", 0, NULL, NULL, "",
	  "02:00:00:00:00:02" },
	{ "bad CNI_ARGS MAC ignored when args has one", "MAC=nope",
	  ",\"args\":{\"cni\":{\"mac\":\"02:00:00:00:00:02\"}}", 0, NULL, NULL, "",
	  "02:00:00:00:00:02" },
	{ "bad args.cni.mac fails despite runtimeConfig", NULL,
	  ",\"runtimeConfig\":{\"mac\":\"02:00:00:00:00:01\"},\"args\":{\"cni\":{\"mac\":\"x\"}}",
	  7, NULL, NULL, NULL, NULL },
};

static void ips_join(const struct cni_conf *c, char *out, size_t cap)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < c->nreq_ips; i++)
		n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "," : "",
				      fmt_ip(&c->req_ips[i]));
}

static void test_args(void)
{
	char json[512], what[160], ips[128];
	struct cni_error err;
	struct cni_conf c;
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(args_cases); i++) {
		const struct args_case *k = &args_cases[i];

		snprintf(json, sizeof(json), "{" HEAD "%s}", k->extra);
		r = parse_g(json, CNI_CMD_ADD, k->args && *k->args ? k->args : NULL, &c, &err);
		snprintf(what, sizeof(what), "args: %s", k->what);
		if (k->code) {
			is_int(r == -EINVAL ? err.code : r, k->code, what);
			continue;
		}
		is_int(r, 0, what);
		if (r) {
			diag("%s / %s", err.msg, err.details);
			continue;
		}
		is_str(c.pod_name, k->pod_name, what);
		is_str(c.pod_namespace, k->pod_ns, what);
		ips_join(&c, ips, sizeof(ips));
		is_str(ips, k->ips, what);
		is_str(c.has_mac ? fmt_mac(c.mac) : NULL, k->mac, what);
		cni_conf_free(&c);
	}
}

/* ---- GC attachments -------------------------------------------------------------------- */

static void test_gc(void)
{
	static const char both[] =
		"{\"cniVersion\":\"1.1.0\",\"name\":\"k8s\","
		"\"cni.dev/valid-attachments\":[{\"containerID\":\"c2\",\"ifname\":\"eth0\"},"
		"{\"containerID\":\"c1\",\"ifname\":\"eth1\"},"
		"{\"containerID\":\"c1\",\"ifname\":\"eth0\"}],"
		"\"cni.dev/attachments\":[{\"containerID\":\"c2\",\"ifname\":\"eth0\"},"
		"{\"containerID\":\"c3\",\"ifname\":\"net1\",\"extra\":1}]}";
	static const char legacy[] =
		"{\"cniVersion\":\"1.1.0\",\"name\":\"k8s\","
		"\"cni.dev/attachments\":[{\"containerID\":\"c9\",\"ifname\":\"eth0\"}]}";
	static const char none[] = "{\"cniVersion\":\"1.1.0\",\"name\":\"k8s\"}";
	static const char empty[] =
		"{\"cniVersion\":\"1.1.0\",\"name\":\"k8s\",\"cni.dev/valid-attachments\":[],"
		"\"cni.dev/attachments\":null}";
	struct cni_error err;
	struct cni_conf c;

	ok(parse_g(both, CNI_CMD_GC, NULL, &c, &err) == 0, "gc: both keys parse");
	is_int(c.nvalid, 4, "gc: union without the duplicate");
	ok(c.nvalid == 4 && strcmp(c.valid[0].id, "c1") == 0 &&
	   strcmp(c.valid[0].ifname, "eth0") == 0 && strcmp(c.valid[1].ifname, "eth1") == 0 &&
	   strcmp(c.valid[3].id, "c3") == 0, "gc: sorted by id, ifname");
	ok(cni_conf_attachment_valid(&c, "c1", "eth1") &&
	   cni_conf_attachment_valid(&c, "c3", "net1") &&
	   cni_conf_attachment_valid(&c, "c2", "eth0"), "gc: members found");
	ok(!cni_conf_attachment_valid(&c, "c3", "eth0") &&
	   !cni_conf_attachment_valid(&c, "c4", "eth0") &&
	   !cni_conf_attachment_valid(&c, NULL, "eth0"), "gc: non-members not found");
	cni_conf_free(&c);
	ok(parse_g(legacy, CNI_CMD_GC, NULL, &c, &err) == 0 && c.nvalid == 1 &&
	   cni_conf_attachment_valid(&c, "c9", "eth0"), "gc: legacy key alone");
	cni_conf_free(&c);
	ok(parse_g(none, CNI_CMD_GC, NULL, &c, &err) == 0 && c.nvalid == 0 && !c.valid &&
	   !cni_conf_attachment_valid(&c, "c9", "eth0"), "gc: absent key is an empty list");
	cni_conf_free(&c);
	ok(parse_g(empty, CNI_CMD_GC, NULL, &c, &err) == 0 && c.nvalid == 0,
	   "gc: empty and null lists");
	cni_conf_free(&c);
	ok(parse_g(both, CNI_CMD_DEL, NULL, &c, &err) == 0 && c.nvalid == 0,
	   "gc: lists are read only for GC");
	cni_conf_free(&c);
	ok(!cni_conf_attachment_valid(NULL, "a", "b"), "gc: NULL conf");
}

/* ---- results --------------------------------------------------------------------------- */

static const char dns_json[] =
	"{\"nameservers\":[\"10.96.0.10\"],\"domain\":\"cluster.local\","
	"\"search\":[\"default.svc.cluster.local\",\"svc.cluster.local\"],"
	"\"options\":[\"ndots:5\"],\"x-unknown\":1}";
#define DNS_OUT "\"dns\":{\"nameservers\":[\"10.96.0.10\"],\"domain\":\"cluster.local\"," \
	"\"search\":[\"default.svc.cluster.local\",\"svc.cluster.local\"]," \
	"\"options\":[\"ndots:5\"]}"
#define IFS_NOMTU "\"interfaces\":[{\"name\":\"veth1a2b3c4d\",\"mac\":\"6e:3f:a1:00:00:01\"}," \
	"{\"name\":\"eth0\",\"mac\":\"0a:58:0a:f4:01:05\",\"sandbox\":\"/var/run/netns/cni-1234\"}]"
#define ROUTES "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.244.1.1\"}," \
	"{\"dst\":\"::/0\",\"gw\":\"fd00:10:244:1::1\"}]"
#define IPS_040 "\"ips\":[{\"version\":\"4\",\"interface\":1,\"address\":\"10.244.1.5/24\"," \
	"\"gateway\":\"10.244.1.1\"},{\"version\":\"6\",\"interface\":1," \
	"\"address\":\"fd00:10:244:1::5/64\",\"gateway\":\"fd00:10:244:1::1\"}]"
#define LEGACY "\"ip4\":{\"ip\":\"10.244.1.5/24\",\"gateway\":\"10.244.1.1\"," \
	"\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.244.1.1\"}]}," \
	"\"ip6\":{\"ip\":\"fd00:10:244:1::5/64\",\"gateway\":\"fd00:10:244:1::1\"," \
	"\"routes\":[{\"dst\":\"::/0\",\"gw\":\"fd00:10:244:1::1\"}]},"

#define IPS_100 "\"ips\":[{\"interface\":1,\"address\":\"10.244.1.5/24\"," \
	"\"gateway\":\"10.244.1.1\"},{\"interface\":1,\"address\":\"fd00:10:244:1::5/64\"," \
	"\"gateway\":\"fd00:10:244:1::1\"}]"

static const char *const goldens[CNI_VER_COUNT] = {
	[CNI_V010] = "{\"cniVersion\":\"0.1.0\"," LEGACY DNS_OUT "}",
	[CNI_V020] = "{\"cniVersion\":\"0.2.0\"," LEGACY DNS_OUT "}",
	[CNI_V030] = "{\"cniVersion\":\"0.3.0\"," IFS_NOMTU "," IPS_040 "," ROUTES "," DNS_OUT "}",
	[CNI_V031] = "{\"cniVersion\":\"0.3.1\"," IFS_NOMTU "," IPS_040 "," ROUTES "," DNS_OUT "}",
	[CNI_V040] = "{\"cniVersion\":\"0.4.0\"," IFS_NOMTU "," IPS_040 "," ROUTES "," DNS_OUT "}",
	[CNI_V100] = "{\"cniVersion\":\"1.0.0\"," IFS_NOMTU ","
		IPS_100 ","
		ROUTES "," DNS_OUT "}",
	[CNI_V110] = "{\"cniVersion\":\"1.1.0\","
		"\"interfaces\":[{\"name\":\"veth1a2b3c4d\",\"mac\":\"6e:3f:a1:00:00:01\","
		"\"mtu\":1450},"
		"{\"name\":\"eth0\",\"mac\":\"0a:58:0a:f4:01:05\",\"mtu\":1450,"
		"\"sandbox\":\"/var/run/netns/cni-1234\"}],"
		IPS_100 ","
		ROUTES "," DNS_OUT "}",
};

static void set_addr(struct ipaddr *a, const char *s)
{
	if (ipaddr_parse(s, strlen(s), a))
		abort();
}

static void set_cidr(struct cidr *c, const char *s)
{
	if (cidr_parse(s, strlen(s), c))
		abort();
}

static void make_result(struct cni_result *r, const struct json *dns)
{
	static const uint8_t hmac[6] = { 0x6e, 0x3f, 0xa1, 0, 0, 1 };
	static const uint8_t cmac[6] = { 0x0a, 0x58, 0x0a, 0xf4, 0x01, 0x05 };

	memset(r, 0, sizeof(*r));
	strcpy(r->ifaces[0].name, "veth1a2b3c4d");
	memcpy(r->ifaces[0].mac, hmac, 6);
	r->ifaces[0].has_mac = true;
	r->ifaces[0].mtu = 1450;
	strcpy(r->ifaces[1].name, "eth0");
	memcpy(r->ifaces[1].mac, cmac, 6);
	r->ifaces[1].has_mac = true;
	r->ifaces[1].mtu = 1450;
	strcpy(r->ifaces[1].sandbox, "/var/run/netns/cni-1234");
	r->nifaces = 2;
	set_cidr(&r->ips[0].addr, "10.244.1.5/24");
	set_addr(&r->ips[0].gw, "10.244.1.1");
	r->ips[0].has_gw = true;
	r->ips[0].iface = 1;
	set_cidr(&r->ips[1].addr, "fd00:10:244:1::5/64");
	set_addr(&r->ips[1].gw, "fd00:10:244:1::1");
	r->ips[1].has_gw = true;
	r->ips[1].iface = 1;
	r->nips = 2;
	set_cidr(&r->routes[0].dst, "0.0.0.0/0");
	set_addr(&r->routes[0].gw, "10.244.1.1");
	r->routes[0].has_gw = true;
	set_cidr(&r->routes[1].dst, "::/0");
	set_addr(&r->routes[1].gw, "fd00:10:244:1::1");
	r->routes[1].has_gw = true;
	r->nroutes = 2;
	r->dns = dns;
}

static struct json_doc *doc_of(const char *s)
{
	struct json_doc *d = NULL;

	if (json_parse(s, strlen(s), NULL, &d, NULL))
		abort();
	return d;
}

static void test_result_goldens(void)
{
	struct json_doc *dns = doc_of(dns_json), *d;
	struct cni_result r, back, want;
	struct buf b = BUF_INIT, b2 = BUF_INIT;
	struct cni_error err;
	char what[96];
	unsigned v;

	make_result(&r, json_root(dns));
	for (v = 0; v < CNI_VER_COUNT; v++) {
		buf_reset(&b);
		snprintf(what, sizeof(what), "result %s: golden", cni_ver_str((enum cni_ver)v));
		is_int(cni_result_encode(&r, (enum cni_ver)v, &b), 0, what);
		is_str(b.p, goldens[v], what);
		if (v < CNI_V030)
			continue;
		d = doc_of(b.p);
		snprintf(what, sizeof(what), "result %s: decode(encode(x)) == x",
			 cni_ver_str((enum cni_ver)v));
		want = r;
		if (v < CNI_V110)
			want.ifaces[0].mtu = want.ifaces[1].mtu = 0;
		ok(cni_result_decode(json_root(d), &back, &err) == 0 && cni_result_eq(&back, &want),
		   what);
		buf_reset(&b2);
		snprintf(what, sizeof(what), "result %s: re-encodes to the same bytes",
			 cni_ver_str((enum cni_ver)v));
		ok(cni_result_encode(&back, (enum cni_ver)v, &b2) == 0 && strcmp(b.p, b2.p) == 0,
		   what);
		json_doc_free(d);
	}
	buf_free(&b);
	buf_free(&b2);
	json_doc_free(dns);
}

static void test_result_legacy(void)
{
	struct buf b = BUF_INIT;
	struct cni_result r, back;
	struct cni_error err;
	struct json_doc *d;

	make_result(&r, NULL);
	/* a second IPv4 address and an IPv6 route without ... */
	set_cidr(&r.ips[2].addr, "10.244.1.6/24");
	r.ips[2].iface = -1;
	r.nips = 3;
	ok(cni_result_encode(&r, CNI_V020, &b) == 0 && strstr(b.p, "10.244.1.6") == NULL,
	   "legacy: only the first IP of a family");
	d = doc_of(b.p);
	ok(cni_result_decode(json_root(d), &back, &err) == 0 && back.nifaces == 0 &&
	   back.nips == 2 && back.ips[0].iface == -1 && back.nroutes == 2 &&
	   strcmp(fmt_cidr(&back.ips[1].addr), "fd00:10:244:1::5/64") == 0 &&
	   strcmp(fmt_cidr(&back.routes[1].dst), "::/0") == 0 && back.dns == NULL,
	   "legacy: decodes to ips and routes without interfaces");
	json_doc_free(d);
	buf_reset(&b);
	r.nips = 1;
	r.ips[0] = r.ips[1];
	ok(cni_result_encode(&r, CNI_V010, &b) == 0 && strcmp(b.p,
	   "{\"cniVersion\":\"0.1.0\",\"ip6\":{\"ip\":\"fd00:10:244:1::5/64\","
	   "\"gateway\":\"fd00:10:244:1::1\",\"routes\":[{\"dst\":\"::/0\","
	   "\"gw\":\"fd00:10:244:1::1\"}]},\"dns\":{}}") == 0,
	   "legacy: IPv6 only drops the IPv4 routes");
	buf_reset(&b);
	r.nips = 0;
	ok(cni_result_encode(&r, CNI_V020, &b) == -EINVAL && b.len == 0,
	   "legacy: no IP cannot convert");
	ok(cni_result_encode(&r, CNI_V030, &b) == 0, "0.3.0: no IP is fine");
	buf_free(&b);
}

static void test_result_encode_edges(void)
{
	struct buf b = BUF_INIT;
	struct cni_result r;

	memset(&r, 0, sizeof(r));
	ok(cni_result_encode(&r, CNI_V100, &b) == 0 &&
	   strcmp(b.p, "{\"cniVersion\":\"1.0.0\",\"dns\":{}}") == 0, "encode: empty result");
	buf_reset(&b);
	make_result(&r, NULL);
	r.ifaces[0].has_mac = false;
	r.ips[0].has_gw = false;
	r.ips[0].iface = -1;
	r.routes[0].has_gw = false;
	r.nips = 1;
	r.nroutes = 1;
	ok(cni_result_encode(&r, CNI_V110, &b) == 0 && strcmp(b.p,
	   "{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":\"veth1a2b3c4d\",\"mtu\":1450},"
	   "{\"name\":\"eth0\",\"mac\":\"0a:58:0a:f4:01:05\",\"mtu\":1450,"
	   "\"sandbox\":\"/var/run/netns/cni-1234\"}],\"ips\":[{\"address\":\"10.244.1.5/24\"}],"
	   "\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dns\":{}}") == 0,
	  "encode: optional keys omitted");
	strcpy(b.p, "prefix");
	b.len = 6;
	r.ips[0].iface = 2;
	ok(cni_result_encode(&r, CNI_V110, &b) == -EINVAL && strcmp(b.p, "prefix") == 0,
	   "encode: interface index out of range, buffer untouched");
	r.ips[0].iface = 0;
	r.ips[0].has_gw = true;
	r.ips[0].gw.family = AF_INET6;
	ok(cni_result_encode(&r, CNI_V110, &b) == -EINVAL, "encode: gateway family mismatch");
	make_result(&r, NULL);
	memset(r.ifaces[0].name, 'a', sizeof(r.ifaces[0].name));
	ok(cni_result_encode(&r, CNI_V110, &b) == -EINVAL, "encode: unterminated name");
	make_result(&r, NULL);
	r.nroutes = CNI_MAX_ROUTES + 1;
	ok(cni_result_encode(&r, CNI_V110, &b) == -EINVAL, "encode: too many routes");
	make_result(&r, NULL);
	ok(cni_result_encode(&r, (enum cni_ver)9, &b) == -EINVAL, "encode: unknown version");
	r.routes[0].dst.prefix = 33;
	ok(cni_result_encode(&r, CNI_V100, &b) == -EINVAL, "encode: bad prefix");
	is_str(b.p, "prefix", "encode: failures append nothing");
	b.max = 20;
	make_result(&r, NULL);
	ok(cni_result_encode(&r, CNI_V100, &b) == -EMSGSIZE && strcmp(b.p, "prefix") == 0,
	   "encode: bounded buffer overflow restores it");
	buf_free(&b);
}

/* What podman 4.3 caches after a bridge ADD, converted to 0.4.0, as CHECK/DEL receive it. */
static const char podman_prev[] =
	"{\"cniVersion\":\"0.4.0\",\"interfaces\":[{\"name\":\"cni-podman0\","
	"\"mac\":\"F6:7A:19:3B:2C:01\"},{\"name\":\"veth21270be8\",\"mac\":\"3a:1f:c0:5e:77:9d\"},"
	"{\"name\":\"eth0\",\"mac\":\"5a:02:11:aa:bb:cc\","
	"\"sandbox\":\"/run/netns/netns-712779bf-1d3c-5e27-8a1b-0c9d2f4e6a7b\"}],"
	"\"ips\":[{\"version\":\"4\",\"interface\":2,\"address\":\"10.88.0.5/16\","
	"\"gateway\":\"10.88.0.1\"}],\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dns\":{}}";

static void test_result_podman(void)
{
	struct json_doc *d = doc_of(podman_prev);
	struct cni_error err;
	struct cni_result r;

	ok(cni_result_decode(json_root(d), &r, &err) == 0, "podman 0.4.0 prevResult decodes");
	is_int(r.nifaces, 3, "podman: three interfaces");
	is_str(r.ifaces[0].name, "cni-podman0", "podman: bridge name");
	is_str(fmt_mac(r.ifaces[0].mac), "f6:7a:19:3b:2c:01", "podman: uppercase MAC read");
	is_str(r.ifaces[1].sandbox, "", "podman: host veth has no sandbox");
	is_str(r.ifaces[2].sandbox, "/run/netns/netns-712779bf-1d3c-5e27-8a1b-0c9d2f4e6a7b",
	       "podman: container sandbox");
	ok(r.nips == 1 && r.ips[0].iface == 2 && r.ips[0].has_gw &&
	   strcmp(fmt_cidr(&r.ips[0].addr), "10.88.0.5/16") == 0 &&
	   strcmp(fmt_ip(&r.ips[0].gw), "10.88.0.1") == 0, "podman: the IP");
	ok(r.nroutes == 1 && !r.routes[0].has_gw && r.routes[0].dst.prefix == 0,
	   "podman: default route without gw");
	ok(r.dns == NULL, "podman: empty dns reads as none");
	json_doc_free(d);
}

struct dec_case {
	const char *what;
	const char *json;
	const char *details;    /* NULL = must decode */
};

static const struct dec_case dec_cases[] = {
	{ "not an object", "[]", "result: not an object" },
	{ "empty object", "{}", NULL },
	{ "interfaces not an array", "{\"interfaces\":{}}", "result.interfaces: not an array" },
	{ "interface not an object", "{\"interfaces\":[1]}",
	  "result.interfaces[0]: not an object" },
	{ "interface without name", "{\"interfaces\":[{\"mac\":\"02:00:00:00:00:01\"}]}",
	  "result.interfaces[0].name: want a string of 1-15 bytes" },
	{ "interface name 16 bytes", "{\"interfaces\":[{\"name\":\"abcdefghijklmnop\"}]}",
	  "result.interfaces[0].name: want a string of 1-15 bytes" },
	{ "empty mac is none", "{\"interfaces\":[{\"name\":\"a\",\"mac\":\"\",\"sandbox\":\"\"}]}",
	  NULL },
	{ "mac of 8 bytes",
	  "{\"interfaces\":[{\"name\":\"a\",\"mac\":\"02:00:00:00:00:00:00:01\"}]}",
	  "result.interfaces[0].mac: not a MAC address" },
	{ "sandbox a number", "{\"interfaces\":[{\"name\":\"a\",\"sandbox\":1}]}",
	  "result.interfaces[0].sandbox: want a string under 512 bytes" },
	{ "mtu negative", "{\"interfaces\":[{\"name\":\"a\",\"mtu\":-1}]}",
	  "result.interfaces[0].mtu: want an integer 0..4294967295" },
	{ "1.1.0 extras ignored",
	  "{\"interfaces\":[{\"name\":\"a\",\"mtu\":9000,\"socketPath\":\"/s\","
	  "\"pciID\":\"0000:00:01.0\"}],\"routes\":[{\"dst\":\"10.0.0.0/8\",\"mtu\":1400,"
	  "\"advmss\":1360,\"priority\":10,\"table\":100,\"scope\":0}]}", NULL },
	{ "too many interfaces",
	  "{\"interfaces\":[{\"name\":\"a\"},{\"name\":\"a\"},{\"name\":\"a\"},"
	  "{\"name\":\"a\"},{\"name\":\"a\"},{\"name\":\"a\"},{\"name\":\"a\"},{\"name\":\"a\"},"
	  "{\"name\":\"a\"},{\"name\":\"a\"},{\"name\":\"a\"},{\"name\":\"a\"},{\"name\":\"a\"},"
	  "{\"name\":\"a\"},{\"name\":\"a\"},{\"name\":\"a\"},{\"name\":\"a\"}]}",
	  "result.interfaces: more than 16 entries" },
	{ "ips without version (1.0)", "{\"ips\":[{\"address\":\"fd00::5/64\"}]}", NULL },
	{ "ips version mismatch", "{\"ips\":[{\"version\":\"6\",\"address\":\"10.1.2.3/24\"}]}",
	  "result.ips[0].version: want \"4\" or \"6\" matching the address" },
	{ "ips version a number", "{\"ips\":[{\"version\":4,\"address\":\"10.1.2.3/24\"}]}",
	  "result.ips[0].version: want \"4\" or \"6\" matching the address" },
	{ "gateway family mismatch",
	  "{\"ips\":[{\"address\":\"10.1.2.3/24\",\"gateway\":\"fd00::1\"}]}",
	  "result.ips[0].gateway: not an address of the address's family" },
	{ "empty gateway is none", "{\"ips\":[{\"address\":\"10.1.2.3/24\",\"gateway\":\"\"}]}",
	  NULL },
	{ "interface index without interfaces", "{\"ips\":[{\"address\":\"10.1.2.3/24\","
	  "\"interface\":0}]}", "result.ips[0].interface: not an index into interfaces" },
	{ "interface index negative", "{\"interfaces\":[{\"name\":\"a\"}],\"ips\":[{\"address\":"
	  "\"10.1.2.3/24\",\"interface\":-1}]}",
	  "result.ips[0].interface: not an index into interfaces" },
	{ "route without dst", "{\"routes\":[{\"gw\":\"10.0.0.1\"}]}",
	  "result.routes[0].dst: want an address with a prefix" },
	{ "route gw family", "{\"routes\":[{\"dst\":\"::/0\",\"gw\":\"10.0.0.1\"}]}",
	  "result.routes[0].gw: not an address of dst's family" },
	{ "legacy ip4 with IPv6", "{\"ip4\":{\"ip\":\"fd00::1/64\"}}",
	  "result.ip4.ip: want an IPv4 address with a prefix" },
	{ "legacy ip6 route bad", "{\"ip6\":{\"ip\":\"fd00::1/64\",\"routes\":[{\"dst\":5}]}}",
	  "result.ip6.routes[0].dst: want an address with a prefix" },
	{ "legacy ip4 not an object", "{\"ip4\":\"10.0.0.1/8\"}", "result.ip4: not an object" },
	{ "dns not an object", "{\"dns\":\"x\"}", "result.dns: not an object" },
	{ "dns search not an array", "{\"dns\":{\"search\":1}}",
	  "result.dns.search: not an array" },
	{ "nulls are absent", "{\"interfaces\":null,\"ips\":[{\"address\":\"10.1.2.3/8\","
	  "\"gateway\":null,\"interface\":null}],\"routes\":null,\"dns\":null}", NULL },
};

static void test_result_decode(void)
{
	struct cni_error err;
	struct cni_result r;
	struct json_doc *d;
	char what[128];
	size_t i;
	int e;

	for (i = 0; i < ARRAY_SIZE(dec_cases); i++) {
		const struct dec_case *k = &dec_cases[i];

		d = doc_of(k->json);
		memset(&err, 0, sizeof(err));
		e = cni_result_decode(json_root(d), &r, &err);
		snprintf(what, sizeof(what), "decode: %s", k->what);
		if (!k->details) {
			is_int(e, 0, what);
			if (e)
				diag("%s", err.details);
		} else {
			ok(e == -EINVAL && err.code == CNI_ERR_DECODE &&
			   strcmp(err.msg, "failed to decode result") == 0, what);
			is_str(err.details, k->details, what);
			ok(r.nifaces == 0 && r.nips == 0 && r.nroutes == 0,
			   "decode: error zeroes out");
		}
		json_doc_free(d);
	}
	d = doc_of("{\"routes\":[{\"dst\":\"10.1.2.3/24\",\"gw\":\"\"}],"
		   "\"dns\":{\"domain\":\"x\"}}");
	ok(cni_result_decode(json_root(d), &r, &err) == 0 &&
	   strcmp(fmt_cidr(&r.routes[0].dst), "10.1.2.0/24") == 0 && !r.routes[0].has_gw,
	   "decode: route dst host bits cleared, empty gw is none");
	ok(r.dns == json_get(json_root(d), "dns"), "decode: non-empty dns is borrowed");
	json_doc_free(d);
}

static void test_prev_in_conf(void)
{
	struct cni_error err;
	struct cni_conf c;
	char json[2048];

	snprintf(json, sizeof(json), "{\"cniVersion\":\"0.4.0\",\"name\":\"podman\","
		 "\"prevResult\":%s}", podman_prev);
	ok(parse_g(json, CNI_CMD_CHECK, NULL, &c, &err) == 0 && c.has_prev && c.prev.nifaces == 3 &&
	   c.prev.nips == 1 && c.prev_err.code == 0, "prev: CHECK gets the decoded prevResult");
	cni_conf_free(&c);
	ok(parse_g(C(",\"prevResult\":{\"ip4\":{\"ip\":\"10.1.0.5/24\",\"gateway\":\"10.1.0.1\"}}"),
		   CNI_CMD_DEL, NULL, &c, &err) == 0 && c.has_prev && c.prev.nips == 1,
	   "prev: 0.2.0 shape accepted under a 1.0.0 config");
	cni_conf_free(&c);
	ok(parse_g(C(",\"prevResult\":{\"ips\":[{\"address\":\"x\"}]}"), CNI_CMD_DEL, NULL, &c,
		   &err) == 0 && !c.has_prev && c.prev_err.code == CNI_ERR_DECODE &&
	   strcmp(c.prev_err.details,
	  "prevResult.ips[0].address: want an address with a prefix") == 0,
	   "prev: DEL records a bad prevResult instead of failing");
	cni_conf_free(&c);
	ok(parse_g(C(",\"prevResult\":{}"), CNI_CMD_DEL, NULL, &c, &err) == 0 && c.has_prev &&
	   c.prev.nifaces == 0, "prev: empty prevResult");
	cni_conf_free(&c);
}

/* ---- error, VERSION and node-state documents --------------------------------------------- */

static void test_error_encode(void)
{
	struct buf b = BUF_INIT;
	struct cni_error e;

	cni_error_set(&e, CNI_ERR_CONFIG, "invalid mtu", "%d: %s", 70000, "too big");
	ok(cni_error_encode(&e, "0.4.0", &b) == 0 && strcmp(b.p,
	   "{\"cniVersion\":\"0.4.0\",\"code\":7,\"msg\":\"invalid mtu\","
	   "\"details\":\"70000: too big\"}") == 0, "error: with details");
	buf_reset(&b);
	cni_error_set(&e, CNI_ERR_ENV, "required env variables [CNI_NETNS] missing", NULL);
	ok(cni_error_encode(&e, NULL, &b) == 0 && strcmp(b.p,
	   "{\"cniVersion\":\"1.1.0\",\"code\":4,"
	   "\"msg\":\"required env variables [CNI_NETNS] missing\"}") == 0,
	   "error: no details, default version");
	buf_reset(&b);
	cni_error_set(&e, CNI_ERR_ENV, "bad \xff\xfe byte", "tab\there \"q\" \xc3");
	ok(cni_error_encode(&e, "\xff", &b) == 0 && strcmp(b.p,
	   "{\"cniVersion\":\"1.1.0\",\"code\":4,\"msg\":\"bad ?? byte\","
	   "\"details\":\"tab\\there \\\"q\\\" ?\"}") == 0, "error: repaired and escaped");
	buf_reset(&b);
	cni_error_set(&e, 999, "x\xc3\xa9", NULL);
	ok(cni_error_encode(&e, "1.0.0", &b) == 0 && strstr(b.p, "\"msg\":\"x\xc3\xa9\"") != NULL,
	   "error: valid UTF-8 passes");
	cni_error_set(NULL, 1, "x", NULL);
	buf_free(&b);
}

struct ver_case {
	const char *in;
	int rc;
	const char *ver;
};

static const struct ver_case ver_cases[] = {
	{ "", 0, "1.1.0" },
	{ " \n\t", 0, "1.1.0" },
	{ "{\"cniVersion\":\"0.4.0\"}", 0, "0.4.0" },
	{ "{\"cniVersion\":\"1.0.0\"}", 0, "1.0.0" },
	{ "{\"cniVersion\":\"0.1.0\"}", 0, "0.1.0" },
	{ "{\"cniVersion\":\"9.9.9\"}", 0, "1.1.0" },
	{ "{\"cniVersion\":5}", 0, "1.1.0" },
	{ "{}", 0, "1.1.0" },
	{ "[]", 0, "1.1.0" },
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[]}", 0, "1.0.0" },
	{ "{", -EINVAL, NULL },
	{ "{\"cniVersion\":\"1.0.0\"} x", -EINVAL, NULL },
};

static void test_version_encode(void)
{
	struct buf b = BUF_INIT;
	struct cni_error err;
	char want[256], what[96];
	size_t i, n;
	char *g;
	int r;

	for (i = 0; i < ARRAY_SIZE(ver_cases); i++) {
		n = strlen(ver_cases[i].in);
		g = guard_copy(ver_cases[i].in, n);
		buf_reset(&b);
		memset(&err, 0, sizeof(err));
		r = cni_version_encode(g, n, &b, &err);
		guard_free(g, n);
		snprintf(what, sizeof(what), "version: '%s'", ver_cases[i].in);
		is_int(r, ver_cases[i].rc, what);
		if (r) {
			is_int(err.code, CNI_ERR_DECODE, what);
			ok(b.len == 0, "version: nothing written on error");
			continue;
		}
		snprintf(want, sizeof(want), "{\"cniVersion\":\"%s\",\"supportedVersions\":"
			 "[\"0.1.0\",\"0.2.0\",\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]}",
			 ver_cases[i].ver);
		is_str(b.p, want, what);
	}
	buf_reset(&b);
	ok(cni_version_encode(NULL, 0, &b, &err) == 0, "version: NULL empty input");
	buf_free(&b);
}

static void test_nodestate(void)
{
	static const struct {
		const char *in;
		int rc;
		size_t n;
		uint32_t mtu;
		const char *why;
	} cases[] = {
		{ "{\"podCIDRs\":[\"10.244.1.0/24\",\"fd00::/64\"],\"mtu\":1450}", 0, 2, 1450,
		  NULL },
		{ "{\"podCIDRs\":[\"10.244.1.0/24\"],\"agent\":\"x\"}", 0, 1, 0, NULL },
		{ "{\"mtu\":1450}", 0, 0, 1450, NULL },
		{ "{\"podCIDRs\":[]}", 0, 0, 0, NULL },
		{ "{\"podCIDRs\":[\"10.244.1.1/24\"]}", -EINVAL, 0, 0,
		  "podCIDRs[0]: 10.244.1.1/24 has host bits set" },
		{ "{\"podCIDRs\":[\"fd00::/64\",\"fd01::/64\"]}", -EINVAL, 0, 0,
		  "podCIDRs[1]: a second IPv6 range" },
		{ "{\"podCIDRs\":[\"10.244.1.0/24\"],\"mtu\":100}", -EINVAL, 0, 0,
		  "mtu: want an integer 576..65535 (0 or absent: the uplink's)" },
		{ "[]", -EINVAL, 0, 0, "not a JSON object" },
		{ "{\"podCIDRs\":", -EINVAL, 0, 0, NULL },
		{ "", -EINVAL, 0, 0, NULL },
	};
	struct cidr ranges[2];
	struct ebuf eb;
	uint32_t mtu;
	size_t i, n, nr;
	char what[128];
	char *g;
	int r;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		n = strlen(cases[i].in);
		g = guard_copy(cases[i].in, n);
		ebuf_clear(&eb);
		r = cni_nodestate_parse(g, n, ranges, &nr, &mtu, &eb);
		guard_free(g, n);
		snprintf(what, sizeof(what), "nodestate: %s", cases[i].in);
		is_int(r, cases[i].rc, what);
		if (!r)
			ok(nr == cases[i].n && mtu == cases[i].mtu, what);
		else
			ok(nr == 0, "nodestate: no ranges on error");
		if (cases[i].why)
			is_str(eb.msg, cases[i].why, what);
	}
	r = cni_nodestate_parse("{\"podCIDRs\":[\"fd00::/64\",\"10.1.0.0/16\"]}", 40, ranges, &nr,
				&mtu, NULL);
	ok(r == 0 && nr == 2 && strcmp(fmt_cidr(&ranges[1]), "10.1.0.0/16") == 0,
	   "nodestate: ranges in order, NULL ebuf");
}

/* ---- partial input and allocation failure ------------------------------------------------ */

static const char full_add[] =
	"{\"cniVersion\":\"1.0.0\",\"name\":\"k8s\",\"type\":\"virgil\",\"mtu\":1400,"
	"\"podCIDRs\":[\"10.244.1.0/24\",\"fd00:10:244:1::/64\"],\"dns\":{\"search\":[\"a\"]},"
	"\"runtimeConfig\":{\"ips\":[\"10.244.1.9\"],\"mac\":\"02:00:00:00:00:09\"},"
	"\"args\":{\"cni\":{\"ips\":[\"fd00:10:244:1::9/64\"]}},"
	"\"prevResult\":{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"eth0\","
	"\"sandbox\":\"/run/netns/x\"}],"
	"\"ips\":[{\"interface\":0,\"address\":\"10.244.1.9/24\"}]}}";
static const char full_gc[] =
	"{\"cniVersion\":\"1.1.0\",\"name\":\"k8s\",\"cni.dev/valid-attachments\":"
	"[{\"containerID\":\"b\",\"ifname\":\"eth0\"},{\"containerID\":\"a\",\"ifname\":\"eth0\"}],"
	"\"cni.dev/attachments\":[{\"containerID\":\"a\",\"ifname\":\"eth0\"}]}";

static void test_prefixes(void)
{
	struct cni_error err;
	struct cni_conf c;
	struct cni_env env = { .cmd = CNI_CMD_ADD };
	size_t n, bad = 0;
	char *g;

	for (n = 0; n < sizeof(full_add) - 1; n++) {
		g = guard_copy(full_add, n);
		bad += cni_conf_parse(g, n, &env, &c, &err) != -EINVAL ||
		       err.code != CNI_ERR_DECODE || c.doc != NULL;
		guard_free(g, n);
	}
	ok(bad == 0, "every strict prefix of a config fails as a decode error");
	ok(parse_g(full_add, CNI_CMD_ADD, "K8S_POD_NAME=p", &c, &err) == 0 && c.nreq_ips == 2 &&
	   c.has_mac && c.has_prev && c.nranges == 2, "the whole config parses");
	cni_conf_free(&c);
}

static void fault_conf(const char *json, enum cni_cmd cmd, const char *args, const char *what)
{
	struct cni_error err;
	struct cni_conf c;
	unsigned long nth, calls;
	int r, bad = 0;

	for (nth = 1;; nth++) {
		fault_reset(nth);
		r = parse_g(json, cmd, args, &c, &err);
		calls = fault_reset(0);
		if (calls < nth) {
			bad += r != 0;
			cni_conf_free(&c);
			break;
		}
		bad += r != -ENOMEM || err.code != CNI_ERR_TRY_AGAIN || c.doc || c.valid ||
		       c.args_buf;
	}
	ok(bad == 0 && nth > 1, what);
	if (bad)
		diag("%d bad results over %lu runs", bad, nth);
}

static void fault_encode(void)
{
	struct json_doc *dns = doc_of(dns_json);
	unsigned long nth, calls;
	struct buf b = BUF_INIT;
	struct cni_result r;
	struct cni_error e;
	int rc, bad = 0, step;

	make_result(&r, json_root(dns));
	cni_error_set(&e, 7, "invalid mtu", "details");
	for (step = 0; step < 3; step++) {
		for (nth = 1;; nth++) {
			buf_free(&b);
			fault_reset(nth);
			rc = step == 0 ? cni_result_encode(&r, CNI_V110, &b)
			   : step == 1 ? cni_error_encode(&e, "1.0.0", &b)
			   : cni_version_encode("{\"cniVersion\":\"0.4.0\"}", 22, &b, NULL);
			calls = fault_reset(0);
			if (calls < nth) {
				bad += rc != 0;
				break;
			}
			bad += rc != -ENOMEM || b.len != 0;
		}
	}
	ok(bad == 0, "encoders: clean -ENOMEM at every allocation");
	buf_free(&b);
	json_doc_free(dns);
}

int main(void)
{
	test_versions();
	test_env();
	test_env_fields();
	test_conf_errors();
	test_conf_version_kept();
	test_conf_fields();
	test_args();
	test_gc();
	test_result_goldens();
	test_result_legacy();
	test_result_encode_edges();
	test_result_podman();
	test_result_decode();
	test_prev_in_conf();
	test_error_encode();
	test_version_encode();
	test_nodestate();
	test_prefixes();
	fault_conf(full_add, CNI_CMD_ADD, "IgnoreUnknown=1;K8S_POD_NAME=x;IP=10.1.2.3",
		   "fault: ADD");
	fault_conf(full_gc, CNI_CMD_GC, NULL, "fault: GC with attachments");
	fault_encode();
	return tap_done();
}
