// SPDX-License-Identifier: MIT
/*
 * ev.c: poll loop, timer heap and signalfd (see ev.h).
 *
 * Fds live in a registry array; the pollfd array is rebuilt from it at the top of a round
 * when something changed, and each pollfd slot remembers the serial of the registration it
 * was built from. A callback that removes (or removes and re-adds) an fd changes the serial,
 * so stale readiness from this round's poll() is never delivered. Both arrays only grow in
 * ev_fd_add(), so the rebuild cannot fail and dispatch re-reads them by index after every
 * callback (a callback may have moved them).
 *
 * Timers live in slots (reused through a free list) and a binary min-heap of slot numbers
 * ordered by (deadline, sequence). An id is (generation << 32 | slot + 1): freeing a slot
 * bumps its generation, so an old id never reaches a reused slot. The firing timer is out of
 * the heap while its callback runs, which is what lets the callback reschedule it.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "../base/mem.h"
#include "ev.h"

#define EV_NSIG 65              /* signals 1..64 */
#define NOHEAP UINT32_MAX

enum { T_FREE, T_ARMED, T_FIRING };

struct fdent {
	int fd;
	unsigned events;
	ev_fd_fn *cb;
	void *ctx;
	uint64_t serial;
};

struct tslot {
	uint64_t due, seq;
	ev_timer_fn *cb;
	void *ctx;
	uint32_t gen, heap, next_free;
	uint8_t state;
};

struct ev {
	struct fdent *fds;
	struct pollfd *pfd;
	uint64_t *pserial;
	size_t nfds, npfd, capfds;
	uint64_t serial;
	bool dirty, stop;

	struct tslot *slot;
	uint32_t *heap;
	uint32_t nslot, capslot, nheap, free_head;
	uint64_t seq;

	int sigfd;
	sigset_t sigmask;
	struct {
		ev_signal_fn *cb;
		void *ctx;
	} sig[EV_NSIG];
};

static uint64_t clock_ms(bool round_up)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer on Linux */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 +
	       (round_up && ts.tv_nsec % 1000000 ? 1 : 0);
}

uint64_t ev_now(void)
{
	return clock_ms(false);
}

struct ev *ev_new(void)
{
	struct ev *ev = mem_calloc(1, sizeof(*ev));

	if (!ev)
		return NULL;
	ev->sigfd = -1;
	ev->free_head = NOHEAP;
	sigemptyset(&ev->sigmask);
	return ev;
}

void ev_free(struct ev *ev)
{
	if (!ev)
		return;
	if (ev->sigfd >= 0)
		close(ev->sigfd);
	mem_free(ev->fds);
	mem_free(ev->pfd);
	mem_free(ev->pserial);
	mem_free(ev->slot);
	mem_free(ev->heap);
	mem_free(ev);
}

/* ---- fds ------------------------------------------------------------------------------- */

static struct fdent *fd_find(struct ev *ev, int fd)
{
	size_t i;

	for (i = 0; i < ev->nfds; i++)
		if (ev->fds[i].fd == fd)
			return &ev->fds[i];
	return NULL;
}

/* Grow one array to cap elements; the old block stays valid on failure. */
static int grow(void **p, size_t cap, size_t size)
{
	void *n = mem_realloc(*p, cap * size);

	if (!n)
		return -ENOMEM;
	*p = n;
	return 0;
}

static int fds_reserve(struct ev *ev)
{
	size_t cap = ev->capfds ? 2 * ev->capfds : 8;

	if (ev->nfds < ev->capfds)
		return 0;
	if (grow((void **)&ev->fds, cap, sizeof(*ev->fds)) ||
	    grow((void **)&ev->pfd, cap, sizeof(*ev->pfd)) ||
	    grow((void **)&ev->pserial, cap, sizeof(*ev->pserial)))
		return -ENOMEM;
	ev->capfds = cap;
	return 0;
}

int ev_fd_add(struct ev *ev, int fd, unsigned events, ev_fd_fn *cb, void *ctx)
{
	if (fd < 0)
		return -EBADF;
	if (!cb)
		return -EINVAL;
	if (fd_find(ev, fd))
		return -EEXIST;
	if (fds_reserve(ev))
		return -ENOMEM;
	ev->fds[ev->nfds++] = (struct fdent){ .fd = fd, .events = events, .cb = cb, .ctx = ctx,
					      .serial = ++ev->serial };
	ev->dirty = true;
	return 0;
}

int ev_fd_mod(struct ev *ev, int fd, unsigned events)
{
	struct fdent *e = fd_find(ev, fd);

	if (!e)
		return -ENOENT;
	e->events = events;
	ev->dirty = true;
	return 0;
}

int ev_fd_del(struct ev *ev, int fd)
{
	struct fdent *e = fd_find(ev, fd);

	if (!e)
		return -ENOENT;
	*e = ev->fds[--ev->nfds];
	ev->dirty = true;
	return 0;
}

