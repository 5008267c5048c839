// SPDX-License-Identifier: MIT
/*
 * tls.c: TLS 1.2 client over mbedtls 2.28 (see tls.h). Owns the mbedtls configuration
 * (versions, suites, curves, verification), loading CAs and client keys, the socket callbacks
 * that turn EAGAIN into want-read/want-write, the IP-address check mbedtls 2.28 lacks, and the
 * mapping of mbedtls's error codes to -errno plus a readable reason. The only file that
 * includes mbedtls headers (build.sh enforces it).
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "../base/err.h"
#include "../base/mem.h"
#include "../base/util.h"
#include "../core/cidr.h"
#include "tls.h"

/* A CA bundle or key file larger than this is not one. */
#define TLS_FILE_MAX (1024 * 1024)
/* RFC 1035 limit on a DNS name's text form. */
#define TLS_NAME_MAX 253
/* GeneralName iPAddress: context-specific, primitive, tag 7 (RFC 5280 §4.2.1.6). */
#define TLS_SAN_IPADDR (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7)

struct tls_config {
	mbedtls_ssl_config conf;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt ca;
	mbedtls_x509_crt own_cert;
	mbedtls_pk_context own_key;
	char *server_name;
	bool is_ip;
	struct ipaddr ip;
};

struct tls_conn {
	mbedtls_ssl_context ssl;
	const struct tls_config *cfg;
	int fd;
	int sock_err;		/* errno of the last failed send/recv */
	short want;		/* POLLIN or POLLOUT after -EAGAIN */
	bool ip_mismatch;	/* the verify callback found no matching iPAddress SAN */
};

/* What a Go kube-apiserver offers over TLS 1.2 (no RSA key exchange, no 3DES), AEAD first. */
static const int tls_suites[] = {
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	0,
};

/* Also the curves a server certificate's EC key may use (mbedtls checks it against this). */
static const mbedtls_ecp_group_id tls_curves[] = {
	MBEDTLS_ECP_DP_CURVE25519,
	MBEDTLS_ECP_DP_SECP256R1,
	MBEDTLS_ECP_DP_SECP384R1,
	MBEDTLS_ECP_DP_SECP521R1,
	MBEDTLS_ECP_DP_NONE,
};

/* ---- loading certificates and keys ---- */

/* A source's bytes in our own NUL-terminated copy, wiped when released (it may be a key). */
struct tls_blob {
	char *p;
	size_t len;	/* bytes held, without the NUL we add */
};

static void tls_blob_free(struct tls_blob *b)
{
	if (b->p) {
		mbedtls_platform_zeroize(b->p, b->len + 1);
		mem_free(b->p);
	}
	b->p = NULL;
	b->len = 0;
}

static int tls_blob_load(const struct tls_source *s, const char *what, struct tls_blob *b,
			 struct ebuf *eb)
{
	int r;

	if (s->path && !s->data) {
		r = read_file_alloc(s->path, TLS_FILE_MAX, &b->p, &b->len);
		if (r)
			ebuf_set(eb, "%s file %s: %s", what, s->path, strerror(-r));
		return r;
	}
	if (!s->path && s->data && s->len) {
		b->p = mem_strndup(s->data, s->len);
		if (!b->p) {
			ebuf_set(eb, "%s: out of memory", what);
			return -ENOMEM;
		}
		b->len = s->len;
		return 0;
	}
	ebuf_set(eb, "%s: give either a file or data", what);
	return -EINVAL;
}

/*
 * The length to hand mbedtls's parsers: PEM must end with its NUL counted, DER must not. Our
 * copy is NUL-terminated, so strstr() stops inside DER (which has zero bytes early on).
 */
static size_t tls_blob_parse_len(const struct tls_blob *b)
{
	if (!strstr(b->p, "-----BEGIN "))
		return b->len;
	return b->len && b->p[b->len - 1] == '\0' ? b->len : b->len + 1;
}

