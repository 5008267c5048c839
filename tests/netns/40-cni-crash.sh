#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 40-cni-crash.sh: SIGKILL the plugin in the middle of its work. An ADD killed at any point
# (before it started, half way, after it finished) must leave a state from which the
# runtime's next steps recover: ADD again succeeds or says 102, DEL cleans up whatever is
# there, and GC reclaims what a killed ADD left behind without any DEL.
#
#      vg$$-node                                     vg$$-p1 (the crash loop)
#    ┌──────────────────────────────────┐          ┌────────────────────────────┐
#    │ vg<ck> ══════════════════════════╪═══veth═══╪═eth0 (or half of it, or    │
#    │ routes, lease files: any subset  │          │  nothing) after each kill  │
#    │ of what ADD builds               │          └────────────────────────────┘
#    │ vg<kd2> … vg<kd9> (some, maybe)  ╪═══ … ════ vg$$-p2 … vg$$-p9: killed ADDs that
#    └──────────────────────────────────┘          nobody DELs, for GC to reclaim

. "$(dirname "$0")/lib.sh"

LOOPS=${LOOPS:-40}
C=$(netconf 1.1.0 "$DUAL")
P1=$(netns_path 1)

node_setup
for i in 1 2 3 4 5 6 7 8 9; do
	pod_add $i
done

# busy-wait until $1 µs after $2 (a sleep would be far too coarse for sub-millisecond points)
spin() {
	while ((${EPOCHREALTIME/./} - $2 < $1)); do
		:
	done
}

# kill_at DELAY_US TAG CMD ID NETNS: start the plugin, SIGKILL it DELAY_US later; KRC is its
# exit status (137 when the kill landed, 0 or 1 when it had already finished).
kill_at() {
	local d=$1 t
	shift
	t=${EPOCHREALTIME/./}
	cni_bg "$1" "$2" "$3" "$4" eth0 "$C"
	spin "$d" "$t"
	kill -9 "$BGPID" 2>/dev/null || true
	KRC=0
	wait "$BGPID" 2>/dev/null || KRC=$?
}

# clean_after ID POD: nothing of ID is left anywhere (empty output) or what is left
leftovers() {
	echo "$(node_links | words)$(leases_of "$1" | words)$(pod_links "$2" | words)"
}

# torn ID_RE: lease files whose content is not exactly "<id>\neth0\n" with an id matching
# ID_RE (the store promises a lease file is whole or absent, even after SIGKILL)
torn() {
	local f c re="^($1)"$'\n'"eth0"$'\n''$'
	for f in $(lease_files); do
		c=
		IFS= read -r -d '' c <"$STORE/$f" || true
		[[ $c =~ $re ]] || echo -n "torn lease $f; "
	done
}

# How long an undisturbed ADD takes, wrappers (ip netns exec, env) included.
T=0
for i in 1 2 3; do
	t=$(now_us)
	cni_bg m$i ADD cm "$P1" eth0 "$C"
	bg_wait
	d=$(($(now_us) - t))
	((d > T)) && T=$d
	is "reference ADD $i" "$KRC $(json_one "$(<"$TMP/bg.m$i.out")")" "0 ok"
	cni DEL cm "$P1" eth0 "$C"
	expect_ok "reference DEL $i" empty
done
echo "# an undisturbed ADD takes up to $T µs; kill points spread over 0-$((T * 12 / 10)) µs"

# --- ADD killed at LOOPS points, then ADD again (and DEL + ADD on 102), then DEL ---------
killed=0 finished=0 redo=0
for ((i = 0; i < LOOPS; i++)); do
	d=$((T * 12 * i / (10 * LOOPS)))
	kill_at $d k$i ADD ck "$P1"
	case $KRC in
	137) killed=$((killed + 1)) ;;
	0) finished=$((finished + 1)) ;;
	esac
	why=$(torn ck)
	[ "$KRC" = 137 ] || [ "$KRC" = 0 ] ||
		why+="the ADD itself failed with exit $KRC ($(<"$TMP/bg.k$i.out")); "
	cni ADD ck "$P1" eth0 "$C"
	if [ "$RC" != 0 ]; then
		if [ "$(err_code "$OUT")" = 102 ]; then
			redo=$((redo + 1))
			cni DEL ck "$P1" eth0 "$C"
			[ "$RC" = 0 ] || why+="DEL after 102: exit $RC $OUT; "
			cni ADD ck "$P1" eth0 "$C"
			[ "$RC" = 0 ] || why+="ADD after DEL: exit $RC $OUT; "
		else
			why+="ADD again: exit $RC $OUT; "
		fi
	fi
	[ "$RC" = 0 ] && [ "$(j "$OUT" 'len(d["ips"])')" != 2 ] && why+="ADD result: $OUT; "
	cni DEL ck "$P1" eth0 "$C"
	[ "$RC" = 0 ] || why+="final DEL: exit $RC $OUT; "
	left=$(leftovers ck 1)
	[ -z "$left" ] || why+="left after DEL: $left"
	is "ADD killed after $d µs (exit $KRC): recovered and clean" "$why" ""
done
echo "# $LOOPS kills: $killed landed before the ADD finished, $finished after;" \
	"$redo needed DEL before ADD"
is "crash loop: no link but lo in the node" "$(node_links | words)" ""
is "crash loop: no lease" "$(lease_files | words)" ""
is "crash loop: no temporary file in the store" "$(tmp_files | words)" ""

# --- DEL killed part way, then DEL again ------------------------------------------------
for ((i = 0; i < 10; i++)); do
	why=
	cni ADD cd "$P1" eth0 "$C"
	[ "$RC" = 0 ] || why="ADD: exit $RC $OUT; "
	kill_at $((T * i / 10)) d$i DEL cd "$P1"
	cni DEL cd "$P1" eth0 "$C"
	[ "$RC" = 0 ] || why+="DEL again: exit $RC $OUT; "
	left=$(leftovers cd 1)
	[ -z "$left" ] || why+="left: $left"
	is "DEL killed after $((T * i / 10)) µs (exit $KRC), DEL again: clean" "$why" ""
done

# --- ADDs killed part way and never DELed: GC with an empty list reclaims them ----------
for i in 2 3 4 5 6 7 8 9; do
	kill_at $((T * (i + 1) / 10)) g$i ADD kd$i "$(netns_path $i)"
done
is "killed ADDs left no torn lease" "$(torn 'kd[2-9]')" ""
echo "# before GC: $(lease_count) lease files, $(host_veths | wc -l) host veths," \
	"$(for i in 2 3 4 5 6 7 8 9; do pod_links $i; done | wc -l) pod interfaces"
cni GC "" "" "" "$(netconf 1.1.0 "$DUAL" ',"cni.dev/valid-attachments":[]')"
expect_ok "GC with an empty valid-attachments list" empty
is "GC: no link but lo in the node" "$(node_links | words)" ""
is "GC: no lease" "$(lease_files | words)" ""
is "GC: no temporary file in the store" "$(tmp_files | words)" ""
is "GC: no interface left in the pods" \
	"$(for i in 2 3 4 5 6 7 8 9; do pod_links $i; done | words)" ""

account
