#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 05-tls.sh: the TLS path of the static musl binary, end to end. Builds tests/tls/tls_client.c
# with musl-gcc -static against src/io/tls.c, Debian's mbedtls archives and our glibc shim,
# then talks to `openssl s_server` and checks that verification accepts exactly what it should:
# IP SANs (v4 and v6, which mbedtls 2.28 cannot match itself), DNS SANs, CA from memory in
# DER, client certificates; and refuses the wrong CA, a certificate for another IP, a DNS name
# against an IP-only certificate, and a TLS 1.3-only server (with a message saying so).
#
#   netns vg$$-tls (lo only)
#   +---------------------------------------------------------------+
#   |  tls_client --TLS 1.2-->  openssl s_server -www               |
#   |                           127.0.0.1:4431  cert IP:127.0.0.1   |  CA1 (RSA), server RSA
#   |                           127.0.0.1:4432  cert IP:127.0.0.2   |  CA1
#   |                           [::1]:4433      cert IP:::1         |  CA1, server EC P-256
#   |                           127.0.0.1:4434  cert DNS:api.virgil.test  CA1
#   |                           127.0.0.1:4435  cert IP:127.0.0.1, client cert required
#   |                           127.0.0.1:4436  cert IP:127.0.0.1, TLS 1.3 only
#   |                           127.0.0.1:4437  cert CN=127.0.0.1, DNS SAN only
#   +---------------------------------------------------------------+
#   CA2: an unrelated CA the servers know nothing of.
#
# Needs root (netns), openssl, musl-gcc, libmbedtls-dev; run ./build.sh first (it makes
# build/musl-include). Ends with one "N passed, N failed" line.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
ns=vg$$-tls
# shellcheck source=tests/netns/harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source=tests/netns/pki.sh
. "$(dirname "$0")/pki.sh"

