#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 10-cni-basic.sh: the CNI plugin against its contract (docs/cni.md, spec 1.1.0), through
# the real interface: env + config on stdin, result or error JSON on stdout. VERSION, ADD
# (result shape, kernel state, reachability), CHECK, repeated ADD, DEL in all its forms,
# results in every version, errors and their codes, STATUS, GC, requested IPs and MACs.
#
#      vg$$-node ("the host": virgil runs here)          vg$$-p1
#    ┌────────────────────────────────────────┐        ┌──────────────────────────────────┐
#    │ lo 10.99.0.1/32 fd99::1/128            │        │ eth0 10.244.1.2/32               │
#    │ ip_forward=1, v6 forwarding=1          │        │      fd00:10:244:1::2/128        │
#    │                                        │        │ 169.254.1.1 lladdr <vgA> PERM    │
#    │ vgA (vg + 12 hex of c1/eth0) ══════════╪═veth═══╪═fe80::1 lladdr <vgA> PERM        │
#    │ 10.244.1.2/32, fd00:…::2/128 dev vgA   │        │ default via 169.254.1.1 onlink   │
#    │                                        │        │ default via fe80::1              │
#    │ vgB (c2/eth0) ═════════════════════════╪═veth═╗ └──────────────────────────────────┘
#    │ 10.244.1.3/32, fd00:…::3/128 dev vgB   │      ║ ┌──────────────────────────────────┐
#    │ (host routes: proto 86)                │      ╚═╪═eth0 10.244.1.3/32 …::3/128 (p2) │
#    └────────────────────────────────────────┘        └──────────────────────────────────┘
#
# Later sections add pods p3… the same way, one namespace per case; p3 holds an eth0 of its
# own before ADD (a veth pair eth0/peer0 inside p3, nothing in the node).

. "$(dirname "$0")/lib.sh"

CIDRS=$DUAL
VERSIONS='["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]'
GW4='"gateway":"169.254.1.1","interface":1'
GW6='"gateway":"fe80::1","interface":1'
ROUTES='[{"dst":"0.0.0.0/0","gw":"169.254.1.1"},{"dst":"::/0","gw":"fe80::1"}]'

# conf VERSION [MEMBERS]: the network config a runtime puts on stdin; MEMBERS starts with ','.
conf() { netconf "$1" "$CIDRS" ",\"logFile\":\"$TMP/cni.log\"$2"; }
C10=$(conf 1.0.0)
C11=$(conf 1.1.0)

# links in the node and leases, as one line, to compare before and after a failing call
state() { echo "links: $(node_links | words); leases: $(lease_files | words)"; }

no_tentative() { [ -z "$(ip -n "${PFX}p$1" -6 addr show dev eth0 tentative)" ]; }

# undo_if_ok ID NETNS [CONF]: an ADD meant to fail succeeded; DEL it so later checks see only leaks.
undo_if_ok() {
	[ "$RC" = 0 ] || return 0
	cni DEL "$1" "$2" eth0 "${3:-$C10}"
}

# check_result NAME RESULT NETNS V4 V6: the 1.0.0 result of one ADD, field by field.
check_result() {
	local n=$1 r=$2 f
	mapfile -t f < <(j "$r" 'd["cniVersion"]' 'sorted(k for k in d if k != "dns")' \
		'd.get("dns", {})' 'len(d["interfaces"])' \
		'sorted(d["interfaces"][0])' 'd["interfaces"][0]["name"]' \
		'd["interfaces"][0]["mac"]' 'sorted(d["interfaces"][1])' \
		'd["interfaces"][1]["name"]' 'd["interfaces"][1]["mac"]' \
		'd["interfaces"][1]["sandbox"]' 'd["ips"]' 'd["routes"]')
	is "$n result: cniVersion" "${f[0]}" 1.0.0
	is "$n result: members" "${f[1]}" '["cniVersion","interfaces","ips","routes"]'
	is "$n result: no dns" "${f[2]}" '{}'
	is "$n result: 2 interfaces" "${f[3]}" 2
	is "$n result: host interface has name and mac, no sandbox" "${f[4]}" '["mac","name"]'
	like "$n result: host interface is vg + 12 hex" "${f[5]}" '^vg[0-9a-f]{12}$'
	like "$n result: host mac has 17 chars" "${f[6]}" '^([0-9a-f]{2}:){5}[0-9a-f]{2}$'
	is "$n result: pod interface has name, mac, sandbox" "${f[7]}" '["mac","name","sandbox"]'
	is "$n result: pod interface is eth0" "${f[8]}" eth0
	like "$n result: pod mac has 17 chars" "${f[9]}" '^([0-9a-f]{2}:){5}[0-9a-f]{2}$'
	is "$n result: sandbox is CNI_NETNS" "${f[10]}" "$3"
	is "$n result: ips" "${f[11]}" \
		"[{\"address\":\"$4/32\",$GW4},{\"address\":\"$5/128\",$GW6}]"
	is "$n result: routes" "${f[12]}" "$ROUTES"
	HV=${f[5]} HMAC=${f[6]} PMAC=${f[9]}
}

