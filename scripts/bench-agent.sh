#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench-agent.sh BINARY: memory, API requests and sync times of the node agent (virgild)
# against the fake kube-apiserver (tests/k8s/fakeapi.py). A benchmark, not a test: it prints
# figures and checks the targets: VmRSS <= 10 MiB idle with 3 nodes (A), <= 30 MiB with 1,000
# nodes and 10,000 pods (B). It exits 1 when a target is missed or the agent fails to sync,
# crashes, or changes the kernel on a restart with the same input.
#
#   netns vg$$-aapi, vg$$-bapi                 netns vg$$-<S>node, one per scenario S
#   ┌──────────────────────────────┐  veth    ┌─────────────────────────────────────────┐
#   │ eth0 172.16.0.100/24         ├──────────┤ eth0 172.16.0.1/24  fd00:16::1/64       │
#   │      fd00:16::100/64         │          │ default via 172.16.0.100, fd00:16::100  │
#   │ fakeapi https :6443 (test CA,│          │ virgild --server https://172.16.0.100   │
#   │   token), control 127.0.0.1  │          │ node-0000: pods 10.0.0.0/24, fd10::/64  │
#   └──────────────────────────────┘          └─────────────────────────────────────────┘
#
# The other nodes' InternalIPs are in 172.17.0.0/16 and fd00:17::/64, off the node's
# subnets, so every peer is reached over VXLAN (virgil.vxlan, virgil.vxlan6): a route, a
# neighbour entry and an fdb entry per peer and family, the heavier of the two modes.
#
# A:  3 nodes, 6 pods. Ready (conflist written), 10 s, VmRSS/VmHWM; then the requests the
#     fake receives in a 60 s idle window, per verb and resource.
# B1: 1,000 dual-stack nodes (podCIDRs 10.x.y.0/24 + fd10:0:N::/64), 10,000 pods in 40
#     namespaces (labels, owner, a container port, podIPs, status), 40 NetworkPolicies; the
#     fake answers a LIST with resourceVersion=0 in one page whatever its limit, as the
#     watch cache of kube-apiserver does. Times from the agent's start: each LIST answered
#     (the fake's request log), nodes synced, 999 routes per family in the kernel, ready,
#     pods synced; VmRSS/VmHWM 10 s later. Then a restart on the same input: its times, and
#     the route, neighbour and fdb changes the kernel reports meanwhile (expected 0).
# B2: the same with limit=500 honoured (pages), by the same fake.
#
# OBJECTS=full (default) generates objects as kube-apiserver serves them: managedFields of
# each writer, 20 images in a node's status (node ~8.5 KB, pod ~6 KB of JSON); OBJECTS=lean
# leaves out managedFields (the fake adds a one-line one) and keeps 8 images (~3.9 KB, ~3.1 KB).
#
# Needs root (netns), openssl, Debian's /usr/bin/python3. Environment: OBJECTS, IDLE_S (60),
# SETTLE_S (10), PODS_S (20: how long the pods may take after the routes), NODES (1000),
# PODS (10000), SCENARIOS ("A B1 B2"), KEEP (keep the temporary directory). About 3 minutes.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BINARY" >&2; exit 2; }
BIN=$(realpath "$1")
[ -x "$BIN" ] || { echo "bench-agent: $BIN is not executable" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "bench-agent: needs root (network namespaces)" >&2; exit 2; }
PY=/usr/bin/python3	# Debian's, stdlib only
[ -x "$PY" ] || { echo "bench-agent: $PY is missing" >&2; exit 2; }
K8S=$(cd "$(dirname "$0")/../tests/k8s" && pwd)
export PYTHONDONTWRITEBYTECODE=1
IDLE_S=${IDLE_S:-60}
SETTLE_S=${SETTLE_S:-10}
NODES=${NODES:-1000}
SCENARIOS=${SCENARIOS:-A B1 B2}
OBJECTS=${OBJECTS:-full}
PODS=${PODS:-10000}
PODS_S=${PODS_S:-20}	# how long the pods may take to sync once the routes are in
READY_S=90		# bound on every wait for the agent

PFX=vg$$-
TMP=$(mktemp -d "${TMPDIR:-/tmp}/virgil-bench-agent.XXXXXX")
PIDS=()			# everything started in the background, killed by pid on exit
SLEEP=
FAILS=0

cleanup() {
	local p ns
	set +e
	for p in $SLEEP "${PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	for ns in $(ip netns list | awk '{ print $1 }' | grep "^$PFX"); do
		for p in $(ip netns pids "$ns"); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$ns"
	done
	if [ -n "${KEEP:-}" ]; then echo "bench-agent: kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*" >&2; }
