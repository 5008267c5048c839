// SPDX-License-Identifier: MIT
/*
 * localsrc.c: the agent's object source without an API server (localsrc.h). A folder of JSON
 * files, each holding one object or a List, is mirrored into the agent's caches. Every file
 * remembers the keys (kind, namespace, name) it contributed, so a file that is rewritten or
 * removed deletes exactly the objects it no longer holds; a key that two files hold stays
 * until both have let it go, and the survivor is decoded again so its version wins.
 *
 * Events of one poll wake-up are handled as one burst: the files they name are decoded
 * again, then DIR/.generation is read, then `changed` runs once per kind that changed. A file
 * that cannot be read or applied for a passing reason (memory, I/O) stays pending and is
 * retried on a timer; until then the generation does not advance, since the writer's promise
 * ("everything before this number is in place") would not hold.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "../base/err.h"
#include "../base/log.h"
#include "../base/mem.h"
#include "../base/util.h"
#include "../core/cache.h"
#include "../io/ev.h"
#include "localsrc.h"
#include "localsrc_int.h"

#define RETRY_MS 100
#define GEN_FILE ".generation"
#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR)

/* One object a file contributed; one allocation, ns and name stored after the struct. */
struct srckey {
	const char *name;
	uint8_t kind;
	char ns[];
};

struct srcfile {
	char *name;
	struct srckey **keys;	/* sorted by key_cmp, no duplicates */
	size_t nkeys;
	bool dirty;		/* decode it again in the next burst */
	bool todo;		/* dirty when this round of the burst began */
	bool bad;		/* the last version did not decode (logged once) */
};

struct localsrc {
	struct ev *ev;
	char *dir;
	int ifd;
	struct cache *caches[K8SOBJ_NKINDS];
	const struct localsrc_ops *ops;
	void *ctx;
	struct srcfile *files;	/* sorted by name */
	size_t nfiles, cap;
	uint64_t gen;
	uint64_t timer;		/* the first scan, then retries */
	unsigned changed;	/* 1 << kind for each kind changed in this burst */
	bool rescan;		/* list the folder again (start, overflow, failure) */
	bool gen_dirty;
	bool synced;
	bool gone;		/* the folder's watch went away: logged once */
};

/* ---- keys ------------------------------------------------------------------------------ */

static struct srckey *key_new(const struct k8sobj *o)
{
	size_t ns = strlen(o->ns) + 1, name = strlen(o->name) + 1;
	struct srckey *k = mem_alloc(sizeof(*k) + ns + name);

	if (!k)
		return NULL;
	k->kind = o->kind;
	memcpy(k->ns, o->ns, ns);
	memcpy(k->ns + ns, o->name, name);
	k->name = k->ns + ns;
	return k;
}

static int key_cmp3(const struct srckey *a, const struct srckey *b)
{
	int c = (int)a->kind - (int)b->kind;

	if (!c)
		c = strcmp(a->ns, b->ns);
	return c ? c : strcmp(a->name, b->name);
}

static int key_cmp(const void *a, const void *b)
{
	return key_cmp3(*(struct srckey *const *)a, *(struct srckey *const *)b);
}

static bool file_holds(const struct srcfile *f, const struct srckey *k)
{
	return f->nkeys && bsearch(&k, f->keys, f->nkeys, sizeof(*f->keys), key_cmp) != NULL;
}

static void keys_free(struct srckey **keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		mem_free(keys[i]);
	mem_free(keys);
}

/* ---- the file table -------------------------------------------------------------------- */

/* Index of name, or where it would go (*found false). */
static size_t file_find(const struct localsrc *s, const char *name, bool *found)
{
	size_t lo = 0, hi = s->nfiles;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, s->files[mid].name);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static struct srcfile *file_get(struct localsrc *s, const char *name)
{
	struct srcfile *f;
	bool found;
	size_t i = file_find(s, name, &found);

	if (found)
		return &s->files[i];
	if (s->nfiles == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;

		f = mem_realloc(s->files, cap * sizeof(*f));
		if (!f)
			return NULL;
		s->files = f;
		s->cap = cap;
	}
	f = &s->files[i];
	memmove(f + 1, f, (s->nfiles - i) * sizeof(*f));
	memset(f, 0, sizeof(*f));
	f->name = mem_strndup(name, strlen(name));
	if (!f->name) {
		memmove(f, f + 1, (s->nfiles - i) * sizeof(*f));
		return NULL;
	}
	s->nfiles++;
	return f;
}