static void pfd_rebuild(struct ev *ev)
{
	size_t i;

	for (i = 0; i < ev->nfds; i++) {
		ev->pfd[i] = (struct pollfd){ .fd = ev->fds[i].fd,
					      .events = (short)ev->fds[i].events };
		ev->pserial[i] = ev->fds[i].serial;
	}
	ev->npfd = ev->nfds;
	ev->dirty = false;
}

static void fd_dispatch(struct ev *ev)
{
	struct fdent *e;
	unsigned rev;
	size_t i;

	for (i = 0; i < ev->npfd && !ev->stop; i++) {
		if (!ev->pfd[i].revents)
			continue;
		e = fd_find(ev, ev->pfd[i].fd);
		if (!e || e->serial != ev->pserial[i])
			continue;
		rev = (unsigned)ev->pfd[i].revents & (e->events | POLLERR | POLLHUP | POLLNVAL);
		if (rev)
			e->cb(ev, e->fd, rev, e->ctx);
	}
}

/* ---- timers ------------------------------------------------------------------------------ */

static bool t_before(const struct ev *ev, uint32_t a, uint32_t b)
{
	const struct tslot *x = &ev->slot[a], *y = &ev->slot[b];

	return x->due != y->due ? x->due < y->due : x->seq < y->seq;
}

static void heap_set(struct ev *ev, uint32_t pos, uint32_t s)
{
	ev->heap[pos] = s;
	ev->slot[s].heap = pos;
}

static void heap_up(struct ev *ev, uint32_t pos)
{
	uint32_t s = ev->heap[pos], parent;

	for (; pos > 0; pos = parent) {
		parent = (pos - 1) / 2;
		if (!t_before(ev, s, ev->heap[parent]))
			break;
		heap_set(ev, pos, ev->heap[parent]);
	}
	heap_set(ev, pos, s);
}

static void heap_down(struct ev *ev, uint32_t pos)
{
	uint32_t s = ev->heap[pos], child;

	for (; (child = 2 * pos + 1) < ev->nheap; pos = child) {
		if (child + 1 < ev->nheap && t_before(ev, ev->heap[child + 1], ev->heap[child]))
			child++;
		if (!t_before(ev, ev->heap[child], s))
			break;
		heap_set(ev, pos, ev->heap[child]);
	}
	heap_set(ev, pos, s);
}

static void heap_push(struct ev *ev, uint32_t s)
{
	heap_set(ev, ev->nheap++, s);
	heap_up(ev, ev->nheap - 1);
}

static void heap_remove(struct ev *ev, uint32_t s)
{
	uint32_t pos = ev->slot[s].heap;

	ev->slot[s].heap = NOHEAP;
	if (pos == --ev->nheap)
		return;
	/* the last element fills the hole and moves whichever way restores the order */
	heap_set(ev, pos, ev->heap[ev->nheap]);
	if (pos > 0 && t_before(ev, ev->heap[pos], ev->heap[(pos - 1) / 2]))
		heap_up(ev, pos);
	else
		heap_down(ev, pos);
}

static void arm(struct ev *ev, uint32_t s, uint64_t delay_ms)
{
	struct tslot *t = &ev->slot[s];
	/*
	 * A delay rounds the start up to the next millisecond, so the timer never fires early;
	 * no delay means the next turn of the loop, not the next millisecond boundary (the
	 * policy agent's sync after an event waited about 1 ms for it).
	 */
	uint64_t now = clock_ms(delay_ms > 0);

	t->due = delay_ms > UINT64_MAX - now ? UINT64_MAX : now + delay_ms;
	t->seq = ev->seq++;
	t->state = T_ARMED;
	heap_push(ev, s);
}

static int slot_get(struct ev *ev, uint32_t *out)
{
	uint32_t cap = ev->capslot ? 2 * ev->capslot : 16;

	if (ev->free_head != NOHEAP) {
		*out = ev->free_head;
		ev->free_head = ev->slot[*out].next_free;
		return 0;
	}
	if (ev->nslot == ev->capslot) {
		if (ev->capslot >= NOHEAP / 2 || grow((void **)&ev->slot, cap, sizeof(*ev->slot)) ||
		    grow((void **)&ev->heap, cap, sizeof(*ev->heap)))
			return -ENOMEM;
		ev->capslot = cap;
	}
	*out = ev->nslot++;
	ev->slot[*out].gen = 1;
	return 0;
}

static void slot_put(struct ev *ev, uint32_t s)
{
	struct tslot *t = &ev->slot[s];

	t->state = T_FREE;
	t->gen++;
	t->next_free = ev->free_head;
	ev->free_head = s;
}

static uint64_t make_id(const struct ev *ev, uint32_t s)
{
	return (uint64_t)ev->slot[s].gen << 32 | (s + 1);
}

/* The slot an id names while its timer is armed or firing, or NOHEAP. */
static uint32_t id_slot(const struct ev *ev, uint64_t id)
{
	uint32_t s = (uint32_t)id - 1;

	if ((uint32_t)id == 0 || s >= ev->nslot || ev->slot[s].state == T_FREE ||
	    ev->slot[s].gen != (uint32_t)(id >> 32))
		return NOHEAP;
	return s;
}

