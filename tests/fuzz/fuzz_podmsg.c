// SPDX-License-Identifier: MIT
/* deps: core/podmsg.c core/cidr.c codec/json.c codec/json_dom.c codec/jsonw.c base/buf.c base/err.c base/mem.c */
/*
 * fuzz_podmsg.c: the agent socket's request and reply decoders on arbitrary bytes (anything
 * root on the node can connect). A request that decodes must encode, and decode again to the
 * same value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "core/podmsg.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct podmsg_req r, back;
	struct ebuf eb = { "" };
	struct buf b = BUF_INIT;
	char why[64];
	bool ok;

	if (podmsg_req_decode((const char *)data, size, &r, &eb) == 0) {
		if (podmsg_req_encode(&r, &b) ||
		    podmsg_req_decode(b.p, b.len, &back, &eb) ||
		    memcmp(&r, &back, sizeof(r)))
			abort();
		buf_free(&b);
	}
	(void)podmsg_reply_decode((const char *)data, size, &ok, why, sizeof(why), &eb);
	return 0;
}
