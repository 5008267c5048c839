#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 70-netpol-conformance.sh: Virgil's NetworkPolicy conformance suite (tests/netpol/, see its
# README), run through `virgil lab`: the real agents and the real CNI plugin, every node and
# pod in a network namespace. The model is upstream's e2e one: namespaces x, y, z, pods a, b,
# c in each, servers on 80 and 81 over TCP and UDP, every pod probing every pod.
#
# One lab, brought up once with the base objects (tests/netpol/base/). Then, per case
# (tests/netpol/cases/NN-name/): apply its objects, probe what its `expect` lists and compare
# cell by cell (re-probing once after 1 s on a mismatch, as upstream), put the base objects
# back and check that the fully connected baseline returns, so no case leaks into the next.
# CASES=12,13,20-25 runs only those case numbers; KEEP_LOGS=DIR keeps the run's files.
#
#     <lab>-wire: bridge br0                          <lab> = VIRGIL_LAB_NAME (np + 4 hex)
#   ┌──────────┴──────────┬────────────────────────────┐
#   │ eth0 192.168.86.1/24 fd86::1/64                  │ eth0 192.168.86.2/24 fd86::2/64
#  ┌┴─────────────────────────────────┐  ┌─────────────┴────────────────────┐
#  │ <lab>-n1  virgild --node n1      │  │ <lab>-n2  virgild --node n2      │
#  │ pods 10.244.1.0/24               │  │ pods 10.244.2.0/24               │
#  │      fd00:10:244:1::/64          │  │      fd00:10:244:2::/64          │
#  │ table inet virgil (forward hook) │  │ table inet virgil (forward hook) │
#  └┬──────┬──────┬──────┬──────┬────┘  └┬──────┬──────┬──────┬────────────┘
#   x/a    x/c    y/b    z/a    z/c       x/b    y/a    y/c    z/b
#   (each pod: <lab>-p<k>, eth0 from the plugin, `virgil lab serve` on 80 and 81, TCP+UDP)
#
# Cases may add pods (x/d, x/e, y/d, z/d, w/a) and a namespace w; the cleanup removes them.
# The state dir is $TMP/lab; the EXIT trap always runs `virgil lab down`, and the run proves
# that no namespace named <lab>-* and no agent survives it.

. "$(dirname "$0")/lib.sh"

NP=$(cd "$(dirname "$0")/../netpol" && pwd)
BASE=$NP/base
CHECK=("$PY" "$NP/check.py")
LAB_TMO=${LAB_TMO:-180}		# seconds `lab up` / `lab down` may take
STEP_TMO=${STEP_TMO:-60}	# seconds any other lab command may take
LAB_UP=0

# A free lab name (<= 6 characters [a-z0-9]); the lab's namespaces are "<name>-*". PFX,
# lib.sh's prefix, becomes the lab's, so its safety-net cleanup covers them too.
lab_name_free() { ! ip netns list | awk '{ print $1 }' | grep -q "^$1-"; }
VIRGIL_LAB_NAME=np$(printf '%04x' $(($$ & 0xffff)))
until lab_name_free "$VIRGIL_LAB_NAME"; do
	VIRGIL_LAB_NAME=np$(printf '%04x' $((RANDOM & 0xffff)))
done
VIRGIL_LAB_DIR=$TMP/lab
export VIRGIL_LAB_NAME VIRGIL_LAB_DIR
PFX=$VIRGIL_LAB_NAME-

# not ok, as TAP and the brief of this suite want it; lib.sh's counters stay the same
fail() { FAILED=$((FAILED + 1)); printf 'not ok %d - %s\n' $((PASSED + FAILED)) "$1"; }
note() { sed 's/^/#   /'; }
# stop: end the run after a failure already reported (not an abort: no extra failure)
stop() { DONE=1; exit 1; }

