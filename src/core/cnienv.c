// SPDX-License-Identifier: MIT
/*
 * cnienv.c: the process contract around the network config (see cniconf.h): the CNI_*
 * environment, and the error and VERSION documents written to stdout. Split from cniconf.c
 * to keep files to one job; both implement cniconf.h. Values from the environment are
 * arbitrary bytes, so everything that can reach stdout is checked or repaired to UTF-8.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../base/util.h"
#include "../base/buf.h"
#include "../base/err.h"
#include "../codec/json.h"
#include "cniconf.h"

void cni_error_set(struct cni_error *e, int code, const char *msg, const char *details_fmt, ...)
{
	va_list ap;

	if (!e)
		return;
	e->code = code;
	snprintf(e->msg, sizeof(e->msg), "%s", msg ? msg : "");
	e->details[0] = '\0';
	if (!details_fmt)
		return;
	va_start(ap, details_fmt);
	vsnprintf(e->details, sizeof(e->details), details_fmt, ap);
	va_end(ap);
}

/* Length of the valid UTF-8 sequence starting s[0..n), 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned cp, c = s[0];
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	cp = c & (0x7fu >> len);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

static bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		k = utf8_seq(u + i, n - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

/* Copy s into out (same size), each byte that starts no valid sequence becoming '?'. */
static void utf8_repair(const char *s, char *out, size_t cap)
{
	size_t n = strnlen(s, cap - 1), i = 0, k;

	while (i < n) {
		k = utf8_seq((const unsigned char *)s + i, n - i);
		if (!k) {
			out[i++] = '?';
			continue;
		}
		memcpy(out + i, s + i, k);
		i += k;
	}
	out[n] = '\0';
}

bool cni_id_valid(const char *s, size_t n)
{
	return safe_name(s, n);
}

/* ---- environment ----------------------------------------------------------------------- */

enum { V_ID = 1, V_NETNS = 2, V_IFNAME = 4, V_ARGS = 8, V_PATH = 16 };
#define V_POD (V_ID | V_NETNS | V_IFNAME | V_ARGS | V_PATH)

static const struct {
	const char *name;
	enum cni_cmd cmd;
	unsigned need, use;
} cmds[] = {
	{ "ADD", CNI_CMD_ADD, V_ID | V_NETNS | V_IFNAME, V_POD },
	{ "DEL", CNI_CMD_DEL, V_ID | V_IFNAME, V_POD },
	{ "CHECK", CNI_CMD_CHECK, V_ID | V_NETNS | V_IFNAME, V_POD },
	{ "STATUS", CNI_CMD_STATUS, 0, V_PATH },
	{ "VERSION", CNI_CMD_VERSION, 0, 0 },
	{ "GC", CNI_CMD_GC, 0, V_PATH },
};

static const char *env_get(const char *(*get)(const char *, void *), void *ctx, const char *name)
{
	const char *v = get(name, ctx);

	return v && *v ? v : NULL;
}

static const char *ifname_why(const char *s)
{
	size_t n = strlen(s), i;

	if (n > 15)
		return "longer than 15 bytes";
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return "\".\" and \"..\" are not interface names";
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f || c == '/' || c == ':')
			return "only printable ASCII other than '/', ':' and space";
	}
	return NULL;
}

/* skel's message, listing only the missing variables in skel's order. */
static int env_missing(const struct cni_env *o, unsigned need, struct cni_error *err)
{
	const struct {
		unsigned bit;
		const char *name, *val;
	} vars[] = {
		{ V_ID, "CNI_CONTAINERID", o->containerid },
		{ V_NETNS, "CNI_NETNS", o->netns },
		{ V_IFNAME, "CNI_IFNAME", o->ifname },
	};
	char list[64] = "", msg[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vars); i++) {
		if ((need & vars[i].bit) && !vars[i].val) {
			if (list[0])
				strcat(list, ",");
			strcat(list, vars[i].name);
		}
	}
	if (!list[0])
		return 0;
	snprintf(msg, sizeof(msg), "required env variables [%s] missing", list);
	cni_error_set(err, CNI_ERR_ENV, msg, NULL);
	return -EINVAL;
}

static int env_check(const struct cni_env *o, struct cni_error *err)
{
	const char *why;

	if (o->containerid && !cni_id_valid(o->containerid, strlen(o->containerid))) {
		cni_error_set(err, CNI_ERR_ENV, "invalid characters in CNI_CONTAINERID",
			      "\"%.200s\"", o->containerid);
		return -EINVAL;
	}
	why = o->ifname ? ifname_why(o->ifname) : NULL;
	if (why) {
		cni_error_set(err, CNI_ERR_ENV, "invalid CNI_IFNAME", "\"%.64s\": %s", o->ifname,
			      why);
		return -EINVAL;
	}
	if (!o->netns)
		return 0;
	/* it comes back as the result's "sandbox": a JSON string in a 512-byte field */
	why = NULL;
	if (strlen(o->netns) >= 512)
		why = "longer than 511 bytes";
	else if (!utf8_valid(o->netns, strlen(o->netns)))
		why = "not valid UTF-8";
	if (why) {
		cni_error_set(err, CNI_ERR_ENV, "invalid CNI_NETNS", "\"%.200s\": %s", o->netns,
			      why);
		return -EINVAL;
	}
	return 0;
}

