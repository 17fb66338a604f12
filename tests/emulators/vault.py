#!/usr/bin/env python3
"""Vault emulator for templet's integration tests (see README.md in this folder).

Emulated: token auth (X-Vault-Token / Authorization: Bearer), the full response envelope,
KV v1 and KV v2 mounts (vault_kv.py), sys/internal/ui/mounts, a database secrets engine with
leases, optionally backed by a real PostgreSQL through psql (vault_database.py),
sys/leases/{renew,revoke,lookup}, auth/token/{lookup-self,renew-self,revoke-self,create,lookup}, AppRole login, machine logins
(vault_auth.py), policies-lite, sealed mode. Real time is used (plus an optional offset). The
lifecycle (leases die with their token, the default policy, Agent's cache, static roles, standby
redirects) is in vault_lifecycle.py.
"""

import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (Emulator, json_response, empty_response, new_uuid, rfc3339,  # noqa: E402
                    run_main)
from vault_common import (PERMISSION_DENIED, PERMISSION_DENIED_MULTI, SYSTEM_MAX_TTL,  # noqa: E402
                          Reply, err, human_duration, multierror, parse_duration_second, rand62)
from vault_database import (DEFAULT_CREATE, DEFAULT_RENEW, DEFAULT_REVOKE,  # noqa: E402
                            DatabaseMixin, PgRunner, render_sql)
from vault_kv import KvMixin  # noqa: E402
from vault_lifecycle import LifecycleMixin  # noqa: E402
from vault_auth import VaultAuthMethods  # noqa: E402  (machine logins: aws, gcp, azure, k8s, jwt)
from vault_pki import PkiMixin  # noqa: E402  (the PKI secrets engine)

