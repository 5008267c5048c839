// SPDX-License-Identifier: MIT
/*
 * k8s.c: the Kubernetes API client (see k8s.h): the client itself, its credentials (CA,
 * client identity and bearer token, copied into memory we wipe; a token file re-read on a
 * timer or after a 401), a small cache of TLS configurations by server name, and starting a
 * request: check the server, build the request, then take an idle connection to that server
 * (k8s_pool.c) or resolve the name, take a TLS configuration and connect, and hand it to the
 * connection state machine in k8s_req.c.
 *
 * A request that fails before it reaches the loop reports through its timer rescheduled to
 * 0 ms, so done never runs inside k8s_request(). Host names are resolved with a blocking
 * getaddrinfo(): the agent talks to one API server, normally named by an IP address, and a
 * DNS name is looked up once per new connection, which the loop can afford.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/log.h"
#include "../base/mem.h"
#include "../base/util.h"
#include "../codec/http.h"
#include "ev.h"
#include "k8s.h"
#include "k8s_int.h"

#ifndef VIRGIL_VERSION
#define VIRGIL_VERSION "dev"
#endif

#define K8S_CONNECT_MS 10000
#define K8S_IDLE_MS 60000
#define K8S_MAX_BODY ((size_t)64 << 20)
/* client-go re-reads a token file every minute (transport/token_source.go) */
#define K8S_TOKEN_TTL_MS 60000
#define K8S_TOKEN_MAX (64u << 10)
#define K8S_FILE_MAX (1u << 20)
#define K8S_CFG_KEEP 4     /* idle TLS configurations kept (discovery tries a few names) */

/* ---- owned bytes and secrets ------------------------------------------------------------- */

static void blob_wipe(struct k8s_blob *b)
{
	if (b->p) {
		explicit_bzero(b->p, b->size);
		mem_free(b->p);
	}
	*b = (struct k8s_blob){ 0 };
}

static int blob_copy(struct k8s_blob *b, const void *p, size_t n)
{
	b->p = mem_strndup(p, n);
	if (!b->p)
		return -ENOMEM;
	b->len = n;
	b->size = n + 1;
	return 0;
}

static int file_read(const char *path, size_t max, struct k8s_blob *b)
{
	int r = read_file_alloc(path, max, &b->p, &b->len);

	b->size = r ? 0 : b->len + 1;
	return r;
}

static int src_load(const struct tls_source *s, const char *what, bool required,
		    struct k8s_blob *b, struct ebuf *eb)
{
	int r;

	if (!s->path && !s->data) {
		if (required)
			ebuf_set(eb, "no %s given", what);
		return required ? -EINVAL : 0;
	}
	if (s->path && s->data) {
		ebuf_set(eb, "%s: give either a file or data", what);
		return -EINVAL;
	}
	r = s->path ? file_read(s->path, K8S_FILE_MAX, b) : blob_copy(b, s->data, s->len);
	if (r)
		ebuf_set(eb, "%s %s: %s", what, s->path ? s->path : "data", strerror(-r));
	else if (!b->len)
		ebuf_set(eb, "%s %s is empty", what, s->path ? s->path : "data");
	return r ? r : b->len ? 0 : -EINVAL;
}

/* A token goes into a header: visible ASCII only, which every JWT is. */
static bool token_ok(const char *p, size_t n, const char *what, struct ebuf *eb)
{
	size_t i;

	if (!n) {
		ebuf_set(eb, "%s is empty", what);
		return false;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 0x7f) {
			ebuf_set(eb, "%s: byte %zu is not allowed in a header", what, i);
			return false;
		}
	}
	return true;
}

static int token_read(const char *path, struct k8s_blob *b, struct ebuf *eb)
{
	static const char ws[] = " \t\r\n";
	char what[300];
	size_t lead;
	int r;

	snprintf(what, sizeof(what), "token file %s", path);
	r = file_read(path, K8S_TOKEN_MAX, b);
	if (r) {
		ebuf_set(eb, "%s: %s", what, strerror(-r));
		return r;
	}
	/* client-go trims both ends (strings.TrimSpace) */
	while (b->len && strchr(ws, b->p[b->len - 1]))
		b->len--;
	lead = strspn(b->p, ws);
	lead = MIN(lead, b->len);
	memmove(b->p, b->p + lead, b->len - lead);
	b->len -= lead;
	b->p[b->len] = '\0';
	if (!token_ok(b->p, b->len, what, eb)) {
		blob_wipe(b);
		return -EINVAL;
	}
	return 0;
}