int cni_env_parse(const char *(*get)(const char *name, void *ctx), void *ctx,
		  struct cni_env *out, struct cni_error *err)
{
	const char *cmd = env_get(get, ctx, "CNI_COMMAND");
	char msg[sizeof(err->msg)];
	size_t i;
	unsigned use;

	memset(out, 0, sizeof(*out));
	for (i = 0; cmd && i < ARRAY_SIZE(cmds) && strcmp(cmd, cmds[i].name); i++)
		;
	if (!cmd || i == ARRAY_SIZE(cmds)) {
		snprintf(msg, sizeof(msg), "unknown CNI_COMMAND: %s", cmd ? cmd : "");
		cni_error_set(err, CNI_ERR_ENV, msg, NULL);
		return -EINVAL;
	}
	out->cmd = cmds[i].cmd;
	use = cmds[i].use;
	if (use & V_ID)
		out->containerid = env_get(get, ctx, "CNI_CONTAINERID");
	if (use & V_NETNS)
		out->netns = env_get(get, ctx, "CNI_NETNS");
	if (use & V_IFNAME)
		out->ifname = env_get(get, ctx, "CNI_IFNAME");
	if (use & V_ARGS)
		out->args = env_get(get, ctx, "CNI_ARGS");
	if (use & V_PATH)
		out->path = env_get(get, ctx, "CNI_PATH");
	if (env_missing(out, cmds[i].need, err))
		return -EINVAL;
	return env_check(out, err);
}

/* ---- error and version documents ------------------------------------------------------- */

int cni_error_encode(const struct cni_error *e, const char *ver, struct buf *b)
{
	char msg[sizeof(e->msg)], details[sizeof(e->details)];
	size_t len0 = b->len;
	struct jw w;
	int r;

	utf8_repair(e->msg, msg, sizeof(msg));
	utf8_repair(e->details, details, sizeof(details));
	jw_init(&w, b);
	jw_obj_begin(&w);
	jw_kstr(&w, "cniVersion", ver && utf8_valid(ver, strlen(ver)) ? ver : "1.1.0");
	jw_key(&w, "code");
	jw_i64(&w, e->code);
	jw_kstr(&w, "msg", msg);
	if (details[0])
		jw_kstr(&w, "details", details);
	jw_obj_end(&w);
	r = jw_finish(&w);
	if (r && b->p) {
		b->len = len0;
		b->p[len0] = '\0';
	}
	return r;
}

int cni_error_json(int e, const struct ebuf *eb, const char *what, struct cni_error *err)
{
	char msg[sizeof(err->msg)];

	if (e == -ENOMEM) {
		cni_error_set(err, CNI_ERR_TRY_AGAIN, "out of memory", NULL);
		return e;
	}
	snprintf(msg, sizeof(msg), "%s: %.200s", what, eb->msg);
	cni_error_set(err, CNI_ERR_DECODE, msg, NULL);
	return e == -E2BIG ? e : -EINVAL;
}

static bool all_space(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
	}
	return true;
}

int cni_version_encode(const char *in, size_t n, struct buf *b, struct cni_error *err)
{
	enum cni_ver v = CNI_VER_LATEST;
	struct json_doc *doc = NULL;
	const struct json *cv;
	struct ebuf eb = { { 0 } };
	size_t len0 = b->len;
	unsigned i;
	struct jw w;
	int e;

	if (!all_space(in, n)) {
		e = json_parse(in, n, NULL, &doc, &eb);
		if (e)
			return cni_error_json(e, &eb, "error unmarshall version request", err);
		cv = json_get(json_root(doc), "cniVersion");
		if (json_is(cv, JSON_STRING) && !json_str_has_nul(cv) && cni_ver_parse(cv->str, &v))
			v = CNI_VER_LATEST;
		json_doc_free(doc);
	}
	jw_init(&w, b);
	jw_obj_begin(&w);
	jw_kstr(&w, "cniVersion", cni_ver_str(v));
	jw_key(&w, "supportedVersions");
	jw_arr_begin(&w);
	for (i = 0; i < CNI_VER_COUNT; i++)
		jw_str(&w, cni_ver_str((enum cni_ver)i));
	jw_arr_end(&w);
	jw_obj_end(&w);
	e = jw_finish(&w);
	if (e && b->p) {
		b->len = len0;
		b->p[len0] = '\0';
	}
	if (e == -ENOMEM)
		cni_error_set(err, CNI_ERR_TRY_AGAIN, "out of memory", NULL);
	else if (e)
		cni_error_set(err, CNI_ERR_IO, "cannot write the VERSION reply", "%s",
			      strerror(-e));
	return e;
}
