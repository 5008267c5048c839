// SPDX-License-Identifier: MIT
/* deps: io/k8s.c io/k8s_req.c io/k8s_pool.c io/tls.c io/ev.c codec/http.c codec/http_body.c core/cidr.c base/buf.c base/err.c base/mem.c base/log.c base/util.c */
/* libs: -lmbedtls -lmbedx509 -lmbedcrypto */
/*
 * test_k8s.c: the API client against tests/k8s/testsrv.py, a canned HTTPS server on
 * 127.0.0.1 (loopback of the test's own namespace; nothing is configured). The certificates
 * (a CA, a server certificate with IP SANs 127.0.0.1 and ::1, an unrelated CA) are made with
 * openssl in a temporary directory removed at the end.
 *
 * Cases: whole bodies by Content-Length, chunked (head and body sliced one byte per TLS
 * record), without framing; watch streams split across chunks and records; the request head
 * (token, Accept, no Accept-Encoding); token trimming, caching, re-reading after
 * k8s_token_stale() and failing without a token file; 401, 429 with Retry-After; truncation,
 * smuggling and bad chunks; body and line limits; connect, handshake and idle timeouts;
 * refused connections and a wrong CA; cancelling from inside every callback; 20 requests at
 * once; every allocation failing in turn. Keep-alive: sequential requests, a LIST then a
 * WATCH, on one connection (counted by the client, numbered by the server); not reused after
 * "Connection: close" or bytes past the response; an idle connection the server closes,
 * notices at once, found closed when taken, or drops as the next request arrives (sent
 * again for GET, and for PATCH only without a word from the server); the idle timeout; the
 * bound of 4; teardown with a pooled fd that has fired.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "tap.h"
#include "base/err.h"
#include "base/mem.h"
#include "codec/http.h"
#include "io/ev.h"
#include "io/k8s.h"

static char dir[64];
static char ca_path[128], ca2_path[128], tok_path[128];
static int tls_port, raw_port, closed_port;
static pid_t srv_pid = -1;
static int srv_out = -1;	/* the server's stdout: kept open, so it never writes into EPIPE */
static struct ev *ev;
static int stop_after;	/* > 0: the loop stops when that many more done callbacks ran */
static int done_seq;	/* done callbacks so far, for their order */

static const char *const events[] = {
	"{\"type\":\"ADDED\",\"object\":{\"metadata\":"
	"{\"name\":\"a\",\"resourceVersion\":\"1\"}}}",
	"{\"type\":\"MODIFIED\",\"object\":{\"metadata\":"
	"{\"name\":\"a\",\"resourceVersion\":\"2\"}}}",
	"{\"type\":\"DELETED\",\"object\":{\"metadata\":"
	"{\"name\":\"a\",\"resourceVersion\":\"3\"}}}",
};