int ev_timer_add(struct ev *ev, uint64_t delay_ms, ev_timer_fn *cb, void *ctx, uint64_t *id)
{
	uint32_t s;

	if (!cb)
		return -EINVAL;
	if (slot_get(ev, &s))
		return -ENOMEM;
	ev->slot[s].cb = cb;
	ev->slot[s].ctx = ctx;
	arm(ev, s, delay_ms);
	if (id)
		*id = make_id(ev, s);
	return 0;
}

int ev_timer_cancel(struct ev *ev, uint64_t id)
{
	uint32_t s = id_slot(ev, id);

	if (s == NOHEAP)
		return -ENOENT;
	if (ev->slot[s].state == T_ARMED)
		heap_remove(ev, s);
	slot_put(ev, s);
	return 0;
}

int ev_timer_reschedule(struct ev *ev, uint64_t id, uint64_t delay_ms)
{
	uint32_t s = id_slot(ev, id);

	if (s == NOHEAP)
		return -ENOENT;
	if (ev->slot[s].state == T_ARMED)
		heap_remove(ev, s);
	arm(ev, s, delay_ms);
	return 0;
}

bool ev_timer_pending(const struct ev *ev, uint64_t id)
{
	uint32_t s = id_slot(ev, id);

	return s != NOHEAP && ev->slot[s].state == T_ARMED;
}

/* Fire what is due, but nothing armed during this round (seq ≥ limit). */
static void timers_run(struct ev *ev)
{
	uint64_t now = clock_ms(false), limit = ev->seq, id;
	uint32_t s, gen;
	struct tslot *t;

	while (ev->nheap && !ev->stop) {
		s = ev->heap[0];
		t = &ev->slot[s];
		if (t->due > now || t->seq >= limit)
			break;
		heap_remove(ev, s);
		t->state = T_FIRING;
		gen = t->gen;
		id = make_id(ev, s);
		t->cb(ev, id, t->ctx);
		/* the callback may have grown (moved) the slots, cancelled or re-armed this one */
		t = &ev->slot[s];
		if (t->gen == gen && t->state == T_FIRING)
			slot_put(ev, s);
	}
}

static int poll_timeout(const struct ev *ev)
{
	uint64_t now, due;

	if (!ev->nheap)
		return -1;
	due = ev->slot[ev->heap[0]].due;
	now = clock_ms(false);
	if (due <= now)
		return 0;
	return due - now > INT32_MAX ? INT32_MAX : (int)(due - now);
}

/* ---- signals --------------------------------------------------------------------------- */

static void sig_read(struct ev *ev, int fd, unsigned revents, void *ctx)
{
	struct signalfd_siginfo si;
	unsigned n;

	/* standard signals pend at most once each; a bound keeps a flood from starving fds */
	for (n = 0; n < 2 * EV_NSIG && !ev->stop; n++) {
		if (read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
			return;
		if (si.ssi_signo < EV_NSIG && ev->sig[si.ssi_signo].cb)
			ev->sig[si.ssi_signo].cb(ev, (int)si.ssi_signo, ev->sig[si.ssi_signo].ctx);
	}
}

/* Point the signalfd at mask, creating and registering it on first use. */
static int sigfd_update(struct ev *ev, const sigset_t *mask)
{
	int fd = signalfd(ev->sigfd, mask, SFD_NONBLOCK | SFD_CLOEXEC), rc;

	if (fd < 0)
		return -errno;
	if (ev->sigfd < 0) {
		rc = ev_fd_add(ev, fd, POLLIN, sig_read, NULL);
		if (rc) {
			close(fd);
			return rc;
		}
		ev->sigfd = fd;
	}
	return 0;
}

int ev_signal(struct ev *ev, int signo, ev_signal_fn *cb, void *ctx)
{
	sigset_t one, old, mask = ev->sigmask;
	int rc;

	if (signo <= 0 || signo >= EV_NSIG || signo == SIGKILL || signo == SIGSTOP)
		return -EINVAL;
	sigemptyset(&one);
	if (sigaddset(&one, signo) || sigaddset(&mask, signo))
		return -EINVAL;
	/* block before the signalfd exists, or a delivery in between takes the default action */
	if (sigprocmask(SIG_BLOCK, &one, &old))
		return -errno;
	rc = sigfd_update(ev, &mask);
	if (rc) {
		if (!sigismember(&old, signo))
			sigprocmask(SIG_UNBLOCK, &one, NULL);
		return rc;
	}
	ev->sigmask = mask;
	ev->sig[signo].cb = cb;
	ev->sig[signo].ctx = ctx;
	return 0;
}

/* ---- the loop ------------------------------------------------------------------------------ */

void ev_stop(struct ev *ev)
{
	ev->stop = true;
}

int ev_run(struct ev *ev)
{
	int rc = 0, n;

	while (!ev->stop) {
		timers_run(ev);
		if (ev->stop || (!ev->nfds && !ev->nheap))
			break;
		if (ev->dirty)
			pfd_rebuild(ev);
		n = poll(ev->pfd, ev->npfd, poll_timeout(ev));
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (n > 0)
			fd_dispatch(ev);
	}
	ev->stop = false;
	return rc;
}