now() { echo "$EPOCHREALTIME"; }
# ms_since T0 [T1]: milliseconds between two now() values (EPOCHREALTIME has 6 decimals)
ms_since() { local a=${1/./} b=${2:-$(now)}; b=${b/./}; echo $(((10#$b - 10#$a) / 1000)); }
alive() { case $(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) in "" | Z) return 1 ;; esac; }
mem() { awk -v k="$2:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
fail() { FAILS=$((FAILS + 1)); say "bench-agent: $*"; }
# pause S: a sleep that a signal's trap interrupts at once (cleanup then ends the sleep)
pause() {
	sleep "$1" &
	SLEEP=$!
	wait "$SLEEP"
	SLEEP=
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
# Python helpers: the cluster generator and the request-log analysis.

cat >"$TMP/h.py" <<'PY'
import collections, json, sys

FULL = True	# managedFields as a kube-apiserver keeps them, 20 images per node; else lean
IMAGES = 20

def fv1(v):
	"""The FieldsV1 set describing v, as server-side apply records it."""
	if isinstance(v, dict):
		return {"f:" + k: fv1(x) for k, x in v.items()}
	if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
		for key in ("name", "type", "ip", "containerPort", "key"):
			if all(key in x for x in v):
				return {"k:" + json.dumps({key: x[key]}, separators=(",", ":")):
					dict({".": {}}, **fv1(x)) for x in v}
	return {}

def managed(o, t, owners):
	"""managedFields: (manager, subresource, the part of o it owns) per owner."""
	if FULL:
		o["metadata"]["managedFields"] = [{"manager": m, "operation": "Update",
			"apiVersion": "v1", "time": t, "fieldsType": "FieldsV1",
			"fieldsV1": fv1(part), **({"subresource": sub} if sub else {})}
			for m, sub, part in owners]
	return o

def node(i, nodes):
	name = "node-%04d" % i
	v4 = "172.16.0.1" if i == 0 else "172.17.%d.%d" % (i >> 8, i & 255)
	v6 = "fd00:16::1" if i == 0 else "fd00:17::%x" % i
	cidrs = ["10.%d.%d.0/24" % (i >> 8, i & 255), "fd10:0:%x::/64" % i]
	cond = lambda t, s, r: {"type": t, "status": s, "reason": r, "message": "kubelet " + r,
		"lastHeartbeatTime": "2026-11-26T10:00:00Z",
		"lastTransitionTime": "2026-11-20T08:00:00Z"}
	res = {"cpu": "8", "ephemeral-storage": "102626232Ki", "hugepages-1Gi": "0",
		"hugepages-2Mi": "0", "memory": "32859912Ki", "pods": "110"}
	o = {"kind": "Node", "apiVersion": "v1", "metadata": {
		"name": name, "uid": "6e0d%04x-1b2c-4d5e-8f90-%012x" % (i, i),
		"creationTimestamp": "2026-11-20T08:00:00Z",
		"labels": {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
			"kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name,
			"kubernetes.io/os": "linux",
			"node.kubernetes.io/instance-type": "m6i.2xlarge",
			"topology.kubernetes.io/region": "eu-west-1",
			"topology.kubernetes.io/zone": "eu-west-1" + "abc"[i % 3]},
		"annotations": {"kubeadm.alpha.kubernetes.io/cri-socket":
			"unix:///run/containerd/containerd.sock",
			"node.alpha.kubernetes.io/ttl": "0",
			"volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
		"spec": {"podCIDR": cidrs[0], "podCIDRs": cidrs,
			"providerID": "aws:///eu-west-1a/i-0%016x" % i},
		"status": {"capacity": res, "allocatable": dict(res, cpu="7910m"),
		"conditions": [cond("MemoryPressure", "False", "KubeletHasSufficientMemory"),
			cond("DiskPressure", "False", "KubeletHasNoDiskPressure"),
			cond("PIDPressure", "False", "KubeletHasSufficientPID"),
			cond("Ready", "True", "KubeletReady")],
		"addresses": [{"type": "InternalIP", "address": v4},
			{"type": "InternalIP", "address": v6},
			{"type": "Hostname", "address": name}],
		"daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
		"nodeInfo": {"machineID": "%032x" % i, "systemUUID": "ec2%05x-0000-4000-8000-%012x"
			% (i, i), "bootID": "%08x-aaaa-4bbb-8ccc-%012x" % (i, i),
			"kernelVersion": "6.1.0-28-cloud-amd64", "osImage": "Debian GNU/Linux 12",
			"containerRuntimeVersion": "containerd://1.7.24",
			"kubeletVersion": "v1.31.4",
			"kubeProxyVersion": "v1.31.4", "operatingSystem": "linux",
			"architecture": "amd64"},
		"images": [{"names": [
			"registry.example.com/team-%02d/svc@sha256:%064x" % (k, i * 16 + k),
			"registry.example.com/team-%02d/svc:v1.%d" % (k, k)],
			"sizeBytes": 48000000 + k * 1000003} for k in range(IMAGES)]}}
	md, t = o["metadata"], "2026-11-26T10:00:00Z"
	return managed(o, t, [
		("kubeadm", None, {"metadata": {"annotations": {
			"kubeadm.alpha.kubernetes.io/cri-socket": 1}}}),
		("kube-controller-manager", None, {"metadata": {"annotations": {
			"node.alpha.kubernetes.io/ttl": 1}},
			"spec": {"podCIDR": 1, "podCIDRs": 1}}),
		("kubelet", None, {"metadata": {"labels": md["labels"], "annotations": {
			"volumes.kubernetes.io/controller-managed-attach-detach": 1}},
			"spec": {"providerID": 1}}),
		("kubelet", "status", {"status": o["status"]})])

def pod(k, nodes, nsn):
	n, j, d = k % nodes, k // nodes, k // 10
	app, ns, h = "svc-%04d" % d, "team-%02d" % (d % nsn), "%08x" % (d * 2654435761 & 0xffffffff)
	h = "".join("bcdfghjklmnpqrstvwxz"[int(c, 16)] for c in h[:10])
	name = "%s-%s-%05x" % (app, h, k * 7919 & 0xfffff)
	v4 = "10.%d.%d.%d" % (n >> 8, n & 255, j + 2)
	v6 = "fd10:0:%x::%x" % (n, j + 2)
	host = "172.16.0.1" if n == 0 else "172.17.%d.%d" % (n >> 8, n & 255)
	t = "2026-11-26T09:%02d:%02dZ" % (k // 60 % 60, k % 60)
	cond = lambda c: {"type": c, "status": "True", "lastProbeTime": None,
		"lastTransitionTime": t}
	img = "registry.example.com/%s/%s:v1.%d" % (ns, app, d % 7)
	o = {"kind": "Pod", "apiVersion": "v1", "metadata": {
		"name": name, "generateName": name[:-5], "namespace": ns,
		"uid": "%08x-0d1e-4f2a-9b3c-%012x" % (k, k), "creationTimestamp": t,
		"labels": {"app": app, "app.kubernetes.io/name": app,
			"app.kubernetes.io/part-of": ns, "pod-template-hash": h,
			"tier": ("frontend", "backend", "cache")[d % 3]},
		"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-25T12:00:00Z"},
		"ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
			"name": "%s-%s" % (app, h), "uid": "%08x-aaaa-4bbb-8ccc-%012x" % (d, d),
			"controller": True, "blockOwnerDeletion": True}]},
		"spec": {"containers": [{"name": app, "image": img,
			"ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
			"env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1",
				"fieldPath": "metadata.name"}}}],
			"resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
				"limits": {"memory": "256Mi"}},
			"volumeMounts": [{"name": "kube-api-access-%05x" % k, "readOnly": True,
				"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}],
			"terminationMessagePath": "/dev/termination-log",
			"terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}],
			"nodeName": "node-%04d" % n, "restartPolicy": "Always",
			"terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
			"serviceAccountName": "default", "serviceAccount": "default",
			"securityContext": {}, "schedulerName": "default-scheduler", "priority": 0,
			"enableServiceLinks": True, "preemptionPolicy": "PreemptLowerPriority",
			"tolerations": [{"key": "node.kubernetes.io/" + w, "operator": "Exists",
				"effect": "NoExecute", "tolerationSeconds": 300}
				for w in ("not-ready", "unreachable")],
			"volumes": [{"name": "kube-api-access-%05x" % k, "projected": {
				"defaultMode": 420, "sources": [{"serviceAccountToken": {
				"expirationSeconds": 3607, "path": "token"}}]}}]},
		"status": {"phase": "Running", "qosClass": "Burstable", "startTime": t,
			"conditions": [cond(c) for c in ("PodReadyToStartContainers", "Initialized",
				"Ready", "ContainersReady", "PodScheduled")],
			"hostIP": host, "hostIPs": [{"ip": host}],
			"podIP": v4, "podIPs": [{"ip": v4}, {"ip": v6}],
			"containerStatuses": [{"name": app, "ready": True, "started": True,
				"restartCount": 0, "image": img,
				"imageID": "%s@sha256:%064x" % (img, d),
				"containerID": "containerd://%064x" % k,
				"state": {"running": {"startedAt": t}}, "lastState": {}}]}}
	md = o["metadata"]
	return managed(o, t, [
		("kube-controller-manager", None, {"metadata": {"generateName": 1,
			"labels": md["labels"], "annotations": md["annotations"],
			"ownerReferences": md["ownerReferences"]}, "spec": o["spec"]}),
		("kubelet", "status", {"status": o["status"]})])

def gen(out, nodes, pods, nsn, npol, full):
	global FULL, IMAGES
	FULL, IMAGES = full == "full", 20 if full == "full" else 8
	objs = [node(i, nodes) for i in range(nodes)]
	objs += [{"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "team-%02d" % i,
		"labels": {"kubernetes.io/metadata.name": "team-%02d" % i, "team": "t%02d" % i}},
		"spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
		for i in range(nsn)]
	objs += [pod(k, nodes, nsn) for k in range(pods)]
	objs += [{"kind": "NetworkPolicy", "apiVersion": "networking.k8s.io/v1", "metadata": {
		"name": "allow-same-namespace", "namespace": "team-%02d" % i},
		"spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [
		{"podSelector": {}}], "ports": [{"protocol": "TCP", "port": 8080}]}]}}
		for i in range(npol)]
	with open(out, "w") as f:
		json.dump(objs, f, separators=(",", ":"))
	size = lambda kind: sum(len(json.dumps(o, separators=(",", ":"))) for o in objs
		if o["kind"] == kind)
	print("%d %d %d" % (size("Node") // max(nodes, 1), size("Pod") // max(pods, 1),
		sum(len(json.dumps(o, separators=(",", ":"))) for o in objs)))

