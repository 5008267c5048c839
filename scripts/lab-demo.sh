#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lab-demo.sh BINARY: a small demonstration of the Virgil CNI plugin, what `./build.sh lab`
# runs until the full `virgil lab` exists. One node namespace and two pod namespaces; the
# plugin, run in the node as a runtime would run it, plumbs both pods dual-stack; pod1 pings
# pod2 over IPv4 and IPv6; DEL takes it all down again. Everything lives in namespaces named
# vg$$-*, removed on every exit path. Exit status 0 only when every step worked.
#
#            node netns vg$$-node
#   ┌──────────────────────────────────────┐
#   │ vg<hex>  route pod1/32, pod1/128     │
#   │ vg<hex>  route pod2/32, pod2/128     │
#   └────┬─────────────────────────┬───────┘
#        │ veth                    │ veth
#   eth0 │ vg$$-pod1          eth0 │ vg$$-pod2
#   10.244.1.x/32               10.244.1.y/32
#   fd00:10:244:1::x/128        fd00:10:244:1::y/128
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BINARY" >&2; exit 2; }
BIN=$(realpath "$1")
[ -x "$BIN" ] || { echo "lab-demo: $BIN is not executable" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "lab-demo: needs root (network namespaces)" >&2; exit 2; }
PY=/usr/bin/python3

PFX=vg$$-
NODE=${PFX}node
TMP=$(mktemp -d "${TMPDIR:-/tmp}/virgil-lab.XXXXXX")
V4NET=10.244.1.0/24
V6NET=fd00:10:244:1::/64
CONF='{"cniVersion":"1.1.0","name":"lab","type":"virgil",'
CONF+="\"podCIDRs\":[\"$V4NET\",\"$V6NET\"],\"dataDir\":\"$TMP/data\"}"
OK=0
BAD=0

cleanup() {
	local ns
	for ns in $(ip netns list | awk '{ print $1 }' | grep "^$PFX"); do
		ip netns del "$ns"
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

good() { OK=$((OK + 1)); printf '  [ ok ] %s\n' "$1"; }
bad() { BAD=$((BAD + 1)); printf '  [FAIL] %s\n' "$1"; }

# step "what" cmd...: one line for the human; on failure, the command's output indented.
step() {
	local what=$1
	shift
	if "$@" >"$TMP/step.out" 2>&1; then
		good "$what"
	else
		bad "$what"
		sed 's/^/         /' "$TMP/step.out"
	fi
}

# with_prev POD: the config with the pod's ADD result as prevResult, as a runtime sends DEL.
with_prev() {
	"$PY" -c 'import json, sys
c = json.loads(sys.argv[1])
c["prevResult"] = json.load(open(sys.argv[2]))
print(json.dumps(c))' "$CONF" "$TMP/$1.ADD"
}

# cni CMD POD: run the plugin in the node as a runtime does; stdout kept in $TMP/POD.CMD,
# the time it took in ELAPSED (ms).
cni() {
	local cmd=$1 pod=$2 conf=$CONF t0 dt rc=0
	if [ "$cmd" = DEL ] && [ -s "$TMP/$pod.ADD" ]; then
		conf=$(with_prev "$pod")
	fi
	t0=${EPOCHREALTIME/./}
	printf '%s' "$conf" | ip netns exec "$NODE" env -i CNI_COMMAND="$cmd" \
		CNI_CONTAINERID="lab-$pod" CNI_NETNS="/run/netns/$PFX$pod" CNI_IFNAME=eth0 \
		CNI_PATH=/opt/cni/bin CNI_ARGS="K8S_POD_NAME=$pod" "$BIN" \
		>"$TMP/$pod.$cmd" 2>"$TMP/$pod.$cmd.err" || rc=$?
	dt=$((${EPOCHREALTIME/./} - t0))
	ELAPSED=$((dt / 1000)).$((dt / 100 % 10))
	[ $rc -eq 0 ] || { cat "$TMP/$pod.$cmd" "$TMP/$pod.$cmd.err"; return 1; }
}

# cni_step CMD POD: cni, reported as a step with its duration.
cni_step() {
	if cni "$1" "$2" >"$TMP/step.out" 2>&1; then
		good "$1 $2 (${ELAPSED} ms)"
	else
		bad "$1 $2"
		sed 's/^/         /' "$TMP/step.out"
	fi
}

# result POD EXPR: a value from the pod's ADD result (a python expression over r).
result() {
	"$PY" -c 'import json, sys; r = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$TMP/$1.ADD" "$2" 2>/dev/null
}
# res_addr POD 4|6: the addresses of one family in the result.
res_addr() {
	result "$1" "' '.join(a['address'] for a in r['ips']
		if (':' in a['address']) == ($2 == 6))"
}
res_host() { result "$1" "[i['name'] for i in r['interfaces'] if not i.get('sandbox')][0]"; }
in_addr() {
	ip -n "$PFX$1" -o "-$2" addr show dev eth0 scope global 2>/dev/null |
		awk '{ print $4 }' | tr '\n' ' ' | sed 's/ $//'
}
node_links() {
	ip -n "$NODE" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' |
		grep -v '^lo$' | tr '\n' ' ' || true
}

