#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 60-agent-multinode.sh: three node agents (virgild) and a fake kube-apiserver on a routed
# underlay, against docs/agent.md. No setting names the API server: n1 finds it in a kubeadm
# kubelet kubeconfig, n2 at a KubePrism-style balancer, n3 in a k3s kubelet kubeconfig and,
# once that is gone, in its cached endpoints. Then: node.json and the conflist,
# NetworkUnavailable=False by a strategic-merge PATCH, direct and VXLAN routes with their
# neighbour and fdb entries, pod to pod traffic over both (IPv4, IPv6, full MTU), a Node
# deleted and re-added, an agent restart that changes no route, an API server outage during
# which a node appears, the request rate afterwards, and the accounting at the end.
#
#                      vg$$-sw: bridge br0, the shared underlay 10.100.0.0/24 fd00:100::/64
#       ┌───────────────────┬────────────────────┬──────────────────┬──────────────────┐
#     port n1             port n2              port api           port rt
#  ┌────┴─────────────┐ ┌───┴──────────────┐ ┌───┴─────────────┐ ┌──┴─────────────────────┐
#  │ vg$$-n1          │ │ vg$$-n2          │ │ vg$$-api        │ │ vg$$-rt (forwarding)   │
#  │ eth0 10.100.0.1  │ │ eth0 10.100.0.2  │ │ eth0 .100 ::100 │ │ eth0 10.100.0.254 ::254│
#  │      fd00:100::1 │ │      fd00:100::2 │ │ fakeapi :6443   │ │ eth1 10.101.0.254      │
#  │ virgild: server  │ │ virgild: server  │ │ control         │ │      fd00:101::254     │
#  │ from kubelet.conf│ │ at KubePrism     │ │ 127.0.0.1:7000  │ └──┬─────────────────────┘
#  │ pods 10.244.1/24 │ │ 127.0.0.1:7445 → │ └─────────────────┘    │ second segment
#  │  fd00:244:1::/64 │ │ 10.100.0.100:6443│                        │ 10.101.0.0/24
#  │ p1 ═veth═ vg…    │ │ pods 10.244.2/24 │                        │ fd00:101::/64
#  └──────────────────┘ │  fd00:244:2::/64 │ ┌──────────────────────┴─────────────────────┐
#                       │ p2 ═veth═ vg…    │ │ vg$$-n3  eth0 10.101.0.3 fd00:101::3       │
#                       └──────────────────┘ │ default via rt; virgild: k3s kubeconfig,   │
#   n1, n2, api: 10.101.0.0/24 and           │ then cached endpoints                      │
#   fd00:101::/64 via rt                     │ pods 10.244.3/24 fd00:244:3::/64  p3 ═veth═│
#                                            └────────────────────────────────────────────┘
#
# What the agents must build (proto 86):
#   n1 ↔ n2 direct: 10.244.2.0/24 via 10.100.0.2 dev eth0, fd00:244:2::/64 via fd00:100::2
#   n1, n2 ↔ n3 over VXLAN (VNI 86, UDP 4789): 10.244.3.0/24 via 10.244.3.0 dev virgil.vxlan
#   onlink, fd00:244:3::/64 via fe80::c56:45ff:fe03:abb (the link-local address of n3's IPv6
#   VTEP MAC 0e:56:45:03:0a:bb) dev virgil.vxlan6 onlink, a neighbour entry for the gateway
#   (VTEP MAC: 0e:56 + the peer's IPv4 underlay address, or 4 bytes of an FNV-1a hash of its
#   IPv6 one) and an fdb entry to its InternalIP.
# Later n4 (InternalIP 10.101.0.4, pods 10.244.4.0/24, no namespace) appears while the API
# server is down: n1 and n2 must reach it over virgil.vxlan, n3 directly via 10.101.0.4.

. "$(dirname "$0")/lib.sh"

T=$TMP
declare -A APID ALOG PCONF PIP4 PIP6 IP4 IP6 POD4 POD6
IP4=([1]=10.100.0.1 [2]=10.100.0.2 [3]=10.101.0.3 [4]=10.101.0.4)
IP6=([1]=fd00:100::1 [2]=fd00:100::2 [3]=fd00:101::3 [4]=)
POD4=([1]=10.244.1.0/24 [2]=10.244.2.0/24 [3]=10.244.3.0/24 [4]=10.244.4.0/24)
POD6=([1]=fd00:244:1::/64 [2]=fd00:244:2::/64 [3]=fd00:244:3::/64 [4]=)
NODE_T0=${NODE_T0:-20}		# seconds an agent may take to become ready
READY='ready: (wrote|kept) '	# the agent's log line once the conflist is in place

# ---------------------------------------------------------------------------------------
# Helpers

