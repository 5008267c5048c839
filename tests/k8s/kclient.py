#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""kclient.py: a small, strict HTTP/1.1-over-TLS client and control-API helper for tests of
fakeapi.py (standard library only).

Unlike urllib it shows the wire: every chunk of a chunked body as the server framed it, whether
the body ended with the terminating chunk or the connection broke, the time to the first byte,
and it keeps one connection alive across requests. As a command:

  kclient.py api [--ca F] [--token-file F] [--cert F --key F] METHOD URL [BODY [CONTENT-TYPE]]
  kclient.py ctl http://127.0.0.1:PORT METHOD PATH [JSON]

print the status line and the body (api) or the JSON answer (ctl).
"""

import json
import socket
import ssl
import sys
import time
import urllib.parse
import urllib.request


class Incomplete(Exception):
    """The connection ended (or broke) in the middle of a response."""


class Resp:
    def __init__(self):
        self.status = 0
        self.reason = ""
        self.headers = []
        self.h = {}
        self.chunks = None  # list of bytes per chunk when chunked
        self.body = b""
        self.complete = False  # body fully framed (Content-Length reached, or 0-chunk seen)
        self.error = None  # why it is not complete
        self.t_first = None  # seconds from sending to the first response byte
        self.times = []  # seconds from sending to the arrival of each chunk
        self.head_reads = 0

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def lines(self):
        return [json.loads(x) for x in self.body.decode("utf-8").split("\n") if x.strip()]


class Client:
    def __init__(self, host, port, ca=None, token=None, cert=None, key=None,
            alpn=("http/1.1",), timeout=10.0, sni=None):
        self.host, self.port = host, port
        self.token, self.timeout = token, timeout
        ctx = ssl.create_default_context(cafile=ca) if ca else ssl._create_unverified_context()
        if cert:
            ctx.load_cert_chain(cert, key)
        if alpn:
            ctx.set_alpn_protocols(list(alpn))
        self.ctx, self.sni = ctx, sni
        self.sock = None
        self.f = None
        self.connects = 0

    def connect(self):
        self.close()
        raw = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self.sock = self.ctx.wrap_socket(raw, server_hostname=self.sni or self.host)
        self.f = self.sock.makefile("rb")
        self.connects += 1

    def close(self):
        for x in (self.f, self.sock):
            try:
                if x:
                    x.close()
            except OSError:
                pass
        self.sock = self.f = None

    def send(self, method, path, body=None, headers=None, token=None):
        if self.sock is None:
            self.connect()
        hs = {"Host": "%s:%d" % (self.host if ":" not in self.host else "[%s]" % self.host,
            self.port), "Accept": "application/json", "User-Agent": "kclient/1"}
        tok = token if token is not None else self.token
        if tok:
            hs["Authorization"] = "Bearer " + tok
        if body is not None:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            if isinstance(body, str):
                body = body.encode()
            hs["Content-Length"] = str(len(body))
            hs.setdefault("Content-Type", "application/json")
        hs.update(headers or {})
        req = "%s %s HTTP/1.1\r\n" % (method, path) + "".join(
            "%s: %s\r\n" % kv for kv in hs.items() if kv[1] is not None) + "\r\n"
        self.t0 = time.monotonic()
        self.sock.sendall(req.encode() + (body or b""))

    def read_head(self, resp):
        line = self.f.readline()
        resp.t_first = time.monotonic() - self.t0
        if not line:
            raise Incomplete("connection closed before the status line")
        parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        resp.status, resp.reason = int(parts[1]), parts[2] if len(parts) > 2 else ""
        while True:
            line = self.f.readline()
            if not line:
                raise Incomplete("connection closed in the headers")
            if line in (b"\r\n", b"\n"):
                break
            k, v = line.decode("latin-1").rstrip("\r\n").split(":", 1)
            resp.headers.append((k, v.strip()))
            resp.h[k.lower()] = v.strip()

    def read_chunk(self):
        """The next chunk's data, None after the terminating chunk; Incomplete on EOF."""
        line = self.f.readline()
        if not line.endswith(b"\n"):
            raise Incomplete("connection closed %s" % ("in a chunk size line" if line else
                "between chunks"))
        n = int(line.split(b";")[0].strip(), 16)
        if n == 0:
            while True:
                t = self.f.readline()
                if not t:
                    raise Incomplete("connection closed in the trailer")
                if t in (b"\r\n", b"\n"):
                    return None
        data = self.f.read(n)
        if len(data) < n:
            raise Incomplete("connection closed inside a chunk (%d of %d bytes)" %
                (len(data), n))
        if self.f.read(2) != b"\r\n":
            raise Incomplete("chunk not followed by CRLF")
        return data

    def request(self, method, path, body=None, headers=None, token=None, on_chunk=None):
        """One request; reads the whole response. A broken body leaves resp.complete False and
        the connection closed. on_chunk(resp, data) may return True to stop reading early."""
        resp = Resp()
        try:
            self.send(method, path, body, headers, token)
            self.read_head(resp)
            self.read_body(resp, method, on_chunk)
        except Incomplete as e:
            resp.error = str(e)
            self.close()
        except (OSError, ssl.SSLError) as e:
            resp.error = "%s: %s" % (e.__class__.__name__, e)
            self.close()
        if resp.complete and (resp.h.get("connection", "").lower() == "close"):
            self.close()
        return resp

    def read_body(self, resp, method, on_chunk):
        if method == "HEAD" or resp.status in (204, 304):
            resp.complete = True
            return
        if resp.h.get("transfer-encoding", "").lower() == "chunked":
            resp.chunks = []
            while True:
                data = self.read_chunk()
                if data is None:
                    resp.complete = True
                    return
                resp.chunks.append(data)
                resp.times.append(time.monotonic() - self.t0)
                resp.body += data
                if on_chunk and on_chunk(resp, data):
                    self.close()
                    resp.error = "stopped by the caller"
                    return
        elif "content-length" in resp.h:
            n = int(resp.h["content-length"])
            resp.body = self.f.read(n)
            if len(resp.body) < n:
                raise Incomplete("connection closed after %d of %d body bytes" %
                    (len(resp.body), n))
            resp.complete = True
        else:
            resp.body = self.f.read()
            resp.complete = True

    def watch(self, path, stop=None, token=None):
        """GET a watch and collect its events; stop(events) True ends it early (the client
        closes the connection). Returns (resp, events)."""
        events = []
        buf = [b""]

        def on_chunk(resp, data):
            buf[0] += data
            while b"\n" in buf[0]:
                line, buf[0] = buf[0].split(b"\n", 1)
                if line.strip():
                    events.append(json.loads(line.decode("utf-8")))
            return bool(stop and stop(events))
        resp = self.request("GET", path, token=token, on_chunk=on_chunk)
        if resp.chunks is None and resp.body:
            return resp, []
        return resp, events


