// SPDX-License-Identifier: MIT
/*
 * tls_client.c: smoke-test client for src/io/tls.h, built statically with musl and Debian's
 * mbedtls archives by tests/netns/05-tls.sh. Connects to ADDR:PORT, verifies the server as
 * NAME against CA, sends "GET / HTTP/1.0" and copies the response to stdout. The socket is
 * non-blocking and driven by poll(), the way the Kubernetes client will drive it.
 *
 *   tls_client [-m] ADDR PORT CA NAME [CERT KEY]
 *     -m   read CA/CERT/KEY into memory and pass them as data (PEM or DER), not as paths
 *
 * On success it says on stderr how often it waited in poll().
 * Exit: 0 response received, 1 certificate verification failed, 2 any other error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/base/err.h"
#include "../../src/io/tls.h"

#define TIMEOUT_MS 10000

/* How often the loop had to wait in poll(): > 0 shows the -EAGAIN path was exercised. */
static unsigned polls;

static int usage(void)
{
	fprintf(stderr, "usage: tls_client [-m] ADDR PORT CA NAME [CERT KEY]\n");
	return 2;
}

static int tcp_connect(const char *addr, const char *port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd;

	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)atoi(port));
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)atoi(port));
		len = sizeof(*s6);
	} else {
		errno = EINVAL;
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Wait for what the last -EAGAIN asked for; -ETIMEDOUT after TIMEOUT_MS. */
static int wait_for(int fd, struct tls_conn *t)
{
	struct pollfd p = { .fd = fd, .events = tls_want(t) };
	int r;

	polls++;
	r = poll(&p, 1, TIMEOUT_MS);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

/* Whole file into a heap buffer, for the -m (memory) path. */
static void *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		p = malloc((size_t)n);
		if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
			free(p);
			p = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return p;
}

static int set_source(struct tls_source *s, const char *path, int mem)
{
	if (!mem) {
		s->path = path;
		return 0;
	}
	s->data = slurp(path, &s->len);
	if (!s->data)
		fprintf(stderr, "tls_client: cannot read %s\n", path);
	return s->data ? 0 : -1;
}

/* Handshake, request, response: 0 or -errno with eb filled. */
static int exchange(struct tls_conn *t, int fd, struct ebuf *eb)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	size_t off = 0;
	char buf[4096];
	ssize_t r;

	while ((r = tls_handshake(t, eb)) == -EAGAIN)
		if ((r = wait_for(fd, t)))
			return (int)r;
	if (r)
		return (int)r;
	while (off < sizeof(req) - 1) {
		r = tls_write(t, req + off, sizeof(req) - 1 - off, eb);
		if (r == -EAGAIN && !(r = wait_for(fd, t)))
			continue;
		if (r < 0)
			return (int)r;
		off += (size_t)r;
	}
	for (;;) {
		r = tls_read(t, buf, sizeof(buf), eb);
		if (r == 0)
			return 0;
		if (r == -EAGAIN) {
			if (!tls_pending(t) && (r = wait_for(fd, t)))
				return (int)r;
			continue;
		}
		if (r < 0)
			return (int)r;
		fwrite(buf, 1, (size_t)r, stdout);
	}
}

int main(int argc, char **argv)
{
	struct tls_opts o = { 0 };
	struct tls_config *cfg = NULL;
	struct tls_conn *t = NULL;
	struct ebuf eb = { { 0 } };
	int mem = 0, fd = -1, r = 2;

	if (argc > 1 && strcmp(argv[1], "-m") == 0) {
		mem = 1;
		argc--;
		argv++;
	}
	if (argc != 5 && argc != 7)
		return usage();
	o.server_name = argv[4];
	if (set_source(&o.ca, argv[3], mem) ||
	    (argc == 7 && (set_source(&o.cert, argv[5], mem) || set_source(&o.key, argv[6], mem))))
		return 2;
	cfg = tls_config_new(&o, &eb);
	if (!cfg) {
		fprintf(stderr, "tls_client: config: %s\n", eb.msg);
		goto out;
	}
	fd = tcp_connect(argv[1], argv[2]);
	if (fd < 0) {
		fprintf(stderr, "tls_client: connect %s port %s: %s\n", argv[1], argv[2],
			strerror(errno));
		goto out;
	}
	t = tls_conn_new(cfg, fd, &eb);
	if (!t) {
		fprintf(stderr, "tls_client: %s\n", eb.msg);
		goto out;
	}
	r = exchange(t, fd, &eb);
	if (r)
		fprintf(stderr, "tls_client: %s (%s)\n", eb.msg[0] ? eb.msg : "failed",
			strerror(-r));
	else
		fprintf(stderr, "tls_client: done, waited in poll() %u times\n", polls);
	r = r == 0 ? 0 : r == -EKEYREJECTED ? 1 : 2;
out:
	fflush(stdout);
	tls_conn_free(t);
	tls_config_free(cfg);
	if (fd >= 0)
		close(fd);
	if (mem) {
		free((void *)o.ca.data);
		free((void *)o.cert.data);
		free((void *)o.key.data);
	}
	return r;
}
