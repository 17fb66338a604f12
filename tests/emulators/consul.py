#!/usr/bin/env python3
"""Consul emulator for templet's integration tests (see README.md in this folder).

Emulated: KV read/write/delete with index semantics and real blocking queries, sessions and
locks (acquire/release, lock-delay, TTL invalidation; consul_sessions.py), ACL tokens (lite), catalog and health
endpoints from seeded or registered nodes/services, plain-text errors; Connect (CA roots and
leaf certificates, health/connect), partitions, peerings and exported/imported services in
consul_connect.py.
"""

import base64
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (Emulator, Response, json_dumps, new_uuid, parse_go_duration,  # noqa: E402
                    run_main)
from consul_connect import ConnectMixin  # noqa: E402
from consul_sessions import SessionsMixin  # noqa: E402

DEFAULT_WAIT = 300.0
MAX_WAIT = 600.0
MAX_VALUE = 512 * 1024


class Reply(Exception):
    def __init__(self, response):
        super().__init__()
        self.response = response


def plain(status, text, headers=None):
    return Reply(Response(status, text, headers, "text/plain; charset=utf-8"))


class ConsulEmulator(ConnectMixin, SessionsMixin, Emulator):
    name = "consul"

    @staticmethod
    def _reply(status, text):
        return plain(status, text)

    # ------------------------------------------------------------------ state
    def reset_state(self):
        self.index = 10
        self.kv = {}
        self.tombstones = {}
        self.kv_index = 0
        self.lock_delays = {}
        self.sessions = {}
        self.sessions_index = 0
        self.dc = "dc1"
        self.wan_datacenters = []
        self.node_name = "emulator-node"
        self.nodes = {}
        self.services = []
        self.catalog_index = 0
        self.acl_enabled = False
        self.acl_default_policy = "deny"
        self.acl_tokens = {}
        self.anonymous_rules = {}
        # Consul's server config `session_ttl_min` (10s by default); tests lower it, never the
        # multiplier, so a silent session dies exactly 2 x TTL after its last renewal as on a real
        # server (agent/consul/session_ttl.go: ttl * structs.SessionTTLMultiplier).
        self.session_ttl_min = 10.0
        self._set_node({"Node": self.node_name, "Address": "127.0.0.1"})
        self._add_service({"Node": self.node_name, "ID": "consul", "Service": "consul",
                           "Port": 8300, "Tags": []})
        self._reset_connect()

    def _next(self):
        self.index += 1
        return self.index

    def _set_node(self, spec):
        idx = self._next()
        name = spec["Node"]
        old = self.nodes.get(name)
        addr = spec.get("Address", "127.0.0.1")
        node = {"ID": spec.get("ID") or (old or {}).get("ID") or new_uuid(), "Node": name,
                "Address": addr, "Datacenter": spec.get("Datacenter", self.dc),
                "TaggedAddresses": spec.get("TaggedAddresses") or {
                    "lan": addr, "lan_ipv4": addr, "wan": addr, "wan_ipv4": addr},
                "Meta": spec.get("Meta") or {"consul-network-segment": ""},
                "CreateIndex": (old or {}).get("CreateIndex", idx), "ModifyIndex": idx}
        checks = spec.get("Checks")
        if checks is None:
            checks = (old or {}).get("_checks") or [{"CheckID": "serfHealth",
                                                     "Name": "Serf Health Status",
                                                     "Status": "passing",
                                                     "Output": "Agent alive and reachable"}]
        node["_checks"] = [self._check(c, name, None, idx) for c in checks]
        self.nodes[name] = node
        self.catalog_index = idx
        return node

    def _check(self, c, node, svc, idx):
        return {"Node": node, "CheckID": c.get("CheckID") or c.get("ID") or
                ("service:" + svc["ID"] if svc else "check"),
                "Name": c.get("Name") or ("Service '%s' check" % svc["Service"] if svc
                                          else "check"),
                "Status": c.get("Status", "passing"), "Notes": c.get("Notes", ""),
                "Output": c.get("Output", ""), "ServiceID": svc["ID"] if svc else "",
                "ServiceName": svc["Service"] if svc else "",
                "ServiceTags": list(svc["Tags"]) if svc else [],
                "Type": c.get("Type", "ttl" if svc else ""), "Interval": c.get("Interval", ""),
                "Timeout": c.get("Timeout", ""), "ExposedPort": 0, "Definition": {},
                "CreateIndex": c.get("CreateIndex", idx), "ModifyIndex": idx}

    def _add_service(self, spec):
        idx = self._next()
        node = spec.get("Node", self.node_name)
        if node not in self.nodes:
            self._set_node({"Node": node, "Address": spec.get("NodeAddress", "127.0.0.1")})
            idx = self._next()
        svc = {"Node": node, "ID": spec.get("ID") or spec["Service"],
               "Service": spec["Service"], "Tags": list(spec.get("Tags") or []),
               "Address": spec.get("Address", ""), "Port": int(spec.get("Port", 0)),
               "Meta": spec.get("Meta") or {}, "Kind": spec.get("Kind", ""),
               "Weights": spec.get("Weights") or {"Passing": 1, "Warning": 1},
               "TaggedAddresses": spec.get("TaggedAddresses"),
               "EnableTagOverride": bool(spec.get("EnableTagOverride", False)),
               "Proxy": spec.get("Proxy") or {}, "Connect": spec.get("Connect") or {},
               "CreateIndex": idx, "ModifyIndex": idx}
        self.services = [s for s in self.services
                         if not (s["Node"] == node and s["ID"] == svc["ID"])]
        svc["_checks"] = [self._check(c, node, svc, idx) for c in (spec.get("Checks") or [])]
        self.services.append(svc)
        self.catalog_index = idx
        return svc

    def seed(self, data):
        if "dc" in data:
            self.dc = data["dc"]
        if "wan_datacenters" in data:
            # Other datacenters the WAN pool knows; this emulator cannot reach them, so a query
            # with ?dc= one of them fails "No path to datacenter", as when all its servers fail.
            self.wan_datacenters = list(data["wan_datacenters"])
        if "session_ttl_min" in data:
            self.session_ttl_min = parse_go_duration(data["session_ttl_min"])
        for name in data.get("deregister_nodes") or []:
            self._deregister_node(name)
        acl = data.get("acl")
        if acl is not None:
            self.acl_enabled = bool(acl.get("enabled", True))
            self.acl_default_policy = acl.get("default_policy", "deny")
            for secret, t in (acl.get("tokens") or {}).items():
                self.secrets.record("consul_token", secret)
                self.acl_tokens[secret] = {"AccessorID": t.get("AccessorID") or new_uuid(),
                                           "management": bool(t.get("management")),
                                           "rules": t.get("rules") or {}}
            if "anonymous_rules" in acl:
                self.anonymous_rules = acl["anonymous_rules"] or {}
        if "nodes" in data:
            self.nodes = {}
            for n in data["nodes"]:
                self._set_node(n)
        if "services" in data:
            self.services = []
            for s in data["services"]:
                self._add_service(s)
        for s in data.get("register_services") or []:
            self._add_service(s)
        for upd in data.get("set_checks") or []:
            self._set_check(upd)
        for key, val in (data.get("kv") or {}).items():
            flags = 0
            if isinstance(val, dict):
                flags = int(val.get("Flags", 0))
                val = val.get("Value")
            if val is None:
                raw = None
            elif isinstance(val, str):
                raw = val.encode("utf-8")
            else:
                raw = json.dumps(val).encode("utf-8")
            self._kv_set(key, raw, flags)
        for key in data.get("kv_delete") or []:
            self._kv_delete(key)
        if "reset_index_to" in data:
            self._reset_index(int(data["reset_index_to"]))
        self._seed_connect(data)
        return {"index": self.index}

    def _set_check(self, upd):
        idx = self._next()
        cid = upd["CheckID"]
        node = upd.get("Node")
        for holder in list(self.nodes.values()) + self.services:
            if node and holder["Node"] != node:
                continue
            for c in holder["_checks"]:
                if c["CheckID"] == cid:
                    c["Status"] = upd.get("Status", c["Status"])
                    c["Output"] = upd.get("Output", c["Output"])
                    c["ModifyIndex"] = idx
                    if c["Status"] == "critical":
                        self._invalidate_check_sessions(holder["Node"], cid)
        self.catalog_index = idx

    def _reset_index(self, n):
        """Simulate a snapshot restore: the raft index goes back to n."""
        n = max(1, n)
        self.index = n
        for e in self.kv.values():
            e["CreateIndex"] = min(e["CreateIndex"], n)
            e["ModifyIndex"] = min(e["ModifyIndex"], n)
        self.tombstones = {}
        self.kv_index = min(self.kv_index, n)
        self.sessions_index = min(self.sessions_index, n)
        self.catalog_index = min(self.catalog_index, n)
        for node in self.nodes.values():
            node["CreateIndex"] = min(node["CreateIndex"], n)
            node["ModifyIndex"] = min(node["ModifyIndex"], n)
        for s in self.services:
            s["CreateIndex"] = min(s["CreateIndex"], n)
            s["ModifyIndex"] = min(s["ModifyIndex"], n)

    def dump_state(self):
        kv = {}
        for k, e in sorted(self.kv.items()):
            d = {x: y for x, y in e.items() if x != "Value"}
            d["Value"] = e["Value"].decode("utf-8", errors="replace") if e["Value"] is not None \
                else None
            kv[k] = d
        return {"index": self.index, "kv_index": self.kv_index, "kv": kv,
                "tombstones": self.tombstones, "sessions": self.sessions,
                "catalog_index": self.catalog_index,
                "nodes": {k: {x: y for x, y in v.items() if x != "_checks"}
                          for k, v in self.nodes.items()},
                "services": [{x: y for x, y in s.items() if x != "_checks"}
                             for s in self.services],
                "acl_enabled": self.acl_enabled}

    # ------------------------------------------------------------------ background
    def start_background(self):
        threading.Thread(target=self._reaper, daemon=True).start()

    def _reaper(self):
        # Consul arms one timer per session; a 20 ms sweep keeps the emulator within that of the
        # 2 x TTL deadline.
        while not self.stopping:
            time.sleep(0.02)
            with self.lock:
                now = self.now()
                for sid, s in list(self.sessions.items()):
                    if s["_expires"] and now >= s["_expires"]:
                        self._invalidate(sid)

    # ------------------------------------------------------------------ KV primitives
    def _kv_set(self, key, value, flags=0, session=None, lock_op=None):
        idx = self._next()
        e = self.kv.get(key)
        if e is None:
            e = {"LockIndex": 0, "Key": key, "Flags": flags, "Value": value,
                 "CreateIndex": idx, "ModifyIndex": idx}
            self.kv[key] = e
        else:
            e["Flags"] = flags
            e["Value"] = value
            e["ModifyIndex"] = idx
        if lock_op == "acquire":
            if e.get("Session") != session:
                e["LockIndex"] += 1
            e["Session"] = session
        elif lock_op == "release":
            e.pop("Session", None)
        self.tombstones.pop(key, None)
        self.kv_index = idx
        self.cond.notify_all()
        return e

    def _kv_delete(self, key):
        if key not in self.kv:
            return
        idx = self._next()
        del self.kv[key]
        self.tombstones[key] = idx
        self.kv_index = idx
        self.cond.notify_all()

    # ------------------------------------------------------------------ ACL
    def _token(self, req):
        tok = req.arg("token")
        if tok is None or tok == "":
            tok = req.header("X-Consul-Token")
        if not tok:
            auth = req.header("Authorization") or ""
            if auth.lower().startswith("bearer "):
                tok = auth[7:].strip()
        return tok or ""

    def _resolve(self, req):
        """Returns an identity dict or None (ACLs disabled). Raises 403 ACL not found."""
        if not self.acl_enabled:
            return None
        tok = self._token(req)
        if tok == "" or tok == "anonymous":
            return {"AccessorID": "00000000-0000-0000-0000-000000000002",
                    "management": False, "rules": self.anonymous_rules}
        t = self.acl_tokens.get(tok)
        if t is None:
            raise plain(403, "ACL not found")
        return t

    def _allowed(self, ident, kind, name, need):
        if ident is None or ident["management"]:
            return True
        rules = ident["rules"]
        level = None
        exact = (rules.get(kind) or {})
        if name in exact:
            level = exact[name]
        else:
            best = -1
            for prefix, lvl in (rules.get(kind + "_prefix") or {}).items():
                if name.startswith(prefix) and len(prefix) > best:
                    best, level = len(prefix), lvl
        if level is None:
            level = "write" if self.acl_default_policy == "allow" else "deny"
        if need == "read":
            return level in ("read", "write", "list")
        return level == "write"

    def _require(self, ident, kind, name, need):
        if not self._allowed(ident, kind, name, need):
            raise plain(403, "Permission denied: token with AccessorID '%s' lacks permission "
                             "'%s:%s' on \"%s\"" % (ident["AccessorID"], kind, need, name))

    # ------------------------------------------------------------------ HTTP
    def handle(self, req):
        with self.lock:
            try:
                return self._handle(req)
            except Reply as r:
                return r.response

    def _meta_headers(self, req, index):
        cons = "leader"
        if req.has("stale"):
            cons = "stale"
        elif req.has("consistent"):
            cons = "consistent"
        return {"X-Consul-Index": str(max(1, int(index))), "X-Consul-KnownLeader": "true",
                "X-Consul-LastContact": "0", "X-Consul-Effective-Consistency": cons,
                "Vary": "Accept-Encoding"}

    def _json(self, req, status, obj, headers=None):
        pretty = req.has("pretty")
        body = json_dumps(obj, pretty) + ("\n" if pretty else "")
        return Response(status, body, headers, "application/json")

    def _parse_wait(self, req):
        wait = DEFAULT_WAIT
        w = req.arg("wait")
        if w not in (None, ""):
            try:
                wait = parse_go_duration(w)
            except ValueError:
                raise plain(400, "Invalid wait time")
        if wait <= 0:
            wait = DEFAULT_WAIT
        wait = min(wait, MAX_WAIT)
        index = 0
        i = req.arg("index")
        if i not in (None, ""):
            try:
                index = int(i)
                if index < 0:
                    raise ValueError
            except ValueError:
                raise plain(400, "Invalid index")
        return index, wait

    def _blocking(self, req, compute):
        """compute() -> (status, body, index, not_found). Blocks per Consul's rules."""
        min_index, wait = self._parse_wait(req)
        result = compute()
        if min_index == 0:
            return result
        deadline = time.monotonic() + wait + random.uniform(0, wait / 16.0)
        while True:
            status, body, index, not_found = result
            if not not_found and index > min_index:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.stopping:
                return result
            self.cond.wait(min(remaining, 1.0))
            result = compute()

    def _check_common(self, req):
        if req.has("stale") and req.has("consistent"):
            raise plain(400, "Cannot specify ?stale with ?consistent, conflicting semantics.")
        dc = req.arg("dc")
        if dc not in (None, "") and dc != self.dc:
            raise plain(500, "No path to datacenter")

    def _handle(self, req):
        p = req.path
        if not p.startswith("/v1/"):
            raise plain(404, "404 page not found\n")
        self._check_common(req)
        if p.startswith("/v1/kv"):
            rest = p[len("/v1/kv"):]
            if rest and not rest.startswith("/"):
                raise plain(404, "404 page not found\n")
            return self._kv_endpoint(req, rest[1:] if rest else "")
        if p.startswith("/v1/session/"):
            return self._session_endpoint(req, p[len("/v1/session/"):])
        connect = self._connect_endpoint(req, p)
        if connect is not None:
            return connect
        if p.startswith("/v1/catalog/") or p.startswith("/v1/health/"):
            return self._catalog_endpoint(req, p[len("/v1/"):])
        if p == "/v1/status/leader":
            return self._json(req, 200, "127.0.0.1:8300")
        if p == "/v1/status/peers":
            return self._json(req, 200, ["127.0.0.1:8300"])
        if p == "/v1/agent/self":
            return self._json(req, 200, {"Config": {"Datacenter": self.dc,
                                                    "NodeName": self.node_name,
                                                    "Version": "1.19.2", "Server": True},
                                         "Member": {"Name": self.node_name,
                                                    "Addr": "127.0.0.1", "Status": 1}})
        raise plain(404, "404 page not found\n")

    def _method(self, req, allowed):
        if req.method not in allowed:
            raise plain(405, "method %s not allowed" % req.method,
                        {"Allow": ",".join(allowed)})

    # ------------------------------------------------------------------ KV endpoint
    def _kv_endpoint(self, req, key):
        self._method(req, ["GET", "PUT", "DELETE"])
        ident = self._resolve(req)
        if ".." in key or key != key.strip(" "):
            raise plain(400, "Invalid key name: %s" % key)
        if req.method == "GET":
            if req.has("keys"):
                return self._kv_keys(req, ident, key)
            if req.has("recurse"):
                return self._kv_list(req, ident, key)
            if key == "":
                raise plain(400, "Missing key name")
            return self._kv_get(req, ident, key)
        if req.method == "PUT":
            return self._kv_put(req, ident, key)
        return self._kv_del(req, ident, key)

    def _prefix_index(self, prefix):
        idx = 0
        for k, e in self.kv.items():
            if k.startswith(prefix):
                idx = max(idx, e["ModifyIndex"])
        for k, i in self.tombstones.items():
            if k.startswith(prefix):
                idx = max(idx, i)
        return idx

    @staticmethod
    def _entry(e):
        d = {"LockIndex": e["LockIndex"], "Key": e["Key"], "Flags": e["Flags"],
             "Value": base64.b64encode(e["Value"]).decode("ascii") if e["Value"] else None}
        if e.get("Session"):
            d["Session"] = e["Session"]
        d["CreateIndex"] = e["CreateIndex"]
        d["ModifyIndex"] = e["ModifyIndex"]
        return d

    def _kv_get(self, req, ident, key):
        self._require(ident, "key", key, "read")

        def compute():
            e = self.kv.get(key)
            if e is None:
                return 404, None, self.kv_index, True
            return 200, e, e["ModifyIndex"], False

        status, e, index, _ = self._blocking(req, compute)
        headers = self._meta_headers(req, index)
        if status == 404:
            return Response(404, b"", headers)
        if req.has("raw"):
            headers.update({"X-Content-Type-Options": "nosniff",
                            "Content-Security-Policy": "sandbox"})
            return Response(200, e["Value"] or b"", headers, "text/plain")
        return self._json(req, 200, [self._entry(e)], headers)

    def _filter(self, ident, keys):
        out = [k for k in keys if self._allowed(ident, "key", k, "read")]
        return out, len(out) != len(keys)

    def _kv_list(self, req, ident, prefix):
        filtered = [False]

        def compute():
            keys = sorted(k for k in self.kv if k.startswith(prefix))
            keys, filtered[0] = self._filter(ident, keys)
            idx = self._prefix_index(prefix) or self.kv_index
            if not keys:
                return 404, None, idx, True
            return 200, [self._entry(self.kv[k]) for k in keys], idx, False

        status, body, index, _ = self._blocking(req, compute)
        headers = self._meta_headers(req, index)
        if filtered[0]:
            headers["X-Consul-Results-Filtered-By-ACLs"] = "true"
        if status == 404:
            return Response(404, b"", headers)
        return self._json(req, 200, body, headers)

    def _kv_keys(self, req, ident, prefix):
        sep = req.arg("separator")
        if sep is None:
            sep = req.arg("seperator")
        filtered = [False]

        def compute():
            keys = sorted(k for k in self.kv if k.startswith(prefix))
            keys, filtered[0] = self._filter(ident, keys)
            out = []
            seen = set()
            for k in keys:
                if sep:
                    pos = k.find(sep, len(prefix))
                    if pos >= 0:
                        k = k[:pos + len(sep)]
                if k not in seen:
                    seen.add(k)
                    out.append(k)
            idx = self._prefix_index(prefix) or self.kv_index
            if not out and prefix != "":
                return 404, None, idx, True
            return 200, out, idx, False

        status, body, index, _ = self._blocking(req, compute)
        headers = self._meta_headers(req, index)
        if filtered[0]:
            headers["X-Consul-Results-Filtered-By-ACLs"] = "true"
        if status == 404:
            return Response(404, b"", headers)
        return self._json(req, 200, body, headers)

    def _kv_put(self, req, ident, key):
        if key == "":
            raise plain(400, "Missing key name")
        self._require(ident, "key", key, "write")
        opts = [o for o in ("cas", "acquire", "release") if req.has(o)]
        if len(opts) > 1:
            raise plain(400, "Conflicting flags: " + req.query_string)
        if len(req.body) > MAX_VALUE:
            raise plain(413, "Request body(%d bytes) too large, max size: %d bytes. See "
                             "https://developer.hashicorp.com/docs/agent/config/config-files"
                             "#kv_max_value_size." % (len(req.body), MAX_VALUE))
        flags = 0
        if req.arg("flags") not in (None, ""):
            try:
                flags = int(req.arg("flags"))
                if flags < 0:
                    raise ValueError
            except ValueError:
                raise plain(400, "Invalid flags")
        value = req.body if req.body else None
        e = self.kv.get(key)
        if req.has("cas"):
            try:
                cas = int(req.arg("cas"))
            except (TypeError, ValueError):
                raise plain(400, "Invalid cas index")
            if (cas == 0 and e is not None) or (cas != 0 and (e is None or
                                                              e["ModifyIndex"] != cas)):
                return self._json(req, 200, False)
            self._kv_set(key, value, flags, e.get("Session") if e else None)
            return self._json(req, 200, True)
        if req.has("acquire"):
            # agent/consul/kvs_endpoint.go rejects a lock inside its lock-delay before the state
            # store (state/kvs.go kvsLockTxn) looks at the session or the holder.
            sid = req.arg("acquire")
            if self.lock_delays.get(key, 0) > self.now():
                return self._json(req, 200, False)
            s = self.sessions.get(sid)
            if s is None:
                raise plain(500, "invalid session \"%s\"" % sid)
            if e is not None and e.get("Session") and e["Session"] != sid:
                return self._json(req, 200, False)
            self._kv_set(key, value, flags, sid, "acquire")
            return self._json(req, 200, True)
        if req.has("release"):
            sid = req.arg("release")
            if not sid:
                raise plain(500, "missing session")
            if e is None or e.get("Session") != sid:
                return self._json(req, 200, False)
            self._kv_set(key, value, flags, None, "release")
            return self._json(req, 200, True)
        # A plain PUT ignores (and keeps) any lock.
        self._kv_set(key, value, flags, e.get("Session") if e else None)
        return self._json(req, 200, True)

    def _kv_del(self, req, ident, key):
        if req.has("recurse") and req.has("cas"):
            raise plain(400, "Conflicting flags: cas can't be used with recurse")
        if req.has("recurse"):
            for k in [k for k in self.kv if k.startswith(key)]:
                self._require(ident, "key", k, "write")
            for k in sorted(k for k in self.kv if k.startswith(key)):
                self._kv_delete(k)
            return self._json(req, 200, True)
        if key == "":
            raise plain(400, "Missing key name")
        self._require(ident, "key", key, "write")
        if req.has("cas"):
            try:
                cas = int(req.arg("cas"))
            except (TypeError, ValueError):
                raise plain(400, "Invalid cas index")
            e = self.kv.get(key)
            if cas == 0 or e is None or e["ModifyIndex"] != cas:
                return self._json(req, 200, False)
        self._kv_delete(key)
        return self._json(req, 200, True)

    # ------------------------------------------------------------------ catalog / health
    @staticmethod
    def _node_obj(n):
        return {k: v for k, v in n.items() if k != "_checks"}

    @staticmethod
    def _svc_obj(s):
        d = {"ID": s["ID"], "Service": s["Service"], "Tags": list(s["Tags"]),
             "Address": s["Address"], "Meta": dict(s["Meta"]), "Port": s["Port"],
             "Weights": s["Weights"], "EnableTagOverride": s["EnableTagOverride"],
             "Proxy": dict({"Mode": "", "MeshGateway": {}, "Expose": {}}, **s["Proxy"]),
             "Connect": dict(s["Connect"]), "PeerName": "", "CreateIndex": s["CreateIndex"],
             "ModifyIndex": s["ModifyIndex"]}
        if s["TaggedAddresses"]:
            d["TaggedAddresses"] = s["TaggedAddresses"]
        if s["Kind"]:
            d["Kind"] = s["Kind"]
        return d

    def _catalog_endpoint(self, req, sub):
        if req.method == "PUT" and sub in ("catalog/register", "catalog/deregister"):
            return self._register(req, sub)
        self._method(req, ["GET"])
        ident = self._resolve(req)
        if sub == "catalog/datacenters":
            # agent/catalog_endpoint.go CatalogDatacenters -> Catalog.ListDatacenters: every
            # datacenter the router knows (the local one first, then by round-trip time), with
            # no blocking query and no X-Consul-Index.
            return self._json(req, 200, [self.dc] + self.wan_datacenters)
        parts = sub.split("/", 2)
        kind, what = parts[0], parts[1] if len(parts) > 1 else ""
        arg = parts[2] if len(parts) > 2 else ""
        tags = req.args("tag")

        def svc_ok(s):
            return self._allowed(ident, "service", s["Service"], "read") and \
                self._allowed(ident, "node", s["Node"], "read")

        def compute():
            idx = self.catalog_index
            if kind == "catalog" and what == "services":
                out = {}
                for s in self.services:
                    if not svc_ok(s):
                        continue
                    lst = out.setdefault(s["Service"], [])
                    for t in s["Tags"]:
                        if t not in lst:
                            lst.append(t)
                return 200, out, idx, False
            if kind == "catalog" and what == "nodes":
                out = [self._node_obj(n) for name, n in sorted(self.nodes.items())
                       if self._allowed(ident, "node", name, "read")]
                return 200, out, idx, False
            if kind == "catalog" and what == "node":
                n = self.nodes.get(arg)
                if n is None or not self._allowed(ident, "node", arg, "read"):
                    return 200, None, idx, False
                svcs = {s["ID"]: self._svc_obj(s) for s in self.services
                        if s["Node"] == arg and svc_ok(s)}
                return 200, {"Node": self._node_obj(n), "Services": svcs}, idx, False
            if kind == "catalog" and what == "service":
                out = []
                for s in self.services:
                    if s["Service"] != arg or not svc_ok(s) or \
                            not all(t in s["Tags"] for t in tags):
                        continue
                    n = self.nodes[s["Node"]]
                    out.append({"ID": n["ID"], "Node": n["Node"], "Address": n["Address"],
                                "Datacenter": n["Datacenter"],
                                "TaggedAddresses": n["TaggedAddresses"], "NodeMeta": n["Meta"],
                                "ServiceKind": s["Kind"], "ServiceID": s["ID"],
                                "ServiceName": s["Service"], "ServiceTags": list(s["Tags"]),
                                "ServiceAddress": s["Address"],
                                "ServiceTaggedAddresses": s["TaggedAddresses"],
                                "ServiceWeights": s["Weights"], "ServiceMeta": s["Meta"],
                                "ServicePort": s["Port"], "ServiceSocketPath": "",
                                "ServiceEnableTagOverride": s["EnableTagOverride"],
                                "ServiceProxy": {"Mode": "", "MeshGateway": {}, "Expose": {}},
                                "ServiceConnect": {}, "CreateIndex": s["CreateIndex"],
                                "ModifyIndex": s["ModifyIndex"]})
                return 200, out, idx, False
            if kind == "health" and what == "service":
                passing = req.has("passing") and req.arg("passing") not in ("false", "0")
                return 200, self._health_entries(ident, lambda s: s["Service"] == arg, tags,
                                                 passing), idx, False
            if kind == "health" and what == "checks":
                out = [dict(c) for s in self.services if s["Service"] == arg and svc_ok(s)
                       for c in s["_checks"]]
                return 200, out, idx, False
            if kind == "health" and what == "node":
                n = self.nodes.get(arg)
                out = [dict(c) for c in n["_checks"]] if n else []
                if n:
                    out += [dict(c) for s in self.services if s["Node"] == arg
                            for c in s["_checks"]]
                return 200, out, idx, False
            if kind == "health" and what == "state":
                out = [dict(c) for h in list(self.nodes.values()) + self.services
                       for c in h["_checks"] if arg in ("any", c["Status"])]
                return 200, out, idx, False
            raise plain(404, "404 page not found\n")

        status, body, index, _ = self._blocking(req, compute)
        return self._json(req, status, body, self._meta_headers(req, index))

    def _health_entries(self, ident, match, tags, passing):
        """/v1/health/service (and /v1/health/connect) entries of the services `match` takes."""
        out = []
        for s in self.services:
            if not match(s) or not self._allowed(ident, "service", s["Service"], "read") or \
                    not self._allowed(ident, "node", s["Node"], "read") or \
                    not all(t in s["Tags"] for t in tags):
                continue
            n = self.nodes[s["Node"]]
            checks = [dict(c) for c in n["_checks"]] + [dict(c) for c in s["_checks"]]
            if passing and any(c["Status"] != "passing" for c in checks):
                continue
            out.append({"Node": self._node_obj(n), "Service": self._svc_obj(s), "Checks": checks})
        return out

    def _register(self, req, sub):
        ident = self._resolve(req)
        try:
            body = json.loads(req.body.decode("utf-8"))
        except ValueError as exc:
            raise plain(400, "Request decode failed: %s" % exc)
        node = body.get("Node")
        if not node:
            raise plain(400, "Must provide node")
        self._require(ident, "node", node, "write")
        if sub == "catalog/register":
            if node not in self.nodes or body.get("Address"):
                self._set_node({"Node": node, "Address": body.get("Address", "127.0.0.1"),
                                "ID": body.get("ID"), "Meta": body.get("NodeMeta"),
                                "TaggedAddresses": body.get("TaggedAddresses")})
            svc = body.get("Service")
            checks = body.get("Checks") or ([body["Check"]] if body.get("Check") else [])
            if svc:
                spec = dict(svc)
                spec["Node"] = node
                spec["Checks"] = [c for c in checks if c.get("ServiceID") in
                                  (spec.get("ID") or spec["Service"],)]
                self._add_service(spec)
            for c in checks:
                if not c.get("ServiceID"):
                    self.nodes[node]["_checks"] = [
                        x for x in self.nodes[node]["_checks"] if x["CheckID"] != c["CheckID"]
                    ] + [self._check(c, node, None, self._next())]
                    self.catalog_index = self.index
                    if c.get("Status") == "critical":
                        self._invalidate_check_sessions(node, c["CheckID"])
        else:
            sid = body.get("ServiceID")
            if sid:
                self.services = [s for s in self.services
                                 if not (s["Node"] == node and s["ID"] == sid)]
            elif body.get("CheckID"):
                if node in self.nodes:
                    self.nodes[node]["_checks"] = [x for x in self.nodes[node]["_checks"]
                                                   if x["CheckID"] != body["CheckID"]]
                    self._invalidate_check_sessions(node, body["CheckID"])
            else:
                self._deregister_node(node)
            self.catalog_index = self._next()
        self.cond.notify_all()
        return self._json(req, 200, True)


if __name__ == "__main__":
    sys.exit(run_main(ConsulEmulator))
