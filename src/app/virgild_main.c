// SPDX-License-Identifier: MIT
/*
 * virgild_main.c: the node agent applet: flags and environment in, agent_run, exit code out.
 * Zero configuration is the default: every flag has the value a DaemonSet pod needs.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../applets.h"
#include "../base/log.h"
#include "../base/util.h"
#include "../core/cidr.h"
#include "../flow/agent.h"

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

static const char usage[] =
	"usage: virgild [--node-name NAME] [--data-dir DIR] [--cni-conf-dir DIR]\n"
	"               [--host-root DIR] [--server URL [--tls-server-name NAME]]\n"
	"               [--kubeconfig FILE] [--token-file FILE] [--ca-file FILE]\n"
	"               [--mode auto|direct|vxlan] [--no-local-balancers] [--debug]\n"
	"               [--no-masquerade] [--cluster-cidr CIDR]... [--source DIR]\n"
	"  Finds the API server by itself (see docs/agent.md); NODE_NAME, VIRGIL_API_SERVER,\n"
	"  KUBECONFIG and KUBERNETES_SERVICE_HOST/PORT are read from the environment.\n"
	"  Pod traffic leaving every node's pod CIDRs and the --cluster-cidr ranges (also\n"
	"  VIRGIL_CLUSTER_CIDRS, comma-separated) is masqueraded unless --no-masquerade.\n"
	"  --source DIR reads objects from a folder instead of an API server (virgil lab).\n";

#define MAX_CLUSTER 16

/* Append the comma-separated CIDRs of s to v; -1 with a message on a bad one. */
static int add_cidrs(const char *s, struct cidr *v, size_t *n)
{
	const char *p = s, *end;
	size_t len;

	while (*p) {
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len && (*n == MAX_CLUSTER || cidr_parse(p, len, &v[*n]))) {
			fprintf(stderr, "virgild: cluster CIDR '%.*s': %s\n", (int)len, p,
				*n == MAX_CLUSTER ? "too many (16 at most)" : "not a CIDR");
			return -1;
		}
		*n += len ? 1 : 0;
		p += len + (end ? 1 : 0);
	}
	return 0;
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

static int parse_mode(const char *s, enum noderoutes_mode *m)
{
	if (strcmp(s, "auto") == 0)
		*m = NODEROUTES_AUTO;
	else if (strcmp(s, "direct") == 0)
		*m = NODEROUTES_DIRECT;
	else if (strcmp(s, "vxlan") == 0)
		*m = NODEROUTES_VXLAN;
	else
		return -1;
	return 0;
}

int virgild_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "node-name", required_argument, NULL, 'n' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "cni-conf-dir", required_argument, NULL, 'c' },
		{ "host-root", required_argument, NULL, 'r' },
		{ "server", required_argument, NULL, 's' },
		{ "tls-server-name", required_argument, NULL, 'S' },
		{ "kubeconfig", required_argument, NULL, 'k' },
		{ "token-file", required_argument, NULL, 't' },
		{ "ca-file", required_argument, NULL, 'a' },
		{ "mode", required_argument, NULL, 'm' },
		{ "no-local-balancers", no_argument, NULL, 'L' },
		{ "debug", no_argument, NULL, 'D' },
		{ "no-masquerade", no_argument, NULL, 'M' },
		{ "cluster-cidr", required_argument, NULL, 'C' },
		{ "source", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char host[HOST_NAME_MAX + 1];
	struct cidr cluster[MAX_CLUSTER];
	size_t ncluster = 0;
	struct agent_cfg cfg = {
		.node_name = getenv("NODE_NAME"),
		.data_dir = "/var/lib/virgil",
		.cni_conf_dir = "/etc/cni/net.d",
		.host_root = "/",
		.server = env_or("VIRGIL_API_SERVER", NULL),
		.kubeconfig = env_or("KUBECONFIG", NULL),
		.token_file = SA_DIR "/token",
		.ca_file = SA_DIR "/ca.crt",
		.svc_host = env_or("KUBERNETES_SERVICE_HOST", NULL),
		.svc_port = env_or("KUBERNETES_SERVICE_PORT", NULL),
		.mode = NODEROUTES_AUTO,
		.masquerade = strcmp(env_or("VIRGIL_MASQUERADE", "true"), "false") != 0,
		.cluster = cluster,
	};
	int c, debug = 0, r;

	log_procinit("virgild");
	if (add_cidrs(env_or("VIRGIL_CLUSTER_CIDRS", ""), cluster, &ncluster))
		return 100;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': cfg.node_name = optarg; break;
		case 'd': cfg.data_dir = optarg; break;
		case 'c': cfg.cni_conf_dir = optarg; break;
		case 'r': cfg.host_root = optarg; break;
		case 's': cfg.server = optarg; break;
		case 'S': cfg.tls_name = optarg; break;
		case 'k': cfg.kubeconfig = optarg; break;
		case 't': cfg.token_file = optarg; break;
		case 'a': cfg.ca_file = optarg; break;
		case 'L': cfg.no_local = true; break;
		case 'D': debug = 1; break;
		case 'M': cfg.masquerade = false; break;
		case 'o': cfg.source_dir = optarg; break;
		case 'C':
			if (add_cidrs(optarg, cluster, &ncluster))
				return 100;
			break;
		case 'm':
			if (parse_mode(optarg, &cfg.mode) == 0)
				break;
			fprintf(stderr, "virgild: --mode %s: want auto, direct or vxlan\n", optarg);
			return 100;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 100;
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		return 100;
	}
	cfg.ncluster = ncluster;
	log_init(debug);
	if (!cfg.node_name || !*cfg.node_name) {
		if (gethostname(host, sizeof(host)) < 0 || !host[0])
			fatalx("no node name: set NODE_NAME (downward API) or --node-name");
		host[sizeof(host) - 1] = '\0';
		cfg.node_name = host;
	}
	if (!safe_name(cfg.node_name, strlen(cfg.node_name)))
		fatalx("node name '%s' is not a valid Kubernetes name", cfg.node_name);
	r = agent_run(&cfg);
	return r == 0 ? 0 : 111;
}
