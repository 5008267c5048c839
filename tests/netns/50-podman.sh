#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# 50-podman.sh: Virgil under a real runtime. Debian's podman 4.3 (CNI backend, runc,
# cgroupfs, vfs storage, all of its state in $TMP/pm) starts busybox containers on two Virgil
# networks; on the second, Debian's portmap chains after Virgil and publishes a port.
#
#      node netns vg$$-node: podman, conmon, both plugins and portmap's iptables run here
#   ┌─────────────────────────────────────────────────────────────────────────────────┐
#   │ lo 10.99.0.1/32 fd99::1/128        nat OUTPUT: 10.99.0.1:18080 → web:8080       │
#   │ vg<hex> ──┐          vg<hex> ──┐          vg<hex> ──┐          vg<hex> ──┐      │
#   └───────────┼────────────────────┼────────────────────┼────────────────────┼──────┘
#          eth0 │ c1            eth0 │ c2            eth0 │ c3 (--ip)     eth0 │ web (httpd)
#     10.250.N.x/32        10.250.N.y/32        10.250.N.77/32       10.251.N.z/32
#     fd00:250:N::x/128    fd00:250:N::y/128    fd00:250:N::77/128   fd00:251:N::z/128
#     └─────────── network vg$$-net: [virgil] ──────────────┘       vg$$-pm: [virgil, portmap]
#
# c1 and c2 run `sleep 300`; c3 stands for the short `run --rm --ip` and `--ip6` containers;
# web serves a file with busybox httpd and is published with -p 18080:8080.
#
# podman runs under `nsenter --net` rather than `ip netns exec`, which mounts a fresh /sys
# and so hides the cgroup mounts runc looks for (TESTING-NOTES). Each container's own
# namespace is podman's (/run/netns/netns-<uuid>); podman removes it at DEL.

. "$(dirname "$0")/lib.sh"

NET=${PFX}net
NETPM=${PFX}pm
STORE=$DATA/networks/$NET
STORE_PM=$DATA/networks/$NETPM
N=$(($$ % 200 + 20))		# subnets differ between runs: 10.250.N.0/24, fd00:250:N::/64
V4=10.250.$N
V6=fd00:250:$N
PM=$TMP/pm			# podman's root, runroot, tmp dir, config, plugin dir
IMG=localhost/vg$$-bb:test
PODMAN=(podman --root "$PM/root" --runroot "$PM/runroot" --storage-driver vfs
	--runtime /usr/sbin/runc)
PM_TMO=60			# seconds any one podman command may take
export CONTAINERS_CONF=$PM/containers.conf	# when set, podman reads only this file

# pm ARGS...: podman in the node namespace, printed first, bounded in time.
pm() {
	pretty node "podman $*"
	timeout -k 5 "$PM_TMO" nsenter --net="/run/netns/$NODE" "${PODMAN[@]}" "$@"
}

pm_quiet() {
	timeout -k 5 "$PM_TMO" nsenter --net="/run/netns/$NODE" "${PODMAN[@]}" "$@" 2>/dev/null
}

# Processes of this run's podman (conmon, podman cleanup, runc): their command line names $PM.
pm_pids() { pgrep -f -- "$PM/" | words || true; }

# The lib's cleanup deletes namespaces; before that, stop what podman started, which lives
# partly outside them (containers sit in podman's own namespaces), and release podman's mounts.
eval "lib_$(declare -f cleanup)"
cleanup() {
	local p m ids keys
	if [ -d "$PM/root" ]; then
		ids=$(pm_quiet ps -aq) || true
		# shellcheck disable=SC2086 # one argument per container ID
		[ -n "$ids" ] && keys=$(pm_quiet inspect -f '{{.NetworkSettings.SandboxKey}}' $ids)
		pm_quiet rm -af -t 0 || true
		for p in $(pm_pids); do
			kill -9 "$p" 2>/dev/null || true
		done
		# what podman could not remove: the containers' namespaces and what runs in them
		for m in ${keys:-}; do
			[ -e "$m" ] && [[ $m == /run/netns/netns-* ]] || continue
			for p in $(ip netns pids "${m##*/}"); do
				kill -9 "$p" 2>/dev/null || true
			done
			ip netns del "${m##*/}" 2>/dev/null || true
		done
		for m in $(findmnt -rn -o TARGET | grep "^$PM/" | sort -r); do
			umount -l "$m" 2>/dev/null || true
		done
	fi
	lib_cleanup
}

