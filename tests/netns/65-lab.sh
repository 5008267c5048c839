#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 65-lab.sh: `virgil lab` itself, against docs/lab.md: up with two nodes from a folder of
# manifests, status (text and JSON), pods on different nodes reaching each other over IPv4
# and IPv6, a policy applied live, a pod's labels changed live (same pod, same address), a
# pod moved to another node, deletes (a policy, a pod), errors that change nothing (up twice,
# an unknown node, deleting what is not there), down leaving nothing; then three nodes with
# the default scenario and its matrix over IPv6; then an `up` that fails half-way (the pod
# range of a node runs out) and must take down everything it made.
#
#                 t<pid>-wire: bridge br0 (192.168.86.0/24, fd86::/64)
#          ┌──────────────────────────┴──────────────────────────┐
#   t<pid>-n1: eth0 192.168.86.1 fd86::1, virgild       t<pid>-n2: eth0 .2 fd86::2, virgild
#   pods 10.244.1.0/24 fd00:10:244:1::/64               pods 10.244.2.0/24 fd00:10:244:2::/64
#   front/web (nodeName n1), back/cache (round-robin)   back/db (nodeName n2)
#   each pod: t<pid>-p<k>, eth0 from the CNI plugin, `virgil lab serve 80`
#
# The lab's own names: VIRGIL_LAB_NAME=t<5 digits of the pid>, VIRGIL_LAB_DIR=$TMP/lab. The
# closing checks: no namespace t<pid>-*, no agent or server process, no state dir.

. "$(dirname "$0")/lib.sh"

LNAME=t$(printf '%05d' $(($$ % 100000)))
export VIRGIL_LAB_NAME=$LNAME VIRGIL_LAB_DIR=$TMP/lab
M=$TMP/manifests
mkdir -p "$M"

lab() { pretty lab "$*"; _run "$VIRGIL" lab "$@"; }
lab_ns() { ip netns list | awk '{ print $1 }' | grep "^$LNAME-" || true; }
st() { "$VIRGIL" lab status --json; }
# lab_pids: every agent and server pid lab.json records
lab_pids() {
	"$PY" -c 'import json, sys
s = json.load(open(sys.argv[1]))
print(" ".join(str(p) for p in [n["agentPid"] for n in s["nodes"]] +
	[p["serverPid"] for p in s["pods"]] if p))' "$VIRGIL_LAB_DIR/lab.json"
}
# pod_of POD FIELD: a field of a pod in lab status --json ("netns", "node", "addresses")
pod_of() { j "$(st)" "[p['$2'] for p in d['pods'] if p['pod'] == '$1'][0]"; }
pod_ip() { j "$(st)" "[a for p in d['pods'] if p['pod'] == '$1' for a in p['addresses']
	if (':' in a) == ($2 == 6)][0]"; }
# cell FROM TO [probe args]: "true"/"false" from `lab probe --json`
cell() {
	local f=$1 t=$2
	shift 2
	j "$("$VIRGIL" lab probe --json --timeout 500 "$@")" "d['matrix']['$f']['$t']"
}
all_true() { j "$("$VIRGIL" lab probe --json --timeout 500 "$@")" \
	"all(all(r.values()) for r in d['matrix'].values())"; }
alive_any() { local p; for p in "$@"; do pid_alive "$p" && echo "$p"; done; true; }

lab_cleanup() {
	local ns
	[ -e "$VIRGIL_LAB_DIR" ] && "$VIRGIL" lab down >/dev/null 2>&1
	for ns in $(lab_ns); do ip netns del "$ns"; done
	true
}
trap 'rc=$?; set +e; trap - ERR; lab_cleanup; (exit $rc); on_exit' EXIT

# ---------------------------------------------------------------------------------------
# Two nodes from a folder of manifests

cat >"$M/10-namespaces.json" <<'EOF'
{"kind": "List", "apiVersion": "v1", "items": [
 {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "front", "labels": {"team": "web"}}},
 {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "back"}}]}
