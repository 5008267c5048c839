#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 20-cni-concurrent.sh: N (50) ADDs started at once for N containers, then N DELs at once.
# The lease store's lock must serialise them: N distinct addresses per family, one lease
# file per address and nothing else, one host veth and two host routes per pod; afterwards
# nothing at all.
#
#      vg$$-node (virgil runs here, N copies at once)
#    ┌──────────────────────────────────────────┐     ┌────────────────────────────────┐
#    │ lo 10.99.0.1/32 fd99::1/128              │     │ vg$$-p1  eth0 10.244.1.x/32    │
#    │ vg<c1>  ═════════════════════════════════╪═════╪═          fd00:…::x/128       │
#    │ vg<c2>  ═════════════════════════════════╪══╗  └────────────────────────────────┘
#    │  …                                       │  ║  ┌────────────────────────────────┐
#    │ vg<cN>  ══════════════════════════════╗  │  ╚══╪═vg$$-p2  eth0 …               │
#    │ 2N host routes, proto 86              │  │     └────────────────────────────────┘
#    └───────────────────────────────────────╫──┘      …
#                                            ╚═════════ vg$$-pN  eth0 …

. "$(dirname "$0")/lib.sh"

N=${N:-50}
C=$(netconf 1.0.0 "$DUAL")

node_setup
for ((i = 1; i <= N; i++)); do
	pod_add $i
done

# --- N ADDs at once -----------------------------------------------------------------------
t=$(now_us)
for ((i = 1; i <= N; i++)); do
	cni_save add$i ADD c$i "$(netns_path $i)" eth0 "$C" &
done
wait
echo "# $N concurrent ADDs: $((($(now_us) - t) / 1000)) ms"

bad= v4=() v6=() owners=()
for ((i = 1; i <= N; i++)); do
	cni_load add$i
	if [ "$RC" != 0 ] || [ "$(json_one "$OUT")" != ok ]; then
		bad+=" c$i: exit $RC $OUT;"
		continue
	fi
	mapfile -t a < <(j "$OUT" '[i["address"] for i in d["ips"]]' \
		'd["ips"][0]["address"].split("/")[0]' 'd["ips"][1]["address"].split("/")[0]')
	v4+=("${a[1]}")
	v6+=("${a[2]}")
	owners+=("${a[1]} c$i" "${a[2]} c$i")
done
is "$N concurrent ADDs all succeed" "$bad" ""
is "$N distinct IPv4 addresses" \
	"$(printf '%s\n' "${v4[@]}" | grep '^10\.244\.1\.' | sort -u | wc -l)" "$N"
is "$N distinct IPv6 addresses" \
	"$(printf '%s\n' "${v6[@]}" | grep '^fd00:10:244:1::' | sort -u | wc -l)" "$N"
is "$N IPv4 lease files" "$(lease_count '\.')" "$N"
is "$N IPv6 lease files" "$(lease_count :)" "$N"
is "the lease files are exactly the result addresses" "$(lease_files | words)" \
	"$(printf '%s\n' "${v4[@]}" "${v6[@]}" | sort | words)"
got=$(for f in $(lease_files); do echo "$f $(head -n 1 "$STORE/$f")"; done | sort | words)
is "each lease names the container that got the address" "$got" \
	"$(printf '%s\n' "${owners[@]}" | sort | words)"
is "no temporary file in the store" "$(tmp_files | words)" ""
is "$N host veths in the node" "$(host_veths | wc -l)" "$N"
is "$((2 * N)) host routes with proto 86" "$({ routes86 4; routes86 6; } | wc -l)" $((2 * N))
n=0
for ((i = 1; i <= N; i++)); do
	[ -n "${v4[i - 1]}" ] && pod $i ip -o addr show dev eth0 | grep -q " ${v4[i - 1]}/32 " &&
		n=$((n + 1))
done
is "every pod holds its address on eth0" "$n" "$N"
check "p1 → p$N IPv4" pod 1 ping -c 1 -w 3 -i 0.2 "${v4[N - 1]}"

# --- N DELs at once -----------------------------------------------------------------------
t=$(now_us)
for ((i = 1; i <= N; i++)); do
	cni_save del$i DEL c$i "$(netns_path $i)" eth0 "$C" &
done
wait
echo "# $N concurrent DELs: $((($(now_us) - t) / 1000)) ms"
bad=
for ((i = 1; i <= N; i++)); do
	cni_load del$i
	[ "$RC" = 0 ] && [ -z "$OUT" ] || bad+=" c$i: exit $RC $OUT;"
done
is "$N concurrent DELs all succeed" "$bad" ""
is "no host veth left" "$(host_veths | wc -l)" 0
is "no host route left" "$({ routes86 4; routes86 6; } | wc -l)" 0
is "no lease left" "$(lease_files | wc -l)" 0
n=0
for ((i = 1; i <= N; i++)); do
	[ -z "$(pod_links $i)" ] || n=$((n + 1))
done
is "no pod has an interface left" "$n" 0

account