class VaultEmulator(KvMixin, DatabaseMixin, LifecycleMixin, PkiMixin, Emulator):
    name = "vault"

    # ------------------------------------------------------------------ state
    def reset_state(self):
        self.sealed = False
        self.root_token = "root"
        self.tokens = {}
        self.policies = {}
        self.mounts = {}
        self.kv = {}  # mount -> path -> entry
        self.leases = {}
        self.revoked_leases = []  # revoked with their token (expiration.go RevokeByToken)
        self.approle_roles = {}
        self.auth_methods = VaultAuthMethods()
        self.pg_log = []
        self.lease_reap_delay = 1.0
        self.system_max_ttl = SYSTEM_MAX_TTL
        self._add_token({"id": "root", "policies": ["root"], "ttl": 0, "renewable": False,
                         "display_name": "root", "path": "auth/token/root"})
        self._mount("secret/", "kv", {"version": "2"})
        self._mount("kv/", "kv", {"version": "1"})
        self._mount("cubbyhole/", "cubbyhole", None, local=True)
        self._mount("identity/", "identity", None)
        self._mount("sys/", "system", None)
        self._mount("database/", "database", None)
        self.mounts["database/"]["roles"]["app"] = self._role("app", {})
        self.reset_lifecycle()
        self.reset_pki()

    def _mount(self, path, mtype, options, local=False, conf=None):
        conf = conf or {}
        m = {"path": path, "type": mtype, "options": options, "local": local,
             "accessor": "%s_%s" % (mtype, rand62(8).lower()), "uuid": new_uuid(),
             "description": conf.get("description", ""),
             "default_ttl": parse_duration_second(conf.get("default_ttl", 0)),
             "max_ttl": parse_duration_second(conf.get("max_ttl", 0)),
             "roles": {}}
        self.mounts[path] = m
        if mtype == "kv":
            self.kv.setdefault(path, {})
        return m

    def _role(self, name, conf):
        r = {"name": name,
             "default_ttl": parse_duration_second(conf.get("default_ttl", 3600)),
             "max_ttl": parse_duration_second(conf.get("max_ttl", 86400)),
             "postgres": conf.get("postgres"),
             "creation_statements": conf.get("creation_statements") or DEFAULT_CREATE,
             "grant": conf.get("grant"),
             "renew_statements": conf.get("renew_statements") or DEFAULT_RENEW,
             "revocation_statements": conf.get("revocation_statements") or DEFAULT_REVOKE}
        if isinstance(r["grant"], str):
            r["grant"] = [r["grant"]]
        return r

    def _add_token(self, spec):
        now = self.now()
        tid = spec.get("id") or ("hvs." + rand62(24))
        ttl = parse_duration_second(spec.get("ttl", 0))
        period = parse_duration_second(spec.get("period", 0))
        if period:
            ttl = period
        policies = list(spec.get("policies") or ["default"])
        # token_store.go: every token gets `default` unless asked not to (root has no need).
        if "root" not in policies and "default" not in policies and \
                not spec.get("no_default_policy"):
            policies.append("default")
        tok = {"id": tid, "accessor": spec.get("accessor") or rand62(24),
               "policies": policies,
               "creation_time": now, "creation_ttl": ttl,
               "expire_time": (now + ttl) if ttl else None,
               "explicit_max_ttl": parse_duration_second(spec.get("explicit_max_ttl",
                                                                  spec.get("max_ttl", 0))),
               "period": period,
               # The auth method's cap (AppRole token_max_ttl): enforced, not shown by lookup.
               "max_ttl": parse_duration_second(spec.get("backend_max_ttl", 0)),
               "renewable": bool(spec.get("renewable", ttl > 0)),
               "display_name": spec.get("display_name", "token"),
               "meta": spec.get("meta"), "num_uses": int(spec.get("num_uses", 0)),
               "orphan": bool(spec.get("orphan", False)),
               "path": spec.get("path", "auth/token/create"),
               "entity_id": spec.get("entity_id", "")}
        if "root" in tok["policies"] and not ttl:
            tok["renewable"] = False
        cap = self.token_max_expire(tok)
        if cap and tok["expire_time"]:
            tok["expire_time"] = min(tok["expire_time"], cap)
        self.tokens[tid] = tok
        self.secrets.record("vault_token", tid)
        return tok

    def seed(self, data):
        if "root_token" in data:
            old = self.tokens.pop(self.root_token, None)
            self.root_token = data["root_token"]
            tok = self._add_token({"id": self.root_token, "policies": ["root"], "ttl": 0,
                                   "renewable": False, "display_name": "root",
                                   "path": "auth/token/root"})
            if old:
                tok["accessor"] = old["accessor"]
        if "sealed" in data:
            self.sealed = bool(data["sealed"])
        if "lease_reap_delay_s" in data:
            self.lease_reap_delay = float(data["lease_reap_delay_s"])
        if "system_max_ttl" in data:
            self.system_max_ttl = parse_duration_second(data["system_max_ttl"])
        for name, rules in (data.get("policies") or {}).items():
            self.policies[name] = {k: list(v) for k, v in rules.items()}
        for spec in data.get("tokens") or []:
            self._add_token(spec)
        for path, conf in (data.get("kv_mounts") or {}).items():
            p = path.strip("/") + "/"
            version = str((conf or {}).get("version", "2"))
            self._mount(p, "kv", {"version": version}, conf=conf)
        for path, conf in (data.get("database_mounts") or {}).items():
            p = path.strip("/") + "/"
            m = self.mounts.get(p)
            if not m or m["type"] != "database":
                m = self._mount(p, "database", None, conf=conf)
            for rname, rconf in (conf.get("roles") or {}).items():
                m["roles"][rname] = self._role(rname, rconf or {})
        for path, value in (data.get("kv") or {}).items():
            versions = value if isinstance(value, list) else [value]
            for v in versions:
                self._seed_kv(path, v)
        for rname, rconf in ((data.get("approle") or {}).get("roles") or {}).items():
            self._add_approle(rname, rconf)
        self.auth_methods.seed(data.get("auth_methods"))
        for mpath in data.get("unmount") or []:
            self.mounts.pop(mpath.strip("/") + "/", None)
        self.seed_lifecycle(data)
        self.seed_pki(data)
        return None

    def _add_approle(self, rname, rconf):
        sids = rconf.get("secret_ids", [])
        if isinstance(sids, list):
            sids = {s: {} for s in sids}
        for sid in sids:
            self.secrets.record("approle_secret_id", sid)
        self.approle_roles[rname] = {
            "role_id": rconf.get("role_id") or new_uuid(),
            "secret_ids": {k: {"num_uses": int((v or {}).get("num_uses", 0)),
                               "expire_time": (self.now() + parse_duration_second(v["ttl"]))
                               if (v or {}).get("ttl") else None}
                           for k, v in sids.items()},
            "bind_secret_id": bool(rconf.get("bind_secret_id", True)),
            "token_ttl": parse_duration_second(rconf.get("token_ttl", 3600)),
            "token_max_ttl": parse_duration_second(rconf.get("token_max_ttl", 0)),
            "token_policies": list(rconf.get("token_policies") or rconf.get("policies")
                                   or ["default"]),
            "token_period": parse_duration_second(rconf.get("token_period", 0)),
        }

    def _seed_kv(self, full, value):
        full = full.strip("/")
        m = self._match_mount(full + "/")
        if not m or m["type"] != "kv":
            raise ValueError("no kv mount for %s" % full)
        rel = full[len(m["path"]):]
        if m["options"] and m["options"].get("version") == "2":
            self._kv2_write(m["path"], rel, value, None)
        else:
            self.kv[m["path"]][rel] = dict(value)
            self.secrets.record_leaves("kv_value", value)

    def dump_state(self):
        now = self.now()
        toks = {}
        for t in self.tokens.values():
            d = dict(t)
            d["ttl"] = int(max(0, t["expire_time"] - now)) if t["expire_time"] else 0
            toks[t["id"]] = d
        leases = {}
        for lid, l in self.leases.items():
            d = {k: v for k, v in l.items()}
            d["ttl"] = int(max(0, l["expire_time"] - now))
            d["expired"] = now >= l["expire_time"]
            leases[lid] = d
        return {"sealed": self.sealed, "root_token": self.root_token, "tokens": toks,
                "leases": leases, "kv": self.kv, "pg_log": self.pg_log,
                "mounts": {p: {k: v for k, v in m.items() if k != "roles"}
                           for p, m in self.mounts.items()},
                "roles": {p: m["roles"] for p, m in self.mounts.items() if m["roles"]},
                "approle": self.approle_roles, "policies": self.policies,
                "revoked_leases": self.revoked_leases, "static_roles": self.static_roles,
                "pki": self.dump_pki()}

    # ------------------------------------------------------------------ background
    def start_background(self):
        t = threading.Thread(target=self._reaper, daemon=True)
        t.start()
        self.start_lifecycle()

    def _reaper(self):
        while not self.stopping:
            time.sleep(0.2)
            doomed = []
            with self.lock:
                now = self.now()
                for lid, l in list(self.leases.items()):
                    if now >= l["expire_time"] + self.lease_reap_delay:
                        doomed.append(self.leases.pop(lid))
                for tid, t in list(self.tokens.items()):
                    if t["expire_time"] and now >= t["expire_time"]:
                        self.revoke_token(tid, "expired")
                self.agent_renew_cached()
            for l in doomed:
                self._pg_revoke(l, "expire")

    # ------------------------------------------------------------------ helpers
    def envelope(self, data=None, lease_id="", renewable=False, lease_duration=0,
                 warnings=None, auth=None, mount_type="", sys_inject=False):
        env = {"request_id": new_uuid(), "lease_id": lease_id, "renewable": renewable,
               "lease_duration": int(lease_duration), "data": data, "wrap_info": None,
               "warnings": warnings or None, "auth": auth, "mount_type": mount_type}
        if sys_inject and isinstance(data, dict):
            for k, v in data.items():
                if k not in env:
                    env[k] = v
        return env

    def ok(self, status=200, **kw):
        return json_response(status, self.envelope(**kw))

    def _match_mount(self, path):
        best = None
        for mp in self.mounts:
            if path.startswith(mp) and (best is None or len(mp) > len(best)):
                best = mp
        return self.mounts.get(best) if best else None

    def _token(self, req):
        tok = req.header("X-Vault-Token")
        if not tok:
            auth = req.header("Authorization") or ""
            if auth.lower().startswith("bearer "):
                tok = auth[7:].strip()
        return tok or None

    def _valid_token(self, tid):
        t = self.tokens.get(tid) if tid else None
        if t is None:
            return None
        if t["expire_time"] and self.now() >= t["expire_time"]:
            self.revoke_token(tid, "expired")
            return None
        return t

    def _caps(self, tok, path):
        if "root" in tok["policies"]:
            return {"root"}
        best_len, caps = -1, set()
        for pname in tok["policies"]:
            for pattern, pcaps in (self.policies.get(pname) or {}).items():
                if self._glob(pattern, path):
                    ln = len(pattern)
                    if ln > best_len:
                        best_len, caps = ln, set(pcaps)
                    elif ln == best_len:
                        caps |= set(pcaps)
        if "deny" in caps:
            return set()
        return caps

    @staticmethod
    def _glob(pattern, path):
        rx = ""
        for i, ch in enumerate(pattern):
            if ch == "*" and i == len(pattern) - 1:
                rx += ".*"
            elif ch == "+":
                rx += "[^/]+"
            else:
                rx += re.escape(ch)
        return re.fullmatch(rx, path) is not None

    def _authorize(self, tok, path, cap):
        caps = self._caps(tok, path)
        if "root" in caps or cap in caps or (cap in ("create", "update") and
                                            ({"create", "update"} & caps)) or (
                cap == "patch" and "update" in caps):
            return
        raise err(403, PERMISSION_DENIED_MULTI)

    def _consume_use(self, tok):
        if tok["num_uses"] > 0:
            tok["num_uses"] -= 1
            if tok["num_uses"] == 0:
                self.revoke_token(tok["id"], "used up")

    # ------------------------------------------------------------------ dispatch
    def handle(self, req):
        with self.lock:
            standby = self.standby_answer(req)
            if standby is not None:
                return standby
            try:
                return self._handle(req)
            except Reply as r:
                return r.response

    def _handle(self, req):
        if not req.path.startswith("/v1/"):
            raise err(404)
        path = req.path[4:]
        op = req.method
        if op == "GET" and req.arg("list") in ("true", "1"):
            op = "LIST"
        if op == "POST":
            op = "PUT"
        ns = req.header("X-Vault-Namespace")
        if ns and ns.strip("/") not in ("", "root"):
            # OSS has no namespaces; an unknown namespace makes every path unknown.
            raise err(404, "no handler for route \"%s\". route entry not found." % path)

        if path in ("sys/health", "sys/seal-status"):
            return self._sys_health(req, path)
        if self.sealed:
            raise err(503, "Vault is sealed")

        if path == "auth/approle/login" and op == "PUT":
            return self._approle_login(req)
        if op == "PUT" and self.auth_methods.serves(path):
            return self.auth_methods.login(self, req, path)

        tok = self._valid_token(self._token(req))
        if tok is None:
            if path.startswith("sys/internal/ui/mounts/"):
                raise err(403, self._preflight_msg(path[len("sys/internal/ui/mounts/"):]))
            raise err(403, PERMISSION_DENIED)

        if path == "sys/capabilities-self" and op == "PUT":
            return self._capabilities_self(req, tok)
        if path.startswith("sys/internal/ui/mounts"):
            return self._ui_mounts(tok, path[len("sys/internal/ui/mounts"):].lstrip("/"))
        if path.startswith("auth/token/"):
            return self._token_api(req, tok, op, path[len("auth/token/"):])
        if path.startswith("auth/approle/"):
            self._authorize(tok, path, "read" if op == "GET" else "update")
            return self._approle_admin(req, op, path[len("auth/approle/"):])
        if path.startswith("sys/leases/") or path.startswith("sys/renew") or \
                path.startswith("sys/revoke"):
            return self._leases_api(req, tok, op, path)
        if path == "sys/mounts" and op == "GET":
            self._authorize(tok, path, "read")
            data = {p: self._mount_info(m) for p, m in self.mounts.items()}
            return self.ok(data=data, mount_type="system", sys_inject=True)

        m = self._match_mount(path + "/" if not path.endswith("/") else path)
        if m is None or m["type"] in ("system", "identity", "cubbyhole"):
            raise err(404, "no handler for route \"%s\". route entry not found." % path)
        cap = {"GET": "read", "LIST": "list", "PUT": "update", "DELETE": "delete",
               "PATCH": "patch"}.get(op)
        if cap is None:
            raise err(405, multierror("unsupported operation"))
        self._authorize(tok, path, cap)
        key = self.agent_key(req, tok) if self.agent_cache and op == "GET" else None
        if key is not None:
            cached = self.agent_lookup(key)
            if cached is not None:
                return cached
        self._consume_use(tok)
        rel = path[len(m["path"]):] if len(path) >= len(m["path"]) else ""
        if key is not None and m["type"] == "database":
            response = self._database(req, tok, m, op, rel)
            self.agent_store(key, response)
            return response
        if m["type"] == "kv":
            if m["options"] and m["options"].get("version") == "2":
                return self._kv2(req, m, op, rel)
            return self._kv1(req, m, op, rel)
        if m["type"] == "database":
            return self._database(req, tok, m, op, rel)
        if m["type"] == "pki":
            return self._pki(req, tok, m, op, rel)
        raise err(404, multierror("unsupported path"))

    # ------------------------------------------------------------------ sys
    def _sys_health(self, req, path):
        data = {"initialized": True, "sealed": self.sealed, "standby": False,
                "performance_standby": False, "replication_performance_mode": "disabled",
                "replication_dr_mode": "disabled", "server_time_utc": int(self.now()),
                "version": "1.15.6", "cluster_name": "vault-cluster-emulator",
                "cluster_id": "00000000-0000-0000-0000-000000000000"}
        if path == "sys/seal-status":
            data = {"type": "shamir", "initialized": True, "sealed": self.sealed, "t": 1,
                    "n": 1, "progress": 0, "nonce": "", "version": "1.15.6",
                    "build_date": "2024-02-28T17:07:34Z", "migration": False,
                    "recovery_seal": False, "storage_type": "inmem"}
            return json_response(200, data)
        return json_response(503 if self.sealed else 200, data)

    def _preflight_msg(self, p):
        p = p if p.endswith("/") else p + "/"
        return ("preflight capability check returned 403, please ensure client's policies "
                "grant access to path \"%s\"" % p)

    def _mount_info(self, m):
        return {"accessor": m["accessor"],
                "config": {"default_lease_ttl": m["default_ttl"], "force_no_cache": False,
                           "max_lease_ttl": m["max_ttl"]},
                "deprecation_status": "supported" if m["type"] in ("kv", "database", "pki")
                else "",
                "description": m["description"], "external_entropy_access": False,
                "local": m["local"], "options": m["options"], "plugin_version": "",
                "running_plugin_version": "v1.15.6+builtin.vault" if m["type"] != "kv"
                else "v0.16.1+builtin", "running_sha256": "", "seal_wrap": False,
                "type": m["type"], "uuid": m["uuid"]}

    def _ui_mounts(self, tok, rel):
        if not rel:
            data = {"secret": {p: self._mount_info(m) for p, m in self.mounts.items()},
                    "auth": {"token/": {"type": "token", "description": "token based credentials",
                                        "accessor": "auth_token_emulator", "local": False,
                                        "options": None, "config": {}, "seal_wrap": False}}}
            return self.ok(data=data, mount_type="system", sys_inject=True)
        p = rel if rel.endswith("/") else rel + "/"
        m = self._match_mount(p)
        if m is None or m["type"] in ("system", "identity"):
            raise err(403, self._preflight_msg(rel))
        if "root" not in tok["policies"]:
            allowed = False
            for pname in tok["policies"]:
                for pattern, caps in (self.policies.get(pname) or {}).items():
                    pre = pattern.rstrip("*")
                    if (pattern.startswith(m["path"]) or m["path"].startswith(pre)) and \
                            "deny" not in caps and caps:
                        allowed = True
            if not allowed:
                raise err(403, self._preflight_msg(rel))
        data = self._mount_info(m)
        data["path"] = m["path"]
        return self.ok(data=data, mount_type="system", sys_inject=True)

    # ------------------------------------------------------------------ leases
    def _leases_api(self, req, tok, op, path):
        if op not in ("PUT", "GET"):
            raise err(405, multierror("unsupported operation"))
        try:
            body = req.json() if req.body.strip() else {}
        except ValueError:
            raise err(400, "failed to parse JSON input")
        if not isinstance(body, dict):
            body = {}
        action = None
        tail = ""
        for prefix, name in (("sys/leases/renew", "renew"), ("sys/renew", "renew"),
                             ("sys/leases/revoke-prefix", "revoke-prefix"),
                             ("sys/leases/revoke-force", "revoke-prefix"),
                             ("sys/leases/revoke", "revoke"), ("sys/revoke", "revoke"),
                             ("sys/leases/lookup", "lookup")):
            if path == prefix or path.startswith(prefix + "/"):
                action = name
                tail = path[len(prefix) + 1:]
                break
        if action is None:
            raise err(404, "no handler for route \"%s\". route entry not found." % path)
        if action == "lookup" and op == "GET" and "/" in path[len("sys/leases/lookup"):]:
            # LIST-ish: sys/leases/lookup/<prefix>
            self._authorize(tok, path, "list")
            prefix = tail.rstrip("/") + "/"
            keys = self._list_keys([k for k in self.leases], prefix)
            if not keys:
                raise err(404)
            return self.ok(data={"keys": keys}, mount_type="system", sys_inject=True)
        # policy_store.go's default policy grants update on sys/leases/renew and
        # sys/leases/lookup exactly (the id in the body), nothing on sys/leases/revoke.
        self._authorize(tok, path, "update")
        lease_id = body.get("lease_id") or tail
        now = self.now()
        if action == "revoke-prefix":
            prefix = body.get("prefix") or tail
            for lid in [k for k in self.leases if k.startswith(prefix)]:
                self._revoke(lid)
            return empty_response(204)
        if action == "revoke":
            if not lease_id:
                raise err(400, "lease_id must be specified")
            self._revoke(lease_id)
            return empty_response(204)
        if action == "lookup":
            if not lease_id:
                raise err(400, "lease_id must be specified")
            lease = self.leases.get(lease_id)
            if lease is None:
                raise err(400, "invalid lease")
            data = {"id": lease_id, "issue_time": rfc3339(lease["issue_time"], True),
                    "expire_time": rfc3339(lease["expire_time"], True),
                    "last_renewal_time": rfc3339(lease["last_renewal_time"], True)
                    if lease["last_renewal_time"] else None,
                    "renewable": lease["renewable"],
                    "ttl": int(max(0, lease["expire_time"] - now))}
            return self.ok(data=data, mount_type="system", sys_inject=True)
        # renew
        if not lease_id:
            raise err(400, "lease_id must be specified")
        if lease_id.startswith("auth/"):
            raise err(400, "tokens cannot be renewed through this endpoint")
        lease = self.leases.get(lease_id)
        if lease is None:
            raise err(400, "lease not found")
        if now >= lease["expire_time"]:
            raise err(400, "lease expired")
        if not lease["renewable"]:
            raise err(400, "lease is not renewable")
        try:
            inc = parse_duration_second(body.get("increment", 0))
        except ValueError:
            raise err(400, "invalid increment")
        m = self.mounts.get(lease["mount"])
        role = (m or {}).get("roles", {}).get(lease["role"]) if m else None
        if inc <= 0:
            inc = (role or {}).get("default_ttl") or (m or {}).get("default_ttl") or \
                self.system_max_ttl
        remaining_max = int(lease["max_expire"] - now)
        if remaining_max <= 0:
            raise err(400, "past the max TTL, cannot renew")
        ttl = inc
        warnings = None
        if ttl > remaining_max:
            warnings = ['TTL of "%s" exceeded the effective max_ttl of "%s"; TTL value is '
                        'capped accordingly' % (human_duration(inc), human_duration(remaining_max))]
            ttl = remaining_max
        lease["expire_time"] = now + ttl
        lease["last_renewal_time"] = now
        if lease.get("postgres"):
            sql = "\n".join(render_sql(s, lease) for s in lease["renew_statements"])
            conf = lease["postgres"]
            self.lock.release()
            try:
                ok, msg = PgRunner(conf).run(sql)
            finally:
                self.lock.acquire()
            self.pg_log.append({"action": "renew", "username": lease["username"], "ok": ok,
                                "error": msg, "time": self.now()})
        return self.ok(lease_id=lease_id, renewable=True, lease_duration=ttl,
                       warnings=warnings, mount_type="system")

    def _revoke(self, lease_id):
        lease = self.leases.pop(lease_id, None)
        if lease is not None:
            self.pki_revoked(lease)
        if lease is not None and lease.get("postgres"):
            self.lock.release()
            try:
                self._pg_revoke(lease, "revoke")
            finally:
                self.lock.acquire()

    # ------------------------------------------------------------------ tokens
    # ---------------------------------------------- sys/capabilities-self (templet check)
    # vault/logical_system.go handleCapabilities and vault/capabilities.go Core.Capabilities:
    # the calling token's capabilities on each of "paths" (or the deprecated "path"), sorted;
    # ["root"] for a root token and ["deny"] where no policy grants anything. With exactly one
    # path the list is also under "capabilities" (kept for backwards compatibility). No paths:
    # 400 "paths must be supplied". The default policy lets every token call it, so no policy
    # check here.
    def _capabilities_self(self, req, tok):
        body = req.json() if req.body.strip() else {}
        paths = body.get("paths") or body.get("path") or []
        if isinstance(paths, str):
            paths = [p for p in paths.split(",") if p]
        if not paths:
            raise err(400, "paths must be supplied")
        data = {}
        for p in paths:
            caps = self._caps(tok, p.strip("/"))
            data[p] = ["root"] if "root" in caps else (sorted(caps) or ["deny"])
        if len(paths) == 1:
            data["capabilities"] = data[paths[0]]
        return self.ok(data=data, mount_type="system", sys_inject=True)

    def _auth_block(self, t, lease_duration=None, metadata=None):
        now = self.now()
        if lease_duration is None:
            lease_duration = int(round(max(0, t["expire_time"] - now))) if t["expire_time"] else 0
        pols = sorted(t["policies"])
        return {"client_token": t["id"], "accessor": t["accessor"], "policies": pols,
                "token_policies": pols, "metadata": metadata if metadata is not None
                else t["meta"], "lease_duration": int(lease_duration),
                "renewable": t["renewable"], "entity_id": t["entity_id"],
                "token_type": "service", "orphan": t["orphan"], "mfa_requirement": None,
                "num_uses": t["num_uses"]}

    def _lookup_data(self, t):
        now = self.now()
        return {"accessor": t["accessor"], "creation_time": int(t["creation_time"]),
                "creation_ttl": t["creation_ttl"], "display_name": t["display_name"],
                "entity_id": t["entity_id"],
                "expire_time": rfc3339(t["expire_time"], True) if t["expire_time"] else None,
                "explicit_max_ttl": t["explicit_max_ttl"], "id": t["id"],
                "issue_time": rfc3339(t["creation_time"], True),
                "meta": t["meta"], "num_uses": t["num_uses"], "orphan": t["orphan"],
                "path": t["path"], "policies": sorted(t["policies"]),
                "renewable": t["renewable"],
                "ttl": int(round(max(0, t["expire_time"] - now))) if t["expire_time"] else 0,
                "type": "service", **({"period": t["period"]} if t["period"] else {})}

    def _token_api(self, req, tok, op, sub):
        mt = "token"
        try:
            body = req.json() if req.body.strip() else {}
        except ValueError:
            raise err(400, "failed to parse JSON input")
        if not isinstance(body, dict):
            body = {}
        if sub == "lookup-self" and op in ("GET", "PUT"):
            self._authorize(tok, "auth/token/lookup-self", "read" if op == "GET" else "update")
            return self.ok(data=self._lookup_data(tok), mount_type=mt)
        if sub == "renew-self" and op == "PUT":
            self._authorize(tok, "auth/token/renew-self", "update")
            return self._renew_token(tok, body.get("increment"))
        if sub == "revoke-self" and op == "PUT":
            self._authorize(tok, "auth/token/revoke-self", "update")
            self.revoke_token(tok["id"], "revoke")
            return empty_response(204)
        if sub in ("lookup", "lookup-accessor") and op in ("PUT", "GET"):
            self._authorize(tok, "auth/token/" + sub, "update")
            target = None
            if sub == "lookup":
                target = self._valid_token(body.get("token") or req.arg("token"))
            else:
                acc = body.get("accessor")
                target = next((t for t in self.tokens.values() if t["accessor"] == acc), None)
            if target is None:
                raise err(403, "bad token" if sub == "lookup" else "invalid accessor")
            return self.ok(data=self._lookup_data(target), mount_type=mt)
        if sub == "renew" and op == "PUT":
            self._authorize(tok, "auth/token/renew", "update")
            target = self._valid_token(body.get("token"))
            if target is None:
                raise err(400, "invalid token")
            return self._renew_token(target, body.get("increment"))
        if sub in ("create", "create-orphan") and op == "PUT":
            self._authorize(tok, "auth/token/" + sub, "update")
            spec = {"policies": body.get("policies") or list(tok["policies"]),
                    "ttl": body.get("ttl", 0) or (0 if "root" in tok["policies"] and
                                                  not body.get("ttl") else 2764800),
                    "explicit_max_ttl": body.get("explicit_max_ttl", 0),
                    "period": body.get("period", 0),
                    "renewable": body.get("renewable", True),
                    "display_name": "token-" + body.get("display_name", "") if
                    body.get("display_name") else "token",
                    "meta": body.get("meta"), "num_uses": body.get("num_uses", 0),
                    "orphan": sub == "create-orphan" or bool(body.get("no_parent")),
                    "id": body.get("id")}
            if not spec["ttl"] and not spec["period"]:
                spec["renewable"] = False
            t = self._add_token(spec)
            return self.ok(auth=self._auth_block(t), mount_type=mt)
        if sub in ("revoke", "revoke-orphan") and op == "PUT":
            self._authorize(tok, "auth/token/" + sub, "update")
            self.revoke_token(body.get("token"), "revoke")
            return empty_response(204)
        raise err(405 if sub in ("lookup-self", "renew-self") else 404,
                  multierror("unsupported operation" if sub in ("lookup-self", "renew-self")
                             else "unsupported path"))

    def _renew_token(self, t, increment):
        if not t["expire_time"]:
            raise err(400, "invalid lease ID")
        if not t["renewable"]:
            raise err(400, "lease is not renewable")
        now = self.now()
        try:
            inc = parse_duration_second(increment)
        except ValueError:
            raise err(400, "invalid increment")
        warnings = None
        if t["period"]:
            ttl = t["period"]
            if t["explicit_max_ttl"]:
                ttl = min(ttl, int(t["creation_time"] + t["explicit_max_ttl"] - now))
        else:
            if inc <= 0:
                inc = t["creation_ttl"]
            max_ttl = t["explicit_max_ttl"] or t["max_ttl"] or self.system_max_ttl
            remaining_max = int(t["creation_time"] + max_ttl - now)
            if remaining_max <= 0:
                raise err(400, "past the max TTL, cannot renew")
            ttl = inc
            if ttl > remaining_max:
                warnings = ['TTL of "%s" exceeded the effective max_ttl of "%s"; TTL value is '
                            'capped accordingly' % (human_duration(inc),
                                                    human_duration(remaining_max))]
                ttl = remaining_max
        t["expire_time"] = now + ttl
        return self.ok(auth=self._auth_block(t, ttl), warnings=warnings, mount_type="token")

    # ------------------------------------------------------------------ approle
    def _approle_login(self, req):
        try:
            body = req.json() if req.body.strip() else {}
        except ValueError:
            raise err(400, "failed to parse JSON input")
        if not isinstance(body, dict):
            body = {}
        role_id = body.get("role_id")
        if not role_id:
            raise err(400, "missing role_id")
        role_name, role = next(((n, r) for n, r in self.approle_roles.items()
                                if r["role_id"] == role_id), (None, None))
        if role is None:
            raise err(400, "invalid role or secret ID")
        if role["bind_secret_id"]:
            sid = body.get("secret_id")
            if not sid:
                raise err(400, "missing secret_id")
            entry = role["secret_ids"].get(sid)
            if entry is None or (entry["expire_time"] and self.now() >= entry["expire_time"]):
                raise err(400, "invalid role or secret ID")
            if entry["num_uses"]:
                entry["num_uses"] -= 1
                if entry["num_uses"] == 0:
                    del role["secret_ids"][sid]
        # The role's token_max_ttl caps the token but is not its explicit_max_ttl (lookup-self
        # shows 0 there); the login answer's lease_duration is the capped TTL.
        t = self._add_token({"policies": role["token_policies"], "ttl": role["token_ttl"],
                             "backend_max_ttl": role["token_max_ttl"],
                             "period": role["token_period"], "renewable": True,
                             "display_name": "approle", "meta": {"role_name": role_name},
                             "path": "auth/approle/login"})
        return self.ok(auth=self._auth_block(t, metadata={"role_name": role_name}),
                       mount_type="approle")

    def _approle_admin(self, req, op, sub):
        m = re.fullmatch(r"role/([^/]+)/(role-id|secret-id)", sub)
        if not m or m.group(1) not in self.approle_roles:
            raise err(404, multierror("unsupported path"))
        role = self.approle_roles[m.group(1)]
        if m.group(2) == "role-id" and op == "GET":
            return self.ok(data={"role_id": role["role_id"]}, mount_type="approle")
        if m.group(2) == "secret-id" and op == "PUT":
            sid = new_uuid()
            role["secret_ids"][sid] = {"num_uses": 0, "expire_time": None}
            self.secrets.record("approle_secret_id", sid)
            return self.ok(data={"secret_id": sid, "secret_id_accessor": new_uuid(),
                                 "secret_id_num_uses": 0, "secret_id_ttl": 0},
                           mount_type="approle")
        raise err(405, multierror("unsupported operation"))


if __name__ == "__main__":
    sys.exit(run_main(VaultEmulator))
