/* SPDX-License-Identifier: MIT */
/*
 * ctmsg.h: builders of ctnetlink requests (conntrack over nfnetlink, NETLINK_NETFILTER) into a
 * struct nlb, sent with nlsock_talk(). Pure: no I/O, no allocation. Only what Virgil needs:
 * the lab empties a node's table before it probes (docs/lab.md), so that every probe is a new
 * connection.
 */
#ifndef VIRGIL_CTMSG_H
#define VIRGIL_CTMSG_H

struct nlb;

/* IPCTNL_MSG_CT_DELETE with no tuple: the kernel deletes every entry of the namespace, all
 * families (nfgenmsg version 0 makes it ignore the family). Errors are the nlb's. */
void ctmsg_flush(struct nlb *b);

#endif
