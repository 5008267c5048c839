/* SPDX-License-Identifier: MIT */
/*
 * discover.h: finding the API server with no configuration, even when kube-proxy is absent
 * (docs/agent.md). Candidates come from, in order of preference: an explicit setting, the
 * endpoints cached on the last run, the node's kubelet kubeconfig (its server only, never its
 * credentials), node-local balancers (Talos KubePrism, k3s/RKE2), and the service env pair.
 * All are probed at once (TCP, verified TLS, GET /version); the most preferred that answers
 * wins, and the order is kept for failover.
 */
#ifndef VIRGIL_DISCOVER_H
#define VIRGIL_DISCOVER_H

#include <stddef.h>
#include <stdint.h>
#include "../base/compat.h"
#include "../io/k8s.h"

struct ev;
struct ebuf;
struct k8sobj_eps;

enum discover_source {
	DISCOVER_EXPLICIT,
	DISCOVER_CACHED,
	DISCOVER_KUBELET,
	DISCOVER_LOCAL,
	DISCOVER_SERVICE,
};

struct discover_cand {
	struct k8s_server srv;
	enum discover_source source;
	char origin[320];  /* for the log: "kubelet kubeconfig /host/etc/kubernetes/kubelet.conf" */
};

struct discover_cfg {
	const char *server;     /* explicit https URL, or NULL */
	const char *tls_name;   /* explicit server name for verification, or NULL */
	const char *host_root;  /* where the host's / is mounted: "/" or "/host" */
	const char *state_dir;  /* apiserver.json lives here */
	const char *svc_host;   /* KUBERNETES_SERVICE_HOST / _PORT, or NULL */
	const char *svc_port;
	bool no_local;          /* skip 127.0.0.1:7445/6444 (tests run several nodes per host) */
};

/* Build the candidate list (reads the cache file and kubelet kubeconfigs); *out is freed by
 * the caller with mem_free. Unreadable sources are skipped with a debug line. */
int discover_candidates(const struct discover_cfg *cfg, struct discover_cand **out, size_t *n,
			struct ebuf *eb) __must_check;
const char *discover_source_name(enum discover_source s);

struct discover;
/*
 * Probe every candidate at once, each bounded by timeout_ms. done(ctx, i) runs once, from the
 * event loop, with the index of the winner, or -1 when none answered; the prober frees itself
 * after done returns. Any HTTP answer counts (a 401 still proves it is our API server: the
 * certificate was verified against our CA). NULL (errno set) when no probe could start: done
 * will not run.
 */
struct discover *discover_probe(struct ev *ev, struct k8s_client *c,
				const struct discover_cand *cands, size_t n, uint32_t timeout_ms,
				void (*done)(void *ctx, int winner), void *ctx);
void discover_cancel(struct discover *d);  /* NULL-safe; done is not called afterwards */

/* Persist the API server endpoints of the default/kubernetes EndpointSlice (ready addresses,
 * its https port) to <state_dir>/apiserver.json, atomically; unchanged content is not
 * rewritten. 1 when written, 0 when unchanged, or -errno. */
int discover_save(const char *state_dir, const struct k8sobj_eps *eps, struct ebuf *eb);

#endif