# check_kernel N ID V4 V6: what ADD built for pod N (uses HV, HMAC, PMAC of its result).
check_kernel() {
	local n=p$1 l
	l=$(pod "$1" ip -o link show dev eth0 || true)
	like "$n eth0: the result's mac" "$l" " link/ether $PMAC "
	like "$n eth0: mtu 1400" "$l" " mtu 1400 "
	like "$n eth0: up" "$l" '[<,]UP[,>]'
	is "$n eth0: addresses" "$(pod "$1" ip -o addr show dev eth0 scope global |
		awk '{ print $4 }' | sort | words)" "$3/32 $4/128"
	like "$n: IPv4 default route" "$(pod "$1" ip -4 route show default | sed 's/ *$//')" \
		'^default via 169\.254\.1\.1 dev eth0 (proto 86 )?onlink$'
	like "$n: IPv6 default route" "$(pod "$1" ip -6 route show default)" \
		'^default via fe80::1 dev eth0 '
	is "$n: gateway neighbour 169.254.1.1" "$(pod "$1" ip -4 neigh show 169.254.1.1 dev eth0 |
		sed 's/ *$//')" "169.254.1.1 lladdr $HMAC PERMANENT"
	like "$n: gateway neighbour fe80::1" "$(pod "$1" ip -6 neigh show fe80::1 dev eth0)" \
		"^fe80::1 lladdr $HMAC (router )?PERMANENT"
	l=$(node ip -o link show dev "$HV" || true)
	like "$n host veth $HV: the result's mac" "$l" " link/ether $HMAC "
	like "$n host veth: mtu 1400" "$l" " mtu 1400 "
	like "$n host veth: up" "$l" '[<,]UP[,>]'
	like "$n: node route to $3/32, proto 86" "$(routes86 4 | grep "^$3 ")" "^$3 dev $HV( |$)"
	like "$n: node route to $4/128, proto 86" "$(routes86 6 | grep "^$4 ")" "^$4 dev $HV( |$)"
	is "$n: leases of ($2, eth0)" "$(leases_of "$2" eth0 | words)" "$3 $4"
}

node_setup
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	pod_add $i
	declare "P$i=$(netns_path $i)"
done

# --- VERSION ------------------------------------------------------------------------------
# libcni's environment for VERSION: CNI_NETNS and CNI_IFNAME "dummy", the rest empty
cni VERSION "" dummy dummy '{"cniVersion":"1.0.0"}'
expect_ok "VERSION with a 1.0.0 config"
is "VERSION: answers in the version given" "$(j "$OUT" 'd["cniVersion"]')" 1.0.0
is "VERSION: supportedVersions" "$(j "$OUT" 'd["supportedVersions"]')" "$VERSIONS"
cni VERSION "" dummy dummy ""
expect_ok "VERSION with empty stdin"
is "VERSION (empty stdin): supportedVersions" "$(j "$OUT" 'd["supportedVersions"]')" "$VERSIONS"

