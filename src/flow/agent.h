/* SPDX-License-Identifier: MIT */
/*
 * agent.h: the node agent (virgild): discovery, reflectors, node state, routes, readiness.
 * agent_run() owns the event loop until SIGTERM/SIGINT; see docs/agent.md for behaviour.
 */
#ifndef VIRGIL_AGENT_H
#define VIRGIL_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include "../core/cidr.h"
#include "noderoutes.h"

struct agent_cfg {
	const char *node_name;
	const char *data_dir;      /* node.json (for the CNI plugin), apiserver.json */
	const char *cni_conf_dir;  /* where 10-virgil.conflist is written once ready */
	const char *host_root;     /* the host's "/" (kubelet kubeconfigs are read below it) */
	const char *server;        /* explicit API server URL, or NULL */
	const char *tls_name;      /* explicit name to verify the server as, or NULL */
	const char *kubeconfig;    /* explicit kubeconfig (server and credentials), or NULL */
	const char *token_file;    /* ServiceAccount token (in-cluster) */
	const char *ca_file;       /* ServiceAccount CA (in-cluster) */
	const char *svc_host;      /* KUBERNETES_SERVICE_HOST/PORT, or NULL */
	const char *svc_port;
	enum noderoutes_mode mode;
	bool no_local;             /* skip node-local balancer candidates */
	const char *source_dir;    /* objects from this folder instead of an API server (lab) */
	bool masquerade;           /* masquerade pod traffic leaving the cluster ranges */
	const struct cidr *cluster; /* extra ranges never masqueraded */
	size_t ncluster;
};

/* Runs until a termination signal: 0, or -errno when start-up failed (reason logged). */
int agent_run(const struct agent_cfg *cfg);

#endif