/*
 * The token for a new request: NULL when we have none. A file is re-read after a minute or a
 * 401; a failed periodic re-read keeps the token we have (as client-go does, since the old
 * token is still valid for most of an hour), a failed first read or re-read after a 401 fails.
 */
static int token_get(struct k8s_client *c, const char **tok, struct ebuf *eb)
{
	struct k8s_blob fresh = { 0 };
	uint64_t now = ev_now();
	int r;

	*tok = c->token_fixed.p;
	if (!c->token_file)
		return 0;
	if (c->token.p && !c->token_stale && now - c->token_at < K8S_TOKEN_TTL_MS) {
		*tok = c->token.p;
		return 0;
	}
	r = token_read(c->token_file, &fresh, eb);
	if (r && c->token.p && !c->token_stale) {
		log_debug("k8s: keeping the current token: %s", eb->msg);
		ebuf_clear(eb);
		*tok = c->token.p;
		return 0;
	}
	if (r)
		return r;
	blob_wipe(&c->token);
	c->token = fresh;
	c->token_at = now;
	c->token_stale = false;
	*tok = c->token.p;
	return 0;
}

/* ---- TLS configurations by server name --------------------------------------------------- */

/* Free idle configurations past the first K8S_CFG_KEEP (the most recently used). */
static void cfg_trim(struct k8s_client *c)
{
	struct k8s_tlsent **pp = &c->tls, *e;
	unsigned n = 0;

	while ((e = *pp)) {
		if (++n > K8S_CFG_KEEP && !e->refs) {
			*pp = e->next;
			tls_config_free(e->cfg);
			mem_free(e);
			continue;
		}
		pp = &e->next;
	}
}

static int cfg_get(struct k8s_client *c, const char *name, struct k8s_tlsent **out,
		   struct ebuf *eb)
{
	struct k8s_tlsent **pp, *e;
	struct tls_opts o = {
		.server_name = name,
		.ca = { .data = c->ca.p, .len = c->ca.len },
		.cert = { .data = c->cert.p, .len = c->cert.len },
		.key = { .data = c->key.p, .len = c->key.len },
	};
	int r;

	for (pp = &c->tls; (e = *pp); pp = &e->next) {
		if (!strcmp(e->name, name)) {
			*pp = e->next;
			goto found;
		}
	}
	e = mem_calloc(1, sizeof(*e));
	if (!e) {
		ebuf_set(eb, "TLS configuration: out of memory");
		return -ENOMEM;
	}
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->cfg = tls_config_new(&o, eb);
	if (!e->cfg) {
		r = -errno;
		mem_free(e);
		return r;
	}
	log_debug("k8s: TLS configuration for %s ready", name);
found:
	e->next = c->tls;
	c->tls = e;
	e->refs++;
	*out = e;
	cfg_trim(c);
	return 0;
}

void k8s_cfg_put(struct k8s_client *c, struct k8s_tlsent *e)
{
	e->refs--;
	cfg_trim(c);
}

/* ---- client ------------------------------------------------------------------------------ */

static int client_init(struct k8s_client *c, const struct k8s_auth *a, struct ebuf *eb)
{
	int r;

	if (!!(a->cert.path || a->cert.data) != !!(a->key.path || a->key.data)) {
		ebuf_set(eb, "client certificate and key: give both or neither");
		return -EINVAL;
	}
	r = src_load(&a->ca, "CA", true, &c->ca, eb);
	if (!r)
		r = src_load(&a->cert, "client certificate", false, &c->cert, eb);
	if (!r)
		r = src_load(&a->key, "client key", false, &c->key, eb);
	if (r)
		return r;
	if (a->token_file) {
		c->token_file = mem_strndup(a->token_file, strlen(a->token_file));
		if (!c->token_file)
			goto nomem;
	} else if (a->token) {
		if (!token_ok(a->token, strlen(a->token), "token", eb))
			return -EINVAL;
		if (blob_copy(&c->token_fixed, a->token, strlen(a->token)))
			goto nomem;
	}
	return 0;
nomem:
	ebuf_set(eb, "API client: out of memory");
	return -ENOMEM;
}

int k8s_client_new(struct ev *ev, const struct k8s_auth *auth, struct k8s_client **out,
		   struct ebuf *eb)
{
	struct k8s_client *c;
	int r;

