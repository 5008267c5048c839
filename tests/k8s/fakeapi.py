#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""fakeapi.py: a fake kube-apiserver for Virgil's tests (Python 3 standard library only).

It owns the wire behaviour a node agent's API client meets: HTTPS (server cert, optional client
certificates, bearer tokens re-read from a file on every request, anonymous 403 vs bad-token 401),
HTTP/1.1 keep-alive with Go-like framing (Content-Length up to 2 KiB, chunked above, gzip at
128 KiB when asked), LIST with resourceVersion semantics and expiring continue tokens, WATCH with
history, compaction, bookmarks, timeouts and both kinds of 410, PATCH with strategic-merge, merge
and JSON patches (recorded for assertions), and faults injected on demand. A plain-HTTP control
listener on loopback (or a unix socket) lets a test drive the store and read what happened.

The store keeps one global resourceVersion counter (numbers inside, strings on the wire) and a
per-kind event history that remembers each object's previous state, so a LIST continue page can
be served from the snapshot of its first page and a watch can resume from any version still in
the window. Behaviour follows /work/shared/reference/k8s-client.md; run with --help for the CLI,
and see the CONTROL API block below for the test interface.
"""

import argparse
import base64
import collections
import copy
import email.utils
import gzip
import http
import http.server
import json
import os
import random
import re
import select
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import urllib.parse
import uuid

CONTROL_API = """
CONTROL API (plain HTTP, JSON bodies and answers):
  GET    /healthz                      "ok"
  GET    /state                        resourceVersion, per-kind floors and counts, config, watches
  GET    /objects[/KIND[/NS/NAME]]     stored objects (NS "-" for cluster-scoped kinds)
  POST   /objects                      create or replace: an object, a JSON array, or a *List;
                                       bumps the resourceVersion and emits watch events
  DELETE /objects/KIND/NS/NAME         delete (KIND: Pod, pods, node, ...)
  POST   /faults                       add rule(s), see FAULTS; GET lists them, DELETE clears
  GET    /patches                      every PATCH received: verb, path, contentType, body, code
  GET    /writes                       every write (POST, PUT, PATCH, DELETE) on the API port
  DELETE /patches                      forget recorded writes
  GET    /requests[?since=T]           {total, counts{"VERB path"}, codes, connections, log[]}
  DELETE /requests                     reset the counters and the log
  POST   /compact  {"kind"?, "rv"?}    drop history up to rv (default: now): old watches get 410,
                                       continue tokens of older snapshots expire
  POST   /config   {...}               change settings at run time (same names as the flags,
                                       with underscores: chunk_mode, bookmark_interval, ...)
  POST   /cache    {"frozen": bool}    freeze the "watch cache": resourceVersion=0 reads lag behind
  POST   /endpoints {"addresses":[..], "port":N}  content of the default/kubernetes EndpointSlice
  POST   /watches/close {"mode": "clean"|"cut"|"error", "code"?, "kind"?}  end open watches now

FAULTS: {"action": A, "count": N (default 1, -1 forever), "verb": "LIST"|["WATCH",..],
         "path": "/api/v1/pods" (prefix), "regex": "...", "watch": bool, ...}
  status               answer "code" (429 adds Retry-After "retry_after", default 1) with a
                       real-looking Status; "message", "reason" override. {"code":N} alone = this
  stall                no byte for "seconds"; then go on ("then": "continue") or close ("close").
                       With "after_events": K on a watch, the stall comes after K events
  cut                  close mid-body: watches after "after_events" K whole events, halfway
                       through event K+1, inside its chunk ("where": "chunk") or after a chunk
                       holding half of it ("where": "between")
  close_after_headers  send the status line and headers, then close
  drop | reset         close without answering (FIN | RST)
  empty                a watch that ends at once: 200, then the terminating chunk
  error_event          on a watch after K events: an ERROR event with Status "code", then end
  end                  on a watch after K events: end cleanly (terminating chunk)
"""

# ------------------------------------------------------------------------------------------
# Resource table

KINDS = {
    # kind: (plural, group, namespaced, has status subresource, extra field selectors)
    "Node": ("nodes", "", False, True, ("spec.unschedulable",)),
    "Namespace": ("namespaces", "", False, True, ("status.phase",)),
    "Pod": ("pods", "", True, True, ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
        "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
        "status.nominatedNodeName")),
    "Service": ("services", "", True, True, ("spec.clusterIP", "spec.type")),
    "NetworkPolicy": ("networkpolicies", "networking.k8s.io", True, False, ()),
    "EndpointSlice": ("endpointslices", "discovery.k8s.io", True, False, ("addressType",)),
    "Event": ("events", "", True, False, ()),
}
BOOL_FIELDS = ("spec.hostNetwork", "spec.unschedulable")
BY_PLURAL = {(v[1], v[0]): k for k, v in KINDS.items()}
EVENTS_GROUP_KIND = ("events.k8s.io", "events")

# Strategic merge: lists merged by key (patchMergeKey) or as sets, per kind and field path.
MERGE_KEYS = {
    ("Node", "status.conditions"): "type",
    ("Node", "status.addresses"): "type",
    ("Node", "spec.taints"): "key",
    ("Node", "status.volumesAttached"): "name",
    ("Pod", "status.conditions"): "type",
    ("Pod", "spec.containers"): "name",
    ("Pod", "spec.initContainers"): "name",
    ("Pod", "spec.volumes"): "name",
    ("*", "metadata.ownerReferences"): "uid",
}
MERGE_SETS = {("*", "metadata.finalizers"), ("Node", "spec.podCIDRs")}

PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
    "application/apply-patch+yaml", "application/strategic-merge-patch+json")

REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
    405: "MethodNotAllowed", 409: "Conflict", 410: "Expired", 413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType", 422: "Invalid", 429: "TooManyRequests", 500: "InternalError",
    503: "ServiceUnavailable", 504: "Timeout"}

GZIP_MIN = 128 * 1024  # apiserver defaultGzipThresholdBytes
CHUNK_AFTER = 2048  # Go net/http: bigger unsized bodies go chunked
MAX_BODY = 3 * 1024 * 1024  # apiserver request body limit
EXPIRED_LIST = "The resourceVersion for the provided list is too old."
EXPIRED_CONTINUE = ("The provided continue parameter is too old to display a consistent list "
    "result. You can start a new list without the continue parameter, or use the continue token "
    "in this response to retrieve the remainder of the results. Continuing with the provided "
    "token results in an inconsistent list - objects that were created, modified, or deleted "
    "between the time the first chunk was returned and now may show up in the list.")

LOG_LOCK = threading.Lock()


def log(msg):
    with LOG_LOCK:
        sys.stderr.write("fakeapi: %s\n" % msg)
        sys.stderr.flush()


def now_rfc3339():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def gojson(obj):
    """Compact JSON as Go's encoding/json writes it: UTF-8, with <, >, & and U+2028/9 escaped."""
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
            ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        s = s.replace(a, b)
    return s.encode("utf-8", "replace")


def api_version(kind):
    g = KINDS[kind][1]
    return g + "/v1" if g else "v1"


def obj_key(kind, obj):
    md = obj.get("metadata") or {}
    return "%s/%s" % (md.get("namespace", ""), md.get("name")) if KINDS[kind][2] else md.get("name")


META_ORDER = ("name", "generateName", "namespace", "selfLink", "uid", "resourceVersion",
    "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
    "labels", "annotations", "ownerReferences", "finalizers", "managedFields")


def go_meta(md):
    """ObjectMeta with its keys in the order Go's encoder writes them."""
    out = {k: md[k] for k in META_ORDER if k in md}
    out.update((k, v) for k, v in md.items() if k not in out)
    return out


def status_obj(code, message, reason=None, details=None, meta=None):
    st = {"kind": "Status", "apiVersion": "v1", "metadata": meta or {}, "status": "Failure",
        "message": message, "reason": reason or REASONS.get(code, "Unknown")}
    if details is not None:
        st["details"] = details
    st["code"] = code
    return st


class ApiError(Exception):
    def __init__(self, code, message, reason=None, details=None, meta=None, headers=()):
        super().__init__(message)
        self.code = code
        self.status = status_obj(code, message, reason, details, meta)
        self.headers = list(headers)


def too_large(want, cur):
    return ApiError(504, "Timeout: Too large resource version: %d, current: %d" % (want, cur),
        "Timeout", {"causes": [{"reason": "ResourceVersionTooLarge",
        "message": "Too large resource version"}], "retryAfterSeconds": 1})


def kind_of(name):
    """A kind from "Pod", "pod", "pods"."""
    for k, v in KINDS.items():
        if name.lower() in (k.lower(), v[0]):
            return k
    raise ApiError(404, "unknown kind %r" % name)


# ------------------------------------------------------------------------------------------
# Selectors

def field_value(obj, path):
    cur = obj
    for p in path.split("."):
        cur = cur.get(p) if isinstance(cur, dict) else None
    if isinstance(cur, bool):
        return "true" if cur else "false"
    if cur is None:
        return "false" if path in BOOL_FIELDS else ""
    return str(cur)


def parse_fields(kind, text):
    allowed = ("metadata.name", "metadata.namespace") + KINDS[kind][4]
    reqs = []
    for term in filter(None, (text or "").split(",")):
        m = re.fullmatch(r"\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*", term)
        if not m:
            raise ApiError(400, "invalid field selector: %r" % term)
        if m.group(1) not in allowed:
            raise ApiError(400, "field label not supported: %s" % m.group(1))
        reqs.append((m.group(1), m.group(2) != "!=", m.group(3)))
    return reqs


def fields_match(reqs, obj):
    return all((field_value(obj, f) == v) == eq for f, eq, v in reqs)


