#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 06-fakeapi.sh: the fake kube-apiserver (tests/k8s/fakeapi.py) behaves like a real one, so
# that an API client which works against it works against a kube-apiserver. Starts it inside
# a namespace of its own on an IPv4, an IPv6 and a KubePrism-like loopback address, with an
# IP-SAN-only certificate, then runs tests/k8s/check_fakeapi.py against it: auth (anonymous
# 403, bad token 401, token rotation), keep-alive, selectors, LIST pagination with consistent
# snapshots and expiring continue tokens, WATCH from a resourceVersion with bookmarks and
# timeouts, both kinds of 410, chunks split at awkward places, faults (429 Retry-After,
# 500/503, cuts, stalls, close after headers), PATCH recording and strategic merge of
# conditions, request counters, gzip. Also: client-certificate auth, a unix control socket,
# SIGTERM ending open watches cleanly, and no token in the logs.
#
#   netns vg$$-fapi (lo only)
#   +--------------------------------------------------------------------------------+
#   |  check_fakeapi.py --TLS--> fakeapi.py  https://10.77.0.1:6443                  |
#   |                                         https://[fd77::1]:6443                  |
#   |                                         https://127.0.0.1:7445  (KubePrism-like)|
#   |                     --HTTP-> control   http://127.0.0.1:7000                    |
#   |                   --mTLS--> fakeapi.py  https://10.77.0.1:6444  client cert    |
#   |                                         control unix:$tmp/ctl.sock              |
#   +--------------------------------------------------------------------------------+
#
# Needs root (netns), openssl and /usr/bin/python3 (stdlib only). VIRGIL is not used.
# Ends with one "N passed, N failed" line.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
k8s=$top/tests/k8s
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
ns=vg$$-fapi
# shellcheck source=tests/netns/harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source=tests/netns/pki.sh
. "$(dirname "$0")/pki.sh"