# --- ADD ----------------------------------------------------------------------------------
cni ADD c1 "$P1" eth0 "$C10"
expect_ok "ADD pod1"
R1=$OUT
check_result p1 "$R1" "$P1" 10.244.1.2 fd00:10:244:1::2
HV1=$HV HMAC1=$HMAC PMAC1=$PMAC
check_kernel 1 c1 10.244.1.2 fd00:10:244:1::2

cni ADD c2 "$P2" eth0 "$C10"
expect_ok "ADD pod2"
R2=$OUT
check_result p2 "$R2" "$P2" 10.244.1.3 fd00:10:244:1::3
HV2=$HV PMAC2=$PMAC
check_kernel 2 c2 10.244.1.3 fd00:10:244:1::3

[ "$HV1" != "$HV2" ] && pass "host veth names differ per container" ||
	fail "host veth names differ per container: both $HV1"
[ "$HMAC1" != "$PMAC1" ] && pass "pod1: host and pod macs differ" ||
	fail "pod1: host and pod macs are both $HMAC1"
is "node: net.ipv4.ip_forward" "$(node sysctl -n net.ipv4.ip_forward)" 1
is "node: net.ipv6.conf.all.forwarding" "$(node sysctl -n net.ipv6.conf.all.forwarding)" 1
is "node: 2 IPv4 host routes with proto 86" "$(routes86 4 | wc -l)" 2
is "node: 2 IPv6 host routes with proto 86" "$(routes86 6 | wc -l)" 2
check "logFile receives the plugin's lines" test -s "$TMP/cni.log"

# --- reachability -------------------------------------------------------------------------
check "p1 and p2: IPv6 addresses leave tentative state" \
	wait_for eval 'no_tentative 1 && no_tentative 2'
check "p1 → p2 IPv4" pod 1 ping -c 1 -w 3 -i 0.2 10.244.1.3
check "p1 → p2 IPv6" pod 1 ping -6 -c 1 -w 3 -i 0.2 fd00:10:244:1::3
check "p2 → p1 IPv4" pod 2 ping -c 1 -w 3 -i 0.2 10.244.1.2
check "p2 → p1 IPv6" pod 2 ping -6 -c 1 -w 3 -i 0.2 fd00:10:244:1::2
check "p1 → node IPv4" pod 1 ping -c 1 -w 3 -i 0.2 10.99.0.1
check "p1 → node IPv6" pod 1 ping -6 -c 1 -w 3 -i 0.2 fd99::1
check "node → p2 IPv4" node ping -c 1 -w 3 -i 0.2 10.244.1.3
check "node → p2 IPv6" node ping -6 -c 1 -w 3 -i 0.2 fd00:10:244:1::3

# --- CHECK --------------------------------------------------------------------------------
cni CHECK c1 "$P1" eth0 "$(conf 1.0.0 ",\"prevResult\":$R1")"
expect_ok "CHECK pod1 right after ADD" empty
cni CHECK c2 "$P2" eth0 "$(conf 1.0.0 ",\"prevResult\":$R2")"
expect_ok "CHECK pod2 right after ADD" empty
cni CHECK c1 "$P1" eth0 "$C10"
expect_err "CHECK without prevResult" "$(err_in 6 7)"
check "delete pod1's IPv4 default route" pod 1 ip -4 route del default
cni CHECK c1 "$P1" eth0 "$(conf 1.0.0 ",\"prevResult\":$R1")"
expect_err "CHECK pod1 after its IPv4 default route was deleted" 105
like "CHECK names what differs" "$(j "$OUT" 'd["msg"] + " " + d.get("details", "")')" \
	'route|default|0\.0\.0\.0'
# a chained plugin (tuning) may change the MAC and rewrite prevResult: that is not drift
check "change pod2's MAC" pod 2 ip link set dev eth0 address 0a:58:0a:f4:01:fe
cni CHECK c2 "$P2" eth0 "$(conf 1.0.0 ",\"prevResult\":$R2")"
expect_err "CHECK pod2 with a MAC that is not the one in prevResult" 105
R2m=${R2//$PMAC2/0a:58:0a:f4:01:fe}
cni CHECK c2 "$P2" eth0 "$(conf 1.0.0 ",\"prevResult\":$R2m")"
expect_ok "CHECK pod2 with prevResult carrying the new MAC" empty
cni CHECK c2 "$P2" eth0 "$(conf 1.0.0 ",\"prevResult\":${R2m//\"$P2\"/\"$P3\"}")"
expect_err "CHECK pod2 with another sandbox in prevResult" 105
pp rm -f "$STORE/fd00:10:244:1::3"
cni CHECK c2 "$P2" eth0 "$(conf 1.0.0 ",\"prevResult\":$R2m")"
expect_err "CHECK pod2 after its IPv6 lease file was removed" 105