def resource(path):
	s = [x for x in path.split("/") if x]
	s = s[2:] if s[:1] == ["api"] else s[3:] if s[:1] == ["apis"] else s
	if s[:1] == ["namespaces"] and len(s) > 2:
		s = s[2:]
	return "/".join(s[:1] + [x for x in s[2:3]]) or path

def rate(fn, t0, t1, t2):
	"""Requests per "VERB resource": how many in [t0, t1), how many per minute in [t1, t2)."""
	log = json.load(open(fn))["log"]
	key = lambda e: "%s %s" % (e["verb"], resource(e["path"]))
	a = collections.Counter(key(e) for e in log if t0 <= e["t"] < t1)
	b = collections.Counter(key(e) for e in log if t1 <= e["t"] < t2)
	pm = lambda n: "%.1f" % (n * 60 / (t2 - t1))
	print("total %d %s" % (sum(a.values()), pm(sum(b.values()))))
	for k in sorted(set(a) | set(b)):
		print("%s %d %s" % (k, a[k], pm(b[k])))

def reqs(fn, t0, t1, what):
	"""The fake's request log between t0 and t1 (wall clock)."""
	log = [e for e in json.load(open(fn))["log"] if t0 <= e["t"] < t1]
	if what == "counts":
		c = collections.Counter("%s %s" % (e["verb"], resource(e["path"])) for e in log)
		print(len(log))
		for k, v in sorted(c.items()):
			print("%s %d" % (k, v))
	elif what == "lists":
		done = collections.defaultdict(list)
		for e in log:
			if e["verb"] == "LIST":
				done[resource(e["path"])].append(e)
		end = lambda e: (e["t"] + e.get("ms", 0) / 1000 - t0) * 1000
		first = min((end(e) for v in done.values() for e in v), default=None)
		print("first %s" % ("-" if first is None else "%.0f" % first))
		for r, v in sorted(done.items()):
			codes = collections.Counter(str(e.get("code")) for e in v)
			codes = ",".join("%sx%d" % (c, n) if n > 1 else c
				for c, n in sorted(codes.items()))
			print("%s %d %.0f %.0f %.0f %s" % (r, len(v), min(map(end, v)),
				max(map(end, v)), sum(e.get("ms", 0) for e in v), codes))

