// SPDX-License-Identifier: MIT
/*
 * lab_cmd.c: the commands of `virgil lab` (lab.h), each one a sequence of the steps in
 * lab_state/net/obj/pod.c under the lab's lock. `up` checks everything it can before making
 * anything (manifests, node names, a free state dir and namespace prefix), records each thing
 * in lab.json before making it, and on any failure takes down what it made. `down` takes
 * apart whatever lab.json records, in reverse: pods (CNI DEL, server, namespace), agents,
 * nodes, the wire, the state dir.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/log.h"
#include "../base/mem.h"
#include "../codec/json.h"
#include "../io/netns.h"
#include "lab_int.h"

/* ---- checks before anything is made ------------------------------------------------------ */

static int check_nodes(const struct lab_objs *o, unsigned nnodes, struct ebuf *eb)
{
	size_t i;

	for (i = 0; i < o->n; i++) {
		const char *want = lab_obj_node(&o->v[i]);
		unsigned k;

		if (!*want)
			continue;
		if (want[0] == 'n' && sscanf(want + 1, "%u", &k) == 1 && k >= 1 && k <= nnodes) {
			char back[16];

			snprintf(back, sizeof(back), "n%u", k);
			if (!strcmp(back, want))
				continue;
		}
		ebuf_set(eb, "%s: pod %s/%s: spec.nodeName \"%.32s\" is not a node of this lab "
			 "(n1..n%u)", o->v[i].where, o->v[i].ns, o->v[i].name, want, nnodes);
		return -EINVAL;
	}
	return 0;
}

