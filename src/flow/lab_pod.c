// SPDX-License-Identifier: MIT
/*
 * lab_pod.c: a lab's pods (see lab_int.h). A pod is a network namespace attached by the real
 * CNI plugin, run in its node's namespace exactly as a container runtime runs it (the CNI_*
 * environment, the network config on stdin built from the agent's conflist, the result on
 * stdout), and a server (`virgil lab serve`) answering on its containerPorts. Pods are made
 * in two published steps: first their api files (Pending, on their node), so every agent
 * knows them when the plugin asks for their policy; then, attached, with their addresses.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../base/buf.h"
#include "../base/err.h"
#include "../base/log.h"
#include "../base/mem.h"
#include "../base/util.h"
#include "../codec/json.h"
#include "../io/atomic.h"
#include "../io/netns.h"
#include "lab_int.h"

int lab_pod_place(struct lab *l, const struct lab_obj *o, char node[8], struct ebuf *eb)
{
	const char *want = lab_obj_node(o);

	if (!*want) {
		snprintf(node, 8, "%s", l->nodes[l->rr++ % l->nnodes].name);
		return 0;
	}
	if (!lab_node_find(l, want)) {
		ebuf_set(eb, "%s: pod %s/%s: spec.nodeName \"%.32s\" is not a node of this lab "
			 "(n1..n%u)", o->where, o->ns, o->name, want, l->nnodes);
		return -EINVAL;
	}
	snprintf(node, 8, "%s", want);
	return 0;
}

/* ---- the CNI plugin ----------------------------------------------------------------------- */

/* The network config a runtime passes: the list's cniVersion and name, plugins[0]'s members,
 * and for DEL the ADD result as prevResult. */
static int net_conf(struct lab *l, const struct lab_pod *p, const char *prev, struct buf *out,
		    struct ebuf *eb)
{
	const struct json *root, *plug, *m;
	struct json_doc *doc = NULL, *pdoc = NULL;
	struct buf text = BUF_INIT;
	char path[PATH_MAX];
	struct jw w;
	int r;

	r = lab_path(l, path, sizeof(path), "nodes/%s/cni/10-virgil.conflist", p->node);
	if (!r && (r = read_file(path, &text, 1u << 20)))
		ebuf_set(eb, "%s: %s", path, strerror(-r));
	if (!r)
		r = json_parse(text.p, text.len, NULL, &doc, eb);
	if (!r && prev)
		r = json_parse(prev, strlen(prev), NULL, &pdoc, eb);
	buf_free(&text);
	root = doc ? json_root(doc) : NULL;
	plug = json_at(json_get(root, "plugins"), 0);
	if (!r && (!json_is(plug, JSON_OBJECT) || !json_get(root, "name"))) {
		ebuf_set(eb, "%s: no name or plugins[0]", path);
		r = -EINVAL;
	}
	if (!r) {
		jw_init(&w, out);
		jw_obj_begin(&w);
		jw_key(&w, "cniVersion");
		jw_value(&w, json_get(root, "cniVersion"));
		jw_key(&w, "name");
		jw_value(&w, json_get(root, "name"));
		json_for_each(m, plug)
			if (strcmp(m->key, "cniVersion") && strcmp(m->key, "name")) {
				jw_key(&w, m->key);
				jw_value(&w, m);
			}
		if (pdoc) {
			jw_key(&w, "prevResult");
			jw_value(&w, json_root(pdoc));
		}
		jw_obj_end(&w);
		r = jw_finish(&w);
	}
	json_doc_free(doc);
	json_doc_free(pdoc);
	return r;
}

/* The error object the plugin printed, as one line. */
static void cni_why(const struct buf *out, const struct buf *err, char *why, size_t n)
{
	struct json_doc *doc = NULL;
	const struct json *msg, *det;

	snprintf(why, n, "%.200s", err->len ? err->p : "no message");
	if (out->len && !json_parse(out->p, out->len, NULL, &doc, NULL)) {
		msg = json_get(json_root(doc), "msg");
		det = json_get(json_root(doc), "details");
		if (json_is(msg, JSON_STRING))
			snprintf(why, n, "%.200s%s%.200s", msg->str, json_is(det, JSON_STRING) ?
				 ": " : "", json_is(det, JSON_STRING) ? det->str : "");
	}
	json_doc_free(doc);
	for (; *why; why++)
		if (*why == '\n')
			*why = ' ';
}

