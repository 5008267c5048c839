/* SPDX-License-Identifier: MIT */
/*
 * lab_int.h: private to `virgil lab` (src/flow/lab*.c). The model of one lab as lab.json
 * keeps it, and the jobs the files split between them:
 *   lab_state.c  the state dir, its lock and lab.json
 *   lab_proc.c   child processes: detached daemons in a namespace, runs with a deadline
 *   lab_net.c    the wire, the nodes' namespaces and links, the agents
 *   lab_obj.c    manifests in, api files out (patched as an API server would hold them)
 *   lab_scen.c   the embedded default scenario
 *   lab_pod.c    pods: namespace, CNI ADD/DEL, server
 *   lab_cmd.c    the commands that change a lab (lab.h), built from the above
 *   lab_show.c   the commands that look: status, probe, ruleset
 * Everything here runs in the lab command's one thread; no function prints (warnings go to
 * log_warnx, errors to the caller's ebuf).
 */
#ifndef VIRGIL_LAB_INT_H
#define VIRGIL_LAB_INT_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "../base/compat.h"
#include "../core/cidr.h"
#include "../core/k8sobj.h"
#include "lab.h"

struct buf;
struct ebuf;
struct json;
struct json_doc;

#define LAB_MAX_NODES 16
#define LAB_MAX_PORTS 64		/* = LABSERVE_MAX_PORTS */
#define LAB_NS_MAX 63			/* a namespace name: a DNS label */
#define LAB_NAME_MAX 253		/* an object name: a DNS subdomain */
#define LAB_NETNS_MAX 32
#define LAB_GEN_WAIT_MS 10000		/* every agent applies a generation within this */
#define LAB_AGENT_WAIT_MS 20000		/* an agent writes its conflist within this */
#define LAB_CNI_WAIT_MS 30000		/* one CNI call */
#define LAB_SERVE_WAIT_MS 5000		/* a pod server listens within this */

/* A process we started, identified by pid and start time (pids are reused). */
struct lab_proc {
	pid_t pid;			/* 0: none */
	uint64_t start;			/* /proc/PID/stat starttime */
};

struct lab_node {
	unsigned idx;			/* 1..LAB_MAX_NODES: n<idx>, 192.168.86.<idx> */
	char name[8];
	char netns[LAB_NETNS_MAX];
	struct lab_proc agent;
};

struct lab_pod {
	char ns[LAB_NS_MAX + 1];
	char name[LAB_NAME_MAX + 1];
	char node[8];
	char netns[LAB_NETNS_MAX];
	unsigned id;			/* k: netns <name>-p<k>, container id lab-<k> */
	bool attached;			/* CNI ADD succeeded: DEL is owed */
	struct lab_proc server;
	struct ipaddr ip[2];		/* [K8SOBJ_V4], [K8SOBJ_V6]; family 0: none */
	uint16_t ports[LAB_MAX_PORTS];
	unsigned nports;
};

/* "ns/name" of a policy, or a namespace name alone. */
struct lab_key {
	char ns[LAB_NS_MAX + 1];
	char name[LAB_NAME_MAX + 1];
};

struct lab {
	const struct lab_opts *opts;
	char dir[PATH_MAX - 64];	/* the state dir; room left for the paths below it */
	char name[8];			/* namespace prefix */
	char bindir[PATH_MAX];		/* where this binary is: CNI_PATH */
	int lockfd;
	bool wire;			/* <name>-wire was (being) made */
	struct lab_node nodes[LAB_MAX_NODES];
	unsigned nnodes;
	struct lab_pod *pods;
	size_t npods, cappods;
	struct lab_key *nss;		/* namespaces (name only) */
	size_t nnss, capnss;
	struct lab_key *pols;		/* network policies */
	size_t npols, cappols;
	unsigned next_pod;		/* the next pod's k */
	unsigned rr;			/* round-robin: pods placed without a spec.nodeName */
	uint64_t gen;			/* api/.generation */
};

/* ---- lab_state.c ----------------------------------------------------------------------- */

/* Fill l from opts and the environment (name, dir, bindir); no I/O beyond readlink. */
int lab_init(struct lab *l, const struct lab_opts *o, struct ebuf *eb) __must_check;
void lab_release(struct lab *l);
/*
 * Take the lock <dir>/lock (exclusive, or shared for readers), waiting for another lab
 * command at most a minute. create: make the state dir first (up). -ENOENT when the dir does
 * not exist and create is false ("no lab is up").
 */
