#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""testsrv.py: canned HTTPS responses for tests/unit/test_k8s.c (the io/k8s.c client).

Not an API server (that is fakeapi.py): each path is one way a response can be framed,
sliced, stalled or broken, so the client's state machine meets every case on purpose.

    testsrv.py CERT KEY

Listens on 127.0.0.1, port 0 twice: TLS, and a raw TCP port that accepts and never speaks
(connect/handshake timeouts). Prints "PORTS <tls> <raw>" on stdout once both listen, then
serves until killed. Every connection gets its own thread and a number (1, 2, ... in the order
accepted), and is closed after one response unless the request's query asks otherwise.

Query options (any path; the path is matched without its query):
  keep              keep the connection for another request after this response
  close-hdr         (with keep) answer with "Connection: close" but leave the socket open, so
                    only the header can tell the client not to reuse it
  idle-close=MS     (with keep) close the connection with close_notify if no request comes
                    within MS milliseconds
  drop-next=HOW     (with keep) close the connection when the next request on it arrives,
                    without answering: HOW is "abrupt" (TCP close) or "notify" (close_notify
                    first), as a server that timed the idle connection out just then would
  extra             (/conn) bytes after the body, in the same TLS record

Paths (GET unless said):
  /len              200, Content-Length body (HEAD: the head alone)
  /headers          200, body = the request head exactly as received
  /chunked          200, head sent one byte per TLS record, body in 1-byte chunks, a trailer
  /watch            200 chunked: 3 event lines cut across chunk and record boundaries
  /watch-tail       200 chunked: 2 lines, the last without its newline
  /stall            200 with Content-Length 10, 3 bytes, then silence for 30 s
  /need-tok2        401 unless "Authorization: Bearer tok2", else 200
  /429              429 with Retry-After: 7
  /close-after-head head with Content-Length 100, then the TCP close (no close_notify)
  /close-body       200 without framing, body, close_notify
  /close-abrupt     200 without framing, body, TCP close without close_notify
  /big              200 with a 100000-byte body
  /longline         200 chunked, one 5000-byte line
  /nocontent        204
  /interim          100 Continue, then 200 "ok"
  /smuggle          Content-Length and Transfer-Encoding together (must be refused)
  /badchunk         a chunk size that is not hex
  /echo (any method) 200, body = "METHOD content-type\\n" + request body
  /conn             200, body = "conn=<connection number> n=<request number on it>"