static int cni(struct lab *l, struct lab_pod *p, const char *cmd, const char *prev,
	       struct buf *out, struct ebuf *eb)
{
	char env[6][PATH_MAX + 64], why[440];
	const char *envp[] = { env[0], env[1], env[2], env[3], env[4], env[5], NULL };
	const char *argv[] = { "virgil", NULL };
	struct lab_node *n = lab_node_find(l, p->node);
	struct lab_exec x = { .argv = argv, .envp = envp, .netns = n ? n->netns : NULL };
	struct buf conf = BUF_INIT, err = BUF_INIT;
	int r, status = 0;

	snprintf(env[0], sizeof(env[0]), "CNI_COMMAND=%s", cmd);
	snprintf(env[1], sizeof(env[1]), "CNI_CONTAINERID=lab-%u", p->id);
	snprintf(env[2], sizeof(env[2]), "CNI_NETNS=" NETNS_RUN_DIR "/%s", p->netns);
	snprintf(env[3], sizeof(env[3]), "CNI_IFNAME=eth0");
	snprintf(env[4], sizeof(env[4]), "CNI_PATH=%s", l->bindir);
	snprintf(env[5], sizeof(env[5]), "CNI_ARGS=K8S_POD_NAMESPACE=%s;K8S_POD_NAME=%s", p->ns,
		 p->name);
	r = n ? net_conf(l, p, prev, &conf, eb) : -ENOENT;
	if (!r)
		r = lab_run(&x, conf.p, conf.len, out, &err, LAB_CNI_WAIT_MS, &status, eb);
	if (!r && status) {
		cni_why(out, &err, why, sizeof(why));
		ebuf_set(eb, "%s", why);
		r = -EIO;
	}
	if (r)
		ebuf_prefix(eb, "pod %s/%s: CNI %s", p->ns, p->name, cmd);
	buf_free(&conf);
	buf_free(&err);
	return r;
}

static int parse_ips(struct lab_pod *p, const struct buf *out, struct ebuf *eb)
{
	struct json_doc *doc = NULL;
	const struct json *ip, *a;
	struct cidr c;
	int r, s;

	r = json_parse(out->p, out->len, NULL, &doc, eb);
	json_for_each(ip, r ? NULL : json_get(json_root(doc), "ips")) {
		a = json_get(ip, "address");
		if (!json_is(a, JSON_STRING) || cidr_parse(a->str, a->len, &c))
			continue;
		s = k8sobj_slot(c.addr.family);
		if (s >= 0 && !p->ip[s].family)
			p->ip[s] = c.addr;
	}
	json_doc_free(doc);
	if (!r && !p->ip[0].family && !p->ip[1].family) {
		ebuf_set(eb, "pod %s/%s: the CNI result has no address", p->ns, p->name);
		r = -EINVAL;
	}
	return r;
}

static int attach(struct lab *l, struct lab_pod *p, struct ebuf *eb)
{
	struct buf out = BUF_INIT;
	char path[PATH_MAX];
	int r;

	r = cni(l, p, "ADD", NULL, &out, eb);
	if (!r) {
		p->attached = true;
		r = lab_save(l, eb);
	}
	if (!r)
		r = parse_ips(p, &out, eb);
	/* kept for DEL's prevResult, as a runtime caches it */
	if (!r && !(r = lab_path(l, path, sizeof(path), "pods/p%u.result.json", p->id)) &&
	    (r = atomic_write(path, out.p, out.len, 0644)))
		ebuf_set(eb, "cannot write %s: %s", path, strerror(-r));
	buf_free(&out);
	return r;
}

static void detach(struct lab *l, struct lab_pod *p)
{
	struct buf out = BUF_INIT, prev = BUF_INIT;
	struct ebuf eb = { "" };
	char path[PATH_MAX];

	if (!lab_path(l, path, sizeof(path), "pods/p%u.result.json", p->id) &&
	    read_file(path, &prev, 1u << 20))
		buf_reset(&prev);
	if (cni(l, p, "DEL", prev.len ? prev.p : NULL, &out, &eb))
		log_warnx("%s", eb.msg);
	else
		p->attached = false;
	buf_free(&out);
	buf_free(&prev);
}

/* ---- the server --------------------------------------------------------------------------- */

static int wait_ready(struct lab *l, int fd, const char *log, struct lab_pod *p,
		      struct ebuf *eb)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t end = lab_now() + LAB_SERVE_WAIT_MS;
	char c;
	struct buf b = BUF_INIT;

	while (lab_now() < end && !lab_stopped(l)) {
		int n = poll(&pfd, 1, 50);

		if (n > 0 && read(fd, &c, 1) == 1)
			return 0;
		if (n > 0)
			break;	/* EOF: it gave up */
	}
	if (read_file(log, &b, 1u << 16) == 0 && b.len)
		while (b.len && b.p[b.len - 1] == '\n')
			b.p[--b.len] = '\0';
	ebuf_set(eb, "pod %s/%s: the server did not start: %.200s", p->ns, p->name,
		 b.len ? (strrchr(b.p, '\n') ? strrchr(b.p, '\n') + 1 : b.p) : "no message");
	buf_free(&b);
	return lab_stopped(l) ? -EINTR : -EIO;
}