EOF
pod_json() { # NS NAME NODE LABELS
	printf '{"kind":"Pod","apiVersion":"v1","metadata":{"namespace":"%s","name":"%s",' "$1" "$2"
	printf '"labels":{%s}},"spec":{%s"containers":[{"name":"s","image":"x",' "$4" \
		"${3:+\"nodeName\":\"$3\",}"
	printf '"ports":[{"containerPort":80}]}]}}\n'
}
{
	echo '{"kind":"List","apiVersion":"v1","items":['
	pod_json front web n1 '"app":"web"'
	echo ','
	pod_json back db n2 '"app":"db"'
	echo ','
	pod_json back cache "" '"app":"cache"'
	echo ']}'
} >"$M/20-pods.json"
echo '{"kind":"Service","apiVersion":"v1","metadata":{"name":"skipped"}}' >"$M/30-svc.json"
echo 'not a manifest' >"$M/README"

check "up --nodes 2 DIR" lab up --nodes 2 "$M"
S=$(st)
is "status: two nodes" "$(j "$S" "[n['name'] for n in d['nodes']]")" '["n1","n2"]'
is "status: node netns" "$(j "$S" "[n['netns'] for n in d['nodes']]")" \
	"[\"$LNAME-n1\",\"$LNAME-n2\"]"
is "status: n2 addresses" "$(j "$S" "d['nodes'][1]['addresses']")" '["192.168.86.2","fd86::2"]'
is "status: n1 podCIDRs" "$(j "$S" "d['nodes'][0]['podCIDRs']")" \
	'["10.244.1.0/24","fd00:10:244:1::/64"]'
is "status: agents running with a pid" \
	"$(j "$S" "all(n['running'] and n['agentPid'] > 0 for n in d['nodes'])")" true
is "status: three pods (the Service is skipped)" "$(j "$S" "sorted(p['pod'] for p in d['pods'])")" \
	'["back/cache","back/db","front/web"]'
is "status: placement (nodeName, then round-robin)" \
	"$(j "$S" "{p['pod']: p['node'] for p in d['pods']}")" \
	'{"back/cache":"n1","back/db":"n2","front/web":"n1"}'
is "status: every pod has an IPv4 and an IPv6 address in its node's ranges" \
	"$(j "$S" "all(len(p['addresses']) == 2 and p['addresses'][0].startswith('10.244.' +
		p['node'][1:] + '.') and p['addresses'][1].startswith('fd00:10:244:' + p['node'][1:] + '::')
		for p in d['pods'])")" true
like "status: the table" "$("$VIRGIL" lab status)" "n2 +$LNAME-n2 +192.168.86.2 fd86::2"
check "the pod's netns has the address the status gives" \
	ip -n "$(pod_of front/web netns)" -4 addr show dev eth0 to "$(pod_ip front/web 4)"

WEB_NS=$(pod_of front/web netns)
for f in 4 6; do
	a=$(pod_ip back/db $f)
	check "front/web (n1) pings back/db (n2) over IPv$f ($a)" \
		ip netns exec "$WEB_NS" ping -c 1 -W 2 "$a"
done
is "probe TCP/80 IPv4: all connected" "$(all_true)" true
is "probe TCP/80 IPv6: all connected" "$(all_true --family 6)" true
is "probe TCP/81: nobody serves it" "$(j "$("$VIRGIL" lab probe --json --port 81)" \
	"any(any(r.values()) for r in d['matrix'].values())")" false

# Every probe is a new connection: `lab probe` empties each node's conntrack table first, so
# a UDP flow an earlier probe left (it lives 30 s after the echo) answers for nothing later.
N1=$LNAME-n1
is "probe UDP/80 IPv4: all connected" "$(all_true --protocol udp)" true
like "n1 tracks the UDP/80 probes' flows" "$(ip netns exec "$N1" cat /proc/net/nf_conntrack)" \
	'udp +17 .* dport=80 '
is "probe TCP/81 after it: nobody serves it" "$(cell front/web back/db --port 81)" false
is "no UDP flow left on n1 after that probe" \
	"$(ip netns exec "$N1" grep -c ' udp  *17 ' /proc/net/nf_conntrack)" 0