# lab_logs: before `lab down` removes them: KEEP_LOGS=DIR keeps a copy of the run's files
# (the lab's state dir with the agents' logs and status.json, the last probes) there; after
# a failure, the agents' last log lines are shown
lab_logs() {
	local f
	[ -z "${KEEP_LOGS:-}" ] || { mkdir -p "$KEEP_LOGS" && cp -a "$TMP/." "$KEEP_LOGS/"; } || true
	[ "$FAILED" -ne 0 ] || return 0
	for f in "$VIRGIL_LAB_DIR"/nodes/*/agent.log; do
		[ -s "$f" ] || continue
		echo "# last lines of ${f#"$VIRGIL_LAB_DIR"/}:"
		tail -n 30 "$f" | note
	done
}

lab_exit() {
	local rc=$?
	set +e
	if [ "$LAB_UP" = 1 ]; then
		lab_logs
		pretty "" "virgil lab down (exit trap)"
		timeout -k 5 "$LAB_TMO" "$VIRGIL" lab down >>"$TMP/lab.log" 2>&1 || true
	fi
	(exit $rc)
	on_exit
}
trap lab_exit EXIT

# lab ARGS...: `virgil lab ARGS` bounded by STEP_TMO, its stderr kept in $TMP/lab.err
lab() {
	pretty lab "$*"
	timeout -k 5 "$STEP_TMO" "$VIRGIL" lab "$@" </dev/null 2>"$TMP/lab.err"
}
lab_why() { tail -n 3 "$TMP/lab.err" | tr '\n' ' ' | sed 's/ *$//'; }

# probe OUT PROTO PORT FAMILY: the JSON matrix into OUT
probe() {
	lab probe --json --protocol "$2" --port "$3" --family "$4" >"$1"
}

# ---------------------------------------------------------------------------------------
# One case. ERRS collects "what went wrong" lines; the first one ends up on the not ok line,
# DETAIL (grids, further cells) follows it as comments.

# judge CASE SECTION PROTO PORT FAMILY RETRY: probe and compare, once more after 1 s on a
# mismatch when RETRY is 1 (upstream's ValidateOrFail re-probes the whole matrix once)
judge() {
	local dir=$1 sec=$2 f=$TMP/probe.json try
	for try in 1 2; do
		if ! probe "$f" "$3" "$4" "$5"; then
			ERRS+=("$sec: lab probe --protocol $3 --port $4 --family $5 failed: $(lab_why)")
			return
		fi
		if "${CHECK[@]}" compare "$dir" "$sec" "$3" "$4" "$5" "$f" >"$TMP/cmp"; then
			# a pass that needed the re-probe is shown: lab apply returns only once
			# every agent has the change in the kernel, so none should
			[ $try = 1 ] || REPROBED+=("${dir##*/} $sec $3/$4 IPv$5")
			return
		fi
		if [ "$6" != 1 ] || [ $try = 2 ]; then
			break
		fi
		sleep 1	# upstream's pause before its one re-probe; nothing to poll for
	done
	ERRS+=("$sec: $(head -n 1 "$TMP/cmp")")
	DETAIL+="$sec:"$'\n'"$(tail -n +2 "$TMP/cmp")"$'\n'
}

check_section() {
	local dir=$1 sec=$2 p probes
	mapfile -t probes < <("${CHECK[@]}" probes "$dir" "$sec")
	for p in "${probes[@]}"; do
		# shellcheck disable=SC2086 # "PROTO PORT FAMILY RETRY"
		judge "$dir" "$sec" $p
	done
}

# names FILE...: the file names only, for messages
names() { local f; for f; do printf '%s ' "${f##*/}"; done | sed 's/ $//'; }

# restore CASE: the lab back to base/, then the baseline: every pair connected, no policy
# left, no agent isolating anything. A failed attempt is followed by a hard reset.
restore() {
	local dir=$1 line verb files lines out=$TMP/restore
	rm -rf "$out"
	mapfile -t lines < <("${CHECK[@]}" restore "$dir" "$BASE" "$TMP/actions" "$out")
	for line in "${lines[@]}"; do
		read -r verb files <<<"$line"
		# shellcheck disable=SC2086 # a list of files
		lab "$verb" $files >/dev/null ||
			ERRS+=("cleanup: lab $verb $(names $files) failed: $(lab_why)")
	done
	baseline_ok "after cleanup" && return
	hard_reset "$dir"
	baseline_ok "after a hard reset" || true
}

