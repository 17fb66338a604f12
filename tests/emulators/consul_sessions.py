"""Consul's sessions and locks, for the Consul emulator (a mixin of ConsulEmulator in consul.py).

As hashicorp/consul does it: agent/session_endpoint.go (HTTP defaults, LockDelay fixup,
"Checks" replacing serfHealth), agent/consul/session_endpoint.go (Behavior and TTL checks,
renew), agent/consul/session_ttl.go (timer = TTL x 2, reset on renew),
agent/consul/state/session.go (node/check validation; on destroy: release or delete the
held keys and start their lock-delay, capped by structs.MaxLockDelay) and
agent/consul/state/catalog.go (a critical check or a deregistered node destroys the
sessions tied to it).
"""

import json

from common import new_uuid, parse_go_duration  # noqa: E402


class SessionsMixin:
    SESSION_TTL_MULTIPLIER = 2
    MAX_LOCK_DELAY = 60.0

    def _session_obj(self, s):
        return {k: v for k, v in s.items() if not k.startswith("_")}

    def _invalidate(self, sid):
        s = self.sessions.pop(sid, None)
        if s is None:
            return
        self.sessions_index = self._next()
        delay = min(s["LockDelay"] / 1e9, self.MAX_LOCK_DELAY)
        now = self.now()
        for k, e in list(self.kv.items()):
            if e.get("Session") == sid:
                if s["Behavior"] == "delete":
                    self._kv_delete(k)
                else:
                    self._kv_set(k, e["Value"], e["Flags"], None, "release")
                if delay > 0:
                    self.lock_delays[k] = now + delay
        self.cond.notify_all()

    def _invalidate_check_sessions(self, node, check_id):
        """A check went critical (or was removed): its sessions die (state/catalog.go)."""
        for sid, s in list(self.sessions.items()):
            if s["Node"] == node and check_id in (s["NodeChecks"] or []):
                self._invalidate(sid)

    def _deregister_node(self, name):
        for sid, s in list(self.sessions.items()):
            if s["Node"] == name:
                self._invalidate(sid)
        self.nodes.pop(name, None)
        self.services = [s for s in self.services if s["Node"] != name]
        self.catalog_index = self._next()
        self.cond.notify_all()

    @staticmethod
    def _go_duration(sec):
        """Go's Duration.String() for whole-millisecond values ("10s", "1.5s", "24h0m0s")."""
        ms = int(round(sec * 1000))
        if ms == 0:
            return "0s"
        h, rem = divmod(ms, 3600000)
        m, rem = divmod(rem, 60000)
        secs = ("%d.%03d" % divmod(rem, 1000)).rstrip("0").rstrip(".") + "s"
        if h:
            return "%dh%dm%s" % (h, m, secs)
        if m:
            return "%dm%s" % (m, secs)
        if ms < 1000:
            return "%gms" % ms
        return secs

    def _lock_delay_of(self, body):
        # FixupLockDelay: any-case key; a string or number below 1000 (ns) means seconds.
        key = next((k for k in body if k.lower() == "lockdelay"), None)
        if key is None:
            return 15.0
        v = body[key]
        if isinstance(v, str):
            try:
                sec = parse_go_duration(v)
            except ValueError:
                raise self._reply(400, "Request decode failed: time: invalid duration \"%s\"" % v)
            return sec * 1e9 if sec * 1e9 < 1000 else sec
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v) if v < 1000 else v / 1e9
        raise self._reply(400, "Request decode failed: invalid LockDelay")

    def _session_create(self, req, ident):
        try:
            body = json.loads(req.body.decode("utf-8")) if req.body.strip() else {}
        except ValueError as exc:
            raise self._reply(400, "Request decode failed: %s" % exc)
        if not isinstance(body, dict):
            raise self._reply(400, "Request decode failed: not an object")
        ld_s = self._lock_delay_of(body)
        node = body.get("Node") or self.node_name
        self._require(ident, "session", node, "write")
        behavior = body.get("Behavior") or "release"
        if behavior not in ("release", "delete"):
            raise self._reply(500, "Invalid Behavior setting '%s'" % behavior)
        ttl = body.get("TTL") or ""
        ttl_s = 0.0
        if ttl:
            try:
                ttl_s = parse_go_duration(ttl)
            except ValueError:
                raise self._reply(500, "Session TTL '%s' invalid: time: invalid duration \"%s\""
                            % (ttl, ttl))
            if ttl_s != 0 and (ttl_s < self.session_ttl_min or ttl_s > 86400):
                # %d of a time.Duration: nanoseconds.
                raise self._reply(500, "Invalid Session TTL '%d', must be between [%s=24h0m0s]"
                            % (int(round(ttl_s * 1e9)), self._go_duration(self.session_ttl_min)))
        if node not in self.nodes:
            raise self._reply(500, "Missing node registration")
        # "Checks" given (even empty) replaces the serfHealth default; NodeChecks adds to it.
        has_checks = any(k.lower() == "checks" for k in body)
        checks = [] if has_checks else ["serfHealth"]
        if has_checks:
            checks += list(body[next(k for k in body if k.lower() == "checks")] or [])
        for c in body.get("NodeChecks") or []:
            if c not in checks:
                checks.append(c)
        by_id = {c["CheckID"]: c for c in self.nodes[node]["_checks"]}
        for c in checks:
            if c not in by_id:
                raise self._reply(500, "Missing check '%s' registration" % c)
            if by_id[c]["Status"] == "critical":
                raise self._reply(500, "Check '%s' is in critical state" % c)
        idx = self._next()
        sid = new_uuid()
        self.sessions[sid] = {
            "ID": sid, "Name": body.get("Name", ""), "Node": node,
            "LockDelay": int(round(ld_s * 1e9)), "Behavior": behavior, "TTL": ttl,
            "NodeChecks": checks, "ServiceChecks": body.get("ServiceChecks"),
            "CreateIndex": idx, "ModifyIndex": idx,
            "_ttl": ttl_s, "_expires": self._ttl_deadline(ttl_s)}
        self.sessions_index = idx
        self.cond.notify_all()
        return self._json(req, 200, {"ID": sid})

    def _ttl_deadline(self, ttl_s):
        return self.now() + ttl_s * self.SESSION_TTL_MULTIPLIER if ttl_s else None

    def _session_endpoint(self, req, sub):
        ident = self._resolve(req)
        parts = sub.split("/", 1)
        op, arg = parts[0], (parts[1] if len(parts) > 1 else "")
        if op == "create":
            self._method(req, ["PUT"])
            return self._session_create(req, ident)
        if op in ("renew", "destroy", "info", "node") and arg == "":
            raise self._reply(400, "Missing node name" if op == "node" else "Missing session")
        if op == "renew":
            self._method(req, ["PUT"])
            s = self.sessions.get(arg)
            if s is None:
                raise self._reply(404, "Session id '%s' not found" % arg)
            self._require(ident, "session", s["Node"], "write")
            s["_expires"] = self._ttl_deadline(s["_ttl"])
            return self._json(req, 200, [self._session_obj(s)])
        if op == "destroy":
            self._method(req, ["PUT"])
            s = self.sessions.get(arg)
            if s is None and self.acl_enabled:
                raise self._reply(500, "Unknown session \"%s\"" % arg)
            if s is not None:
                self._require(ident, "session", s["Node"], "write")
                self._invalidate(arg)
            return self._json(req, 200, True)
        if op in ("info", "list", "node"):
            self._method(req, ["GET"])

            def compute():
                if op == "info":
                    items = [self.sessions[arg]] if arg in self.sessions else []
                elif op == "node":
                    items = [s for s in self.sessions.values() if s["Node"] == arg]
                else:
                    items = list(self.sessions.values())
                items = [self._session_obj(s) for s in sorted(items, key=lambda s: s["ID"])
                         if self._allowed(ident, "session", s["Node"], "read")]
                return 200, items, self.sessions_index, False

            status, body, index, _ = self._blocking(req, compute)
            return self._json(req, 200, body, self._meta_headers(req, index))
        raise self._reply(404, "404 page not found\n")