# node_obj I: the Node nI as a kubelet and the controller-manager leave it
node_obj() {
	local i=$1 a c
	a="{\"type\":\"InternalIP\",\"address\":\"${IP4[$i]}\"}"
	[ -z "${IP6[$i]}" ] || a+=",{\"type\":\"InternalIP\",\"address\":\"${IP6[$i]}\"}"
	c="\"${POD4[$i]}\""
	[ -z "${POD6[$i]}" ] || c+=",\"${POD6[$i]}\""
	printf '{"kind":"Node","apiVersion":"v1","metadata":{"name":"n%s","labels":' "$i"
	printf '{"kubernetes.io/hostname":"n%s","kubernetes.io/os":"linux"}},' "$i"
	printf '"spec":{"podCIDR":"%s","podCIDRs":[%s]},"status":{"addresses":[%s,' \
		"${POD4[$i]}" "$c" "$a"
	printf '{"type":"Hostname","address":"n%s"}],"conditions":[{"type":"Ready",' "$i"
	printf '"status":"True","reason":"KubeletReady","lastHeartbeatTime":'
	printf '"2026-01-01T00:00:00Z","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}\n'
}

# agent_start I TAG: nI's virgild in the background, in nI, with nothing naming the API
# server in its environment; APID[I] is its own pid (ip and env exec into it).
agent_start() {
	local i=$1
	ALOG[$i]=$T/n$i.$2.log
	pretty "n$i" "virgild --node-name n$i --data-dir $T/n$i/data ... --debug &> ${ALOG[$i]##*/}"
	ip netns exec "${PFX}n$i" env -u NODE_NAME -u KUBECONFIG -u VIRGIL_API_SERVER \
		-u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT \
		"$VIRGIL" virgild --node-name "n$i" --data-dir "$T/n$i/data" \
		--cni-conf-dir "$T/n$i/net.d" --host-root "$T/n$i/root" \
		--token-file "$T/n$i/token" --ca-file "$T/ca.pem" --debug >"${ALOG[$i]}" 2>&1 &
	APID[$i]=$!
}

conflist() { echo "$T/n$1/net.d/10-virgil.conflist"; }
ready_or_dead() { test -s "$(conflist "$1")" || ! pid_alive "${APID[$1]}"; }
logged() { grep -qE "$2" "${ALOG[$1]}"; }
logged_or_dead() { logged "$1" "$2" || ! pid_alive "${APID[$1]}"; }
api_line() { grep -m 1 -oE 'API server [^ ]+ \(from .*\)' "${ALOG[$1]}" || true; }

# agent_stop I: SIGTERM, at most 5 s; it must exit 0
agent_stop() {
	pretty "n$1" "kill -TERM ${APID[$1]} (virgild)"
	stop_pid "${APID[$1]}" TERM 5
	is "n$1: virgild exits 0 on SIGTERM" "$KRC" 0
}

