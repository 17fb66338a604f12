"""The database secrets engine of the Vault emulator (a mixin of VaultEmulator in vault.py).

As hashicorp/vault's builtin/logical/database (path_creds_create.go, path_roles.go): dynamic
credentials under a lease, optionally made real in a PostgreSQL through psql with the role's
creation, renewal and revocation statements. Static roles are in vault_lifecycle.py.
"""

import os
import shutil
import subprocess
import time

from common import empty_response  # noqa: E402
from vault_common import err, multierror, rand62  # noqa: E402


class PgRunner:
    """Runs SQL against a real PostgreSQL through psql. Optional; isolated here."""

    def __init__(self, conf):
        self.host = str(conf.get("host", "127.0.0.1"))
        self.port = str(conf.get("port", 5432))
        self.user = str(conf.get("user", "postgres"))
        self.dbname = str(conf.get("dbname", "postgres"))
        self.password = conf.get("password")
        self.psql = conf.get("psql") or shutil.which("psql") or "psql"

    def run(self, sql):
        env = dict(os.environ)
        env["PGCONNECT_TIMEOUT"] = "5"
        if self.password is not None:
            env["PGPASSWORD"] = str(self.password)
        cmd = [self.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.host, "-p", self.port,
               "-U", self.user, "-d", self.dbname, "-c", sql]
        try:
            p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, str(exc)
        if p.returncode != 0:
            return False, (p.stderr or p.stdout).strip()
        return True, ""


def render_sql(stmt, lease):
    return (stmt.replace("{{name}}", lease["username"])
                .replace("{{username}}", lease["username"])
                .replace("{{password}}", lease["password"])
                .replace("{{expiration}}", pg_time(lease["expire_time"])))


def pg_time(ts):
    return time.strftime("%Y-%m-%d %H:%M:%S+0000", time.gmtime(ts))


DEFAULT_CREATE = ["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' "
                  "VALID UNTIL '{{expiration}}';"]
DEFAULT_RENEW = ["ALTER ROLE \"{{name}}\" VALID UNTIL '{{expiration}}';"]
DEFAULT_REVOKE = ["DROP OWNED BY \"{{name}}\";", "DROP ROLE IF EXISTS \"{{name}}\";"]


class DatabaseMixin:
    # ------------------------------------------------------------------ database
    def _database(self, req, tok, m, op, rel):
        mt = "database"
        answer = self.database_lifecycle(req, m, op, rel)
        if answer is not None:
            return answer
        if rel.startswith("creds/") and op == "GET":
            rname = rel[len("creds/"):]
            role = m["roles"].get(rname)
            if role is None:
                raise err(400, "unknown role: %s" % rname)
            return self._issue_creds(m, role, rname, tok)
        if rel.startswith("roles/") and op == "GET":
            role = m["roles"].get(rel[len("roles/"):])
            if role is None:
                raise err(404)
            return self.ok(data={"db_name": "emulated", "default_ttl": role["default_ttl"],
                                 "max_ttl": role["max_ttl"],
                                 "creation_statements": role["creation_statements"],
                                 "renew_statements": role["renew_statements"],
                                 "revocation_statements": role["revocation_statements"],
                                 "rollback_statements": [],
                                 "credential_type": "password"}, mount_type=mt)
        if rel in ("roles", "roles/") and op == "LIST":
            keys = sorted(m["roles"])
            if not keys:
                raise err(404)
            return self.ok(data={"keys": keys}, mount_type=mt)
        if rel.startswith("roles/") and op == "PUT":
            try:
                body = req.json()
            except ValueError:
                body = {}
            rname = rel[len("roles/"):]
            m["roles"][rname] = self._role(rname, body)
            return empty_response(204)
        raise err(405 if rel.startswith("creds/") else 404, multierror(
            "unsupported operation" if rel.startswith("creds/") else "unsupported path"))

    def _effective_max(self, m, role):
        caps = [c for c in (role["max_ttl"], m["max_ttl"], self.system_max_ttl) if c]
        return min(caps) if caps else self.system_max_ttl

    def _issue_creds(self, m, role, rname, tok):
        now = self.now()
        max_ttl = self._effective_max(m, role)
        ttl = role["default_ttl"] or m["default_ttl"] or self.system_max_ttl
        ttl = int(min(ttl, max_ttl))
        suffix = rand62(20)
        username = ("v-%s-%s" % (rname, suffix))[:63]
        # As Vault's credsutil.RandomAlphaNumeric(20, true): "A1a-" and 16 base62 characters.
        password = "A1a-" + rand62(16)
        lease_id = "%screds/%s/%s" % (m["path"], rname, rand62(24))
        self.secrets.record("db_username", username)
        self.secrets.record("db_password", password)
        self.secrets.record("lease_id", lease_id)
        lease = {"lease_id": lease_id, "mount": m["path"], "role": rname,
                 "username": username, "password": password, "issue_time": now,
                 "expire_time": now + ttl, "max_expire": now + max_ttl,
                 "last_renewal_time": None, "renewable": True, "duration": ttl,
                 "token_accessor": tok["accessor"], "postgres": role.get("postgres"),
                 "renew_statements": role["renew_statements"],
                 "revocation_statements": role["revocation_statements"]}
        if role.get("postgres"):
            stmts = list(role["creation_statements"]) + list(role.get("grant") or [])
            sql = "\n".join(render_sql(s, lease) for s in stmts)
            self.lock.release()
            try:
                ok, msg = PgRunner(role["postgres"]).run(sql)
            finally:
                self.lock.acquire()
            self.pg_log.append({"action": "create", "username": username, "ok": ok,
                                "error": msg, "time": self.now()})
            if not ok:
                raise err(500, multierror(msg))
        self.leases[lease_id] = lease
        return self.ok(data={"username": username, "password": password}, lease_id=lease_id,
                       renewable=True, lease_duration=ttl, mount_type="database")

    def _pg_revoke(self, lease, why):
        conf = lease.get("postgres")
        if not conf:
            return
        sql = "\n".join(render_sql(s, lease) for s in lease["revocation_statements"])
        ok, msg = PgRunner(conf).run(sql)
        with self.lock:
            self.pg_log.append({"action": "drop", "reason": why, "username": lease["username"],
                                "ok": ok, "error": msg, "time": self.now()})