/* The state dir holds nothing but the lock: a lab may be made there. */
static int check_dir_free(struct lab *l, struct ebuf *eb)
{
	struct dirent *d;
	DIR *dir = opendir(l->dir);
	char p[PATH_MAX];
	struct stat st;
	int r = 0;

	if (!lab_path(l, p, sizeof(p), "lab.json") && stat(p, &st) == 0) {
		ebuf_set(eb, "a lab is already up in %s (virgil lab down first)", l->dir);
		r = -EEXIST;
	}
	while (!r && dir && (d = readdir(dir)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..") &&
		    strcmp(d->d_name, "lock")) {
			ebuf_set(eb, "%s is not empty and holds no lab (choose another "
				 "VIRGIL_LAB_DIR)", l->dir);
			r = -EEXIST;
		}
	if (dir)
		closedir(dir);
	return r;
}

/* No namespace carries the lab's prefix yet: down must only ever delete its own. */
static int check_prefix_free(struct lab *l, struct ebuf *eb)
{
	struct dirent *d;
	DIR *dir = opendir(NETNS_RUN_DIR);
	size_t n = strlen(l->name);
	int r = 0;

	while (!r && dir && (d = readdir(dir)))
		if (!strncmp(d->d_name, l->name, n) && d->d_name[n] == '-') {
			ebuf_set(eb, "network namespace %s exists (another lab named %s? set "
				 "VIRGIL_LAB_NAME)", d->d_name, l->name);
			r = -EEXIST;
		}
	if (dir)
		closedir(dir);
	return r;
}

static int load_manifests(struct lab_objs *o, const char *path, struct ebuf *eb)
{
	struct buf b = BUF_INIT;
	struct stat st;
	int r;

	if (!path) {
		r = lab_scenario(&b);
		if (!r)
			r = lab_objs_text(o, b.p, b.len, "the default scenario", eb);
		buf_free(&b);
		return r;
	}
	if (stat(path, &st) < 0) {
		ebuf_set(eb, "%s: %s", path, strerror(errno));
		return -errno;
	}
	return S_ISDIR(st.st_mode) ? lab_objs_dir(o, path, eb) : lab_objs_file(o, path, eb);
}

/* ---- objects ----------------------------------------------------------------------------- */

static int ensure_ns(struct lab *l, const char *ns, struct ebuf *eb)
{
	int r;

	if (lab_key_has(l->nss, l->nnss, "", ns))
		return 0;
	r = lab_ns_write(l, ns, eb);
	if (!r && (r = lab_key_add(&l->nss, &l->nnss, &l->capnss, "", ns)))
		ebuf_set(eb, "out of memory");
	return r;
}

/* Namespaces (given, then implied), policies: written and recorded. */
static int put_static(struct lab *l, const struct lab_objs *o, struct ebuf *eb)
{
	size_t i;
	int r = 0;

	for (i = 0; i < o->n && !r; i++)
		if (o->v[i].kind == K8SOBJ_NAMESPACE) {
			r = lab_obj_write(l, &o->v[i], NULL, eb);
			if (!r && (r = lab_key_add(&l->nss, &l->nnss, &l->capnss, "",
						   o->v[i].name)))
				ebuf_set(eb, "out of memory");
		}
	for (i = 0; i < o->n && !r; i++) {
		const struct lab_obj *ob = &o->v[i];

		if (ob->kind == K8SOBJ_NAMESPACE)
			continue;
		r = ensure_ns(l, ob->ns, eb);
		if (!r && ob->kind == K8SOBJ_NETPOL)
			r = lab_obj_write(l, ob, NULL, eb);
		if (!r && ob->kind == K8SOBJ_NETPOL &&
		    (r = lab_key_add(&l->pols, &l->npols, &l->cappols, ob->ns, ob->name)))
			ebuf_set(eb, "out of memory");
	}
	return r ? r : lab_save(l, eb);
}

/* The pod objects of o that need making (all of them for up). */
static int pods_of(const struct lab_objs *o, const struct lab_obj ***out, size_t *n)
{
	size_t i;

	*n = 0;
	*out = mem_calloc(o->n ? o->n : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < o->n; i++)
		if (o->v[i].kind == K8SOBJ_POD)
			(*out)[(*n)++] = &o->v[i];
	return 0;
}

/* ---- up and down ------------------------------------------------------------------------- */

static int teardown(struct lab *l, struct ebuf *eb)
{
	char wire[LAB_NETNS_MAX];
	struct ebuf e = { "" };
	unsigned i;
	int r = 0, d;

	while (l->npods)
		lab_pod_destroy(l, &l->pods[l->npods - 1]);
	for (i = 0; i < l->nnodes; i++) {
		lab_proc_stop(&l->nodes[i].agent, 5000);
		lab_netns_kill(l->nodes[i].netns);
		d = netns_delete(l->nodes[i].netns, &e);
		if (d && d != -ENOENT && !r) {
			r = d;
			*eb = e;
		}
	}
	snprintf(wire, sizeof(wire), "%s-wire", l->name);
	if (l->wire) {
		lab_netns_kill(wire);
		d = netns_delete(wire, &e);
		if (d && d != -ENOENT && !r) {
			r = d;
			*eb = e;
		}
	}
	return r;
}

static int build(struct lab *l, const struct lab_objs *o, struct ebuf *eb)
{
	const struct lab_obj **pods = NULL;
	char p[PATH_MAX];
	size_t npods = 0;
	unsigned i;
	int r;

	r = lab_save(l, eb);
	if (!r && !(r = lab_path(l, p, sizeof(p), "api")) && mkdir(p, 0755) < 0)
		r = -errno;
	if (!r && !(r = lab_path(l, p, sizeof(p), "pods")) && mkdir(p, 0755) < 0)
		r = -errno;
	if (r && ebuf_empty(eb))
		ebuf_set(eb, "cannot create %s: %s", p, strerror(-r));
	if (!r)
		r = lab_wire_make(l, eb);
	for (i = 0; i < l->nnodes && !r; i++)
		r = lab_node_make(l, &l->nodes[i], eb);
	for (i = 0; i < l->nnodes && !r; i++)
		r = lab_node_write(l, &l->nodes[i], eb);
	if (!r)
		r = put_static(l, o, eb);
	for (i = 0; i < l->nnodes && !r; i++)
		r = lab_agent_start(l, &l->nodes[i], eb);
	if (!r)
		r = lab_agents_ready(l, eb);
	if (!r)
		r = lab_publish(l, eb);
	if (!r && (r = pods_of(o, &pods, &npods)))
		ebuf_set(eb, "out of memory");
	if (!r)
		r = lab_pods_create(l, pods, npods, eb);
	mem_free(pods);
	return r;
}

int lab_begin(struct lab *l, const struct lab_opts *o, bool exclusive, struct ebuf *eb)
{
	int r = lab_init(l, o, eb);

	if (!r)
		r = lab_lock(l, exclusive, false, eb);
	if (!r)
		r = lab_load(l, eb);
	return r;
}

int lab_up(const struct lab_opts *o, unsigned nodes, const char *manifests, struct ebuf *eb)
{
	struct lab_objs objs = { 0 };
	struct ebuf e2 = { "" };
	bool existed = false;
	struct stat st;
	struct lab l;
	unsigned i;
	int r;

	if (nodes < 1 || nodes > LAB_MAX_NODES) {
		ebuf_set(eb, "--nodes %u: want 1 to %d", nodes, LAB_MAX_NODES);
		return -EINVAL;
	}
	r = lab_init(&l, o, eb);
	if (!r)
		r = load_manifests(&objs, manifests, eb);
	if (!r)
		r = check_nodes(&objs, nodes, eb);
	existed = !r && stat(l.dir, &st) == 0;
	if (!r)
		r = lab_lock(&l, true, true, eb);
	if (!r)
		r = check_dir_free(&l, eb);
	if (!r)
		r = check_prefix_free(&l, eb);
	if (r) {
		/* a state dir made just now for the lock goes again */
		if (l.lockfd >= 0 && !existed && lab_remove_dir(&l, &e2))
			log_warnx("%s", e2.msg);
		goto out;
	}
	l.nnodes = nodes;
	for (i = 0; i < nodes; i++) {
		l.nodes[i].idx = i + 1;
		snprintf(l.nodes[i].name, sizeof(l.nodes[i].name), "n%u", i + 1);
		snprintf(l.nodes[i].netns, sizeof(l.nodes[i].netns), "%s-n%u", l.name, i + 1);
	}
	r = build(&l, &objs, eb);
	if (r) {
		/* keep the first cause; the state dir stays only if taking down failed */
		if (!teardown(&l, &e2) && lab_remove_dir(&l, &e2))
			log_warnx("%s", e2.msg);
		else if (!ebuf_empty(&e2))
			log_warnx("could not take everything down: %s", e2.msg);
	}
out:
	lab_objs_free(&objs);
	lab_release(&l);
	return r;
}

int lab_down(const struct lab_opts *o, bool *was_up, struct ebuf *eb)
{
	struct lab l;
	int r;

	*was_up = false;
	r = lab_init(&l, o, eb);
	if (!r)
		r = lab_lock(&l, true, false, eb);
	if (!r)
		r = lab_load(&l, eb);
	if (r == -ENOENT) {
		/* nothing up; a state dir holding only the lock goes too */
		ebuf_clear(eb);
		r = l.lockfd >= 0 && check_dir_free(&l, eb) == 0 ? lab_remove_dir(&l, eb) : 0;
		ebuf_clear(eb);
		r = 0;
	} else if (!r) {
		*was_up = true;
		r = teardown(&l, eb);
		if (r)
			(void)!lab_save(&l, NULL);	/* what is left, for the next try */
		else
			r = lab_remove_dir(&l, eb);
	}
	lab_release(&l);
	return r;
}

/* ---- apply and delete -------------------------------------------------------------------- */

static bool obj_exists(struct lab *l, const struct lab_obj *ob)
{
	if (ob->kind == K8SOBJ_NAMESPACE)
		return lab_key_has(l->nss, l->nnss, "", ob->name);
	if (ob->kind == K8SOBJ_NETPOL)
		return lab_key_has(l->pols, l->npols, ob->ns, ob->name);
	return lab_pod_find(l, ob->ns, ob->name) != NULL;
}

static int delete_pod(struct lab *l, struct lab_pod *p, struct ebuf *eb)
{
	char ns[LAB_NS_MAX + 1], name[LAB_NAME_MAX + 1];

	snprintf(ns, sizeof(ns), "%s", p->ns);
	snprintf(name, sizeof(name), "%s", p->name);
	lab_pod_destroy(l, p);
	return lab_api_remove(l, K8SOBJ_POD, ns, name, eb);
}

static int delete_pol(struct lab *l, const char *ns, const char *name, struct ebuf *eb)
{
	lab_key_drop(l->pols, &l->npols, ns, name);
	return lab_api_remove(l, K8SOBJ_NETPOL, ns, name, eb);
}

/* A namespace takes its pods and policies with it, as in a cluster. */
static int delete_ns(struct lab *l, const char *ns, struct ebuf *eb)
{
	char name[LAB_NS_MAX + 1];
	size_t i;
	int r = 0;

	snprintf(name, sizeof(name), "%s", ns);
	for (i = l->npods; i-- > 0 && !r;)
		if (!strcmp(l->pods[i].ns, name))
			r = delete_pod(l, &l->pods[i], eb);
	for (i = l->npols; i-- > 0 && !r;)
		if (!strcmp(l->pols[i].ns, name))
			r = delete_pol(l, name, l->pols[i].name, eb);
	lab_key_drop(l->nss, &l->nnss, "", name);
	return r ? r : lab_api_remove(l, K8SOBJ_NAMESPACE, "", name, eb);
}

static int do_delete(struct lab *l, const struct lab_objs *o, struct ebuf *eb)
{
	size_t i;
	int r = 0;

	for (i = 0; i < o->n; i++)
		if (!obj_exists(l, &o->v[i])) {
			ebuf_set(eb, "%s: %s %s%s%s is not in this lab", o->v[i].where,
				 k8sobj_kind_name(o->v[i].kind), o->v[i].ns, *o->v[i].ns ? "/" : "",
				 o->v[i].name);
			return -ENOENT;
		}
	for (i = 0; i < o->n && !r; i++) {
		const struct lab_obj *ob = &o->v[i];
		struct lab_pod *p = lab_pod_find(l, ob->ns, ob->name);

		if (ob->kind == K8SOBJ_POD && p)
			r = delete_pod(l, p, eb);
		else if (ob->kind == K8SOBJ_NETPOL)
			r = delete_pol(l, ob->ns, ob->name, eb);
		else if (ob->kind == K8SOBJ_NAMESPACE)
			r = delete_ns(l, ob->name, eb);
	}
	return r ? r : lab_publish(l, eb);
}

/* A pod whose node or ports change is made again; other changes (labels) are a rewrite. */
static bool must_remake(const struct lab_obj *ob, const struct lab_pod *p)
{
	uint16_t ports[LAB_MAX_PORTS];
	unsigned n;
	const char *want = lab_obj_node(ob);

	if (*want && strcmp(want, p->node))
		return true;
	if (lab_obj_ports(ob, ports, &n, NULL))
		return true;
	return n != p->nports || memcmp(ports, p->ports, n * sizeof(*ports)) != 0;
}

static int do_apply(struct lab *l, const struct lab_objs *o, struct ebuf *eb)
{
	const struct lab_obj **make = NULL;
	size_t i, nmake = 0;
	int r;

	r = check_nodes(o, l->nnodes, eb);
	if (!r)
		r = put_static(l, o, eb);
	if (!r && !(make = mem_calloc(o->n ? o->n : 1, sizeof(*make))))
		r = -ENOMEM;
	for (i = 0; i < o->n && !r; i++) {
		const struct lab_obj *ob = &o->v[i];
		struct lab_pod *p = lab_pod_find(l, ob->ns, ob->name);

		bool remake;

		if (ob->kind != K8SOBJ_POD)
			continue;
		remake = !p || must_remake(ob, p);
		if (p && remake)
			lab_pod_destroy(l, p);
		else if (p)
			r = lab_obj_write(l, ob, p, eb);
		if (remake)
			make[nmake++] = ob;
	}
	if (!r)
		r = lab_publish(l, eb);
	if (!r && nmake)
		r = lab_pods_create(l, make, nmake, eb);
	mem_free(make);
	return r;
}

int lab_apply(const struct lab_opts *o, char *const *files, size_t n, bool del,
	      struct ebuf *eb)
{
	struct lab_objs objs = { 0 };
	bool loaded = false;
	struct lab l;
	size_t i;
	int r;


	r = lab_init(&l, o, eb);
	for (i = 0; i < n && !r; i++)
		r = lab_objs_file(&objs, files[i], eb);
	if (!r)
		r = lab_lock(&l, true, false, eb);
	if (!r)
		loaded = !(r = lab_load(&l, eb));
	if (!r)
		r = del ? do_delete(&l, &objs, eb) : do_apply(&l, &objs, eb);
	/* whatever happened half-way is what down must find */
	if (loaded && r && lab_save(&l, NULL))
		log_warnx("cannot record the lab's state");
	lab_objs_free(&objs);
	lab_release(&l);
	return r;
}
