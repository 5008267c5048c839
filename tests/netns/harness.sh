# shellcheck shell=bash disable=SC2034 # done_ is for the sourcing test's EXIT trap
# SPDX-License-Identifier: MIT
# harness.sh: the bookkeeping of the netns tests that stand alone, with no CNI node and so
# without lib.sh (05-tls.sh, 06-fakeapi.sh). Sourced once $ns names the test's namespace; it
# makes $tmp, a fresh directory named after $ns, and pids=() for what the test starts.
#
#   say TEXT...    a line of output           ok WHAT / notok WHAT   "ok N - ..." / "FAIL N - ..."
#   summary        the closing "N passed, N failed"; sets done_=1 (an early stop leaves it 0)
#   n CMD...       CMD printed, then run in $ns
#   cleanup        kill $pids and whatever else runs in $ns, delete $ns and $tmp; idempotent
#
# The test keeps its own EXIT trap (what it reports on an early stop is its own); the trap
# calls cleanup.

: "${ns:?harness.sh: set ns first}"
tmp=$(mktemp -d "/tmp/$ns.XXXXXX")
pids=()
pass=0
fail=0
done_=0

say() { printf '%s\n' "$*"; }
ok() { pass=$((pass + 1)); say "ok $((pass + fail)) - $*"; }
notok() { fail=$((fail + 1)); say "FAIL $((pass + fail)) - $*"; }
summary() { done_=1; say "$pass passed, $fail failed"; }

n() { say "+ [$ns] $*" >&2; ip netns exec "$ns" "$@"; }

cleanup() {
	local p
	if [ -e "/run/netns/$ns" ]; then
		for p in $(ip netns pids "$ns" 2>/dev/null); do pids+=("$p"); done
	fi
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	pids=()
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