if __name__ == "__main__":
	if sys.argv[1] == "gen":
		gen(sys.argv[2], *map(int, sys.argv[3:7]), sys.argv[7])
	elif sys.argv[1] == "rate":
		rate(sys.argv[2], *map(float, sys.argv[3:6]))
	else:
		reqs(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
PY
h() { "$PY" "$TMP/h.py" "$@"; }

# ---------------------------------------------------------------------------------------
# The test PKI and token, shared by both scenarios

ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
{
	openssl req -x509 -new -nodes "${ec[@]}" -keyout "$TMP/ca.key" -out "$TMP/ca.pem" \
		-days 2 -subj "/CN=virgil bench CA" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign &&
	printf 'subjectAltName=IP:172.16.0.100\nextendedKeyUsage=serverAuth\n' >"$TMP/srv.ext" &&
	openssl req -new -nodes "${ec[@]}" -keyout "$TMP/srv.key" -out "$TMP/srv.csr" \
		-subj "/CN=kube-apiserver" &&
	openssl x509 -req -in "$TMP/srv.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" \
		-CAcreateserial -days 1 -extfile "$TMP/srv.ext" -out "$TMP/srv.pem"
} >"$TMP/openssl.log" 2>&1 || { cat "$TMP/openssl.log" >&2; exit 1; }
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TMP/token"
echo >>"$TMP/token"

# ---------------------------------------------------------------------------------------
# world A N: the namespace ${PFX}<A>api (made once: scenarios B1 and B2 share one fake) and a
# new ${PFX}<N>node joined to it by a veth; the node's directories are under $TMP/<N>.

world() {
	API=${PFX}$1api NODE=${PFX}$2node
	if [ ! -e "/run/netns/$API" ]; then
		ip netns add "$API"
		ip -n "$API" link set lo up
	fi
	ip netns add "$NODE"
	ip -n "$NODE" link set lo up
	ip link add eth0 netns "$API" type veth peer name eth0 netns "$NODE"
	ip -n "$API" addr add 172.16.0.100/24 dev eth0
	ip -n "$API" addr add fd00:16::100/64 dev eth0 nodad
	ip -n "$NODE" addr add 172.16.0.1/24 dev eth0
	ip -n "$NODE" addr add fd00:16::1/64 dev eth0 nodad
	ip -n "$API" link set eth0 up
	ip -n "$NODE" link set eth0 up
	ip -n "$NODE" route add default via 172.16.0.100
	ip -n "$NODE" -6 route add default via fd00:16::100
	mkdir -p "$TMP/$2/root" "$TMP/$2/data" "$TMP/$2/net.d"
}

# fake OBJECTS [ARGS]: fakeapi in $API on 172.16.0.100:6443; waits (60 s) for its ready line
fake() {
	local i out=$TMP/$S.fake
	ip netns exec "$API" "$PY" "$K8S/fakeapi.py" --listen 172.16.0.100:6443 \
		--cert "$TMP/srv.pem" --key "$TMP/srv.key" --token-file "$TMP/token" \
		--control 127.0.0.1:7000 --objects "$@" >"$out" 2>"$out.err" &
	FAKE=$!
	PIDS+=("$FAKE")
	for ((i = 0; i < 3000; i++)); do
		grep -qs '^fakeapi: listening on ' "$out" && return 0
		alive "$FAKE" || break
		sleep 0.02
	done
	tail -n 20 "$out.err" >&2
	say "bench-agent: fakeapi did not start"
	exit 1
}

ctl() {
	ip netns exec "$API" "$PY" "$K8S/kclient.py" ctl http://127.0.0.1:7000 "$@"
}

# agent TAG: virgild in $NODE, nothing but its flags naming the API server; AGENT is its
# own pid (ip and env exec into it), ALOG its log
agent() {
	ALOG=$TMP/$S.agent.$1.log
	ip netns exec "$NODE" env -u NODE_NAME -u KUBECONFIG -u VIRGIL_API_SERVER \
		-u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT \
		"$BIN" virgild --node-name node-0000 --server https://172.16.0.100:6443 \
		--token-file "$TMP/token" --ca-file "$TMP/ca.pem" --data-dir "$TMP/$S/data" \
		--cni-conf-dir "$TMP/$S/net.d" --host-root "$TMP/$S/root" --no-local-balancers \
		>"$ALOG" 2>&1 &
	AGENT=$!
	PIDS+=("$AGENT")
}

# dead WHEN: the agent failed; says whether it exited or is stuck, shows its log, exit 1
dead() {
	local st="is still running"
	alive "$AGENT" || { wait "$AGENT" 2>/dev/null && st="exited 0" || st="exited $?"; }
	fail "the agent (pid $AGENT) $st $*; its last log lines:"
	tail -n 20 "$ALOG" | sed 's/^/    /' >&2
	exit 1
}

# wait_ready: the agent logs "ready: wrote|kept" (the conflist is in place); READY_T
wait_ready() {
	local i n=$((READY_S * 50))
	for ((i = 0; i < n; i++)); do
		grep -qs 'ready: ' "$ALOG" && { READY_T=$(now); return 0; }
		alive "$AGENT" || break
		sleep 0.02
	done
	alive "$AGENT" || dead "before it was ready"
	dead "(not ready within ${READY_S}s)"
}

r86() { ip -n "$NODE" "-$1" route show proto 86 | wc -l; }
vx86() { ip -n "$NODE" "-$1" route show proto 86 | grep -c ' dev virgil\.vxlan6\? ' || true; }

# MiB figures of the agent: "VmRSS VmHWM"
agent_mem() { echo "$(mem "$AGENT" VmRSS) $(mem "$AGENT" VmHWM)"; }

# judge WHAT CMD...: V is PASS when CMD succeeds, else FAIL (and WHAT counts as missed).
# Called before row, never inside $(...), so that the count survives.
judge() {
	local w=$1
	shift
	if "$@"; then V=PASS; else V=FAIL; fail "$w"; fi
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

ROWS=()
row() { ROWS+=("$(printf '| %s | %s | %s | %s | %s |' "$@")"); }

# ---------------------------------------------------------------------------------------
# A: 3 nodes, 6 pods: idle memory and request rate

if [[ " $SCENARIOS " =~ \ A\  ]]; then
S=a
world a a
h gen "$TMP/a.json" 3 6 2 1 "$OBJECTS" >/dev/null
fake "$TMP/a.json"
say "A: 3 nodes, 6 pods: agent starting"
T0=$(now)
agent 1
wait_ready
A_READY=$(ms_since "$T0" "$READY_T")
pause "$SETTLE_S"	# the measurement's settling time, not a wait for readiness
alive "$AGENT" || dead "after ready"
read -r A_RSS A_HWM <<<"$(agent_mem)"
A_R4=$(r86 4) A_R6=$(r86 6) A_V4=$(vx86 4) A_V6=$(vx86 6)
say "A: ready after $A_READY ms, VmRSS $A_RSS MiB, VmHWM $A_HWM MiB; idle window ${IDLE_S}s"
W0=$(now)
pause "$IDLE_S"		# the idle window itself
W1=$(now)
alive "$AGENT" || dead "during the idle window"
ctl GET /requests >"$TMP/a.requests.json"
mapfile -t A_RATE < <(h rate "$TMP/a.requests.json" 0 "$W0" "$W1")
stop "$AGENT"
[ "$RC" -eq 0 ] || fail "A: the agent exited $RC on SIGTERM"
stop "$FAKE"
ip netns del "$NODE"
ip netns del "$API"

row "A: 3 nodes, 6 pods" "ready after start" "$A_READY ms" "" ""
judge "A: routes" test "$A_R4/$A_R6/$A_V4/$A_V6" = 2/2/2/2
row "" "proto-86 routes IPv4 / IPv6 (via VXLAN)" "$A_R4 / $A_R6 ($A_V4 / $A_V6)" "2 / 2" "$V"
judge "A: VmRSS $A_RSS MiB over 10 MiB" le "$A_RSS" 10
row "" "VmRSS, ${SETTLE_S} s after ready" "$A_RSS MiB" "≤ 10 MiB" "$V"
row "" "VmHWM" "$A_HWM MiB" "" ""
read -r _ n pm <<<"${A_RATE[0]}"
row "" "requests: from the start to ${SETTLE_S} s after ready; per minute idle (${IDLE_S} s)" \
	"$n; $pm" "" ""
for l in "${A_RATE[@]:1}"; do
	read -r verb res n pm <<<"$l"
	row "" "  $verb $res" "$n; $pm" "" ""
done
fi

# ---------------------------------------------------------------------------------------
# B: 1,000 nodes, 10,000 pods: sync times, memory, a no-change restart. Run twice: against
# the classic watch cache (a LIST with resourceVersion=0 ignores limit: one page of every
# object) and with pages of 500 honoured.

# mark WHAT: a marker the monitors report once they listen: an unreachable route (ip) and
# an fdb entry on the bridge vgmark (bridge), added again until both were seen
mark() {
	local i
	for ((i = 0; i < 50; i++)); do
		ip -n "$NODE" route replace unreachable "$1/32" proto 99
		ip netns exec "$NODE" bridge fdb replace "$2" dev vgmark self local
		sleep 0.1
		grep -q "$1" "$TMP/mon.ip" && grep -q "$2" "$TMP/mon.fdb" && return 0
		ip -n "$NODE" route del "$1/32" proto 99
		ip netns exec "$NODE" bridge fdb del "$2" dev vgmark self local
	done
	fail "the monitors did not report the marker $1 $2"
}

# poll_sync PEERS: polls every 50 ms until the routes to PEERS peers per family are in, the
# agent is ready and its nodes and pods are synced. It stops waiting for a resource the agent
# could not decode (the same bytes come back on every retry), for the pods PODS_S seconds
# after the routes (or the nodes' failure), for anything after READY_S seconds. The *_T are
# ms since T0, or empty.
routed() { [ -n "$R4_T" ] && [ -n "$R6_T" ] && [ -n "$RDY_T" ]; }
logged() { grep -qs "$1" "$ALOG"; }

poll_sync() {
	local i n=$((READY_S * 20)) p=
	R4_T='' R6_T='' RDY_T='' NODES_T='' PODS_T=''
	for ((i = 0; i < n; i++)); do
		[ -n "$R4_T" ] || [ "$(r86 4)" -lt "$1" ] || R4_T=$(ms_since "$T0")
		[ -n "$R6_T" ] || [ "$(r86 6)" -lt "$1" ] || R6_T=$(ms_since "$T0")
		[ -n "$RDY_T" ] || ! logged 'ready: ' || RDY_T=$(ms_since "$T0")
		[ -n "$NODES_T" ] || ! logged 'nodes: synced' || NODES_T=$(ms_since "$T0")
		[ -n "$PODS_T" ] || ! logged 'pods: synced' || PODS_T=$(ms_since "$T0")
		! routed || [ -z "$PODS_T" ] || return 0
		alive "$AGENT" || dead "while syncing"
		if routed || { [ -z "$NODES_T" ] && logged 'nodes: cannot decode'; }; then
			[ -z "$PODS_T" ] || return 0
			! logged 'pods: cannot decode' || return 0
			p=${p:-$i}
			[ $((i - p)) -lt $((PODS_S * 20)) ] || return 0
		fi
		sleep 0.05
	done
}

list_rows() {	# list_rows FILE T0 T1: one row per resource LISTed in the window
	local r n t1 t2 ms codes
	while read -r r n t1 t2 ms codes; do
		[ "$r" != first ] || continue
		row "" "  LIST $r: $n request(s) (server ${ms} ms in all; HTTP $codes)" \
			"$t1$([ "$n" = 1 ] || echo " … $t2") ms" "" ""
	done < <(h reqs "$1" "$2" "$3" lists)
}

when() { if [ -n "$1" ]; then echo "$1 ms"; else echo never; fi; }
first3() { sed -n 1,3p "$1" | sed 's/^\[[A-Z]*\]//; s/ *$//' | paste -sd ';'; }
why() {
	local w
	w=$(grep -m 1 "$1: cannot" "$ALOG" | sed 's/^virgild: //' || true)
	echo "${w:-no error logged by then}"
}

# sync_rows TAG [restart]: the rows of one sync of scenario TAG (after a restart the routes
# are there from the start: no time for them)
sync_rows() {
	local tag=$1
	judge "$tag: the nodes never synced" test -n "$NODES_T"
	row "" "nodes synced (agent's log)" "$(when "$NODES_T")" "" "$V"
	[ -n "$NODES_T" ] || row "" "  why" "$(why nodes)" "" ""
	[ -n "${2:-}" ] || row "" "all $((NODES - 1)) IPv4 / IPv6 peer routes in the kernel" \
		"$(when "$R4_T") / $(when "$R6_T")" "" ""
	row "" "ready (conflist in place)" "$(when "$RDY_T")" "" ""
	judge "$tag: the pods never synced" test -n "$PODS_T"
	row "" "pods synced (agent's log)" "$(when "$PODS_T")" "" "$V"
	[ -n "$PODS_T" ] || row "" "  why" "$(why pods)" "" ""
}

scenario_b() {
	local tag=$1 rv0=$2 what=$3 peers=$((NODES - 1)) t rss hwm r4 r6 v4 v6 ne fdb n nreq
	S=$tag
	world b "$tag"
	ip -n "$NODE" link add vgmark type bridge	# the fdb monitor's marker lives here
	if [ -z "${FAKE_B:-}" ]; then
		t=$(now)
		fake "$TMP/b.json"
		FAKE_B=$FAKE
		say "B: fakeapi loaded $NODES nodes, $PODS pods in $(ms_since "$t") ms"
	fi
	ctl DELETE /requests >/dev/null
	ctl POST /config "{\"rv0_limit\": \"$rv0\"}" >/dev/null
	say "$tag: agent starting"
	T0=$(now)
	agent 1
	poll_sync "$peers"
	pause "$SETTLE_S"	# settling before the memory figure
	alive "$AGENT" || dead "after its first sync"
	read -r rss hwm <<<"$(agent_mem)"
	r4=$(r86 4) r6=$(r86 6) v4=$(vx86 4) v6=$(vx86 6)
	ne=$(ip -n "$NODE" neigh show nud permanent | grep -c 'dev virgil\.vxlan' || true)
	fdb=$(ip netns exec "$NODE" bridge fdb show | grep -c 'dev virgil\.vxlan.* dst ' || true)
	ctl GET /requests >"$TMP/$tag.requests.json"
	t=$(now)
	nreq=$(h reqs "$TMP/$tag.requests.json" "$T0" "$t" counts | sed -n 1p)
	n=$(h reqs "$TMP/$tag.requests.json" "$T0" "$t" lists | sed -n 's/^first //p')
	row "$tag: $NODES nodes, $PODS pods; $what" "first LIST answered (the fake's log)" \
		"$n ms" "" ""
	list_rows "$TMP/$tag.requests.json" "$T0" "$t"
	sync_rows "$tag"
	n=$((2 * peers))
	judge "$tag: kernel state" \
		test "$r4/$r6/$v4/$v6/$ne/$fdb" = "$peers/$peers/$peers/$peers/$n/$n"
	row "" "routes IPv4 / IPv6 (via VXLAN); neighbours; fdb" \
		"$r4 / $r6 ($v4 / $v6); $ne; $fdb" "$peers / $peers; $n; $n" "$V"
	row "" "requests, start to ${SETTLE_S} s after the sync" "$nreq" "" ""
	V="n/a (not synced)"
	[ -z "$NODES_T" ] || [ -z "$PODS_T" ] ||
		judge "$tag: VmRSS $rss MiB over 30 MiB" le "$rss" 30
	row "" "VmRSS, ${SETTLE_S} s after the sync" "$rss MiB" "≤ 30 MiB" "$V"
	row "" "VmHWM (peak)" "$hwm MiB" "" \
		"$(awk -v m="$hwm" 'BEGIN { print (m <= 30) ? "within 30 MiB" : "over 30 MiB" }')"
	say "$tag: first sync: nodes $(when "$NODES_T"), routes $(when "$R4_T") /" \
		"$(when "$R6_T"), ready $(when "$RDY_T"), pods $(when "$PODS_T");" \
		"VmRSS $rss MiB, VmHWM $hwm MiB"

	# the restart on the same input, watched by route, neighbour and fdb monitors
	stop "$AGENT"
	[ "$RC" -eq 0 ] || fail "$tag: the agent exited $RC on SIGTERM"
	if ! routed; then
		row "" "restart, same input" "not measured: no first sync" "" ""
		ip -n "$API" link del eth0	# at once; the namespace goes in the background
		ip netns del "$NODE"
		return
	fi
	ip netns exec "$NODE" bridge monitor fdb >"$TMP/mon.fdb" 2>&1 &
	MON2=$!
	ip -N -n "$NODE" monitor label route neigh >"$TMP/mon.ip" 2>&1 &
	MON1=$!
	PIDS+=("$MON1" "$MON2")
	mark 192.0.2.1 02:00:00:00:00:01
	T0=$(now)
	agent 2
	poll_sync "$peers"
	pause 3		# late changes would show up in the monitors here
	mark 192.0.2.2 02:00:00:00:00:02
	stop "$MON1"
	stop "$MON2"
	alive "$AGENT" || dead "after the restart"
	read -r rss hwm <<<"$(agent_mem)"
	# the agent's routes are proto 86; the kernel adds its own (the local route of a vxlan
	# device's IPv6 link-local address once DAD is done), shown but not counted
	grep '^\[ROUTE\]' "$TMP/mon.ip" | grep -v '192\.0\.2\.' >"$TMP/mon.route" || true
	t=$(grep -c ' proto 86\b' "$TMP/mon.route" || true)
	# the agent's neighbours are PERMANENT; NOARP multicast entries come and go with the
	# kernel's own IPv6 traffic (router solicitations, MLD) and its neighbour GC
	grep '^\[NEIGH\]' "$TMP/mon.ip" | grep 'dev virgil\.vxlan' >"$TMP/mon.neigh" || true
	ne=$(grep -vc ' NOARP' "$TMP/mon.neigh" || true)
	fdb=$(grep -c 'virgil\.vxlan' "$TMP/mon.fdb" || true)
	row "" "restart on the same input (times from its start):" "" "" ""
	ctl GET /requests >"$TMP/$tag.requests2.json"
	list_rows "$TMP/$tag.requests2.json" "$T0" "$(now)"
	sync_rows "$tag restart" restart
	judge "$tag: the restart changed the kernel" test "$t/$ne/$fdb" = 0/0/0
	row "" "  kernel changes: proto-86 routes / vxlan neighbours / fdb" "$t / $ne / $fdb" \
		"0 / 0 / 0" "$V"
	[ ! -s "$TMP/mon.route" ] || row "" "  route events ($(wc -l <"$TMP/mon.route") in all)" \
		"$(first3 "$TMP/mon.route")" "" ""
	[ ! -s "$TMP/mon.neigh" ] ||
		row "" "  neighbour events on the vxlan devices" "$(first3 "$TMP/mon.neigh")" "" ""
	n=$(grep -oE 'routes: [0-9]+ added, [0-9]+ replaced, [0-9]+ deleted' "$ALOG" |
		tail -n 1 || echo "none: nothing to change")
	row "" "  route pass in the agent's log" "$n" "" ""
	row "" "  VmRSS / VmHWM, 3 s after the sync" "$rss / $hwm MiB" "" ""
	say "$tag: restart: ready $(when "$RDY_T"), pods $(when "$PODS_T")," \
		"kernel changes $t / $ne / $fdb"
	stop "$AGENT"
	[ "$RC" -eq 0 ] || fail "$tag: the restarted agent exited $RC on SIGTERM"
	ip -n "$API" link del eth0	# at once; the namespace goes in the background
	ip netns del "$NODE"
}

B_SIZES=
if [[ " $SCENARIOS " =~ \ B[12]\  ]]; then
	say "B: generating $NODES nodes, $PODS pods"
	read -r n p t <<<"$(h gen "$TMP/b.json" "$NODES" "$PODS" 40 40 "$OBJECTS")"
	B_SIZES="; in B (compact JSON as generated) a node is $n bytes, a pod $p, all of them"
	B_SIZES+=" $((t / 1048576)) MiB"
fi
case " $SCENARIOS " in *" B1 "*)
	scenario_b B1 ignore "LIST rv=0 ignores limit (classic watch cache)" ;;
esac
case " $SCENARIOS " in *" B2 "*) scenario_b B2 honor "LIST pages of 500" ;; esac
[ -z "${FAKE_B:-}" ] || stop "$FAKE_B"

# ---------------------------------------------------------------------------------------

echo
echo "Node agent (virgild) against fakeapi; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Underlay: VXLAN (the peers' InternalIPs are off the node's subnets; dual-stack)."
echo "Objects: $OBJECTS$B_SIZES."
echo
echo "| scenario | figure | value | target | result |"
echo "|---|---|---:|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
if [ "$FAILS" -eq 0 ]; then
	echo "bench-agent: every target met"
else
	echo "bench-agent: $FAILS target(s) missed"
	exit 1
fi