# ping_pod FROM ADDR: a few tries, since a fresh IPv6 address may still be tentative.
ping_pod() {
	local try
	for try in 1 2 3 4 5 6 7 8 9 10; do
		[ "$try" -gt 1 ] && sleep 0.3
		ip netns exec "$PFX$1" ping -c 1 -W 1 "$2" && return 0
	done
	return 1
}

echo "Virgil lab: the CNI plugin $BIN"
echo "  pod ranges $V4NET and $V6NET, CNI 1.1.0, node namespace $NODE"
echo

# --- build
if ! { ip netns add "$NODE" && ip -n "$NODE" link set lo up; }; then
	bad "create the node namespace"
	exit 1
fi
for p in pod1 pod2; do
	if ! { ip netns add "$PFX$p" && ip -n "$PFX$p" link set lo up; }; then
		bad "create $p's namespace"
	fi
	cni_step ADD "$p"
done

h1=$(res_host pod1) h2=$(res_host pod2)
echo
printf '            node netns %s\n' "$NODE"
printf '   ┌───────────────────────────────────────────────┐\n'
printf '   │ %-16s %-28s │\n' "${h1:-?}" "routes to pod1's addresses"
printf '   │ %-16s %-28s │\n' "${h2:-?}" "routes to pod2's addresses"
printf '   └────┬────────────────────────────┬─────────────┘\n'
printf '        │ veth                       │ veth\n'
printf '   eth0 │ %-18s    eth0 │ %s\n' "${PFX}pod1" "${PFX}pod2"
printf '   %-29s%s\n' "$(res_addr pod1 4)" "$(res_addr pod2 4)" \
	"$(res_addr pod1 6)" "$(res_addr pod2 6)"
echo

for p in pod1 pod2; do
	for f in 4 6; do
		r=$(res_addr $p $f)
		k=$(in_addr $p $f)
		if [ -n "$r" ] && [ "$r" = "$k" ]; then
			good "$p IPv$f: result says $r, ip addr in the pod says $k"
		else
			bad "$p IPv$f: result says '${r}', ip addr in the pod says '${k}'"
		fi
	done
done

for f in 4 6; do
	a=$(res_addr pod2 $f)
	a=${a%%/*}
	if [ -z "$a" ]; then
		bad "ping pod1 -> pod2 over IPv$f: pod2 has no IPv$f address"
	else
		step "ping pod1 -> pod2 over IPv$f ($a)" ping_pod pod1 "$a"
	fi
done

# --- tear down
cni_step DEL pod1
cni_step DEL pod2
left=$(node_links)
leases=$(find "$TMP/data" -type f -name '*[.:]*' ! -name 'last.*' ! -name '.*' 2>/dev/null |
	wc -l)
if [ -z "$left" ] && [ "$leases" -eq 0 ]; then
	good "after DEL: no veth left in the node, no lease left in the store"
else
	bad "after DEL: links left in the node: '${left}', leases left: $leases"
fi

echo
if [ $BAD -eq 0 ]; then
	echo "lab: all $OK steps worked; removing the namespaces."
else
	echo "lab: $BAD of $((OK + BAD)) steps FAILED; removing the namespaces."
fi
[ $BAD -eq 0 ]
