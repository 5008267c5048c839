/* SPDX-License-Identifier: MIT */
/*
 * cniconf.h: the CNI protocol as pure functions: CNI_* environment validation, the network
 * config on stdin (with CNI_ARGS, args, runtimeConfig, prevResult and the GC attachment
 * list), CNI error codes and the error, VERSION and node-state documents. No I/O: the applet
 * reads env and stdin and writes what these functions produce. Results (struct cni_result,
 * versions) are in cniresult.h, included here.
 *
 * Leniency follows /work/shared/reference/cni-spec.md: "" counts as unset for every variable,
 * unknown config keys and unknown CNI_ARGS keys are ignored (we always behave as if
 * IgnoreUnknown=1 were given), only malformed values of keys we use are errors (code 7).
 */
#ifndef VIRGIL_CNICONF_H
#define VIRGIL_CNICONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"
#include "cidr.h"
#include "cniresult.h"

struct buf;
struct ebuf;
struct json;
struct json_doc;

enum cni_cmd {
	CNI_CMD_ADD = 1,
	CNI_CMD_DEL,
	CNI_CMD_CHECK,
	CNI_CMD_STATUS,
	CNI_CMD_VERSION,
	CNI_CMD_GC,
};

/* Spec codes, then ours (>= 100). */
enum cni_code {
	CNI_ERR_INCOMPATIBLE = 1,
	CNI_ERR_UNSUPPORTED_FIELD = 2,
	CNI_ERR_UNKNOWN_CONTAINER = 3,
	CNI_ERR_ENV = 4,
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6,
	CNI_ERR_CONFIG = 7,
	CNI_ERR_TRY_AGAIN = 11,
	CNI_ERR_NOT_AVAILABLE = 50,
	CNI_ERR_LIMITED = 51,
	CNI_ERR_EXHAUSTED = 100,
	CNI_ERR_ADDR_UNAVAILABLE = 101,
	CNI_ERR_IFACE_EXISTS = 102,
	CNI_ERR_KERNEL = 103,
	CNI_ERR_STORE = 104,
	CNI_ERR_CHECK = 105,
	CNI_ERR_NETNS = 106,
};

struct cni_error {
	int code;
	char msg[256];
	char details[1024];
};

/*
 * Fill e (NULL-safe). msg is copied and details formatted, both truncated to fit; details_fmt
 * NULL leaves details empty. Text may hold any bytes: cni_error_encode() repairs invalid
 * UTF-8 (a truncation may cut a character), so values from the environment can be quoted.
 */
void cni_error_set(struct cni_error *e, int code, const char *msg, const char *details_fmt, ...)
	__printf(4, 5);

/*
 * Map a json_parse() failure onto err: -ENOMEM → code 11 "out of memory" (transient: the
 * runtime retries); anything else → code 6 "<what>: <eb's reason>". Returns -ENOMEM, -E2BIG
 * or -EINVAL.
 */
int cni_error_json(int e, const struct ebuf *eb, const char *what, struct cni_error *err);

/* ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$ over s[0..n): the spec's rule for container IDs, net names. */
bool cni_id_valid(const char *s, size_t n);

/*
 * The CNI_* variables of one call. Pointers are get()'s (borrowed, for the env's lifetime).
 * NULL when unset or empty, and also for every variable the command does not use, so the
 * flow never sees an unvalidated value: ADD/CHECK fill containerid, netns, ifname, args,
 * path; DEL the same with netns optional; GC/STATUS only path; VERSION nothing.
 */
struct cni_env {
	enum cni_cmd cmd;
	const char *containerid, *netns, *ifname, *args, *path;
};

