#!/usr/bin/python3
"""A single-threaded asyncio Consul KV + Vault KV v2 server for the scale benchmark (issue 15).

The emulators in tests/emulators are faithful but run a thread per connection; at 10,000
blocking queries they would be what the benchmark measures. This one serves only what the scale
benchmark's templates read, on one event loop, so its CPU stays far below templet's (the
benchmark prints both):

  Consul  GET /v1/kv/KEY[?index=N&wait=D][&recurse]  blocking queries as Consul's
          agent/kvs_endpoint.go answers them (X-Consul-Index; 404 for a missing key; a
          blocking query returns when the key's (or prefix's) ModifyIndex passes N, or after
          the wait, up to 1/16 of it later as Consul's jitter adds)
          PUT /v1/kv/KEY   body = value
  Vault   GET /v1/sys/internal/ui/mounts/PATH  (every path is under the KV v2 mount secret/)
          GET /v1/secret/data/NAME              (vault/logical_kv v2's read body)
  Control GET /_bench/stats   requests by kind, connections now and at most, Vault requests
                              in flight at most, this process's CPU seconds

Usage: scale_emulator.py --port-file FILE [--secrets N] [--vault-delay-ms 5]
(writes "CONSUL_PORT VAULT_PORT"); each Vault answer waits the delay, so requests overlap and
the number in flight at once shows whether templet keeps to its connection cap.
Binds 127.0.0.1 only.
"""
import argparse
import asyncio
import base64
import json
import os
import random
import resource
import time
import urllib.parse


class State:
    def __init__(self, secrets, vault_delay):
        self.vault_delay = vault_delay
        self.index = 1
        self.kv = {}  # key -> (value bytes, create index, modify index)
        # Blocking queries wait on the key they read (or the prefix they recurse), as Consul's
        # state store watches the radix-tree node a read touched (agent/consul/state/kvs.go
        # kvsGetTxn, ws.Add): a PUT wakes the queries of that key and of the prefixes above it,
        # not every query, or each change would cost O(queries).
        self.key_waiters = {}     # key -> Event
        self.prefix_waiters = {}  # prefix -> Event
        self.secrets = {"s%d" % i: {"password": "pw-%d-%s" % (i, os.urandom(4).hex())}
                        for i in range(secrets)}
        self.requests = {}
        self.connections = {"consul": 0, "vault": 0}
        self.max_connections = {"consul": 0, "vault": 0}
        self.vault_in_flight = 0
        self.max_vault_in_flight = 0

    def put(self, key, value):
        self.index += 1
        old = self.kv.get(key)
        self.kv[key] = (value, old[1] if old else self.index, self.index)
        ev = self.key_waiters.pop(key, None)
        if ev:
            ev.set()
        for prefix in [p for p in self.prefix_waiters if key.startswith(p)]:
            self.prefix_waiters.pop(prefix).set()

    def waiter(self, key, recurse):
        table = self.prefix_waiters if recurse else self.key_waiters
        ev = table.get(key)
        if ev is None:
            ev = table[key] = asyncio.Event()
        return ev

    def key_index(self, key, recurse):
        if recurse:
            idx = [e[2] for k, e in self.kv.items() if k.startswith(key)]
            return max(idx) if idx else self.index
        e = self.kv.get(key)
        return e[2] if e else self.index


def parse_wait(text):
    if not text:
        return 300.0
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for u in ("ms", "s", "m", "h"):
        if text.endswith(u):
            return float(text[: -len(u)]) * units[u]
    return float(text)


