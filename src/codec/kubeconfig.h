/* SPDX-License-Identifier: MIT */
/*
 * kubeconfig.h: kubeconfig files (client-go clientcmd/api/v1), as written by kubectl, kubeadm
 * (admin.conf, kubelet.conf), k3s and RKE2 (k3s.yaml, kubelet.kubeconfig) and Talos. A pure
 * codec: the caller reads the file and resolves relative paths against its directory.
 *
 * Input is the YAML subset those files use: block mappings and sequences (including the
 * "- name: x" items kubectl writes at the parent key's indent), plain, single- and double-quoted
 * scalars with their escapes and line folding, block scalars (| and >, for wrapped data),
 * flow collections ({}, [a, b], {k: v}), comments, one document with optional '---' / '...'
 * markers, CRLF line ends, a UTF-8 BOM. Refused with an error: tabs in indentation, anchors,
 * aliases, tags, complex keys, a second document, invalid UTF-8, control characters. A
 * document whose first non-blank byte is '{' is parsed as JSON (codec/json.h); should that
 * fail, as a YAML flow mapping, and if both fail the JSON error is reported.
 *
 * Schema: unknown keys are skipped, whatever their shape; a known key given twice in one
 * mapping, two entries with the same name, an entry without a name, or a value of the wrong
 * shape is an error. Empty and null values leave a field unset (NULL, 0, false). The *-data
 * fields are base64-decoded (b64.h: whitespace allowed, padding required). Booleans are the
 * plain YAML 1.1 words (true/false, yes/no, on/off in the three usual cases). A user with an
 * exec or auth-provider plugin parses fine and reports has_exec: we run no plugins.
 *
 * Errors: kubeconfig_parse() returns -EINVAL (syntax, schema; the ebuf reads
 * "line 12:7: users[0].user.client-key-data: invalid base64 at character 40 of the value"),
 * -E2BIG (input over KUBECONFIG_MAX_BYTES, nesting over KUBECONFIG_MAX_DEPTH, more than
 * KUBECONFIG_MAX_NODES values or KUBECONFIG_MAX_ENTRIES list entries) or -ENOMEM. Columns
 * count bytes from 1. JSON documents report the JSON parser's position for syntax errors and
 * only the key path for schema errors. Messages never quote a value (a JSON syntax error may
 * name the one character it stopped at), and show key names only when they belong to the
 * kubeconfig schema ("?" otherwise): a malformed file may put a token where a key is expected.
 * Names appear only in kubeconfig_resolve() errors.
 */
#ifndef VIRGIL_KUBECONFIG_H
#define VIRGIL_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include "../base/compat.h"

struct ebuf;

#define KUBECONFIG_MAX_BYTES (4u << 20)
#define KUBECONFIG_MAX_DEPTH 64
#define KUBECONFIG_MAX_NODES 200000u
#define KUBECONFIG_MAX_ENTRIES 4096u

/*
 * Every char * is NUL-terminated and owned by the struct kubeconfig; NULL when unset. Decoded
 * *_data buffers are followed by a NUL that *_len does not count (mbedtls wants PEM with it).
 * A -data field and its path form may both be set: the data wins (client-go's rule), which
 * the caller applies. Paths are as written (relative ones are the caller's to resolve).
 */
struct kubeconfig_cluster {
	char *name, *server, *ca_file, *tls_server_name, *proxy_url;
	unsigned char *ca_data;
	size_t ca_len;
	bool insecure;          /* insecure-skip-tls-verify */
};

struct kubeconfig_user {
	char *name, *token, *token_file, *cert_file, *key_file;
	unsigned char *cert_data, *key_data;
	size_t cert_len, key_len;
	bool has_exec;          /* exec or auth-provider configured: unsupported, not run */
};

struct kubeconfig_context {
	char *name, *cluster, *user, *ns;
};

struct kubeconfig {
	struct kubeconfig_cluster *clusters;
	size_t nclusters;
	struct kubeconfig_user *users;
	size_t nusers;
	struct kubeconfig_context *contexts;
	size_t ncontexts;
	char *current_context;
};

/*
 * Parse p[0..n) (need not be NUL-terminated; not retained). 0 with *out set, or a negative
 * errno with *out NULL and the ebuf filled (see above). An empty document is a valid, empty
 * kubeconfig. Secrets copied during parsing are wiped before their memory is freed.
 */
int kubeconfig_parse(const char *p, size_t n, struct kubeconfig **out,
		     struct ebuf *eb) __must_check;

/* NULL-safe. Wipes tokens and decoded client keys (explicit_bzero) before freeing them. */
void kubeconfig_free(struct kubeconfig *kc);

/*
 * Pick the cluster and user for a context: the named one, or for NULL the current-context;
 * with no current-context, the only context if there is exactly one; with no contexts at all,
 * the only cluster if there is exactly one, with *user NULL. A context without a user also
 * gives *user NULL. The cluster must have a server. 0, or -ENOENT (the ebuf says what is
 * missing: context, cluster, user or server, by name) or -EINVAL (kc NULL). The pointers
 * borrow from kc. Outputs are written only on success.
 */
int kubeconfig_resolve(const struct kubeconfig *kc, const char *context,
		       const struct kubeconfig_cluster **cluster,
		       const struct kubeconfig_user **user, struct ebuf *eb) __must_check;

#endif