static void file_drop(struct localsrc *s, struct srcfile *f)
{
	size_t i = (size_t)(f - s->files);

	keys_free(f->keys, f->nkeys);
	mem_free(f->name);
	memmove(f, f + 1, (s->nfiles - i - 1) * sizeof(*f));
	s->nfiles--;
}

static bool json_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".json") == 0;
}

/* An event or a scan names a file: remember to look at it in this burst. */
static void mark(struct localsrc *s, const char *name)
{
	struct srcfile *f;

	if (strcmp(name, GEN_FILE) == 0) {
		s->gen_dirty = true;
		return;
	}
	if (!json_name(name))
		return;
	f = file_get(s, name);
	if (f)
		f->dirty = true;
	else
		s->rescan = true;	/* out of memory: the retry's scan finds it again */
}

/* The sorted, duplicate-free keys of o (a key listed twice: the later object wins anyway). */
static int keys_of(const struct localsrc_objs *o, struct srckey ***out, size_t *n)
{
	struct srckey **keys = mem_calloc(o->n ? o->n : 1, sizeof(*keys));
	size_t i, k = 0;

	if (!keys)
		return -ENOMEM;
	for (i = 0; i < o->n; i++) {
		keys[i] = key_new(o->v[i]);
		if (!keys[i]) {
			keys_free(keys, i);
			return -ENOMEM;
		}
	}
	qsort(keys, o->n, sizeof(*keys), key_cmp);
	for (i = 0; i < o->n; i++) {
		if (k && key_cmp3(keys[k - 1], keys[i]) == 0)
			mem_free(keys[i]);
		else
			keys[k++] = keys[i];
	}
	*out = keys;
	*n = k;
	return 0;
}

/* ---- applying -------------------------------------------------------------------------- */

/* Another file that also holds k, if any. */
static struct srcfile *claimant(struct localsrc *s, const struct srcfile *self,
				const struct srckey *k)
{
	size_t i;

	for (i = 0; i < s->nfiles; i++)
		if (&s->files[i] != self && file_holds(&s->files[i], k))
			return &s->files[i];
	return NULL;
}

/* f no longer holds k: delete the object, unless another file still does (it is decoded
 * again, so its version replaces the one f left in the cache). */
static void let_go(struct localsrc *s, struct srcfile *f, const struct srckey *k)
{
	struct srcfile *other = claimant(s, f, k);

	if (other)
		other->dirty = true;
	else if (cache_remove(s->caches[k->kind], k->ns, k->name))
		s->changed |= 1u << k->kind;
}

/* Insert every object (consumed). On failure the rest are freed, and -ENOMEM says the cache
 * holds some of them: the caller keeps both key sets so nothing is orphaned. */
static int upsert_all(struct localsrc *s, struct localsrc_objs *o)
{
	int r = 0;
	size_t i;

	for (i = 0; i < o->n; i++) {
		uint8_t kind = o->v[i]->kind;

		if (!r)
			r = cache_upsert(s->caches[kind], o->v[i]);
		else
			k8sobj_free(o->v[i]);
		o->v[i] = NULL;
		if (!r)
			s->changed |= 1u << kind;
	}
	o->n = 0;
	return r;
}

/*
 * keys (sorted, owned) replace f's keys. Old keys missing from the new set are let go; with
 * keep set (the upsert failed) they are kept instead, merged in, for the retry to settle.
 */
static int replace_keys(struct localsrc *s, struct srcfile *f, struct srckey **keys, size_t n,
			bool keep)
{
	struct srckey **old = f->keys;
	size_t i, nold = f->nkeys, j = 0, m = n;
	struct srckey **merged = keep ? mem_realloc(keys, (n + nold + 1) * sizeof(*keys)) : keys;

	if (!merged) {
		/* cannot even remember: keep the old set, the retry re-adds the new objects */
		keys_free(keys, n);
		return -ENOMEM;
	}
	f->keys = merged;
	f->nkeys = n;
	for (i = 0; i < nold; i++) {
		while (j < n && key_cmp3(merged[j], old[i]) < 0)
			j++;
		if (j < n && key_cmp3(merged[j], old[i]) == 0) {
			mem_free(old[i]);
		} else if (keep) {
			merged[m++] = old[i];
		} else {
			let_go(s, f, old[i]);
			mem_free(old[i]);
		}
	}
	mem_free(old);
	f->nkeys = m;
	if (keep)
		qsort(merged, m, sizeof(*merged), key_cmp);
	return 0;
}