# ---------------------------------------------------------------------------------------
# A policy, a label change, a move, deletes

cat >"$TMP/pol.json" <<'EOF'
{"kind": "NetworkPolicy", "apiVersion": "networking.k8s.io/v1",
 "metadata": {"namespace": "back", "name": "db-from-web"},
 "spec": {"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress"],
  "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "web"}}},
                        {"podSelector": {"matchLabels": {"role": "client"}}}],
               "ports": [{"port": 80}]}]}}
EOF
check "apply a policy" lab apply "$TMP/pol.json"
is "policy: front/web -> back/db allowed (team=web)" "$(cell front/web back/db)" true
is "policy: back/cache -> back/db denied" "$(cell back/cache back/db)" false
is "policy: back/cache -> back/db denied over IPv6 too" "$(cell back/cache back/db --family 6)" false
is "policy: back/db -> back/cache still open" "$(cell back/db back/cache)" true

CACHE_NS=$(pod_of back/cache netns)
CACHE_IP=$(pod_ip back/cache 4)
{
	echo '{"kind":"List","apiVersion":"v1","items":['
	pod_json back cache "" '"app":"cache","role":"client"'
	echo ']}'
} >"$TMP/relabel.json"
check "apply a label change (back/cache role=client)" lab apply "$TMP/relabel.json"
is "relabel: back/cache -> back/db allowed now" "$(cell back/cache back/db)" true
is "relabel: the same pod (netns)" "$(pod_of back/cache netns)" "$CACHE_NS"
is "relabel: the same pod (address)" "$(pod_ip back/cache 4)" "$CACHE_IP"

{
	echo '{"kind":"List","apiVersion":"v1","items":['
	pod_json back cache n2 '"app":"cache","role":"client"'
	echo ']}'
} >"$TMP/move.json"
check "apply a move of back/cache to n2" lab apply "$TMP/move.json"
is "move: back/cache is on n2" "$(pod_of back/cache node)" n2
like "move: in n2's range" "$(pod_ip back/cache 4)" '^10\.244\.2\.'
check "move: the old namespace is gone" test ! -e "/run/netns/$CACHE_NS"
is "move: back/cache -> back/db allowed (same node now)" "$(cell back/cache back/db)" true
is "move: front/web -> back/cache over IPv6" "$(cell front/web back/cache --family 6)" true

check "delete the policy" lab delete "$TMP/pol.json"
is "after delete: back/cache -> back/db is open" "$(cell back/cache back/db)" true
{
	echo '{"kind":"List","apiVersion":"v1","items":['
	pod_json front web n1 ''
	echo ']}'
} >"$TMP/web.json"
check "delete a pod" lab delete "$TMP/web.json"
is "delete: two pods left" "$(j "$(st)" "sorted(p['pod'] for p in d['pods'])")" \
	'["back/cache","back/db"]'
check "delete: its namespace is gone" test ! -e "/run/netns/$WEB_NS"

# ---------------------------------------------------------------------------------------
# Errors change nothing

out=$("$VIRGIL" lab up 2>&1) && rc=0 || rc=$?
is "up twice: exit 100" "$rc" 100
like "up twice: says why" "$out" "already up"
{
	echo '{"kind":"List","apiVersion":"v1","items":['
	pod_json back lost n7 ''
	echo ']}'
} >"$TMP/n7.json"
out=$("$VIRGIL" lab apply "$TMP/n7.json" 2>&1) && rc=0 || rc=$?
is "apply with an unknown node: exit 100" "$rc" 100
like "apply with an unknown node: says which" "$out" 'nodeName "n7" is not a node'
is "apply with an unknown node: nothing made" "$(j "$(st)" "len(d['pods'])")" 2
out=$("$VIRGIL" lab delete "$TMP/web.json" 2>&1) && rc=0 || rc=$?
is "delete what is not there: exit 100" "$rc" 100
out=$("$VIRGIL" lab frobnicate 2>&1) && rc=0 || rc=$?
is "unknown command: exit 100" "$rc" 100

