/* SPDX-License-Identifier: MIT */
/*
 * http_int.h: private to the HTTP module (http.c, http_body.c); nothing outside
 * src/codec/http*.c may include it. It declares the RFC 9110 character classes that the
 * response-head parser and the chunked decoder share, so a header field and a trailer field
 * or chunk extension accept exactly the same bytes. They live in http.c.
 */
#ifndef VIRGIL_HTTP_INT_H
#define VIRGIL_HTTP_INT_H

#include <stdbool.h>

/* Field-value and reason-phrase bytes: HTAB, SP, VCHAR, obs-text. */
bool http_is_fchar(unsigned char c);

/* OWS and BWS bytes: SP or HTAB. */
bool http_is_ows(char c);

#endif