async def read_request(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    body = b""
    n = int(headers.get("content-length", "0") or 0)
    if n:
        body = await reader.readexactly(n)
    return method, target, headers, body


def answer(status, body, headers=None):
    reason = {200: "OK", 404: "Not Found", 400: "Bad Request", 405: "Method Not Allowed"}[status]
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    out = ["HTTP/1.1 %d %s" % (status, reason), "Content-Type: application/json",
           "Content-Length: %d" % len(data)]
    for k, v in (headers or {}).items():
        out.append("%s: %s" % (k, v))
    return ("\r\n".join(out) + "\r\n\r\n").encode() + data


async def consul(state, method, path, query, body):
    if not path.startswith("/v1/kv/"):
        return answer(404, b"not emulated")
    key = urllib.parse.unquote(path[len("/v1/kv/"):])
    if method == "PUT":
        state.put(key, body)
        return answer(200, b"true")
    recurse = "recurse" in query
    if "index" in query:
        want = int(query["index"][0])
        wait = parse_wait(query.get("wait", [""])[0])
        deadline = time.monotonic() + wait + random.random() * wait / 16
        while state.key_index(key, recurse) <= want:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                await asyncio.wait_for(state.waiter(key, recurse).wait(), left)
            except asyncio.TimeoutError:
                break
    idx = state.key_index(key, recurse)
    hdr = {"X-Consul-Index": str(idx), "X-Consul-KnownLeader": "true",
           "X-Consul-LastContact": "0"}
    if recurse:
        entries = [(k, e) for k, e in sorted(state.kv.items()) if k.startswith(key)]
    else:
        entries = [(key, state.kv[key])] if key in state.kv else []
    if not entries:
        return answer(404, b"", hdr)
    return answer(200, [{"Key": k, "Value": base64.b64encode(e[0]).decode(), "Flags": 0,
                         "CreateIndex": e[1], "ModifyIndex": e[2], "LockIndex": 0}
                        for k, e in entries], hdr)


async def vault(state, method, path, query, body):
    state.vault_in_flight += 1
    state.max_vault_in_flight = max(state.max_vault_in_flight, state.vault_in_flight)
    try:
        await asyncio.sleep(state.vault_delay)  # a real Vault answers later than at once
        if path.startswith("/v1/sys/internal/ui/mounts/"):
            return answer(200, {"data": {"type": "kv", "path": "secret/",
                                         "options": {"version": "2"}}})
        if path.startswith("/v1/secret/data/"):
            name = path[len("/v1/secret/data/"):]
            if name not in state.secrets:
                return answer(404, {"errors": []})
            return answer(200, {"request_id": "r", "lease_id": "", "lease_duration": 0,
                                "renewable": False,
                                "data": {"data": state.secrets[name],
                                         "metadata": {"version": 1, "deletion_time": "",
                                                      "destroyed": False,
                                                      "created_time": "2026-01-01T00:00:00Z"}}})
        return answer(404, {"errors": ["not emulated: " + path]})
    finally:
        state.vault_in_flight -= 1


def stats(state):
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return answer(200, {"requests": state.requests, "connections": state.connections,
                        "max_connections": state.max_connections,
                        "max_vault_in_flight": state.max_vault_in_flight,
                        "cpu_seconds": ru.ru_utime + ru.ru_stime, "index": state.index})


def serve(state, kind):
    async def handle(reader, writer):
        state.connections[kind] += 1
        state.max_connections[kind] = max(state.max_connections[kind], state.connections[kind])
        try:
            while True:
                try:
                    method, target, headers, body = await read_request(reader)
                except (asyncio.IncompleteReadError, ConnectionError, ValueError):
                    return
                u = urllib.parse.urlsplit(target)
                query = urllib.parse.parse_qs(u.query, keep_blank_values=True)
                if u.path == "/_bench/stats":
                    out = stats(state)
                elif u.path == "/_bench/put" and method == "POST":
                    for k, v in json.loads(body).items():
                        state.put(k, v.encode())
                    out = answer(200, b"true")
                else:
                    label = "%s %s %s" % (kind, method, "blocking" if "index" in query else "")
                    state.requests[label.strip()] = state.requests.get(label.strip(), 0) + 1
                    handler = consul if kind == "consul" else vault
                    out = await handler(state, method, u.path, query, body)
                writer.write(out)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    return
        finally:
            state.connections[kind] -= 1
            writer.close()
    return handle


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--secrets", type=int, default=50)
    ap.add_argument("--vault-delay-ms", type=float, default=5.0)
    args = ap.parse_args()
    state = State(args.secrets, args.vault_delay_ms / 1000)
    c = await asyncio.start_server(serve(state, "consul"), "127.0.0.1", 0, backlog=4096)
    v = await asyncio.start_server(serve(state, "vault"), "127.0.0.1", 0, backlog=4096)
    ports = "%d %d" % (c.sockets[0].getsockname()[1], v.sockets[0].getsockname()[1])
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(ports)
    os.rename(tmp, args.port_file)
    await asyncio.gather(c.serve_forever(), v.serve_forever())


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