# --- ADD repeated, a second interface, an eth0 already there -------------------------------
before=$(state)
cni ADD c1 "$P1" eth0 "$C10"
expect_err "ADD repeated for (c1, eth0)" 102
is "repeated ADD: nothing added, nothing removed" "$(state)" "$before"
check "repeated ADD: pod1 keeps its eth0" pod 1 ip link show dev eth0

cni ADD c1 "$P1" eth1 "$C10"
expect_ok "ADD (c1, eth1): same container, second interface"
HV1b=$(j "$OUT" 'd["interfaces"][0]["name"]')
is "(c1, eth1): a host veth of its own" "$(host_veths | grep -c "^$HV1b$")" 1
is "(c1, eth1): its own pair of leases" "$(leases_of c1 eth1 | wc -l)" 2
cni DEL c1 "$P1" eth1 "$C10"
expect_ok "DEL (c1, eth1)" empty
is "DEL (c1, eth1): its leases released" "$(leases_of c1 eth1 | words)" ""
is "DEL (c1, eth1): the leases of (c1, eth0) stay" "$(leases_of c1 eth0 | words)" \
	"10.244.1.2 fd00:10:244:1::2"
check "DEL (c1, eth1): pod1 keeps eth0" pod 1 ip link show dev eth0
check_fails "DEL (c1, eth1): eth1 gone" pod 1 ip link show dev eth1

pod 3 ip link add eth0 type veth peer name peer0
before=$(state)
cni ADD c3 "$P3" eth0 "$C10"
expect_err "ADD into a netns that already has eth0" 102
is "ADD onto an existing eth0: nothing leaked" "$(state)" "$before"
cni DEL c3 "$P3" eth0 "$C10"
expect_ok "DEL after that failed ADD" empty
check "that DEL leaves the pod's own eth0 alone" pod 3 ip link show dev eth0

# --- DEL ----------------------------------------------------------------------------------
cni DEL c1 "$P1" eth0 "$(conf 1.0.0 ",\"prevResult\":$R1")"
expect_ok "DEL pod1 (with prevResult, as runtimes send it)" empty
check_fails "DEL pod1: host veth gone" node ip link show dev "$HV1"
check_fails "DEL pod1: eth0 gone from the pod" pod 1 ip link show dev eth0
is "DEL pod1: leases released" "$(leases_of c1 | words)" ""
is "DEL pod1: its host routes gone" "$({ routes86 4; routes86 6; } | grep -cE " dev $HV1( |$)")" 0
check_fails "p2 → pod1's old address: no answer" pod 2 ping -c 1 -W 1 10.244.1.2
cni DEL c1 "$P1" eth0 "$C10"
expect_ok "DEL pod1 again" empty
cni DEL c2 "" eth0 "$C10"
expect_ok "DEL pod2 with CNI_NETNS empty" empty
check_fails "DEL pod2: host veth gone" node ip link show dev "$HV2"
check_fails "DEL pod2: eth0 gone from the pod" pod 2 ip link show dev eth0
is "DEL pod2: leases released" "$(leases_of c2 | words)" ""
is "DELs: no host route with proto 86 left" "$(routes86 4; routes86 6)" ""
cni DEL never-added "$P4" eth0 "$C10"
expect_ok "DEL of a container never added" empty
cni ADD c12 "$P12" eth0 "$C10"
expect_ok "ADD pod12"
HV12=$(j "$OUT" 'd["interfaces"][0]["name"]')
pp ip netns del "${PFX}p12"
cni DEL c12 "$P12" eth0 "$C10"
expect_ok "DEL pod12 after its netns was deleted" empty
is "DEL after the netns is gone: leases released" "$(leases_of c12 | words)" ""
check "DEL after the netns is gone: host veth gone" \
	wait_for eval "! ip -n $NODE link show dev $HV12"

