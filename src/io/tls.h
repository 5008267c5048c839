/* SPDX-License-Identifier: MIT */
/*
 * tls.h: TLS 1.2 client connections over a socket the caller connected, for the Kubernetes API
 * client. The only interface to mbedtls (2.28, Debian's static archives): no other file sees
 * its headers or types.
 *
 * A struct tls_config is the identity we expect from one server: the CAs we trust, the name
 * the server must prove (DNS name or IP address), and optionally our client certificate. It is
 * built once and is immutable afterwards; any number of connections may use it, also from
 * several threads (its random generator locks). It must outlive them.
 *
 * Policy, not options: TLS 1.2 only (all mbedtls 2.28 has), ECDHE key exchange with AES-GCM,
 * ChaCha20-Poly1305 or AES-CBC-SHA (the set a kube-apiserver offers), curves X25519 and
 * P-256/384/521, peer verification always required, no renegotiation, no ALPN (so a Go server
 * never selects h2). mbedtls 2.28 only matches DNS names: for an IP address we send no SNI
 * (RFC 6066 forbids IP literals there) and match the certificate's subjectAltName iPAddress
 * entries ourselves; the CN is never consulted for an IP. Randomness comes from getrandom().
 *
 * Errors: functions return 0 (or a byte count) or -errno, and fill the caller's ebuf (may be
 * NULL) with mbedtls's reason and, for a rejected certificate, every verification failure.
 *   -EAGAIN        the socket would block: poll for tls_want() and call again
 *   -EKEYREJECTED  the server's certificate failed verification (chain, time, name, usage)
 *   -EPROTO        any other TLS failure: alert, bad record, no common version or cipher
 *   -ECONNRESET    the peer closed or reset the connection without close_notify
 *   -ENOMEM, or the socket's own -errno (-EPIPE, -ETIMEDOUT, ...)
 * After any error but -EAGAIN the connection is unusable: free it. Keys and everything derived
 * from them are wiped before their memory is freed; nothing here logs.
 */
#ifndef VIRGIL_TLS_H
#define VIRGIL_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "../base/compat.h"

struct ebuf;
struct tls_config;
struct tls_conn;

/*
 * A certificate or key: a file (path) or bytes in memory (data, len), never both. PEM (one or
 * more blocks; a trailing NUL is optional) or DER (exactly one object). Read once by
 * tls_config_new(); the caller's memory is not referenced afterwards.
 */
struct tls_source {
	const char *path;
	const void *data;
	size_t len;
};

struct tls_opts {
	/*
	 * Required. A DNS name (checked against dNSName SANs, wildcards allowed, and sent as SNI)
	 * or an IPv4/IPv6 literal without brackets or zone (checked against iPAddress SANs only).
	 * A name that looks like an address but does not parse as one is refused (-EINVAL).
	 */
	const char *server_name;
	/* Required: trusted CAs. In a PEM bundle, certificates mbedtls cannot parse are skipped
	 * as long as at least one parses. */
	struct tls_source ca;
	/* Optional client certificate (chain, leaf first) and its unencrypted private key: both
	 * or neither. The key must match the certificate. */
	struct tls_source cert;
	struct tls_source key;
};

/* Build a config. NULL with errno set (EINVAL, ENOENT, EFBIG, ENOMEM, ...) and eb filled. */
struct tls_config *tls_config_new(const struct tls_opts *o, struct ebuf *eb) __must_check;
/* NULL-safe. No connection may still use c. */
void tls_config_free(struct tls_config *c);

/*
 * Start a client connection on fd, a connected stream socket, blocking or not. fd stays the
 * caller's: tls_conn_free() does not close it. NULL with errno (ENOMEM) and eb filled.
 */
struct tls_conn *tls_conn_new(const struct tls_config *c, int fd, struct ebuf *eb) __must_check;
/* NULL-safe; does not send close_notify (see tls_close_notify). */
void tls_conn_free(struct tls_conn *t);

/*
 * Run the handshake to its end: 0 when done and the server verified, -EAGAIN to be called
 * again when the socket is ready, or an error (see top). tls_read/tls_write run it implicitly,
 * but calling it first separates connection errors from request errors.
 */
int tls_handshake(struct tls_conn *t, struct ebuf *eb) __must_check;

/*
 * Read up to n (> 0) bytes of application data, at most one record's worth per call.
 * Returns the count, 0 when the peer sent close_notify (clean end of stream), or -errno.
 * Before polling for POLLIN after a successful read, check tls_pending(): bytes already
 * inside the library do not wake poll().
 */
ssize_t tls_read(struct tls_conn *t, void *p, size_t n, struct ebuf *eb) __must_check;

/*
 * Write up to n bytes; returns how many were taken (may be fewer: at most one record) or
 * -errno. After -EAGAIN, call again with the same p and n: the library has already encrypted
 * part of them and expects the same data back.
 */
ssize_t tls_write(struct tls_conn *t, const void *p, size_t n, struct ebuf *eb) __must_check;

/* Send close_notify: 0, -EAGAIN (call again) or -errno. Optional before tls_conn_free(). */
int tls_close_notify(struct tls_conn *t, struct ebuf *eb) __must_check;

/* After -EAGAIN: the poll() events to wait for, POLLIN or POLLOUT (a read may need to write). */
short tls_want(const struct tls_conn *t);

/* Decrypted or buffered input is waiting inside the library: call tls_read() before poll(). */
bool tls_pending(const struct tls_conn *t);

#endif
