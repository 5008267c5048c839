/* SPDX-License-Identifier: MIT */
/*
 * ev.h: the agent's event loop: one thread, one poll(), as OpenBSD's daemons do. File
 * descriptors with a callback each, one-shot timers on the monotonic clock in a min-heap,
 * and signals read from a signalfd so handlers run as ordinary callbacks (no async-signal
 * rules, no EINTR races). Never exits or prints; every call returns 0 or -errno. Not
 * thread-safe: every call comes from the loop's thread, callbacks included.
 *
 * Re-entrancy: callbacks may add, modify and remove fds, timers and signals, and call
 * ev_stop(). A removed fd gets no further callback, not even for readiness poll() already
 * reported in the current round; an fd added during a round is first polled in the next one.
 * A timer added or rescheduled by a callback never fires in the same round, even with a
 * delay of 0, so a callback that re-arms itself cannot starve the fds. ev_free() must not be
 * called from a callback.
 */
#ifndef VIRGIL_EV_H
#define VIRGIL_EV_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include "../base/compat.h"

struct ev;

/* revents: what poll() reported, limited to the events asked for plus POLLERR, POLLHUP and
 * POLLNVAL, never 0. A callback seeing POLLNVAL (fd closed while registered) must remove the
 * fd, or the loop spins on it. */
typedef void ev_fd_fn(struct ev *ev, int fd, unsigned revents, void *ctx);
/* id is the timer's: ev_timer_reschedule(ev, id, …) from inside makes it periodic. */
typedef void ev_timer_fn(struct ev *ev, uint64_t id, void *ctx);
typedef void ev_signal_fn(struct ev *ev, int signo, void *ctx);

/* NULL with errno = ENOMEM. */
struct ev *ev_new(void);
/* Closes the loop's own signalfd; the caller's fds stay open. NULL-safe. Signals handled
 * with ev_signal() stay blocked: unblocking could deliver a pending SIGTERM to its default
 * action, killing the process during an orderly shutdown. */
void ev_free(struct ev *ev);

/* Monotonic milliseconds (CLOCK_MONOTONIC, truncated), the clock timers and backoff use. */
uint64_t ev_now(void);

/*
 * Watch fd for events (POLLIN, POLLOUT, POLLPRI). -EBADF for fd < 0, -EINVAL without cb,
 * -EEXIST when fd is already registered, -ENOMEM. ev_fd_mod: new events (0 pauses the fd
 * but still reports errors and hangups); ev_fd_del: forget fd (the caller closes it). Both
 * -ENOENT for an fd not registered. Cost: O(number of fds), which the agent keeps small.
 */
int ev_fd_add(struct ev *ev, int fd, unsigned events, ev_fd_fn *cb, void *ctx) __must_check;
int ev_fd_mod(struct ev *ev, int fd, unsigned events) __must_check;
int ev_fd_del(struct ev *ev, int fd) __must_check;

/*
 * One-shot timer delay_ms from now, never earlier (the deadline is rounded up to the next
 * millisecond). Timers fire in deadline order; equal deadlines in the order they were
 * added or rescheduled. *id (never 0) names it until it has fired or been cancelled; an id
 * that no longer names a timer is safe to pass and gives -ENOENT. O(log n) each.
 * ev_timer_reschedule: a new deadline delay_ms from now for a pending timer, or for the
 * firing timer from inside its own callback (which then fires again).
 */
int ev_timer_add(struct ev *ev, uint64_t delay_ms, ev_timer_fn *cb, void *ctx,
		 uint64_t *id) __must_check;
int ev_timer_cancel(struct ev *ev, uint64_t id);
int ev_timer_reschedule(struct ev *ev, uint64_t id, uint64_t delay_ms);
bool ev_timer_pending(const struct ev *ev, uint64_t id);

/*
 * Handle signo (SIGINT, SIGTERM, SIGHUP, …) in the loop: blocks it for the process (this is
 * a single-threaded program; a child must unblock it before exec) and adds it to the loop's
 * signalfd. Replaces an earlier callback; cb NULL drops the callback, and the signal, still
 * blocked, is then read and discarded. Several deliveries before the loop reads them may
 * merge into one callback, as with any pending standard signal. -EINVAL for SIGKILL, SIGSTOP
 * or a number out of range; -errno from sigprocmask/signalfd.
 */
int ev_signal(struct ev *ev, int signo, ev_signal_fn *cb, void *ctx) __must_check;

/*
 * Dispatch until ev_stop(), which takes effect when the running callback returns. Returns 0
 * after ev_stop() or when nothing is left to wait for (no fd, no timer), or -errno when
 * poll() fails for a reason other than EINTR. Can be called again afterwards.
 */
int ev_run(struct ev *ev) __must_check;
void ev_stop(struct ev *ev);

#endif