/* The file disappeared: every object it held goes (unless another file holds it too). */
static void file_gone(struct localsrc *s, struct srcfile *f)
{
	size_t i;

	for (i = 0; i < f->nkeys; i++)
		let_go(s, f, f->keys[i]);
	file_drop(s, f);
}

/* Decode f again and apply it. 0 done (or bad and kept), 1 gone (f dropped), -errno retry. */
static int apply_file(struct localsrc *s, struct srcfile *f)
{
	struct localsrc_objs o = { 0 };
	struct srckey **keys = NULL;
	struct ebuf eb = { "" };
	char path[PATH_MAX];
	size_t n = 0;
	int r;

	f->dirty = false;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", s->dir, f->name) >= sizeof(path))
		r = -ENAMETOOLONG;
	else
		r = localsrc_read(path, s->caches, &o, &eb);
	if (r == -ENOENT) {
		file_gone(s, f);
		return 1;
	}
	if (r == -EINVAL || r == -E2BIG || r == -EFBIG || r == -ENAMETOOLONG) {
		if (!f->bad)
			log_warnx("local source: %s/%s: %s; keeping its previous objects", s->dir,
				  f->name, eb.msg[0] ? eb.msg : strerror(-r));
		f->bad = true;
		return 0;
	}
	if (!r)
		r = keys_of(&o, &keys, &n);
	if (r) {
		localsrc_objs_clear(&o);
		f->dirty = true;
		return r;
	}
	if (f->bad)
		log_info("local source: %s/%s decodes again", s->dir, f->name);
	f->bad = false;
	r = upsert_all(s, &o);
	localsrc_objs_clear(&o);
	if (replace_keys(s, f, keys, n, r != 0) || r) {
		f->dirty = true;
		return -ENOMEM;
	}
	return 0;
}

/* ---- bursts ---------------------------------------------------------------------------- */

static int scan(struct localsrc *s)
{
	struct dirent *d;
	DIR *dir = opendir(s->dir);
	size_t i;

	if (!dir)
		return -errno;
	for (i = 0; i < s->nfiles; i++)
		s->files[i].dirty = true;	/* whatever is not listed is gone */
	s->rescan = false;
	s->gen_dirty = true;
	while ((d = readdir(dir)))
		mark(s, d->d_name);
	closedir(dir);
	return s->rescan ? -ENOMEM : 0;
}

