// SPDX-License-Identifier: MIT
/*
 * k8s_pool.c: the API client's idle connections (HTTP/1.1 persistent connections, RFC 9112
 * §9.3). A request whose response ended cleanly parks its socket and TLS session here; the
 * next request to the same server (host, port, TLS name) takes the most recently parked one
 * and skips connect and handshake, most of what a request costs against a remote API server.
 *
 * Bounds: K8S_POOL_MAX connections per client (parking one more closes the oldest), each
 * closed after c->pool_idle_ms without use (one timer per client, armed only while the pool
 * holds something so that an idle client leaves the loop free to end, and the age checked
 * again when a connection is taken). A server sends nothing on an idle HTTP/1.1 connection,
 * so the fd is watched for POLLIN and closed on any event: the server closed it (FIN,
 * close_notify, RST) or is out of step. The slots live in the client, so parking never
 * allocates; only arming the timer can fail, and then the connection is closed instead.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/util.h"
#include "ev.h"
#include "k8s.h"
#include "k8s_int.h"

static bool key_eq(const struct k8s_server *a, const struct k8s_server *b)
{
	return a->port == b->port && !strcmp(a->host, b->host) &&
	       !strcmp(a->tls_name, b->tls_name);
}

static bool pool_empty(const struct k8s_client *c)
{
	unsigned i;

	for (i = 0; i < K8S_POOL_MAX; i++)
		if (c->pool[i].tls)
			return false;
	return true;
}

/* An empty pool holds no timer: the loop may end once the requests are over. */
static void pool_disarm(struct k8s_client *c)
{
	if (c->pool_timer && pool_empty(c)) {
		ev_timer_cancel(c->ev, c->pool_timer);
		c->pool_timer = 0;
	}
}

static void idle_close(struct k8s_idle *e, const char *why)
{
	struct k8s_client *c = e->c;
	int rc;

	if (!e->tls)
		return;
	log_debug("k8s: idle connection to %s:%u closed: %s", e->key.host, e->key.port, why);
	rc = ev_fd_del(c->ev, e->fd);
	(void)rc;	/* -ENOENT once taken out of the loop: nothing to undo */
	tls_conn_free(e->tls);
	close(e->fd);
	k8s_cfg_put(c, e->ent);
	e->tls = NULL;
	e->ent = NULL;
	e->fd = -1;
}

static void pool_io(struct ev *ev, int fd, unsigned revents, void *ctx)
{
	struct k8s_idle *e = ctx;

	idle_close(e, revents & POLLIN ? "the server closed it or sent unasked bytes"
				      : "hung up");
	pool_disarm(e->c);
}

static void pool_timer(struct ev *ev, uint64_t id, void *ctx)
{
	struct k8s_client *c = ctx;
	uint64_t now = ev_now(), next = UINT64_MAX, age;
	unsigned i;

	c->pool_timer = 0;	/* spent, unless rescheduled below */
	for (i = 0; i < K8S_POOL_MAX; i++) {
		if (!c->pool[i].tls)
			continue;
		age = now - c->pool[i].since;
		if (age >= c->pool_idle_ms)
			idle_close(&c->pool[i], "idle too long");
		else
			next = MIN(next, c->pool_idle_ms - age);
	}
	if (next == UINT64_MAX)
		return;
	if (ev_timer_reschedule(ev, id, next) == 0)
		c->pool_timer = id;
	else
		k8s_pool_clear(c);	/* no timer, no bound: keep nothing */
}

/* Alive, as far as we can tell without reading: young enough, and nothing waiting on it. */
static bool idle_live(const struct k8s_idle *e, uint64_t now, uint32_t idle_ms)
{
	char b;

	if (now - e->since >= idle_ms || tls_pending(e->tls))
		return false;
	/* a FIN or close_notify that came in since the loop last polled shows up here */
	return recv(e->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
	       (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* The slot to park in: a free one, else the oldest connection, closed. */
static struct k8s_idle *pool_slot(struct k8s_client *c)
{
	struct k8s_idle *old = NULL;
	unsigned i;

	for (i = 0; i < K8S_POOL_MAX; i++) {
		if (!c->pool[i].tls)
			return &c->pool[i];
		if (!old || c->pool[i].seq < old->seq)
			old = &c->pool[i];
	}
	idle_close(old, "the pool is full");
	return old;
}

void k8s_pool_put(struct k8s_client *c, const struct k8s_server *key, int fd,
		  struct tls_conn *tls, struct k8s_tlsent *ent)
{
	struct k8s_idle *e;

	if (!c->pool_idle_ms)
		goto drop;
	e = pool_slot(c);
	if (!c->pool_timer &&
	    ev_timer_add(c->ev, c->pool_idle_ms, pool_timer, c, &c->pool_timer)) {
		c->pool_timer = 0;
		goto drop;
	}
	if (ev_fd_add(c->ev, fd, POLLIN, pool_io, e))
		goto drop;
	*e = (struct k8s_idle){ .c = c, .fd = fd, .tls = tls, .ent = ent, .since = ev_now(),
				.seq = ++c->pool_seq, .key = *key };
	return;
drop:
	tls_conn_free(tls);
	close(fd);
	k8s_cfg_put(c, ent);
	pool_disarm(c);
}

bool k8s_pool_take(struct k8s_client *c, const struct k8s_server *key, int *fd,
		   struct tls_conn **tls, struct k8s_tlsent **ent)
{
	uint64_t now = ev_now();
	struct k8s_idle *e;
	unsigned i;
	int rc;

	for (;;) {
		e = NULL;
		for (i = 0; i < K8S_POOL_MAX; i++)
			if (c->pool[i].tls && key_eq(&c->pool[i].key, key) &&
			    (!e || c->pool[i].seq > e->seq))
				e = &c->pool[i];
		if (!e || idle_live(e, now, c->pool_idle_ms))
			break;
		idle_close(e, "found closed or expired when taken");
	}
	if (e) {
		rc = ev_fd_del(c->ev, e->fd);
		(void)rc;
		*fd = e->fd;
		*tls = e->tls;
		*ent = e->ent;
		e->tls = NULL;
		e->ent = NULL;
		e->fd = -1;
	}
	pool_disarm(c);
	return e != NULL;
}

void k8s_pool_clear(struct k8s_client *c)
{
	unsigned i;

	for (i = 0; i < K8S_POOL_MAX; i++)
		idle_close(&c->pool[i], "no longer kept");
	pool_disarm(c);
}
