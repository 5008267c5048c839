// SPDX-License-Identifier: MIT
/*
 * podmsg.c: encoding and decoding of the plugin <-> agent socket messages (podmsg.h). Both
 * ends are ours, but the agent's socket is reachable by anything root on the node, so the
 * decoder treats its input as hostile: bounded size, exact types, no unknown ops.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../codec/json.h"
#include "podmsg.h"

static const struct json_limits podmsg_limits = {
	.max_depth = 4,
	.max_bytes = PODMSG_MAX,
	.max_nodes = 64,
};

static const char *op_name(enum podmsg_op op)
{
	return op == PODMSG_ADD ? "add" : op == PODMSG_DEL ? "del" : NULL;
}

int podmsg_req_encode(const struct podmsg_req *r, struct buf *b)
{
	char s[IPADDR_STRLEN];
	struct jw w;
	int i;

	if (!op_name(r->op) || !r->ns[0] || !r->name[0] || !r->id[0])
		return -EINVAL;
	jw_init(&w, b);
	jw_obj_begin(&w);
	jw_kstr(&w, "op", op_name(r->op));
	jw_kstr(&w, "namespace", r->ns);
	jw_kstr(&w, "name", r->name);
	jw_kstr(&w, "containerID", r->id);
	if (r->op == PODMSG_ADD) {
		jw_key(&w, "ips");
		jw_arr_begin(&w);
		for (i = 0; i < 2; i++)
			if (r->ip[i].family && ipaddr_format(&r->ip[i], s, sizeof(s)) == 0)
				jw_str(&w, s);
		jw_arr_end(&w);
	}
	jw_obj_end(&w);
	if (jw_finish(&w))
		return -ENOMEM;
	return buf_addc(b, '\n');
}

/* A required string member copied into out[cap]: non-empty, no NUL, fits. */
static int get_str(const struct json *o, const char *key, char *out, size_t cap,
		   struct ebuf *eb)
{
	const struct json *v = json_get(o, key);

	if (!v || v->type != JSON_STRING) {
		ebuf_set(eb, "%s: expected a string", key);
		return -EINVAL;
	}
	if (!v->len || v->len >= cap || json_str_has_nul(v)) {
		ebuf_set(eb, "%s: empty, too long or not text", key);
		return -EINVAL;
	}
	memcpy(out, v->str, v->len + 1);
	return 0;
}

static int get_ips(const struct json *o, struct podmsg_req *r, struct ebuf *eb)
{
	const struct json *v = json_get(o, "ips"), *e;
	struct ipaddr a;
	int slot;

	if (!v || v->type != JSON_ARRAY) {
		ebuf_set(eb, "ips: expected an array");
		return -EINVAL;
	}
	json_for_each(e, v) {
		if (e->type != JSON_STRING || ipaddr_parse(e->str, e->len, &a)) {
			ebuf_set(eb, "ips: expected IP addresses");
			return -EINVAL;
		}
		slot = a.family == AF_INET ? 0 : 1;
		if (r->ip[slot].family) {
			ebuf_set(eb, "ips: two addresses of one family");
			return -EINVAL;
		}
		r->ip[slot] = a;
	}
	if (!r->ip[0].family && !r->ip[1].family) {
		ebuf_set(eb, "ips: no address");
		return -EINVAL;
	}
	return 0;
}

static int decode_req(const struct json *o, struct podmsg_req *r, struct ebuf *eb)
{
	char op[8];
	int e;

	if (o->type != JSON_OBJECT) {
		ebuf_set(eb, "expected an object");
		return -EINVAL;
	}
	if ((e = get_str(o, "op", op, sizeof(op), eb)))
		return e;
	if (!strcmp(op, "add")) {
		r->op = PODMSG_ADD;
	} else if (!strcmp(op, "del")) {
		r->op = PODMSG_DEL;
	} else {
		ebuf_set(eb, "op: unknown operation \"%s\"", op);
		return -EINVAL;
	}
	if ((e = get_str(o, "namespace", r->ns, sizeof(r->ns), eb)) ||
	    (e = get_str(o, "name", r->name, sizeof(r->name), eb)) ||
	    (e = get_str(o, "containerID", r->id, sizeof(r->id), eb)))
		return e;
	return r->op == PODMSG_ADD ? get_ips(o, r, eb) : 0;
}

int podmsg_req_decode(const char *p, size_t n, struct podmsg_req *r, struct ebuf *eb)
{
	struct json_doc *doc;
	int e;

	memset(r, 0, sizeof(*r));
	e = json_parse(p, n, &podmsg_limits, &doc, eb);
	if (e)
		return e;
	e = decode_req(json_root(doc), r, eb);
	json_doc_free(doc);
	if (e)
		memset(r, 0, sizeof(*r));
	return e;
}

int podmsg_reply_encode(bool ok, const char *why, struct buf *b)
{
	struct jw w;

	jw_init(&w, b);
	jw_obj_begin(&w);
	jw_key(&w, "ok");
	jw_bool(&w, ok);
	if (!ok)
		jw_kstr(&w, "error", why && why[0] ? why : "unknown error");
	jw_obj_end(&w);
	if (jw_finish(&w))
		return -ENOMEM;
	return buf_addc(b, '\n');
}

int podmsg_reply_decode(const char *p, size_t n, bool *ok, char *why, size_t cap,
			struct ebuf *eb)
{
	const struct json *o, *v;
	struct json_doc *doc;
	int e = -EINVAL;

	*ok = false;
	if (cap)
		why[0] = 0;
	if ((e = json_parse(p, n, &podmsg_limits, &doc, eb)))
		return e;
	o = json_root(doc);
	v = o->type == JSON_OBJECT ? json_get(o, "ok") : NULL;
	if (!v || (v->type != JSON_TRUE && v->type != JSON_FALSE)) {
		ebuf_set(eb, "ok: expected a boolean");
		e = -EINVAL;
		goto out;
	}
	*ok = v->type == JSON_TRUE;
	v = json_get(o, "error");
	if (!*ok && v && v->type == JSON_STRING && cap)
		snprintf(why, cap, "%s", v->str);
	e = 0;
out:
	json_doc_free(doc);
	return e;
}