# routes / neighbours / fdb of node nI, one per line, trailing blanks cut
r86() { ip -n "${PFX}n$1" "-$2" route show proto 86 | sed 's/ *$//'; }
route_to() { r86 "$1" "$2" | grep "^${3%/*}/" || true; }
neigh_of() { ip -n "${PFX}n$1" neigh show dev "$2" "$3" 2>/dev/null | sed 's/ *$//' || true; }
fdb_of() {
	ip netns exec "${PFX}n$1" bridge fdb show dev "$2" 2>/dev/null | grep "^$3 " |
		sed 's/ *$//' || true
}
vtep4() { printf '0e:56:%02x:%02x:%02x:%02x' ${1//./ }; }
vtep6() {
	"$PY" -c '
import ipaddress, sys
h = 0xcbf29ce484222325
for b in ipaddress.ip_address(sys.argv[1]).packed:
	h = ((h ^ b) * 0x100000001b3) & (2**64 - 1)
print("0e:56:" + ":".join("%02x" % x for x in (h & 0xffffffff).to_bytes(4, "big")))' "$1"
}
# gw6 MAC: the IPv6 VXLAN gateway, the link-local address of a VTEP MAC (modified EUI-64)
gw6() {
	"$PY" -c '
import ipaddress, sys
m = bytes.fromhex(sys.argv[1].replace(":", ""))
iid = bytes([m[0] ^ 2]) + m[1:3] + b"\xff\xfe" + m[3:]
print(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + iid))' "$1"
}

# expect_direct I J: nI routes nJ's pod ranges via nJ's InternalIPs on eth0
expect_direct() {
	local i=$1 j=$2
	like "n$i → n$j pods: direct route ${POD4[$j]}" "$(route_to "$i" 4 "${POD4[$j]}")" \
		"^${POD4[$j]//./\\.} via ${IP4[$j]//./\\.} dev eth0( |$)"
	[ -z "${POD6[$j]}" ] ||
		like "n$i → n$j pods: direct route ${POD6[$j]}" "$(route_to "$i" 6 "${POD6[$j]}")" \
			"^${POD6[$j]} via ${IP6[$j]} dev eth0 "
}

# expect_vxlan I J: nI routes nJ's pod ranges over VXLAN, with neighbour and fdb entries
expect_vxlan() {
	local i=$1 j=$2 g m
	g=${POD4[$j]%/*}
	m=$(vtep4 "${IP4[$j]}")
	like "n$i → n$j pods: VXLAN route ${POD4[$j]}" "$(route_to "$i" 4 "${POD4[$j]}")" \
		"^${POD4[$j]//./\\.} via ${g//./\\.} dev virgil\\.vxlan .*onlink"
	is "n$i → n$j: neighbour $g on virgil.vxlan" "$(neigh_of "$i" virgil.vxlan "$g")" \
		"$g lladdr $m PERMANENT"
	like "n$i → n$j: fdb $m → ${IP4[$j]}" "$(fdb_of "$i" virgil.vxlan "$m")" \
		"^$m dst ${IP4[$j]//./\\.} .*permanent"
	[ -n "${POD6[$j]}" ] || return 0
	m=$(vtep6 "${IP6[$j]}")
	g=$(gw6 "$m")
	like "n$i → n$j pods: VXLAN route ${POD6[$j]}" "$(route_to "$i" 6 "${POD6[$j]}")" \
		"^${POD6[$j]} via $g dev virgil\\.vxlan6 .*onlink"
	like "n$i → n$j: neighbour $g on virgil.vxlan6" "$(neigh_of "$i" virgil.vxlan6 "$g")" \
		"^$g lladdr $m (router )?PERMANENT$"
	like "n$i → n$j: fdb $m → ${IP6[$j]}" "$(fdb_of "$i" virgil.vxlan6 "$m")" \
		"^$m dst ${IP6[$j]} .*permanent"
}

# no_routes_to I J: nI has no route to nJ's pod ranges, nor neighbour or fdb entry for it
no_routes_to() {
	[ -z "$(route_to "$1" 4 "${POD4[$2]}")$(route_to "$1" 6 "${POD6[$2]}")" ] &&
		[ -z "$(fdb_of "$1" virgil.vxlan "$(vtep4 "${IP4[$2]}")")" ]
}
routes_both() { route_to "$1" 4 "${POD4[$2]}"; route_to "$1" 6 "${POD6[$2]}"; }
has_routes_to() {
	[ -n "$(route_to "$1" 4 "${POD4[$2]}")" ] &&
		{ [ -z "${POD6[$2]}" ] || [ -n "$(route_to "$1" 6 "${POD6[$2]}")" ]; }
}

# what an agent restart must leave alone, as one text
kstate() {
	local i=$1
	echo "routes4:"; r86 "$i" 4
	echo "routes6:"; r86 "$i" 6
	echo "links:"; ip -n "${PFX}n$i" -o link show | grep -oE '^[0-9]+: virgil\.vxlan6?' || true
	echo "neigh:"; ip -n "${PFX}n$i" neigh show nud permanent | sed 's/ *$//' | sort
	echo "fdb:"; ip netns exec "${PFX}n$i" bridge fdb show | grep -E 'dev virgil\.vxlan' | sort
}

# NetworkUnavailable=False PATCHes of nodes/NAME/status recorded by the fake
PATCHPY='
import json, sys
ps, node = json.load(open(sys.argv[1])), sys.argv[2]
def cleared(p):
	try:
		b = json.loads(p["body"])
	except ValueError:
		return False
	return any(c.get("type") == "NetworkUnavailable" and c.get("status") == "False"
		for c in (b.get("status") or {}).get("conditions") or [])
mine = [p for p in ps if p["path"] == "/api/v1/nodes/%s/status" % node]
good = [p for p in mine if p["code"] == 200 and cleared(p) and p["contentType"].split(";")[0]
	.strip() == "application/strategic-merge-patch+json"]
print(len(good), len(mine))
'
patches() {
	fctl api GET /patches >"$T/patches.json" && "$PY" -c "$PATCHPY" "$T/patches.json" "$1"
}
patched() { [ "$(patches "$1" | cut -d' ' -f1)" -ge 1 ]; }

# unavail_of I: the status of the NetworkUnavailable condition of the stored Node nI
unavail_of() {
	fctl api GET "/objects/node/-/n$1" >"$T/node.json" && "$PY" -c 'import json, sys
c = [c for c in json.load(open(sys.argv[1]))["status"].get("conditions", [])
	if c["type"] == "NetworkUnavailable"]
print(c[0]["status"] if c else "absent")' "$T/node.json"
}

# The fake's request log, attributed to agents by source address (conn ids from its stderr).
# Prints a report, then "MAX <max LIST per agent+resource> <max requests per agent> <n>".
REQPY='
import collections, json, re, sys
req, err, since = json.load(open(sys.argv[1])), sys.argv[2], float(sys.argv[3])
who = {"10.100.0.1": "n1", "10.100.0.2": "n2", "10.101.0.3": "n3"}
conn = {}
for line in open(err, errors="replace"):
	m = re.match(r"fakeapi: conn (\d+) (\[[^\]]*\]|[0-9.]+):\d+", line)
	if m:
		conn[int(m.group(1))] = who.get(m.group(2).strip("[]"), m.group(2))
per = collections.Counter()
tot = collections.Counter()
for e in req["log"]:
	if e["t"] < since:
		continue
	a = conn.get(e.get("conn"), "?")
	per[(a, e["verb"], e["path"])] += 1
	tot[a] += 1
for (a, v, p), n in sorted(per.items()):
	print("#   %-3s %-6s %-60s %d" % (a, v, p, n))
print("#   total per agent: %s" % (", ".join("%s %d" % kv for kv in sorted(tot.items())) or "none"))
if tot["?"]:
	print("#   (? = still running, i.e. an open watch: the fake logs the connection at its end)")
if since == 0:
	print("#   TLS connections accepted: %d for %d requests" % (req["connections"], req["total"]))
lists = [n for (a, v, p), n in per.items() if v == "LIST"]
print("MAX %d %d %d" % (max(lists or [0]), max(tot.values() or [0]), sum(tot.values())))
'
req_report() { "$PY" -c "$REQPY" "$T/requests.json" "$1" "$2"; }

mark_seen() { grep -q "$1" "$T/mon.n1"; }

# mark ADDR: a marker route (proto 87, which no agent touches) added and deleted in n1, and
# both events seen by the route monitor: everything the kernel said before has been printed.
# The first marker may come before the monitor has subscribed: then it is tried again.
mark() {
	local try
	for try in 1 2 3 4 5; do
		nsx n1 ip route add "$1/32" dev lo proto 87
		if WAIT_S=1 wait_for mark_seen "^$1 dev lo"; then
			nsx n1 ip route del "$1/32" dev lo proto 87
			wait_for mark_seen "^Deleted $1 dev lo"
			return
		fi
		nsx n1 ip route del "$1/32" dev lo proto 87
	done
	return 1
}

dump_logs() {
	local f
	for f in "$T"/n?.*.log "$T"/fake*.out.err "$T"/fwd.out; do
		[ -s "$f" ] || continue
		echo "# last lines of ${f##*/}:"
		tail -n 40 "$f" | sed 's/^/#   /'
	done
}

# KEEP_LOGS=DIR keeps a copy of the run's files (logs, configs, the fake's records) there
keep_logs() { [ -z "${KEEP_LOGS:-}" ] || { mkdir -p "$KEEP_LOGS" && cp -a "$T/." "$KEEP_LOGS/"; }; }

on_exit_60() {
	local rc=$?
	set +e
	[ ! -d "$T" ] || keep_logs
	if [ -d "$T" ] && { [ "$FAILED" -ne 0 ] || [ "$DONE" != 1 ]; }; then
		dump_logs
	fi
	(exit $rc)
	on_exit
}
trap on_exit_60 EXIT

"$VIRGIL" virgild --help >/dev/null 2>&1 || { fail "$VIRGIL has no virgild applet"; exit 1; }

# ---------------------------------------------------------------------------------------
# The underlay

for ns in sw n1 n2 n3 rt api; do
	pp ip netns add "$PFX$ns"
	nsx $ns ip link set lo up
done
nsx sw ip link add br0 type bridge mcast_snooping 0
nsx sw ip link set br0 up
for ns in n1 n2 api rt; do
	veth_ns sw "$ns" "$ns" eth0
	nsx sw ip link set "$ns" master br0
done
veth_ns rt eth1 n3 eth0
for a in n1:1 n2:2 api:100 rt:254; do
	nsx "${a%:*}" ip addr add "10.100.0.${a#*:}/24" dev eth0
	nsx "${a%:*}" ip addr add "fd00:100::${a#*:}/64" dev eth0 nodad
done
nsx rt ip addr add 10.101.0.254/24 dev eth1
nsx rt ip addr add fd00:101::254/64 dev eth1 nodad
nsx rt sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
nsx n3 ip addr add 10.101.0.3/24 dev eth0
nsx n3 ip addr add fd00:101::3/64 dev eth0 nodad
nsx n3 ip route add default via 10.101.0.254
nsx n3 ip -6 route add default via fd00:101::254
for ns in n1 n2 api; do
	nsx $ns ip route add 10.101.0.0/24 via 10.100.0.254
	nsx $ns ip -6 route add fd00:101::/64 via fd00:100::254
done
check "underlay: n1 → n3 IPv4 (routed)" nsx n1 ping -c 1 -w 3 -i 0.2 10.101.0.3
check "underlay: n1 → n3 IPv6 (routed)" nsx n1 ping -6 -c 1 -w 3 -i 0.2 fd00:101::3
check "underlay: n3 → api IPv4" nsx n3 ping -c 1 -w 3 -i 0.2 10.100.0.100

# ---------------------------------------------------------------------------------------
# PKI, tokens, objects, the fake API server, the node roots

pki_make "$T" "IP:10.100.0.100,IP:fd00:100::100,IP:127.0.0.1"
pass "test PKI: CA, API server certificate with IP SANs only"
for i in 1 2 3; do
	mkdir -p "$T/n$i/data" "$T/n$i/net.d" "$T/n$i/root"
	printf 'virgil-sa-n%s-%s%s%s\n' "$i" $RANDOM $RANDOM $RANDOM >"$T/n$i/token"
done
cat "$T"/n[123]/token >"$T/tokens"
for i in 1 2 3; do node_obj $i; done >"$T/objects.json"

FAKE_ARGS=(--listen 10.100.0.100:6443 --listen '[fd00:100::100]:6443' --cert "$T/srv.pem"
	--key "$T/srv.key" --token-file "$T/tokens" --control 127.0.0.1:7000
	--endpoint 10.100.0.100 --endpoint-port 6443)
if fakeapi_start api "$T/fake1.out" "${FAKE_ARGS[@]}" --objects "$T/objects.json"; then
	pass "fakeapi started: $(head -n 1 "$T/fake1.out")"
else
	fail "fakeapi did not start"
	exit 1
fi

# n1: a kubeadm kubelet.conf; its client certificate does not exist (the agent takes the
# server only, never the kubelet's credentials)
mkdir -p "$T/n1/root/etc/kubernetes"
cat >"$T/n1/root/etc/kubernetes/kubelet.conf" <<EOF
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: $(base64 -w0 <"$T/ca.pem")
    server: https://10.100.0.100:6443
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: system:node:n1
  name: system:node:n1@kubernetes
current-context: system:node:n1@kubernetes
kind: Config
preferences: {}
users:
- name: system:node:n1
  user:
    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem
    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem
EOF
# n3: k3s's kubelet.kubeconfig (files named in it do not exist here either)
K3S=$T/n3/root/var/lib/rancher/k3s/agent/kubelet.kubeconfig
mkdir -p "${K3S%/*}"
cat >"$K3S" <<EOF
apiVersion: v1
clusters:
- cluster:
    server: https://10.100.0.100:6443
    certificate-authority: /var/lib/rancher/k3s/agent/server-ca.crt
  name: local
contexts:
- context:
    cluster: local
    namespace: default
    user: user
  name: Default
current-context: Default
kind: Config
preferences: {}
users:
- name: user
  user:
    client-certificate: /var/lib/rancher/k3s/agent/client-kubelet.crt
    client-key: /var/lib/rancher/k3s/agent/client-kubelet.key
EOF

# n2: no kubelet kubeconfig; a KubePrism-style TCP forwarder on 127.0.0.1:7445
FWD='
import socket, sys, threading
def pump(a, b):
	try:
		while True:
			d = a.recv(65536)
			if not d:
				break
			b.sendall(d)
	except OSError:
		pass
	try:
		b.shutdown(socket.SHUT_WR)
	except OSError:
		pass
def serve(c, dst):
	try:
		u = socket.create_connection(dst, timeout=5)
	except OSError:
		c.close()
		return
	u.settimeout(None)
	t = threading.Thread(target=pump, args=(u, c), daemon=True)
	t.start()
	pump(c, u)
	t.join()
	c.close()
	u.close()
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 7445))
l.listen(64)
print("forwarder: listening", flush=True)
while True:
	c, _ = l.accept()
	dst = (sys.argv[1], int(sys.argv[2]))
	threading.Thread(target=serve, args=(c, dst), daemon=True).start()