int lab_lock(struct lab *l, bool exclusive, bool create, struct ebuf *eb) __must_check;
/* Load lab.json: 0, -ENOENT (none: no lab is up), -EINVAL (damaged; eb says where). */
int lab_load(struct lab *l, struct ebuf *eb) __must_check;
/* Write lab.json atomically. */
int lab_save(struct lab *l, struct ebuf *eb) __must_check;
/* Remove the state dir and everything the lab put in it (the lock last). */
int lab_remove_dir(struct lab *l, struct ebuf *eb) __must_check;
/* <dir>/<rel> into p; -ENAMETOOLONG. */
int lab_path(const struct lab *l, char *p, size_t n, const char *fmt, ...) __printf(4, 5)
	__must_check;
struct lab_pod *lab_pod_find(struct lab *l, const char *ns, const char *name);
struct lab_node *lab_node_find(struct lab *l, const char *name);
struct lab_pod *lab_pod_add(struct lab *l);	/* zeroed, or NULL (ENOMEM) */
void lab_pod_drop(struct lab *l, struct lab_pod *p);
/* Namespace (ns NULL... name) and policy sets: find, add (no duplicate), drop. */
bool lab_key_has(const struct lab_key *v, size_t n, const char *ns, const char *name);
int lab_key_add(struct lab_key **v, size_t *n, size_t *cap, const char *ns, const char *name)
	__must_check;
void lab_key_drop(struct lab_key *v, size_t *n, const char *ns, const char *name);
/* Has the user asked us to stop (SIGINT/SIGTERM)? */
bool lab_stopped(const struct lab *l);

/* lab_cmd.c: init, take the lock (shared unless exclusive) and load lab.json. */
int lab_begin(struct lab *l, const struct lab_opts *o, bool exclusive, struct ebuf *eb)
	__must_check;

/* ---- lab_proc.c ------------------------------------------------------------------------ */

struct lab_exec {
	const char *const *argv;	/* argv[0] picks the applet; run as /proc/self/exe */
	const char *const *envp;	/* the whole environment */
	const char *netns;		/* run inside /run/netns/<netns>; NULL: here */
	const char *log;		/* daemon: stdout and stderr appended here */
	int pass_fd;			/* daemon: handed on as fd 3; -1 none */
};

/* Start a daemon (own session, stdin /dev/null). */
int lab_spawn(const struct lab_exec *x, struct lab_proc *p, struct ebuf *eb) __must_check;
/*
 * Run to completion with in[0..inlen) on stdin, stdout into out, stderr into err (either may
 * be NULL: discarded), killed after timeout_ms (-ETIMEDOUT). *status: the exit code, or 128 +
 * signal.
 */
int lab_run(const struct lab_exec *x, const char *in, size_t inlen, struct buf *out,
	    struct buf *err, unsigned timeout_ms, int *status, struct ebuf *eb) __must_check;
/* Running (not a zombie) and still the process we started. */
bool lab_proc_alive(const struct lab_proc *p);
/* Read the start time of pid into p (p->pid = pid). 0 or -ESRCH. */
int lab_proc_ident(pid_t pid, struct lab_proc *p) __must_check;
/* SIGTERM, wait up to wait_ms, then SIGKILL; reaps it when it is our child. NULL-safe. */
void lab_proc_stop(struct lab_proc *p, unsigned wait_ms);
/* SIGKILL every process inside network namespace /run/netns/<netns> (stragglers). */
void lab_netns_kill(const char *netns);
/* Sleep ms, or less when stopped. */
void lab_sleep(const struct lab *l, unsigned ms);
/* Monotonic milliseconds. */
uint64_t lab_now(void);

/* ---- lab_net.c ------------------------------------------------------------------------- */

/* The wire namespace and its bridge. */
int lab_wire_make(struct lab *l, struct ebuf *eb) __must_check;
/* Node i's namespace, its link to the wire, addresses, forwarding, dirs. */
int lab_node_make(struct lab *l, struct lab_node *n, struct ebuf *eb) __must_check;
/* Start the node's agent (and record it); lab_agent_ready waits for its conflist. */
int lab_agent_start(struct lab *l, struct lab_node *n, struct ebuf *eb) __must_check;
int lab_agents_ready(struct lab *l, struct ebuf *eb) __must_check;
/* Bring lo up in a (pod) namespace. */
int lab_lo_up(const char *netns, struct ebuf *eb) __must_check;
/* Forget every connection the node's conntrack table holds (all families). */
int lab_node_ct_flush(struct lab_node *n, struct ebuf *eb) __must_check;
/* The node's text ruleset (table inet virgil). */
int lab_node_ruleset(struct lab *l, struct lab_node *n, struct buf *out,
		     struct ebuf *eb) __must_check;