	*out = NULL;
	if (!ev || !auth) {
		ebuf_set(eb, "API client: no event loop or credentials");
		return -EINVAL;
	}
	c = mem_calloc(1, sizeof(*c));
	if (!c) {
		ebuf_set(eb, "API client: out of memory");
		return -ENOMEM;
	}
	c->ev = ev;
	c->pool_idle_ms = K8S_POOL_IDLE_MS;
	r = client_init(c, auth, eb);
	if (r) {
		k8s_client_free(c);
		return r;
	}
	*out = c;
	return 0;
}

void k8s_client_free(struct k8s_client *c)
{
	struct k8s_tlsent *e;

	if (!c)
		return;
	while (c->reqs)
		k8s_cancel(c->reqs);
	k8s_pool_clear(c);	/* before the configurations its sessions use */
	while ((e = c->tls)) {
		c->tls = e->next;
		tls_config_free(e->cfg);
		mem_free(e);
	}
	mem_free(c->token_file);
	blob_wipe(&c->token_fixed);
	blob_wipe(&c->token);
	blob_wipe(&c->ca);
	blob_wipe(&c->cert);
	blob_wipe(&c->key);
	mem_free(c);
}

void k8s_client_set_server(struct k8s_client *c, const struct k8s_server *s)
{
	c->server = *s;
	c->server.host[sizeof(c->server.host) - 1] = '\0';
	c->server.tls_name[sizeof(c->server.tls_name) - 1] = '\0';
}

const struct k8s_server *k8s_client_server(const struct k8s_client *c)
{
	return &c->server;
}

void k8s_token_stale(struct k8s_client *c)
{
	c->token_stale = true;
}

uint64_t k8s_requests_started(const struct k8s_client *c)
{
	return c->started;
}

uint64_t k8s_connections_opened(const struct k8s_client *c)
{
	return c->opened;
}

void k8s_client_set_idle_ms(struct k8s_client *c, uint32_t ms)
{
	c->pool_idle_ms = ms;
	if (!ms)
		k8s_pool_clear(c);
	else if (c->pool_timer)
		(void)ev_timer_reschedule(c->ev, c->pool_timer, 0);	/* re-judge the ages */
}

/* ---- starting a request ------------------------------------------------------------------ */

