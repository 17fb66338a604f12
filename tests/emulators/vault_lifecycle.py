"""The Vault emulator's lifecycle rules (a mixin of VaultEmulator in vault.py).

What real Vault does, and where its source says so (hashicorp/vault):
- vault/expiration.go (RevokeByToken, revokeTree): every lease is indexed under the token that
  created it; revoking a token, or its expiry (the expiration manager's lease on the token
  itself), revokes all of its leases, and the database backend then drops their users.
- vault/token_store.go: a token's TTL is capped by its max TTL (the role's token_max_ttl for an
  AppRole login, which lookup-self does not show: its explicit_max_ttl stays 0); renew-self past
  the cap answers the remaining time with a "capped accordingly" warning. A token whose use count
  runs out is revoked like any other.
- vault/policy_store.go: the `default` policy's text (lookup-self read only; sys/leases/renew
  and sys/leases/lookup update, the id in the body; no sys/leases/revoke). Tokens get `default`
  unless created with no_default_policy (vault/token_store.go, handleCreateCommon).
- command/agentproxyshared/cache/lease_cache.go: with `use_auto_auth_token = "force"` Agent
  answers a repeated identical read with the cached response bytes (same lease_id, the original
  lease_duration) while its own lifetime watcher keeps the lease renewed, until renewal gives
  up (max TTL) or the lease is revoked.
- builtin/logical/database/path_creds_create.go + rotation.go: static roles answer
  username/password/last_vault_rotation/ttl and rotation_period (or rotation_schedule and
  rotation_window); ttl counts down to the next rotation and stays 0 until the rotation queue,
  which ticks every 5 s (queueTickInterval), gets to it; the old password stops working then.
- http/handler.go (handleRequestForwarding / respondStandby): a standby answers 307 with a
  Location on the active node, same path and query.
"""

import re
import threading
import time

from common import empty_response, json_response, rfc3339  # noqa: E402
from vault_common import parse_duration_second, rand62  # noqa: E402
from vault_database import PgRunner  # noqa: E402

# vault/policy_store.go's defaultPolicy, as path -> capabilities (the paths this emulator has).
DEFAULT_POLICY = {
    "auth/token/lookup-self": ["read"],
    "auth/token/renew-self": ["update"],
    "auth/token/revoke-self": ["update"],
    "sys/capabilities-self": ["update"],
    "sys/renew": ["update"],
    "sys/leases/renew": ["update"],
    "sys/leases/lookup": ["update"],
    "cubbyhole/*": ["create", "read", "update", "delete", "list"],
    "sys/wrapping/wrap": ["update"],
    "sys/wrapping/lookup": ["update"],
    "sys/wrapping/unwrap": ["update"],
    "sys/tools/hash": ["update"],
    "sys/tools/hash/*": ["update"],
}

ROTATION_TICK_S = 5.0  # builtin/logical/database/rotation.go: the queue is checked every 5 s
DEFAULT_ROTATION_WINDOW = 3600  # path_roles.go: rotation_window defaults to 1h with a schedule


def _cron_field(spec, value, lo):
    for part in spec.split(","):
        step = 1
        if "/" in part:
            part, s = part.split("/", 1)
            step = int(s)
        if part == "*":
            start, end = lo, 10 ** 6
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = int(a), int(b)
        else:
            start = end = int(part)
            if step != 1:
                end = 10 ** 6
        if start <= value <= end and (value - start) % step == 0:
            return True
    return False