# hard_reset CASE: every object of the case that base/ lacks deleted one by one (errors
# ignored: most are gone already), then every base object applied again
hard_reset() {
	local f out=$TMP/hard
	rm -rf "$out"
	printf 'apply %s\n' "$(echo "$1"/apply/*.json)" >"$TMP/all-actions"
	for f in $("${CHECK[@]}" restore "$1" "$BASE" "$TMP/all-actions" "$out" |
		awk '$1 == "delete" { for (i = 2; i <= NF; i++) print $i }'); do
		lab delete "$f" >/dev/null || true
	done
	lab apply "$BASE"/*.json >/dev/null || ERRS+=("hard reset: lab apply base/ failed: $(lab_why)")
}

# baseline_ok WHEN: TCP/80 over IPv4 fully connected among exactly the base pods, and nothing
# left over in the lab's object source or in the agents' reports
baseline_ok() {
	local f=$TMP/base.json left try
	for try in 1 2; do
		if ! probe "$f" tcp 80 4; then
			ERRS+=("$1: lab probe failed: $(lab_why)")
			return 1
		fi
		"${CHECK[@]}" baseline "$BASE" "$f" >"$TMP/cmp" && break
		[ $try = 1 ] || {
			ERRS+=("$1: baseline not back: $(head -n 1 "$TMP/cmp")")
			DETAIL+="$1:"$'\n'"$(tail -n +2 "$TMP/cmp")"$'\n'
			return 1
		}
		sleep 1
	done
	left=$("${CHECK[@]}" leftovers "$VIRGIL_LAB_DIR") || {
		ERRS+=("$1: $(head -n 1 <<<"$left")")
		return 1
	}
}

run_case() {
	local dir=$1 name=${1##*/} line verb args t0 plan
	ERRS=()
	DETAIL=
	if [ -e "$dir/skip" ]; then
		pass "$name # SKIP $(head -n 1 "$dir/skip")"
		return
	fi
	t0=$(now_us)
	: >"$TMP/actions"
	mapfile -t plan < <("${CHECK[@]}" plan "$dir")
	[ ${#plan[@]} -gt 0 ] || ERRS+=("check.py plan gave no step")
	for line in "${plan[@]}"; do
		read -r verb args <<<"$line"
		case $verb in
		apply | delete)
			echo "$line" >>"$TMP/actions"
			# shellcheck disable=SC2086 # a list of files
			lab "$verb" $args >/dev/null || {
				ERRS+=("lab $verb $(names $args) failed: $(lab_why)")
				break
			}
			;;
		check) check_section "$dir" "$args" ;;
		*) ERRS+=("check.py plan: $line") ;;
		esac
	done
	restore "$dir"
	printf '# %s: %d ms\n' "$name" $((($(now_us) - t0) / 1000))
	if [ ${#ERRS[@]} -eq 0 ]; then
		pass "$name"
		return
	fi
	fail "$name: ${ERRS[0]}"
	printf '%s\n' "${ERRS[@]:1}" | grep . | note || true
	[ -z "$DETAIL" ] || printf '%s' "$DETAIL" | note
}

# wanted NN: is case number NN in CASES ("12,13,20-25"; empty means all)?
wanted() {
	local n=$((10#$1)) part lo hi
	[ -n "${CASES:-}" ] || return 0
	for part in ${CASES//,/ }; do
		lo=${part%-*} hi=${part#*-}
		[ "$n" -ge $((10#$lo)) ] && [ "$n" -le $((10#$hi)) ] && return 0
	done
	return 1
}

# ---------------------------------------------------------------------------------------
# The suite's own files first: nothing below is worth a lab if they do not parse

if "${CHECK[@]}" --self-test >"$TMP/selftest.out" 2>&1; then
	pass "check.py --self-test: $(tail -n 1 "$TMP/selftest.out")"
else
	fail "check.py --self-test"
	grep -v '^ok' "$TMP/selftest.out" | note
fi
SELECTED=()
for d in "$NP"/cases/[0-9]*/; do
	d=${d%/}
	n=${d##*/}
	wanted "${n%%-*}" && SELECTED+=("$d")
done
if "${CHECK[@]}" lint "$NP"/cases/[0-9]*/ >"$TMP/lint.out" 2>&1; then
	pass "$(tail -n 1 "$TMP/lint.out")"
else
	fail "the case files do not all parse"
	note <"$TMP/lint.out"
	stop
fi
[ ${#SELECTED[@]} -gt 0 ] || { fail "CASES=$CASES selects no case"; stop; }

# ---------------------------------------------------------------------------------------
# The lab, once

T_UP=$(now_us)
LAB_UP=1
pretty lab "up --nodes 2 $BASE (lab $VIRGIL_LAB_NAME, state $VIRGIL_LAB_DIR)"
if timeout -k 5 "$LAB_TMO" "$VIRGIL" lab up --nodes 2 "$BASE" >"$TMP/up.out" 2>&1 </dev/null
then
	pass "lab up: 2 nodes, base objects ($((($(now_us) - T_UP) / 1000)) ms)"
else
	fail "lab up failed (exit $?)"
	tail -n 20 "$TMP/up.out" | note
	stop
fi

if lab status --json >"$TMP/status.json"; then
	pl=$("${CHECK[@]}" placement "$BASE" "$TMP/status.json") && rc=0 || rc=$?
	is "pods on their base/ nodes, addressed from their node's ranges" "$pl" ""
	AGENTS=$(j "$(<"$TMP/status.json")" '" ".join(str(n.get("agentPid")) for n in d["nodes"])')
else
	fail "lab status --json: $(lab_why)"
	AGENTS=
fi

for spec in "tcp 80 4" "tcp 81 6" "udp 80 4" "udp 81 6"; do
	read -r proto port fam <<<"$spec"
	if probe "$TMP/probe.json" "$proto" "$port" "$fam"; then
		out=$("${CHECK[@]}" baseline "$BASE" "$TMP/probe.json") && rc=0 || rc=$?
		is "baseline ${proto^^}/$port IPv$fam: every pair connected" "$(head -n 1 <<<"$out")" ""
		[ "$rc" = 0 ] || tail -n +2 <<<"$out" | note
	else
		fail "baseline ${proto^^}/$port IPv$fam: lab probe failed: $(lab_why)"
	fi
done

# ---------------------------------------------------------------------------------------
# The cases

T_CASES=$(now_us)
REPROBED=()
for d in "${SELECTED[@]}"; do
	run_case "$d"
done
printf '# %d cases in %d ms\n' ${#SELECTED[@]} $((($(now_us) - T_CASES) / 1000))
printf '# %d probes passed only on their re-probe\n' ${#REPROBED[@]}
[ ${#REPROBED[@]} -eq 0 ] || printf '%s\n' "${REPROBED[@]}" | note

# ---------------------------------------------------------------------------------------
# The end: the lab down, nothing of it left

lab_logs
if timeout -k 5 "$LAB_TMO" "$VIRGIL" lab down >>"$TMP/lab.log" 2>&1 </dev/null; then
	pass "lab down"
else
	fail "lab down failed (exit $?)"
	tail -n 10 "$TMP/lab.log" | note
fi
LAB_UP=0
is "no namespace named $PFX* after lab down" "$(our_netns | words)" ""
for p in $AGENTS; do
	case $p in
	'' | *[!0-9]*) fail "status gave no agent pid ($p)" ;;
	*) check "agent $p is gone" eval "! pid_alive $p" ;;
	esac
done
check "the lab's state dir is gone" test ! -e "$VIRGIL_LAB_DIR"
DONE=1
