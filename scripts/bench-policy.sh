#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench-policy.sh BINARY: the NetworkPolicy benchmark. The node agent (virgild --source) runs
# in a node namespace of its own against a synthetic cluster (scripts/bench-policy.py gen:
# seeded, 10,000 pods, 1,000 policies by default) and is measured against baselines taken
# in the same run:
#
#   full sync     the agent's first programming pass after a start into a fresh namespace
#                 (status.json lastSync.micros: compile + one netlink batch), RUNS starts,
#                 median; against Debian's `nft -f` loading the agent's own `nft list table
#                 inet virgil` into a fresh namespace, RUNS times, median. Targets: at most
#                 1.2x nft -f, and under 1 s.
#   changes       CHANGES single changes, one at a time (pod label, pod add, pod delete,
#                 policy edit, namespace label), each from just before its file is renamed
#                 into the source folder to the kernel's ack (status.json doneAtMicros);
#                 p50/p99/max per kind. Target: p99 within 10 ms.
#   memory        VmRSS and VmHWM after the full sync and at the end.
#   connections   sequential connect/close per second from one pod to another on the node,
#                 with the 1,000 policies (both pods selected, the connection allowed) and
#                 with none (the table there, its maps empty), interleaved ROUNDS times each,
#                 medians; for reference, with no table at all. Target: at least 0.9x. The
#                 client and the server are pinned to one CPU each.
#
# Every measurement starts once the CPUs are idle (bench-policy.py quiet): deleting a
# namespace that holds a big table keeps a kernel worker busy for a second or more.
#
# Scenarios (SCENARIOS, default "spread all"): spread, 100 nodes with one pod in ten on the
# measured node n1 (about 1,000); all, every pod on n1 (the worst case).
#
#   vbp<pid>-pa: bench-client             vbp<pid>-pb: bench-server, :8080 :8081
#   eth0 10.64.0.2/32, default via .1      eth0 10.64.0.3/32, default via .1
#          │ veth                                 │ veth
#   vbp<pid>-<S>n<run>: node n1, forwarding on: vbpa, vbpb 10.64.0.1/32 + a route per pod;
#   eth0 192.168.86.1/24 fd86::1/64 (a veth whose peer stays inside: the other nodes are
#   routed to, never reached); virgild --source DIR --node-name n1; pods 10.64.0.0/22
#   (spread) or 10.64.0.0/18 (all), fd00:64:1::/64
#   vbp<pid>-<S>f<run>: empty namespaces for `nft -f`; vbp<pid>-<S>x: a second agent that
#   compiles the changed world from scratch (it must program exactly what the first holds).
#
# It prints PASS or MISS per target and a table; it exits 1 only on a malfunction (the agent
# dies or exits non-zero, a sync fails or times out, the kernel's table differs from what it
# should be, a connection fails that the policies allow, something is left behind), never on
# a missed target. Needs root and Debian's /usr/bin/python3 and /usr/sbin/nft.
#
# Environment: PODS (10000), POLICIES (1000), NAMESPACES (100), NODES (100), CHANGES (300),
# SECONDS or CONN_SECONDS (5: one connection round), ROUNDS (4), RUNS (3), SEED (1),
# DUAL (1: dual-stack pods; 0: IPv4 only), SCENARIOS, DEBUG (agents with --debug), KEEP
# (keep the temporary directory). A quick run: PODS=1000 POLICIES=100 CHANGES=50 SECONDS=2.
# shellcheck disable=SC2154	# kv sets the W_, G_, L_ and C_ variables
CONN_S=${CONN_SECONDS:-$SECONDS}	# bash counts SECONDS from the value it inherits: read first
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BINARY" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "bench-policy: needs root (network namespaces)" >&2; exit 2; }
PY=/usr/bin/python3	# Debian's, stdlib only
NFT=/usr/sbin/nft
for x in "$PY" "$NFT"; do
	[ -x "$x" ] || { echo "bench-policy: $x is missing" >&2; exit 2; }