'
pretty n2 "python3 <KubePrism-style forwarder> 127.0.0.1:7445 → 10.100.0.100:6443 &"
ip netns exec "${PFX}n2" "$PY" -c "$FWD" 10.100.0.100 6443 >"$T/fwd.out" 2>&1 &
FWD_PID=$!
check "n2: forwarder listening on 127.0.0.1:7445" wait_for grep -q listening "$T/fwd.out"

# ---------------------------------------------------------------------------------------
# Three agents, no setting naming the API server

T_AGENTS=$(now_us)
for i in 1 2 3; do agent_start $i 1; done
for i in 1 2 3; do
	WAIT_S=$NODE_T0 wait_for ready_or_dead $i || true
	check "n$i: virgild ready (conflist written) and running" \
		eval "test -s $(conflist $i) && pid_alive ${APID[$i]}"
done
printf '# agents ready after %d ms\n' $((($(now_us) - T_AGENTS) / 1000))

KUBEADM=$T/n1/root/etc/kubernetes/kubelet.conf
is "n1: API server from the kubelet kubeconfig" "$(api_line 1)" \
	"API server 10.100.0.100:6443 (from kubelet kubeconfig $KUBEADM)"
is "n2: API server from KubePrism" "$(api_line 2)" \
	"API server 127.0.0.1:7445 (from Talos KubePrism)"
