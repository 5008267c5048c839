// SPDX-License-Identifier: MIT
/*
 * lab_state.c: a lab's state dir, its lock and lab.json (see lab_int.h). lab.json is the one
 * record of what the lab made (namespaces, processes, pods, counters); it is rewritten
 * atomically after every step, so `down` can take apart whatever an interrupted `up` left.
 * The lock is an flock on <dir>/lock held for a command's whole run.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/mem.h"
#include "../base/util.h"
#include "../codec/json.h"
#include "../io/atomic.h"
#include "lab_int.h"

#define LOCK_WAIT_MS 60000
#define STATE_MAX (4u << 20)

static const char *env_or(const char *v, const char *env, const char *def)
{
	const char *e = getenv(env);

	return v ? v : e && *e ? e : def;
}

static bool prefix_ok(const char *s)
{
	size_t i, n = strlen(s);

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return n >= 1 && n <= 6;
}

int lab_init(struct lab *l, const struct lab_opts *o, struct ebuf *eb)
{
	const char *dir = env_or(o->dir, "VIRGIL_LAB_DIR", LAB_DEFAULT_DIR);
	const char *name = env_or(o->name, "VIRGIL_LAB_NAME", LAB_DEFAULT_NAME);
	char cwd[PATH_MAX], *slash;
	ssize_t n;

	memset(l, 0, sizeof(*l));
	l->opts = o;
	l->lockfd = -1;
	l->next_pod = 1;
	if (!prefix_ok(name)) {
		ebuf_set(eb, "VIRGIL_LAB_NAME \"%.16s\": want 1 to 6 of [a-z0-9]", name);
		return -EINVAL;
	}
	snprintf(l->name, sizeof(l->name), "%s", name);
	if (dir[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		cwd[0] = '\0';
	if (!*dir || (size_t)snprintf(l->dir, sizeof(l->dir), "%s%s%s", dir[0] == '/' ? "" : cwd,
				      dir[0] == '/' ? "" : "/", dir) >= sizeof(l->dir)) {
		ebuf_set(eb, "VIRGIL_LAB_DIR \"%.64s\": empty or too long", dir);
		return -EINVAL;
	}
	while (strlen(l->dir) > 1 && l->dir[strlen(l->dir) - 1] == '/')
		l->dir[strlen(l->dir) - 1] = '\0';
	n = readlink("/proc/self/exe", l->bindir, sizeof(l->bindir) - 1);
	if (n < 0) {
		ebuf_set(eb, "cannot find this program (/proc/self/exe): %s", strerror(errno));
		return -errno;
	}
	l->bindir[n] = '\0';
	slash = strrchr(l->bindir, '/');
	if (slash)
		*(slash == l->bindir ? slash + 1 : slash) = '\0';
	return 0;
}

void lab_release(struct lab *l)
{
	if (l->lockfd >= 0)
		close(l->lockfd);
	l->lockfd = -1;
	mem_free(l->pods);
	mem_free(l->nss);
	mem_free(l->pols);
	l->pods = NULL;
	l->nss = l->pols = NULL;
	l->npods = l->nnss = l->npols = 0;
}

int lab_path(const struct lab *l, char *p, size_t n, const char *fmt, ...)
{
	va_list ap;
	size_t d = strlen(l->dir);
	int k;

	if (d + 1 >= n)
		return -ENAMETOOLONG;
	memcpy(p, l->dir, d);
	p[d] = '/';
	va_start(ap, fmt);
	k = vsnprintf(p + d + 1, n - d - 1, fmt, ap);
	va_end(ap);
	return k < 0 || (size_t)k >= n - d - 1 ? -ENAMETOOLONG : 0;
}

bool lab_stopped(const struct lab *l)
{
	return l->opts && l->opts->stop && *l->opts->stop;
}

/* mkdir -p */
static int make_dirs(const char *dir)
{
	char p[PATH_MAX];
	size_t i;

	snprintf(p, sizeof(p), "%s", dir);
	for (i = 1; p[i]; i++) {
		if (p[i] != '/')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		p[i] = '/';
	}
	return mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

static int lock_once(struct lab *l, bool exclusive, bool create, const char *path)
{
	struct stat st;
	uint64_t t0 = lab_now();
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
	if (fd < 0)
		return -errno;
	while (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK || lab_now() - t0 > LOCK_WAIT_MS || lab_stopped(l)) {
			close(fd);
			return -EWOULDBLOCK;
		}
		lab_sleep(l, 50);
	}
	/* `down` removes the lock file while holding it: a lock on a removed file is none */
	if (fstat(fd, &st) < 0 || st.st_nlink == 0) {
		close(fd);
		return -EAGAIN;
	}
	l->lockfd = fd;
	return 0;
}