/* mbedtls's text for ret into eb; the -errno the setup functions report for it. */
static int tls_mbedtls_err(struct ebuf *eb, const char *what, int ret)
{
	char m[200];

	mbedtls_strerror(ret, m, sizeof(m));
	ebuf_set(eb, "%s: %s (-0x%04x)", what, m, (unsigned)-ret);
	switch (ret) {
	case MBEDTLS_ERR_X509_ALLOC_FAILED:
	case MBEDTLS_ERR_PK_ALLOC_FAILED:
	case MBEDTLS_ERR_SSL_ALLOC_FAILED:
		return -ENOMEM;
	case MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED:
		return -EIO;
	}
	return -EINVAL;
}

/*
 * Parse a source into crt (certificates) or pk (a key). A PEM bundle where some certificates
 * fail but one parses gives a positive count from mbedtls: accepted (see tls.h).
 */
static int tls_load(const struct tls_source *s, const char *what, mbedtls_x509_crt *crt,
		    mbedtls_pk_context *pk, struct ebuf *eb)
{
	struct tls_blob b = { 0 };
	int r;

	r = tls_blob_load(s, what, &b, eb);
	if (r)
		return r;
	if (crt)
		r = mbedtls_x509_crt_parse(crt, (const unsigned char *)b.p, tls_blob_parse_len(&b));
	else
		r = mbedtls_pk_parse_key(pk, (const unsigned char *)b.p, tls_blob_parse_len(&b),
					 NULL, 0);
	tls_blob_free(&b);
	return r < 0 ? tls_mbedtls_err(eb, what, r) : 0;
}

static bool tls_source_given(const struct tls_source *s)
{
	return s->path || s->data;
}

static int tls_load_identity(struct tls_config *c, const struct tls_opts *o, struct ebuf *eb)
{
	int r;

	if (tls_source_given(&o->cert) != tls_source_given(&o->key)) {
		ebuf_set(eb, "client certificate and key: give both or neither");
		return -EINVAL;
	}
	if (!tls_source_given(&o->cert))
		return 0;
	r = tls_load(&o->cert, "client certificate", &c->own_cert, NULL, eb);
	if (!r)
		r = tls_load(&o->key, "client key", NULL, &c->own_key, eb);
	if (!r && mbedtls_pk_check_pair(&c->own_cert.pk, &c->own_key) != 0) {
		ebuf_set(eb, "client key does not match the client certificate");
		r = -EINVAL;
	}
	if (!r && mbedtls_ssl_conf_own_cert(&c->conf, &c->own_cert, &c->own_key) != 0)
		r = -ENOMEM;
	return r;
}

/* ---- the name to verify ---- */

