#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench-cni.sh BINARY: ADD and DEL latency of the Virgil CNI plugin against Debian's reference
# plugins (ptp with host-local IPAM, /usr/lib/cni), in the same run on the same machine. A
# benchmark, not a test: it prints figures and ratios; it fails only when a plugin call fails.
#
#   node netns vg$$-node (both plugins run here, as a runtime would run them)
#   ┌──────────────────────────────────────┐
#   │ vg<hex> / veth<hex>  (host ends)     │══ one pod netns per call, vg$$-v<i> / vg$$-r<i>,
#   └──────────────────────────────────────┘   created and deleted outside the timed region
#
# Sequential: ITER (default 200) rounds; each round ADDs then DELs one pod with Virgil, then
# one with the reference (interleaved, so both see the same machine noise). Each call is one
# process: the time runs from just before the spawn to its exit (perf_counter_ns), so process
# start is counted for both. Both plugins get the same dual-stack ranges (a /24 and a /64),
# default routes for both families, CNI 1.0.0, CNI_ARGS as podman sends it, their lease
# directories side by side in one temporary directory, and DEL gets the ADD's prevResult.
#
# Parallel: PAR (default 100) ADDs started at once, distinct container IDs and namespaces,
# one thread per call; p99 of their latencies and the number of distinct IPv4 addresses handed
# out. Spawning is serialised by the harness, so the latencies include queueing in it; the
# same for both plugins.
#
# Environment: ITER, PAR, REF_DIR (default /usr/lib/cni).
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BINARY" >&2; exit 2; }
BIN=$(realpath "$1")
[ -x "$BIN" ] || { echo "bench-cni: $BIN is not executable" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "bench-cni: needs root (network namespaces)" >&2; exit 2; }
REF_DIR=${REF_DIR:-/usr/lib/cni}
for p in ptp host-local; do
	if [ ! -x "$REF_DIR/$p" ]; then
		echo "bench-cni: $REF_DIR/$p missing (Debian: containernetworking-plugins)" >&2
		exit 2
	fi
done
PY=/usr/bin/python3	# Debian's, stdlib only

PFX=vg$$-
NODE=${PFX}node
TMP=$(mktemp -d "${TMPDIR:-/tmp}/virgil-bench.XXXXXX")
PYPID=

cleanup() {
	local ns
	set +e
	[ -n "$PYPID" ] && kill "$PYPID" 2>/dev/null && wait "$PYPID" 2>/dev/null
	# deleting the node takes the host veths with it; pod namespaces take the pod ends
	for ns in $(ip netns list | awk '{ print $1 }' | grep "^$PFX"); do
		ip netns del "$ns"
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NODE"
ip -n "$NODE" link set lo up

cat >"$TMP/bench.py" <<'PY'
import json, os, statistics, subprocess, sys, threading, time

BIN, REF_DIR, TMP, PFX = sys.argv[1:5]
ITER, DUAL_ITER, PAR = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])

def plugins(fam):
	"""The two plugins with equivalent configs: fam "4" (one /24) or "46" (a /24 and a /64)."""
	v4, v6, ref6 = ["10.201.0.0/24"], ["fd00:201::/64"], ["fd00:202::/64"]
	routes = [{"dst": "0.0.0.0/0"}] + ([{"dst": "::/0"}] if fam == "46" else [])
	ranges = [[{"subnet": "10.202.0.0/24"}]] + ([[{"subnet": ref6[0]}]] if fam == "46" else [])
	return {
		"virgil": (BIN, {
			"cniVersion": "1.0.0", "name": "bench-virgil-" + fam, "type": "virgil",
			"podCIDRs": v4 + (v6 if fam == "46" else []), "dataDir": TMP + "/virgil"}),
		"ptp+host-local": (REF_DIR + "/ptp", {
			"cniVersion": "1.0.0", "name": "bench-ref-" + fam, "type": "ptp",
			"ipam": {"type": "host-local", "dataDir": TMP + "/host-local",
				 "routes": routes, "ranges": ranges}}),
	}

NAMES = ("virgil", "ptp+host-local")
TAG = {"virgil": "v", "ptp+host-local": "r"}
PLUGINS = plugins("4")

def die(msg):
	print("bench-cni: " + msg, file=sys.stderr)
	sys.exit(1)

def ip_batch(lines):
	r = subprocess.run(["ip", "-batch", "-"], input="\n".join(lines) + "\n", text=True,
			   capture_output=True)
	if r.returncode:
		die("ip -batch: " + r.stderr.strip())