# --- the result in every version ---------------------------------------------------------
for v in 0.1.0 0.2.0 0.3.0 0.3.1 0.4.0 1.1.0; do
	id=cv${v//./}
	cni ADD "$id" "$P4" eth0 "$(conf $v)"
	expect_ok "ADD $v"
	r=$OUT
	is "ADD $v: answers in $v" "$(j "$r" 'd["cniVersion"]')" "$v"
	case $v in
	0.1.0 | 0.2.0)
		is "ADD $v: ip4/ip6 form, no interfaces" \
			"$(j "$r" 'sorted(k for k in d if k != "dns")')" \
			'["cniVersion","ip4","ip6"]'
		like "ADD $v: ip4" "$(j "$r" 'd["ip4"]["ip"] + " " + d["ip4"]["gateway"]')" \
			'^10\.244\.1\.[0-9]+/32 169\.254\.1\.1$'
		like "ADD $v: ip6" "$(j "$r" 'd["ip6"]["ip"] + " " + d["ip6"]["gateway"]')" \
			'^fd00:10:244:1::[0-9a-f]+/128 fe80::1$'
		is "ADD $v: routes per family" \
			"$(j "$r" '[r["dst"] for r in d["ip4"]["routes"] + d["ip6"]["routes"]]')" \
			'["0.0.0.0/0","::/0"]'
		;;
	0.3.*|0.4.0)
		is "ADD $v: every ip carries its version" \
			"$(j "$r" '[i["version"] for i in d["ips"]]')" '["4","6"]'
		is "ADD $v: interfaces without mtu" \
			"$(j "$r" '[sorted(i) for i in d["interfaces"]]')" \
			'[["mac","name"],["mac","name","sandbox"]]'
		is "ADD $v: routes" "$(j "$r" 'd["routes"]')" "$ROUTES"
		;;
	1.1.0)
		is "ADD $v: eth0 carries its mtu" "$(j "$r" 'd["interfaces"][1].get("mtu")')" 1400
		is "ADD $v: ips without version" "$(j "$r" '["version" in i for i in d["ips"]]')" \
			'[false,false]'
		;;
	esac
	[ $v = 0.1.0 ] && like "round robin: the first ADD after DEL pod1 does not get .2" \
		"$(leases_of "$id" | words)" '^10\.244\.1\.([4-9]|[1-9][0-9]+) '
	is "ADD $v: the pod has eth0" "$(pod_links 4)" eth0
	cni DEL "$id" "$P4" eth0 "$(conf $v)"
	expect_ok "DEL $v" empty
	is "DEL $v: nothing left" \
		"$(pod_links 4 | words) $(host_veths | words) $(leases_of "$id" | words)" "  "
done