static int serve(struct lab *l, struct lab_pod *p, struct ebuf *eb)
{
	const char *argv[4 + LAB_MAX_PORTS + 2] = { "virgil", "lab", "serve", "--ready-fd" };
	char ports[LAB_MAX_PORTS][8], log[PATH_MAX];
	const char *envp[] = { NULL };
	struct lab_exec x = { .argv = argv, .envp = envp, .netns = p->netns, .log = log };
	int fds[2], r;
	unsigned i;

	if (!p->nports)
		return 0;
	if (lab_path(l, log, sizeof(log), "pods/p%u.log", p->id))
		return -ENAMETOOLONG;
	argv[4] = "3";
	for (i = 0; i < p->nports; i++) {
		snprintf(ports[i], sizeof(ports[i]), "%u", p->ports[i]);
		argv[5 + i] = ports[i];
	}
	if (pipe2(fds, O_CLOEXEC) < 0) {
		ebuf_set(eb, "pipe: %s", strerror(errno));
		return -errno;
	}
	x.pass_fd = fds[1];
	r = lab_spawn(&x, &p->server, eb);
	close(fds[1]);
	if (!r)
		r = lab_save(l, eb);
	if (!r)
		r = wait_ready(l, fds[0], log, p, eb);
	close(fds[0]);
	return r;
}

/* ---- creating and destroying ---------------------------------------------------------------- */

/* Record the pod, then make its namespace and write it Pending. */
static int pod_begin(struct lab *l, const struct lab_obj *o, size_t *idx, struct ebuf *eb)
{
	struct lab_pod *p;
	char node[8];
	int r;

	r = lab_pod_place(l, o, node, eb);
	if (r)
		return r;
	p = lab_pod_add(l);
	if (!p) {
		ebuf_set(eb, "out of memory");
		return -ENOMEM;
	}
	*idx = (size_t)(p - l->pods);
	snprintf(p->ns, sizeof(p->ns), "%s", o->ns);
	snprintf(p->name, sizeof(p->name), "%s", o->name);
	snprintf(p->node, sizeof(p->node), "%s", node);
	p->id = l->next_pod++;
	snprintf(p->netns, sizeof(p->netns), "%s-p%u", l->name, p->id);
	r = lab_obj_ports(o, p->ports, &p->nports, eb);
	if (!r)
		r = lab_save(l, eb);
	if (!r)
		r = netns_create(p->netns, eb);
	/* as a runtime leaves a sandbox: lo up (a pod reaches itself over it) */
	if (!r)
		r = lab_lo_up(p->netns, eb);
	if (!r)
		r = lab_obj_write(l, o, p, eb);
	return r;
}

int lab_pods_create(struct lab *l, const struct lab_obj *const *objs, size_t n,
		    struct ebuf *eb)
{
	size_t *idx = mem_calloc(n ? n : 1, sizeof(*idx)), i;
	int r = idx ? 0 : -ENOMEM;

	for (i = 0; i < n && !r; i++)
		r = pod_begin(l, objs[i], &idx[i], eb);
	if (!r && n)
		r = lab_publish(l, eb);
	for (i = 0; i < n && !r; i++) {
		struct lab_pod *p = &l->pods[idx[i]];

		if (lab_stopped(l)) {
			ebuf_set(eb, "stopped");
			r = -EINTR;
		}
		if (!r)
			r = attach(l, p, eb);
		if (!r)
			r = serve(l, p, eb);
		if (!r)
			r = lab_obj_write(l, objs[i], p, eb);
	}
	if (!r && n)
		r = lab_publish(l, eb);
	mem_free(idx);
	return r;
}

void lab_pod_destroy(struct lab *l, struct lab_pod *p)
{
	struct ebuf eb = { "" };
	char path[PATH_MAX];

	if (p->attached)
		detach(l, p);
	lab_proc_stop(&p->server, 2000);
	lab_netns_kill(p->netns);
	if (netns_delete(p->netns, &eb) && !ebuf_empty(&eb))
		log_warnx("%s", eb.msg);
	if (!lab_path(l, path, sizeof(path), "pods/p%u.result.json", p->id))
		unlink(path);
	lab_pod_drop(l, p);
}