static int req_resolve(struct k8s_req *r, const struct k8s_server *s)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL, *ai;
	struct sockaddr_in *a4 = (void *)&r->addr[0];
	struct sockaddr_in6 *a6 = (void *)&r->addr[0];
	int rc;

	r->naddr = 1;
	if (inet_pton(AF_INET, s->host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(s->port);
		r->alen[0] = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, s->host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(s->port);
		r->alen[0] = sizeof(*a6);
		return 0;
	}
	r->naddr = 0;
	rc = getaddrinfo(s->host, NULL, &hints, &res);
	if (rc) {
		ebuf_set(&r->eb, "resolving %s: %s", s->host, gai_strerror(rc));
		return rc == EAI_MEMORY ? -ENOMEM : -EHOSTUNREACH;
	}
	for (ai = res; ai && r->naddr < K8S_ADDRS; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(r->addr[0]) ||
		    (ai->ai_family != AF_INET && ai->ai_family != AF_INET6))
			continue;
		memcpy(&r->addr[r->naddr], ai->ai_addr, ai->ai_addrlen);
		/* the port sits at the same offset in both families */
		((struct sockaddr_in *)(void *)&r->addr[r->naddr])->sin_port = htons(s->port);
		r->alen[r->naddr++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	if (!r->naddr)
		ebuf_set(&r->eb, "resolving %s: no IPv4 or IPv6 address", s->host);
	return r->naddr ? 0 : -EHOSTUNREACH;
}

static int req_build(struct k8s_req *r, const struct k8s_req_opts *o, const struct k8s_server *s,
		     const char *tok)
{
	struct http_header h[2];
	struct k8s_blob auth = { 0 };
	char host[sizeof(s->host) + 8];
	struct http_request q = {
		.method = o->method, .target = o->path, .host = host,
		.version = VIRGIL_VERSION, .headers = h, .body = o->body, .body_len = o->body_len,
	};
	int rc = 0;

	snprintf(host, sizeof(host), strchr(s->host, ':') ? "[%s]:%u" : "%s:%u", s->host,
		 s->port);
	if (tok) {
		auth.size = strlen(tok) + sizeof("Bearer ");
		auth.p = mem_alloc(auth.size);
		if (!auth.p)
			rc = -ENOMEM;
		else
			auth.len = (size_t)snprintf(auth.p, auth.size, "Bearer %s", tok);
		h[q.nheaders++] = (struct http_header){ { "Authorization", 13 },
							{ auth.p, auth.len } };
	}
	if (o->content_type)
		h[q.nheaders++] = (struct http_header){ { "Content-Type", 12 },
							{ o->content_type,
							  strlen(o->content_type) } };
	if (!rc)
		rc = http_write_request(&r->out, &q);
	blob_wipe(&auth);
	if (rc == -EINVAL)
		ebuf_set(&r->eb, "request: bad method, path, host or content type");
	else if (rc)
		ebuf_set(&r->eb, "request: %s", strerror(-rc));
	return rc;
}

int k8s_req_dial(struct k8s_req *r)
{
	int rc = 0;

	if (!r->naddr)
		rc = req_resolve(r, &r->srv);
	if (!rc && !r->ent)
		rc = cfg_get(r->c, r->srv.tls_name, &r->ent, &r->eb);
	if (!rc)
		rc = k8s_req_connect(r, -ENOTCONN);
	return rc;
}

static int req_start(struct k8s_req *r, const struct k8s_req_opts *o)
{
	const struct k8s_server *s = o->server ? o->server : &r->c->server;
	const char *tok = NULL;
	int rc;

	if (!s->host[0] || !s->port || strnlen(s->host, sizeof(s->host)) == sizeof(s->host) ||
	    strnlen(s->tls_name, sizeof(s->tls_name)) == sizeof(s->tls_name)) {
		ebuf_set(&r->eb, "no valid API server address");
		return -EDESTADDRREQ;
	}
	_Static_assert(sizeof(s->host) == sizeof(s->tls_name), "a host can be a TLS name");
	r->srv = *s;
	if (!r->srv.tls_name[0])
		memcpy(r->srv.tls_name, s->host, sizeof(r->srv.tls_name));
	rc = token_get(r->c, &tok, &r->eb);
	if (!rc)
		rc = req_build(r, o, s, tok);
	if (!rc && !k8s_req_reuse(r))
		rc = k8s_req_dial(r);
	return rc;
}

static void req_init(struct k8s_req *r, struct k8s_client *c, const struct k8s_req_opts *o,
		     const struct k8s_req_ops *ops, void *ctx)
{
	r->c = c;
	r->ops = *ops;
	r->ctx = ctx;
	r->fd = -1;
	r->stream = o->stream;
	r->is_head = !strcmp(o->method, "HEAD");
	r->safe = r->is_head || !strcmp(o->method, "GET");
	r->connect_ms = o->connect_ms ? o->connect_ms : K8S_CONNECT_MS;
	r->idle_ms = o->idle_ms ? o->idle_ms : K8S_IDLE_MS;
	r->max_body = o->max_body ? o->max_body : K8S_MAX_BODY;
	http_response_init(&r->resp, r->hdr, K8S_HEADERS);
	snprintf(r->what, sizeof(r->what), "%s %s", o->method, o->path);
}

int k8s_request(struct k8s_client *c, const struct k8s_req_opts *o, const struct k8s_req_ops *ops,
		void *ctx, struct k8s_req **out)
{
	struct k8s_req *r;
	int rc;

	if (out)
		*out = NULL;
	if (!c || !o || !ops || !ops->done || !o->method || !o->path ||
	    (o->stream && !ops->line) || (o->body_len && !o->body))
		return -EINVAL;
	r = mem_calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	req_init(r, c, o, ops, ctx);
	/* first, so that any later failure can be reported from the loop through it */
	rc = ev_timer_add(c->ev, r->connect_ms, k8s_req_timer, r, &r->timer);
	if (rc) {
		mem_free(r);
		return rc;
	}
	r->next = c->reqs;
	if (c->reqs)
		c->reqs->prev = r;
	c->reqs = r;
	c->started++;
	log_debug("k8s: %s: starting", r->what);
	rc = req_start(r, o);
	if (rc) {
		r->fail = rc;
		k8s_req_close(r);
		(void)ev_timer_reschedule(c->ev, r->timer, 0);
	}
	if (out)
		*out = r;
	return 0;
}
