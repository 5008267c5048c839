// SPDX-License-Identifier: MIT
/*
 * ctmsg.c: ctnetlink requests (see ctmsg.h), as net/netfilter/nf_conntrack_netlink.c parses
 * them: the message type is NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_*, then an nfgenmsg.
 */
#include <sys/socket.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "ctmsg.h"
#include "nlmsg.h"

void ctmsg_flush(struct nlb *b)
{
	struct nfgenmsg *g;

	if (!nlb_msg(b, NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_DELETE, NLM_F_REQUEST))
		return;
	g = nlb_extra(b, sizeof(*g));
	if (g)
		*g = (struct nfgenmsg){ .nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0 };
}