LABEL_RE = re.compile(r"\s*(!?)\s*([A-Za-z0-9][-A-Za-z0-9_./]*)\s*"
    r"(?:(==|=|!=|>|<)\s*([-A-Za-z0-9_.]*)|\s(in|notin)\s*\(([^)]*)\))?\s*")


def parse_labels(text):
    reqs = []
    terms = re.findall(r"(?:[^,(]|\([^)]*\))+", text or "")
    for term in terms:
        if not term.strip():
            continue
        m = LABEL_RE.fullmatch(term)
        if not m or (m.group(1) and (m.group(3) or m.group(5))):
            raise ApiError(400, "unable to parse requirement: %r" % term.strip())
        neg, key, op, val, setop, vals = m.groups()
        if op:
            reqs.append((key, {"==": "=", "=": "="}.get(op, op), [val]))
        elif setop:
            reqs.append((key, setop, [v.strip() for v in vals.split(",")]))
        else:
            reqs.append((key, "!" if neg else "exists", []))
    return reqs


def labels_match(reqs, obj):
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for key, op, vals in reqs:
        have = key in labels
        v = labels.get(key)
        ok = {"=": have and v == vals[0], "!=": not have or v != vals[0],
            "in": have and v in vals, "notin": not have or v not in vals,
            "exists": have, "!": not have}.get(op)
        if ok is None:  # > and <: integer comparison, absent or non-integer fails
            try:
                ok = have and (int(v) > int(vals[0]) if op == ">" else int(v) < int(vals[0]))
            except ValueError:
                ok = False
        if not ok:
            return False
    return True


# ------------------------------------------------------------------------------------------
# Patches

def merge_key(kind, path):
    return MERGE_KEYS.get((kind, path)) or MERGE_KEYS.get(("*", path))


def strategic_merge(kind, orig, patch, path=""):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    out = dict(orig) if isinstance(orig, dict) else {}
    for k, v in patch.items():
        sub = path + "." + k if path else k
        if k.startswith("$setElementOrder/") or k in ("$retainKeys", "$patch"):
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            name = k.split("/", 1)[1]
            out[name] = [x for x in out.get(name) or [] if x not in v]
            continue
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict):
            out[k] = strategic_merge(kind, out.get(k), v, sub)
        elif isinstance(v, list) and merge_key(kind, sub):
            out[k] = merge_list(kind, out.get(k) or [], v, merge_key(kind, sub), sub)
        elif isinstance(v, list) and ((kind, sub) in MERGE_SETS or ("*", sub) in MERGE_SETS):
            cur = list(out.get(k) or [])
            out[k] = cur + [x for x in v if x not in cur]
        else:
            out[k] = copy.deepcopy(v)
    return out