"""
import itertools
import socket
import ssl
import sys
import threading
import time
import urllib.parse

CONN_IDS = itertools.count(1)
CONN_LOCK = threading.Lock()


def read_request(conn, data):
    """One request from conn, data being what was read past the previous one.
    Returns head, target, body and what was read past this request (head None at EOF)."""
    while b"\r\n\r\n" not in data:
        got = conn.recv(4096)
        if not got:
            return None, None, b"", b""
        data += got
    head, _, rest = data.partition(b"\r\n\r\n")
    head += b"\r\n\r\n"
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        got = conn.recv(4096)
        if not got:
            break
        rest += got
    return head, head.split(b" ")[1].decode(), rest[:length], rest[length:]


def header(head, name):
    for line in head.split(b"\r\n")[1:]:
        n, _, v = line.partition(b":")
        if n.lower() == name.lower():
            return v.strip()
    return b""


def with_len(status, body, extra=b""):
    return b"HTTP/1.1 %s\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s" % (
        status, extra, len(body), body)


def chunk(b):
    return b"%x\r\n%s\r\n" % (len(b), b)


CHUNKED_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n")
EVENTS = [b'{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"1"}}}',
          b'{"type":"MODIFIED","object":{"metadata":{"name":"a","resourceVersion":"2"}}}',
          b'{"type":"DELETED","object":{"metadata":{"name":"a","resourceVersion":"3"}}}']


def send_records(conn, parts):
    for p in parts:
        conn.sendall(p)   # one TLS record each


def respond(conn, method, path, head, body, info):
    if path == "/len":
        resp = with_len(b"200 OK", b'{"kind":"Status","status":"Success"}')
        conn.sendall(resp.split(b"\r\n\r\n")[0] + b"\r\n\r\n" if method == "HEAD" else resp)
    elif path == "/headers":
        conn.sendall(with_len(b"200 OK", head))
    elif path == "/chunked":
        data = b"0123456789abcdefghijklmnopqrstuvwxyz"
        resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        send_records(conn, [resp[i:i + 1] for i in range(len(resp))])
        send_records(conn, [chunk(data[i:i + 1]) for i in range(len(data))])
        conn.sendall(b"0\r\nX-Trailer: yes\r\n\r\n")
    elif path in ("/watch", "/watch-tail"):
        events = EVENTS if path == "/watch" else EVENTS[:2]
        stream = b"".join(e + b"\n" for e in events)
        if path == "/watch-tail":
            stream = stream[:-1]
        parts = [CHUNKED_HEAD]
        cuts = [0, 5, 6, 60, 61, 100, 170, len(stream)]
        for a, b in zip(cuts, cuts[1:]):
            if a < b:
                parts.append(chunk(stream[a:b]))
        parts.append(b"0\r\n\r\n")
        send_records(conn, parts)
    elif path == "/stall":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        time.sleep(30)
    elif path == "/need-tok2":
        if header(head, b"authorization") == b"Bearer tok2":
            conn.sendall(with_len(b"200 OK", b"welcome"))
        else:
            conn.sendall(with_len(b"401 Unauthorized", b'{"kind":"Status","code":401}'))
    elif path == "/429":
        conn.sendall(with_len(b"429 Too Many Requests", b"{}", b"Retry-After: 7\r\n"))
    elif path == "/close-after-head":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
    elif path in ("/close-body", "/close-abrupt"):
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
        if path == "/close-body":
            conn.unwrap()
    elif path == "/big":
        conn.sendall(with_len(b"200 OK", b"x" * 100000))
    elif path == "/longline":
        conn.sendall(CHUNKED_HEAD + chunk(b"y" * 5000 + b"\n") + b"0\r\n\r\n")
    elif path == "/nocontent":
        conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
    elif path == "/interim":
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    elif path == "/smuggle":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    elif path == "/badchunk":
        conn.sendall(CHUNKED_HEAD + b"zz\r\nabc\r\n")
    elif path == "/echo":
        ct = header(head, b"content-type")
        conn.sendall(with_len(b"200 OK", method.encode() + b" " + ct + b"\n" + body))
    elif path == "/conn":
        extra = b"Connection: close\r\n" if "close-hdr" in info["opts"] else b""
        resp = with_len(b"200 OK", b"conn=%d n=%d" % (info["id"], info["n"]), extra)
        conn.sendall(resp + (b"HTTP/1.1 200 OK\r\n" if "extra" in info["opts"] else b""))
    else:
        conn.sendall(with_len(b"404 Not Found", b"{}"))


def drop(conn, how):
    if how == "notify":
        conn.unwrap()   # sends close_notify (and waits for the client's, or its close)
    conn.close()


def serve(conn, cid):
    """Requests on one connection until one without "keep", or a drop."""
    data, info, dropping = b"", {"id": cid, "n": 0}, None
    while True:
        try:
            head, target, body, data = read_request(conn, data)
        except socket.timeout:
            drop(conn, "notify")    # idle-close: the client left it idle too long
            return
        conn.settimeout(60)
        if head is None:
            break
        if dropping:
            drop(conn, dropping)
            return
        path, _, query = target.partition("?")
        info["n"] += 1
        info["opts"] = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        respond(conn, head.split(b" ")[0].decode(), path, head, body, info)
        if "keep" not in info["opts"]:
            break
        dropping = info["opts"].get("drop-next")
        if "idle-close" in info["opts"]:
            conn.settimeout(int(info["opts"]["idle-close"]) / 1000.0)
    conn.close()


def handle(ctx, raw):
    with CONN_LOCK:
        cid = next(CONN_IDS)
    try:
        raw.settimeout(60)
        serve(ctx.wrap_socket(raw, server_side=True), cid)
    except Exception:   # clients that give up halfway are part of the tests
        pass
    finally:
        raw.close()


def hold(raw):
    time.sleep(60)
    raw.close()


def listen():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    return s


def accept_loop(s, fn, *args):
    while True:
        c, _ = s.accept()
        threading.Thread(target=fn, args=args + (c,), daemon=True).start()


def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    tls, raw = listen(), listen()
    threading.Thread(target=accept_loop, args=(raw, hold), daemon=True).start()
    # one write: the test reads up to the newline
    sys.stdout.write("PORTS %d %d\n" % (tls.getsockname()[1], raw.getsockname()[1]))
    sys.stdout.flush()
    accept_loop(tls, handle, ctx)


if __name__ == "__main__":
    main()