/*
 * get(name, ctx) returns the variable's value or NULL. Checks, in this order, all code 4:
 *   CNI_COMMAND unset or not one of ADD DEL CHECK STATUS VERSION GC (case-sensitive):
 *     msg "unknown CNI_COMMAND: X" (X empty when unset);
 *   missing variables: "required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME] missing"
 *     listing only the missing ones, in that order (ADD/CHECK need all three, DEL the id and
 *     ifname; CNI_PATH is never required: we delegate nothing);
 *   CNI_CONTAINERID not matching ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$: "invalid characters in
 *     CNI_CONTAINERID", details the value;
 *   CNI_IFNAME longer than 15 bytes, "." or "..", or holding anything but printable ASCII
 *     other than '/' and ':' (the kernel's dev_valid_name() plus no control or non-ASCII
 *     bytes, which Go's unicode.IsSpace partly covers): msg "invalid CNI_IFNAME";
 *   CNI_NETNS over 511 bytes or not valid UTF-8 (it must fit the result's "sandbox"):
 *     msg "invalid CNI_NETNS".
 * Returns 0 or -EINVAL (err filled). out is written in both cases.
 */
int cni_env_parse(const char *(*get)(const char *name, void *ctx), void *ctx,
		  struct cni_env *out, struct cni_error *err) __must_check;

struct cni_attachment {
	const char *id;
	const char *ifname;
};

struct cni_conf {
	enum cni_ver ver;
	/*
	 * The version's static string ("0.1.0" when cniVersion is absent or ""); kept on error
	 * once the version was recognised, NULL otherwise, so the error JSON can carry it.
	 */
	const char *ver_str;
	const char *name;
	const char *type;                   /* NULL when absent */
	/*
	 * "podCIDRs": at most one IPv4 and one IPv6 subnet, in the order given, without host
	 * bits. 0 = absent or [] (the flow then reads the node-state file).
	 */
	struct cidr ranges[2];
	size_t nranges;
	uint32_t mtu;                       /* "mtu" 576..65535; 0 (absent or 0) = the uplink's */
	const char *data_dir;               /* "dataDir", absolute, < 1024 B; "/var/lib/virgil" */
	const char *log_file;               /* "logFile" absolute, < 1024 bytes; NULL when absent */
	/*
	 * "agentSocket": the node agent's socket (absolute, < 108 bytes), written into the
	 * conflist by the agent. When set, ADD returns only after the agent confirmed that the
	 * pod's network policy is programmed (else code 11), and DEL tells the agent.
	 */
	const char *agent_socket;
	bool debug;                         /* "debug" */
	/*
	 * Requested addresses, at most one per family (duplicates merge): the union of
	 * args.cni.ips and runtimeConfig.ips; only when both are absent or empty, CNI_ARGS IP=
	 * (comma-separated, like host-local). "/prefix" suffixes are accepted and dropped.
	 */
	struct ipaddr req_ips[4];
	size_t nreq_ips;
	/*
	 * runtimeConfig.mac, else args.cni.mac, else CNI_ARGS MAC= (the reference bridge's
	 * precedence); unicast and not all-zero. CNI_ARGS MAC is not even checked when one of
	 * the others is given.
	 */
	uint8_t mac[6];
	bool has_mac;
	/*
	 * Decoded "prevResult" (null = absent). For DEL a prevResult that fails to decode does
	 * not fail the parse (DEL must succeed "to the fullest extent possible"): has_prev stays
	 * false and prev_err says why (code 0 otherwise).
	 */
	bool has_prev;
	struct cni_result prev;
	struct cni_error prev_err;
	const struct json *dns;             /* config "dns" object (types checked) or NULL */
	/*
	 * GC only: cni.dev/valid-attachments plus the legacy cni.dev/attachments, sorted by
	 * (id, ifname) and deduplicated; an absent or null key is an empty list. Every entry
	 * needs string containerID and ifname: a malformed list fails the parse (code 7)
	 * rather than letting GC remove something live.
	 */
	struct cni_attachment *valid;
	size_t nvalid;
	const char *pod_name, *pod_namespace;  /* CNI_ARGS K8S_POD_NAME/K8S_POD_NAMESPACE or NULL */
	struct json_doc *doc;               /* owns the config strings */
	char *args_buf;                     /* owns the CNI_ARGS strings */
};