static int tls_set_name(struct tls_config *c, const char *name, struct ebuf *eb)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > TLS_NAME_MAX) {
		ebuf_set(eb, "server name: %s", n ? "too long" : "missing");
		return -EINVAL;
	}
	if (ipaddr_parse(name, n, &c->ip) == 0) {
		c->is_ip = true;
	} else if (strchr(name, ':') || strspn(name, "0123456789.") == n) {
		/* no DNS name looks like this: a mistyped address must not become an SNI name */
		ebuf_set(eb, "server name %s: not a valid IP address (no brackets, no zone)", name);
		return -EINVAL;
	}
	c->server_name = mem_strndup(name, n);
	if (!c->server_name) {
		ebuf_set(eb, "server name: out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* 16-byte form, IPv4 as ::ffff:a.b.c.d, so a mapped address equals its IPv4 form (as in Go). */
static bool tls_ip16(const unsigned char *a, size_t n, unsigned char out[16])
{
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (n != 4 && n != 16)
		return false;
	memcpy(out, mapped, sizeof(mapped));
	memcpy(out + 16 - n, a, n);
	return true;
}

/*
 * mbedtls 2.28 keeps every subjectAltName GeneralName with its raw tag and content, but
 * matches only dNSName. An iPAddress is 4 or 16 bytes; 8 and 32 are name-constraint forms
 * and never valid here.
 */
static bool tls_san_has_ip(const mbedtls_x509_crt *crt, const struct ipaddr *ip)
{
	const mbedtls_x509_sequence *s;
	unsigned char want[16], got[16];

	if (!tls_ip16(ip->a, ipaddr_len(ip->family), want))
		return false;
	for (s = &crt->subject_alt_names; s && s->buf.p; s = s->next) {
		if (s->buf.tag != TLS_SAN_IPADDR || !tls_ip16(s->buf.p, s->buf.len, got))
			continue;
		if (memcmp(want, got, sizeof(want)) == 0)
			return true;
	}
	return false;
}

/*
 * Called by mbedtls for every certificate of the verified chain, leaf at depth 0, before it
 * decides: flags we set fail the handshake like its own. Only installed for an IP name, where
 * no hostname was given to mbedtls, so without this nothing would check the name at all.
 */
static int tls_verify_ip(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	struct tls_conn *t = ctx;

	if (depth != 0)
		return 0;
	t->ip_mismatch = !tls_san_has_ip(crt, &t->cfg->ip);
	if (t->ip_mismatch)
		*flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
	return 0;
}

/* ---- configuration ---- */

/* ctr_drbg's entropy source: the kernel's CSPRNG, nothing else to go wrong. */
static int tls_entropy(void *ctx, unsigned char *out, size_t n)
{
	while (n) {
		ssize_t r = getrandom(out, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
		out += r;
		n -= (size_t)r;
	}
	return 0;
}

static int tls_setup_conf(struct tls_config *c, struct ebuf *eb)
{
	static const char pers[] = "virgil tls client";
	int r;

	r = mbedtls_ctr_drbg_seed(&c->drbg, tls_entropy, NULL, (const unsigned char *)pers,
				  sizeof(pers) - 1);
	if (r)
		return tls_mbedtls_err(eb, "seeding the random generator", r);
	r = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT,
					MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (r)
		return tls_mbedtls_err(eb, "TLS defaults", r);
	mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ciphersuites(&c->conf, tls_suites);
	mbedtls_ssl_conf_curves(&c->conf, tls_curves);
	mbedtls_ssl_conf_renegotiation(&c->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
	/* we never resume sessions, so a ticket would only be parsed and kept for nothing */
	mbedtls_ssl_conf_session_tickets(&c->conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
	mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &c->drbg);
	mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
	return 0;
}

struct tls_config *tls_config_new(const struct tls_opts *o, struct ebuf *eb)
{
	struct tls_config *c = mem_calloc(1, sizeof(*c));
	int r;

	if (!c) {
		ebuf_set(eb, "TLS config: out of memory");
		return NULL;
	}
	mbedtls_ssl_config_init(&c->conf);
	mbedtls_ctr_drbg_init(&c->drbg);
	mbedtls_x509_crt_init(&c->ca);
	mbedtls_x509_crt_init(&c->own_cert);
	mbedtls_pk_init(&c->own_key);
	r = tls_set_name(c, o->server_name, eb);
	if (!r && !tls_source_given(&o->ca)) {
		ebuf_set(eb, "no CA given: the server cannot be verified");
		r = -EINVAL;
	}
	if (!r)
		r = tls_load(&o->ca, "CA", &c->ca, NULL, eb);
	if (!r)
		r = tls_setup_conf(c, eb);
	if (!r)
		r = tls_load_identity(c, o, eb);
	if (r) {
		tls_config_free(c);
		errno = -r;
		return NULL;
	}
	return c;
}

void tls_config_free(struct tls_config *c)
{
	if (!c)
		return;
	mbedtls_ssl_config_free(&c->conf);
	mbedtls_ctr_drbg_free(&c->drbg);
	mbedtls_x509_crt_free(&c->ca);
	mbedtls_x509_crt_free(&c->own_cert);
	mbedtls_pk_free(&c->own_key);
	mem_free(c->server_name);
	mbedtls_platform_zeroize(c, sizeof(*c));
	mem_free(c);
}

/* ---- connections ---- */

/* The socket side of mbedtls, after EINTR was retried: EAGAIN becomes want-read/write. */
static int tls_bio_result(struct tls_conn *t, ssize_t r, int want, int fail)
{
	if (r >= 0)
		return (int)r;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return want;
	t->sock_err = errno;
	return fail;
}

static int tls_bio_send(void *ctx, const unsigned char *p, size_t n)
{
	struct tls_conn *t = ctx;
	ssize_t r;

	do
		r = send(t->fd, p, MIN(n, (size_t)INT_MAX), MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return tls_bio_result(t, r, MBEDTLS_ERR_SSL_WANT_WRITE, MBEDTLS_ERR_NET_SEND_FAILED);
}

static int tls_bio_recv(void *ctx, unsigned char *p, size_t n)
{
	struct tls_conn *t = ctx;
	ssize_t r;

	do
		r = recv(t->fd, p, MIN(n, (size_t)INT_MAX), 0);
	while (r < 0 && errno == EINTR);
	return tls_bio_result(t, r, MBEDTLS_ERR_SSL_WANT_READ, MBEDTLS_ERR_NET_RECV_FAILED);
}

struct tls_conn *tls_conn_new(const struct tls_config *c, int fd, struct ebuf *eb)
{
	struct tls_conn *t = mem_calloc(1, sizeof(*t));
	int r;

	if (!t) {
		ebuf_set(eb, "TLS connection: out of memory");
		return NULL;
	}
	mbedtls_ssl_init(&t->ssl);
	t->cfg = c;
	t->fd = fd;
	t->want = POLLIN;
	r = mbedtls_ssl_setup(&t->ssl, &c->conf);
	/* NULL for an address: no SNI, and mbedtls skips its DNS-only name check */
	if (!r)
		r = mbedtls_ssl_set_hostname(&t->ssl, c->is_ip ? NULL : c->server_name);
	if (r) {
		r = tls_mbedtls_err(eb, "TLS connection setup", r);
		tls_conn_free(t);
		errno = -r;
		return NULL;
	}
	if (c->is_ip)
		mbedtls_ssl_set_verify(&t->ssl, tls_verify_ip, t);
	mbedtls_ssl_set_bio(&t->ssl, t, tls_bio_send, tls_bio_recv, NULL);
	return t;
}

void tls_conn_free(struct tls_conn *t)
{
	if (!t)
		return;
	mbedtls_ssl_free(&t->ssl);
	mbedtls_platform_zeroize(t, sizeof(*t));
	mem_free(t);
}

/* Every reason mbedtls recorded, one line: "expired; not signed by a trusted CA". */
static void tls_verify_reason(const struct tls_conn *t, const char *op, struct ebuf *eb)
{
	uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);
	char info[EBUF_SIZE], *nl;
	char addr[IPADDR_STRLEN] = "?";
	size_t n;

	if (t->cfg->is_ip && t->ip_mismatch) {
		/* the CN flag was ours: say what was really missing */
		flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH;
		if (ipaddr_format(&t->cfg->ip, addr, sizeof(addr)) != 0)
			addr[0] = '\0';
	}
	info[0] = '\0';
	if (flags && mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags) < 0)
		info[0] = '\0';
	n = strlen(info);
	while (n && info[n - 1] == '\n')
		info[--n] = '\0';
	while ((nl = strchr(info, '\n')))
		*nl = ';';
	if (t->cfg->is_ip && t->ip_mismatch)
		ebuf_set(eb, "%s: certificate rejected: no subjectAltName IP address %s%s%s", op,
			 addr, info[0] ? "; " : "", info);
	else
		ebuf_set(eb, "%s: certificate rejected: %s", op, info[0] ? info : "unknown reason");
}

/* RFC 5246 §7.2 names of the alerts a server sends a client it refuses. */
static const struct {
	unsigned char code;
	const char *name;
} tls_alerts[] = {
	{ MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE, "handshake_failure" },
	{ MBEDTLS_SSL_ALERT_MSG_BAD_CERT, "bad_certificate" },
	{ MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT, "unsupported_certificate" },
	{ MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED, "certificate_expired" },
	{ MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN, "certificate_unknown" },
	{ MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA, "unknown_ca" },
	{ MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED, "access_denied" },
	{ MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR, "decode_error" },
	{ MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY, "insufficient_security" },
	{ MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR, "internal_error" },
	{ MBEDTLS_SSL_ALERT_MSG_UNRECOGNIZED_NAME, "unrecognized_name" },
};

/*
 * The fatal alert's description is still in the input buffer (2.28 keeps the record there),
 * and it is the useful part: mbedtls's own text only says that some alert came.
 */
static void tls_alert_reason(const struct tls_conn *t, int ret, const char *op, struct ebuf *eb)
{
	unsigned char desc = t->ssl.in_msg ? t->ssl.in_msg[1] : 0;
	const char *name = "";
	size_t i;

	if (ret == MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION ||
	    desc == MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION) {
		ebuf_set(eb, "%s: the server refused TLS 1.2 (does it require TLS 1.3? "
			 "mbedtls 2.28 has no TLS 1.3)", op);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(tls_alerts); i++)
		if (tls_alerts[i].code == desc)
			name = tls_alerts[i].name;
	ebuf_set(eb, "%s: the server sent fatal alert %u %s", op, desc, name);
}

static int tls_fail(struct tls_conn *t, int ret, const char *op, struct ebuf *eb)
{
	switch (ret) {
	case MBEDTLS_ERR_SSL_WANT_READ:
		t->want = POLLIN;
		return -EAGAIN;
	case MBEDTLS_ERR_SSL_WANT_WRITE:
		t->want = POLLOUT;
		return -EAGAIN;
	case MBEDTLS_ERR_NET_SEND_FAILED:
	case MBEDTLS_ERR_NET_RECV_FAILED:
		ebuf_set(eb, "%s: %s", op, strerror(t->sock_err));
		return t->sock_err ? -t->sock_err : -EIO;
	case MBEDTLS_ERR_SSL_CONN_EOF:
		ebuf_set(eb, "%s: connection closed without close_notify", op);
		return -ECONNRESET;
	case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
		tls_verify_reason(t, op, eb);
		return -EKEYREJECTED;
	case MBEDTLS_ERR_SSL_ALLOC_FAILED:
		ebuf_set(eb, "%s: out of memory", op);
		return -ENOMEM;
	case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
	case MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION:
		tls_alert_reason(t, ret, op, eb);
		return -EPROTO;
	}
	tls_mbedtls_err(eb, op, ret);
	return -EPROTO;
}

int tls_handshake(struct tls_conn *t, struct ebuf *eb)
{
	const mbedtls_x509_crt *peer;
	int r = mbedtls_ssl_handshake(&t->ssl);

	if (r)
		return tls_fail(t, r, "TLS handshake", eb);
	/*
	 * VERIFY_REQUIRED and the callback already failed any bad certificate; checking the
	 * result and the IP again costs nothing and does not depend on how mbedtls got there.
	 */
	peer = mbedtls_ssl_get_peer_cert(&t->ssl);
	if (t->cfg->is_ip && (!peer || !tls_san_has_ip(peer, &t->cfg->ip)))
		t->ip_mismatch = true;
	if (mbedtls_ssl_get_verify_result(&t->ssl) != 0 || !peer || t->ip_mismatch) {
		tls_verify_reason(t, "TLS handshake", eb);
		return -EKEYREJECTED;
	}
	return 0;
}

ssize_t tls_read(struct tls_conn *t, void *p, size_t n, struct ebuf *eb)
{
	int r;

	if (n == 0)
		return -EINVAL;
	r = mbedtls_ssl_read(&t->ssl, p, n);
	if (r > 0)
		return r;
	if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
		return 0;
	/* 2.28 reports a transport EOF without close_notify as 0: a possibly truncated stream */
	if (r == 0)
		r = MBEDTLS_ERR_SSL_CONN_EOF;
	return tls_fail(t, r, "TLS read", eb);
}

ssize_t tls_write(struct tls_conn *t, const void *p, size_t n, struct ebuf *eb)
{
	int r = mbedtls_ssl_write(&t->ssl, p, n);

	return r >= 0 ? r : tls_fail(t, r, "TLS write", eb);
}

int tls_close_notify(struct tls_conn *t, struct ebuf *eb)
{
	int r = mbedtls_ssl_close_notify(&t->ssl);

	return r ? tls_fail(t, r, "TLS close_notify", eb) : 0;
}

short tls_want(const struct tls_conn *t)
{
	return t->want;
}

bool tls_pending(const struct tls_conn *t)
{
	return mbedtls_ssl_check_pending(&t->ssl) != 0;
}