# in_range ADDR PREFIX: ADDR is a pod address of that /24 or /64, not network, gateway or
# broadcast.
in_range() {
	case $1 in
	"$2".0 | "$2".1 | "$2".255 | "$2"::0 | "$2"::1 | "$2"::) return 1 ;;
	"$2".* | "$2"::*) return 0 ;;
	esac
	return 1
}

# ipof NAME 4|6: the address podman recorded from the CNI result.
ipof() {
	local f=IPAddress
	[ "$2" = 6 ] && f=GlobalIPv6Address
	pm inspect -f "{{range .NetworkSettings.Networks}}{{.$f}}{{end}}" "$1"
}

# ipin NAME 4|6: the global address on eth0 as seen inside the container.
ipin() {
	pm exec "$1" ip -o "-$2" addr show dev eth0 scope global |
		awk '{ print $4 }' | sed 's|/.*||'
}

# cping FROM ADDR: ping from a container, retried for up to 5 s (IPv6 DAD, first ARP).
cping() {
	pm exec "$1" sh -c "for i in 1 2 3 4 5 6 7 8 9 10; do
		ping -c 1 -W 1 $2 >/dev/null && exit 0; sleep 0.5; done; exit 1"
}

store_count() { STORE=$1 lease_count; }
count_is() { [ "$(store_count "$1")" = "$2" ]; }	# count_is STORE N, for wait_for

# Namespaces podman made for containers (netns-<uuid>), and cgroups named after a container.
podman_netns() {
	local f
	for f in /run/netns/netns-*; do
		[ -e "$f" ] && echo "${f##*/}"
	done | sort
}
new_podman_netns() { comm -13 <(printf '%s\n' "$NETNS0") <(podman_netns) | words; }
cgroups_of() { find /sys/fs/cgroup -maxdepth 4 -type d -name "*$1*" 2>/dev/null | words; }

fetch() { timeout 5 nsenter --net="/run/netns/$NODE" busybox wget -qO- "$1" 2>/dev/null; }
has_dnat() { node iptables-save -t nat | grep -q -- "--to-destination $1:8080"; }

# ---------------------------------------------------------------------------------------
# The node, podman's private configuration, the plugin and an image.

NETNS0=$(podman_netns)
node_setup
mkdir -p "$PM/bin" "$PM/net.d" "$PM/tmp" "$PM/rootfs/bin" "$PM/www"
cp "$VIRGIL" "$PM/bin/virgil"
cat >"$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = []
[network]
network_backend = "cni"
cni_plugin_dirs = ["$PM/bin", "/usr/lib/cni"]
network_config_dir = "$PM/net.d"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$PM/tmp"
EOF

# Debian's podman speaks CNI 1.0.0 at most: a 1.1.0 result is refused.
cat >"$PM/net.d/$NET.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "$NET", "plugins": [
  {"type": "virgil", "podCIDRs": ["$V4.0/24", "$V6::/64"], "dataDir": "$DATA",
   "capabilities": {"ips": true, "mac": true}}]}
EOF
cat >"$PM/net.d/$NETPM.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "$NETPM", "plugins": [
  {"type": "virgil", "podCIDRs": ["10.251.$N.0/24", "fd00:251:$N::/64"], "dataDir": "$DATA"},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF

cp /bin/busybox "$PM/rootfs/bin/"
for a in sh ip ping sleep httpd cat; do
	ln -s busybox "$PM/rootfs/bin/$a"