on_exit() {
	local rc=$?
	cleanup
	if [ $done_ -eq 0 ]; then
		notok "script stopped early (exit $rc, see above)"
		summary
		exit 1
	fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM HUP

# ---- certificates ----------------------------------------------------------------------------
make_certs() {
	pki_ca ca1 rsa &&
		pki_ca ca2 ec &&
		pki_leaf ip1 ca1 IP:127.0.0.1 rsa &&
		pki_leaf ip2 ca1 IP:127.0.0.2 rsa &&
		pki_leaf ip6 ca1 IP:::1 ec &&
		pki_leaf dns ca1 DNS:api.virgil.test rsa &&
		pki_leaf cn ca1 DNS:elsewhere.virgil.test rsa serverAuth 127.0.0.1 &&
		pki_leaf client ca1 DNS:virgil-agent ec clientAuth &&
		openssl x509 -in "$tmp/ca1.pem" -outform DER -out "$tmp/ca1.der"
}

# ---- the static client -----------------------------------------------------------------------
build_client() {
	local inc=$top/build/musl-include L=/usr/lib/x86_64-linux-gnu
	[ -d "$inc" ] || { say "no $inc: run ./build.sh first" >&2; return 1; }
	musl-gcc -std=gnu11 -Os -static -fno-plt -ffunction-sections -fdata-sections \
		-fstack-protector-strong -D_FORTIFY_SOURCE=0 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
		-Wformat=2 -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter -Wvla \
		-Wpointer-arith -Wundef -idirafter "$inc" -Wl,--gc-sections \
		-o "$tmp/tls_client.unstripped" "$top/tests/tls/tls_client.c" "$top/src/io/tls.c" \
		"$top/src/base/err.c" "$top/src/base/mem.c" "$top/src/base/util.c" \
		"$top/src/core/cidr.c" "$top/third_party/mbedtls-shim/shim.c" \
		$L/libmbedtls.a $L/libmbedx509.a $L/libmbedcrypto.a &&
		strip -o "$tmp/tls_client" "$tmp/tls_client.unstripped"
}

# ---- servers ---------------------------------------------------------------------------------
# serve PORT ACCEPT CERT [s_server options...]: start it in the netns, wait until it listens.
serve() {
	local port=$1 accept=$2 cert=$3 i
	shift 3
	# not through n(): a backgrounded function would leave $! naming a subshell, while
	# ip netns exec execs openssl, so $! is the server itself
	say "+ [$ns] openssl s_server -accept $accept -cert $cert.pem $*" >&2
	ip netns exec "$ns" openssl s_server -quiet -www -accept "$accept" \
		-cert "$tmp/$cert.pem" -key "$tmp/$cert.key" "$@" >>"$tmp/server-$port.log" 2>&1 &
	pids+=($!)
	for i in $(seq 100); do
		ip netns exec "$ns" ss -Htln "sport = :$port" | grep -q . && return 0
		kill -0 "${pids[-1]}" 2>/dev/null || break
		sleep 0.05
	done
	say "s_server on $accept did not start:" >&2
	cat "$tmp/server-$port.log" >&2
	return 1
}

# expect WANT_RC WHAT [-m] ADDR PORT CA NAME [CERT KEY]: run the client, check its exit code;
# on success also that the answer is HTTP. Leaves the client's stderr in $tmp/err and sets
# $last to ok or fail. Always returns 0 (set -e).
last=fail
expect() {
	local want=$1 what=$2 rc=0
	shift 2
	last=fail
	say "+ [$ns] tls_client $*"
	ip netns exec "$ns" timeout 30 "$tmp/tls_client" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	sed 's/^/    client: /' "$tmp/err"
	cat "$tmp/err" >>"$tmp/allerr"
	if [ $rc -ne "$want" ]; then
		notok "$what: exit $rc, want $want"
	elif [ "$want" -eq 0 ] && ! grep -q '^HTTP/1\.[01] 200' "$tmp/out"; then
		notok "$what: no HTTP response ($(head -c 200 "$tmp/out" | tr -cd '[:print:]'))"
	else
		ok "$what"
		last=ok
	fi
}

# expect_err PATTERN WHAT: the last client run (which went as expected) said PATTERN.
expect_err() {
	if [ "$last" != ok ]; then
		notok "$2: not checked, the run before failed"
	elif grep -qiE "$1" "$tmp/err"; then
		ok "$2"
	else
		notok "$2: stderr lacks /$1/"
	fi
}

# ---- run -------------------------------------------------------------------------------------
say "# temp dir $tmp, netns $ns"
if make_certs; then ok "test certificates generated"; else
	notok "openssl could not make certificates"; cat "$tmp/openssl.log"; summary; exit 1
fi
if build_client; then
	ok "tls_client links statically with musl, mbedtls and the shim"
else
	notok "tls_client does not build"; summary; exit 1
fi
if file "$tmp/tls_client" | grep -q 'statically linked'; then ok "tls_client is static"; else
	notok "tls_client is not static: $(file "$tmp/tls_client")"
fi
say "# tls_client size: $(stat -c %s "$tmp/tls_client") bytes stripped," \
	"$(stat -c %s "$tmp/tls_client.unstripped") unstripped"

ip netns add "$ns"
n ip link set lo up
serve 4431 127.0.0.1:4431 ip1 -tls1_2
serve 4432 127.0.0.1:4432 ip2 -tls1_2
serve 4433 '[::1]:4433' ip6 -tls1_2
serve 4434 127.0.0.1:4434 dns -tls1_2
serve 4435 127.0.0.1:4435 ip1 -tls1_2 -Verify 1 -CAfile "$tmp/ca1.pem" -verify_return_error
serve 4436 127.0.0.1:4436 ip1 -tls1_3
serve 4437 127.0.0.1:4437 cn -tls1_2

expect 0 "IPv4 address matched by IP SAN 127.0.0.1" 127.0.0.1 4431 "$tmp/ca1.pem" 127.0.0.1
expect_err 'waited in poll\(\) [1-9]' "non-blocking socket: handshake driven by poll()"
expect 1 "wrong CA refused" 127.0.0.1 4431 "$tmp/ca2.pem" 127.0.0.1
expect_err 'not correctly signed|trusted' "wrong CA: reason names the untrusted chain"
expect 1 "certificate for 127.0.0.2 refused at 127.0.0.1" 127.0.0.1 4432 "$tmp/ca1.pem" 127.0.0.1
expect_err 'no subjectAltName IP address 127\.0\.0\.1' "IP mismatch: reason names the address"
expect 0 "IPv6 address matched by IP SAN ::1" ::1 4433 "$tmp/ca1.pem" ::1
expect 1 "IPv6 cert refused for another address (::2)" ::1 4433 "$tmp/ca1.pem" ::2
expect 1 "IP-only certificate refused for a DNS name" 127.0.0.1 4431 "$tmp/ca1.pem" localhost
expect 1 "CN=127.0.0.1 without IP SAN refused (CN never matched)" 127.0.0.1 4437 "$tmp/ca1.pem" \
	127.0.0.1
expect 0 "DNS name matched by DNS SAN" 127.0.0.1 4434 "$tmp/ca1.pem" api.virgil.test
expect 1 "DNS SAN certificate refused for an IP" 127.0.0.1 4434 "$tmp/ca1.pem" 127.0.0.1
expect 0 "CA as DER from memory" -m 127.0.0.1 4431 "$tmp/ca1.der" 127.0.0.1
expect 2 "mutual TLS without a client certificate fails" 127.0.0.1 4435 "$tmp/ca1.pem" 127.0.0.1
expect_err 'fatal alert [0-9]+ [a-z_]+' "mTLS refusal: reason names the server's alert"
expect 0 "mutual TLS with client certificate (files)" 127.0.0.1 4435 "$tmp/ca1.pem" \
	127.0.0.1 "$tmp/client.pem" "$tmp/client.key"
expect 0 "mutual TLS with client certificate (memory)" -m 127.0.0.1 4435 "$tmp/ca1.pem" \
	127.0.0.1 "$tmp/client.pem" "$tmp/client.key"
expect 2 "client key not matching its certificate refused" 127.0.0.1 4435 "$tmp/ca1.pem" \
	127.0.0.1 "$tmp/client.pem" "$tmp/ip6.key"
expect_err 'does not match' "key mismatch: reason says so"
expect 2 "TLS 1.3-only server fails" 127.0.0.1 4436 "$tmp/ca1.pem" 127.0.0.1
expect_err 'TLS 1\.3' "TLS 1.3-only server: reason names TLS 1.3"
expect 2 "bracketed IPv6 name refused" ::1 4433 "$tmp/ca1.pem" '[::1]'

# (stdout is s_server's status page, which prints session PEM itself: only our stderr counts)
if grep -qiE 'BEGIN|PRIVATE' "$tmp/allerr"; then
	notok "key or certificate text leaked into client messages"
else
	ok "no key or certificate text in client messages"
fi

started=("${pids[@]}")
cleanup
left=0
for p in "${started[@]}"; do kill -0 "$p" 2>/dev/null && left=$((left + 1)); done
if [ $left -eq 0 ]; then ok "all ${#started[@]} servers stopped"; else
	notok "$left of ${#started[@]} servers still running"
fi
pids=()
if ip netns list | grep -q "^$ns\b"; then notok "netns $ns still exists"; else
	ok "netns $ns removed"
fi
if [ -e "$tmp" ]; then notok "temp dir $tmp still exists"; else ok "temp dir removed"; fi
summary
[ $fail -eq 0 ]
