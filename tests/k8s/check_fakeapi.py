#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""check_fakeapi.py: protocol checks of a running fakeapi.py, driven by tests/netns/06-fakeapi.sh.

It talks to the fake the way an API client does (kclient.Client: one keep-alive TLS connection,
raw chunk framing visible) and drives it through the control API. Each check prints "ok N - what"
or "FAIL N - what: why"; an exception inside a check group fails that group and the run goes on.
The last line is "N passed, N failed". The fixture cluster (tests/k8s/fixtures/cluster) must be
loaded and the token file must hold one token.
"""

import argparse
import gzip
import json
import os
import signal
import sys
import threading
import time
import traceback
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kclient import Client, Control  # noqa: E402

PASSED = 0
FAILED = 0


def ok(cond, what, why=""):
    global PASSED, FAILED
    if cond:
        PASSED += 1
        print("ok %d - %s" % (PASSED + FAILED, what), flush=True)
    else:
        FAILED += 1
        print("FAIL %d - %s%s" % (PASSED + FAILED, what, ": " + why if why else ""), flush=True)
    return cond


def eq(got, want, what):
    return ok(got == want, what, "got %r, want %r" % (got, want))


def hostport(text):
    if text.startswith("["):
        h, p = text[1:].split("]:")
    else:
        h, p = text.rsplit(":", 1)
    return h, int(p)


class Env:
    def __init__(self, a):
        self.a = a
        self.host, self.port = hostport(a.api)
        self.ctl = Control(a.control)
        self.token = open(a.token_file).read().strip()

    def client(self, token=None, **kw):
        return Client(self.host, self.port, ca=self.a.ca,
            token=self.token if token is None else token, **kw)

    def cfg(self, **kw):
        return self.ctl.post("/config", kw)

    def rv(self):
        return int(self.ctl.get("/state")["resourceVersion"])

    def put(self, *objs):
        return self.ctl.post("/objects", list(objs))

    def pod(self, name, ns="team-a", node="node-a", labels=None, ann=None):
        return {"kind": "Pod", "metadata": {"name": name, "namespace": ns,
            "labels": labels or {"app": "extra"}, "annotations": ann or {}},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "x"}]},
            "status": {"phase": "Running", "podIP": "10.244.9.9"}}


def names(lst):
    return sorted(i["metadata"]["name"] for i in (lst.get("items") or []))


def q(**kw):
    return urllib.parse.urlencode(kw)


# ------------------------------------------------------------------------------------------

def check_basics(e):
    anon = e.client(token="")
    r = anon.request("GET", "/version")
    eq(r.status, 200, "GET /version without credentials: 200 (anonymous)")
    r = anon.request("GET", "/api/v1/pods")
    b = r.json()
    ok(r.status == 403 and b.get("reason") == "Forbidden" and "system:anonymous" in b["message"],
        "LIST pods without credentials: 403 Forbidden for system:anonymous", repr(r.body[:200]))
    bad = e.client(token="not-the-token")
    r = bad.request("GET", "/api/v1/pods")
    eq((r.status, r.json()), (401, {"kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": "Unauthorized", "reason": "Unauthorized",
        "code": 401}), "a wrong token gets 401 with the apiserver's Status body")
    r = bad.request("GET", "/version")
    eq(r.status, 401, "a wrong token gets 401 even on /version")

    c = e.client()
    before = e.ctl.get("/requests")["connections"]
    r1 = c.request("GET", "/api/v1/nodes")
    nl = r1.json()
    ok(r1.status == 200 and nl["kind"] == "NodeList" and nl["apiVersion"] == "v1" and
        isinstance(nl["metadata"]["resourceVersion"], str), "LIST nodes: a NodeList with a "
        "string resourceVersion", repr(r1.body[:200]))
    ok(all("kind" not in i and "apiVersion" not in i for i in nl["items"]),
        "list items carry no kind/apiVersion (as the apiserver sends them)")
    eq(names(nl), ["node-a", "node-b"], "the fixture nodes are listed")
    ok("content-length" in r1.h or r1.chunks is not None, "LIST nodes is framed")
    r2 = c.request("GET", "/api/v1/pods")
    ok(r2.status == 200 and r2.h.get("transfer-encoding") == "chunked",
        "a body over 2 KiB comes chunked, like Go's net/http", str(r2.h))
    r3 = c.request("GET", "/version")
    ok(r3.status == 200 and "content-length" in r3.h and r3.chunks is None,
        "a small body comes with Content-Length", str(r3.h))
    eq(c.connects, 1, "three requests reuse one keep-alive connection")
    eq(e.ctl.get("/requests")["connections"] - before, 1,
        "the server saw exactly one new connection for them")
    r = c.request("GET", "/api/v1/frobs")
    ok(r.status == 404 and r.json()["message"] ==
        "the server could not find the requested resource", "an unknown resource: 404 Status")
    h2 = e.client(alpn=("h2",))
    try:
        r = h2.request("GET", "/version")
        ok(r.status == 0, "a client that negotiates h2 is not served HTTP/1.1",
            "got %d" % r.status)
    except Exception as ex:
        ok(True, "a client that negotiates h2 is refused (%s)" % ex.__class__.__name__)
    for alt in e.a.alt:
        h, p = hostport(alt)
        r = Client(h, p, ca=e.a.ca, token=e.token).request("GET", "/api/v1/namespaces")
        ok(r.status == 200 and "team-a" in names(r.json()),
            "the listener on %s serves the same store" % alt, str(r.status))


def check_selectors(e):
    c = e.client()
    r = c.request("GET", "/api/v1/pods?" + q(fieldSelector="spec.nodeName=node-a"))
    eq(names(r.json()), ["agent-node-a", "db-1", "job-1", "web-1"],
        "pods with fieldSelector spec.nodeName=node-a")
    r = c.request("GET", "/api/v1/nodes?" + q(fieldSelector="metadata.name=node-b"))
    eq(names(r.json()), ["node-b"], "nodes with fieldSelector metadata.name=node-b")
    r = c.request("GET", "/api/v1/pods?" + q(labelSelector="app in (web,db)"))
    eq(names(r.json()), ["db-1", "web-1", "web-2"], "pods with labelSelector app in (web,db)")
    r = c.request("GET", "/api/v1/pods?" + q(labelSelector="app!=web,!nosuch"))
    eq(names(r.json()), ["agent-node-a", "db-1", "job-1"], "labelSelector != and !key")
    r = c.request("GET", "/api/v1/namespaces/team-a/pods")
    eq(names(r.json()), ["db-1", "web-1", "web-2"], "a namespaced LIST")
    r = c.request("GET", "/api/v1/pods?" + q(labelSelector="app=nothing"))
    ok(r.status == 200 and b'"items":null' in r.body, "an empty list has \"items\":null",
        repr(r.body))
    r = c.request("GET", "/api/v1/pods?" + q(fieldSelector="spec.bogus=1"))
    ok(r.status == 400 and "field label not supported" in r.json()["message"],
        "an unsupported field selector: 400", repr(r.body[:200]))
    sel = q(labelSelector="kubernetes.io/service-name=kubernetes")
    for path in ("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
            "/apis/discovery.k8s.io/v1/endpointslices"):
        r = c.request("GET", path + "?" + sel)
        items = r.json()["items"] or []
        addrs = sorted(a for s in items for ep in s["endpoints"] for a in ep["addresses"])
        ports = {p["port"] for s in items for p in s["ports"]}
        ok(r.status == 200 and e.host in addrs and ports == {e.port},
            "kubernetes EndpointSlice via %s names the fake itself" % path,
            "%s %s" % (addrs, ports))
    e.ctl.post("/endpoints", {"addresses": [e.host, "192.0.2.7"], "port": e.port})
    r = c.request("GET", "/apis/discovery.k8s.io/v1/endpointslices?" + sel)
    addrs = sorted(a for s in r.json()["items"] for ep in s["endpoints"] for a in ep["addresses"])
    ok("192.0.2.7" in addrs, "the kubernetes EndpointSlice content is settable", str(addrs))
    e.ctl.post("/endpoints", {"addresses": [e.host] + [hostport(x)[0] for x in e.a.alt
        if not hostport(x)[0].startswith("127.")], "port": e.port})
    r = c.request("GET", "/api/v1/nodes/node-a")
    b = r.json()
    ok(r.status == 200 and b["kind"] == "Node" and b["apiVersion"] == "v1" and
        b["metadata"]["name"] == "node-a", "GET one node: kind and apiVersion set")
    r = c.request("GET", "/api/v1/namespaces/team-a/pods/web-1")
    ok(r.status == 200 and r.json()["spec"]["nodeName"] == "node-a", "GET one pod")
    r = c.request("GET", "/api/v1/nodes/nope")
    b = r.json()
    ok(r.status == 404 and b["reason"] == "NotFound" and b["details"] == {"name": "nope",
        "kind": "nodes"}, "GET a missing node: 404 NotFound", repr(b))
    r = c.request("GET", "/apis/networking.k8s.io/v1/networkpolicies")
    eq(names(r.json()), ["db-from-web", "default-deny"], "LIST networkpolicies")
    r = c.request("GET", "/api/v1/namespaces/team-a/pods/web-1")
    ok("\\u003cb\\u003e\\u0026amp;\\u003c/b\\u003e" in r.body.decode() and
        "café ✓" in r.body.decode(), "JSON is Go-encoded: <>& escaped, UTF-8 kept raw")


def check_pagination(e):
    c = e.client()
    r1 = c.request("GET", "/api/v1/pods?limit=2")
    p1 = r1.json()
    md = p1["metadata"]
    ok(len(p1["items"]) == 2 and md.get("continue") and md.get("remainingItemCount") == 3,
        "page 1 of limit=2: 2 items, a continue token, remainingItemCount 3", repr(md))
    snap = md["resourceVersion"]
    e.put(e.pod("zz-late"))  # after the snapshot: must not appear on later pages
    got = names(p1)
    pages = 1
    tok = md["continue"]
    rvs = {snap}
    while tok:
        r = c.request("GET", "/api/v1/pods?" + q(limit=2, **{"continue": tok}))
        if not ok(r.status == 200, "continue page %d" % (pages + 1), repr(r.body[:300])):
            return
        p = r.json()
        got += names(p)
        rvs.add(p["metadata"]["resourceVersion"])
        tok = p["metadata"].get("continue")
        pages += 1
    eq(pages, 3, "5 pods in pages of 2 take 3 pages")
    eq(sorted(got), ["agent-node-a", "db-1", "job-1", "web-1", "web-2"],
        "the pages are one consistent snapshot (a pod created meanwhile is absent)")
    eq(rvs, {snap}, "every page carries the first page's resourceVersion")
    r = c.request("GET", "/api/v1/pods?" + q(limit=2, resourceVersion=0))
    b = r.json()
    ok(len(b["items"]) == 6 and "continue" not in b["metadata"],
        "resourceVersion=0 is served from the cache, which ignores limit", repr(b["metadata"]))
    r = c.request("GET", "/api/v1/pods?" + q(limit=2, resourceVersion=5, **{"continue": tok or
        p1["metadata"]["continue"]}))
    eq(r.status, 400, "continue together with a resourceVersion: 400")

    # expiry by age
    e.cfg(continue_ttl=1)
    r1 = c.request("GET", "/api/v1/pods?limit=2")
    time.sleep(1.3)
    r2 = c.request("GET", "/api/v1/pods?" + q(limit=2, **{"continue": r1.json()["metadata"]
        ["continue"]}))
    b = r2.json()
    ok(r2.status == 410 and b["kind"] == "Status" and b["reason"] == "Expired" and
        b["code"] == 410 and b["message"].startswith("The provided continue parameter is too "
        "old to display a consistent list result.") and b["metadata"].get("continue"),
        "an expired continue token: 410 Expired with a new (inconsistent) token", repr(b))
    e.cfg(continue_ttl=300)
    if r2.status == 410:
        r3 = c.request("GET", "/api/v1/pods?" + q(limit=10, **{"continue":
            b["metadata"]["continue"]}))
        ok(r3.status == 200 and "zz-late" in names(r3.json()) and
            int(r3.json()["metadata"]["resourceVersion"]) == e.rv(),
            "the token from the 410 continues at the current state", repr(r3.body[:200]))

    # expiry by compaction
    r1 = c.request("GET", "/api/v1/pods?limit=2")
    e.put(e.pod("zz-late", labels={"app": "changed"}))
    e.ctl.post("/compact", {})
    r2 = c.request("GET", "/api/v1/pods?" + q(limit=2, **{"continue": r1.json()["metadata"]
        ["continue"]}))
    ok(r2.status == 410 and r2.json()["reason"] == "Expired",
        "a continue token older than the compaction: 410 Expired", str(r2.status))
    r = c.request("GET", "/api/v1/pods?" + q(resourceVersion=int(snap),
        resourceVersionMatch="Exact"))
    ok(r.status == 410 and r.json()["message"] ==
        "The resourceVersion for the provided list is too old.",
        "LIST Exact at a compacted resourceVersion: 410", repr(r.body[:200]))
    r = c.request("GET", "/api/v1/pods?" + q(resourceVersion=e.rv(),
        resourceVersionMatch="Exact"))
    eq(r.status, 200, "LIST Exact at the current resourceVersion: 200")
    r = c.request("GET", "/api/v1/pods?" + q(resourceVersionMatch="NotOlderThan"))
    eq(r.status, 422, "resourceVersionMatch without resourceVersion: 422")
    e.cfg(too_large_wait=0.3)
    r = c.request("GET", "/api/v1/pods?" + q(resourceVersion=e.rv() + 100,
        resourceVersionMatch="NotOlderThan"))
    b = r.json()
    ok(r.status == 504 and b["reason"] == "Timeout" and b["details"]["causes"][0]["reason"] ==
        "ResourceVersionTooLarge", "LIST at a future resourceVersion: 504 too large", repr(b))
    e.ctl.call("DELETE", "/objects/pods/team-a/zz-late")


def watch_in_thread(e, path, stop, token=None):
    box = {}

    def run():
        c = e.client()
        box["resp"], box["events"] = c.watch(path, stop, token)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


def wait_watches(e, n, seconds=5):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if e.ctl.get("/state")["watches"] >= n:
            return True
        time.sleep(0.02)
    return False


def check_watch(e):
    c = e.client()
    e.cfg(bookmark_interval=0.5)
    R = int(c.request("GET", "/api/v1/pods").json()["metadata"]["resourceVersion"])
    e.put(e.pod("web-2", node="node-b", labels={"app": "web", "v": "2"}), e.pod("w-new"))
    t0 = time.monotonic()
    r, ev = c.watch("/api/v1/pods?" + q(watch=1, resourceVersion=R, allowWatchBookmarks="true",
        timeoutSeconds=3))
    took = time.monotonic() - t0
    ok(r.status == 200 and r.h.get("transfer-encoding") == "chunked" and
        r.h.get("content-type") == "application/json", "WATCH: 200, chunked, application/json",
        str(r.h))
    eq([(x["type"], x["object"]["metadata"]["name"]) for x in ev[:2]],
        [("MODIFIED", "web-2"), ("ADDED", "w-new")], "WATCH from rv: exactly the events after it")
    ok(all(int(x["object"]["metadata"]["resourceVersion"]) > R for x in ev),
        "every event is newer than the requested resourceVersion")
    bms = [x for x in ev if x["type"] == "BOOKMARK"]
    ok(len(bms) >= 3 and all(b["object"]["kind"] == "Pod" and
        b["object"]["metadata"]["resourceVersion"] == str(e.rv()) for b in bms),
        "BOOKMARK events every 0.5 s carry the current resourceVersion", repr(bms[:1]))
    ok(r.complete and 2.8 <= took <= 5, "timeoutSeconds=3 ends the watch with the terminating "
        "chunk after 3 s", "complete=%s took %.2f" % (r.complete, took))
    ok(r.body.endswith(b"\n") and len(r.body.split(b"\n")) == len(ev) + 1,
        "one JSON event per line")
    eq(c.connects, 1, "the connection stays usable after a watch ends")
    r, ev = c.watch("/api/v1/pods?" + q(watch=1, resourceVersion=R, timeoutSeconds=1))
    ok("BOOKMARK" not in [x["type"] for x in ev], "no BOOKMARK without allowWatchBookmarks")

    # resourceVersion=0: synthetic ADDED for everything, then live events
    def seen_live(evs):
        return any(x["object"].get("metadata", {}).get("name") == "w-live" for x in evs)
    th, box = watch_in_thread(e, "/api/v1/pods?" + q(watch="true", resourceVersion=0,
        timeoutSeconds=10), seen_live)
    wait_watches(e, 1)
    e.put(e.pod("w-live"))
    th.join(12)
    ev = box.get("events", [])
    init = [x for x in ev if x["object"]["metadata"]["name"] != "w-live"]
    ok(len(init) == 6 and all(x["type"] == "ADDED" for x in init),
        "WATCH rv=0: synthetic ADDED for all 6 pods", str([x["type"] for x in ev]))
    ok(ev and ev[-1]["type"] == "ADDED" and ev[-1]["object"]["metadata"]["name"] == "w-live",
        "then the live event of a pod created meanwhile")

    # a field-selected watch sees pods leave and enter its selection
    R = e.rv()
    e.put(e.pod("w-new", node="node-b"))
    e.put(e.pod("w-new", node="node-a"))
    e.ctl.call("DELETE", "/objects/Pod/team-a/w-new")
    r, ev = c.watch("/api/v1/pods?" + q(watch=1, resourceVersion=R, timeoutSeconds=1,
        fieldSelector="spec.nodeName=node-a"))
    eq([(x["type"], x["object"]["metadata"]["name"]) for x in ev],
        [("DELETED", "w-new"), ("ADDED", "w-new"), ("DELETED", "w-new")],
        "spec.nodeName watch: moving away is DELETED, back is ADDED, then the real DELETED")
    ok(ev and int(ev[-1]["object"]["metadata"]["resourceVersion"]) == e.rv(),
        "a DELETED event carries the deletion's resourceVersion")

    # WatchList
    r, ev = c.watch("/api/v1/namespaces/team-a/pods?" + q(watch=1, sendInitialEvents="true",
        resourceVersionMatch="NotOlderThan", allowWatchBookmarks="true", timeoutSeconds=1))
    kinds = [x["type"] for x in ev]
    n = kinds.index("BOOKMARK") if "BOOKMARK" in kinds else -1
    ok(n >= 3 and set(kinds[:n]) == {"ADDED"} and ev[n]["object"]["metadata"].get(
        "annotations") == {"k8s.io/initial-events-end": "true"},
        "sendInitialEvents: ADDED for each pod, then a BOOKMARK marked initial-events-end",
        str(kinds))
    r = c.request("GET", "/api/v1/pods?" + q(watch=1, resourceVersionMatch="NotOlderThan",
        resourceVersion=R))
    eq(r.status, 422, "resourceVersionMatch on a watch without sendInitialEvents: 422")
    e.ctl.call("DELETE", "/objects/Pod/team-a/w-live")
    e.cfg(bookmark_interval=60)


def check_410(e):
    c = e.client()
    R = e.rv()
    e.put(e.pod("w-410"))
    floor = int(e.ctl.post("/compact", {})["floor"])
    r, ev = c.watch("/api/v1/pods?" + q(watch=1, resourceVersion=R, timeoutSeconds=5))
    eq((r.status, r.complete, ev), (200, True, [{"type": "ERROR", "object": {"kind": "Status",
        "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "too old resource version: %d (%d)" % (R, floor), "reason": "Expired",
        "code": 410}}]), "a compacted resourceVersion: 200 and one ERROR event, then the end")
    e.cfg(too_old="http")
    r = c.request("GET", "/api/v1/pods?" + q(watch=1, resourceVersion=R))
    eq((r.status, r.json()), (410, {"kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": "too old resource version: %d (%d)" % (R, floor),
        "reason": "Expired", "code": 410}), "the same as HTTP 410 when configured so")
    e.cfg(too_old="event")
    e.cfg(history=3)
    R = e.rv()
    for i in range(5):
        e.put(e.pod("w-410", labels={"i": str(i)}))
    r, ev = c.watch("/api/v1/pods?" + q(watch=1, resourceVersion=R, timeoutSeconds=1))
    ok(ev and ev[0]["type"] == "ERROR" and ev[0]["object"]["code"] == 410,
        "an event window of 3 drops older versions: 410", repr(ev[:1]))
    r, ev = c.watch("/api/v1/pods?" + q(watch=1, resourceVersion=e.rv() - 3, timeoutSeconds=1))
    eq([x["type"] for x in ev], ["MODIFIED"] * 3, "versions inside the window still resume")
    e.cfg(history=1000)
    e.ctl.call("DELETE", "/objects/Pod/team-a/w-410")


def utf8_broken(b):
    try:
        b.decode("utf-8")
        return False
    except UnicodeDecodeError:
        return True


def check_chunks(e):
    c = e.client()
    R = e.rv()
    web1 = c.request("GET", "/api/v1/namespaces/team-a/pods/web-1").json()
    web1["metadata"]["labels"]["rev"] = "1"
    e.put(web1)
    web1["metadata"]["labels"]["rev"] = "2"
    e.put(web1)
    path = "/api/v1/pods?" + q(watch=1, resourceVersion=R, timeoutSeconds=1)
    ref, ref_ev = c.watch(path)
    eq(len(ref_ev), 2, "normal mode: the two events")
    for mode in ("split", "bytes", "random"):
        e.cfg(chunk_mode=mode)
        r, ev = c.watch(path)
        ok(r.complete and ev == ref_ev, "%s mode: the de-chunked stream holds the same events"
            % mode, "complete=%s %d events" % (r.complete, len(ev)))
        if mode == "split":
            ok(any(utf8_broken(x) for x in r.chunks), "split mode: a chunk ends inside a "
                "UTF-8 sequence")
            ok(any(b"\n" not in x and x[:1] == b"{" for x in r.chunks),
                "split mode: an event starts in a chunk that does not finish it")
            ok(any(len(x) == 1 for x in r.chunks), "split mode: 1-byte chunks occur")
            ok(any(x.startswith(b"\n{") for x in r.chunks),
                "split mode: a chunk holds the end of one event and the start of the next")
        if mode == "bytes":
            ok(all(len(x) == 1 for x in r.chunks) and len(r.chunks) == len(ref.body),
                "bytes mode: every chunk is 1 byte")
        lst = c.request("GET", "/api/v1/pods")
        ok(lst.status == 200 and len(lst.json()["items"]) == 5,
            "%s mode: a chunked LIST decodes too" % mode)
    e.cfg(chunk_mode="normal")


def check_faults(e):
    c = e.client()
    e.ctl.post("/faults", {"code": 429, "retry_after": 2, "count": 2, "verb": "LIST",
        "path": "/api/v1/pods"})
    got = []
    for i in range(3):
        r = c.request("GET", "/api/v1/pods")
        got.append((r.status, r.h.get("retry-after"), r.json().get("reason") if r.status ==
            429 else None, (r.json().get("details") or {}).get("retryAfterSeconds")
            if r.status == 429 else None))
    eq(got, [(429, "2", "TooManyRequests", 2)] * 2 + [(200, None, None, None)],
        "429 with Retry-After for the next 2 LISTs, then 200")
    eq(c.connects, 1, "429s keep the connection alive")
    r = c.request("GET", "/api/v1/nodes")
    eq(r.status, 200, "the 429 rule matched only pods")
    e.ctl.post("/faults", [{"code": 500, "verb": "GET"}, {"code": 503, "retry_after": 1}])
    r1 = c.request("GET", "/api/v1/nodes/node-a")
    r2 = c.request("GET", "/api/v1/nodes")
    ok(r1.status == 500 and r1.json()["reason"] == "InternalError" and r2.status == 503 and
        r2.h.get("retry-after") == "1", "500 and 503 faults", "%d %d" % (r1.status, r2.status))

    R = e.rv()
    for i in range(3):
        e.put(e.pod("w-fault", labels={"i": str(i)}))
    path = "/api/v1/pods?" + q(watch=1, resourceVersion=R, timeoutSeconds=2)
    e.ctl.post("/faults", {"action": "cut", "verb": "WATCH", "after_events": 1})
    r, ev = e.client().watch(path)
    ok(len(ev) == 1 and not r.complete and "inside a chunk" in (r.error or ""),
        "cut: one whole event, then the connection ends inside the next one's chunk",
        "%d events, %s" % (len(ev), r.error))
    e.ctl.post("/faults", {"action": "cut", "verb": "WATCH", "after_events": 2,
        "where": "between"})
    r, ev = e.client().watch(path)
    ok(len(ev) == 2 and not r.complete and "between chunks" in (r.error or "") and
        not r.body.endswith(b"\n"), "cut between chunks: the last chunk held half an event",
        "%d events, %s" % (len(ev), r.error))
    e.ctl.post("/faults", {"action": "stall", "verb": "LIST", "seconds": 1.5})
    r = e.client().request("GET", "/api/v1/nodes")
    ok(r.status == 200 and r.t_first >= 1.4, "stall: no byte for 1.5 s, then the answer",
        "%.2f s" % r.t_first)
    e.ctl.post("/faults", {"action": "stall", "verb": "WATCH", "seconds": 1.2,
        "after_events": 1})
    r, ev = e.client().watch(path)
    gaps = [b - a for a, b in zip(r.times, r.times[1:])]
    ok(len(ev) == 3 and gaps and max(gaps) >= 1.1, "stall after one watch event",
        "%d events, gaps %s" % (len(ev), gaps))
    e.ctl.post("/faults", {"action": "close_after_headers", "verb": "LIST"})
    r = e.client().request("GET", "/api/v1/pods")
    ok(r.status == 200 and not r.complete, "close after headers: 200, then no body",
        "%d complete=%s" % (r.status, r.complete))
    e.ctl.post("/faults", {"action": "close_after_headers", "verb": "WATCH"})
    r, ev = e.client().watch(path)
    ok(r.status == 200 and not r.complete and not ev, "close after headers on a watch")
    e.ctl.post("/faults", {"action": "drop"})
    r = e.client().request("GET", "/version")
    ok(r.status == 0 and r.error, "drop: the connection closes without an answer", r.error)
    e.ctl.post("/faults", {"action": "reset"})
    r = e.client().request("GET", "/version")
    ok(r.status == 0 and r.error, "reset: the connection is reset", r.error)
    e.ctl.post("/faults", {"action": "empty", "verb": "WATCH"})
    t0 = time.monotonic()
    r, ev = e.client().watch(path)
    ok(r.status == 200 and r.complete and not ev and time.monotonic() - t0 < 1,
        "empty: a watch that ends at once")
    e.ctl.post("/faults", {"action": "error_event", "code": 500, "verb": "WATCH",
        "after_events": 1})
    r, ev = e.client().watch(path)
    ok(r.complete and len(ev) == 2 and ev[1]["type"] == "ERROR" and
        ev[1]["object"]["code"] == 500, "error_event: an ERROR event mid-stream, then the end")
    eq(e.ctl.get("/faults"), [], "spent fault rules are gone")

    # ending open watches from the control API
    for mode, want in (("clean", True), ("cut", False)):
        th, box = watch_in_thread(e, "/api/v1/nodes?" + q(watch=1, resourceVersion=e.rv(),
            timeoutSeconds=20), None)
        wait_watches(e, 1)
        n = e.ctl.post("/watches/close", {"mode": mode})["closed"]
        th.join(5)
        r = box.get("resp")
        ok(n == 1 and r is not None and r.complete == want,
            "/watches/close %s ends the open watch %s" % (mode, "cleanly" if want else
            "abruptly"), "n=%d complete=%s" % (n, r and r.complete))
    th, box = watch_in_thread(e, "/api/v1/nodes?" + q(watch=1, resourceVersion=e.rv(),
        timeoutSeconds=20), None)
    wait_watches(e, 1)
    e.ctl.post("/watches/close", {"mode": "error", "code": 410})
    th.join(5)
    ev = box.get("events") or []
    ok(ev and ev[-1]["type"] == "ERROR" and ev[-1]["object"]["reason"] == "Expired",
        "/watches/close error sends an ERROR 410 event")
    e.ctl.call("DELETE", "/objects/Pod/team-a/w-fault")


def netunavail(status, reason="VirgilIsUp"):
    return {"type": "NetworkUnavailable", "status": status, "reason": reason,
        "message": "virgil is running on this node",
        "lastHeartbeatTime": "2026-01-01T00:00:00Z", "lastTransitionTime": "2026-01-01T00:00:00Z"}


def check_patch(e):
    c = e.client()
    SMP = {"Content-Type": "application/strategic-merge-patch+json"}
    MP = {"Content-Type": "application/merge-patch+json"}
    path = "/api/v1/nodes/node-a/status"
    e.ctl.call("DELETE", "/patches")
    before = c.request("GET", "/api/v1/nodes/node-a").json()
    R = e.rv()
    body = json.dumps({"status": {"conditions": [netunavail("False")]}}, separators=(",", ":"))
    r = c.request("PATCH", path, body, SMP)
    n = r.json()
    types = [x["type"] for x in n["status"]["conditions"]]
    eq(types, ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready", "NetworkUnavailable"],
        "strategic merge adds NetworkUnavailable and keeps the kubelet's conditions")
    ok(n["status"]["conditions"][:4] == before["status"]["conditions"],
        "the other conditions are untouched")
    ok(int(n["metadata"]["resourceVersion"]) > R, "the patch bumps the resourceVersion")
    p = e.ctl.get("/patches")
    eq([(x["verb"], x["path"], x["contentType"], x["body"], x["code"]) for x in p],
        [("PATCH", path, "application/strategic-merge-patch+json", body, 200)],
        "the patch is recorded with its content type and exact body")
    R2 = n["metadata"]["resourceVersion"]
    r = c.request("PATCH", path, body, SMP)
    eq(r.json()["metadata"]["resourceVersion"], R2, "the same patch again is a no-op: "
        "resourceVersion unchanged")
    r = c.request("PATCH", path, json.dumps({"status": {"conditions": [netunavail("True",
        "VirgilIsDown")]}}), SMP)
    cs = r.json()["status"]["conditions"]
    ok(len(cs) == 5 and cs[4]["status"] == "True" and cs[4]["reason"] == "VirgilIsDown",
        "a second condition patch updates the entry in place", repr(cs[-1]))
    r, ev = c.watch("/api/v1/nodes?" + q(watch=1, resourceVersion=R, timeoutSeconds=1,
        fieldSelector="metadata.name=node-a"))
    eq([x["type"] for x in ev], ["MODIFIED", "MODIFIED"], "watchers of the node see MODIFIED "
        "per effective patch")
    r = c.request("PATCH", path, json.dumps({"spec": {"unschedulable": True},
        "metadata": {"annotations": {"virgil.test/addr": "10.0.0.1"}}}), SMP)
    n = r.json()
    ok("unschedulable" not in n["spec"] and n["metadata"]["annotations"].get(
        "virgil.test/addr") == "10.0.0.1", "PATCH of /status ignores spec, takes annotations")
    r = c.request("PATCH", path, json.dumps({"status": {"conditions": [netunavail("False")]}}),
        MP)
    eq([x["type"] for x in r.json()["status"]["conditions"]], ["NetworkUnavailable"],
        "a merge-patch+json replaces the whole conditions list (as a real server does)")
    e.put(before)
    r = c.request("PATCH", path, json.dumps([{"op": "add", "path": "/status/conditions/-",
        "value": netunavail("False")}]), {"Content-Type": "application/json-patch+json"})
    eq(len(r.json()["status"]["conditions"]), 5, "a json-patch appends a condition")
    rv = r.json()["metadata"]["resourceVersion"]
    r = c.request("PATCH", path, json.dumps({"metadata": {"resourceVersion": str(int(rv) - 1)},
        "status": {"phase": "x"}}), SMP)
    eq((r.status, r.json().get("reason")), (409, "Conflict"), "a stale resourceVersion "
        "precondition: 409 Conflict")
    r = c.request("PATCH", path, "{}", {"Content-Type": "application/json"})
    eq((r.status, r.json().get("reason")), (415, "UnsupportedMediaType"),
        "PATCH as application/json: 415")
    r = c.request("PATCH", "/api/v1/nodes/nope/status", body, SMP)
    eq(r.status, 404, "PATCH of a missing node: 404")
    r = c.request("PATCH", path, "{not json", SMP)
    eq(r.status, 400, "PATCH with malformed JSON: 400")
    r = c.request("PATCH", path, json.dumps({"status": {"conditions": [{"status": "x"}]}}), SMP)
    eq(r.status, 422, "a condition without its merge key: 422")
    p = e.ctl.get("/patches")
    eq([x["code"] for x in p], [200, 200, 200, 200, 200, 200, 409, 415, 404, 400, 422],
        "every PATCH is recorded, failed ones too")
    e.put(before)


def check_tokens(e):
    tf = e.a.token_file
    old = e.token
    c = e.client()
    eq(c.request("GET", "/api/v1/nodes").status, 200, "the first token works")

    def write(text):
        with open(tf + ".new", "w") as f:
            f.write(text)
        os.rename(tf + ".new", tf)
    write("rotated-token-2\n")
    r = c.request("GET", "/api/v1/nodes")
    eq(r.status, 401, "after rotation the old token gets 401 (the file is re-read)")
    eq(c.connects, 1, "a 401 keeps the connection")
    r = c.request("GET", "/api/v1/nodes", token="rotated-token-2")
    eq(r.status, 200, "the new token works on the same connection")
    write("%s\n  rotated-token-2  \n" % old)
    ok(c.request("GET", "/api/v1/nodes").status == 200 and
        c.request("GET", "/api/v1/nodes", token="rotated-token-2").status == 200,
        "a file with two lines holds two valid tokens (whitespace trimmed)")
    write(old + "\n")


def check_requests(e):
    c = e.client()
    e.ctl.call("DELETE", "/requests")
    t0 = time.time()
    for _ in range(3):
        c.request("GET", "/api/v1/pods")
    c.request("GET", "/api/v1/nodes/node-a")
    c.watch("/api/v1/pods?" + q(watch=1, resourceVersion=e.rv(), timeoutSeconds=0.3))
    st = e.ctl.get("/requests")
    cnt = st["counts"]
    eq((cnt.get("LIST /api/v1/pods"), cnt.get("GET /api/v1/nodes/node-a"),
        cnt.get("WATCH /api/v1/pods"), st["total"]), (3, 1, 1, 5),
        "request counters per verb and path")
    ok(all(x["t"] >= t0 and x["code"] == 200 and x["conn"] for x in st["log"]) and
        len(st["log"]) == 5, "the request log has time, connection and code")
    eq(st["connections"], 1, "and the connection count")


def check_mtls(e):
    h, p = hostport(e.a.mtls)
    r = Client(h, p, ca=e.a.ca).request("GET", "/api/v1/nodes")
    ok(r.status == 0 and r.error, "client certificate required: a client without one fails",
        "%s %s" % (r.status, r.error))
    r = Client(h, p, ca=e.a.ca, cert=e.a.client_cert, key=e.a.client_key).request(
        "GET", "/api/v1/nodes")
    eq(r.status, 200, "with a client certificate, no token needed")


def check_gzip(e):
    c = e.client()
    pods = [e.pod("bulk-%03d" % i, ns="bulk", ann={"pad": "x" * 1024}) for i in range(150)]
    e.put(*pods)
    r = c.request("GET", "/api/v1/namespaces/bulk/pods", headers={"Accept-Encoding": "gzip"})
    ok(r.h.get("content-encoding") == "gzip" and
        len(json.loads(gzip.decompress(r.body))["items"]) == 150,
        "a LIST over 128 KiB is gzipped when the client accepts gzip")
    r = c.request("GET", "/api/v1/namespaces/bulk/pods")
    ok("content-encoding" not in r.h and len(r.json()["items"]) == 150,
        "and sent plain when it does not")


def check_more(e):
    c = e.client()
    # limit + a non-zero resourceVersion without resourceVersionMatch is an Exact read
    R = e.rv()
    e.put(e.pod("m-1"))
    r = c.request("GET", "/api/v1/pods?" + q(limit=50, resourceVersion=R))
    ok(r.status == 200 and r.json()["metadata"]["resourceVersion"] == str(R) and
        "m-1" not in names(r.json()), "limit with resourceVersion=X lists exactly at X")
    r = c.request("GET", "/api/v1/pods?" + q(resourceVersion=R))
    ok("m-1" in names(r.json()), "without limit resourceVersion=X means not older than X")

    # a lagging watch cache: resourceVersion=0 reads may be older than what a client saw
    e.ctl.post("/cache", {"frozen": True})
    e.put(e.pod("m-2"))
    r0 = c.request("GET", "/api/v1/pods?resourceVersion=0").json()
    r1 = c.request("GET", "/api/v1/pods").json()
    ok("m-2" not in names(r0) and "m-2" in names(r1) and int(r0["metadata"]
        ["resourceVersion"]) < int(r1["metadata"]["resourceVersion"]),
        "a frozen cache: resourceVersion=0 lists an older state than a consistent list")
    r, ev = c.watch("/api/v1/pods?" + q(watch=1, resourceVersion=0, timeoutSeconds=0.5))
    ok([x["object"]["metadata"]["name"] for x in ev].count("m-2") == 1 and
        ev[-1]["object"]["metadata"]["name"] == "m-2",
        "a watch from the frozen cache catches up with the newer events")
    e.ctl.post("/cache", {"frozen": False})

    # page quirks a client must accept
    e.cfg(pages="short")
    r = c.request("GET", "/api/v1/pods?limit=4").json()
    ok(len(r["items"]) == 2 and r["metadata"].get("continue"), "short pages: fewer items "
        "than limit, with a continue token")
    e.cfg(pages="empty")
    r = c.request("GET", "/api/v1/pods?limit=4").json()
    ok(r["items"] is None and r["metadata"].get("continue"), "an empty first page with a "
        "continue token")
    got, tok = [], r["metadata"]["continue"]
    while tok:
        p = c.request("GET", "/api/v1/pods?" + q(limit=4, **{"continue": tok})).json()
        got += names(p)
        tok = p["metadata"].get("continue")
    eq(sorted(got), names(c.request("GET", "/api/v1/pods").json()),
        "and the following pages hold everything")
    e.cfg(pages="exact")
    code, _ = e.ctl.call("POST", "/config", {"chunk_mode": "wobbly"})
    eq(code, 400, "the control API refuses an unknown chunk mode")

    # WatchList refused like a server without the feature
    e.cfg(watchlist=False)
    r = c.request("GET", "/api/v1/pods?" + q(watch=1, sendInitialEvents="true",
        resourceVersionMatch="NotOlderThan", allowWatchBookmarks="true"))
    ok(r.status == 422 and "WatchList" in r.json()["message"], "sendInitialEvents without "
        "the WatchList feature: 422")
    e.cfg(watchlist=True)

    # writes through the API
    ev = {"metadata": {"generateName": "virgil-"}, "reason": "Started",
        "message": "m", "involvedObject": {"kind": "Node", "name": "node-a"}}
    r = c.request("POST", "/api/v1/namespaces/default/events", ev)
    ok(r.status == 201 and r.json()["metadata"]["name"].startswith("virgil-"),
        "POST creates (201) and fills generateName")
    r = c.request("POST", "/api/v1/namespaces/team-a/pods", e.pod("m-1"))
    eq((r.status, r.json().get("reason")), (409, "AlreadyExists"), "POST of an existing name: "
        "409")
    cur = c.request("GET", "/api/v1/namespaces/team-a/pods/m-1").json()
    cur["metadata"]["labels"] = {"app": "put"}
    r = c.request("PUT", "/api/v1/namespaces/team-a/pods/m-1", cur)
    ok(r.status == 200 and r.json()["metadata"]["labels"] == {"app": "put"}, "PUT replaces")
    r = c.request("PUT", "/api/v1/namespaces/team-a/pods/m-1", cur)
    eq(r.status, 409, "PUT with the old resourceVersion again: 409")
    r = c.request("DELETE", "/api/v1/namespaces/team-a/pods/m-1")
    eq(r.status, 200, "DELETE through the API")
    ok(any(w["verb"] == "DELETE" for w in e.ctl.get("/writes")), "writes are recorded")
    e.ctl.call("DELETE", "/objects/Pod/team-a/m-2")

    # a watch whose client went away is dropped, as the apiserver's request context ends
    base = e.ctl.get("/state")["watches"]
    r, ev = e.client().watch("/api/v1/nodes?" + q(watch=1, resourceVersion=0,
        timeoutSeconds=60), lambda evs: len(evs) >= 1)
    end = time.monotonic() + 3
    while e.ctl.get("/state")["watches"] > base and time.monotonic() < end:
        time.sleep(0.05)
    eq(e.ctl.get("/state")["watches"], base, "a watch is dropped when its client closes")


def check_sigterm(e, pid):
    th, box = watch_in_thread(e, "/api/v1/pods?" + q(watch=1, resourceVersion=e.rv(),
        timeoutSeconds=30), None)
    wait_watches(e, 1)
    t0 = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    th.join(5)
    r = box.get("resp")
    ok(r is not None and r.complete and time.monotonic() - t0 < 3,
        "SIGTERM ends open watches with the terminating chunk")


def main(argv):
    p = argparse.ArgumentParser()
    p.add_argument("--api", required=True)
    p.add_argument("--alt", action="append", default=[])
    p.add_argument("--ca", required=True)
    p.add_argument("--token-file", required=True)
    p.add_argument("--control", required=True)
    p.add_argument("--mtls")
    p.add_argument("--client-cert")
    p.add_argument("--client-key")
    p.add_argument("--term-pid", type=int)
    p.add_argument("--only", default="")
    a = p.parse_args(argv)
    e = Env(a)
    groups = [check_basics, check_selectors, check_pagination, check_watch, check_410,
        check_chunks, check_faults, check_patch, check_tokens, check_requests, check_more,
        check_gzip]
    if a.mtls:
        groups.append(check_mtls)
    for g in groups:
        if a.only and a.only not in g.__name__:
            continue
        print("# %s" % g.__name__, flush=True)
        try:
            g(e)
        except Exception:
            ok(False, "%s raised" % g.__name__, traceback.format_exc().replace("\n", "\n# "))
        e.ctl.call("DELETE", "/faults")
    if a.term_pid:
        print("# check_sigterm", flush=True)
        try:
            check_sigterm(e, a.term_pid)
        except Exception:
            ok(False, "check_sigterm raised", traceback.format_exc().replace("\n", "\n# "))
    print("%d passed, %d failed" % (PASSED, FAILED), flush=True)
    return 0 if FAILED == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