# --- errors -------------------------------------------------------------------------------
before=$(state)
cni ADD e1 "$P4" eth0 '{"cniVersion":"1.0.0","name":'
expect_err "ADD with a truncated JSON config" 6
cni ADD e1 "$P4" eth0 "$(conf 9.9.9)"
expect_err "ADD with cniVersion 9.9.9" 1
undo_if_ok e1 "$P4"
cni CHECK e1 "$P4" eth0 "$(conf 0.3.1)"
expect_err "CHECK with a 0.3.1 config" 1
cni ADD "" "$P4" eth0 "$C10"
expect_err "ADD with CNI_CONTAINERID empty" 4
cni_env "$C10" CNI_COMMAND=ADD CNI_NETNS="$P4" CNI_IFNAME=eth0 CNI_PATH=/opt/cni/bin
expect_err "ADD with CNI_CONTAINERID unset" 4
cni ADD 'bad id!' "$P4" eth0 "$C10"
expect_err "ADD with an invalid CNI_CONTAINERID" 4
cni ADD e1 "$P4" eth/0 "$C10"
expect_err "ADD with CNI_IFNAME eth/0" 4
cni ADD e1 "$P4" 0123456789abcdef "$C10"
expect_err "ADD with a 16-byte CNI_IFNAME" 4
cni ADD e1 "" eth0 "$C10"
expect_err "ADD with CNI_NETNS empty" 4
cni FROB e1 "$P4" eth0 "$C10"
expect_err "CNI_COMMAND=FROB" 4
cni_env "$C10" CNI_CONTAINERID=e1 CNI_NETNS="$P4" CNI_IFNAME=eth0 CNI_PATH=/opt/cni/bin
# as the reference library does: an about text on stderr, nothing on stdout, exit 0
expect_ok "CNI_COMMAND unset" empty
like "CNI_COMMAND unset: stderr names the supported versions" "$ERR" "CNI protocol versions supported"
cni STATUS "" "" "" "$C10"
expect_err "STATUS with a 1.0.0 config" 1
cni GC "" "" "" "$C10"
expect_err "GC with a 1.0.0 config" 1
cni ADD e1 "$P4" eth0 "$(conf 1.0.0 ',"ipam":{"type":"host-local"}')"
expect_err "ADD with an ipam key" 2
undo_if_ok e1 "$P4"
CIDRS='["10.244.1.0/33","fd00:10:244:1::/64"]'
cni ADD e1 "$P4" eth0 "$(conf 1.0.0)"
expect_err "ADD with podCIDR 10.244.1.0/33" 7
undo_if_ok e1 "$P4"
CIDRS='["10.244.1.0/24","10.244.2.0/24"]'
cni ADD e1 "$P4" eth0 "$(conf 1.0.0)"
expect_err "ADD with two IPv4 podCIDRs" 7
undo_if_ok e1 "$P4"
CIDRS=$DUAL
cni ADD e1 "$P4" eth0 "$(conf 1.0.0 | sed 's/"mtu":1400/"mtu":"big"/')"
expect_err "ADD with mtu \"big\"" 7
undo_if_ok e1 "$P4"
cni ADD e1 "$P4" eth0 "${C10/\"name\":\"$NET\"/\"name\":\"../escape\"}"
expect_err "ADD with network name ../escape" 7
undo_if_ok e1 "$P4" "${C10/\"name\":\"$NET\"/\"name\":\"../escape\"}"
cni ADD e1 "/run/netns/${PFX}missing" eth0 "$C10"
expect_err "ADD with a CNI_NETNS that does not exist" 106
touch "$TMP/not-a-netns"
cni ADD e1 "$TMP/not-a-netns" eth0 "$C10"
expect_err "ADD with a CNI_NETNS that is a plain file" 106
# the agent must confirm the pod's policy before ADD returns; no agent answering: code 11
CA=$(conf 1.0.0 ",\"agentSocket\":\"$TMP/no-agent.sock\"")
cni ADD e1 "$P4" eth0 "$CA" "K8S_POD_NAMESPACE=x;K8S_POD_NAME=d"
expect_err "ADD with agentSocket and no agent listening" 11
touch "$TMP/plain.sock"
cni ADD e1 "$P4" eth0 "${CA/no-agent.sock/plain.sock}" "K8S_POD_NAMESPACE=x;K8S_POD_NAME=d"
expect_err "ADD with an agentSocket that is a plain file" 11
cni ADD e1 "$P4" eth0 "$(conf 1.0.0 ',"agentSocket":"relative.sock"')"
expect_err "ADD with a relative agentSocket" 7
undo_if_ok e1 "$P4"
is "failed ADDs: nothing leaked" "$(state)" "$before"
is "failed ADDs: the pod has no interface" "$(pod_links 4 | words)" ""
cni ADD e1 "$P4" eth0 "$CA"
expect_ok "ADD with agentSocket but no pod name in CNI_ARGS: the agent is not asked"
cni DEL e1 "$P4" eth0 "$CA"
expect_ok "DEL with agentSocket and no agent: the agent's record is best effort" empty
test ! -e "$DATA/networks/escape" && test ! -e "$DATA/escape" &&
	pass "no store outside networks/" || fail "a store was created outside networks/"