int lab_lock(struct lab *l, bool exclusive, bool create, struct ebuf *eb)
{
	char path[PATH_MAX];
	int r, tries = 0;

	if (lab_path(l, path, sizeof(path), "lock"))
		return -ENAMETOOLONG;
	do {
		if (create && (r = make_dirs(l->dir))) {
			ebuf_set(eb, "cannot create %s: %s", l->dir, strerror(-r));
			return r;
		}
		r = lock_once(l, exclusive, create, path);
	} while (r == -EAGAIN && ++tries < 10);
	if (r == -ENOENT || (r == -EAGAIN && !create)) {
		ebuf_set(eb, "no lab is up in %s", l->dir);
		return -ENOENT;
	}
	if (r == -EWOULDBLOCK)
		ebuf_set(eb, "another lab command holds %s (waited %d s)", path,
			 LOCK_WAIT_MS / 1000);
	else if (r)
		ebuf_set(eb, "cannot lock %s: %s", path, strerror(-r));
	return r;
}

static int rm_entry(const char *p, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	return (type == FTW_DP ? rmdir(p) : unlink(p)) < 0 && errno != ENOENT ? -1 : 0;
}

int lab_remove_dir(struct lab *l, struct ebuf *eb)
{
	static const char *const trees[] = { "api", "nodes", "pods", "lab.json", "lock" };
	char p[PATH_MAX];
	size_t i;

	/* only what the lab made: a state dir pointed at the wrong place loses nothing else */
	for (i = 0; i < ARRAY_SIZE(trees); i++) {
		if (lab_path(l, p, sizeof(p), "%s", trees[i]))
			return -ENAMETOOLONG;
		if (nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT) {
			ebuf_set(eb, "cannot remove %s: %s", p, strerror(errno));
			return -errno;
		}
	}
	if (rmdir(l->dir) < 0 && errno != ENOENT) {
		ebuf_set(eb, "cannot remove %s: %s", l->dir, strerror(errno));
		return -errno;
	}
	return 0;
}

/* ---- the sets ---------------------------------------------------------------------------- */

struct lab_pod *lab_pod_find(struct lab *l, const char *ns, const char *name)
{
	size_t i;

	for (i = 0; i < l->npods; i++)
		if (!strcmp(l->pods[i].ns, ns) && !strcmp(l->pods[i].name, name))
			return &l->pods[i];
	return NULL;
}

struct lab_node *lab_node_find(struct lab *l, const char *name)
{
	unsigned i;

	for (i = 0; i < l->nnodes; i++)
		if (!strcmp(l->nodes[i].name, name))
			return &l->nodes[i];
	return NULL;
}

struct lab_pod *lab_pod_add(struct lab *l)
{
	if (l->npods == l->cappods) {
		size_t cap = l->cappods ? l->cappods * 2 : 16;
		struct lab_pod *v = mem_realloc(l->pods, cap * sizeof(*v));

		if (!v)
			return NULL;
		l->pods = v;
		l->cappods = cap;
	}
	memset(&l->pods[l->npods], 0, sizeof(*l->pods));
	return &l->pods[l->npods++];
}

void lab_pod_drop(struct lab *l, struct lab_pod *p)
{
	size_t i = (size_t)(p - l->pods);

	memmove(p, p + 1, (l->npods - i - 1) * sizeof(*p));
	l->npods--;
}

bool lab_key_has(const struct lab_key *v, size_t n, const char *ns, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i].ns, ns) && !strcmp(v[i].name, name))
			return true;
	return false;
}

int lab_key_add(struct lab_key **v, size_t *n, size_t *cap, const char *ns, const char *name)
{
	if (lab_key_has(*v, *n, ns, name))
		return 0;
	if (strlen(ns) > LAB_NS_MAX || strlen(name) > LAB_NAME_MAX)
		return -EINVAL;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct lab_key *k = mem_realloc(*v, c * sizeof(*k));

		if (!k)
			return -ENOMEM;
		*v = k;
		*cap = c;
	}
	snprintf((*v)[*n].ns, sizeof((*v)[*n].ns), "%s", ns);
	snprintf((*v)[*n].name, sizeof((*v)[*n].name), "%s", name);
	(*n)++;
	return 0;
}

void lab_key_drop(struct lab_key *v, size_t *n, const char *ns, const char *name)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp(v[i].ns, ns) && !strcmp(v[i].name, name)) {
			memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof(*v));
			(*n)--;
			return;
		}
}

/* ---- lab.json ---------------------------------------------------------------------------- */

static void put_proc(struct jw *w, const char *pid, const char *start, const struct lab_proc *p)
{
	jw_key(w, pid);
	jw_i64(w, p->pid);
	jw_ku64(w, start, p->start);
}