done
echo "hello from web" >"$PM/www/index.html"
tar -C "$PM/rootfs" -cf "$PM/rootfs.tar" .
check "podman import: busybox rootfs as $IMG" pm import -q "$PM/rootfs.tar" "$IMG"

nets=$(pm network ls --format '{{.Name}} {{.Driver}}' | sort | words)
like "podman network ls shows $NET with driver virgil" "$nets" "(^| )$NET virgil( |$)"
like "podman network ls shows $NETPM with driver virgil" "$nets" "(^| )$NETPM virgil( |$)"

# ---------------------------------------------------------------------------------------
# Two containers on one network: addresses from our ranges, recorded by podman, reachable.

RUN=(run -d --ulimit host --network "$NET")
id1=$(pm "${RUN[@]}" --name "${PFX}c1" "$IMG" sleep 300)
id2=$(pm "${RUN[@]}" --name "${PFX}c2" "$IMG" sleep 300)
like "c1 started" "$id1" '^[0-9a-f]{64}$'
like "c2 started" "$id2" '^[0-9a-f]{64}$'

declare -A ADDR
for c in 1 2; do
	for f in 4 6; do
		a=$(ipof "${PFX}c$c" $f)
		ADDR[c${c}v$f]=$a
		range=$V4
		[ $f = 6 ] && range=$V6
		check "c$c: IPv$f address $a is in the pod range" in_range "$a" "$range"
		is "c$c: eth0 inside carries the IPv$f address podman recorded" \
			"$(ipin "${PFX}c$c" $f)" "$a"
	done
done
mac_pm=$(pm inspect -f '{{range .NetworkSettings.Networks}}{{.MacAddress}}{{end}}' "${PFX}c1")
mac_in=$(pm exec "${PFX}c1" cat /sys/class/net/eth0/address)
is "c1: the MAC podman recorded is eth0's" "$mac_pm" "$mac_in"
is "c1: default routes via the gateways" \
	"$(pm exec "${PFX}c1" sh -c 'ip -4 route show default; ip -6 route show default' |
		awk '{ print $3 }' | words)" "169.254.1.1 fe80::1"

is "4 leases in the store (2 containers x 2 families)" "$(lease_count)" 4
is "c1's leases are its two addresses" "$(leases_of "$id1" eth0 | words)" \
	"$(printf '%s\n' "${ADDR[c1v4]}" "${ADDR[c1v6]}" | sort | words)"
is "two host veths in the node" "$(host_veths | wc -l)" 2

check "ping c1 -> c2 over IPv4 (${ADDR[c2v4]})" cping "${PFX}c1" "${ADDR[c2v4]}"
check "ping c1 -> c2 over IPv6 (${ADDR[c2v6]})" cping "${PFX}c1" "${ADDR[c2v6]}"
check "ping c2 -> c1 over IPv4 (${ADDR[c1v4]})" cping "${PFX}c2" "${ADDR[c1v4]}"
check "ping c2 -> c1 over IPv6 (${ADDR[c1v6]})" cping "${PFX}c2" "${ADDR[c1v6]}"
check "ping c1 -> the node over IPv4 (10.99.0.1)" cping "${PFX}c1" 10.99.0.1
check "ping c1 -> the node over IPv6 (fd99::1)" cping "${PFX}c1" fd99::1

# ---------------------------------------------------------------------------------------
# Chosen addresses: podman passes --ip as CNI_ARGS IP= and runtimeConfig.ips.

got=$(pm run --rm --ulimit host --network "$NET" --ip "$V4.77" "$IMG" \
	ip -o -4 addr show dev eth0 | awk '{ print $4 }')
is "run --rm --ip $V4.77: eth0 has exactly that address" "$got" "$V4.77/32"
check "the --rm container's lease on $V4.77 is released (bounded wait)" \
	wait_for test ! -e "$STORE/$V4.77"
WAIT_S=10 check "and its IPv6 lease too: back to 4 leases" wait_for count_is "$STORE" 4

got=$(pm run --rm --ulimit host --network "$NET" --ip6 "$V6::77" "$IMG" \
	ip -o -6 addr show dev eth0 scope global | awk '{ print $4 }')