/* ---- lab_obj.c ------------------------------------------------------------------------- */

struct lab_obj {
	enum k8sobj_kind kind;		/* NAMESPACE, POD or NETPOL */
	const char *ns;			/* "" for a Namespace; "default" when none is given */
	const char *name;
	const struct json *v;		/* the manifest object (in a doc of lab_objs) */
	struct k8sobj *dec;		/* decoded: labels, ports, nodeName */
	char where[96];			/* "file.json" or "file.json items[3]", for messages */
	char file[LAB_NS_MAX + LAB_NAME_MAX + 32];	/* its api file name */
};

struct lab_objs {
	struct lab_obj *v;
	size_t n, cap;
	struct json_doc **docs;
	size_t ndocs, capdocs;
};

/*
 * Load manifests: every *.json of a folder (sorted by name), or files, or one text. Each
 * holds an object or a List; Namespace, Pod and NetworkPolicy are kept, Node refused (the
 * lab makes its own), anything else skipped with a warning. Names are checked (DNS-like), a
 * duplicate is an error. eb: "x.json items[2]: pod y/a: ...".
 */
int lab_objs_dir(struct lab_objs *o, const char *dir, struct ebuf *eb) __must_check;
int lab_objs_file(struct lab_objs *o, const char *path, struct ebuf *eb) __must_check;
int lab_objs_text(struct lab_objs *o, const char *text, size_t len, const char *what,
		  struct ebuf *eb) __must_check;
void lab_objs_free(struct lab_objs *o);
/* Pod's spec.nodeName ("" when unset). */
const char *lab_obj_node(const struct lab_obj *o);
/* Sorted, distinct containerPorts of a pod object into ports (LAB_MAX_PORTS at most). */
int lab_obj_ports(const struct lab_obj *o, uint16_t *ports, unsigned *n, struct ebuf *eb)
	__must_check;
/* api/<kind>-<ns>-<name>.json (cluster-scoped: <kind>-<name>.json). */
int lab_api_path(const struct lab *l, enum k8sobj_kind kind, const char *ns, const char *name,
		 char *p, size_t n) __must_check;
/*
 * Write an object's api file. Namespaces get label kubernetes.io/metadata.name; a pod p (NULL
 * for other kinds) gets spec.nodeName and, once attached, status Running with its IPs, else
 * status Pending.
 */
int lab_obj_write(struct lab *l, const struct lab_obj *o, const struct lab_pod *p,
		  struct ebuf *eb) __must_check;
/* A namespace's api file with nothing but its name (namespaces pods imply). */
int lab_ns_write(struct lab *l, const char *ns, struct ebuf *eb) __must_check;
int lab_node_write(struct lab *l, const struct lab_node *n, struct ebuf *eb) __must_check;
int lab_api_remove(struct lab *l, enum k8sobj_kind kind, const char *ns, const char *name,
		   struct ebuf *eb) __must_check;
/* Bump api/.generation (and l->gen) and wait until every agent reports it applied. */
int lab_publish(struct lab *l, struct ebuf *eb) __must_check;

/* ---- lab_scen.c ------------------------------------------------------------------------ */

/* The default scenario as a JSON List. */
int lab_scenario(struct buf *b) __must_check;

/* ---- lab_pod.c ------------------------------------------------------------------------- */

/*
 * Create the pods of objs that are pods: namespaces, api files (Pending), CNI ADD, servers,
 * api files with their addresses, each step published. Each pod is recorded in l (and
 * lab.json) before anything is made for it, so a failure leaves only what teardown removes.
 */
int lab_pods_create(struct lab *l, const struct lab_obj *const *objs, size_t n,
		    struct ebuf *eb) __must_check;
/* CNI DEL, stop the server, delete the namespace, drop it from l. Errors are warnings. */
void lab_pod_destroy(struct lab *l, struct lab_pod *p);
/* The node a pod object goes to: spec.nodeName or the next in round-robin. */
int lab_pod_place(struct lab *l, const struct lab_obj *o, char node[8], struct ebuf *eb)
	__must_check;

#endif