def next_cron(schedule, after):
    """The first minute strictly after `after` matching a 5-field cron schedule (UTC)."""
    fields = schedule.split()
    if len(fields) != 5:
        raise ValueError("rotation_schedule needs 5 fields")
    t = int(after // 60) * 60 + 60
    for _ in range(60 * 24 * 366):
        g = time.gmtime(t)
        dow = (g.tm_wday + 1) % 7  # cron: Sunday is 0
        if (_cron_field(fields[0], g.tm_min, 0) and _cron_field(fields[1], g.tm_hour, 0) and
                _cron_field(fields[2], g.tm_mday, 1) and _cron_field(fields[3], g.tm_mon, 1) and
                _cron_field(fields[4], dow, 0)):
            return float(t)
        t += 60
    raise ValueError("rotation_schedule never matches")


class LifecycleMixin:
    # ------------------------------------------------------------------ state
    def reset_lifecycle(self):
        self.policies["default"] = {k: list(v) for k, v in DEFAULT_POLICY.items()}
        self.agent_cache = False
        self.agent_entries = {}  # request key -> (response, lease_id)
        self.standby_redirect = None
        self.rotation_tick = ROTATION_TICK_S
        self.static_roles = {}  # "mount/name" -> role

    def seed_lifecycle(self, data):
        if "agent_cache" in data:
            self.agent_cache = bool(data["agent_cache"])
            self.agent_entries = {}
        if "standby_redirect" in data:
            self.standby_redirect = data["standby_redirect"] or None
        if "rotation_tick_s" in data:
            self.rotation_tick = float(data["rotation_tick_s"])
        for path, conf in (data.get("database_mounts") or {}).items():
            p = path.strip("/") + "/"
            for name, rc in ((conf or {}).get("static_roles") or {}).items():
                self._add_static_role(p, name, rc or {})
        for op in data.get("revoke_tokens") or []:
            self.revoke_token(op, "revoke")

    # ------------------------------------------------------------------ tokens and leases
    def revoke_token(self, tid, why):
        """expiration.go RevokeByToken: the token and every lease it created go together."""
        tok = self.tokens.pop(tid, None)
        if tok is None:
            return
        doomed = [lid for lid, l in self.leases.items()
                  if l.get("token_accessor") == tok["accessor"]]
        for lid in doomed:
            lease = self.leases.pop(lid)
            lease["revoked_with_token"] = why
            self.revoked_leases.append(lease)
            self.pki_revoked(lease)
            if lease.get("postgres"):
                self.lock.release()
                try:
                    self._pg_revoke(lease, "token " + why)
                finally:
                    self.lock.acquire()

    def token_max_expire(self, t):
        cap = t["explicit_max_ttl"] or t.get("max_ttl") or 0
        return t["creation_time"] + cap if cap else None

    # ------------------------------------------------------------------ standby
    def standby_answer(self, req):
        if not self.standby_redirect or req.path in ("/v1/sys/health", "/v1/sys/seal-status"):
            return None
        loc = self.standby_redirect.rstrip("/") + req.raw_path
        return empty_response(307, {"Location": loc})

    # ------------------------------------------------------------------ Agent's LeaseCache
    def agent_key(self, req, tok):
        return (req.method, req.raw_path, bytes(req.body), tok["accessor"])

    def agent_lookup(self, key):
        entry = self.agent_entries.get(key)
        if entry is None:
            return None
        response, lease_id = entry
        lease = self.leases.get(lease_id)
        if lease is None or self.now() >= lease["max_expire"]:
            del self.agent_entries[key]  # the lifetime watcher gave up: evicted
            return None
        return response

    def agent_store(self, key, response):
        if response.status != 200:
            return
        try:
            import json
            body = json.loads(response.body.decode("utf-8"))
        except ValueError:
            return
        lease_id = body.get("lease_id") or ""
        if lease_id and lease_id in self.leases:
            self.agent_entries[key] = (response, lease_id)

    def agent_renew_cached(self):
        """Agent's lifetime watcher keeps each cached lease renewed up to its max TTL."""
        now = self.now()
        for _, lease_id in list(self.agent_entries.values()):
            lease = self.leases.get(lease_id)
            if lease and lease["expire_time"] - now < max(1.0, lease["duration"] / 3.0):
                lease["expire_time"] = min(lease["max_expire"], now + lease["duration"])
                lease["last_renewal_time"] = now

    # ------------------------------------------------------------------ static roles
    def _add_static_role(self, mount, name, rc):
        now = self.now()
        role = {"mount": mount, "name": name, "username": rc.get("username") or name,
                "rotation_period": parse_duration_second(rc.get("rotation_period", 0)),
                "rotation_schedule": rc.get("rotation_schedule") or "",
                "rotation_window": parse_duration_second(rc.get("rotation_window", 0)),
                "postgres": rc.get("postgres"), "password": "A1a-" + rand62(16),
                "last_rotation": now, "rotations": 0}
        if role["rotation_schedule"] and not role["rotation_window"]:
            role["rotation_window"] = DEFAULT_ROTATION_WINDOW
        if not role["rotation_period"] and not role["rotation_schedule"]:
            role["rotation_period"] = 86400
        role["next_rotation"] = self._next_rotation(role, now)
        self.secrets.record("db_password", role["password"])
        self.secrets.record("db_username", role["username"])
        self.static_roles[mount + name] = role
        if role["postgres"]:
            self._static_set_password(role)

    def _next_rotation(self, role, last):
        if role["rotation_schedule"]:
            return next_cron(role["rotation_schedule"], last)
        return last + role["rotation_period"]

    def static_creds(self, mount, name):
        role = self.static_roles.get(mount + name)
        if role is None:
            return None
        now = self.now()
        data = {"username": role["username"], "password": role["password"],
                "last_vault_rotation": rfc3339(role["last_rotation"], True),
                "ttl": int(max(0, role["next_rotation"] - now))}
        if role["rotation_schedule"]:
            data["rotation_schedule"] = role["rotation_schedule"]
            data["rotation_window"] = role["rotation_window"]
        else:
            data["rotation_period"] = role["rotation_period"]
        return self.ok(data=data, mount_type="database")

    def rotate_static(self, role):
        role["password"] = "A1a-" + rand62(16)
        now = self.now()
        role["last_rotation"] = now
        role["next_rotation"] = self._next_rotation(role, now)
        role["rotations"] += 1
        self.secrets.record("db_password", role["password"])
        if role["postgres"]:
            self._static_set_password(role)

    def _static_set_password(self, role):
        sql = "ALTER ROLE \"%s\" WITH LOGIN PASSWORD '%s';" % (role["username"], role["password"])
        self.lock.release()
        try:
            ok, msg = PgRunner(role["postgres"]).run(sql)
        finally:
            self.lock.acquire()
        self.pg_log.append({"action": "rotate", "username": role["username"], "ok": ok,
                            "error": msg, "time": self.now()})

    def rotation_queue(self):
        """rotation.go: every tick, rotate the static roles whose time has come."""
        while not self.stopping:
            time.sleep(self.rotation_tick)
            with self.lock:
                now = self.now()
                for role in list(self.static_roles.values()):
                    if role["next_rotation"] <= now:
                        self.rotate_static(role)

    def database_lifecycle(self, req, m, op, rel):
        """static-creds/NAME (GET) and rotate-role/NAME (PUT); None for other paths."""
        mt = re.fullmatch(r"static-creds/([^/]+)", rel)
        if mt and op == "GET":
            r = self.static_creds(m["path"], mt.group(1))
            if r is None:
                return json_response(400, {"errors": ["unknown role: %s" % mt.group(1)]})
            return r
        mt = re.fullmatch(r"rotate-role/([^/]+)", rel)
        if mt and op == "PUT":
            role = self.static_roles.get(m["path"] + mt.group(1))
            if role is None:
                return json_response(400, {"errors": ["unknown role: %s" % mt.group(1)]})
            self.rotate_static(role)
            return empty_response(204)
        return None

    def start_lifecycle(self):
        threading.Thread(target=self.rotation_queue, daemon=True).start()