# --- STATUS and GC ------------------------------------------------------------------------
cni STATUS "" "" "" "$C11"
expect_ok "STATUS with a 1.1.0 config: ready" empty

cni ADD gA "$P5" eth0 "$C11"
expect_ok "ADD A for GC"
HVA=$(j "$OUT" 'd["interfaces"][0]["name"]')
cni ADD gB "$P6" eth0 "$C11"
expect_ok "ADD B for GC"
HVB=$(j "$OUT" 'd["interfaces"][0]["name"]')
ONLY_A='[{"containerID":"gA","ifname":"eth0"}]'
cni GC "" "" "" "$(conf 1.1.0 ",\"cni.dev/valid-attachments\":$ONLY_A")"
expect_ok "GC with valid-attachments = [A]" empty
is "GC: B's leases released" "$(leases_of gB | words)" ""
check_fails "GC: B's host veth gone" node ip link show dev "$HVB"
is "GC: B's pod has no interface left" "$(pod_links 6 | words)" ""
is "GC: A's leases kept" "$(leases_of gA eth0 | wc -l)" 2
check "GC: A's host veth kept" node ip link show dev "$HVA"
check "GC: A still reaches the node" pod 5 ping -c 1 -w 3 -i 0.2 10.99.0.1

cni ADD gB "$P6" eth0 "$C11"
expect_ok "ADD B again"
cni GC "" "" "" "$(conf 1.1.0 ",\"cni.dev/attachments\":$ONLY_A")"
expect_ok "GC with the legacy cni.dev/attachments = [A]" empty
is "legacy GC: B's leases released" "$(leases_of gB | words)" ""
check_fails "legacy GC: B's host veth gone" node ip link show dev "$HVB"
is "legacy GC: A's leases kept" "$(leases_of gA eth0 | wc -l)" 2
check "legacy GC: A's host veth kept" node ip link show dev "$HVA"

cni GC "" "" "" "$C11"
expect_ok "GC with no list" empty
is "GC with no list: every lease released" "$(lease_files | words)" ""
is "GC with no list: no host veth left" "$(host_veths | words)" ""
is "GC with no list: A's pod has no interface left" "$(pod_links 5 | words)" ""

# --- requested addresses and MACs --------------------------------------------------------
cni ADD r1 "$P7" eth0 "$C10" "IgnoreUnknown=1;K8S_POD_NAME=x;IP=10.244.1.77"
expect_ok "ADD with CNI_ARGS IP=10.244.1.77"
is "CNI_ARGS IP=: that address" "$(j "$OUT" 'd["ips"][0]["address"]')" 10.244.1.77/32
like "CNI_ARGS IP=: leased" "$(leases_of r1 eth0 | words)" '^10\.244\.1\.77 fd00:'
like "CNI_ARGS IP=: on the pod's eth0" "$(pod 7 ip -4 -o addr show dev eth0)" ' 10\.244\.1\.77/32 '

IPS='"capabilities":{"ips":true},"runtimeConfig":{"ips"'
cni ADD r2 "$P8" eth0 "$(conf 1.0.0 ",$IPS:[\"10.244.1.78/24\",\"fd00:10:244:1::78/64\"]}")"
expect_ok "ADD with runtimeConfig.ips"
is "runtimeConfig.ips: exactly those addresses" "$(j "$OUT" '[i["address"] for i in d["ips"]]')" \
	'["10.244.1.78/32","fd00:10:244:1::78/128"]'
is "runtimeConfig.ips: leased" "$(leases_of r2 eth0 | words)" "10.244.1.78 fd00:10:244:1::78"

cni ADD r3 "$P9" eth0 "$(conf 1.0.0 ",$IPS:[\"10.244.1.79/24\"]}")" \
	"IgnoreUnknown=1;IP=10.244.1.80"
expect_ok "ADD with runtimeConfig.ips and CNI_ARGS IP="
is "runtimeConfig.ips wins over CNI_ARGS IP=" "$(j "$OUT" 'd["ips"][0]["address"]')" 10.244.1.79/32
cni DEL r3 "$P9" eth0 "$C10"
expect_ok "DEL r3" empty

