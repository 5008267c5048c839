// SPDX-License-Identifier: MIT
/* cni_main.c: placeholder while the plugin is assembled (replaced before the first commit). */
#include "../applets.h"
#include "../base/log.h"
int cni_main(int argc, char **argv)
{
	log_procinit("virgil");
	return 0;
}
