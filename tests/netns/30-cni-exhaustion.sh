#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 30-cni-exhaustion.sh: a pod range with room for five pods. The sixth ADD fails with code
# 100 naming the range and leaves nothing behind; STATUS says 50 while the range is full and
# ready again after a DEL, after which one more ADD fits.
#
#   podCIDRs ["10.244.9.0/29"]: .0 network, .1 gateway, .2-.6 pods, .7 broadcast
#
#      vg$$-node                                  vg$$-p1 … vg$$-p5
#    ┌─────────────────────────────────┐        ┌──────────────────────────┐
#    │ vg<x1> … vg<x5> ════════════════╪═veth═══╪═eth0 10.244.9.2/32 … .6  │
#    │ 10.244.9.2/32 … .6/32 (proto 86)│        └──────────────────────────┘
#    └─────────────────────────────────┘        vg$$-p6: lo only, its ADD is refused

. "$(dirname "$0")/lib.sh"

C=$(netconf 1.1.0 '["10.244.9.0/29"]')

node_setup
for i in 1 2 3 4 5 6; do
	pod_add $i
done

cni STATUS "" "" "" "$C"
expect_ok "STATUS on an empty range: ready" empty

for i in 1 2 3 4 5; do
	cni ADD x$i "$(netns_path $i)" eth0 "$C"
	expect_ok "ADD $i of 5"
	is "ADD $i: 10.244.9.$((i + 1))" "$(j "$OUT" '[i["address"] for i in d["ips"]]')" \
		"[\"10.244.9.$((i + 1))/32\"]"
done

before="$(node_links | words) / $(lease_files | words)"
cni ADD x6 "$(netns_path 6)" eth0 "$C"
expect_err "ADD 6 into a full /29" 100
like "the error names the range" "$(j "$OUT" 'd["msg"] + " " + d.get("details", "")')" \
	'10\.244\.9\.(0/29|2)'
is "the refused ADD leaves no veth and no lease" "$(node_links | words) / $(lease_files | words)" \
	"$before"
is "the refused ADD leaves no pod interface" "$(pod_links 6 | words)" ""
is "5 leases" "$(lease_count)" 5

cni STATUS "" "" "" "$C"
expect_err "STATUS when the range is full" 50
cni DEL x6 "$(netns_path 6)" eth0 "$C"
expect_ok "DEL after the refused ADD" empty
is "that DEL releases nobody else's lease" "$(lease_count)" 5

cni DEL x3 "$(netns_path 3)" eth0 "$C"
expect_ok "DEL pod 3" empty
is "4 leases" "$(lease_count)" 4
cni STATUS "" "" "" "$C"
expect_ok "STATUS after a DEL: ready" empty

cni ADD x6 "$(netns_path 6)" eth0 "$C"
expect_ok "ADD 6 after the DEL"
is "ADD 6 gets the freed 10.244.9.4" "$(j "$OUT" 'd["ips"][0]["address"]')" 10.244.9.4/32
is "pod 6 holds it" "$(pod 6 ip -4 -o addr show dev eth0 | awk '{ print $4 }')" 10.244.9.4/32
cni STATUS "" "" "" "$C"
expect_err "STATUS when full again" 50

for i in 1 2 4 5 6; do
	cni DEL x$i "$(netns_path $i)" eth0 "$C"
	expect_ok "DEL pod $i" empty
done
cni STATUS "" "" "" "$C"
expect_ok "STATUS with every address free: ready" empty

account
