// SPDX-License-Identifier: MIT
/* deps: core/podmsg.c core/cidr.c codec/json.c codec/json_dom.c codec/jsonw.c base/buf.c base/err.c base/mem.c */
/*
 * test_podmsg.c: the plugin <-> agent messages: request and reply round trips, every
 * malformed shape the decoder must refuse (with its reason), size limits, and allocation
 * failures at every step.
 */
#include <errno.h>
#include <string.h>

#include "tap.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "core/podmsg.h"

static struct podmsg_req add_req(void)
{
	struct podmsg_req r = { .op = PODMSG_ADD };

	strcpy(r.ns, "x");
	strcpy(r.name, "a");
	strcpy(r.id, "c0ffee");
	if (ipaddr_parse("10.244.1.5", 10, &r.ip[0]) || ipaddr_parse("fd00::5", 7, &r.ip[1]))
		abort();
	return r;
}

static void round_trips(void)
{
	struct podmsg_req r = add_req(), back;
	struct buf b = BUF_INIT;
	struct ebuf eb = { "" };

	is_int(podmsg_req_encode(&r, &b), 0, "encode add");
	if (buf_addc(&b, 0))
		abort();
	is_str(b.p, "{\"op\":\"add\",\"namespace\":\"x\",\"name\":\"a\",\"containerID\":"
	       "\"c0ffee\",\"ips\":[\"10.244.1.5\",\"fd00::5\"]}\n", "add line");
	b.len--;
	is_int(podmsg_req_decode(b.p, b.len, &back, &eb), 0, "decode add");
	ok(!memcmp(&r, &back, sizeof(r)), "add round trip");
	buf_free(&b);

	r.op = PODMSG_DEL;
	memset(r.ip, 0, sizeof(r.ip));
	is_int(podmsg_req_encode(&r, &b), 0, "encode del");
	is_int(podmsg_req_decode(b.p, b.len, &back, &eb), 0, "decode del");
	ok(!memcmp(&r, &back, sizeof(r)), "del round trip");
	buf_free(&b);

	r.ns[0] = 0;
	is_int(podmsg_req_encode(&r, &b), -EINVAL, "no namespace: not encoded");
	buf_free(&b);
}

static void bad_requests(void)
{
	static const struct {
		const char *in, *why;
	} cases[] = {
		{ "", "" },
		{ "[]", "expected an object" },
		{ "{\"op\":\"add\"}", "namespace: expected a string" },
		{ "{\"op\":\"nuke\",\"namespace\":\"x\",\"name\":\"a\",\"containerID\":\"c\"}",
		  "op: unknown operation \"nuke\"" },
		{ "{\"op\":1}", "op: expected a string" },
		{ "{\"op\":\"del\",\"namespace\":\"\",\"name\":\"a\",\"containerID\":\"c\"}",
		  "namespace: empty, too long or not text" },
		{ "{\"op\":\"del\",\"namespace\":\"x\\u0000y\",\"name\":\"a\",\"containerID\":\"c\"}",
		  "namespace: empty, too long or not text" },
		{ "{\"op\":\"add\",\"namespace\":\"x\",\"name\":\"a\",\"containerID\":\"c\"}",
		  "ips: expected an array" },
		{ "{\"op\":\"add\",\"namespace\":\"x\",\"name\":\"a\",\"containerID\":\"c\",\"ips\":[]}",
		  "ips: no address" },
		{ "{\"op\":\"add\",\"namespace\":\"x\",\"name\":\"a\",\"containerID\":\"c\","
		  "\"ips\":[\"10.0.0.1\",\"10.0.0.2\"]}", "ips: two addresses of one family" },
		{ "{\"op\":\"add\",\"namespace\":\"x\",\"name\":\"a\",\"containerID\":\"c\","
		  "\"ips\":[\"10.0.0.1/24\"]}", "ips: expected IP addresses" },
		{ "{\"op\":\"add\",\"namespace\":\"x\",\"name\":\"a\",\"containerID\":\"c\","
		  "\"ips\":[[[[[\"x\"]]]]]}", "" },
	};
	struct podmsg_req r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ebuf eb = { "" };
		char what[96];

		snprintf(what, sizeof(what), "bad request %zu refused", i);
		ok(podmsg_req_decode(cases[i].in, strlen(cases[i].in), &r, &eb) < 0, what);
		if (cases[i].why[0])
			is_str(eb.msg, cases[i].why, "  with its reason");
		ok(!r.ns[0] && !r.op, "  and nothing kept");
	}
}

static void limits(void)
{
	struct podmsg_req r;
	struct ebuf eb = { "" };
	char big[PODMSG_MAX + 64];
	size_t n;

	n = (size_t)snprintf(big, sizeof(big), "{\"op\":\"del\",\"namespace\":\"x\",\"name\":\"");
	memset(big + n, 'a', sizeof(big) - n - 1);
	big[sizeof(big) - 1] = 0;
	ok(podmsg_req_decode(big, strlen(big), &r, &eb) < 0, "a request over 4 KiB is refused");
}

static void replies(void)
{
	struct buf b = BUF_INIT;
	struct ebuf eb = { "" };
	char why[16];
	bool okv;

	is_int(podmsg_reply_encode(true, NULL, &b), 0, "encode ok");
	is_int(podmsg_reply_decode(b.p, b.len, &okv, why, sizeof(why), &eb), 0, "decode ok");
	ok(okv && !why[0], "ok is ok");
	buf_free(&b);
	is_int(podmsg_reply_encode(false, "no such pod in the cache", &b), 0, "encode no");
	is_int(podmsg_reply_decode(b.p, b.len, &okv, why, sizeof(why), &eb), 0, "decode no");
	ok(!okv, "no is no");
	is_str(why, "no such pod in ", "reason truncated to the buffer");
	buf_free(&b);
	ok(podmsg_reply_decode("{}", 2, &okv, why, sizeof(why), &eb) == -EINVAL, "no ok member");
	is_str(eb.msg, "ok: expected a boolean", "  reason");
	ok(podmsg_reply_decode("{\"ok\":1}", 8, &okv, why, sizeof(why), &eb) == -EINVAL,
	   "ok not a boolean");
	ok(podmsg_reply_decode("nope", 4, &okv, why, sizeof(why), &eb) < 0, "not JSON");
}

static void faults(void)
{
	unsigned long n;
	int e;

	for (n = 1;; n++) {
		struct podmsg_req r = add_req(), back;
		struct buf b = BUF_INIT;
		struct ebuf eb = { "" };

		fault_reset(n);
		e = podmsg_req_encode(&r, &b);
		if (!e)
			e = podmsg_req_decode(b.p, b.len, &back, &eb);
		buf_free(&b);
		fault_reset(0);
		if (!e)
			break;
		if (e != -ENOMEM) {
			ok(0, "only -ENOMEM under allocation failure");
			return;
		}
	}
	ok(n > 1, "every allocation failure gives -ENOMEM and no leak");
}

int main(void)
{
	round_trips();
	bad_requests();
	limits();
	replies();
	faults();
	return tap_done();
}
