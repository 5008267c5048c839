// SPDX-License-Identifier: MIT
/*
 * main.c: argv[0] → applet, busybox-style. The basename of argv[0] (a login "-" stripped)
 * picks the applet; "virgil APPLET args..." works too when CNI_COMMAND is unset, so one file
 * copied anywhere is every tool. Nothing else lives here: each applet owns its argv and env.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applets.h"
#include "base/compat.h"

#ifndef VIRGIL_VERSION
#define VIRGIL_VERSION "0.1.0-dev"
#endif

struct applet {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
};

static const struct applet applets[] = {
#define APPLET(name, fn, summary) { name, fn, summary },
	APPLETS
#undef APPLET
};

static const char usage[] =
	"usage: virgil [--list | --help | --version | --install [-s] DIR | APPLET [ARGS...]]\n"
	"  Run as 'virgil' with CNI_COMMAND set, it is the CNI plugin.\n";

static const struct applet *applet_find(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(applets); i++)
		if (strcmp(applets[i].name, name) == 0)
			return &applets[i];
	/* "virgil lab" is also reachable as "virgil-lab" through a link */
	if (strncmp(name, "virgil-", 7) == 0)
		for (i = 0; i < ARRAY_SIZE(applets); i++)
			if (strcmp(applets[i].name, name + 7) == 0)
				return &applets[i];
	return NULL;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	p = s ? s + 1 : p;
	return *p == '-' ? p + 1 : p;
}

static void print_help(void)
{
	size_t i;

	fputs(usage, stdout);
	fputs("applets:\n", stdout);
	for (i = 0; i < ARRAY_SIZE(applets); i++)
		printf("  %-15s %s\n", applets[i].name, applets[i].summary);
}

/* Create a link per applet in dir: hard links by default (work from scratch images), -s for symlinks. */
static int install_links(const char *dir, int sym)
{
	char self[PATH_MAX], path[PATH_MAX];
	struct stat st, me;
	ssize_t n;
	size_t i;
	int rc = 0;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		fprintf(stderr, "virgil: --install: cannot resolve /proc/self/exe: %s\n", strerror(errno));
		return 111;
	}
	self[n] = '\0';
	if (stat(self, &me) < 0) {
		fprintf(stderr, "virgil: --install: %s: %s\n", self, strerror(errno));
		return 111;
	}
	for (i = 0; i < ARRAY_SIZE(applets); i++) {
		const char *name = applets[i].name;
		char alias[64];

		if (strcmp(name, "virgil") != 0 && strncmp(name, "virgil", 6) != 0) {
			snprintf(alias, sizeof(alias), "virgil-%s", name);
			name = alias;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		/* never replace the running binary itself (it may be DIR/virgil) */
		if (stat(path, &st) == 0 && st.st_dev == me.st_dev && st.st_ino == me.st_ino)
			continue;
		unlink(path);
		if ((sym ? symlink(self, path) : link(self, path)) < 0) {
			fprintf(stderr, "virgil: --install: %s: %s\n", path, strerror(errno));
			rc = 111;
		}
	}
	return rc;
}

static int run_applet(const struct applet *a, int argc, char **argv)
{
	return a->fn(argc, argv);
}

int main(int argc, char **argv)
{
	const struct applet *a;
	const char *name = base_name(argc > 0 && argv[0] ? argv[0] : "virgil");
	const char *cmd = getenv("CNI_COMMAND");

	a = applet_find(name);
	if (a && strcmp(a->name, "virgil") != 0)
		return run_applet(a, argc, argv);
	if (!a) {
		fprintf(stderr, "virgil: %s: applet not found (try 'virgil --list')\n", name);
		return 127;
	}
	/* argv[0] is virgil: the runtime always sets CNI_COMMAND, so that wins */
	if ((cmd && *cmd) || argc < 2)
		return run_applet(a, argc, argv);
	if (strcmp(argv[1], "--list") == 0) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(applets); i++)
			puts(applets[i].name);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_help();
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		puts("virgil " VIRGIL_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--install") == 0) {
		int sym = argc > 2 && strcmp(argv[2], "-s") == 0;

		if (argc != 3 + sym) {
			fputs(usage, stderr);
			return 100;
		}
		return install_links(argv[2 + sym], sym);
	}
	a = applet_find(argv[1]);
	if (!a || strcmp(a->name, "virgil") == 0) {
		fprintf(stderr, "virgil: %s: applet not found (try 'virgil --list')\n", argv[1]);
		return 127;
	}
	return run_applet(a, argc - 1, argv + 1);
}