cni ADD r4 "$P9" eth0 "$(conf 1.0.0 ',"args":{"cni":{"ips":["10.244.1.81/24"]}}')"
expect_ok "ADD with args.cni.ips"
is "args.cni.ips: that address" "$(j "$OUT" 'd["ips"][0]["address"]')" 10.244.1.81/32
cni DEL r4 "$P9" eth0 "$C10"
expect_ok "DEL r4" empty

before=$(state)
for req in 10.244.1.77:taken 10.245.0.5:outside 10.244.1.1:gateway 10.244.1.0:network \
	10.244.1.255:broadcast fd00:10:244:1::78:taken fd00:10:244:1:::network \
	fd00:10:244:1::1:gateway; do
	ip=${req%:*}
	cni ADD rx "$P10" eth0 "$C10" "IgnoreUnknown=1;IP=$ip"
	expect_err "requested IP $ip (${req##*:})" 101
	is "requested IP $ip: nothing leaked" "$(state) $(pod_links 10 | words)" "$before "
	cni DEL rx "$P10" eth0 "$C10"
	expect_ok "DEL after the refused request of $ip" empty
done
is "DELs of refused requests leave r1's lease alone" "$(leases_of r1 eth0 | head -n 1)" 10.244.1.77
is "DELs of refused requests leave r2's leases alone" "$(leases_of r2 eth0 | words)" \
	"10.244.1.78 fd00:10:244:1::78"

MAC='"capabilities":{"mac":true},"runtimeConfig":{"mac":"0a:58:0a:f4:01:99"}'
cni ADD m1 "$P10" eth0 "$(conf 1.0.0 ",$MAC")"
expect_ok "ADD with runtimeConfig.mac"
is "runtimeConfig.mac: in the result" "$(j "$OUT" 'd["interfaces"][1]["mac"]')" 0a:58:0a:f4:01:99
like "runtimeConfig.mac: on eth0" "$(pod 10 ip -o link show dev eth0)" \
	' link/ether 0a:58:0a:f4:01:99 '
cni DEL m1 "$P10" eth0 "$C10"
expect_ok "DEL m1" empty
cni ADD m2 "$P10" eth0 "$C10" "IgnoreUnknown=1;K8S_POD_NAME=x;MAC=0a:58:0a:f4:01:9a"
expect_ok "ADD with CNI_ARGS MAC="
like "CNI_ARGS MAC=: on eth0" "$(pod 10 ip -o link show dev eth0)" ' link/ether 0a:58:0a:f4:01:9a '
cni DEL m2 "$P10" eth0 "$C10"
expect_ok "DEL m2" empty

for id in r1:7 r2:8; do
	cni DEL "${id%:*}" "$(netns_path "${id#*:}")" eth0 "$C10"
	expect_ok "DEL ${id%:*}" empty
done

# --- defaults: pod ranges and mtu from node.json, mtu of a node without a default route ----
mkdir -p "$DATA"
printf '{"podCIDRs":["10.244.1.0/24","fd00:10:244:1::/64"],"mtu":1380}\n' >"$DATA/node.json"
cni ADD n1 "$P11" eth0 \
	"{\"cniVersion\":\"1.0.0\",\"name\":\"$NET\",\"type\":\"virgil\",\"dataDir\":\"$DATA\"}"
expect_ok "ADD without podCIDRs: read from node.json"
like "node.json: addresses from its ranges" "$(j "$OUT" '[i["address"] for i in d["ips"]]')" \
	'^\["10\.244\.1\.[0-9]+/32","fd00:10:244:1::[0-9a-f]+/128"\]$'
like "node.json: its mtu on eth0" "$(pod 11 ip -o link show dev eth0)" ' mtu 1380 '
cni DEL n1 "$P11" eth0 "$C10"
expect_ok "DEL n1" empty
cni ADD n2 "$P11" eth0 "$(conf 1.0.0 | sed 's/"mtu":1400,//')"
expect_ok "ADD without mtu"
like "no mtu, no default route in the node: 1500" "$(pod 11 ip -o link show dev eth0)" ' mtu 1500 '
cni DEL n2 "$P11" eth0 "$C10"
expect_ok "DEL n2" empty

account