is "run --rm --ip6 $V6::77: eth0 has exactly that address" "$got" "$V6::77/128"
WAIT_S=10 check "its leases are released: back to 4 leases" wait_for count_is "$STORE" 4

got=$(pm run --rm --ulimit host --network "$NET" --ip "${ADDR[c1v4]}" "$IMG" true 2>&1 ||
	echo "exit $?")
pretty "" "  -> $got"
like "run --ip with c1's address ${ADDR[c1v4]}: virgil refuses the ADD" "$got" \
	'plugin type="virgil" failed \(add\).*exit [1-9]'
is "the refused run leaked no lease" "$(lease_count)" 4

# ---------------------------------------------------------------------------------------
# Removing a container releases its leases and its host veth (DEL may run in podman's
# cleanup process: polled).

check "podman rm -f c2" pm rm -f -t 0 "${PFX}c2"
WAIT_S=10 check "c2's leases are released (4 -> 2)" wait_for count_is "$STORE" 2
is "no lease of c2 is left" "$(leases_of "$id2" | words)" ""
is "one host veth left in the node" "$(host_veths | wc -l)" 1
check "c1 still reaches the node" cping "${PFX}c1" 10.99.0.1

# ---------------------------------------------------------------------------------------
# portmap chained after virgil: -p 18080:8080 reaches httpd in the container from the node,
# through the node's own address (locally generated traffic: nat OUTPUT).

idw=$(pm run -d --ulimit host --network "$NETPM" --name "${PFX}web" -p 18080:8080 \
	-v "$PM/www:/www:ro" "$IMG" httpd -f -p 8080 -h /www)
like "web started on $NETPM with -p 18080:8080" "$idw" '^[0-9a-f]{64}$'
webv4=$(ipof "${PFX}web" 4)
check "web: IPv4 address $webv4 is in $NETPM's range" in_range "$webv4" "10.251.$N"
is "web: 2 leases in $NETPM's store" "$(store_count "$STORE_PM")" 2
check "portmap installed a DNAT to $webv4:8080 in the node" has_dnat "$webv4"
check "the pod answers on its own address ($webv4:8080)" \
	wait_for fetch "http://$webv4:8080/"
is "GET http://10.99.0.1:18080/ from the node reaches web through portmap" \
	"$(WAIT_S=10 wait_for fetch http://10.99.0.1:18080/ && fetch http://10.99.0.1:18080/)" \
	"hello from web"
check "podman rm -f web" pm rm -f -t 0 "${PFX}web"
WAIT_S=10 check "web's leases are released" wait_for count_is "$STORE_PM" 0
check_fails "portmap removed its DNAT" has_dnat "$webv4"
check_fails "port 18080 no longer answers" fetch http://10.99.0.1:18080/

# ---------------------------------------------------------------------------------------
# Teardown: containers, networks, podman's storage; then nothing may be left.

check "podman rm -af" pm rm -af -t 0
is "podman lists no container" "$(pm ps -aq | words)" ""
check "podman network rm $NET $NETPM" pm network rm -f "$NET" "$NETPM"
is "no lease in $NET's store" "$(lease_count)" 0
is "no lease in $NETPM's store" "$(store_count "$STORE_PM")" 0
is "no host veth in the node" "$(host_veths | words)" ""
check "podman rmi $IMG" pm rmi -f "$IMG"
pids_gone() { [ -z "$(pm_pids)" ]; }
WAIT_S=5 check "no conmon, runc or podman process of this run is left" wait_for pids_gone
is "no container namespace (/run/netns/netns-*) of this run is left" "$(new_podman_netns)" ""
is "no cgroup of this run's containers is left" \
	"$(cgroups_of "$id1")$(cgroups_of "$id2")$(cgroups_of "$idw")" ""
is "no mount left under podman's directories" "$(findmnt -rn -o TARGET | grep -c "^$PM/" || true)" 0
rm -rf "$PM"
check "podman's directory is gone" test ! -e "$PM"
account