/* ---- fixtures ---------------------------------------------------------------------------- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	if (!f)
		abort();
	fputs(s, f);
	fclose(f);
}

static int make_certs(void)
{
	static const char ec[] = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";

	if (sh("cd %s && ( "
		  "printf 'subjectAltName=IP:127.0.0.1,IP:::1\\nextendedKeyUsage=serverAuth\\n"
		  "keyUsage=critical,digitalSignature\\nbasicConstraints=CA:FALSE\\n' > ext.cnf && "
		  "openssl req -x509 %s -keyout ca.key -out ca.pem -days 2 -subj '/CN=k8s test CA' "
		  "-addext basicConstraints=critical,CA:TRUE "
		  "-addext keyUsage=critical,keyCertSign && "
		  "openssl req -x509 %s -keyout ca2.key -out ca2.pem -days 2 "
		  "-subj '/CN=other CA' && "
		  "openssl req -new %s -keyout srv.key -out srv.csr -subj '/CN=k8s test server' && "
		  "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 2 "
		  "-extfile ext.cnf -out srv.pem ) >openssl.log 2>&1",
		  dir, ec, ec, ec) == 0)
		return 0;
	sh("sed 's/^/# /' %s/openssl.log", dir);
	return -1;
}

static int start_server(void)
{
	char cert[128], key[128], line[128];
	struct pollfd p = { .events = POLLIN };
	size_t got = 0;
	int fds[2];
	ssize_t n;

	snprintf(cert, sizeof(cert), "%s/srv.pem", dir);
	snprintf(key, sizeof(key), "%s/srv.key", dir);
	if (pipe2(fds, O_CLOEXEC))
		return -1;
	srv_pid = fork();
	if (srv_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* no orphan server if the test crashes */
		dup2(fds[1], 1);
		execl("/usr/bin/python3", "python3", "../k8s/testsrv.py", cert, key, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	srv_out = p.fd = fds[0];
	while (!memchr(line, '\n', got) && got < sizeof(line) - 1) {
		n = poll(&p, 1, 15000) == 1 ? read(p.fd, line + got, sizeof(line) - 1 - got) : -1;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	line[got] = '\0';
	return sscanf(line, "PORTS %d %d", &tls_port, &raw_port) == 2 ? 0 : -1;
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		abort();
	close(fd);	/* nobody listens there now */
	return ntohs(a.sin_port);
}

static struct k8s_server server(const char *host, int port, const char *name)
{
	struct k8s_server s = { .port = (uint16_t)port };

	snprintf(s.host, sizeof(s.host), "%s", host);
	snprintf(s.tls_name, sizeof(s.tls_name), "%s", name);
	return s;
}

static struct k8s_client *client(const char *ca, const char *token_file, const char *token)
{
	struct k8s_auth a = { .token_file = token_file, .token = token, .ca = { .path = ca } };
	struct k8s_server s = server("127.0.0.1", tls_port, "");
	struct k8s_client *c;
	struct ebuf eb = { { 0 } };

	if (k8s_client_new(ev, &a, &c, &eb)) {
		diag("k8s_client_new: %s", eb.msg);
		abort();
	}
	k8s_client_set_server(c, &s);
	return c;
}

/* ---- one request ------------------------------------------------------------------------- */

struct call {
	struct k8s_req *req;	/* NULL once done ran */
	struct k8s_req *self;	/* the request, even after done */
	int ndone, err, status, nbody, nlines, nhead;
	long long retry_after;
	char why[EBUF_SIZE];
	char body[8192];
	size_t body_len;
	char lines[8192];
	size_t lines_len;
	int cancel_at_line, cancel_in_head, cancel_in_body, cancel_in_done, head_ret;
	int order;		/* done_seq when done ran */
	struct call *cancel_other;	/* its request is cancelled from done, if still running */
	uint64_t t0, t_done;
};

static int on_head(void *ctx, const struct http_response *r)
{
	struct call *k = ctx;

	k->nhead++;
	k->status = r->status;
	k->retry_after = r->retry_after;
	if (k->cancel_in_head)
		k8s_cancel(k->req);
	return k->head_ret;
}

static int on_line(void *ctx, const char *p, size_t n)
{
	struct call *k = ctx;

	if (k->lines_len + n + 2 < sizeof(k->lines)) {
		memcpy(k->lines + k->lines_len, p, n);
		k->lines_len += n;
		k->lines[k->lines_len++] = '|';
		k->lines[k->lines_len] = '\0';
	}
	if (++k->nlines == k->cancel_at_line)
		k8s_cancel(k->req);
	return 0;
}

static int on_body(void *ctx, const char *p, size_t n)
{
	struct call *k = ctx;

	k->nbody++;
	k->body_len = n;
	memcpy(k->body, p, MIN(n, sizeof(k->body) - 1));
	k->body[MIN(n, sizeof(k->body) - 1)] = '\0';
	if (k->cancel_in_body)
		k8s_cancel(k->req);
	return 0;
}

static void on_done(void *ctx, int err, const char *why)
{
	struct call *k = ctx;

	k->ndone++;
	k->order = ++done_seq;
	if (stop_after && --stop_after == 0)
		ev_stop(ev);
	k->req = NULL;
	k->err = err;
	snprintf(k->why, sizeof(k->why), "%s", why);
	k->t_done = ev_now();
	if (k->cancel_in_done)
		k8s_cancel(k->self);
	if (k->cancel_other)
		k8s_cancel(k->cancel_other->req);
}

static const struct k8s_req_ops ops = {
	.head = on_head, .line = on_line, .body = on_body, .done = on_done,
};

static struct k8s_req_opts get(const char *path)
{
	return (struct k8s_req_opts){ .method = "GET", .path = path, .connect_ms = 5000,
				      .idle_ms = 5000 };
}

/* Start; done must not have run yet. */
static int start(struct k8s_client *c, const struct k8s_req_opts *o, struct call *k)
{
	int rc;

	k->t0 = ev_now();
	rc = k8s_request(c, o, &ops, k, &k->req);
	k->self = k->req;
	if (rc == 0 && k->ndone)
		ok(0, "done ran inside k8s_request");
	return rc;
}

static void loop(void)
{
	is_int(ev_run(ev), 0, "event loop ends when the requests are over");
}

static void call(struct k8s_client *c, struct k8s_req_opts o, struct call *k)
{
	is_int(start(c, &o, k), 0, o.path);
	loop();
}

static void expect_ok(struct k8s_client *c, struct k8s_req_opts o, struct call *k,
		      const char *what)
{
	call(c, o, k);
	if (!ok(k->ndone == 1 && k->err == 0, what))
		diag("ndone %d err %d why %s", k->ndone, k->err, k->why);
}

static void expect_err(struct k8s_client *c, struct k8s_req_opts o, struct call *k, int err,
		       const char *frag, const char *what)
{
	call(c, o, k);
	if (!ok(k->ndone == 1 && k->err == err && strstr(k->why, frag), what))
		diag("ndone %d err %d (%s) why \"%s\"", k->ndone, k->err, strerror(-k->err),
		     k->why);
}

/* ---- cases ------------------------------------------------------------------------------- */

static void test_bodies(struct k8s_client *c)
{
	struct call k = { 0 }, k2 = { 0 }, k3 = { 0 }, k4 = { 0 }, k5 = { 0 }, k6 = { 0 };
	struct k8s_req_opts o;
	uint64_t before = k8s_requests_started(c);

	expect_ok(c, get("/len"), &k, "Content-Length body");
	is_int(k.status, 200, "status 200");
	is_str(k.body, "{\"kind\":\"Status\",\"status\":\"Success\"}", "whole body");
	is_int(k.nbody, 1, "body callback once");
	is_int(k8s_requests_started(c), before + 1, "requests_started counts");

	expect_ok(c, get("/chunked"), &k2, "chunked body, head and chunks one byte per record");
	is_str(k2.body, "0123456789abcdefghijklmnopqrstuvwxyz", "chunks joined, trailer dropped");

	expect_ok(c, get("/nocontent"), &k3, "204");
	ok(k3.status == 204 && k3.nbody == 1 && k3.body_len == 0, "204: empty body, once");

	expect_ok(c, get("/interim"), &k4, "100 Continue then 200");
	ok(k4.status == 200 && k4.nhead == 1 && !strcmp(k4.body, "ok"), "interim response skipped");

	o = get("/len");
	o.method = "HEAD";
	expect_ok(c, o, &k6, "HEAD: Content-Length without a body");
	ok(k6.status == 200 && k6.nbody == 1 && k6.body_len == 0, "HEAD: empty body");

	o = get("/echo");
	o.method = "PATCH";
	o.content_type = "application/merge-patch+json";
	o.body = "{\"a\":1}";
	o.body_len = 7;
	expect_ok(c, o, &k5, "PATCH with a body");
	is_str(k5.body, "PATCH application/merge-patch+json\n{\"a\":1}", "method, type, body sent");
}

/* Chunk mode: the body arrives in pieces, whole in the end, never held by the client. */
static struct {
	char buf[200000];
	size_t len, calls;
} chunks;

static int on_chunk(void *ctx, const char *p, size_t n)
{
	chunks.calls++;
	if (chunks.len + n <= sizeof(chunks.buf))
		memcpy(chunks.buf + chunks.len, p, n);
	chunks.len += n;
	return 0;
}

static void test_chunks(struct k8s_client *c)
{
	static const struct k8s_req_ops cops = {
		.head = on_head, .chunk = on_chunk, .body = on_body, .done = on_done,
	};
	struct call k = { 0 }, k2 = { 0 }, k3 = { 0 };
	struct k8s_req_opts o = get("/chunked");

	memset(&chunks, 0, sizeof(chunks));
	is_int(k8s_request(c, &o, &cops, &k, &k.req), 0, "chunk mode: start");
	loop();
	ok(k.ndone == 1 && k.err == 0, "chunk mode: chunked body completes");
	ok(chunks.len == 36 && !memcmp(chunks.buf, "0123456789abcdefghijklmnopqrstuvwxyz", 36),
	   "chunk mode: the pieces join to the whole decoded body");
	ok(chunks.calls > 1, "chunk mode: more than one piece (one per record)");
	is_int(k.nbody, 0, "chunk mode: the body callback is not called");

	memset(&chunks, 0, sizeof(chunks));
	o = get("/big");
	is_int(k8s_request(c, &o, &cops, &k2, &k2.req), 0, "chunk mode: big body");
	loop();
	ok(k2.ndone == 1 && k2.err == 0 && chunks.len == 100000, "chunk mode: 100,000 bytes");

	memset(&chunks, 0, sizeof(chunks));
	o.max_body = 1000;
	is_int(k8s_request(c, &o, &cops, &k3, &k3.req), 0, "chunk mode: over max_body");
	loop();
	ok(k3.ndone == 1 && k3.err == -EMSGSIZE && chunks.len <= 1000,
	   "chunk mode: max_body bounds the total delivered");
}

static void test_framing_errors(struct k8s_client *c)
{
	struct call k[8] = { { 0 } };
	struct k8s_req_opts o;

	expect_ok(c, get("/close-body"), &k[0], "body until close_notify");
	is_str(k[0].body, "until the end", "unframed body");
	expect_err(c, get("/close-abrupt"), &k[1], -ECONNRESET, "close_notify",
		   "unframed body cut without close_notify: -ECONNRESET");
	expect_err(c, get("/close-after-head"), &k[2], -ECONNRESET, "before the end",
		   "closed inside a Content-Length body: -ECONNRESET");
	expect_err(c, get("/smuggle"), &k[3], -EPROTO, "response head",
		   "Content-Length with Transfer-Encoding: -EPROTO");
	expect_err(c, get("/badchunk"), &k[4], -EPROTO, "chunked body", "bad chunk size: -EPROTO");
	o = get("/big");
	o.max_body = 1000;
	expect_err(c, o, &k[5], -EMSGSIZE, "longer than", "body over max_body: -EMSGSIZE");
	ok(k[5].nhead == 1 && k[5].nbody == 0, "head seen, no body delivered");
	expect_ok(c, get("/big"), &k[6], "100000-byte body under the default limit");
	is_int(k[6].body_len, 100000, "all of it");
	o = get("/429");
	expect_ok(c, o, &k[7], "429 is a response, not an error");
	ok(k[7].status == 429 && k[7].retry_after == 7, "429 with Retry-After 7");
}

static void test_stream(struct k8s_client *c)
{
	struct call k[4] = { { 0 } };
	struct k8s_req_opts o = get("/watch");
	char want[1024];

	o.stream = true;
	snprintf(want, sizeof(want), "%s|%s|%s|", events[0], events[1], events[2]);
	expect_ok(c, o, &k[0], "watch stream");
	is_int(k[0].nlines, 3, "three events");
	is_str(k[0].lines, want, "events whole, across chunk and record boundaries");
	is_int(k[0].nbody, 0, "no body callback for a stream");

	o.path = "/watch-tail";
	snprintf(want, sizeof(want), "%s|%s|", events[0], events[1]);
	expect_ok(c, o, &k[1], "stream ending without a newline");
	is_str(k[1].lines, want, "unterminated last line delivered at a clean end");

	o.path = "/longline";
	o.max_body = 1000;
	expect_err(c, o, &k[2], -EMSGSIZE, "line longer", "line over max_body: -EMSGSIZE");
	o.max_body = 6000;
	expect_ok(c, o, &k[3], "5000-byte line under a 6000 limit");
	ok(k[3].nlines == 1 && k[3].lines_len == 5001, "one long line");
}

static void test_headers(void)
{
	struct k8s_client *c = client(ca_path, tok_path, NULL);
	struct k8s_client *c2 = client(ca_path, NULL, "fixed-token");
	struct k8s_client *c3 = client(ca_path, NULL, NULL);
	struct call k = { 0 }, k2 = { 0 }, k3 = { 0 };
	char host[64];

	write_file(tok_path, " tok1 \n");
	expect_ok(c, get("/headers"), &k, "request head echoed");
	snprintf(host, sizeof(host), "Host: 127.0.0.1:%d\r\n", tls_port);
	ok(strstr(k.body, "GET /headers HTTP/1.1\r\n") == k.body, "request line");
	ok(strstr(k.body, host) != NULL, "Host with port");
	ok(strstr(k.body, "Authorization: Bearer tok1\r\n") != NULL, "token trimmed, as bearer");
	ok(strstr(k.body, "Accept: application/json\r\n") != NULL, "Accept: application/json");
	ok(strstr(k.body, "User-Agent: virgil/") != NULL, "User-Agent");
	ok(!strstr(k.body, "Accept-Encoding"), "never Accept-Encoding");
	expect_ok(c2, get("/headers"), &k2, "fixed token");
	ok(strstr(k2.body, "Authorization: Bearer fixed-token\r\n") != NULL, "fixed token sent");
	expect_ok(c3, get("/headers"), &k3, "no token");
	ok(!strstr(k3.body, "Authorization"), "no Authorization without a token");
	k8s_client_free(c);
	k8s_client_free(c2);
	k8s_client_free(c3);
}

static void test_token(void)
{
	struct k8s_client *c;
	struct call k[6] = { { 0 } };
	char missing[160];

	write_file(tok_path, "tok1\n");
	c = client(ca_path, tok_path, NULL);
	expect_ok(c, get("/need-tok2"), &k[0], "request with tok1");
	is_int(k[0].status, 401, "401 for tok1");
	write_file(tok_path, "tok2\n");
	expect_ok(c, get("/need-tok2"), &k[1], "token cached for a minute");
	is_int(k[1].status, 401, "still tok1 before k8s_token_stale");
	k8s_token_stale(c);
	expect_ok(c, get("/need-tok2"), &k[2], "after k8s_token_stale");
	ok(k[2].status == 200 && !strcmp(k[2].body, "welcome"), "new token read and sent");

	write_file(tok_path, " \n");
	k8s_token_stale(c);
	expect_err(c, get("/len"), &k[3], -EINVAL, "is empty", "empty token file: -EINVAL");
	write_file(tok_path, "tok2 secret\n");
	k8s_token_stale(c);
	expect_err(c, get("/len"), &k[5], -EINVAL, "not allowed", "token with a space: -EINVAL");
	ok(!strstr(k[5].why, "secret") && !strstr(k[5].why, "tok2"), "reason carries no token");
	k8s_client_free(c);

	snprintf(missing, sizeof(missing), "%s/no-such-token", dir);
	c = client(ca_path, missing, NULL);
	expect_err(c, get("/len"), &k[4], -ENOENT, "no-such-token", "missing token file: -ENOENT");
	ok(strstr(k[4].why, "token file") != NULL, "reason names the token file");
	k8s_client_free(c);
	write_file(tok_path, "tok1\n");
}

static void test_connect_errors(struct k8s_client *c)
{
	struct k8s_client *bad = client(ca2_path, NULL, NULL), *none;
	struct k8s_server s = server("127.0.0.1", closed_port, ""), good;
	struct k8s_req_opts o = get("/len");
	struct call k[8] = { { 0 } };
	struct k8s_auth a = { .ca = { .path = ca_path } };
	struct ebuf eb = { { 0 } };

	expect_err(bad, get("/len"), &k[0], -EKEYREJECTED, "certificate",
		   "unknown CA: -EKEYREJECTED");
	k8s_client_free(bad);

	o.server = &s;
	expect_err(c, o, &k[1], -ECONNREFUSED, "connecting to 127.0.0.1:", "closed port");

	s = server("127.0.0.1", raw_port, "");
	o.connect_ms = 300;
	expect_err(c, o, &k[2], -ETIMEDOUT, "handshake", "silent server: connect bound");
	ok(k[2].t_done - k[2].t0 >= 300 && k[2].t_done - k[2].t0 < 3000, "after about 300 ms");

	o = get("/stall");
	o.idle_ms = 300;
	expect_err(c, o, &k[3], -ETIMEDOUT, "nothing received", "stalled body: idle bound");
	ok(k[3].t_done - k[3].t0 >= 300 && k[3].t_done - k[3].t0 < 3000, "after about 300 ms");

	/* a name resolved by getaddrinfo; ::1 first (nobody listens there) must fall through */
	s = server("localhost", tls_port, "127.0.0.1");
	o = get("/len");
	o.server = &s;
	call(c, o, &k[4]);
	if (k[4].err == -EHOSTUNREACH)
		diag("localhost does not resolve here: %s", k[4].why);
	else
		ok(k[4].err == 0 && k[4].status == 200, "DNS name, IP checked as tls_name");

	good = server("127.0.0.1", tls_port, "");
	s = server("127.0.0.1", closed_port, "");
	k8s_client_set_server(c, &s);
	o.server = &good;
	expect_ok(c, o, &k[5], "opts.server overrides the client's");
	k8s_client_set_server(c, &good);
	ok(k8s_client_server(c)->port == tls_port, "k8s_client_server");

	if (k8s_client_new(ev, &a, &none, &eb))
		abort();
	expect_err(none, get("/len"), &k[6], -EDESTADDRREQ, "server", "no server set");
	k8s_client_free(none);
}

static void test_cancel(struct k8s_client *c)
{
	struct k8s_req_opts o = get("/watch");
	struct call k[8] = { { 0 } };

	o.stream = true;
	k[0].cancel_at_line = 2;
	call(c, o, &k[0]);
	ok(k[0].nlines == 2 && k[0].ndone == 0, "cancel inside line(): no more lines, no done");

	k[1].cancel_in_head = 1;
	call(c, o, &k[1]);
	ok(k[1].nhead == 1 && k[1].nlines == 0 && k[1].ndone == 0, "cancel inside head()");

	o = get("/len");
	k[2].cancel_in_body = 1;
	call(c, o, &k[2]);
	ok(k[2].nbody == 1 && k[2].ndone == 0, "cancel inside body()");

	k[3].cancel_in_done = 1;
	call(c, o, &k[3]);
	ok(k[3].ndone == 1 && k[3].err == 0, "cancel inside done() is a no-op");

	/* B's done cancels A, still waiting for its stalled body */
	o = get("/stall");
	is_int(start(c, &o, &k[4]), 0, "A started");
	o = get("/len");
	k[5].cancel_other = &k[4];
	is_int(start(c, &o, &k[5]), 0, "B started");
	loop();
	ok(k[5].ndone == 1 && k[4].ndone == 0, "a request cancelled from another's callback");

	is_int(start(c, &o, &k[6]), 0, "started");
	k8s_cancel(k[6].req);
	loop();
	is_int(k[6].ndone, 0, "cancel before the loop ran: no done");
	k8s_cancel(NULL);

	k[7].head_ret = -EBADMSG;
	expect_err(c, o, &k[7], -EBADMSG, "head callback", "head() < 0 ends it with its value");
}

static void test_many(struct k8s_client *c)
{
	struct call k[20] = { { 0 } };
	struct k8s_req_opts o;
	char want[1024];
	int i, good = 0;

	snprintf(want, sizeof(want), "%s|%s|%s|", events[0], events[1], events[2]);
	for (i = 0; i < 20; i++) {
		o = get(i % 2 ? "/chunked" : "/watch");
		o.stream = !(i % 2);
		if (start(c, &o, &k[i]))
			ok(0, "start");
	}
	loop();
	for (i = 0; i < 20; i++) {
		if (k[i].ndone != 1 || k[i].err)
			diag("request %d: err %d %s", i, k[i].err, k[i].why);
		else if (i % 2 ? !strcmp(k[i].body, "0123456789abcdefghijklmnopqrstuvwxyz")
			       : !strcmp(k[i].lines, want))
			good++;
	}
	is_int(good, 20, "20 concurrent requests on one loop, each answered right");
}

/* ---- keep-alive -------------------------------------------------------------------------- */

/* The connection number testsrv.py gave the request's connection (/conn), or -1. */
static int conn_id(const struct call *k)
{
	int id, n;

	return sscanf(k->body, "conn=%d n=%d", &id, &n) == 2 ? id : -1;
}

/* A request that leaves its connection idle: its done stops the loop, which the idle
 * connection would otherwise keep running. */
static void expect_kept(struct k8s_client *c, struct k8s_req_opts o, struct call *k,
			const char *what)
{
	stop_after = 1;
	expect_ok(c, o, k, what);
	stop_after = 0;
}

static void test_reuse(void)
{
	struct k8s_client *c = client(ca_path, tok_path, NULL);
	struct k8s_server named = server("127.0.0.1", tls_port, "::1");	/* also in the SANs */
	struct k8s_req_opts o;
	struct call k[6] = { { 0 } };

	expect_kept(c, get("/conn?keep"), &k[0], "first GET");
	expect_kept(c, get("/conn?keep"), &k[1], "second GET");
	is_int(k8s_connections_opened(c), 1, "two sequential GETs: one connection opened");
	ok(conn_id(&k[0]) > 0 && conn_id(&k[1]) == conn_id(&k[0]), "the server saw one connection");
	ok(strstr(k[1].body, " n=2") != NULL, "the second request was its second");

	o = get("/echo?keep");
	o.method = "PATCH";
	o.content_type = "application/merge-patch+json";
	o.body = "{}";
	o.body_len = 2;
	expect_kept(c, o, &k[2], "PATCH on the idle connection");
	is_str(k[2].body, "PATCH application/merge-patch+json\n{}", "PATCH body whole");
	o = get("/len?keep");
	o.method = "HEAD";
	expect_kept(c, o, &k[3], "HEAD: head only, connection kept");
	expect_kept(c, get("/conn?keep"), &k[4], "GET after PATCH and HEAD");
	ok(conn_id(&k[4]) == conn_id(&k[0]) && strstr(k[4].body, " n=5"), "still the same one");
	is_int(k8s_connections_opened(c), 1, "five requests, one connection");
	is_int(k8s_requests_started(c), 5, "five requests started");

	/* another TLS name is another server, even at the same address and port */
	o = get("/conn?keep");
	o.server = &named;
	expect_kept(c, o, &k[5], "same address, TLS name given");
	ok(k8s_connections_opened(c) == 2 && conn_id(&k[5]) != conn_id(&k[0]),
	   "a different key: a new connection");
	k8s_client_free(c);
	loop();	/* nothing left in the loop once the client is gone */
}

/* The server, or what it sent, says the connection is spent: the next request opens one. */
static void test_not_kept(void)
{
	struct k8s_client *c = client(ca_path, NULL, NULL);
	struct call k[6] = { { 0 } };

	expect_kept(c, get("/conn?keep&close-hdr"), &k[0], "Connection: close");
	expect_kept(c, get("/conn?keep"), &k[1], "next request");
	ok(k8s_connections_opened(c) == 2 && conn_id(&k[1]) != conn_id(&k[0]),
	   "Connection: close (socket left open): not reused");

	expect_kept(c, get("/conn?keep&extra"), &k[2], "bytes past the body (on k[1]'s)");
	expect_kept(c, get("/conn?keep"), &k[3], "next request");
	ok(k8s_connections_opened(c) == 3 && conn_id(&k[3]) != conn_id(&k[2]),
	   "bytes read past the response: not reused");

	/* the server closes after a response framed by Content-Length, saying nothing */
	expect_ok(c, get("/conn"), &k[4], "server closes after the response");
	ok(k[4].ndone == 1, "the loop ended: the pool noticed the close");
	k8s_client_free(c);
}

static void test_server_closes(void)
{
	struct k8s_client *c = client(ca_path, NULL, NULL);
	struct call k[6] = { { 0 } };
	uint64_t t0;

	/* the loop runs while the server closes the idle connection */
	t0 = ev_now();
	expect_ok(c, get("/conn?keep&idle-close=100"), &k[0], "server closes it after 100 ms");
	ok(ev_now() - t0 >= 100, "the loop ended when the server closed the idle connection");
	expect_kept(c, get("/conn?keep"), &k[1], "next request");
	ok(k8s_connections_opened(c) == 2 && conn_id(&k[1]) != conn_id(&k[0]), "a new connection");

	/* the server closes it while the loop is not looking: found closed when taken */
	expect_kept(c, get("/conn?keep&idle-close=50"), &k[2], "server closes it after 50 ms");
	ok(conn_id(&k[2]) == conn_id(&k[1]), "(on the connection k[1] left)");
	usleep(300 * 1000);
	expect_kept(c, get("/conn?keep"), &k[3], "request after the close, loop not run");
	ok(k8s_connections_opened(c) == 3 && strstr(k[3].body, " n=1"),
	   "closed connection seen when taken: a new one");
	k8s_client_free(c);
}

/* The server closes the connection as the next request arrives on it: sent again or not. */
static void test_retry(void)
{
	struct k8s_client *c = client(ca_path, NULL, NULL);
	struct k8s_req_opts p = get("/echo?keep");
	struct call k[10] = { { 0 } };

	p.method = "PATCH";
	p.body = "{\"x\":1}";
	p.body_len = 7;
	/* each "then dropped" request runs on the connection the one before left idle */
	expect_kept(c, get("/conn?keep&drop-next=abrupt"), &k[0], "GET, then dropped");
	expect_kept(c, get("/conn?keep"), &k[1], "GET on the dropped connection succeeds");
	ok(conn_id(&k[1]) != conn_id(&k[0]) && strstr(k[1].body, " n=1"),
	   "GET sent again on a new connection (TCP close)");
	expect_kept(c, get("/conn?keep&drop-next=notify"), &k[2], "GET, then close_notify");
	expect_kept(c, get("/conn?keep"), &k[3], "GET after close_notify succeeds");
	ok(conn_id(&k[3]) != conn_id(&k[2]), "GET sent again (close_notify)");
	is_int(k8s_connections_opened(c), 3, "one more connection per drop");

	expect_kept(c, get("/conn?keep&drop-next=abrupt"), &k[4], "GET, then dropped");
	expect_kept(c, p, &k[5], "PATCH on a connection closed without a word");
	is_str(k[5].body, "PATCH \n{\"x\":1}", "PATCH sent again: nothing came back");
	is_int(k8s_connections_opened(c), 4, "on a new connection");
	expect_kept(c, get("/conn?keep&drop-next=notify"), &k[6], "GET, then close_notify");
	stop_after = 1;
	expect_err(c, p, &k[7], -ECONNRESET, "before the end",
		   "PATCH answered by close_notify: not sent again, -ECONNRESET");
	stop_after = 0;
	is_int(k8s_connections_opened(c), 4, "no new connection for it");
	is_int(k8s_requests_started(c), 8, "the caller saw each request once");
	k8s_client_free(c);
}

static void test_idle_timeout(void)
{
	struct k8s_client *c = client(ca_path, NULL, NULL);
	struct call k[4] = { { 0 } };
	uint64_t t0;

	k8s_client_set_idle_ms(c, 200);
	expect_kept(c, get("/conn?keep"), &k[0], "kept, 200 ms idle bound");
	t0 = ev_now();
	loop();
	ok(ev_now() - t0 >= 150 && ev_now() - t0 < 3000, "closed by the idle timer after 200 ms");
	expect_kept(c, get("/conn?keep"), &k[1], "next request");
	ok(k8s_connections_opened(c) == 2 && strstr(k[1].body, " n=1"), "on a new connection");
	k8s_client_set_idle_ms(c, 0);
	loop();	/* returns at once: setting 0 closed the idle connection */
	expect_ok(c, get("/conn?keep"), &k[2], "idle bound 0: nothing kept (the loop ends)");
	is_int(k8s_connections_opened(c), 3, "a new connection");
	k8s_client_free(c);
}

/* A LIST's connection carries the WATCH that follows; a watch's is never kept. */
static void test_list_watch(void)
{
	struct k8s_client *c = client(ca_path, NULL, NULL);
	struct k8s_req_opts w = get("/watch?keep");
	struct call k[4] = { { 0 } };

	w.stream = true;
	expect_kept(c, get("/conn?keep"), &k[0], "LIST");
	expect_ok(c, w, &k[1], "WATCH after it (the loop ends: its connection is not kept)");
	is_int(k[1].nlines, 3, "three events");
	is_int(k8s_connections_opened(c), 1, "LIST then WATCH: one connection");
	expect_kept(c, get("/conn?keep"), &k[2], "LIST after the watch");
	is_int(k8s_connections_opened(c), 2, "the watch's connection was not kept");
	k8s_client_free(c);
}

static int ids_in_order(const struct call *k, int n, int from_order, int *ids)
{
	int i, m = 0;

	for (i = 0; i < n; i++)
		if (k[i].order >= from_order)
			ids[m++] = conn_id(&k[i]);
	return m;
}

static bool id_in(int id, const int *ids, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* Six connections end at once; the four parked last are kept, the oldest two closed. */
static void test_pool_bound(void)
{
	struct k8s_client *c = client(ca_path, NULL, NULL);
	struct k8s_req_opts o = get("/conn?keep");
	struct call a[6] = { { 0 } }, b[6] = { { 0 } };
	int i, last[6], nlast, reused = 0, good = 0;

	stop_after = 6;
	for (i = 0; i < 6; i++)
		is_int(start(c, &o, &a[i]), 0, "started");
	loop();
	for (i = 0; i < 6; i++)
		good += a[i].err == 0 && conn_id(&a[i]) > 0;
	is_int(good, 6, "six concurrent requests");
	is_int(k8s_connections_opened(c), 6, "on six connections");
	nlast = ids_in_order(a, 6, done_seq - 3, last);
	stop_after = 6;
	for (i = 0; i < 6; i++)
		is_int(start(c, &o, &b[i]), 0, "started");
	loop();
	stop_after = 0;
	for (i = 0; i < 6; i++) {
		if (b[i].err)
			diag("request %d: %s", i, b[i].why);
		reused += strstr(b[i].body, " n=2") && id_in(conn_id(&b[i]), last, nlast);
	}
	is_int(reused, 4, "four reused: the last four that went idle");
	is_int(k8s_connections_opened(c), 8, "two new ones");
	k8s_client_free(c);
	loop();
}

/* Teardown while a pooled fd is readable, and a cancel on a reused connection. */
static void test_pool_teardown(void)
{
	struct k8s_client *c = client(ca_path, NULL, NULL);
	struct k8s_req_opts o = get("/stall");
	struct call k[4] = { { 0 } };

	expect_kept(c, get("/conn?keep"), &k[0], "kept");
	is_int(start(c, &o, &k[1]), 0, "a request on the idle connection");
	k8s_cancel(k[1].req);
	is_int(k8s_connections_opened(c), 1, "it had taken the idle connection");
	expect_kept(c, get("/conn?keep&idle-close=20"), &k[2], "a fresh one, kept");
	usleep(200 * 1000);	/* its fd turns readable, unseen */
	k8s_client_free(c);
	loop();	/* no callback for the freed client's fd */
	ok(k[1].ndone == 0, "cancelled request: no done");
}

static void test_args(void)
{
	struct k8s_client *c = client(ca_path, NULL, NULL);
	struct k8s_req_ops no_done = { .body = on_body };
	struct k8s_req_ops no_line = { .done = on_done };
	struct k8s_req_opts o = get("/len");
	struct k8s_auth a = { 0 };
	struct k8s_client *x;
	struct k8s_req *r = (void *)1;
	struct ebuf eb = { { 0 } };
	char missing[160];

	is_int(k8s_request(c, &o, &no_done, NULL, &r), -EINVAL, "no done: -EINVAL");
	ok(r == NULL, "*out cleared");
	o.stream = true;
	is_int(k8s_request(c, &o, &no_line, NULL, NULL), -EINVAL, "stream without line: -EINVAL");
	is_int(k8s_client_new(ev, &a, &x, &eb), -EINVAL, "no CA: -EINVAL");
	ok(strstr(eb.msg, "CA") != NULL, "reason says CA");
	snprintf(missing, sizeof(missing), "%s/nope.pem", dir);
	a.ca.path = missing;
	is_int(k8s_client_new(ev, &a, &x, &eb), -ENOENT, "missing CA file: -ENOENT");
	ok(strstr(eb.msg, "nope.pem") != NULL, "reason names the file");
	a.ca.path = ca_path;
	a.cert.path = ca_path;
	is_int(k8s_client_new(ev, &a, &x, &eb), -EINVAL, "certificate without key: -EINVAL");
	a.cert.path = NULL;
	a.token = "bad token";
	is_int(k8s_client_new(ev, &a, &x, &eb), -EINVAL, "token with a space: -EINVAL");
	k8s_client_free(NULL);
	k8s_client_free(c);
}

/* One request of a fault run; the loop stops at its done (an idle connection may stay). */
static int fault_req(struct k8s_client *c, const struct k8s_req_opts *o, struct call *k,
		     unsigned long n, int *bad)
{
	int rc;

	stop_after = 1;
	rc = k8s_request(c, o, &ops, k, NULL);
	if (!rc && ev_run(ev))
		(*bad)++;
	stop_after = 0;
	if (!rc && (k->ndone != 1 || (k->err && k->err != -ENOMEM))) {
		diag("n=%lu: ndone %d err %d %s", n, k->ndone, k->err, k->why);
		(*bad)++;
	}
	return rc;
}

/*
 * Every allocation of client set-up and nreq requests in a row, failing in turn. With
 * nreq 2 on a path that keeps the connection, the second reuses the first's (unless a
 * failure closed it) and the client is freed with it idle; the loop must then be empty.
 */
static void test_faults(const char *path, bool stream, int nreq)
{
	struct k8s_auth a = { .token_file = tok_path, .ca = { .path = ca_path } };
	struct k8s_server s = server("127.0.0.1", tls_port, "");
	struct k8s_req_opts o = get(path);
	unsigned long n, calls = 0;
	int bad = 0, runs = 0, i;

	o.stream = stream;
	for (n = 1; n < 4000; n++) {
		struct call k[2] = { { 0 } };
		struct k8s_client *c = NULL;
		uint64_t opened = 0;
		int rc;

		fault_reset(n);
		rc = k8s_client_new(ev, &a, &c, NULL);
		if (!rc)
			k8s_client_set_server(c, &s);
		for (i = 0; !rc && i < nreq; i++)
			rc = fault_req(c, &o, &k[i], n, &bad);
		if (rc && rc != -ENOMEM)
			bad++;
		if (c)
			opened = k8s_connections_opened(c);
		k8s_client_free(c);
		if (ev_run(ev))
			bad++;
		calls = fault_reset(0);
		runs++;
		if (calls < n) {
			ok(rc == 0 && k[nreq - 1].err == 0 &&
			   (stream ? k[0].nlines == 3 : k[nreq - 1].nbody == 1),
			   "the run without an injected failure succeeds");
			if (nreq > 1)
				is_int(opened, 1, "on one connection");
			break;
		}
	}
	ok(bad == 0, "every allocation failure: -ENOMEM, done exactly once, no leak");
	diag("%s: %d runs (%lu allocations)", path, runs, calls);
}

static void measure(struct k8s_client *c)
{
	uint64_t t0 = ev_now();
	struct call k[10] = { { 0 } };
	int i;

	for (i = 0; i < 10; i++)
		call(c, get("/len"), &k[i]);
	diag("10 sequential requests: %.1f ms each (ASan build)", (double)(ev_now() - t0) / 10);
}

static void measure_kept(void)
{
	struct k8s_client *c = client(ca_path, NULL, NULL);
	struct call k[10] = { { 0 } };
	uint64_t t0 = ev_now();
	int i;

	for (i = 0; i < 10; i++)
		expect_kept(c, get("/len?keep"), &k[i], "kept");
	diag("10 sequential requests on one kept connection: %.1f ms each (ASan build)",
	     (double)(ev_now() - t0) / 10);
	is_int(k8s_connections_opened(c), 1, "10 requests, one connection");
	k8s_client_free(c);
}

int main(void)
{
	struct k8s_client *c;

	alarm(300);
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/vgk8s.XXXXXX");
	if (!mkdtemp(dir) || make_certs() || start_server()) {
		ok(0, "fixtures: certificates and tests/k8s/testsrv.py");
		if (srv_pid > 0) {
			kill(srv_pid, SIGTERM);
			waitpid(srv_pid, NULL, 0);
		}
		sh("rm -rf %s", dir);
		return tap_done();
	}
	snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", dir);
	snprintf(ca2_path, sizeof(ca2_path), "%s/ca2.pem", dir);
	snprintf(tok_path, sizeof(tok_path), "%s/token", dir);
	write_file(tok_path, "tok1\n");
	closed_port = free_port();
	ev = ev_new();

	c = client(ca_path, tok_path, NULL);
	test_bodies(c);
	test_chunks(c);
	test_framing_errors(c);
	test_stream(c);
	test_headers();
	test_token();
	test_connect_errors(c);
	test_cancel(c);
	test_many(c);
	test_args();
	measure(c);
	k8s_client_free(c);
	test_reuse();
	test_not_kept();
	test_server_closes();
	test_retry();
	test_idle_timeout();
	test_list_watch();
	test_pool_bound();
	test_pool_teardown();
	measure_kept();
	test_faults("/len", false, 1);
	test_faults("/watch", true, 1);
	test_faults("/conn?keep", false, 2);

	ev_free(ev);
	kill(srv_pid, SIGTERM);
	waitpid(srv_pid, NULL, 0);
	close(srv_out);
	sh("rm -rf %s", dir);
	return tap_done();
}