on_exit() {
	local rc=$?
	if [ $done_ -eq 0 ]; then
		notok "script stopped early (exit $rc, see above)"
		for f in "$tmp"/*.err; do
			[ -e "$f" ] || continue
			say "# last lines of $f:"
			tail -n 15 "$f" | sed 's/^/#   /'
		done
		cleanup 2>/dev/null
		summary
		exit 1
	fi
	cleanup
}
trap on_exit EXIT
trap 'exit 130' INT TERM HUP

[ "$(id -u)" = 0 ] || { notok "needs root"; exit 1; }
[ -x "$PY" ] || { notok "$PY is missing"; exit 1; }

# ---- certificates ----------------------------------------------------------------------------
# the server cert names its addresses only as IP SANs, like a kubeadm apiserver cert reached
# by address; its CN is no address at all
make_certs() {
	pki_ca ca ec &&
		pki_leaf srv ca IP:10.77.0.1,IP:fd77::1,IP:127.0.0.1 ec serverAuth kube-apiserver &&
		pki_leaf cli ca DNS:virgil-agent ec clientAuth system:node:node-a
}

# start NAME ARGS...: fakeapi in the namespace; waits (bounded) for its "listening" line.
# ip netns exec execs python, so $! is the fake itself.
start() {
	local name=$1 i
	shift
	say "+ [$ns] fakeapi.py $*" >&2
	ip netns exec "$ns" "$PY" "$k8s/fakeapi.py" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pids+=($!)
	eval "pid_$name=$!"
	for i in $(seq 250); do
		grep -q '^fakeapi: listening on ' "$tmp/$name.out" && return 0
		kill -0 "${pids[-1]}" 2>/dev/null || break
		sleep 0.02
	done
	say "# fakeapi $name did not start:" >&2
	sed 's/^/#   /' "$tmp/$name.err" >&2
	return 1
}

# stopped NAME: send SIGTERM and check a clean exit 0 within 5 s with "fakeapi: stopped".
stopped() {
	local pid=$1 name=$2 rc=0 i
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 250); do	# until it is gone or a zombie waiting for us
		case $(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) in "" | Z) break ;; esac
		sleep 0.02
	done
	wait "$pid" || rc=$?
	if [ $rc -eq 0 ] && grep -q '^fakeapi: stopped$' "$tmp/$name.out"; then
		ok "fakeapi ($name) exits 0 on SIGTERM"
	else
		notok "fakeapi ($name) on SIGTERM: exit $rc," \
			"stdout: $(tr '\n' ' ' <"$tmp/$name.out")"
	fi
}

# ---- run -------------------------------------------------------------------------------------
say "# temp dir $tmp, netns $ns"
if make_certs; then ok "test certificates generated (server: IP SANs only)"; else
	notok "openssl could not make certificates"; cat "$tmp/openssl.log"; summary; exit 1
fi

ip netns add "$ns"
n ip link set lo up
n ip addr add 10.77.0.1/32 dev lo
n ip -6 addr add fd77::1/128 dev lo nodad
printf 'fakeapi-token-%s-%s\n' "$$" "$RANDOM$RANDOM" >"$tmp/token"
token=$(cat "$tmp/token")

start main --listen 10.77.0.1:6443 --listen '[fd77::1]:6443' --listen 127.0.0.1:7445 \
	--cert "$tmp/srv.pem" --key "$tmp/srv.key" --token-file "$tmp/token" \
	--objects "$k8s/fixtures/cluster" --control 127.0.0.1:7000
ok "fakeapi started: $(head -n 1 "$tmp/main.out")"
want='^fakeapi: listening on https://10\.77\.0\.1:6443 https://\[fd77::1\]:6443 '
want+='https://127\.0\.0\.1:7445 control http://127\.0\.0\.1:7000 resourceVersion [0-9]+$'
if grep -qE "$want" "$tmp/main.out"; then ok "the ready line names every listener"; else
	notok "the ready line is '$(head -n 1 "$tmp/main.out")'"
fi
start mtls --listen 10.77.0.1:6444 --cert "$tmp/srv.pem" --key "$tmp/srv.key" \
	--client-ca "$tmp/ca.pem" --require-client-cert --control "unix:$tmp/ctl.sock"
ok "second fakeapi (client certificates required, unix control socket) started"

# The protocol checks. Their own ok/FAIL lines are renumbered into this script's count.
say "+ [$ns] check_fakeapi.py ..." >&2
rc=0
ip netns exec "$ns" timeout -k 5 300 "$PY" "$k8s/check_fakeapi.py" --api 10.77.0.1:6443 \
	--alt '[fd77::1]:6443' --alt 127.0.0.1:7445 --ca "$tmp/ca.pem" --token-file "$tmp/token" \
	--control http://127.0.0.1:7000 --mtls 10.77.0.1:6444 --client-cert "$tmp/cli.pem" \
	--client-key "$tmp/cli.key" --term-pid "$pid_main" >"$tmp/check.out" 2>&1 || rc=$?
while IFS= read -r line; do
	case $line in
	"ok "*) ok "${line#ok * - }" ;;
	"FAIL "*) notok "${line#FAIL * - }" ;;
	*" passed, "*" failed") ;;
	*) say "$line" ;;
	esac
done <"$tmp/check.out"
grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$tmp/check.out" ||
	notok "check_fakeapi.py did not finish (exit $rc)"

# check_fakeapi.py ended with SIGTERM to the main fake
stopped "$pid_main" main
if grep -q "LIST /api/v1/pods" "$tmp/main.err"; then ok "requests are logged to stderr"; else
	notok "no request log on stderr"
fi
if grep -qF "$token" "$tmp/main.err" "$tmp/main.out" "$tmp/mtls.err"; then
	notok "a bearer token appears in the logs"
else
	ok "no bearer token in the logs"
fi

ans=$(ip netns exec "$ns" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
out = b""
while True:
	d = s.recv(4096)
	if not d:
		break
	out += d
print(out.split(b"\r\n\r\n", 1)[1].decode().strip())' "$tmp/ctl.sock" 2>&1) || true
if [ "$ans" = '"ok"' ]; then ok "the control API answers on a unix socket"; else
	notok "unix control socket: '$ans'"
fi
stopped "$pid_mtls" mtls
if [ -e "$tmp/ctl.sock" ]; then notok "the unix control socket was left behind"; else
	ok "the unix control socket is removed on exit"
fi

cleanup
if ip netns list | grep -q "^$ns\b"; then notok "namespace $ns remains"; else
	ok "namespace $ns removed"
fi
summary
[ "$fail" -eq 0 ]