static int read_generation(struct localsrc *s, uint64_t *gen)
{
	char path[PATH_MAX], text[32];
	size_t n = 0;
	int fd, r;

	snprintf(path, sizeof(path), "%s/" GEN_FILE, s->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read_full(fd, text, sizeof(text), &n);
	close(fd);
	if (r)
		return r;
	while (n && (text[n - 1] == '\n' || text[n - 1] == ' ' || text[n - 1] == '\r'))
		n--;
	return parse_u64(text, n, UINT64_MAX, gen);
}

static void retry_later(struct localsrc *s);

/*
 * Apply the dirty files, in rounds: letting go of a shared key marks its other holder, which
 * the next round decodes again. true when something is left for a retry.
 */
static bool apply_pending(struct localsrc *s)
{
	bool failed = false, any = true;
	size_t i;
	int round;

	for (round = 0; any && round < 8; round++) {
		any = false;
		for (i = 0; i < s->nfiles; i++) {
			any |= s->files[i].dirty;
			s->files[i].todo = s->files[i].dirty;
		}
		for (i = 0; i < s->nfiles; i++) {
			int r;

			if (!s->files[i].todo)
				continue;
			s->files[i].todo = false;
			r = apply_file(s, &s->files[i]);
			if (r == 1)
				i--;	/* dropped: the next file moved into slot i */
			else if (r < 0)
				failed = true;
		}
		if (failed)
			return true;
	}
	return any;
}

/* One burst: the folder if it must be listed again, the files, then the generation.
 * true when something is left for a retry. */
static bool burst(struct localsrc *s)
{
	uint64_t gen;
	int r;

	if (s->rescan && (r = scan(s))) {
		if (r != -ENOENT)
			return true;
		if (!s->gone)
			log_warnx("local source: %s: %s", s->dir, strerror(-r));
		s->gone = true;
		s->rescan = false;
	}
	if (apply_pending(s))
		return true;
	if (s->gen_dirty) {
		s->gen_dirty = false;
		if (read_generation(s, &gen) == 0 && gen != s->gen) {
			s->gen = gen;
			/* nothing else changed: a kind-less kick so the agent reports the number */
			if (!s->changed)
				s->changed = 1u << K8SOBJ_OTHER;
		}
	}
	return false;
}

/* A burst, then the callbacks: synced once the first one is complete, else changed. */
static void run(struct localsrc *s)
{
	bool pending = burst(s);
	int k;

	if (pending)
		retry_later(s);
	if (!s->synced) {
		if (pending)
			return;
		s->synced = true;
		s->changed = 0;
		if (s->ops->synced)
			s->ops->synced(s->ctx);
		return;
	}
	for (k = 0; k < K8SOBJ_NKINDS; k++)
		if (s->changed & (1u << k) && s->ops->changed)
			s->ops->changed(s->ctx, k);
	s->changed = 0;
}

static void on_timer(struct ev *ev, uint64_t id, void *ctx)
{
	struct localsrc *s = ctx;

	s->timer = 0;
	run(s);
}

static void retry_later(struct localsrc *s)
{
	if (!s->timer && ev_timer_add(s->ev, RETRY_MS, on_timer, s, &s->timer))
		s->timer = 0;	/* the next event retries instead */
}

/* An fd that is not registered (any more) is what we want. */
static void fd_forget(struct ev *ev, int fd)
{
	if (ev_fd_del(ev, fd))
		return;
}

static void on_event(struct localsrc *s, const struct inotify_event *e)
{
	if (e->mask & IN_Q_OVERFLOW) {
		s->rescan = true;
	} else if (e->mask & IN_IGNORED) {
		if (!s->gone)
			log_warnx("local source: %s went away; keeping the objects", s->dir);
		s->gone = true;
	} else if (e->len && !(e->mask & IN_ISDIR)) {
		mark(s, e->name);
	}
}

static void on_inotify(struct ev *ev, int fd, unsigned revents, void *ctx)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct localsrc *s = ctx;
	const struct inotify_event *e;
	ssize_t n;
	char *p;

	if (revents & (POLLERR | POLLNVAL)) {
		fd_forget(ev, fd);
		return;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n; p += sizeof(*e) + e->len) {
			e = (const struct inotify_event *)(void *)p;
			on_event(s, e);
		}
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		s->rescan = true;
	/* a pending first scan or retry covers whatever happened meanwhile */
	if (!s->timer)
		run(s);
}

/* ---- life cycle ------------------------------------------------------------------------ */

int localsrc_new(struct ev *ev, const char *dir, struct cache *const caches[K8SOBJ_NKINDS],
		 const struct localsrc_ops *ops, void *ctx, struct localsrc **out,
		 struct ebuf *eb)
{
	struct localsrc *s = mem_calloc(1, sizeof(*s));
	int r = -ENOMEM;

	*out = NULL;
	if (!s)
		goto fail;
	s->ifd = -1;
	s->dir = mem_strndup(dir, strlen(dir));
	if (!s->dir)
		goto fail;
	s->ev = ev;
	s->ops = ops;
	s->ctx = ctx;
	s->rescan = true;
	memcpy(s->caches, caches, sizeof(s->caches));
	s->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->ifd < 0) {
		r = -errno;
		ebuf_set(eb, "inotify: %s (see fs.inotify.max_user_instances)", strerror(-r));
		goto fail;
	}
	if (inotify_add_watch(s->ifd, dir, WATCH_MASK) < 0) {
		r = -errno;
		ebuf_set(eb, "watching %s: %s", dir, strerror(-r));
		goto fail;
	}
	if ((r = ev_fd_add(ev, s->ifd, POLLIN, on_inotify, s)))
		goto fail;
	if ((r = ev_timer_add(ev, 0, on_timer, s, &s->timer))) {
		fd_forget(ev, s->ifd);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (r == -ENOMEM)
		ebuf_setdef(eb, "out of memory");
	localsrc_free(s);
	return r;
}

void localsrc_free(struct localsrc *s)
{
	size_t i;

	if (!s)
		return;
	if (s->timer)
		ev_timer_cancel(s->ev, s->timer);
	if (s->ifd >= 0) {
		fd_forget(s->ev, s->ifd);
		close(s->ifd);
	}
	for (i = 0; i < s->nfiles; i++) {
		keys_free(s->files[i].keys, s->files[i].nkeys);
		mem_free(s->files[i].name);
	}
	mem_free(s->files);
	mem_free(s->dir);
	mem_free(s);
}

uint64_t localsrc_generation(const struct localsrc *s)
{
	return s->gen;
}