done
HP=$(cd "$(dirname "$0")" && pwd)/bench-policy.py
[ -r "$HP" ] || { echo "bench-policy: $HP is missing" >&2; exit 2; }
export PYTHONDONTWRITEBYTECODE=1
[ "$CONN_S" -gt 0 ] 2>/dev/null || CONN_S=5
PODS=${PODS:-10000}
POLICIES=${POLICIES:-1000}
NAMESPACES=${NAMESPACES:-100}
NODES=${NODES:-100}
CHANGES=${CHANGES:-300}
ROUNDS=${ROUNDS:-4}
RUNS=${RUNS:-3}
SEED=${SEED:-1}
DUAL=${DUAL:-1}
SCENARIOS=${SCENARIOS:-spread all}
SYNC_S=180		# bound on an agent's first sync

PFX=vbp$$-
TMP=$(mktemp -d "${TMPDIR:-/tmp}/virgil-bench-policy.XXXXXX")
BIN=$TMP/virgil		# our copy: a rebuild during the run must not change what we measure
cp "$(realpath "$1")" "$BIN"
: >"$TMP/busy"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
PIDS=()			# everything started in the background, killed by pid on exit
MALF=$TMP/malfunctions	# one line per malfunction (malf may run in a subshell)
: >"$MALF"

cleanup() {
	local p ns
	set +e
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	for ns in $(ip netns list | awk '{ print $1 }' | grep "^$PFX"); do
		for p in $(ip netns pids "$ns"); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$ns"
	done
	if [ -n "${KEEP:-}" ]; then echo "bench-policy: kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*" >&2; }
