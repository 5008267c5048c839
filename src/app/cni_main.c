// SPDX-License-Identifier: MIT
/*
 * cni_main.c: the CNI plugin applet. Environment and stdin in; exactly one JSON document (a
 * result, a version list, or an error) on stdout, or nothing for a successful DEL, CHECK,
 * STATUS and GC. Exit 0 on success, 1 with the spec's error JSON otherwise. Logs go to stderr
 * and, when the config names one, a log file; stdout carries the protocol and nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../applets.h"
#include "../base/buf.h"
#include "../base/log.h"
#include "../base/util.h"
#include "../core/cidr.h"
#include "../core/cniconf.h"
#include "../flow/podnet.h"

#define CNI_STDIN_MAX (1024 * 1024)

static const char *env_get(const char *name, void *ctx)
{
	return getenv(name);
}

static int emit(struct buf *out)
{
	return out->len ? write_all(STDOUT_FILENO, out->p, out->len) : 0;
}

static int fail(const struct cni_error *err, const char *ver)
{
	struct buf out = BUF_INIT;

	log_warnx("%s%s%s (code %d)", err->msg, err->details[0] ? ": " : "", err->details,
		  err->code);
	if (cni_error_encode(err, ver, &out) == 0 && emit(&out) != 0)
		log_warn("cannot write the error to stdout");
	buf_free(&out);
	return 1;
}

static void open_log(const struct cni_conf *conf)
{
	int fd;

	if (conf->debug)
		log_init(1);
	if (!conf->log_file)
		return;
	fd = open(conf->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		log_warn("cannot open logFile %s", conf->log_file);
	else
		log_setfd(fd);
}

/* One line per ADD for the operator: who got which addresses on which veth. */
static void log_added(const struct cni_env *env, const struct cni_conf *conf,
		      const struct cni_result *res)
{
	char line[512], a[CIDR_STRLEN];
	size_t i, n = 0;

	line[0] = '\0';
	for (i = 0; i < res->nips && n < sizeof(line); i++) {
		if (cidr_format(&res->ips[i].addr, a, sizeof(a)))
			continue;
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s", n ? " " : "", a);
	}
	log_info("ADD container=%s ifname=%s pod=%s/%s: %s", env->containerid, env->ifname,
		 conf->pod_namespace ? conf->pod_namespace : "-",
		 conf->pod_name ? conf->pod_name : "-", line);
}

static int run(const struct cni_env *env, const struct cni_conf *conf, struct buf *out,
	       struct cni_error *err)
{
	struct cni_result res;
	struct cni_error ignored;
	int rc;

	switch (env->cmd) {
	case CNI_CMD_ADD:
		if (podnet_add(env, conf, &res, err))
			return -1;
		log_added(env, conf, &res);
		rc = cni_result_encode(&res, conf->ver, out);
		if (rc) {
			cni_error_set(err, CNI_ERR_CONFIG, "cannot encode the result",
				      "in version %s: %s", conf->ver_str, strerror(-rc));
			/* nothing may stay behind a failed ADD */
			if (podnet_del(env, conf, &ignored))
				log_warnx("undo after encode failure: %s", ignored.msg);
			return -1;
		}
		return 0;
	case CNI_CMD_DEL:
		return podnet_del(env, conf, err);
	case CNI_CMD_CHECK:
		return podnet_check(env, conf, err);
	case CNI_CMD_STATUS:
		return podnet_status(conf, err);
	case CNI_CMD_GC:
		return podnet_gc(conf, err);
	default:
		cni_error_set(err, CNI_ERR_ENV, "unknown CNI_COMMAND", NULL);
		return -1;
	}
}

static int about(void)
{
	fprintf(stderr, "virgil: CNI plugin (spec 1.1.0); run by a container runtime with "
			"CNI_COMMAND set\nCNI protocol versions supported: 0.1.0, 0.2.0, 0.3.0, "
			"0.3.1, 0.4.0, 1.0.0, 1.1.0\n");
	return 0;
}

int cni_main(int argc, char **argv)
{
	struct cni_env env;
	struct cni_conf conf;
	struct cni_error err;
	struct buf in = BUF_INIT, out = BUF_INIT;
	const char *cmd = getenv("CNI_COMMAND");
	int rc, status = 1;

	log_procinit("virgil");
	memset(&conf, 0, sizeof(conf));
	memset(&err, 0, sizeof(err));
	if (!cmd || !*cmd)
		return about();
	rc = read_all(STDIN_FILENO, &in, CNI_STDIN_MAX);
	if (rc) {
		cni_error_set(&err, CNI_ERR_IO, "cannot read the network config from stdin", "%s",
			      strerror(-rc));
		status = fail(&err, NULL);
		goto out;
	}
	if (cni_env_parse(env_get, NULL, &env, &err)) {
		status = fail(&err, NULL);
		goto out;
	}
	if (env.cmd == CNI_CMD_VERSION) {
		if (cni_version_encode(in.p ? in.p : "", in.len, &out, &err))
			status = fail(&err, NULL);
		else
			status = emit(&out) ? 1 : 0;
		goto out;
	}
	if (cni_conf_parse(in.p ? in.p : "", in.len, &env, &conf, &err)) {
		status = fail(&err, conf.ver_str);
		goto out;
	}
	open_log(&conf);
	if (run(&env, &conf, &out, &err)) {
		status = fail(&err, conf.ver_str);
		goto out;
	}
	status = emit(&out) ? 1 : 0;
out:
	cni_conf_free(&conf);
	buf_free(&in);
	buf_free(&out);
	return status;
}