/*
 * Parse the stdin config for env->cmd (not used for VERSION). Errors in the order checked
 * (err filled, -EINVAL unless said otherwise):
 *   bad JSON or not an object: 6 "error unmarshall network config: <reason>";
 *   name absent, null or "": 7 "missing network name"; not matching
 *     ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$ or over 255 bytes: 7 "invalid characters found in
 *     network name", details the name;
 *   cniVersion not a string: 6; absent or "" means "0.1.0"; not one of ours:
 *     1 "incompatible CNI versions", details `config is "X", plugin supports ["0.1.0"
 *     "0.2.0" ...]` (Go's %q of a slice: space-separated, as the reference plugins print);
 *   CHECK below 0.4.0: 1 "config version does not allow CHECK"; GC/STATUS below 1.1.0:
 *     1 "config version does not allow GC" / "... STATUS";
 *   "ipam" (non-null): 2 "unsupported field: ipam", details naming its type;
 *   malformed values: 7 "invalid <key path>", details "<value>: <why>";
 *   CNI_ARGS: split on ';' (empty pieces skipped), each pair on its first '='; a piece
 *     without '=' or with an empty key: 7 "invalid CNI_ARGS"; unknown keys ignored;
 *   prevResult: 6 "failed to decode prevResult", details "prevResult.<path>: <why>"
 *     (DEL: recorded in prev_err instead, see above).
 * -ENOMEM: code 11 "out of memory"; -E2BIG (over the JSON limits): code 6. Only the name
 * and version checks follow skel's order; the rest report the first problem found.
 * On success the caller owns *out (cni_conf_free). On error *out is zeroed except
 * ver/ver_str (see above).
 */
int cni_conf_parse(const char *in, size_t n, const struct cni_env *env, struct cni_conf *out,
		   struct cni_error *err) __must_check;
/* Free doc, args_buf and valid; NULL-safe; leaves *c zeroed. */
void cni_conf_free(struct cni_conf *c);

/* Whether (id, ifname) is in c->valid (binary search). */
bool cni_conf_attachment_valid(const struct cni_conf *c, const char *id, const char *ifname);

/*
 * {"cniVersion":ver,"code":N,"msg":"...","details":"..."} (details omitted when empty; ver
 * NULL → "1.1.0"); each byte of invalid UTF-8 in the text becomes '?'. Appends to b; 0, -ENOMEM,
 * -EMSGSIZE (b restored on error).
 */
int cni_error_encode(const struct cni_error *e, const char *ver, struct buf *b) __must_check;

/*
 * VERSION: in is stdin (may be empty, all whitespace, or {"cniVersion":"X"}). Appends
 * {"cniVersion":X,"supportedVersions":[all seven]} with X the input version when we support
 * it, else "1.1.0" (a missing, odd or unknown version is not an error: podman marks a
 * network unusable when VERSION fails). Input that is not JSON: -EINVAL, err code 6.
 */
int cni_version_encode(const char *in, size_t n, struct buf *b, struct cni_error *err)
	__must_check;

/*
 * Node-state seam: <dataDir>/node.json as written by the agent,
 * {"podCIDRs":["10.244.1.0/24","fd00::/64"],"mtu":1450}; the podCIDRs rules of
 * cni_conf_parse(); "mtu" 576..65535, 0 or absent = unknown; unknown keys ignored. Absent or
 * empty podCIDRs gives *nranges = 0 (not an error: the flow decides). 0, -EINVAL with the
 * reason and JSON path in eb, -E2BIG, -ENOMEM.
 */
int cni_nodestate_parse(const char *in, size_t n, struct cidr ranges[2], size_t *nranges,
			uint32_t *mtu, struct ebuf *eb) __must_check;

#endif