# ---------------------------------------------------------------------------------------
# Down

PIDS=$(lab_pids)
NPIDS=$(echo $PIDS | wc -w)
is "lab.json records 2 agents and 2 servers" "$NPIDS" 4
check "down" lab down
is "down: no namespace $LNAME-* left" "$(lab_ns | words)" ""
is "down: no agent or server left" "$(alive_any $PIDS | words)" ""
check "down: the state dir is gone" test ! -e "$VIRGIL_LAB_DIR"
out=$("$VIRGIL" lab down 2>&1) && rc=0 || rc=$?
is "down again: exit 0" "$rc" 0
like "down again: nothing was up" "$out" "no lab was up"
out=$("$VIRGIL" lab status 2>&1) && rc=0 || rc=$?
is "status with nothing up: exit 100" "$rc" 100

# ---------------------------------------------------------------------------------------
# Three nodes, the default scenario

check "up --nodes 3 (default scenario)" lab up --nodes 3
S=$(st)
is "3 nodes: names" "$(j "$S" "[n['name'] for n in d['nodes']]")" '["n1","n2","n3"]'
is "3 nodes: round-robin in manifest order" \
	"$(j "$S" "[p['node'] for p in d['pods']][:4]")" '["n1","n2","n3","n1"]'
is "3 nodes: nine pods" "$(j "$S" "len(d['pods'])")" 9
M6=$("$VIRGIL" lab probe --json --family 6)
is "3 nodes: TCP/80 over IPv6 is the scenario's matrix" "$(j "$M6" "all(
	d['matrix'][f][t] == (f == t or not t.startswith('x/') or f.startswith('y/'))
	for f in d['pods'] for t in d['pods'])")" true
like "ruleset: n3's table" "$("$VIRGIL" lab ruleset n3 2>&1)" "^table inet virgil"
PIDS=$(lab_pids)
check "3 nodes: down" lab down
is "3 nodes: no namespace left" "$(lab_ns | words)" ""
is "3 nodes: no process left" "$(alive_any $PIDS | words)" ""

# ---------------------------------------------------------------------------------------
# up that fails: before anything (an unknown node), and half-way (a node's range runs out)

mkdir -p "$TMP/bad"
{
	echo '{"kind":"List","apiVersion":"v1","items":['
	pod_json back lost n3 ''
	echo ']}'
} >"$TMP/bad/p.json"
out=$("$VIRGIL" lab up --nodes 2 "$TMP/bad" 2>&1) && rc=0 || rc=$?
is "up with nodeName n3 of 2 nodes: exit 100" "$rc" 100
like "up with nodeName n3 of 2 nodes: says why" "$out" 'nodeName "n3" is not a node'
is "up with nodeName n3: no namespace made" "$(lab_ns | words)" ""
check "up with nodeName n3: no state dir" test ! -e "$VIRGIL_LAB_DIR"

mkdir -p "$TMP/big"
"$PY" -c 'import json, sys
items = [{"kind": "Pod", "apiVersion": "v1", "metadata": {"namespace": "big", "name": "p%d" % i},
	"spec": {"nodeName": "n1", "containers": [{"name": "c"}]}} for i in range(260)]
json.dump({"kind": "List", "apiVersion": "v1", "items": items}, open(sys.argv[1], "w"))' \
	"$TMP/big/pods.json"
out=$("$VIRGIL" lab up --nodes 1 "$TMP/big" 2>&1) && rc=0 || rc=$?
is "up with 260 pods on one /24: fails" "$rc" 111
like "up with 260 pods: the plugin's reason" "$out" "no free address"
is "up with 260 pods: every namespace taken down" "$(lab_ns | words)" ""
check "up with 260 pods: no state dir" test ! -e "$VIRGIL_LAB_DIR"

# ---------------------------------------------------------------------------------------
# The end

pretty "" "closing accounting"
is "no background job still running" "$(jobs -rp | words)" ""
is "no namespace with the prefix $LNAME- remains" "$(lab_ns | words)" ""
DONE=1