class Control:
    """The fake's control API."""

    def __init__(self, base):
        self.base = base.rstrip("/")

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
            headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def get(self, path):
        return self.call("GET", path)[1]

    def post(self, path, body=None):
        code, out = self.call("POST", path, body if body is not None else {})
        if code != 200:
            raise RuntimeError("control POST %s: %s %s" % (path, code, out))
        return out

    def delete(self, path):
        return self.call("DELETE", path)[1]


def main(argv):
    if len(argv) >= 4 and argv[0] == "ctl":
        code, out = Control(argv[1]).call(argv[2], argv[3],
            json.loads(argv[4]) if len(argv) > 4 else None)
        print(json.dumps(out, indent=1, ensure_ascii=False))
        return 0 if code == 200 else 1
    if not argv or argv[0] != "api":
        print(__doc__.split("As a command:")[1], file=sys.stderr)
        return 2
    opts, rest = {}, []
    it = iter(argv[1:])
    for a in it:
        if a in ("--ca", "--token-file", "--cert", "--key"):
            opts[a[2:]] = next(it)
        else:
            rest.append(a)
    method, url = rest[0], urllib.parse.urlsplit(rest[1])
    token = open(opts["token-file"]).read().split()[0] if "token-file" in opts else None
    c = Client(url.hostname, url.port or 443, ca=opts.get("ca"), token=token,
        cert=opts.get("cert"), key=opts.get("key"))
    body = rest[2] if len(rest) > 2 else None
    hdr = {"Content-Type": rest[3]} if len(rest) > 3 else None
    r = c.request(method, url.path + ("?" + url.query if url.query else ""), body, hdr)
    print("HTTP %d %s%s" % (r.status, r.reason, "" if r.complete else " (" + str(r.error) + ")"))
    sys.stdout.write(r.body.decode("utf-8", "replace"))
    return 0 if 200 <= r.status < 300 and r.complete else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