def netns_add(names):
	"""Pod namespaces with lo up, as a runtime leaves them before ADD."""
	ip_batch(["netns add " + n for n in names])
	for n in names:
		if subprocess.run(["ip", "-n", n, "link", "set", "lo", "up"]).returncode:
			die("ip -n %s link set lo up failed" % n)

def call(plugin, cmd, cid, ns, conf):
	"""Run one plugin call; return (ns elapsed, exit status, stdout, stderr)."""
	path = PLUGINS[plugin][0]
	env = {"CNI_COMMAND": cmd, "CNI_CONTAINERID": cid, "CNI_NETNS": "/run/netns/" + ns,
	       "CNI_IFNAME": "eth0", "CNI_PATH": REF_DIR,
	       "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAME=" + cid,
	       "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
	data = json.dumps(conf).encode()
	t0 = time.perf_counter_ns()
	r = subprocess.run([path], input=data, env=env, capture_output=True)
	t1 = time.perf_counter_ns()
	return (t1 - t0, r.returncode, r.stdout.decode(errors="replace"),
		r.stderr.decode(errors="replace"))

def check(plugin, cmd, cid, rc, out, err):
	if rc:
		die("%s %s %s failed (exit %d): %s %s" % (
			plugin, cmd, cid, rc, out.strip(), err.strip()[-400:]))

def add(plugin, cid, ns):
	conf = PLUGINS[plugin][1]
	dt, rc, out, err = call(plugin, "ADD", cid, ns, conf)
	check(plugin, "ADD", cid, rc, out, err)
	return dt, json.loads(out)

def delete(plugin, cid, ns, prev):
	conf = dict(PLUGINS[plugin][1], prevResult=prev)
	dt, rc, out, err = call(plugin, "DEL", cid, ns, conf)
	check(plugin, "DEL", cid, rc, out, err)
	return dt

def pct(xs, p):
	"""Nearest-rank percentile of a list of nanoseconds, in milliseconds."""
	s = sorted(xs)
	k = max(0, min(len(s) - 1, -(-len(s) * p // 100) - 1))
	return s[k] / 1e6

def stats(xs):
	return {"median": statistics.median(xs) / 1e6, "p90": pct(xs, 90), "p99": pct(xs, 99),
		"min": min(xs) / 1e6, "max": max(xs) / 1e6}

def sequential(fam, iters):
	global PLUGINS
	PLUGINS = plugins(fam)
	res = {p: {"ADD": [], "DEL": []} for p in NAMES}
	for i in range(iters):
		for p in NAMES:
			ns = "%s%s%s%d" % (PFX, TAG[p], fam, i)
			cid = "bench-%s%s-%d" % (TAG[p], fam, i)
			netns_add([ns])
			dt, result = add(p, cid, ns)
			res[p]["ADD"].append(dt)
			res[p]["DEL"].append(delete(p, cid, ns, result))
			ip_batch(["netns del " + ns])
	return res

def parallel(p):
	global PLUGINS
	PLUGINS = plugins("4")
	names = ["%s%sp%d" % (PFX, TAG[p], i) for i in range(PAR)]
	netns_add(names)
	out = [None] * PAR
	gate = threading.Barrier(PAR)

	def one(i, cmd, prev=None):
		gate.wait()
		conf = PLUGINS[p][1] if prev is None else dict(PLUGINS[p][1], prevResult=prev)
		out[i] = call(p, cmd, "bench-%sp-%d" % (TAG[p], i), names[i], conf)

	def burst(cmd, prevs=None):
		ts = [threading.Thread(target=one, args=(i, cmd, prevs and prevs[i]))
		      for i in range(PAR)]
		t0 = time.perf_counter_ns()
		for t in ts:
			t.start()
		for t in ts:
			t.join()
		return time.perf_counter_ns() - t0

	wall = burst("ADD")
	adds = list(out)
	fails = [o for o in adds if o[1] != 0]
	prevs, v4 = [], set()
	for dt, rc, so, se in adds:
		r = json.loads(so) if rc == 0 else None
		prevs.append(r)
		for a in (r or {}).get("ips", []):
			if ":" not in a["address"]:
				v4.add(a["address"].split("/")[0])
	burst("DEL", prevs)
	dels = list(out)
	ip_batch(["netns del " + n for n in names])
	if fails:
		print("  %s: %d of %d parallel ADDs failed, first: %s %s" % (
			p, len(fails), PAR, fails[0][2].strip(), fails[0][3].strip()[-300:]))
	return {"add": [o[0] for o in adds], "del": [o[0] for o in dels], "wall": wall,
		"ok": PAR - len(fails), "distinct": len(v4),
		"del_fail": sum(1 for o in dels if o[1] != 0)}

def leftovers():
	left = {}
	for p, sub in (("virgil", "virgil/networks"), ("ptp+host-local", "host-local")):
		left[p] = []
		for root, _, files in os.walk(os.path.join(TMP, sub)):
			left[p] += [f for f in files if f[0].isdigit() or ":" in f]
	links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
	left["links"] = [l.split(": ")[1].split("@")[0] for l in links.splitlines()
			 if ": lo:" not in l]
	return left

def table(title, seq):
	print(title)
	hdr = "%-24s %9s %9s %9s %9s %9s" % ("latency (ms)", "median", "p90", "p99", "min", "max")
	print(hdr)
	print("-" * len(hdr))
	for cmd in ("ADD", "DEL"):
		for p in NAMES:
			s = stats(seq[p][cmd])
			print("%-24s %9.2f %9.2f %9.2f %9.2f %9.2f" % ("%s %s" % (p, cmd),
				s["median"], s["p90"], s["p99"], s["min"], s["max"]))
	for cmd in ("ADD", "DEL"):
		med = {p: statistics.median(seq[p][cmd]) for p in NAMES}
		r = med["virgil"] / med["ptp+host-local"]
		how = "%.1fx faster" % (1 / r) if r <= 1 else "%.1fx slower" % r
		print("%s median virgil/ref: %.3f  (virgil %s)" % (cmd, r, how))
	print()

def main():
	ver = subprocess.run([BIN], input=b'{"cniVersion":"1.0.0"}', capture_output=True,
			     env={"CNI_COMMAND": "VERSION"}).stdout.decode().strip()
	print("Virgil CNI benchmark: %s vs %s/ptp + host-local" % (BIN, REF_DIR))
	print("  virgil VERSION: %s" % (ver or "(no answer)"))
	print("  each call is one process, timed from spawn to exit; CNI 1.0.0; "
	      "DEL with prevResult")
	print("  machine: %d CPUs, load average %.2f %.2f %.2f at start (a busy machine inflates "
	      "both columns)" % ((os.cpu_count(),) + os.getloadavg()))
	print()
	t0 = time.time()
	table("IPv4 (/24), %d sequential ADD+DEL rounds per plugin, interleaved:" % ITER,
	      sequential("4", ITER))
	table("Dual-stack (/24 + /64), %d rounds (ptp waits for IPv6 DAD, about 1.3 s per ADD):"
	      % DUAL_ITER, sequential("46", DUAL_ITER))
	ok = True
	print("%d ADDs at once (IPv4, one thread and one pod netns each), then %d DELs at once:"
	      % (PAR, PAR))
	for p in NAMES:
		r = parallel(p)
		print("  %-16s %d parallel ADD p99 (ms): %8.2f   median %7.2f   burst %7.1f ms   "
		      "DEL p99 %7.2f" % (p, PAR, pct(r["add"], 99),
					  statistics.median(r["add"]) / 1e6, r["wall"] / 1e6,
					  pct(r["del"], 99)))
		print("  %-16s distinct addresses: %d/%d   (ADD failures %d, DEL failures %d)" % (
			"", r["distinct"], PAR, PAR - r["ok"], r["del_fail"]))
		if p == "virgil" and (r["distinct"] != PAR or r["ok"] != PAR or r["del_fail"]):
			ok = False
	left = leftovers()
	for k, v in left.items():
		if v:
			ok = False
			print("  left behind (%s): %s" % (k, " ".join(v[:10])))
	print()
	print("total %.1f s; load average %.2f %.2f %.2f at the end"
	      % ((time.time() - t0,) + os.getloadavg()))
	sys.exit(0 if ok else 1)

main()
PY

# The harness runs inside the node namespace (nsenter changes only the network namespace:
# the plugins see the machine's /sys and /run/netns).
nsenter --net="/run/netns/$NODE" "$PY" -u "$TMP/bench.py" "$BIN" "$REF_DIR" "$TMP" "$PFX" \
	"${ITER:-200}" "${DUAL_ITER:-20}" "${PAR:-100}" &
PYPID=$!
rc=0
wait "$PYPID" || rc=$?
PYPID=
exit "$rc"
