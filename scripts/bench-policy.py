#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# bench-policy.py: the helpers of scripts/bench-policy.sh, Debian's python3 stdlib only. It
# owns the synthetic cluster (a seeded generator writing the agent's local source folder, one
# object per file, and a state file the change loop edits), the waits on <dataDir>/status.json,
# the single-change loop that measures event-to-kernel latency, switching the policies off and
# on, the timing of `nft -f`, the comparison of two `nft list` outputs, the TCP server and the
# connect/close client of the connection-rate rounds, and the figures' statistics.
#
# Every subcommand prints machine-readable lines (key=value or JSON) on stdout and its
# complaints on stderr; exit 1 means a malfunction (the agent died, a wait timed out, the
# agent reported an error), never a missed target.

import json
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time

GEN = ".generation"
TEAMS = ["payments", "search", "checkout", "identity", "media", "ads", "growth", "platform",
	"data", "mobile", "billing", "support", "risk", "logistics", "catalog", "social"]
ENVS = ["prod", "staging", "dev"]
SERVICES = ["gateway", "cart", "orders", "inventory", "shipping", "users", "auth", "notify",
	"reports", "reviews", "recommend", "profile", "pricing", "ledger", "events", "assets"]
PRIVATE4 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
BENCH_NS = "checkout-prod"	# the namespace of the two connection-rate pods
BENCH = {"client": ("bench-client", 2), "server": ("bench-server", 3)}
FIRST_OFFSET = 10		# pod addresses of a node start here (2 and 3: the bench pods)


def die(msg):
	sys.stderr.write("bench-policy: %s\n" % msg)
	sys.exit(1)


def now_us():
	return time.time_ns() // 1000


# ---- addresses ------------------------------------------------------------------------------

def v4(base, off):
	a = sum(int(x) << (24 - 8 * i) for i, x in enumerate(base.split("."))) + off
	return "%d.%d.%d.%d" % (a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255)


def node_cidrs(scenario, nodes):
	"""Node k (1-based) -> (IPv4 base, prefix, IPv6 prefix). n1 gets a /18 when every pod is
	on it, a /22 like every other node otherwise; the rest follow in 10.64.0.0/14."""
	out, nxt = {}, 0
	for k in range(1, nodes + 1):
		size = 1 << 14 if scenario == "all" and k == 1 else 1 << 10
		out["n%d" % k] = (v4("10.64.0.0", nxt), 32 - size.bit_length() + 1,
			"fd00:64:%x::" % k)
		nxt += size
	return out


class Alloc:
	"""Pod addresses per node, in order, never reused (a deleted pod's address stays free:
	the benchmark does not need reuse and must not confuse itself with it)."""

	def __init__(self, cidrs, nxt=None):
		self.cidrs = cidrs
		self.nxt = nxt or {n: FIRST_OFFSET for n in cidrs}

	def take(self, node):
		base, plen, b6 = self.cidrs[node]
		off = self.nxt[node]
		if off >= (1 << (32 - plen)) - 1:
			die("node %s ran out of pod addresses" % node)
		self.nxt[node] = off + 1
		return v4(base, off), "%s%x" % (b6, off)


# ---- objects ------------------------------------------------------------------------------

