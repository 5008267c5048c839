#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lab-demo.sh BINARY: what `./build.sh lab` runs. `virgil lab up` brings up the default
# scenario (two nodes, the real agent on each, nine pods attached by the real CNI plugin, two
# network policies in namespace x), then `lab status`, then `lab probe` for TCP/80, TCP/81 and
# UDP/80 with the grids printed and each matrix checked against what the policies say, then
# `lab down`. The state dir and the namespace prefix are unique to the run; a trap takes the
# lab down on every exit path and checks that no namespace with the prefix is left.
# Exit status 0 only when every step worked and every matrix is the expected one.
#
#                          <name>-wire: bridge br0, 192.168.86.0/24 fd86::/64
#            ┌───────────────────────────────┴───────────────────────────────┐
#   <name>-n1: eth0 .1 fd86::1, virgild                      <name>-n2: eth0 .2 fd86::2, virgild
#   pods 10.244.1.0/24 fd00:10:244:1::/64                    pods 10.244.2.0/24 ...:2::/64
#   x/a x/c y/b z/a z/c (each <name>-p<k>,                   x/b y/a y/c z/b
#   serving 80 and 81 on TCP and UDP)
#
# Expected, from the policies in x (deny-all-ingress; allow-from-y on TCP/80):
#   TCP/80  into x/*: only from y/*;   TCP/81, UDP/80 into x/*: from nobody;
#   everything else open, and every pod reaches itself (over its own lo).
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BINARY" >&2; exit 2; }
BIN=$(realpath "$1")
[ -x "$BIN" ] || { echo "lab-demo: $BIN is not executable" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "lab-demo: needs root (network namespaces)" >&2; exit 2; }
PY=/usr/bin/python3

TMP=$(mktemp -d "${TMPDIR:-/tmp}/virgil-lab-demo.XXXXXX")
export VIRGIL_LAB_DIR=$TMP/state
export VIRGIL_LAB_NAME=d$(printf '%05d' $(($$ % 100000)))
OK=0
BAD=0
DOWN=0

good() { OK=$((OK + 1)); printf '  [ ok ] %s\n' "$1"; }
bad() { BAD=$((BAD + 1)); printf '  [FAIL] %s\n' "$1"; }

# step "what" cmd...: one line for the human; on failure, the command's output indented.
step() {
	local what=$1
	shift
	if "$@" >"$TMP/step.out" 2>&1; then
		good "$what"
	else
		bad "$what (exit $?)"
		sed 's/^/         /' "$TMP/step.out"
	fi
}

lab_netns() { ip netns list 2>/dev/null | awk '{ print $1 }' | grep "^$VIRGIL_LAB_NAME-" || true; }

finish() {
	local rc=$? left
	trap - EXIT
	if [ "$DOWN" = 0 ]; then
		"$BIN" lab down >"$TMP/down.out" 2>&1 || {
			echo "lab-demo: lab down failed:"
			sed 's/^/    /' "$TMP/down.out"
			rc=1
		}
	fi
	left=$(lab_netns | tr '\n' ' ')
	if [ -n "$left" ]; then
		echo "lab-demo: namespaces left behind: $left"
		for ns in $left; do ip netns del "$ns"; done
		rc=1
	fi
	if [ -e "$VIRGIL_LAB_DIR" ]; then
		echo "lab-demo: the state dir $VIRGIL_LAB_DIR is still there"
		rc=1
	fi
	rm -rf "$TMP"
	exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

# expect PORT PROTO FILE: the JSON matrix in FILE is what the default scenario's policies say.
expect() {
	"$PY" - "$1" "$2" "$3" <<'EOF'
import json, sys
port, proto, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
m = json.load(open(path))
pods = m["pods"]
want_pods = sorted(f"{n}/{p}" for n in "xyz" for p in "abc")
if pods != want_pods:
    sys.exit(f"pods {pods}, want {want_pods}")
bad = []
for f in pods:
    for t in pods:
        want = f == t or not t.startswith("x/") or (port == 80 and proto == "tcp" and f.startswith("y/"))
        if m["matrix"][f][t] != want:
            bad.append(f"{f} -> {t}: want {'.' if want else 'X'}")
if bad:
    sys.exit("\n".join(bad))
EOF
}

# probe_check PORT PROTO: print the grid, then check the JSON matrix.
probe_check() {
	local what="probe $2/$1"
	if "$BIN" lab probe --port "$1" --protocol "$2" >"$TMP/grid" 2>&1; then
		sed 's/^/    /' "$TMP/grid"
		step "$what: the grid" true
	else
		bad "$what: the grid"
		sed 's/^/         /' "$TMP/grid"
	fi
	if "$BIN" lab probe --port "$1" --protocol "$2" --json >"$TMP/m.json" 2>"$TMP/m.err"; then
		step "$what: the matrix is the expected one" expect "$1" "$2" "$TMP/m.json"
	else
		bad "$what --json"
		sed 's/^/         /' "$TMP/m.err"
	fi
}

echo "Virgil lab: $BIN"
echo "  state dir $VIRGIL_LAB_DIR, namespaces $VIRGIL_LAB_NAME-*"
echo

t0=${EPOCHREALTIME/./}
step "lab up (default scenario, 2 nodes)" "$BIN" lab up
echo "         ($(((${EPOCHREALTIME/./} - t0) / 1000)) ms)"
if "$BIN" lab status >"$TMP/status" 2>&1; then
	sed 's/^/    /' "$TMP/status"
	good "lab status"
else
	bad "lab status"
	sed 's/^/         /' "$TMP/status"
fi
echo
echo "  The default scenario: namespaces x, y, z with pods a, b, c each; in x a NetworkPolicy"
echo "  denying all ingress and another letting namespace y in on TCP/80. '.' connects, 'X' is"
echo "  blocked (rows are clients, columns servers)."
echo
probe_check 80 tcp
probe_check 81 tcp
probe_check 80 udp
echo
if "$BIN" lab down >"$TMP/down.out" 2>&1; then
	DOWN=1
	good "lab down"
else
	bad "lab down"
	sed 's/^/         /' "$TMP/down.out"
fi
left=$(lab_netns | tr '\n' ' ')
[ -z "$left" ] && good "no namespace named $VIRGIL_LAB_NAME-* is left" ||
	bad "namespaces left: $left"
[ ! -e "$VIRGIL_LAB_DIR" ] && good "the state dir is gone" || bad "the state dir is still there"

echo
if [ $BAD -eq 0 ]; then
	echo "lab: all $OK steps worked."
else
	echo "lab: $BAD of $((OK + BAD)) steps FAILED."
fi
[ $BAD -eq 0 ]