def merge_list(kind, orig, patch, key, path):
    out = [copy.deepcopy(x) for x in orig]
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise ApiError(422, "map: %s does not contain declared merge key: %s" %
                (json.dumps(item), key))
        idx = next((i for i, x in enumerate(out) if isinstance(x, dict) and
            x.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                del out[idx]
        elif idx is None:
            out.append(strategic_merge(kind, {}, item, path))
        else:
            out[idx] = strategic_merge(kind, out[idx], item, path)
    return out


def merge_patch(target, patch):
    """RFC 7386: objects merge, null deletes, everything else (lists too) replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def json_pointer(doc, ptr):
    if ptr == "":
        return None, None
    if not ptr.startswith("/"):
        raise ApiError(422, "invalid JSON pointer %r" % ptr)
    parts = [p.replace("~1", "/").replace("~0", "~") for p in ptr[1:].split("/")]
    cur = doc
    for p in parts[:-1]:
        cur = cur[int(p)] if isinstance(cur, list) else cur[p]
    return cur, parts[-1]


def json_patch(doc, ops):
    """RFC 6902 on a deep copy: add, remove, replace, move, copy, test."""
    doc = copy.deepcopy(doc)
    if not isinstance(ops, list):
        raise ApiError(400, "json patch must be an array of operations")
    for op in ops:
        try:
            kind = op["op"]
            parent, last = json_pointer(doc, op["path"])
            if kind in ("move", "copy"):
                sp, sl = json_pointer(doc, op["from"])
                val = sp[int(sl)] if isinstance(sp, list) else sp[sl]
                if kind == "move":
                    del sp[int(sl) if isinstance(sp, list) else sl]
                kind, op = "add", dict(op, value=copy.deepcopy(val))
            if kind == "test":
                got = parent[int(last)] if isinstance(parent, list) else parent[last]
                if got != op["value"]:
                    raise ApiError(422, "testing value %s failed" % op["path"])
            elif kind == "remove":
                del parent[int(last) if isinstance(parent, list) else last]
            elif kind in ("add", "replace"):
                val = copy.deepcopy(op["value"])
                if isinstance(parent, list):
                    if kind == "add":
                        parent.insert(len(parent) if last == "-" else int(last), val)
                    else:
                        parent[int(last)] = val
                else:
                    if kind == "replace" and last not in parent:
                        raise KeyError(last)
                    parent[last] = val
            else:
                raise ApiError(422, "unknown json patch operation %r" % kind)
        except (KeyError, IndexError, ValueError, TypeError) as e:
            raise ApiError(422, "json patch %s: %s" % (op, e))
    return doc


# ------------------------------------------------------------------------------------------
# The store

class Event:
    __slots__ = ("rv", "type", "key", "obj", "prev")

    def __init__(self, rv, typ, key, obj, prev):
        self.rv, self.type, self.key, self.obj, self.prev = rv, typ, key, obj, prev


class Store:
    """Objects by kind and key, a global resourceVersion and per-kind event history.

    Stored objects are never mutated: every change stores a new dict, so snapshots are shallow
    copies and history entries can share objects."""

    def __init__(self, start_rv, history, managed_fields):
        self.cond = threading.Condition(threading.RLock())
        self.rv = start_rv
        self.objs = {k: {} for k in KINDS}
        self.hist = {k: collections.deque() for k in KINDS}
        self.floor = {k: start_rv for k in KINDS}
        self.history = history
        self.managed = managed_fields
        self.watchers = set()
        self.cache = None  # frozen (rv, {kind: objs}) for resourceVersion=0 reads

    def _prepare(self, kind, obj, old):
        obj = copy.deepcopy(obj)
        obj["kind"], obj["apiVersion"] = kind, api_version(kind)
        obj = {"kind": kind, "apiVersion": obj["apiVersion"], **obj}
        md = obj.setdefault("metadata", {})
        if not md.get("name"):
            raise ApiError(422, "%s: metadata.name: Required value" % kind)
        if KINDS[kind][2]:
            md.setdefault("namespace", "default")
        else:
            md.pop("namespace", None)
        omd = (old or {}).get("metadata") or {}
        md["uid"] = omd.get("uid") or (md.get("uid") if old is None and
            re.fullmatch(r"[0-9a-f-]{36}", str(md.get("uid", ""))) else str(uuid.uuid4()))
        md["creationTimestamp"] = omd.get("creationTimestamp") or \
            (md.get("creationTimestamp") if old is None and
            re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", str(md.get("creationTimestamp")))
            else now_rfc3339())
        if kind == "Namespace":
            md.setdefault("labels", {})["kubernetes.io/metadata.name"] = md["name"]
        if self.managed and "managedFields" not in md:
            md["managedFields"] = [{"manager": "fakeapi", "operation": "Update",
                "apiVersion": obj["apiVersion"], "time": md["creationTimestamp"],
                "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {}}}]
        return obj

    def put(self, kind, obj, only_if_changed=False):
        """Create or replace; returns (event type or None when unchanged, stored object)."""
        with self.cond:
            key = obj_key(kind, obj)
            old = self.objs[kind].get(key)
            new = self._prepare(kind, obj, old)
            if only_if_changed and old is not None and same_object(old, new):
                return None, old
            self.rv += 1
            new["metadata"]["resourceVersion"] = str(self.rv)
            new["metadata"] = go_meta(new["metadata"])
            self.objs[kind][key] = new
            typ = "MODIFIED" if old is not None else "ADDED"
            self._event(kind, Event(self.rv, typ, key, new, old))
            return typ, new

    def delete(self, kind, key):
        with self.cond:
            old = self.objs[kind].pop(key, None)
            if old is None:
                return None
            self.rv += 1
            gone = dict(old, metadata=go_meta(dict(old["metadata"], resourceVersion=str(self.rv))))
            self._event(kind, Event(self.rv, "DELETED", key, gone, old))
            return gone

    def _event(self, kind, ev):
        h = self.hist[kind]
        h.append(ev)
        while len(h) > self.history:
            self.floor[kind] = h.popleft().rv
        for w in list(self.watchers):
            if w.kind == kind:
                w.offer(ev)
        self.cond.notify_all()

    def compact(self, kind=None, rv=None):
        with self.cond:
            target = self.rv if rv is None else int(rv)
            for k in [kind] if kind else KINDS:
                h = self.hist[k]
                while h and h[0].rv <= target:
                    h.popleft()
                self.floor[k] = max(self.floor[k], target)
            return target

    def state_at(self, kind, rv):
        """The objects of kind as they were at rv, or None when history no longer reaches it."""
        if rv < self.floor[kind]:
            return None
        objs = dict(self.objs[kind])
        for ev in reversed(self.hist[kind]):
            if ev.rv <= rv:
                break
            if ev.type == "ADDED":
                objs.pop(ev.key, None)
            else:
                objs[ev.key] = ev.prev
        return objs

    def cached(self, kind):
        """What a resourceVersion=0 read sees: (rv, objects)."""
        if self.cache is not None:
            return self.cache[0], self.cache[1][kind]
        return self.rv, dict(self.objs[kind])

    def freeze(self, frozen):
        with self.cond:
            self.cache = (self.rv, {k: dict(v) for k, v in self.objs.items()}) if frozen \
                else None

    def wait_rv(self, want, seconds):
        with self.cond:
            end = time.monotonic() + seconds
            while self.rv < want and time.monotonic() < end:
                self.cond.wait(end - time.monotonic())
            return self.rv >= want


def same_object(a, b):
    def strip(o):
        md = dict(o.get("metadata") or {})
        for k in ("resourceVersion", "managedFields"):
            md.pop(k, None)
        return dict(o, metadata=md)
    return strip(a) == strip(b)


# ------------------------------------------------------------------------------------------
# Continue tokens: base64url JSON like the apiserver's {"v","rv","start"}, plus the issue time of
# the first page ("t") so a test-chosen TTL can expire them.

def encode_continue(rv, start, issued):
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start, "t": issued},
        separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_continue(tok):
    try:
        d = json.loads(base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4)))
        if d.get("v") != "meta.k8s.io/v1" or not isinstance(d.get("rv"), int) or \
                not isinstance(d.get("start"), str):
            raise ValueError("bad fields")
        return d
    except (ValueError, TypeError, AttributeError) as e:
        raise ApiError(400, "invalid continue token: %s" % e)


# ------------------------------------------------------------------------------------------
# Faults

class Faults:
    ACTIONS = ("status", "stall", "cut", "close_after_headers", "drop", "reset", "empty",
        "error_event", "end")

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.next_id = 1

    def add(self, spec):
        spec = dict(spec)
        if "action" not in spec and "code" in spec:
            spec["action"] = "status"
        if spec.get("action") not in self.ACTIONS:
            raise ApiError(400, "unknown fault action %r" % spec.get("action"))
        if spec["action"] in ("status", "error_event") and not isinstance(spec.get("code"), int):
            raise ApiError(400, "fault %s needs an integer code" % spec["action"])
        if "regex" in spec:
            re.compile(spec["regex"])
        spec.setdefault("count", 1)
        with self.lock:
            spec["id"] = self.next_id
            self.next_id += 1
            self.rules.append(spec)
        return spec

    def take(self, verb, path, full):
        with self.lock:
            for r in self.rules:
                verbs = r.get("verb")
                if verbs and verb not in ([verbs] if isinstance(verbs, str) else verbs):
                    continue
                if "watch" in r and bool(r["watch"]) != (verb == "WATCH"):
                    continue
                if "path" in r and not path.startswith(r["path"]):
                    continue
                if "regex" in r and not re.search(r["regex"], full):
                    continue
                if r["count"] > 0:
                    r["count"] -= 1
                    if r["count"] == 0:
                        self.rules.remove(r)
                return dict(r)
        return None


# ------------------------------------------------------------------------------------------
# Response bodies: how bytes are cut into chunks (and TLS records) on the way out

class BodyOut:
    """Writes a chunked body. Modes: normal (one chunk per write), split (awkward cuts: after
    the first byte, inside UTF-8 sequences, before each newline and across event boundaries,
    chunk framing itself spread over several TLS records), bytes (1-byte chunks), random."""

    def __init__(self, h, mode, rng, rmax):
        self.h, self.mode, self.rng, self.rmax = h, mode, rng, rmax

    def cuts(self, data):
        n = len(data)
        if self.mode == "bytes":
            return range(1, n)
        if self.mode == "random":
            out, pos = [], 0
            while True:
                pos += self.rng.randint(1, self.rmax)
                if pos >= n:
                    return out
                out.append(pos)
        if self.mode != "split":
            return []
        cuts = {1, n // 2}
        for i, b in enumerate(data):
            if b == 0x0A:
                cuts.update((i, i + 2))
        for i in [i for i, b in enumerate(data) if b >= 0xC0][:4]:
            cuts.add(i + 1)
        # never right after a newline: the newline travels with the next event's first byte
        return sorted(c for c in cuts if 0 < c < n and data[c - 1] != 0x0A)

    def write(self, data):
        if not data:
            return
        pos = 0
        for c in list(self.cuts(data)) + [len(data)]:
            self.chunk(data[pos:c])
            pos = c

    def chunk(self, piece):
        size = b"%x" % len(piece)
        if self.mode == "split":
            self.h.raw(size + b"\r")
            self.h.raw(b"\n" + piece + b"\r")
            self.h.raw(b"\n")
        else:
            self.h.raw(size + b"\r\n" + piece + b"\r\n")

    def partial(self, data, where):
        """Half of data and no more: inside a chunk, or as a whole chunk of its own."""
        half = data[:max(1, len(data) // 2)]
        if where == "between":
            self.chunk(half)
        else:
            self.h.raw(b"%x\r\n" % len(data) + half)

    def end(self):
        self.h.raw(b"0\r\n\r\n")


class CutConnection(Exception):
    """The handler closed the connection on purpose (a fault); stop serving it."""


# ------------------------------------------------------------------------------------------
# Watches

class Watcher:
    def __init__(self, kind, ns, lsel, fsel, info):
        self.kind, self.ns, self.lsel, self.fsel = kind, ns, lsel, fsel
        self.info = info  # for /state: path, query, conn, since
        self.q = collections.deque()
        self.cmd = None

    def match(self, obj):
        md = obj.get("metadata") or {}
        return (not self.ns or md.get("namespace") == self.ns) and \
            labels_match(self.lsel, obj) and fields_match(self.fsel, obj)

    def translate(self, ev):
        """The event this watcher sees, with objects entering or leaving its selection turned
        into ADDED and DELETED as the watch cache does."""
        was = ev.prev is not None and self.match(ev.prev)
        if ev.type == "DELETED":
            return ("DELETED", ev.obj) if was else None
        now = self.match(ev.obj)
        if now:
            return ("MODIFIED" if was else "ADDED", ev.obj)
        return ("DELETED", ev.obj) if was else None

    def offer(self, ev):
        te = self.translate(ev)
        if te:
            self.q.append(te)


def bookmark_object(kind, rv, annotations=None):
    """A BOOKMARK object as the apiserver encodes an empty object of the kind."""
    md = {"resourceVersion": str(rv), "creationTimestamp": None}
    if annotations:
        md["annotations"] = annotations
    body = {"Pod": {"spec": {"containers": None}, "status": {}},
        "Node": {"spec": {}, "status": {"daemonEndpoints": {"kubeletEndpoint": {"Port": 0}},
            "nodeInfo": {"machineID": "", "systemUUID": "", "bootID": "",
            "kernelVersion": "", "osImage": "", "containerRuntimeVersion": "",
            "kubeletVersion": "", "kubeProxyVersion": "", "operatingSystem": "",
            "architecture": ""}}},
        "Namespace": {"spec": {}, "status": {}},
        "Service": {"spec": {}, "status": {"loadBalancer": {}}},
        "NetworkPolicy": {"spec": {"podSelector": {}}},
        "EndpointSlice": {"addressType": "", "endpoints": None},
        "Event": {"involvedObject": {}, "source": {}, "firstTimestamp": None,
            "lastTimestamp": None, "eventTime": None, "reportingComponent": "",
            "reportingInstance": ""}}.get(kind, {})
    return {"kind": kind, "apiVersion": api_version(kind), "metadata": md, **body}


# ------------------------------------------------------------------------------------------
# The API server

class App:
    def __init__(self, args):
        self.args = args
        self.cfg = {
            "chunk_mode": args.chunk_mode,
            "chunk_scope": args.chunk_scope,
            "random_max": 64,
            "split_headers": args.chunk_mode != "normal",
            "bookmark_interval": args.bookmark_interval,
            "continue_ttl": args.continue_ttl,
            "too_old": args.too_old,
            "too_old_reason": "Expired",
            "too_large_wait": 3.0,
            "rv0_limit": args.rv0_limit,
            "empty_items": args.empty_items,
            "pages": "exact",
            "min_request_timeout": args.min_request_timeout,
            "idle_timeout": args.idle_timeout,
            "anonymous": not args.no_anonymous,
            "watchlist": not args.no_watchlist,
            "history": args.history,
        }
        self.store = Store(args.start_rv, args.history, not args.no_managed_fields)
        self.faults = Faults()
        self.rng = random.Random(args.seed)
        self.stats_lock = threading.Lock()
        self.reset_requests()
        self.writes = []
        self.conn_seq = 0
        self.stopping = threading.Event()
        self.ctx = self.tls_context()

    def reset_requests(self):
        with self.stats_lock:
            self.reqlog = collections.deque(maxlen=20000)
            self.counts = collections.Counter()
            self.codes = collections.Counter()
            self.total = 0
            self.connections = 0
            self.handshake_failures = 0

    def tls_context(self):
        a = self.args
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3 if a.tls_min == "1.3" else \
            ssl.TLSVersion.TLSv1_2
        if a.tls_max == "1.2":
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(a.cert, a.key)
        # TLS 1.2 suites of a Go apiserver's defaults (no RSA key exchange, no 3DES, no
        # CBC-SHA256): a client that needs anything else fails here as it would there
        ctx.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
            "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
            "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
            "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:"
            "ECDHE-RSA-AES256-SHA")
        if a.client_ca:
            ctx.load_verify_locations(a.client_ca)
            ctx.verify_mode = ssl.CERT_REQUIRED if a.require_client_cert else ssl.CERT_OPTIONAL
        ctx.set_alpn_protocols(["h2", "http/1.1"])  # like the apiserver; h2 is then refused
        return ctx

    def record(self, entry):
        with self.stats_lock:
            self.reqlog.append(entry)
            self.counts["%s %s" % (entry["verb"], entry["path"])] += 1
            self.total += 1

    def finish(self, entry, code):
        with self.stats_lock:
            if entry.get("code") is None:
                self.codes[str(code)] += 1
            entry["code"] = code

    def tokens(self):
        """Valid bearer tokens: every non-empty line of the token file, read afresh."""
        if not self.args.token_file:
            return None
        try:
            with open(self.args.token_file, encoding="utf-8") as f:
                return {line.strip() for line in f if line.strip()}
        except OSError as e:
            log("token file unreadable: %s" % e.strerror)
            return set()

    def set_endpoints(self, addrs, port):
        """The default/kubernetes EndpointSlice(s): one per address family, like the apiserver's
        own reconciler (one slice named "kubernetes" when single-stack)."""
        fams = {"IPv4": [a for a in addrs if ":" not in a], "IPv6": [a for a in addrs if ":" in a]}
        fams = {k: v for k, v in fams.items() if v}
        st = self.store
        with st.cond:
            for k in [k for k in st.objs["EndpointSlice"] if k.startswith("default/kubernetes")]:
                if not any(k == "default/" + self.slice_name(f, fams) for f in fams):
                    st.delete("EndpointSlice", k)
            for fam, lst in fams.items():
                st.put("EndpointSlice", {"metadata": {"name": self.slice_name(fam, fams),
                    "namespace": "default", "labels": {
                        "kubernetes.io/service-name": "kubernetes",
                        "endpointslice.kubernetes.io/managed-by":
                            "endpointslice-controller.k8s.io"}},
                    "addressType": fam,
                    "endpoints": [{"addresses": [a], "conditions": {"ready": True,
                        "serving": True, "terminating": False}} for a in lst],
                    "ports": [{"name": "https", "port": int(port), "protocol": "TCP"}]},
                    only_if_changed=True)

    @staticmethod
    def slice_name(fam, fams):
        return "kubernetes" if fam == "IPv4" or len(fams) == 1 else "kubernetes-ipv6"


class ApiHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakeapi"

    # --- connection ------------------------------------------------------------------
    def setup(self):
        app = self.server.app
        self.app = app
        raw = self.request
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        raw.settimeout(10)
        with app.stats_lock:
            app.conn_seq += 1
            app.connections += 1
            self.cid = app.conn_seq
        h, p = self.client_address[:2]
        self.peer = "[%s]:%s" % (h, p) if ":" in h else "%s:%s" % (h, p)
        self.tls_ok = False
        self.cert_user = None
        try:
            self.request = app.ctx.wrap_socket(raw, server_side=True)
            alpn = self.request.selected_alpn_protocol()
            if alpn == "h2":
                log("conn %d %s: ALPN chose h2 (a Go apiserver would now speak HTTP/2, "
                    "this fake cannot): closing" % (self.cid, self.peer))
            else:
                self.tls_ok = True
                cert = self.request.getpeercert()
                if cert:
                    cn = [v for rdn in cert.get("subject", ()) for k, v in rdn
                        if k == "commonName"]
                    self.cert_user = "cert:" + (cn[0] if cn else "?")
        except (ssl.SSLError, OSError) as e:
            with app.stats_lock:
                app.handshake_failures += 1
            log("conn %d %s: TLS handshake failed: %s" % (self.cid, self.peer, e))
        self.request.settimeout(app.cfg["idle_timeout"])
        self.connection = self.request
        self.rfile = self.connection.makefile("rb", -1)
        self.wfile = self.connection.makefile("wb", 0)

    def handle(self):
        if not self.tls_ok:
            self.close_connection = True
            return
        try:
            super().handle()
        except CutConnection:
            pass
        except (OSError, ssl.SSLError, ValueError) as e:
            log("conn %d %s: %s" % (self.cid, self.peer, e.__class__.__name__))

    def finish(self):
        for f in (self.wfile, self.rfile):
            try:
                f.close()
            except (OSError, ValueError):
                pass
        if getattr(self, "cut", False):
            return
        sock = self.request
        try:
            if isinstance(sock, ssl.SSLSocket) and self.tls_ok:
                sock.settimeout(0.2)
                sock = sock.unwrap()  # close_notify, as Go's tls.Conn.Close sends
        except (OSError, ssl.SSLError, ValueError):
            pass
        try:
            sock.close()
        except OSError:
            pass

    def log_message(self, fmt, *args):
        log("conn %d %s: %s" % (getattr(self, "cid", 0), getattr(self, "peer", "?"),
            fmt % args))

    def raw(self, data):
        self.request.sendall(data)

    def hard_close(self, rst=False):
        self.cut = True
        sock = self.request
        try:
            if rst:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass
        self.close_connection = True
        raise CutConnection()

    # --- request ---------------------------------------------------------------------
    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if te == "chunked":
            out = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(n)
                self.rfile.readline()
                if len(out) > MAX_BODY:
                    raise ApiError(413, "Request entity too large: limit is 3145728")
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            self.close_connection = True
            raise ApiError(413, "Request entity too large: limit is 3145728")
        return self.rfile.read(n) if n else b""

    def dispatch(self):
        app = self.app
        t0 = time.monotonic()
        u = urllib.parse.urlsplit(self.path)
        self.q = {k: v[-1] for k, v in urllib.parse.parse_qs(u.query, keep_blank_values=True)
            .items()}
        self.upath = u.path
        self.watch = self.command == "GET" and self.q.get("watch") in ("1", "true", "True")
        self.entry = {"t": time.time(), "conn": self.cid, "verb": self.command,
            "path": u.path, "query": u.query, "code": None}
        self.sent_head = False
        self.fault = None
        self.user = None
        recorded = False
        try:
            body = self.read_body()
            route = self.route(u.path)
            self.entry["verb"] = self.verb(route)
            app.record(self.entry)
            recorded = True
            self.fault = app.faults.take(self.entry["verb"], u.path, self.path)
            if self.fault:
                self.pre_fault(self.fault)
            self.authenticate(route)
            self.serve(route, body)
        except ApiError as e:
            if not recorded:
                app.record(self.entry)
            if self.sent_head:  # a body was under way: the connection is unusable
                self.close_connection = True
            else:
                self.send_json(e.code, e.status, e.headers)
        except CutConnection:
            app.finish(self.entry, self.entry.get("code") or 0)
            raise
        finally:
            ms = (time.monotonic() - t0) * 1000
            self.entry["ms"] = round(ms, 1)
            log("conn %d %s %s %s%s -> %s (%.1f ms%s)" % (self.cid, self.peer,
                self.entry["verb"], u.path, "?" + u.query if u.query else "",
                self.entry.get("code"), ms,
                ", %d events" % self.entry["events"] if "events" in self.entry else ""))

    def verb(self, route):
        m = self.command
        if m == "GET" and route and route.get("kind"):
            return "WATCH" if self.watch and not route.get("name") else \
                ("GET" if route.get("name") else "LIST")
        return {"POST": "CREATE" if route and route.get("kind") else "POST"}.get(m, m)

    def route(self, path):
        """Parse an API path into {kind, ns, name, sub}; None for non-resource paths."""
        segs = [s for s in path.split("/") if s]
        if len(segs) >= 2 and segs[0] == "api" and segs[1] == "v1":
            group, rest = "", segs[2:]
        elif len(segs) >= 3 and segs[0] == "apis" and segs[2] == "v1":
            group, rest = segs[1], segs[3:]
        else:
            return None
        if rest[:1] == ["watch"]:  # legacy /api/v1/watch/... paths
            rest = rest[1:]
            self.watch = self.command == "GET"
        r = {"group": group, "ns": None, "name": None, "sub": None, "kind": None}
        if not rest:
            r["discovery"] = True
            return r
        ns_sub = group == "" and len(rest) == 3 and rest[2] in ("status", "finalize")
        if rest[0] == "namespaces" and len(rest) >= 3 and not ns_sub:
            r["ns"], rest = rest[1], rest[2:]
        plural = rest[0]
        kind = BY_PLURAL.get((group, plural))
        if (group, plural) == EVENTS_GROUP_KIND:
            kind = "Event"
        if kind is None:
            raise ApiError(404, "the server could not find the requested resource",
                details={})
        if r["ns"] and not KINDS[kind][2]:
            raise ApiError(404, "the server could not find the requested resource",
                details={})
        r["kind"] = kind
        if len(rest) >= 2:
            r["name"] = rest[1]
        if len(rest) >= 3:
            r["sub"] = rest[2]
        if len(rest) > 3 or r["sub"] not in (None, "status") or \
                r["sub"] and not KINDS[kind][3]:
            raise ApiError(404, "the server could not find the requested resource",
                details={})
        if self.watch and r["name"]:  # watch of one object = watch with metadata.name
            self.q["fieldSelector"] = ",".join(filter(None, (self.q.get("fieldSelector"),
                "metadata.name=" + r["name"])))
            r["name"] = None
        return r

    # --- auth ------------------------------------------------------------------------
    def authenticate(self, route):
        app = self.app
        authz = self.headers.get("Authorization") or ""
        self.user = self.cert_user  # per request: a token never outlives its request
        if not self.user and authz:
            toks = app.tokens()
            parts = authz.split(" ", 1)
            if len(parts) != 2 or parts[0].lower() != "bearer" or toks is not None and \
                    parts[1].strip() not in toks:
                raise ApiError(401, "Unauthorized")
            self.user = "token" if toks is not None else "any-token"
        if not self.user and app.tokens() is None and not app.args.client_ca:
            self.user = "open"
        self.entry["user"] = self.user or "system:anonymous"
        if self.user:
            return
        if not app.cfg["anonymous"]:
            raise ApiError(401, "Unauthorized")
        if route is not None and not route.get("discovery"):
            verb = self.entry["verb"].lower()
            res = KINDS[route["kind"]][0] if route.get("kind") else "resource"
            scope = ' in the namespace "%s"' % route["ns"] if route.get("ns") else \
                " at the cluster scope"
            raise ApiError(403, '%s is forbidden: User "system:anonymous" cannot %s resource '
                '"%s" in API group "%s"%s' % (res, verb, res, route["group"], scope),
                details={"kind": res})

    # --- faults ----------------------------------------------------------------------
    def pre_fault(self, f):
        a = f["action"]
        if a == "status":
            code = f["code"]
            headers = []
            details = None
            if code == 429 or "retry_after" in f:
                ra = int(f.get("retry_after", 1))
                headers.append(("Retry-After", str(ra)))
                details = {"retryAfterSeconds": ra}
            msg = f.get("message") or {429: "Too many requests, please try again later.",
                500: "Internal error occurred: fakeapi fault",
                503: "The server is currently unable to handle the request"}.get(code,
                "fakeapi fault %d" % code)
            if code == 500 and details is None:
                details = {"causes": [{"message": "fakeapi fault"}]}
            raise ApiError(code, msg, f.get("reason"), details, headers=headers)
        if a == "stall" and not (self.watch and "after_events" in f):
            time.sleep(float(f.get("seconds", 5)))
            if f.get("then") == "close":
                self.hard_close()
        elif a == "drop":
            self.hard_close()
        elif a == "reset":
            self.hard_close(rst=True)

    # --- responses -------------------------------------------------------------------
    def head(self, code, headers):
        try:
            phrase = http.HTTPStatus(code).phrase
        except ValueError:
            phrase = "Status"
        lines = ["HTTP/1.1 %d %s" % (code, phrase)]
        hs = [("Audit-Id", str(uuid.uuid4())), ("Cache-Control", "no-cache, private"),
            ("Date", email.utils.formatdate(usegmt=True))] + list(headers)
        if self.entry.get("verb") != "WATCH":
            hs += [("X-Kubernetes-Pf-Flowschema-Uid", "fakeapi-flowschema"),
                ("X-Kubernetes-Pf-Prioritylevel-Uid", "fakeapi-prioritylevel")]
        if self.close_connection:
            hs.append(("Connection", "close"))
        lines += ["%s: %s" % kv for kv in sorted(hs)]
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.app.finish(self.entry, code)
        self.sent_head = True
        if self.app.cfg["split_headers"]:
            cut = data.index(b"\r\n") // 2
            self.raw(data[:cut])
            self.raw(data[cut:])
        else:
            self.raw(data)

    def body_out(self, watch):
        cfg = self.app.cfg
        mode = cfg["chunk_mode"] if watch or cfg["chunk_scope"] == "all" else "normal"
        return BodyOut(self, mode, self.app.rng, int(cfg["random_max"]))

    def send_json(self, code, obj, headers=(), raw_body=None):
        data = raw_body if raw_body is not None else gojson(obj) + b"\n"
        hs = [("Content-Type", "application/json")] + list(headers)
        gz = len(data) >= GZIP_MIN and "gzip" in (self.headers.get("Accept-Encoding") or "")
        if gz:
            data = gzip.compress(data)
            hs.append(("Content-Encoding", "gzip"))
        f = getattr(self, "fault", None)
        chunked = gz or len(data) > CHUNK_AFTER
        if chunked:
            hs.append(("Transfer-Encoding", "chunked"))
        else:
            hs.append(("Content-Length", str(len(data))))
        self.head(code, hs)
        if self.command == "HEAD":
            return
        if f and f["action"] == "close_after_headers":
            self.hard_close()
        if not chunked:
            if f and f["action"] == "cut":
                self.raw(data[:len(data) // 2])
                self.hard_close()
            self.raw(data)
            return
        out = self.body_out(False)
        if f and f["action"] == "cut":
            out.partial(data, f.get("where", "chunk"))
            self.hard_close()
        first = data[:CHUNK_AFTER]
        out.write(first)
        for i in range(CHUNK_AFTER, len(data), 32768):
            out.write(data[i:i + 32768])
        out.end()

    # --- routing ---------------------------------------------------------------------
    def serve(self, route, body):
        m = self.command
        if route is None:
            return self.non_resource(self.upath)
        if route.get("discovery"):
            return self.discovery(route)
        kind, name = route["kind"], route["name"]
        if m in ("GET", "HEAD"):
            if self.watch:
                return self.do_watch(route)
            return self.get_one(route) if name else self.do_list(route)
        if m == "PATCH" and name:
            return self.do_patch(route, body)
        if m == "PUT" and name:
            return self.do_put(route, body)
        if m == "POST" and not name:
            return self.do_create(route, body)
        if m == "DELETE" and name and not route["sub"]:
            return self.do_delete(route, body)
        raise ApiError(405, "the server does not allow this method on the requested resource",
            details={"kind": KINDS[kind][0]})

    def non_resource(self, path):
        if path in ("/healthz", "/livez", "/readyz"):
            data = b"ok"
            self.head(200, [("Content-Type", "text/plain; charset=utf-8"),
                ("X-Content-Type-Options", "nosniff"), ("Content-Length", "2")])
            return self.raw(data)
        if path == "/version":
            return self.send_json(200, {"major": "1", "minor": "34", "emulationMajor": "1",
                "emulationMinor": "34", "minCompatibilityMajor": "1",
                "minCompatibilityMinor": "33", "gitVersion": "v1.34.0-fakeapi",
                "gitCommit": "0000000000000000000000000000000000000000",
                "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
                "goVersion": "go1.24.0", "compiler": "gc", "platform": "linux/amd64"})
        if path == "/api":
            return self.send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                "serverAddress": self.server.addr_text}]})
        if path == "/apis":
            return self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1",
                "groups": [{"name": g, "versions": [{"groupVersion": g + "/v1",
                "version": "v1"}], "preferredVersion": {"groupVersion": g + "/v1",
                "version": "v1"}} for g in ("networking.k8s.io", "discovery.k8s.io",
                "events.k8s.io")]})
        raise ApiError(404, "the server could not find the requested resource", details={})

    def discovery(self, route):
        g = route["group"]
        res = [{"name": v[0], "singularName": k.lower(), "namespaced": v[2], "kind": k,
            "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}
            for k, v in KINDS.items() if v[1] == g]
        self.send_json(200, {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": g + "/v1" if g else "v1", "resources": res})

    def get_one(self, route):
        st = self.app.store
        kind = route["kind"]
        key = "%s/%s" % (route["ns"], route["name"]) if KINDS[kind][2] else route["name"]
        rv = self.q.get("resourceVersion", "")
        with st.cond:
            obj = (st.cached(kind)[1] if rv == "0" else st.objs[kind]).get(key)
        if obj is None:
            raise not_found(kind, route["name"])
        self.send_json(200, obj)

    # --- LIST ------------------------------------------------------------------------
    def parse_rv(self, text):
        try:
            v = int(text)
            if v < 0:
                raise ValueError
            return v
        except ValueError:
            raise ApiError(400, "resourceVersion: Invalid value: %s: strconv.ParseUint: "
                "parsing %s: invalid syntax" % (json.dumps(text), json.dumps(text)))

    def validate_list(self):
        q = self.q
        rv, rvm, cont = q.get("resourceVersion"), q.get("resourceVersionMatch", ""), \
            q.get("continue", "")
        errs = []
        if rvm:
            if rv is None or rv == "":
                errs.append("resourceVersionMatch: Forbidden: resourceVersionMatch is "
                    "forbidden unless resourceVersion is provided")
            if cont:
                errs.append("resourceVersionMatch: Forbidden: resourceVersionMatch is "
                    "forbidden when continue is provided")
            if rvm not in ("NotOlderThan", "Exact"):
                errs.append('resourceVersionMatch: Unsupported value: "%s": supported values: '
                    '"Exact", "NotOlderThan"' % rvm)
            if rvm == "Exact" and rv == "0":
                errs.append('resourceVersionMatch: Forbidden: resourceVersionMatch "exact" '
                    'is forbidden for resourceVersion "0"')
        if "sendInitialEvents" in q:
            errs.append("sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list")
        if errs:
            raise ApiError(422, 'ListOptions.meta.k8s.io "" is invalid: ' +
                (errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]"), "Invalid",
                {"group": "meta.k8s.io", "kind": "ListOptions",
                "causes": [{"reason": "FieldValueForbidden", "message": e.split(": ", 1)[1],
                "field": e.split(":", 1)[0]} for e in errs]})
        if cont and rv not in (None, "", "0"):
            raise ApiError(400, "specifying resource version is not allowed when using continue")

    def do_list(self, route):
        st, cfg = self.app.store, self.app.cfg
        kind, ns, q = route["kind"], route["ns"], self.q
        self.validate_list()
        lsel = parse_labels(q.get("labelSelector"))
        fsel = parse_fields(kind, q.get("fieldSelector"))
        try:
            limit = int(q.get("limit") or 0)
        except ValueError:
            raise ApiError(400, "limit: invalid value %r" % q.get("limit"))
        rv, cont = q.get("resourceVersion", ""), q.get("continue", "")
        start, issued = "", time.time()
        # api-concepts: a non-zero resourceVersion with limit and no match means Exact
        exact = q.get("resourceVersionMatch") == "Exact" or \
            not q.get("resourceVersionMatch") and limit > 0 and rv not in ("", "0")
        if rv not in ("", "0") and not cont:
            want = self.parse_rv(rv)
            if not exact and want > st.rv and \
                    not st.wait_rv(want, float(cfg["too_large_wait"])):
                raise too_large(want, st.rv)
        with st.cond:
            if cont:
                tok = decode_continue(cont)
                start, issued = tok["start"], tok.get("t", issued)
                snap_rv = st.rv if tok["rv"] == -1 else tok["rv"]
                objs = st.state_at(kind, snap_rv) if tok["rv"] != -1 else dict(st.objs[kind])
                if objs is None or snap_rv > st.rv or tok["rv"] != -1 and \
                        time.time() - issued > float(cfg["continue_ttl"]):
                    new = encode_continue(-1, start, time.time())
                    raise ApiError(410, EXPIRED_CONTINUE, "Expired", meta={"continue": new})
            elif rv == "0":
                snap_rv, objs = st.cached(kind)
                if cfg["rv0_limit"] == "ignore":
                    limit = 0
            elif rv and exact:
                snap_rv = self.parse_rv(rv)
                if snap_rv > st.rv:
                    raise too_large(snap_rv, st.rv)
                objs = st.state_at(kind, snap_rv)
                if objs is None:
                    raise ApiError(410, EXPIRED_LIST, "Expired")
            else:
                snap_rv, objs = st.rv, dict(st.objs[kind])
        keys = sorted(k for k, o in objs.items() if k >= start and
            (not ns or o["metadata"].get("namespace") == ns) and labels_match(lsel, o) and
            fields_match(fsel, o))
        meta = {"resourceVersion": str(snap_rv)}
        if limit > 0:
            take = limit
            if cfg["pages"] == "short":
                take = max(1, (limit + 1) // 2)
            elif cfg["pages"] == "empty" and not cont and keys:
                take = 0
            page, more = keys[:take], len(keys) > take
            if more:
                last = page[-1] + "\x00" if page else start
                meta["continue"] = encode_continue(snap_rv, last, issued)
                if not lsel and not fsel:
                    meta["remainingItemCount"] = len(keys) - take
            keys = page
        items = [{k: v for k, v in objs[key].items() if k not in ("kind", "apiVersion")}
            for key in keys]
        if not items:
            items = None if cfg["empty_items"] == "null" else []
        self.send_json(200, {"kind": kind + "List", "apiVersion": api_version(kind),
            "metadata": meta, "items": items})

    # --- WATCH -----------------------------------------------------------------------
    def validate_watch(self):
        q, cfg = self.q, self.app.cfg
        sie = q.get("sendInitialEvents")
        errs = []
        if sie is not None:
            if q.get("resourceVersionMatch") != "NotOlderThan":
                errs.append("sendInitialEvents: Forbidden: sendInitialEvents requires setting "
                    "resourceVersionMatch to NotOlderThan")
            if q.get("allowWatchBookmarks") not in ("1", "true", "True"):
                errs.append("allowWatchBookmarks: Forbidden: sendInitialEvents requires "
                    "setting allowWatchBookmarks to true")
            if not cfg["watchlist"]:
                errs.append("sendInitialEvents: Forbidden: sendInitialEvents is forbidden for "
                    "watch unless the WatchList feature gate is enabled")
        elif q.get("resourceVersionMatch"):
            errs.append("resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden "
                "for watch unless sendInitialEvents is provided")
        if errs:
            raise ApiError(422, 'ListOptions.meta.k8s.io "" is invalid: ' + "; ".join(errs),
                "Invalid", {"group": "meta.k8s.io", "kind": "ListOptions"})

    def too_old(self, want, floor):
        cfg = self.app.cfg
        err = ApiError(410, "too old resource version: %d (%d)" % (want, floor),
            cfg["too_old_reason"])
        return err

    def do_watch(self, route):
        app, st, cfg, q = self.app, self.app.store, self.app.cfg, self.q
        kind = route["kind"]
        self.validate_watch()
        w = Watcher(kind, route["ns"], parse_labels(q.get("labelSelector")),
            parse_fields(kind, q.get("fieldSelector")), {"path": self.upath,
            "query": self.entry["query"], "conn": self.cid, "since": time.time()})
        bookmarks = q.get("allowWatchBookmarks") in ("1", "true", "True")
        try:
            tmo = float(q.get("timeoutSeconds") or 0)
        except ValueError:
            raise ApiError(400, "timeoutSeconds: invalid value")
        if tmo <= 0:
            mrt = float(cfg["min_request_timeout"])
            tmo = mrt * (1 + app.rng.random())
        deadline = time.monotonic() + tmo
        rv = q.get("resourceVersion", "")
        sie = q.get("sendInitialEvents")
        initial = sie in ("1", "true", "True") if sie is not None else rv in ("", "0")
        want = None if rv in ("", "0") else self.parse_rv(rv)
        error = None
        if want is not None and want > st.rv and \
                not st.wait_rv(want, float(cfg["too_large_wait"])):
            error = too_large(want, st.rv)
        first, end_bm = [], None
        with st.cond:
            if error is None and want is not None and want < st.floor[kind] and not initial:
                error = self.too_old(want, st.floor[kind])
            if error is None:
                if initial:
                    snap_rv, objs = st.cached(kind) if rv == "0" else (st.rv, st.objs[kind])
                    first = [("ADDED", objs[k]) for k in sorted(objs) if w.match(objs[k])]
                    after = snap_rv
                    if sie is not None:
                        end_bm = snap_rv
                else:
                    after = st.rv if want is None else want
                for ev in st.hist[kind]:
                    if ev.rv > after:
                        te = w.translate(ev)
                        if te:
                            w.q.append(te)
                st.watchers.add(w)
        if error is not None and cfg["too_old"] == "http":
            raise error
        self.entry["events"] = 0
        self.head(200, [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")])
        out = self.body_out(True)
        try:
            if error is not None:
                self.send_events(out, w, [("ERROR", error.status)])
                out.end()
                return
            if self.fault and self.fault["action"] == "close_after_headers":
                self.hard_close()
            if self.fault and self.fault["action"] == "empty":
                out.end()
                return
            if end_bm is not None:
                first.append(("BOOKMARK", bookmark_object(kind, end_bm,
                    {"k8s.io/initial-events-end": "true"})))
            if not self.send_events(out, w, first):
                return
            self.watch_loop(out, w, bookmarks, deadline)
        finally:
            with st.cond:
                st.watchers.discard(w)

    def watch_loop(self, out, w, bookmarks, deadline):
        st, cfg = self.app.store, self.app.cfg
        next_bm = None
        while True:
            now = time.monotonic()
            if bookmarks and next_bm is None:
                next_bm = now + float(cfg["bookmark_interval"])
                if deadline - 2 > now:
                    next_bm = min(next_bm, deadline - 2)
            batch, cmd, bm = [], None, None
            with st.cond:
                while not w.q and w.cmd is None and not self.app.stopping.is_set():
                    now = time.monotonic()
                    until = min(deadline, next_bm) if next_bm else deadline
                    if now >= until:
                        break
                    st.cond.wait(min(until - now, 1.0))
                    if self.peer_gone():  # as the apiserver's request context ends
                        self.close_connection = True
                        return
                batch = list(w.q)
                w.q.clear()
                cmd = w.cmd
                now = time.monotonic()
                if not batch and next_bm and now >= next_bm and now < deadline:
                    bm = st.rv
            if batch and not self.send_events(out, w, batch):
                return
            if bm is not None:
                next_bm = None
                if not self.send_events(out, w, [("BOOKMARK", bookmark_object(w.kind, bm))]):
                    return
            if self.app.stopping.is_set():
                return out.end()
            if cmd is not None:
                return self.watch_command(out, w, cmd)
            if time.monotonic() >= deadline and not w.q:
                return out.end()

    def peer_gone(self):
        """A watch client sends nothing: a readable socket means it closed (FIN or
        close_notify) or broke."""
        try:
            return bool(select.select([self.request], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    def watch_command(self, out, w, cmd):
        mode = cmd.get("mode", "clean")
        if mode == "cut":
            self.hard_close(rst=bool(cmd.get("rst")))
        if mode == "error":
            code = int(cmd.get("code", 410))
            rv = self.app.store.rv
            msg = cmd.get("message") or ("too old resource version: %d (%d)" % (rv, rv)
                if code == 410 else "fakeapi error %d" % code)
            reason = cmd.get("reason") or (self.app.cfg["too_old_reason"] if code == 410
                else None)
            self.send_events(out, w, [("ERROR", status_obj(code, msg, reason))])
        out.end()

    def send_events(self, out, w, events):
        """Write events, one chunk per batch as the apiserver flushes when its queue is empty;
        applies a pending watch fault when its event count is reached. False: stream over."""
        f = self.fault
        buf = b""
        for typ, obj in events:
            line = gojson({"type": typ, "object": obj}) + b"\n"
            if f and f["action"] in ("cut", "stall", "error_event", "end") and \
                    self.entry["events"] >= int(f.get("after_events", 0)) and \
                    (f["action"] != "stall" or "after_events" in f):
                out.write(buf)
                buf = b""
                self.fault = f = self.watch_fault(out, w, f, line)
                if f == "over":
                    return False
            buf += line
            self.entry["events"] += 1
        out.write(buf)
        return True

    def watch_fault(self, out, w, f, line):
        a = f["action"]
        self.fault = None
        if a == "cut":
            out.partial(line, f.get("where", "chunk"))
            self.hard_close(rst=bool(f.get("rst")))
        if a == "stall":
            time.sleep(float(f.get("seconds", 5)))
            if f.get("then") == "close":
                self.hard_close()
            return None
        if a == "error_event":
            code = int(f["code"])
            msg = f.get("message") or ("too old resource version" if code == 410 else
                "fakeapi fault %d" % code)
            details = {"retryAfterSeconds": int(f.get("retry_after", 1))} if code == 429 else None
            self.send_events(out, w, [("ERROR", status_obj(code, msg, f.get("reason"),
                details))])
        out.end()
        return "over"

    # --- writes ----------------------------------------------------------------------
    def record_write(self, route, body, code, rv=None, error=None):
        ct = self.headers.get("Content-Type") or ""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = body.decode("latin-1")
        entry = {"t": time.time(), "verb": self.command, "path": self.upath,
            "query": urllib.parse.urlsplit(self.path).query, "contentType": ct, "body": text,
            "code": code, "user": self.user or "system:anonymous"}
        if rv is not None:
            entry["resourceVersion"] = str(rv)
        if error:
            entry["error"] = error
        with self.app.stats_lock:
            self.app.writes.append(entry)

    def parse_json_body(self, body):
        try:
            return json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise ApiError(400, "error decoding request body: %s" % e)

    def write_op(self, route, body, fn):
        try:
            code, obj = fn()
        except ApiError as e:
            self.record_write(route, body, e.code, error=e.status["message"])
            raise
        self.record_write(route, body, code, (obj.get("metadata") or {}).get("resourceVersion"))
        self.send_json(code, obj)

    def key_of(self, route):
        return "%s/%s" % (route["ns"], route["name"]) if KINDS[route["kind"]][2] else \
            route["name"]

    def finalize_update(self, route, old, new):
        """Apply subresource rules and store; a no-op write keeps the resourceVersion."""
        kind = route["kind"]
        if not isinstance(new, dict):
            raise ApiError(422, "the patched object is not a JSON object")
        has_status = KINDS[kind][3]
        if route["sub"] == "status":
            for k in [k for k in old if k not in ("metadata", "status", "kind", "apiVersion")]:
                new[k] = old[k]
            for k in [k for k in new if k not in old and k not in ("metadata", "status")]:
                del new[k]
        elif has_status:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
        md = new.get("metadata")
        if not isinstance(md, dict):
            raise ApiError(422, "metadata must be an object")
        omd = old["metadata"]
        if md.get("name") != omd.get("name") or KINDS[kind][2] and \
                md.get("namespace", omd.get("namespace")) != omd.get("namespace"):
            raise ApiError(400, "the name of the object (%s) does not match the name on the "
                "URL (%s)" % (md.get("name"), omd.get("name")))
        if md.get("resourceVersion") not in (None, "", omd["resourceVersion"]):
            raise ApiError(409, 'Operation cannot be fulfilled on %s "%s": the object has been '
                'modified; please apply your changes to the latest version and try again' % (
                KINDS[kind][0] if not route["sub"] else KINDS[kind][0],
                omd["name"]), "Conflict", {"name": omd["name"], "kind": KINDS[kind][0]})
        md["uid"] = omd["uid"]
        md["creationTimestamp"] = omd["creationTimestamp"]
        typ, stored = self.app.store.put(kind, new, only_if_changed=True)
        return 200, stored

    def do_patch(self, route, body):
        kind = route["kind"]
        ct = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

        def op():
            if ct not in PATCH_TYPES:
                raise ApiError(415, "the body of the request was in an unknown format - "
                    "accepted media types include: " + ", ".join(PATCH_TYPES),
                    "UnsupportedMediaType")
            if ct == "application/apply-patch+yaml":
                raise ApiError(415, "fakeapi does not implement server-side apply",
                    "UnsupportedMediaType")
            patch = self.parse_json_body(body)
            with self.app.store.cond:
                old = self.app.store.objs[kind].get(self.key_of(route))
                if old is None:
                    raise not_found(kind, route["name"])
                if ct == "application/strategic-merge-patch+json":
                    if not isinstance(patch, dict):
                        raise ApiError(400, "strategic merge patch must be a JSON object")
                    new = strategic_merge(kind, old, patch)
                elif ct == "application/merge-patch+json":
                    new = merge_patch(old, patch)
                else:
                    new = json_patch(old, patch)
                return self.finalize_update(route, old, copy.deepcopy(new))
        self.write_op(route, body, op)

    def do_put(self, route, body):
        kind = route["kind"]

        def op():
            new = self.parse_json_body(body)
            with self.app.store.cond:
                old = self.app.store.objs[kind].get(self.key_of(route))
                if old is None:
                    raise not_found(kind, route["name"])
                return self.finalize_update(route, old, new)
        self.write_op(route, body, op)

    def do_create(self, route, body):
        kind = route["kind"]

        def op():
            obj = self.parse_json_body(body)
            if not isinstance(obj, dict):
                raise ApiError(400, "the request body is not an object")
            md = obj.setdefault("metadata", {})
            if not md.get("name") and md.get("generateName"):
                md["name"] = md["generateName"] + uuid.uuid4().hex[:5]
            if route["ns"]:
                md.setdefault("namespace", route["ns"])
            with self.app.store.cond:
                if obj_key(kind, obj) in self.app.store.objs[kind]:
                    raise ApiError(409, '%s "%s" already exists' % (KINDS[kind][0],
                        md.get("name")), "AlreadyExists", {"name": md.get("name"),
                        "kind": KINDS[kind][0]})
                md.pop("resourceVersion", None)
                return 201, self.app.store.put(kind, obj)[1]
        self.write_op(route, body, op)

    def do_delete(self, route, body):
        kind = route["kind"]

        def op():
            gone = self.app.store.delete(kind, self.key_of(route))
            if gone is None:
                raise not_found(kind, route["name"])
            return 200, gone
        self.write_op(route, body, op)


def not_found(kind, name):
    return ApiError(404, '%s "%s" not found' % (KINDS[kind][0], name), "NotFound",
        {"name": name, "kind": KINDS[kind][0]})


class ApiServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, app, host, port):
        self.app = app
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), ApiHandler)
        h, p = self.server_address[:2]
        self.addr_text = "[%s]:%d" % (h, p) if ":" in h else "%s:%d" % (h, p)

    def server_bind(self):
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        super().server_bind()

    def handle_error(self, request, client_address):
        log("unexpected error from %s: %s" % (client_address, sys.exc_info()[1]))


# ------------------------------------------------------------------------------------------
# Control server

CHOICES = {"chunk_mode": ("normal", "split", "bytes", "random"), "chunk_scope": ("watch", "all"),
    "too_old": ("event", "http"), "too_old_reason": ("Expired", "Gone"),
    "rv0_limit": ("ignore", "honor"), "empty_items": ("null", "[]"),
    "pages": ("exact", "short", "empty")}


class ControlHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, obj):
        data = (json.dumps(obj, indent=None, ensure_ascii=False) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n else b""
        return json.loads(data) if data.strip() else {}

    def do_GET(self):
        self.run("GET")

    def do_POST(self):
        self.run("POST")

    def do_DELETE(self):
        self.run("DELETE")

    def run(self, m):
        app = self.server.app
        u = urllib.parse.urlsplit(self.path)
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(u.query).items()}
        segs = [s for s in u.path.split("/") if s]
        try:
            out = self.act(app, m, segs, q)
            self.reply(200, out)
        except ApiError as e:
            self.reply(e.code, {"error": e.status["message"]})
        except (ValueError, KeyError, TypeError) as e:
            self.reply(400, {"error": "%s: %s" % (e.__class__.__name__, e)})

    def act(self, app, m, segs, q):
        st = app.store
        what = segs[0] if segs else ""
        if (m, what) == ("GET", "healthz"):
            return "ok"
        if (m, what) == ("GET", "state"):
            with st.cond:
                return {"resourceVersion": str(st.rv), "floors": {k: str(v)
                    for k, v in st.floor.items()}, "objects": {k: len(v)
                    for k, v in st.objs.items()}, "history": {k: len(v)
                    for k, v in st.hist.items()}, "watches": len(st.watchers),
                    "watchList": sorted((w.info for w in st.watchers),
                    key=lambda i: i["since"]),
                    "cacheFrozen": st.cache is not None, "config": app.cfg}
        if what == "objects":
            return self.objects(app, m, segs[1:])
        if what == "faults":
            if m == "POST":
                b = self.body()
                return [app.faults.add(r) for r in (b if isinstance(b, list) else [b])]
            with app.faults.lock:
                if m == "DELETE":
                    app.faults.rules.clear()
                return list(app.faults.rules)
        if what in ("patches", "writes"):
            with app.stats_lock:
                if m == "DELETE":
                    app.writes.clear()
                    return []
                return [w for w in app.writes if what == "writes" or w["verb"] == "PATCH"]
        if what == "requests":
            if m == "DELETE":
                app.reset_requests()
                return {}
            since = float(q.get("since", 0))
            with app.stats_lock:
                return {"total": app.total, "counts": dict(app.counts),
                    "codes": dict(app.codes), "connections": app.connections,
                    "handshakeFailures": app.handshake_failures,
                    "log": [dict(e) for e in app.reqlog if e["t"] >= since]}
        if (m, what) == ("POST", "compact"):
            b = self.body()
            kind = kind_of(b["kind"]) if b.get("kind") else None
            return {"floor": str(st.compact(kind, b.get("rv")))}
        if (m, what) == ("POST", "config"):
            b = self.body()
            for k, v in b.items():
                if k not in app.cfg:
                    raise ApiError(400, "unknown setting %r" % k)
                if k in CHOICES and v not in CHOICES[k]:
                    raise ApiError(400, "%s: want one of %s" % (k, ", ".join(CHOICES[k])))
            app.cfg.update(b)
            if "history" in b:
                st.history = int(b["history"])
            if "chunk_mode" in b and "split_headers" not in b:
                app.cfg["split_headers"] = b["chunk_mode"] != "normal"
            with st.cond:
                st.cond.notify_all()
            return app.cfg
        if (m, what) == ("POST", "cache"):
            st.freeze(bool(self.body().get("frozen")))
            return {"frozen": st.cache is not None}
        if (m, what) == ("POST", "endpoints"):
            b = self.body()
            app.set_endpoints(list(b["addresses"]), int(b["port"]))
            return {"resourceVersion": str(st.rv)}
        if (m, segs) == ("POST", ["watches", "close"]):
            b = self.body()
            kind = kind_of(b["kind"]) if b.get("kind") else None
            with st.cond:
                n = 0
                for w in st.watchers:
                    if kind is None or w.kind == kind:
                        w.cmd = b
                        n += 1
                st.cond.notify_all()
            return {"closed": n}
        raise ApiError(404, "no control endpoint %s /%s" % (m, "/".join(segs)))

    def objects(self, app, m, segs):
        st = app.store
        if m == "POST":
            b = self.body()
            objs = b if isinstance(b, list) else b.get("items") if \
                str(b.get("kind", "")).endswith("List") else [b]
            done = []
            for o in objs:
                kind = kind_of(o.get("kind") or (b.get("kind", "")[:-4] if isinstance(b, dict)
                    else ""))
                typ, stored = st.put(kind, o)
                md = stored["metadata"]
                done.append({"kind": kind, "namespace": md.get("namespace"), "name": md["name"],
                    "type": typ, "resourceVersion": md["resourceVersion"]})
            return {"resourceVersion": str(st.rv), "objects": done}
        if m == "DELETE":
            if len(segs) != 3:
                raise ApiError(400, "DELETE /objects/KIND/NS/NAME")
            kind = kind_of(segs[0])
            key = "%s/%s" % (segs[1], segs[2]) if KINDS[kind][2] else segs[2]
            gone = st.delete(kind, key)
            if gone is None:
                raise ApiError(404, "no such object")
            return {"resourceVersion": str(st.rv)}
        with st.cond:
            if not segs:
                return {k: list(v.values()) for k, v in st.objs.items()}
            kind = kind_of(segs[0])
            if len(segs) == 1:
                return list(st.objs[kind].values())
            key = "%s/%s" % (segs[1], segs[2]) if KINDS[kind][2] else segs[2]
            obj = st.objs[kind].get(key)
            if obj is None:
                raise ApiError(404, "no such object")
            return obj


class ControlTcp(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app, host, port):
        self.app = app
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), ControlHandler)


class ControlUnix(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, app, path):
        self.app = app
        if os.path.exists(path):
            os.unlink(path)
        super().__init__(path, ControlHandler)


# ------------------------------------------------------------------------------------------
# Start-up

def split_hostport(text):
    m = re.fullmatch(r"\[([0-9a-fA-F:.]+)\]:(\d+)|([^:\[\]]+):(\d+)", text)
    if not m:
        raise argparse.ArgumentTypeError("want HOST:PORT or [V6]:PORT, got %r" % text)
    return (m.group(1), int(m.group(2))) if m.group(1) else (m.group(3), int(m.group(4)))


def read_objects(path):
    """Objects from a file or directory of *.json: single objects, arrays, *List objects or
    several JSON values one after the other."""
    if not os.path.exists(path):
        raise SystemExit("fakeapi: --objects %s: no such file or directory" % path)
    files = [path] if os.path.isfile(path) else sorted(
        os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs if f.endswith(".json"))
    out = []
    dec = json.JSONDecoder()
    for fn in files:
        with open(fn, encoding="utf-8") as f:
            text = f.read()
        pos = 0
        while True:
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if pos >= len(text):
                break
            val, pos = dec.raw_decode(text, pos)
            vals = val if isinstance(val, list) else [val]
            for v in vals:
                if str(v.get("kind", "")).endswith("List") and "items" in v:
                    out += [dict(i, kind=i.get("kind") or v["kind"][:-4]) for i in v["items"]
                        or []]
                else:
                    out.append(v)
    return out


def default_objects(args):
    objs = [{"kind": "Namespace", "metadata": {"name": n}, "spec": {"finalizers":
        ["kubernetes"]}, "status": {"phase": "Active"}}
        for n in ("default", "kube-system", "kube-public", "kube-node-lease")]
    objs.append({"kind": "Service", "metadata": {"name": "kubernetes", "namespace": "default",
        "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {"clusterIP": args.service_ip, "clusterIPs": [args.service_ip],
        "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort":
        args.endpoint_port}], "type": "ClusterIP", "sessionAffinity": "None",
        "ipFamilies": ["IPv6" if ":" in args.service_ip else "IPv4"],
        "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"},
        "status": {"loadBalancer": {}}})
    return objs


def parse_args(argv):
    p = argparse.ArgumentParser(prog="fakeapi.py", description="A fake kube-apiserver for tests.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=CONTROL_API)
    p.add_argument("--listen", action="append", type=split_hostport, required=True,
        help="HOST:PORT or [V6]:PORT for HTTPS (repeatable; port 0 picks one)")
    p.add_argument("--cert", required=True, help="server certificate (PEM, chain allowed)")
    p.add_argument("--key", required=True, help="server private key (PEM)")
    p.add_argument("--client-ca", help="CA for client certificates (enables cert auth)")
    p.add_argument("--require-client-cert", action="store_true",
        help="refuse TLS handshakes without a client certificate")
    p.add_argument("--token-file", help="valid bearer tokens, one per line, re-read on every "
        "request (without it, any token is accepted)")
    p.add_argument("--no-anonymous", action="store_true",
        help="requests without credentials get 401 (default: 403, /version and /healthz ok)")
    p.add_argument("--tls-min", choices=("1.2", "1.3"), default="1.2")
    p.add_argument("--tls-max", choices=("1.2", "1.3"), default="1.3")
    p.add_argument("--control", default="127.0.0.1:0",
        help="control listener: HOST:PORT (plain HTTP) or unix:PATH")
    p.add_argument("--objects", action="append", default=[],
        help="JSON file or directory of *.json objects to load (repeatable)")
    p.add_argument("--no-defaults", action="store_true", help="do not create the default "
        "namespaces, the default/kubernetes Service and EndpointSlice")
    p.add_argument("--endpoint", action="append", default=[],
        help="address for the default/kubernetes EndpointSlice (repeatable; default: the "
        "--listen addresses)")
    p.add_argument("--endpoint-port", type=int, default=0,
        help="its port (default: the first --listen port)")
    p.add_argument("--service-ip", default="10.96.0.1")
    p.add_argument("--start-rv", type=int, default=100, help="first resourceVersion")
    p.add_argument("--history", type=int, default=1000, help="events kept per kind")
    p.add_argument("--continue-ttl", type=float, default=300.0, help="seconds")
    p.add_argument("--bookmark-interval", type=float, default=60.0, help="seconds")
    p.add_argument("--min-request-timeout", type=float, default=1800.0,
        help="watches without timeoutSeconds last this to twice this, at random")
    p.add_argument("--idle-timeout", type=float, default=90.0,
        help="close keep-alive connections idle this long")
    p.add_argument("--too-old", choices=("event", "http"), default="event",
        help="watch from a compacted resourceVersion: 200 + ERROR event, or HTTP 410")
    p.add_argument("--rv0-limit", choices=("ignore", "honor"), default="ignore",
        help="LIST resourceVersion=0 with limit: the watch cache ignores limit (classic)")
    p.add_argument("--empty-items", choices=("null", "[]"), default="null")
    p.add_argument("--chunk-mode", choices=("normal", "split", "bytes", "random"),
        default="normal")
    p.add_argument("--chunk-scope", choices=("watch", "all"), default="all",
        help="which chunked bodies the chunk mode applies to")
    p.add_argument("--no-watchlist", action="store_true",
        help="reject sendInitialEvents like a server without the WatchList feature")
    p.add_argument("--no-managed-fields", action="store_true",
        help="do not add managedFields to objects that have none")
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    app = App(args)
    servers = [ApiServer(app, h, port) for h, port in args.listen]
    for o in default_objects(args) if not args.no_defaults else []:
        app.store.put(kind_of(o["kind"]), o)
    for path in args.objects:
        for o in read_objects(path):
            app.store.put(kind_of(o.get("kind", "")), o)
    if not args.no_defaults:
        eps = args.endpoint or [s.server_address[0] for s in servers
            if s.server_address[0] not in ("0.0.0.0", "::")]
        port = args.endpoint_port or servers[0].server_address[1]
        args.endpoint_port = port
        if eps:
            app.set_endpoints(eps, port)
    st = app.store
    st.hist = {k: collections.deque() for k in KINDS}
    st.floor = {k: st.rv for k in KINDS}
    if args.control.startswith("unix:"):
        ctl = ControlUnix(app, args.control[5:])
        ctl_text = args.control
    else:
        h, p = split_hostport(args.control)
        ctl = ControlTcp(app, h, p)
        ch, cp = ctl.server_address[:2]
        ctl_text = "http://%s:%d" % ("[%s]" % ch if ":" in ch else ch, cp)
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2},
        daemon=True) for s in servers + [ctl]]
    for t in threads:
        t.start()
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print("fakeapi: listening on %s control %s resourceVersion %d" % (" ".join(
        "https://" + s.addr_text for s in servers), ctl_text, st.rv), flush=True)
    while not stop.wait(0.5):
        pass
    log("stopping")
    app.stopping.set()
    for s in servers + [ctl]:
        s.shutdown()
        s.server_close()
    with st.cond:
        st.cond.notify_all()
    end = time.monotonic() + 3
    while st.watchers and time.monotonic() < end:
        time.sleep(0.05)
    if args.control.startswith("unix:"):
        try:
            os.unlink(args.control[5:])
        except OSError:
            pass
    print("fakeapi: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
