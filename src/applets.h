/* SPDX-License-Identifier: MIT */
/*
 * applets.h: the one registry of applets. Each line yields a prototype, a dispatch entry, a
 * --list line, a --help line and an install link (X-macro; define APPLET before including
 * APPLETS). The name is what argv[0]'s basename must be; "virgil" itself is the CNI plugin.
 *
 * APPLET(name, function, summary)
 */
#ifndef VIRGIL_APPLETS_H
#define VIRGIL_APPLETS_H

/*
 * Applets still to come register here when they exist (never as placeholders):
 * virgil-install (init container), virgilctl (operator CLI).
 */
#define APPLETS                                                                         \
	APPLET("virgil", cni_main, "CNI plugin (the runtime sets CNI_COMMAND)")         \
	APPLET("virgild", virgild_main, "node agent: API discovery, node state, routes") \
	APPLET("lab", lab_main, "a simulated cluster in network namespaces (docs/lab.md)")

#define APPLET(name, fn, summary) int fn(int argc, char **argv);
APPLETS
#undef APPLET

#endif