static void put_addrs(struct jw *w, const struct ipaddr *ip)
{
	char a[IPADDR_STRLEN];
	int i;

	jw_key(w, "addresses");
	jw_arr_begin(w);
	for (i = 0; i < 2; i++)
		if (ip[i].family && !ipaddr_format(&ip[i], a, sizeof(a)))
			jw_str(w, a);
	jw_arr_end(w);
}

static void put_pod(struct jw *w, const struct lab_pod *p)
{
	unsigned i;

	jw_obj_begin(w);
	jw_kstr(w, "namespace", p->ns);
	jw_kstr(w, "name", p->name);
	jw_kstr(w, "node", p->node);
	jw_kstr(w, "netns", p->netns);
	jw_ku64(w, "id", p->id);
	jw_key(w, "attached");
	jw_bool(w, p->attached);
	put_proc(w, "serverPid", "serverStart", &p->server);
	put_addrs(w, p->ip);
	jw_key(w, "ports");
	jw_arr_begin(w);
	for (i = 0; i < p->nports; i++)
		jw_u64(w, p->ports[i]);
	jw_arr_end(w);
	jw_obj_end(w);
}

static void put_keys(struct jw *w, const char *key, const struct lab_key *v, size_t n)
{
	size_t i;

	jw_key(w, key);
	jw_arr_begin(w);
	for (i = 0; i < n; i++) {
		jw_obj_begin(w);
		jw_kstr(w, "namespace", v[i].ns);
		jw_kstr(w, "name", v[i].name);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void put_state(struct jw *w, const struct lab *l)
{
	size_t i;

	jw_obj_begin(w);
	jw_ku64(w, "version", 1);
	jw_kstr(w, "name", l->name);
	jw_key(w, "wire");
	jw_bool(w, l->wire);
	jw_ku64(w, "generation", l->gen);
	jw_ku64(w, "nextPod", l->next_pod);
	jw_ku64(w, "roundRobin", l->rr);
	jw_key(w, "nodes");
	jw_arr_begin(w);
	for (i = 0; i < l->nnodes; i++) {
		jw_obj_begin(w);
		jw_kstr(w, "name", l->nodes[i].name);
		jw_ku64(w, "index", l->nodes[i].idx);
		jw_kstr(w, "netns", l->nodes[i].netns);
		put_proc(w, "agentPid", "agentStart", &l->nodes[i].agent);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	put_keys(w, "namespaces", l->nss, l->nnss);
	put_keys(w, "policies", l->pols, l->npols);
	jw_key(w, "pods");
	jw_arr_begin(w);
	for (i = 0; i < l->npods; i++)
		put_pod(w, &l->pods[i]);
	jw_arr_end(w);
	jw_obj_end(w);
}

int lab_save(struct lab *l, struct ebuf *eb)
{
	struct buf b = BUF_INIT;
	char path[PATH_MAX];
	struct jw w;
	int r;

	if (lab_path(l, path, sizeof(path), "lab.json"))
		return -ENAMETOOLONG;
	jw_init(&w, &b);
	put_state(&w, l);
	r = jw_finish(&w);
	if (!r)
		r = buf_addc(&b, '\n');
	if (!r)
		r = atomic_write(path, b.p, b.len, 0644);
	buf_free(&b);
	if (r)
		ebuf_set(eb, "cannot write %s: %s", path, strerror(-r));
	return r;
}

/* ---- reading it back ---------------------------------------------------------------------- */

struct rd {
	struct ebuf *eb;
	const char *where;
	int err;
};

static const struct json *rd_get(struct rd *d, const struct json *o, const char *key,
				 enum json_type t)
{
	const struct json *v = json_get(o, key);

	if (!d->err && (!v || v->type != t)) {
		ebuf_set(d->eb, "%s.%s: missing or of the wrong type", d->where, key);
		d->err = -EINVAL;
	}
	return d->err ? NULL : v;
}

static uint64_t rd_u64(struct rd *d, const struct json *o, const char *key, uint64_t max)
{
	const struct json *v = rd_get(d, o, key, JSON_NUMBER);
	uint64_t x = 0;

	if (v && (json_u64(v, &x) || x > max)) {
		ebuf_set(d->eb, "%s.%s: out of range", d->where, key);
		d->err = -EINVAL;
	}
	return d->err ? 0 : x;
}

static void rd_str(struct rd *d, const struct json *o, const char *key, char *dst, size_t n)
{
	const struct json *v = rd_get(d, o, key, JSON_STRING);

	if (v && v->len >= n) {
		ebuf_set(d->eb, "%s.%s: too long", d->where, key);
		d->err = -EINVAL;
	}
	if (!d->err)
		memcpy(dst, v->str, v->len + 1);
}

static void rd_proc(struct rd *d, const struct json *o, const char *pid, const char *start,
		    struct lab_proc *p)
{
	p->pid = (pid_t)rd_u64(d, o, pid, INT32_MAX);
	p->start = rd_u64(d, o, start, UINT64_MAX);
}

static void rd_node(struct rd *d, const struct json *o, struct lab_node *n)
{
	rd_str(d, o, "name", n->name, sizeof(n->name));
	n->idx = (unsigned)rd_u64(d, o, "index", LAB_MAX_NODES);
	rd_str(d, o, "netns", n->netns, sizeof(n->netns));
	rd_proc(d, o, "agentPid", "agentStart", &n->agent);
}

static void rd_pod(struct rd *d, const struct json *o, struct lab_pod *p)
{
	const struct json *a, *v;
	struct ipaddr ip;

	rd_str(d, o, "namespace", p->ns, sizeof(p->ns));
	rd_str(d, o, "name", p->name, sizeof(p->name));
	rd_str(d, o, "node", p->node, sizeof(p->node));
	rd_str(d, o, "netns", p->netns, sizeof(p->netns));
	p->id = (unsigned)rd_u64(d, o, "id", UINT32_MAX);
	p->attached = json_is(json_get(o, "attached"), JSON_TRUE);
	rd_proc(d, o, "serverPid", "serverStart", &p->server);
	a = rd_get(d, o, "addresses", JSON_ARRAY);
	json_for_each(v, a)
		if (json_is(v, JSON_STRING) && !ipaddr_parse(v->str, v->len, &ip))
			p->ip[ip.family == AF_INET ? K8SOBJ_V4 : K8SOBJ_V6] = ip;
	a = rd_get(d, o, "ports", JSON_ARRAY);
	json_for_each(v, a) {
		uint64_t port;

		if (p->nports < LAB_MAX_PORTS && !json_u64(v, &port) && port && port <= 65535)
			p->ports[p->nports++] = (uint16_t)port;
	}
}

static void rd_keys(struct rd *d, struct lab *l, const struct json *root, const char *key,
		    bool pol)
{
	const struct json *a = rd_get(d, root, key, JSON_ARRAY), *v;
	struct lab_key k;

	json_for_each(v, a) {
		rd_str(d, v, "namespace", k.ns, sizeof(k.ns));
		rd_str(d, v, "name", k.name, sizeof(k.name));
		if (!d->err && pol)
			d->err = lab_key_add(&l->pols, &l->npols, &l->cappols, k.ns, k.name);
		else if (!d->err)
			d->err = lab_key_add(&l->nss, &l->nnss, &l->capnss, k.ns, k.name);
	}
}

static void rd_state(struct rd *d, struct lab *l, const struct json *root)
{
	const struct json *a, *v;

	l->wire = json_is(json_get(root, "wire"), JSON_TRUE);
	l->gen = rd_u64(d, root, "generation", UINT64_MAX);
	l->next_pod = (unsigned)rd_u64(d, root, "nextPod", UINT32_MAX);
	l->rr = (unsigned)rd_u64(d, root, "roundRobin", UINT32_MAX);
	a = rd_get(d, root, "nodes", JSON_ARRAY);
	json_for_each(v, a) {
		if (l->nnodes == LAB_MAX_NODES)
			break;
		d->where = "nodes[]";
		rd_node(d, v, &l->nodes[l->nnodes++]);
	}
	d->where = "lab.json";
	rd_keys(d, l, root, "namespaces", false);
	rd_keys(d, l, root, "policies", true);
	a = rd_get(d, root, "pods", JSON_ARRAY);
	json_for_each(v, a) {
		struct lab_pod *p = d->err ? NULL : lab_pod_add(l);

		if (!p && !d->err)
			d->err = -ENOMEM;
		d->where = "pods[]";
		if (p)
			rd_pod(d, v, p);
	}
}

int lab_load(struct lab *l, struct ebuf *eb)
{
	struct json_doc *doc = NULL;
	struct rd d = { .eb = eb, .where = "lab.json" };
	char path[PATH_MAX], *text = NULL;
	size_t len;
	int r;

	if (lab_path(l, path, sizeof(path), "lab.json"))
		return -ENAMETOOLONG;
	r = read_file_alloc(path, STATE_MAX, &text, &len);
	if (r == -ENOENT) {
		ebuf_set(eb, "no lab is up in %s", l->dir);
		return r;
	}
	if (!r)
		r = json_parse(text, len, NULL, &doc, eb);
	mem_free(text);
	if (!r) {
		rd_state(&d, l, json_root(doc));
		r = d.err;
	}
	json_doc_free(doc);
	if (r)
		ebuf_prefix(eb, "%s is damaged (remove the lab's namespaces by hand)", path);
	return r;
}