h() { "$PY" "$HP" "$@"; }
alive() { case $(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) in "" | Z) return 1 ;; esac; }
mib() { awk -v k="$2:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
malf() { echo "$*" >>"$MALF"; say "bench-policy: MALFUNCTION: $*"; }
# kv PREFIX LINE: "a=1 b=2" becomes PREFIX_a=1 PREFIX_b=2
kv() {
	local x
	for x in $2; do printf -v "$1_${x%%=*}" '%s' "${x#*=}"; done
}
us_now() { local t=$EPOCHREALTIME; echo "${t/./}"; }
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
verdict() { if "$@"; then echo PASS; else echo MISS; fi; }
# quiet: wait (30 s at most) until the CPUs are idle before a measurement; $TMP/busy has a
# line per measurement that had to start on a busy machine (quiet may run in a subshell)
quiet() {
	local q
	q=$(h quiet 30)
	[[ $q != busy* ]] || { echo "$q" >>"$TMP/busy"; say "bench-policy: machine $q idle"; }
}

# stop PID: SIGTERM, at most 5 s, then SIGKILL; RC is its exit status (124: killed)
stop() {
	local i
	kill "$1" 2>/dev/null || true
	for ((i = 0; i < 250; i++)); do alive "$1" || break; sleep 0.02; done
	alive "$1" && kill -9 "$1" 2>/dev/null
	RC=0
	wait "$1" 2>/dev/null || RC=$?
	[ "$i" -lt 250 ] || RC=124
}

# ---------------------------------------------------------------------------------------
# Namespaces and the agent

# node NS: a node namespace like the lab's: eth0 with the node's addresses (a veth whose
# peer stays inside: the other nodes are never reached, only routed to), forwarding on
node_ns() {
	ip netns add "$1"
	ip -n "$1" link set lo up
	ip -n "$1" link add eth0 type veth peer name uplink
	ip -n "$1" addr add 192.168.86.1/24 dev eth0
	ip -n "$1" addr add fd86::1/64 dev eth0 nodad
	ip -n "$1" link set eth0 up
	ip -n "$1" link set uplink up
	ip netns exec "$1" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# agent NS TAG: virgild in NS on the scenario's source; AGENT (its pid), ALOG, ADATA, A_T0
agent() {
	local d=$SD/agent-$2
	mkdir -p "$d/data" "$d/cni" "$d/root"
	ALOG=$d/agent.log ADATA=$d/data
	A_T0=$(us_now)
	ip netns exec "$1" env -u NODE_NAME -u KUBECONFIG -u VIRGIL_API_SERVER \
		-u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT -u VIRGIL_CLUSTER_CIDRS \
		"$BIN" virgild --node-name n1 --source "$SD/api" --data-dir "$d/data" \
		--cni-conf-dir "$d/cni" --host-root "$d/root" --no-local-balancers \
		--cluster-cidr 10.64.0.0/14 --cluster-cidr fd00:64::/48 ${DEBUG:+--debug} \
		>"$ALOG" 2>&1 &
	AGENT=$!
	PIDS+=("$AGENT")
}

# dead WHAT: the agent failed (exit status or stuck), its log's tail, exit 1
dead() {
	local st="is still running"
	alive "$AGENT" || { wait "$AGENT" 2>/dev/null && st="exited 0" || st="exited $?"; }
	malf "the agent (pid $AGENT) $st $*; its last log lines:"
	tail -n 20 "$ALOG" | sed 's/^/    /' >&2
	exit 1
}

# await GEN [TIMEOUT]: until status.json reports GEN programmed; W_* from the status
await() {
	local line
	line=$(h wait "$ADATA/status.json" "$1" "$AGENT" "${2:-60}") ||
		dead "(waiting for generation $1)"
	kv W "$line"
}

# stop_agent WHAT: SIGTERM; it must exit 0
stop_agent() {
	stop "$AGENT"
	[ "$RC" -eq 0 ] || { malf "$1: the agent exited $RC on SIGTERM"; tail -n 5 "$ALOG" >&2; }
}

listing() { ip netns exec "$1" "$NFT" list table inet virgil; }

# ---------------------------------------------------------------------------------------
# The report

ROWS=()
row() { ROWS+=("$(printf '| %s | %s | %s | %s | %s |' "$@")"); }
TARGETS=()
target() { TARGETS+=("$(printf '%-6s %-8s %s' "$1" "$2" "$3")"); }

# ---------------------------------------------------------------------------------------
# One scenario

scenario() {
	local S=$1 r i line med nmed runs=() nfts=() walls=() same SAMEV=yes SCRATCH
	SD=$TMP/$S
	mkdir -p "$SD"
	say "== $S: generating $PODS pods, $POLICIES policies, $NAMESPACES namespaces, $NODES nodes"
	line=$(h gen "$SD/api" "$SD/state.json" "$S" "$PODS" "$POLICIES" "$NAMESPACES" "$NODES" \
		"$SEED" "$DUAL")
	kv G "$line"
	say "$S: $line"
	local GEN=1

	# -- full sync: RUNS starts, each into a fresh node namespace; the last one stays
	for ((r = 1; r <= RUNS; r++)); do
		NODE=${PFX}${S}n$r
		node_ns "$NODE"
		quiet
		agent "$NODE" "$r"
		await "$GEN" "$SYNC_S"
		[ "$W_full" = 1 ] || malf "$S run $r: the first pass after the start was not full"
		[ "$W_problems" = 0 ] || { malf "$S: $W_problems policies reported as problems";
			h problems "$ADATA/status.json" | head -n 5 >&2; }
		runs+=("$W_micros")
		walls+=($((W_done_at - A_T0)))
		say "$S run $r: full sync pass $(ms "$W_micros") ms; start to kernel" \
			"$(ms $((W_done_at - A_T0))) ms; $W_groups groups, $W_isolated dispatch" \
			"entries, $W_elements elements"
		listing "$NODE" >"$SD/list.$r.txt"
		if [ "$r" -gt 1 ]; then
			same=$(h same "$SD/list.1.txt" "$SD/list.$r.txt")
			[[ $same == same* ]] || { SAMEV=no;
				malf "$S: run $r programmed another ruleset: $same"; }
		fi
		if [ "$r" -lt "$RUNS" ]; then
			stop_agent "$S run $r"
			ip netns del "$NODE"
		fi
	done
	sleep 1
	alive "$AGENT" || dead "after its first sync"
	local RSS1 HWM1
	RSS1=$(mib "$AGENT" VmRSS) HWM1=$(mib "$AGENT" VmHWM)
	local NGROUPS=$W_groups ISOLATED=$W_isolated ELEMENTS=$W_elements
	kv L "$(h count "$SD/list.1.txt")"

	# -- the baseline: nft -f of the agent's own listing into fresh namespaces
	for ((r = 1; r <= RUNS; r++)); do
		ip netns add "${PFX}${S}f$r"
		quiet
		line=$(ip netns exec "${PFX}${S}f$r" "$PY" "$HP" nft-time "$SD/list.1.txt") ||
			{ malf "$S: nft -f of the agent's listing failed"; exit 1; }
		nfts+=("$line")
		say "$S: nft -f run $r: $line ms"
		if [ "$r" = 1 ]; then
			listing "${PFX}${S}f$r" >"$SD/list.nft.txt"
			same=$(h same "$SD/list.1.txt" "$SD/list.nft.txt")
			[[ $same == same* ]] || { SAMEV=no;
				malf "$S: nft -f's table lists differently: $same"; }
		fi
		ip netns del "${PFX}${S}f$r"
	done
	med=$(h median "${runs[@]}")
	nmed=$(h median "${nfts[@]}")
	local FULL_MS NFT_MS WALL_MS FR
	FULL_MS=$(ms "$med") NFT_MS=$nmed WALL_MS=$(ms "$(h median "${walls[@]}")")
	FR=$(ratio "$FULL_MS" "$NFT_MS")

	# -- single changes
	say "$S: $CHANGES single changes"
	quiet
	line=$(h changes "$SD/api" "$SD/state.json" "$ADATA/status.json" "$CHANGES" "$SEED" \
		"$AGENT" "$SD/changes.log") || dead "during the single changes"
	echo "$line" >"$SD/changes.json"
	GEN=$(echo "$line" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["gen"])')
	alive "$AGENT" || dead "after the single changes"

	# -- the changed world compiled from scratch by a second agent must be the same table
	local MAIN_AGENT=$AGENT MAIN_LOG=$ALOG MAIN_DATA=$ADATA
	node_ns "${PFX}${S}x"
	agent "${PFX}${S}x" scratch
	await "$GEN" "$SYNC_S"
	listing "${PFX}${S}x" >"$SD/list.scratch.txt"
	listing "$NODE" >"$SD/list.changed.txt"
	SCRATCH=$(h same "$SD/list.changed.txt" "$SD/list.scratch.txt")
	[[ $SCRATCH == same* ]] || malf "$S: after the changes the agent's table is not what a" \
		"fresh compile gives: $SCRATCH"
	stop_agent "$S scratch agent"
	ip netns del "${PFX}${S}x"
	AGENT=$MAIN_AGENT ALOG=$MAIN_LOG ADATA=$MAIN_DATA

	# -- connection rate
	conn_setup
	local on=() off=() notab=()
	for ((i = 1; i <= ROUNDS; i++)); do
		policies off
		[ "$i" -gt 1 ] || BULK_OFF="$P_micros $P_to_kernel_us $P_moved"
		off+=("$(conn_round "none, round $i")")
		policies on
		[ "$i" -gt 1 ] || BULK_ON="$P_micros $P_to_kernel_us $P_elements"
		on+=("$(conn_round "$G_policies policies, round $i")")
	done
	alive "$AGENT" || dead "during the connection rounds"
	local RSS2 HWM2
	RSS2=$(mib "$AGENT" VmRSS) HWM2=$(mib "$AGENT" VmHWM)
	stop_agent "$S"
	ip netns exec "$NODE" "$NFT" delete table inet virgil
	for ((i = 1; i <= ROUNDS; i++)); do
		notab+=("$(conn_round "no table, round $i")")
	done
	conn_teardown
	ip netns del "$NODE"

	# -- the figures
	local RON ROFF RNO CR CH
	RON=$(h median "${on[@]}") ROFF=$(h median "${off[@]}") RNO=$(h median "${notab[@]}")
	printf -v RON '%.0f' "$RON"
	printf -v ROFF '%.0f' "$ROFF"
	printf -v RNO '%.0f' "$RNO"
	CR=$(ratio "$RON" "$ROFF")
	CH=$SD/changes.json
	local title="$S: $G_pods pods ($G_local on n1, $G_local_running running),\
 $G_policies policies"
	row "$title" "full sync, agent (pass: compile + batch), median of $RUNS" "$FULL_MS ms" \
		"" ""
	row "" "  runs" "$(for x in "${runs[@]}"; do printf '%s ' "$(ms "$x")"; done)ms" "" ""
	row "" "full sync, nft -f of the same ruleset (fresh namespace), median of $RUNS" \
		"$NFT_MS ms" "" ""
	row "" "  runs" "${nfts[*]} ms" "" ""
	row "" "ratio agent / nft -f" "$FR" "≤ 1.2" "$(verdict le "$FR" 1.2)"
	row "" "full sync under 1 s" "$FULL_MS ms" "< 1000 ms" "$(verdict le "$FULL_MS" 999.999)"
	local files=$((G_pods + G_policies + G_namespaces + G_nodes))
	row "" "agent start to table in the kernel, median (reading the $files files included)" \
		"$WALL_MS ms" "" ""
	row "" "ruleset: groups, dispatch entries, group elements (status.json); chains, sets +\
 maps, all elements (nft list)" \
		"$NGROUPS, $ISOLATED, $ELEMENTS; $L_chains, $((L_sets + L_maps)), $L_elements" "" ""
	row "" "ruleset text (nft list)" "$((L_bytes / 1024)) KiB" "" ""
	row "" "nft -f's table lists the same; every start programs the same" "$SAMEV" "" ""
	chg_rows "$CH"
	row "" "after the changes, a fresh agent's table equals the running one's" \
		"${SCRATCH%% *}" "" ""
	local a b c
	read -r a b c <<<"$BULK_OFF"
	row "" "all $c policies deleted at once: pass; file moves to kernel" \
		"$(ms "$a") ms; $(ms "$b") ms" "" ""
	read -r a b c <<<"$BULK_ON"
	row "" "all of them back at once ($c elements): pass; file moves to kernel" \
		"$(ms "$a") ms; $(ms "$b") ms" "" ""
	row "" "VmRSS / VmHWM after the full sync" "$RSS1 / $HWM1 MiB" "" ""
	row "" "VmRSS / VmHWM at the end" "$RSS2 / $HWM2 MiB" "" ""
	row "" "connections/s with $G_policies policies, median (rounds: ${on[*]})" "$RON" "" ""
	row "" "connections/s with none, table present, median (rounds: ${off[*]})" "$ROFF" "" ""
	row "" "connections/s with no table at all, median (rounds: ${notab[*]})" "$RNO" "" ""
	row "" "ratio with / without policies" "$CR" "≥ 0.9" \
		"$(verdict le 0.9 "$CR")"
	local P99
	P99=$(jq_ "$CH" '"n/a" if d["all"]["p99"] is None else d["all"]["p99"] / 1000')
	target "$(verdict le "$FR" 1.2)" "$S" \
		"full sync $FULL_MS ms = ${FR}x nft -f ($NFT_MS ms); target ≤ 1.2x"
	target "$(verdict le "$FULL_MS" 999.999)" "$S" "full sync $FULL_MS ms; target < 1 s"
	target "$(verdict le "$P99" 10)" "$S" "single change p99 $P99 ms; target ≤ 10 ms"
	target "$(verdict le 0.9 "$CR")" "$S" \
		"connections/s $RON with policies vs $ROFF without: ${CR}x; target ≥ 0.9x"
}

jq_() { "$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); v = eval(sys.argv[2]);
print("%.2f" % v if isinstance(v, float) else v)' "$1" "$2"; }

chg_rows() {
	local k n
	n=$(jq_ "$1" 'd["all"]["n"]')
	row "" "single changes with a kernel effect (drawn again when none: $(jq_ "$1" \
		'd["all"]["noop"]') had none)" "$n" "" ""
	for k in pod-label pod-add pod-delete policy-edit ns-label all; do
		local q="d['kinds']['$k']"
		[ "$k" != all ] || q="d['all']"
		row "" "  $k: event to kernel p50 / p99 / max (n=$(jq_ "$1" "${q}['n']"))" \
			"$(jq_ "$1" "'%.2f / %.2f / %.2f ms' % (${q}['p50'] / 1e3, \
${q}['p99'] / 1e3, ${q}['max'] / 1e3) if ${q}['n'] else '-'")" \
			"$([ "$k" = all ] && echo '≤ 10 ms (p99)')" \
			"$([ "$k" = all ] && verdict le "$(jq_ "$1" "${q}['p99'] / 1000")" 10)"
	done
	row "" "  the agent's pass alone (compile + batch) p50 / p99" \
		"$(jq_ "$1" "'%.2f / %.2f ms' % (d['pass_p50'] / 1e3, d['pass_p99'] / 1e3)")" "" ""
}

# ---------------------------------------------------------------------------------------
# Connection rate: two pods of n1 attached by hand (the Pod objects bench-client and
# bench-server carry these addresses), a Python accept loop and a Python connect loop

conn_setup() {
	local base=${G_n1cidr%/*} pfx ns n v a i
	pfx=${base%.*}
	GW=$pfx.1 CLI=$pfx.2 SRV=$pfx.3
	PA=${PFX}pa PB=${PFX}pb
	for ns in "$PA:vbpa:$CLI" "$PB:vbpb:$SRV"; do
		IFS=: read -r n v a <<<"$ns"
		ip netns add "$n"
		ip -n "$n" link set lo up
		ip link add eth0 netns "$n" type veth peer name "$v" netns "$NODE"
		ip -n "$n" addr add "$a/32" dev eth0
		ip -n "$n" link set eth0 up
		ip -n "$n" route add "$GW" dev eth0 scope link
		ip -n "$n" route add default via "$GW"
		ip -n "$NODE" addr add "$GW/32" dev "$v"
		ip -n "$NODE" link set "$v" up
		ip -n "$NODE" route add "$a/32" dev "$v"
	done
	ip netns exec "$PB" "$PY" "$HP" serve "$SRV" 8080 8081 >"$SD/server.log" 2>&1 &
	SERVER=$!
	PIDS+=("$SERVER")
	for ((i = 0; i < 250; i++)); do
		grep -qs ready "$SD/server.log" && break
		alive "$SERVER" || break
		sleep 0.02
	done
	grep -qs ready "$SD/server.log" || { malf "the pod server did not start"; exit 1; }
}

conn_teardown() {
	stop "$SERVER"
	ip netns del "$PA"
	ip netns del "$PB"
}

probe() { ip netns exec "$PA" "$PY" "$HP" probe "$SRV" "$1" 2; }

# policies on|off: every NetworkPolicy file into the source folder or out of it; checks
# that the connection is allowed either way and that 8081 is refused only with policies
policies() {
	local line want
	line=$(h policies "$SD/api" "$SD/stash" "$1" "$ADATA/status.json" "$AGENT") ||
		dead "(policies $1)"
	kv P "$line"
	say "$S: policies $1: $line"
	[ "$1" = on ] && want=refused || want=ok
	[ "$(probe 8080)" = ok ] ||
		malf "$S: policies $1: bench-client cannot reach bench-server:8080"
	[ "$(probe 8081)" = "$want" ] ||
		malf "$S: policies $1: bench-server:8081 is $(probe 8081), want $want"
	if [ "$1" = on ]; then
		if ! ip netns exec "$NODE" "$NFT" get element inet virgil ing4 "{ $SRV }" \
			>/dev/null || ! ip netns exec "$NODE" "$NFT" get element inet virgil egr4 \
			"{ $CLI }" >/dev/null; then
			malf "$S: the bench pods are not in the dispatch maps"
		fi
	fi
	sleep 1		# the sync's aftermath (status write, the switch's conntrack entries)
}

# conn_round WHAT: one client run of CONN_S seconds; prints the rate
conn_round() {
	local line
	quiet
	line=$(ip netns exec "$PA" "$PY" "$HP" client "$SRV" 8080 "$CONN_S")
	kv C "$line"
	say "$S: connections, $1: $line"
	[ "$C_errors" = 0 ] || malf "$S: $C_errors connections failed ($1)"
	printf '%.0f' "$C_rate"
}

# ---------------------------------------------------------------------------------------

for S in $SCENARIOS; do
	case $S in spread | all) ;; *) say "bench-policy: unknown scenario $S"; exit 2 ;; esac
	scenario "$S"
done

# leftovers: every namespace and process of ours must be gone
left=$(ip netns list | awk '{ print $1 }' | grep -c "^$PFX" || true)
[ "$left" = 0 ] || malf "$left namespace(s) left behind"
for p in "${PIDS[@]}"; do alive "$p" && malf "process $p still running"; done

echo
echo "NetworkPolicy benchmark: virgild --source against a synthetic cluster (seed $SEED," \
	"$([ "$DUAL" = 1 ] && echo dual-stack || echo IPv4) pods)"
echo "$(nproc) CPUs, load $LOAD0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end," \
	"$("$NFT" --version)," \
	"Linux $(uname -r); $(wc -l <"$TMP/busy") measurement(s) started on a" \
	"busy machine"
echo
echo "| scenario | figure | value | target | result |"
echo "|---|---|---:|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
printf '%s\n' "${TARGETS[@]}"
echo
if [ ! -s "$MALF" ]; then
	echo "bench-policy: no malfunction"
else
	echo "bench-policy: $(wc -l <"$MALF") malfunction(s):"
	sed 's/^/  /' "$MALF"
	exit 1
fi