def tier_ports(rng, tier):
	"""containerPorts of a component: named ports whose numbers differ between apps, so
	named-port policies resolve differently on different pods."""
	if tier == "web":
		return [("http", 8080, "TCP"), ("metrics", 9090, "TCP")]
	if tier == "api":
		return [("http", rng.choice([8000, 8080, 8081]), "TCP"), ("grpc", 9000, "TCP"),
			("metrics", rng.choice([9090, 9100]), "TCP")]
	if tier == "worker":
		return [("metrics", 9100, "TCP"), ("statsd", 8125, "UDP")]
	if tier == "db":
		return [("postgres", 5432, "TCP"), ("metrics", 9187, "TCP")]
	if tier == "cache":
		return [("redis", 6379, "TCP"), ("metrics", 9121, "TCP")]
	if tier == "dns":
		return [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")]
	return [("web", 9090, "TCP")]


def pod_obj(p):
	md = {"name": p["name"], "namespace": p["ns"], "labels": p["labels"],
		"uid": "%08x-0d1e-4f2a-9b3c-%012x" % (p["uid"], p["uid"])}
	spec = {"nodeName": p["node"], "containers": [{"name": "main",
		"image": "registry.example.com/%s:v1" % p["labels"].get("app", "x"),
		"ports": [{"name": n, "containerPort": c, "protocol": pr}
			for n, c, pr in p["ports"]]}]}
	if p.get("hostNetwork"):
		spec["hostNetwork"] = True
	st = {"phase": p.get("phase", "Running"), "hostIP": p["hostIP"]}
	ips = [x for x in (p["v4"], p.get("v6")) if x]
	if ips:
		st["podIP"] = ips[0]
		st["podIPs"] = [{"ip": x} for x in ips]
	return {"kind": "Pod", "apiVersion": "v1", "metadata": md, "spec": spec, "status": st}


def ns_obj(name, labels):
	return {"kind": "Namespace", "apiVersion": "v1",
		"metadata": {"name": name, "labels": dict(labels,
			**{"kubernetes.io/metadata.name": name})}}


def pol_obj(ns, name, spec):
	return {"kind": "NetworkPolicy", "apiVersion": "networking.k8s.io/v1",
		"metadata": {"name": name, "namespace": ns}, "spec": spec}


def node_obj(name, k, cidr, dual):
	base, plen, b6 = cidr
	cidrs = ["%s/%d" % (base, plen)] + (["%s/64" % b6] if dual else [])
	addrs = [{"type": "InternalIP", "address": "192.168.86.%d" % k}]
	if dual:
		addrs.append({"type": "InternalIP", "address": "fd86::%x" % k})
	addrs.append({"type": "Hostname", "address": name})
	return {"kind": "Node", "apiVersion": "v1", "metadata": {"name": name,
		"labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}},
		"spec": {"podCIDR": cidrs[0], "podCIDRs": cidrs},
		"status": {"addresses": addrs}}


def fname(kind, ns, name):
	return "%s%s-%s.json" % (kind.lower(), "-" + ns if ns else "", name)


def put(d, fn, obj):
	"""Write DIR/fn atomically (the dot file is ignored by the source)."""
	tmp = os.path.join(d, ".tmp-" + fn)
	with open(tmp, "w") as f:
		json.dump(obj, f, separators=(",", ":"))
	os.rename(tmp, os.path.join(d, fn))


def set_gen(d, g):
	tmp = os.path.join(d, ".tmp-gen")
	with open(tmp, "w") as f:
		f.write("%d\n" % g)
	os.rename(tmp, os.path.join(d, GEN))


def get_gen(d):
	with open(os.path.join(d, GEN)) as f:
		return int(f.read())


# ---- policies -----------------------------------------------------------------------------

def sel(**labels):
	return {"matchLabels": labels}


def expr(key, op, values=None):
	e = {"key": key, "operator": op}
	if values is not None:
		e["values"] = values
	return e


DNS_RULE = {"to": [{"namespaceSelector": sel(**{"kubernetes.io/metadata.name": "kube-system"}),
	"podSelector": sel(**{"k8s-app": "kube-dns"})}],
	"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
EXTERNAL = [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE4}},
	{"ipBlock": {"cidr": "::/0", "except": ["fc00::/7"]}}]


def team_policies(rng, ns, team, env, comps):
	"""Candidate policies of one team namespace: (the namespace-wide ones, the others), each
	a list of (name, spec)."""
	out = []
	if rng.random() < 0.75:
		out.append(("default-deny-ingress", {"podSelector": {},
			"policyTypes": ["Ingress"]}))
	if rng.random() < 0.4:
		out.append(("default-deny-egress", {"podSelector": {}, "policyTypes": ["Egress"],
			"egress": [DNS_RULE]}))
	if rng.random() < 0.6:
		out.append(("allow-monitoring", {"podSelector": {}, "ingress": [{"from": [
			{"namespaceSelector": sel(purpose="monitoring"),
			"podSelector": sel(app="prometheus")}], "ports": [{"port": "metrics"}]}]}))
	if rng.random() < 0.5:
		out.append(("allow-same-namespace", {"podSelector": {}, "ingress": [{"from": [
			{"podSelector": {}}]}]}))
	base, out = out, []
	for svc, tiers in comps:
		a = lambda t: "%s-%s" % (svc, t)
		if "web" in tiers:
			out.append(("allow-%s-web" % svc, {"podSelector": sel(app=a("web")),
				"ingress": [{"from": [{"namespaceSelector": sel(**{
				"kubernetes.io/metadata.name": "ingress-nginx"})}],
				"ports": [{"port": "http"}]}, {"from": [{"ipBlock": {
				"cidr": "192.168.0.0/16", "except": ["192.168.86.0/24"]}}],
				"ports": [{"port": 8080}, {"port": 30000, "endPort": 32767}]}]}))
		if "api" in tiers:
			peers = [{"podSelector": sel(app=a("web"))}] if "web" in tiers else []
			peers.append({"podSelector": sel(app=a("worker"))})
			out.append(("allow-%s-api" % svc, {"podSelector": sel(app=a("api")),
				"ingress": [{"from": peers, "ports": [{"port": "http"},
				{"port": "grpc"}]}]}))
			eg = [DNS_RULE, {"to": EXTERNAL, "ports": [{"port": 443}]}]
			if "db" in tiers:
				eg.append({"to": [{"podSelector": sel(app=a("db"))}],
					"ports": [{"port": 5432}]})
			if "cache" in tiers:
				eg.append({"to": [{"podSelector": sel(tier="cache", service=svc)}],
					"ports": [{"port": "redis"}]})
			out.append(("egress-%s-api" % svc, {"podSelector": sel(app=a("api")),
				"policyTypes": ["Egress"], "egress": eg}))
		if "db" in tiers:
			out.append(("allow-%s-db" % svc, {"podSelector": sel(app=a("db")),
				"policyTypes": ["Ingress"], "ingress": [{"from": [{"podSelector":
				{"matchExpressions": [expr("tier", "In", ["api", "worker"]),
				expr("service", "In", [svc])]}}], "ports": [{"port": 5432}]}]}))
		if "cache" in tiers:
			out.append(("allow-%s-cache" % svc, {"podSelector": sel(app=a("cache")),
				"ingress": [{"from": [{"podSelector": sel(service=svc)}],
				"ports": [{"port": "redis"}]}]}))
	if rng.random() < 0.35:
		out.append(("allow-team", {"podSelector": {"matchExpressions": [
			expr("tier", "In", ["web", "api"])]}, "ingress": [{"from": [
			{"namespaceSelector": sel(team=team)}], "ports": [
			{"protocol": "TCP", "port": 8080, "endPort": 8090}]}]}))
	if rng.random() < 0.3:
		out.append(("allow-prod-gateways", {"podSelector": sel(tier="api"), "ingress": [{
			"from": [{"namespaceSelector": {"matchExpressions": [
			expr("env", "In", ["prod"])]}, "podSelector": sel(app="gateway-web")}],
			"ports": [{"port": 8080}, {"port": 8000}]}]}))
	if rng.random() < 0.3:
		out.append(("allow-stats", {"podSelector": {"matchExpressions": [
			expr("tier", "NotIn", ["db"]), expr("version", "Exists")]},
			"ingress": [{"from": [{"podSelector": {"matchExpressions": [
			expr("canary", "DoesNotExist")]}}], "ports": [
			{"protocol": "UDP", "port": 8125}, {"protocol": "UDP", "port": 5000,
			"endPort": 5010}, {"protocol": "SCTP", "port": 7000}]}]}))
	if rng.random() < 0.2:
		out.append(("allow-vpn", {"podSelector": sel(tier="web"), "ingress": [{"from": [
			{"ipBlock": {"cidr": "172.20.0.0/16", "except": ["172.20.8.0/24",
			"172.20.9.0/24"]}}, {"ipBlock": {"cidr": "fd10:20::/48",
			"except": ["fd10:20:0:8::/64"]}}]}]}))
	if rng.random() < 0.15:
		out.append(("allow-all-gateway", {"podSelector": sel(app="gateway-web"),
			"ingress": [{}]}))
	if rng.random() < 0.25:
		out.append(("egress-workers", {"podSelector": sel(tier="worker"),
			"policyTypes": ["Egress"], "egress": [DNS_RULE, {"to": [{"podSelector":
			sel(tier="api")}], "ports": [{"port": "http"}]}, {"to": [{"ipBlock": {
			"cidr": "10.0.0.0/8", "except": ["10.64.0.0/14"]}}],
			"ports": [{"protocol": "TCP", "port": 1024, "endPort": 2047}]}]}))
	return base, out


def filler(rng, ns, comps, k):
	"""More policies when a namespace's quota is larger than its candidates: per-app port
	openings, as teams add them one at a time."""
	svc, tiers = comps[k % len(comps)]
	t = tiers[(k // len(comps)) % len(tiers)]
	port = 10000 + (k * 7) % 5000
	return ("allow-%s-%s-%d" % (svc, t, port), {"podSelector": sel(app="%s-%s" % (svc, t)),
		"ingress": [{"from": [{"podSelector": sel(service=svc)}],
		"ports": [{"port": port}]}]})


def system_policies():
	return {"kube-system": [("allow-dns", {"podSelector": sel(**{"k8s-app": "kube-dns"}),
		"ingress": [{"ports": [{"protocol": "UDP", "port": 53},
			{"protocol": "TCP", "port": 53}]}, {"from": [{"namespaceSelector":
			sel(purpose="monitoring")}], "ports": [{"port": "metrics"}]}]})],
		"monitoring": [("prometheus-egress", {"podSelector": sel(app="prometheus"),
			"policyTypes": ["Egress", "Ingress"], "egress": [{"ports": [
			{"port": "metrics"}, {"port": 9090}, {"port": 9100}]}, DNS_RULE],
			"ingress": [{"from": [{"ipBlock": {"cidr": "192.168.0.0/16"}}],
			"ports": [{"port": 9090}]}]})],
		"ingress-nginx": [("controller", {"podSelector": sel(app="ingress-nginx"),
			"ingress": [{"ports": [{"port": 80}, {"port": 443}]}]})]}


def bench_policies():
	"""The connection-rate pair: both pods isolated, the client's egress and the server's
	ingress allowing exactly the benchmark's connection (port 8080; 8081 stays closed)."""
	return [("bench-server-ingress", {"podSelector": sel(app="bench-server"), "ingress": [{
		"from": [{"podSelector": sel(app="bench-client")}], "ports": [{"port": "http"}]}]}),
		("bench-client-egress", {"podSelector": sel(app="bench-client"),
		"policyTypes": ["Egress"], "egress": [{"to": [{"podSelector":
		sel(app="bench-server")}], "ports": [{"protocol": "TCP", "port": 8080}]}]})]


# ---- the world ------------------------------------------------------------------------------

def world(scenario, npods, npol, nns, nnodes, seed, dual):
	rng = random.Random(seed)
	cidrs = node_cidrs(scenario, nnodes)
	alloc = Alloc(cidrs)
	nodes = ["n%d" % k for k in range(1, nnodes + 1)]
	host = {n: "192.168.86.%d" % k for k, n in enumerate(nodes, 1)}
	namespaces = {"kube-system": {}, "monitoring": {"purpose": "monitoring"},
		"ingress-nginx": {"purpose": "ingress"}}
	teamns = []
	for i in range(max(nns - 3, 1)):
		team, env = TEAMS[i // 3 % len(TEAMS)], ENVS[i % 3]
		name = "%s-%s" % (team, env) if i < 3 * len(TEAMS) else "%s-%s-%d" % (team, env, i)
		namespaces[name] = {"team": team, "env": env}
		if rng.random() < 0.3:
			namespaces[name]["istio-injection"] = "enabled"
		teamns.append(name)
	pods, uid = {}, [0]
	counter = [0]
	bench_ns = BENCH_NS if BENCH_NS in namespaces else teamns[0]

	def place():
		"""spread: every tenth pod on n1, the others round-robin on n2..; all: n1."""
		counter[0] += 1
		if scenario == "all" or nnodes == 1 or counter[0] % 10 == 1:
			return "n1"
		return nodes[1 + counter[0] % (nnodes - 1)]

	def add(ns, name, labels, ports, node=None, off=None, **kw):
		node = node or place()
		if off is None:
			a4, a6 = alloc.take(node)
		else:
			base, _, b6 = cidrs[node]
			a4, a6 = v4(base, off), "%s%x" % (b6, off)
		uid[0] += 1
		p = {"ns": ns, "name": name, "labels": labels, "ports": ports, "node": node,
			"v4": a4, "v6": a6 if dual else None, "hostIP": host[node], "uid": uid[0]}
		p.update(kw)
		pods["%s/%s" % (ns, name)] = p

	def hexname(prefix):
		return "%s-%08x-%05x" % (prefix, rng.getrandbits(32), rng.getrandbits(20))

	# the benchmark's own pair, on n1, at fixed addresses
	for role, (app, off) in BENCH.items():
		add(bench_ns, app, {"app": app,
			"tier": "web" if role == "client" else "api", "service": "bench",
			"version": "v1"}, [("http", 8080, "TCP"), ("alt", 8081, "TCP")],
			node="n1", off=off)
	# system pods: kube-proxy on every node (hostNetwork), DNS, monitoring, ingress
	for n in nodes:
		if len(pods) >= npods:
			break
		add("kube-system", "kube-proxy-%s" % n, {"k8s-app": "kube-proxy"}, [], node=n,
			off=1, hostNetwork=True)
		pods["kube-system/kube-proxy-%s" % n]["v4"] = host[n]
		pods["kube-system/kube-proxy-%s" % n]["v6"] = None
	for i in range(4):
		add("kube-system", hexname("coredns"), {"k8s-app": "kube-dns"},
			tier_ports(rng, "dns"))
	for app, n, t in (("prometheus", 2, "prom"), ("alertmanager", 3, "prom"),
			("grafana", 2, "web")):
		for i in range(n):
			add("monitoring", hexname(app), {"app": app}, tier_ports(rng, t))
	for i in range(10):
		add("ingress-nginx", hexname("ingress-nginx-controller"),
			{"app": "ingress-nginx"}, [("http", 80, "TCP"), ("https", 443, "TCP")])
	# team namespaces: services with components, replicas filling each namespace's share
	left = max(npods - len(pods), 0)
	comps_of = {}
	for i, ns in enumerate(teamns):
		share = left // len(teamns) + (1 if i < left % len(teamns) else 0)
		svcs = rng.sample(SERVICES, 4)
		comps = []
		for svc in svcs:
			tiers = ["api"] + [t for t, pr in (("web", 0.6), ("worker", 0.5),
				("db", 0.4), ("cache", 0.4)) if rng.random() < pr]
			comps.append((svc, tiers))
		comps_of[ns] = comps
		units = [(svc, t) for svc, tiers in comps for t in tiers]
		ports = {u: tier_ports(rng, u[1]) for u in units}
		n = 0
		while n < share:
			svc, t = units[n % len(units)]
			labels = {"app": "%s-%s" % (svc, t), "tier": t, "service": svc,
				"team": namespaces[ns]["team"],
				"version": rng.choice(["v1", "v1", "v2"]),
				"pod-template-hash": "%08x" % rng.getrandbits(32)}
			if rng.random() < 0.05:
				labels["canary"] = "true"
			kw = {}
			if t == "worker" and rng.random() < 0.1:
				kw["phase"] = "Succeeded"	# a finished job keeps its podIPs
			add(ns, hexname(labels["app"]), labels, ports[(svc, t)], **kw)
			n += 1
	# policies: the pair, the system namespaces', then the teams' up to the quota
	pols = {}
	if npol >= 2:
		for name, spec in bench_policies():
			pols["%s/%s" % (bench_ns, name)] = spec
	for ns, lst in system_policies().items():
		for name, spec in lst:
			if len(pols) < npol:
				pols["%s/%s" % (ns, name)] = spec
	left = max(npol - len(pols), 0)
	for i, ns in enumerate(teamns):
		share = left // len(teamns) + (1 if i < left % len(teamns) else 0)
		base, rest = team_policies(rng, ns, namespaces[ns]["team"], namespaces[ns]["env"],
			comps_of[ns])
		cand = base[:share] + rng.sample(rest, min(max(share - len(base), 0), len(rest)))
		k = 0
		while len(cand) < share:
			cand.append(filler(rng, ns, comps_of[ns], k))
			k += 1
		for name, spec in cand:
			pols["%s/%s" % (ns, name)] = spec
	return {"scenario": scenario, "dual": dual, "seed": seed, "cidrs": cidrs,
		"nodes": nodes, "host": host, "namespaces": namespaces, "pods": pods,
		"policies": pols, "next": alloc.nxt, "uid": uid[0], "comps": comps_of,
		"bench_ns": bench_ns}


def cmd_gen(args):
	d, statef, scenario = args[0], args[1], args[2]
	npods, npol, nns, nnodes, seed, dual = map(int, args[3:9])
	w = world(scenario, npods, npol, nns, nnodes, seed, bool(dual))
	os.makedirs(d, exist_ok=True)
	for k, n in enumerate(w["nodes"], 1):
		put(d, fname("Node", "", n), node_obj(n, k, w["cidrs"][n], w["dual"]))
	for n, labels in w["namespaces"].items():
		put(d, fname("Namespace", "", n), ns_obj(n, labels))
	for p in w["pods"].values():
		put(d, fname("Pod", p["ns"], p["name"]), pod_obj(p))
	for key, spec in w["policies"].items():
		ns, name = key.split("/")
		put(d, fname("NetworkPolicy", ns, name), pol_obj(ns, name, spec))
	set_gen(d, 1)
	with open(statef, "w") as f:
		json.dump(w, f)
	pods = w["pods"].values()
	local = [p for p in pods if p["node"] == "n1" and not p.get("hostNetwork")]
	print("pods=%d policies=%d namespaces=%d nodes=%d local=%d local_running=%d "
		"hostnet=%d finished=%d n1cidr=%s/%d" % (len(w["pods"]), len(w["policies"]),
		len(w["namespaces"]), len(w["nodes"]), len(local),
		sum(1 for p in local if p.get("phase", "Running") == "Running"),
		sum(1 for p in pods if p.get("hostNetwork")),
		sum(1 for p in pods if p.get("phase") == "Succeeded"),
		w["cidrs"]["n1"][0], w["cidrs"]["n1"][1]))


# ---- status.json ------------------------------------------------------------------------------

def alive(pid):
	try:
		with open("/proc/%d/stat" % pid) as f:
			return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
	except (OSError, IndexError):
		return False


def read_status(path):
	try:
		with open(path) as f:
			return json.load(f)
	except (OSError, ValueError):
		return None


def wait_gen(path, gen, pid, timeout, full=False):
	"""Poll status.json until sourceGeneration >= gen (and, with full, a sync happened).
	Returns the status; dies when the agent dies, reports an error, or time runs out."""
	end = time.monotonic() + timeout
	i = 0
	while True:
		st = read_status(path)
		if st and st.get("sourceGeneration", 0) >= gen:
			pol = st.get("policy", {})
			if pol.get("error"):
				die("the agent reports a policy error: %s" % pol["error"])
			if not full or pol.get("syncs", 0) >= 1:
				return st
		i += 1
		if i % 200 == 0 and not alive(pid):
			die("the agent (pid %d) died while we waited for generation %d" % (pid,
				gen))
		if time.monotonic() > end:
			die("generation %d not programmed within %d s (status: %s)" % (gen, timeout,
				json.dumps(st)))
		time.sleep(0.0005)


def cmd_wait(args):
	path, gen, pid, timeout = args[0], int(args[1]), int(args[2]), float(args[3])
	st = wait_gen(path, gen, pid, timeout, full=True)
	pol = st["policy"]
	ls = pol.get("lastSync", {})
	print("micros=%d full=%d done_at=%d groups=%d isolated=%d elements=%d problems=%d "
		"syncs=%d" % (ls.get("micros", 0), 1 if ls.get("full") else 0,
		ls.get("doneAtMicros", 0), pol.get("groups", 0), pol.get("isolated", 0),
		pol.get("elements", 0), len(pol.get("problems", [])), pol.get("syncs", 0)))


def cmd_problems(args):
	st = read_status(args[0]) or {}
	for p in st.get("policy", {}).get("problems", []):
		print(p)


# ---- single changes ------------------------------------------------------------------------------

KINDS = os.environ["KINDS"].split(",") if os.environ.get("KINDS") else ["pod-label", "pod-add", "pod-delete", "policy-edit", "ns-label"]


def is_bench(w, p):
	return p["ns"] == w["bench_ns"] and p["name"] in ("bench-client", "bench-server")


def plan_change(rng, w, kind):
	"""One change to the world: (file name, object or None for a delete, what)."""
	pods = w["pods"]
	if kind in ("pod-label", "pod-delete"):
		keys = [k for k, p in pods.items() if not is_bench(w, p) and p["ns"] not in
			("kube-system", "monitoring", "ingress-nginx")]
		# half of them on this node (a local pod changes its own group), half anywhere
		if rng.random() < 0.5:
			keys = [k for k in keys if pods[k]["node"] == "n1"] or keys
		p = pods[rng.choice(keys)]
		if kind == "pod-delete":
			del pods["%s/%s" % (p["ns"], p["name"])]
			return fname("Pod", p["ns"], p["name"]), None, "delete %s/%s on %s" % (
				p["ns"], p["name"], p["node"])
		labels = p["labels"]
		if rng.random() < 0.5 and "tier" in labels:
			old = labels["tier"]
			labels["tier"] = rng.choice([t for t in ("web", "api", "worker", "db",
				"cache") if t != old])
			what = "tier %s -> %s" % (old, labels["tier"])
		else:
			old = labels.get("app", "")
			svc = rng.choice(SERVICES)
			labels["app"] = "%s-%s" % (svc, labels.get("tier", "api"))
			labels["service"] = svc
			what = "app %s -> %s" % (old, labels["app"])
		return fname("Pod", p["ns"], p["name"]), pod_obj(p), "label %s/%s on %s: %s" % (
			p["ns"], p["name"], p["node"], what)
	if kind == "pod-add":
		ns = rng.choice([n for n in w["comps"]])
		svc, tiers = rng.choice(w["comps"][ns])
		t = rng.choice(tiers)
		# the scenario's placement: one pod in ten on n1 when spread
		node = "n1" if w["scenario"] == "all" or rng.random() < 0.1 else \
			rng.choice(w["nodes"][1:] or ["n1"])
		alloc = Alloc({n: tuple(c) for n, c in w["cidrs"].items()}, w["next"])
		a4, a6 = alloc.take(node)
		w["uid"] += 1
		name = "%s-%s-%08x-%05x" % (svc, t, rng.getrandbits(32), rng.getrandbits(20))
		p = {"ns": ns, "name": name, "labels": {"app": "%s-%s" % (svc, t), "tier": t,
			"service": svc, "team": w["namespaces"][ns]["team"], "version": "v1"},
			"ports": tier_ports(rng, t), "node": node, "v4": a4,
			"v6": a6 if w["dual"] else None, "hostIP": w["host"][node], "uid": w["uid"]}
		pods["%s/%s" % (ns, name)] = p
		return fname("Pod", ns, name), pod_obj(p), "add %s/%s on %s" % (ns, name, node)
	if kind == "policy-edit":
		mine = w["bench_ns"] + "/bench-"
		keys = [k for k, s in w["policies"].items() if not k.startswith(mine) and
			any(r.get("ports") for r in s.get("ingress", []) + s.get("egress", []))]
		key = rng.choice(keys)
		spec = w["policies"][key]
		rules = [r for r in spec.get("ingress", []) + spec.get("egress", [])
			if r.get("ports")]
		r = rng.choice(rules)
		extra = {"protocol": "TCP", "port": 20000 + rng.randrange(1000)}
		last = r["ports"][-1].get("port", 0)
		if len(r["ports"]) > 1 and isinstance(last, int) and last >= 20000:
			r["ports"].pop()
			what = "drop the extra port"
		else:
			r["ports"].append(extra)
			what = "add port %d" % extra["port"]
		ns, name = key.split("/")
		return fname("NetworkPolicy", ns, name), pol_obj(ns, name, spec), "edit %s: %s" % (
			key, what)
	# ns-label: the labels that namespaceSelectors use
	ns = rng.choice([n for n in w["comps"]])
	labels = w["namespaces"][ns]
	if rng.random() < 0.5:
		old = labels["env"]
		labels["env"] = rng.choice([e for e in ENVS if e != old])
		what = "env %s -> %s" % (old, labels["env"])
	else:
		old = labels["team"]
		labels["team"] = rng.choice([t for t in TEAMS if t != old])
		what = "team %s -> %s" % (old, labels["team"])
	return fname("Namespace", "", ns), ns_obj(ns, labels), "label namespace %s: %s" % (ns, what)


def pct(v, q):
	"""The q-th percentile, nearest rank (p99 of 300 is the 297th smallest)."""
	if not v:
		return None
	s = sorted(v)
	k = max(0, min(len(s) - 1, -(-len(s) * q // 100) - 1))
	return s[int(k)]


def apply_change(d, fn, obj, gen, status, pid):
	"""Write (or delete) one object file and bump the generation; wait until the agent has
	programmed it. (realtime us just before the rename or unlink, status)."""
	path = os.path.join(d, fn)
	if obj is not None:
		tmp = os.path.join(d, ".tmp-" + fn)
		with open(tmp, "w") as f:
			json.dump(obj, f, separators=(",", ":"))
	t0 = now_us()
	if obj is not None:
		os.rename(tmp, path)
	else:
		os.unlink(path)
	set_gen(d, gen)
	# a slow change is a figure, not a malfunction: the bound only catches a stuck agent
	st = wait_gen(status, gen, pid, 300)
	time.sleep(0.002)	# let the agent finish writing its status and go idle
	return t0, st


def cmd_changes(args):
	d, statef, status, n, seed, pid = args[0], args[1], args[2], int(args[3]), int(args[4]), \
		int(args[5])
	log = args[6]
	with open(statef) as f:
		w = json.load(f)
	rng = random.Random(seed)
	seq = [KINDS[i % len(KINDS)] for i in range(n)]
	rng.shuffle(seq)
	gen = get_gen(d)
	lat = {k: [] for k in KINDS}
	noop = {k: 0 for k in KINDS}
	syncus = []
	with open(log, "w") as lf:
		for kind in seq:
			# a change the node's rules do not depend on leaves the kernel alone and has
			# no event-to-kernel time: it is counted, and another of its kind drawn
			for _ in range(20):
				fn, obj, what = plan_change(rng, w, kind)
				gen += 1
				t0, st = apply_change(d, fn, obj, gen, status, pid)
				ls = st["policy"].get("lastSync", {})
				done = ls.get("doneAtMicros", 0)
				if done >= t0:
					break
				noop[kind] += 1
				lf.write("%s\tno kernel change\t%s\n" % (kind, what))
			else:
				continue
			lat[kind].append(done - t0)
			syncus.append(ls.get("micros", 0))
			lf.write("%s\t%d us (pass %d us)\t%s\n" % (kind, done - t0,
				ls.get("micros", 0), what))
	with open(statef, "w") as f:
		json.dump(w, f)
	allv = [x for v in lat.values() for x in v]
	fig = lambda v, nn: {"n": len(v), "noop": nn, "p50": pct(v, 50), "p99": pct(v, 99),
		"max": max(v) if v else None}
	res = {"kinds": {k: fig(lat[k], noop[k]) for k in KINDS},
		"all": fig(allv, sum(noop.values())), "gen": gen}
	res["pass_p50"] = pct(syncus, 50)
	res["pass_p99"] = pct(syncus, 99)
	print(json.dumps(res))


# ---- policies off and on --------------------------------------------------------------------

def cmd_policies(args):
	"""Move every NetworkPolicy file to STASH (off) or back (on), then wait for the agent."""
	d, stash, how, status, pid = args[0], args[1], args[2], args[3], int(args[4])
	src, dst = (d, stash) if how == "off" else (stash, d)
	os.makedirs(stash, exist_ok=True)
	n = 0
	t0 = now_us()
	for fn in sorted(os.listdir(src)):
		if fn.startswith("networkpolicy-"):
			os.rename(os.path.join(src, fn), os.path.join(dst, fn))
			n += 1
	gen = get_gen(d) + 1
	set_gen(d, gen)
	st = wait_gen(status, gen, pid, 300)
	pol = st["policy"]
	ls = pol.get("lastSync", {})
	print("moved=%d micros=%d to_kernel_us=%d groups=%d isolated=%d elements=%d" % (n,
		ls.get("micros", 0), max(ls.get("doneAtMicros", 0) - t0, 0), pol.get("groups", 0),
		pol.get("isolated", 0), pol.get("elements", 0)))


# ---- nft ---------------------------------------------------------------------------------------

def cmd_nft_time(args):
	"""Time `nft -f FILE` (run inside the target namespace): ms, process start included."""
	t0 = time.perf_counter()
	r = subprocess.run(["nft", "-f", args[0]], capture_output=True, text=True)
	ms = (time.perf_counter() - t0) * 1000
	if r.returncode:
		die("nft -f %s failed (%d): %s" % (args[0], r.returncode, r.stderr[:2000]))
	print("%.3f" % ms)


def normalize(text):
	"""An `nft list` output as lines, every set's elements sorted (dump order differs between
	a table built by the agent and one built by nft) and whitespace collapsed."""
	out, pos = [], 0
	while True:
		j = text.find("elements = {", pos)
		if j < 0:
			out.append(text[pos:])
			break
		k = text.find("}", j)
		out.append(text[pos:j])
		items = sorted(x.strip() for x in text[j + 12:k].split(",") if x.strip())
		out.append("elements = { %s }" % ", ".join(items))
		pos = k + 1
	return [" ".join(l.split()) for l in "".join(out).splitlines() if l.strip()]


def blocks(text):
	"""{"set NAME" / "map NAME" / "chain NAME": its lines}: the order of the blocks is the
	order of creation, which incremental changes shuffle, so it is not compared."""
	out, cur = {}, None
	for l in normalize(text):
		w = l.split()
		if len(w) == 3 and w[0] in ("set", "map", "chain") and w[2] == "{":
			cur = "%s %s" % (w[0], w[1])
			out[cur] = []
		elif l == "}":
			cur = None
		elif cur:
			out[cur].append(l)
	return out


def cmd_same(args):
	"""Compare two listings; prints "same ..." or where they differ. Exit 0 either way."""
	a, b = (blocks(open(f).read()) for f in args[:2])
	if a == b:
		print("same blocks=%d" % len(a))
		return
	only = sorted(set(a) ^ set(b))
	if only:
		print("differ: %d block(s) in one listing only, e.g. %s" % (len(only), only[0]))
		return
	k = sorted(x for x in a if a[x] != b[x])
	print("differ: %d block(s) with other contents, e.g. %s" % (len(k), k[0]))


def cmd_count(args):
	"""Chains, sets, maps and elements of a listing."""
	b = blocks(open(args[0]).read())
	n = lambda kind: sum(1 for x in b if x.startswith(kind + " "))
	elems = sum(l.count(",") + 1 for v in b.values() for l in v if l.startswith("elements"))
	print("chains=%d sets=%d maps=%d elements=%d bytes=%d" % (n("chain"), n("set"), n("map"),
		elems, os.path.getsize(args[0])))


# ---- connection rate ------------------------------------------------------------------------

def pin(which):
	"""Pin to one CPU (the server to the first allowed, the client to the second): sharing
	a CPU now and then made round-to-round figures vary by 20%, pinned by 5%."""
	cpus = sorted(os.sched_getaffinity(0))
	if len(cpus) >= 2:
		os.sched_setaffinity(0, {cpus[which]})
		return cpus[which]
	return -1


def cmd_serve(args):
	"""Listen on IP:PORT for each PORT; accept and close as fast as possible."""
	ip, ports = args[0], [int(x) for x in args[1:]]
	pin(0)
	socks = []
	for p in ports:
		s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
		s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		s.bind((ip, p))
		s.listen(4096)
		socks.append(s)

	def loop(s):
		while True:
			try:
				c, _ = s.accept()
				c.close()
			except OSError:
				pass
	for s in socks[1:]:
		threading.Thread(target=loop, args=(s,), daemon=True).start()
	print("ready", flush=True)
	loop(socks[0])


def cmd_probe(args):
	"""One connect: ok, refused (a reset, as the policy's reject sends) or timeout."""
	s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	s.settimeout(float(args[2]) if len(args) > 2 else 2.0)
	try:
		s.connect((args[0], int(args[1])))
		print("ok")
	except ConnectionRefusedError:
		print("refused")
	except (socket.timeout, TimeoutError):
		print("timeout")
	except OSError as e:
		print("error:%s" % e.strerror.replace(" ", "_"))
	finally:
		s.close()


def cmd_client(args):
	"""Sequential connect/close to IP:PORT for SECONDS; closing with SO_LINGER 0 (a reset)
	leaves no TIME_WAIT, so the client never runs out of ports."""
	addr, secs = (args[0], int(args[1])), float(args[2])
	cpu = pin(1)
	lg = struct.pack("ii", 1, 0)
	n = err = 0
	t0 = time.perf_counter()
	end = t0 + secs
	AF, ST, SOL, LINGER = socket.AF_INET, socket.SOCK_STREAM, socket.SOL_SOCKET, \
		socket.SO_LINGER
	while True:
		for _ in range(64):
			s = socket.socket(AF, ST)
			s.setsockopt(SOL, LINGER, lg)
			try:
				s.connect(addr)
				n += 1
			except OSError:
				err += 1
			s.close()
		t = time.perf_counter()
		if t >= end:
			break
	print("conns=%d errors=%d seconds=%.3f rate=%.1f cpu=%d" % (n, err, t - t0, n / (t - t0),
		cpu))


# ---- statistics -------------------------------------------------------------------------------

def cpu_times():
	with open("/proc/stat") as f:
		v = [int(x) for x in f.readline().split()[1:]]
	return v[3] + v[4], sum(v)


def cmd_quiet(args):
	"""Wait until the machine is idle (at least 90% of every CPU over half a second): a
	namespace deleted just before is torn down by a kernel worker for a second or more
	(its nf_tables table included), and a measurement must not share the CPUs with that.
	Prints the idle fraction of the last window; "busy" when it gave up after LIMIT s."""
	limit = float(args[0]) if args else 30
	end = time.monotonic() + limit
	while True:
		i0, t0 = cpu_times()
		time.sleep(0.5)
		i1, t1 = cpu_times()
		idle = (i1 - i0) / max(t1 - t0, 1)
		if idle >= 0.9:
			print("%.2f" % idle)
			return
		if time.monotonic() > end:
			print("busy %.2f" % idle)
			return


def cmd_median(args):
	v = sorted(float(x) for x in args)
	m = len(v) // 2
	print("%.3f" % (v[m] if len(v) % 2 else (v[m - 1] + v[m]) / 2))


def main():
	cmds = {"gen": cmd_gen, "wait": cmd_wait, "problems": cmd_problems,
		"changes": cmd_changes, "policies": cmd_policies, "nft-time": cmd_nft_time,
		"same": cmd_same, "count": cmd_count, "serve": cmd_serve, "probe": cmd_probe,
		"client": cmd_client, "median": cmd_median, "quiet": cmd_quiet}
	if len(sys.argv) < 2 or sys.argv[1] not in cmds:
		die("usage: bench-policy.py %s ..." % "|".join(cmds))
	cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
	main()