is "n3: API server from the k3s kubelet kubeconfig" "$(api_line 3)" \
	"API server 10.100.0.100:6443 (from kubelet kubeconfig $K3S)"
is "n1: kubelet.conf not refused for its missing client certificate" \
	"$(grep -c 'ignoring .*kubelet.conf' "${ALOG[1]}" || true)" 0

for i in 1 2 3; do
	nj=$(cat "$T/n$i/data/node.json" 2>/dev/null || true)
	is "n$i: node.json podCIDRs" "$(j "$nj" 'd["podCIDRs"]')" \
		"[\"${POD4[$i]}\",\"${POD6[$i]}\"]"
	# dual-stack over a dual-stack underlay with a peer behind VXLAN: IPv6 VXLAN costs 70
	is "n$i: node.json mtu (1500 - 70: a peer is reached over IPv6 VXLAN)" \
		"$(j "$nj" 'd.get("mtu")')" 1430
	cl=$(cat "$(conflist $i)" 2>/dev/null || true)
	is "n$i: conflist: name, version, one virgil plugin with the data dir" \
		"$(j "$cl" 'd["name"]' 'd["cniVersion"]' '[p["type"] for p in d["plugins"]]' \
			'd["plugins"][0].get("dataDir")' 'd["plugins"][0].get("podCIDRs")' |
			words)" \
		"virgil 1.0.0 [\"virgil\"] $T/n$i/data null"
	PCONF[$i]=$(j "$cl" 'dict(d["plugins"][0], cniVersion=d["cniVersion"], name=d["name"])')
	check "n$i: NetworkUnavailable=False by a strategic-merge PATCH of nodes/n$i/status" \
		wait_for patched "n$i"
	echo "# n$i: status PATCHes (good, all): $(patches "n$i")"
	is "n$i: the Node's NetworkUnavailable condition is False" "$(unavail_of $i)" False
done
check "n3: endpoints cached in apiserver.json" \
	wait_for grep -q '10\.100\.0\.100:6443' "$T/n3/data/apiserver.json"

# --- routes between nodes -----------------------------------------------------------------
check "n1: routes to n2 and n3 present" wait_for eval 'has_routes_to 1 2 && has_routes_to 1 3'
check "n2: routes to n1 and n3 present" wait_for eval 'has_routes_to 2 1 && has_routes_to 2 3'
check "n3: routes to n1 and n2 present" wait_for eval 'has_routes_to 3 1 && has_routes_to 3 2'
expect_direct 1 2
expect_vxlan 1 3
expect_direct 2 1
expect_vxlan 2 3
expect_vxlan 3 1
expect_vxlan 3 2
for i in 1 2 3; do
	is "n$i: exactly 2 IPv4 routes with proto 86" "$(r86 $i 4 | wc -l)" 2
	is "n$i: exactly 2 IPv6 routes with proto 86" "$(r86 $i 6 | wc -l)" 2
done
for i in 1 3; do
	l=$(ip -n "${PFX}n$i" -d -o link show dev virgil.vxlan 2>&1 || true)
	like "n$i: virgil.vxlan: VNI 86, port 4789, learning off" "$l" \
		'vxlan id 86 .*dstport 4789 .*nolearning'
	like "n$i: virgil.vxlan: VTEP MAC from ${IP4[$i]}" "$l" "link/ether $(vtep4 "${IP4[$i]}") "
	l=$(ip -n "${PFX}n$i" -d -o link show dev virgil.vxlan6 2>&1 || true)
	like "n$i: virgil.vxlan6: VNI 86, port 4789, learning off" "$l" \
		'vxlan id 86 .*dstport 4789 .*nolearning'
	like "n$i: virgil.vxlan6: VTEP MAC from ${IP6[$i]}" "$l" "link/ether $(vtep6 "${IP6[$i]}") "
done

# --- n3 again, its kubelet kubeconfig gone: the cached endpoints --------------------------
before=$(kstate 3)
agent_stop 3
pp rm "$K3S"
agent_start 3 cached
WAIT_S=$NODE_T0 wait_for logged_or_dead 3 "$READY" || true
check "n3 restarted: ready and running" eval "logged 3 '$READY' && pid_alive ${APID[3]}"
is "n3 restarted: API server from the cached endpoints" "$(api_line 3)" \
	"API server 10.100.0.100:6443 (from cached endpoints $T/n3/data/apiserver.json)"
is "n3 restarted: routes, devices, neighbours, fdb unchanged" "$(kstate 3)" "$before"

# ---------------------------------------------------------------------------------------
# Pods: one per node, the plugin configured by the agent's conflist (ranges from node.json)

for i in 1 2 3; do
	pod_add $i
	NODE=${PFX}n$i cni ADD "c$i" "$(netns_path $i)" eth0 "${PCONF[$i]}"
	expect_ok "n$i: ADD pod p$i with the conflist's plugin config"
	PIP4[$i]=$(j "$OUT" 'd["ips"][0]["address"].split("/")[0]')
	PIP6[$i]=$(j "$OUT" 'd["ips"][1]["address"].split("/")[0]')
	like "p$i: an IPv4 address from ${POD4[$i]}" "${PIP4[$i]}" "^${POD4[$i]%.0/24}\\.[0-9]+$"
	like "p$i: an IPv6 address from ${POD6[$i]}" "${PIP6[$i]}" "^${POD6[$i]%::/64}::[0-9a-f]+$"
	like "p$i: eth0 mtu from node.json" "$(pod $i ip -o link show dev eth0)" " mtu 1430 "
done
no_tentative() { [ -z "$(ip -n "${PFX}p$1" -6 addr show dev eth0 tentative)" ]; }
check "pods: IPv6 addresses leave tentative state" \
	wait_for eval 'no_tentative 1 && no_tentative 2 && no_tentative 3'

# pingall "what" PAIRS: pod to pod both ways, IPv4 and IPv6, for every pair "a:b"
pingall() {
	local what=$1 p a b
	for p in $2; do
		a=${p%:*} b=${p#*:}
		check "$what p$a → p$b IPv4" pod $a ping -c 1 -w 3 -i 0.2 "${PIP4[$b]}"
		check "$what p$b → p$a IPv4" pod $b ping -c 1 -w 3 -i 0.2 "${PIP4[$a]}"
		check "$what p$a → p$b IPv6" pod $a ping -6 -c 1 -w 3 -i 0.2 "${PIP6[$b]}"
		check "$what p$b → p$a IPv6" pod $b ping -6 -c 1 -w 3 -i 0.2 "${PIP6[$a]}"
	done
}
pingall "(direct)" "1:2"
pingall "(VXLAN)" "1:3 2:3"
check "(VXLAN) p1 → p3 IPv4, 1430-byte packet, DF" \
	pod 1 ping -c 1 -w 3 -M do -s $((1430 - 28)) "${PIP4[3]}"
check "(VXLAN) p1 → p3 IPv6, 1430-byte packet" \
	pod 1 ping -6 -c 1 -w 3 -M do -s $((1430 - 48)) "${PIP6[3]}"
check "(direct) p2 → p1 IPv6, 1430-byte packet" \
	pod 2 ping -6 -c 1 -w 3 -M do -s $((1430 - 48)) "${PIP6[1]}"

# ---------------------------------------------------------------------------------------
# Node n2 deleted, then added back

keep1=$(routes_both 1 3)
keep3=$(routes_both 3 1)
pretty api "DELETE node n2"
fctl api DELETE /objects/node/-/n2 >/dev/null
WAIT_S=10 check "n2 deleted: its routes leave n1" wait_for no_routes_to 1 2
WAIT_S=10 check "n2 deleted: its routes, neighbour and fdb entries leave n3" \
	wait_for no_routes_to 3 2
is "n2 deleted: n3's neighbours for n2's pods gone" "$(neigh_of 3 virgil.vxlan "${POD4[2]%/*}"
	neigh_of 3 virgil.vxlan6 "$(gw6 "$(vtep6 "${IP6[2]}")")")" ""
is "n2 deleted: n1 keeps its routes to n3" "$(routes_both 1 3)" "$keep1"
is "n2 deleted: n3 keeps its routes to n1" "$(routes_both 3 1)" "$keep3"
check_fails "n2 deleted: p1 → p2 has no route" pod 1 ping -c 1 -W 1 "${PIP4[2]}"
check "n2 deleted: p1 → p3 still works" pod 1 ping -c 1 -w 3 -i 0.2 "${PIP4[3]}"

pretty api "POST node n2"
fctl api POST /objects "$(node_obj 2)" >/dev/null
WAIT_S=10 check "n2 back: n1's routes to it return" wait_for has_routes_to 1 2
WAIT_S=10 check "n2 back: n3's routes to it return" wait_for has_routes_to 3 2
expect_direct 1 2
expect_vxlan 3 2
pingall "(n2 back)" "1:2 2:3"
# a re-created Node (deleted, kubelet re-registers) comes back without our condition: the
# agent sees the new uid and marks it again
WAIT_S=10 check "n2 re-created: NetworkUnavailable=False again" \
	wait_for eval '[ "$(unavail_of 2)" = False ]'

# ---------------------------------------------------------------------------------------
# n1's agent restarted: nothing changes in the kernel (no route event at all)

before=$(kstate 1)
pretty "" "ip -n ${PFX}n1 monitor route > mon.n1 &"
ip -n "${PFX}n1" monitor route >"$T/mon.n1" 2>&1 &
MON_PID=$!
mark 192.0.2.1
n0=$(wc -l <"$T/mon.n1")
agent_stop 1
agent_start 1 restart
WAIT_S=$NODE_T0 wait_for logged_or_dead 1 "$READY" || true
check "n1 restarted: ready and running" eval "logged 1 '$READY' && pid_alive ${APID[1]}"
is "n1 restarted: API server from the cached endpoints" "$(api_line 1)" \
	"API server 10.100.0.100:6443 (from cached endpoints $T/n1/data/apiserver.json)"
check "n1 restarted: NetworkUnavailable=False patched again or kept" wait_for patched n1
mark 192.0.2.2
is "n1 restart: no route event in the monitor" \
	"$(sed -n "$((n0 + 1)),\$p" "$T/mon.n1" | grep -v '192\.0\.2\.2' | words)" ""
is "n1 restart: routes, devices (same ifindex), neighbours, fdb identical" "$(kstate 1)" "$before"
stop_pid "$MON_PID" TERM 2
pingall "(after n1's restart)" "1:2 1:3"

# ---------------------------------------------------------------------------------------
# API server outage; the object set changes while it is down (n4 appears)

RV=$(fctl api GET /state >"$T/state.json" && j "$(<"$T/state.json")" 'd["resourceVersion"]')
pretty api "kill -9 fakeapi ($FAKE_PID), resourceVersion $RV"
stop_pid "$FAKE_PID" KILL 5
{ cat "$T/objects.json"; node_obj 4; } >"$T/objects2.json"
# etcd keeps its revision across an apiserver restart: the new store starts above the old one
if fakeapi_start api "$T/fake2.out" "${FAKE_ARGS[@]}" --objects "$T/objects2.json" \
	--start-rv $((RV + 1000)); then
	pass "fakeapi started again with n4 (resourceVersion > $RV)"
else
	fail "fakeapi did not start again"
	exit 1
fi
T_BACK=$(now_us)
n4_everywhere() { has_routes_to 1 4 && has_routes_to 2 4 && has_routes_to 3 4; }
WAIT_S=30 check "outage: within 30 s every agent has routes to n4" wait_for n4_everywhere
printf '# n4 routed everywhere %d ms after the API server came back\n' \
	$((($(now_us) - T_BACK) / 1000))
like "n1 → n4 over VXLAN" "$(route_to 1 4 "${POD4[4]}")" \
	'^10\.244\.4\.0/24 via 10\.244\.4\.0 dev virgil\.vxlan .*onlink'
like "n2 → n4 over VXLAN" "$(route_to 2 4 "${POD4[4]}")" \
	'^10\.244\.4\.0/24 via 10\.244\.4\.0 dev virgil\.vxlan .*onlink'
is "n1 → n4: fdb entry to 10.101.0.4" "$(fdb_of 1 virgil.vxlan "$(vtep4 10.101.0.4)" |
	grep -oE 'dst [0-9.]+' || true)" "dst 10.101.0.4"
expect_direct 3 4
is "n4 has no IPv6 range: no IPv6 route to it on n1" "$(r86 1 6 | grep -vc ' dev vg' || true)" 2

# request accounting: from the restart, and in a 20 s idle window once every reflector of
# every agent is watching again (3 agents x 5 resources: nodes, pods, namespaces,
# networkpolicies, the default/kubernetes endpointslices)
open_watches() { fctl api GET /state >"$T/state.json" && j "$(<"$T/state.json")" 'd["watches"]'; }
WAIT_S=30 check "after the outage: 15 watches open again" wait_for eval '[ "$(open_watches)" = 15 ]'
printf '# every reflector watching again %d ms after the API server came back\n' \
	$((($(now_us) - T_BACK) / 1000))
W0=$(date +%s.%N)
pretty "" "a 20 s idle window: counting the requests the agents make"
sleep 20	# the measurement window itself, not a wait for readiness
fctl api GET /requests >"$T/requests.json"
echo "# requests since the API server came back (agent verb path count):"
since=$(req_report "$T/fake2.out.err" 0)
grep '^#' <<<"$since"
echo "# requests in the idle window:"
window=$(req_report "$T/fake2.out.err" "$W0")
grep '^#' <<<"$window"
read -r _ maxl_s _ tot_s <<<"$(grep '^MAX' <<<"$since")"
read -r _ maxl_w maxa_w tot_w <<<"$(grep '^MAX' <<<"$window")"
check "since the restart: at most 3 LISTs per resource per agent (max $maxl_s)" \
	test "$maxl_s" -le 3
check "idle window: at most 3 LISTs per resource per agent (max $maxl_w)" test "$maxl_w" -le 3
check "idle window: no request storm (max $maxa_w requests per agent, $tot_w in all)" \
	test "$maxa_w" -le 10
check "since the restart: no request storm ($tot_s requests in all)" test "$tot_s" -le 150
conns=$(ip netns exec "${PFX}api" ss -Htn state established '( sport = :6443 )' |
	awk '{ sub(/:[0-9]+$/, "", $4); print $4 }' | sort | uniq -c |
	awk '{ print $2 "=" $1 }' | words)
echo "# established connections to the API server per source address: $conns"
for a in 10.100.0.1 10.100.0.2 10.101.0.3; do
	c=$(grep -oE "(^| )$a=[0-9]+" <<<"$conns" | cut -d= -f2 || true)
	check "no connection leak from $a (${c:-0} open)" test "${c:-0}" -le 8
done

# ---------------------------------------------------------------------------------------
# The end: agents stopped, what they made flushed, pods deleted, everything accounted for

for i in 1 2 3; do agent_stop $i; done
for i in 1 2 3; do
	check "n$i: the conflist stays after shutdown" test -s "$(conflist $i)"
	nsx n$i ip -4 route flush proto 86
	nsx n$i ip -6 route flush proto 86
	for l in virgil.vxlan virgil.vxlan6; do
		! ip -n "${PFX}n$i" link show dev $l >/dev/null 2>&1 || nsx n$i ip link del $l
	done
	NODE=${PFX}n$i cni DEL "c$i" "$(netns_path $i)" eth0 "${PCONF[$i]}"
	expect_ok "n$i: DEL pod p$i" empty
done
pretty api "kill -TERM fakeapi ($FAKE_PID)"
stop_pid "$FAKE_PID" TERM 5
is "fakeapi exits 0 on SIGTERM" "$KRC" 0
stop_pid "$FWD_PID" TERM 2

pretty "" "closing accounting"
is "no background job still running" "$(jobs -rp | words)" ""
for p in "${APID[@]}" "$FAKE_PID" "$FWD_PID" "$MON_PID"; do
	! pid_alive "$p" || fail "process $p still running"
done
pids=
for ns in $(our_netns); do pids+="$(ip netns pids "$ns" | words) "; done
is "no process left in the run's namespaces" "$(echo $pids)" ""
for i in 1 2 3; do
	is "n$i: no route with proto 86 left" "$(r86 $i 4; r86 $i 6)" ""
	is "n$i: no link but eth0 left" \
		"$(ip -n "${PFX}n$i" -o link show | _link_names | words)" eth0
	is "n$i: no lease left" "$(STORE=$T/n$i/data/networks/virgil lease_files | words)" ""
done
for i in 1 2 3; do is "p$i: no link left in the pod" "$(pod_links $i | words)" ""; done
[ "$FAILED" -eq 0 ] || dump_logs
keep_logs
for ns in $(our_netns); do pp ip netns del "$ns"; done
is "no namespace with the prefix $PFX remains" "$(our_netns | words)" ""
pp rm -rf "$TMP"
check "the temporary directory is gone" test ! -e "$TMP"
DONE=1
