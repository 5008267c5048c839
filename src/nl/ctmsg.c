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
	nlb_nfmsg(b, NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_DELETE, 0, AF_UNSPEC, 0);
}
