#!/usr/bin/env python3
"""Redash emulator for templet's integration tests (see README.md in this folder).

Emulated: API-key auth (404 on failure), /api/data_sources list/create/get/update/delete,
/types, /<id>/test (real psql login for pg when reachable), /<id>/pause, /<id>/schema,
masking, full-replace update with placeholder handling, jsonschema-like validation, /ping.

Groups (redash/handlers/groups.py): GET /api/groups, and a group's datasources at
/api/groups/<id>/data_sources (GET list with view_only, POST {"data_source_id"} adds with
view_only false) and /api/groups/<id>/data_sources/<ds> (POST {"view_only"}, DELETE).

REDASH_ENFORCE_HTTPS (redash/security.py: flask-talisman's force_https): seeded with
"enforce_https": true, every request not marked X-Forwarded-Proto: https is answered 302 with
Location: the same URL as https, before any authentication.
"""

import copy
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import Emulator, json_response, empty_response, text_response, run_main  # noqa: E402

PLACEHOLDER = "--------"
MSG_LOGIN = "Couldn't find resource. Please login and try again."
MSG_400 = "The browser (or proxy) sent a request that this server could not understand."
MSG_403 = ("You don't have the permission to access the requested resource. It is either "
           "read-protected or not readable by the server.")
MSG_404 = ("The requested URL was not found on the server. If you entered the URL manually "
           "please check your spelling and try again.")
MSG_405 = "The method is not allowed for the requested URL."
MSG_500 = "Internal Server Error"

SSLMODES = [{"value": v, "name": n} for v, n in (
    ("disable", "Disable"), ("allow", "Allow"), ("prefer", "Prefer"), ("require", "Require"),
    ("verify-ca", "Verify CA"), ("verify-full", "Verify Full"))]

DEFAULT_TYPES = [
    {"name": "PostgreSQL", "type": "pg", "syntax": "sql", "supports_auto_limit": True,
     "configuration_schema": {
         "type": "object",
         "properties": {
             "user": {"type": "string"},
             "password": {"type": "string"},
             "host": {"type": "string", "default": "127.0.0.1"},
             "port": {"type": "number", "default": 5432},
             "dbname": {"type": "string", "title": "Database Name"},
             "sslmode": {"type": "string", "title": "SSL Mode", "default": "prefer",
                         "extendedEnum": SSLMODES},
             "sslrootcertFile": {"type": "string", "title": "SSL Root Certificate"},
             "sslcertFile": {"type": "string", "title": "SSL Client Certificate"},
             "sslkeyFile": {"type": "string", "title": "SSL Client Key"},
         },
         "order": ["host", "port", "user", "password"],
         "required": ["dbname"],
         "secret": ["password", "sslrootcertFile", "sslcertFile", "sslkeyFile"],
         "extra_options": ["sslmode", "sslrootcertFile", "sslcertFile", "sslkeyFile"]}},
    {"name": "Redshift", "type": "redshift", "syntax": "sql", "supports_auto_limit": True,
     "configuration_schema": {
         "type": "object",
         "properties": {
             "user": {"type": "string"}, "password": {"type": "string"},
             "host": {"type": "string"}, "port": {"type": "number"},
             "dbname": {"type": "string", "title": "Database Name"},
             "sslmode": {"type": "string", "title": "SSL Mode", "default": "prefer"},
             "adhoc_query_group": {"type": "string", "title": "Query Group for Adhoc Queries",
                                   "default": "default"},
             "scheduled_query_group": {"type": "string",
                                       "title": "Query Group for Scheduled Queries",
                                       "default": "default"}},
         "order": ["host", "port", "user", "password", "dbname", "sslmode",
                   "adhoc_query_group", "scheduled_query_group"],
         "required": ["dbname", "user", "password", "host", "port"],
         "secret": ["password"]}},
    {"name": "MySQL", "type": "mysql", "syntax": "sql", "supports_auto_limit": True,
     "configuration_schema": {
         "type": "object",
         "properties": {
             "host": {"type": "string", "default": "127.0.0.1"},
             "user": {"type": "string"},
             "passwd": {"type": "string", "title": "Password"},
             "db": {"type": "string", "title": "Database name"},
             "port": {"type": "number", "default": 3306},
             "connect_timeout": {"type": "number", "default": 60, "title": "Connection Timeout"},
             "charset": {"type": "string", "default": "utf8"},
             "use_unicode": {"type": "boolean", "default": True},
             "autocommit": {"type": "boolean", "default": False},
             "use_ssl": {"type": "boolean", "title": "Use SSL"},
             "ssl_cacert": {"type": "string", "title": "Path to CA certificate file"},
             "ssl_cert": {"type": "string", "title": "Path to cert file"},
             "ssl_key": {"type": "string", "title": "Path to private key file"}},
         "order": ["host", "port", "user", "passwd", "db", "connect_timeout", "charset",
                   "use_unicode", "autocommit"],
         "required": ["db"],
         "secret": ["passwd"],
         "extra_options": ["use_ssl", "ssl_cacert", "ssl_cert", "ssl_key"]}},
    {"name": "InfluxDB", "type": "influxdb", "syntax": "sql", "supports_auto_limit": False,
     "configuration_schema": {"type": "object", "properties": {"url": {"type": "string"}},
                              "required": ["url"]}},
    {"name": "InfluxDBv2", "type": "influxdbv2", "syntax": "custom",
     "supports_auto_limit": False,
     "configuration_schema": {
         "type": "object",
         "properties": {
             "url": {"type": "string"}, "org": {"type": "string"},
             "token": {"type": "string"},
             "verify_ssl": {"type": "boolean", "default": True, "title": "Verify SSL"},
             "cert_File": {"type": "string", "title": "SSL Client Certificate"},
             "cert_key_File": {"type": "string", "title": "SSL Client Key"},
             "cert_key_password": {"type": "string", "title": "Password for SSL Client Key"},
             "ssl_ca_cert_File": {"type": "string", "title": "SSL Root Certificate"}},
         "order": ["url", "org", "token", "cert_File", "cert_key_File", "cert_key_password",
                   "ssl_ca_cert_File"],
         "required": ["url", "org", "token"],
         "secret": ["token", "cert_File", "cert_key_File", "cert_key_password",
                    "ssl_ca_cert_File"],
         "extra_options": ["verify_ssl", "cert_File", "cert_key_File", "cert_key_password",
                           "ssl_ca_cert_File"]}},
]


class Reply(Exception):
    def __init__(self, response):
        super().__init__()
        self.response = response


def msg(status, text):
    return Reply(json_response(status, {"message": text}))


def _type_ok(value, t):
    if isinstance(t, list):
        return any(_type_ok(value, x) for x in t)
    if t == "string":
        return isinstance(value, str)
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or \
            (isinstance(value, float) and value.is_integer())
    if t == "boolean":
        return isinstance(value, bool)
    if t == "array":
        return isinstance(value, list)
    if t == "object":
        return isinstance(value, dict)
    if t == "null":
        return value is None
    return True


def validate(options, schema):
    """jsonschema.validate after extendedEnum -> enum; no additionalProperties."""
    if not isinstance(options, dict):
        return False
    for k in schema.get("required") or []:
        if k not in options:
            return False
    for k, prop in (schema.get("properties") or {}).items():
        if k not in options:
            continue
        v = options[k]
        if "type" in prop and not _type_ok(v, prop["type"]):
            return False
        enum = prop.get("enum")
        if prop.get("extendedEnum"):
            enum = [e["value"] if isinstance(e, dict) else e for e in prop["extendedEnum"]]
        if enum is not None and v not in enum:
            return False
    return True


class RedashEmulator(Emulator):
    name = "redash"

    def reset_state(self):
        self.api_keys = {"admin-api-key": {"admin": True, "user": "admin@example.com"},
                         "user-api-key": {"admin": False, "user": "user@example.com"}}
        for k in self.api_keys:
            self.secrets.record("redash_api_key", k)
        self.types = {t["type"]: copy.deepcopy(t) for t in DEFAULT_TYPES}
        self.data_sources = {}
        self.next_id = 1
        self.default_group = 2
        self.groups = {1: {"id": 1, "name": "admin", "type": "builtin",
                           "permissions": ["admin", "super_admin"]},
                       2: {"id": 2, "name": "default", "type": "builtin",
                           "permissions": ["create_dashboard", "create_query", "edit_dashboard",
                                           "edit_query", "view_query", "view_source",
                                           "execute_query", "list_users", "schedule_query",
                                           "list_dashboards", "list_alerts",
                                           "list_data_sources"]}}
        self.enforce_https = False
        self.test_results = {}
        self.test_log = []
        self.test_delay = 0.0
        self.psql = None

    def seed(self, data):
        if data.get("replace_api_keys"):
            self.api_keys = {}
        for k, v in (data.get("api_keys") or {}).items():
            v = v if isinstance(v, dict) else {"admin": bool(v)}
            self.secrets.record("redash_api_key", k)
            self.api_keys[k] = {"admin": bool(v.get("admin", True)),
                                "user": v.get("user", "user@example.com")}
        if data.get("replace_types"):
            self.types = {}
        for t in data.get("types") or []:
            t = dict(t)
            t.setdefault("syntax", "sql")
            t.setdefault("supports_auto_limit", False)
            self.types[t["type"]] = t
        for t in data.get("remove_types") or []:
            self.types.pop(t, None)
        if "enforce_https" in data:
            self.enforce_https = bool(data["enforce_https"])
        for g in data.get("groups") or []:
            gid = int(g["id"])
            self.groups[gid] = {"id": gid, "name": g["name"], "type": g.get("type", "regular"),
                                "permissions": list(g.get("permissions") or [])}
        if "next_id" in data:
            self.next_id = int(data["next_id"])
        if "psql" in data:
            self.psql = data["psql"] or None
        if "test_delay_s" in data:
            self.test_delay = float(data["test_delay_s"])
        for k, v in (data.get("test_results") or {}).items():
            self.test_results[str(k)] = v
        created = []
        for ds in data.get("data_sources") or []:
            did = int(ds.get("id") or self.next_id)
            self.next_id = max(self.next_id, did + 1)
            self.data_sources[did] = {
                "id": did, "name": ds["name"], "type": ds["type"],
                "options": {k: v for k, v in (ds.get("options") or {}).items() if v is not None},
                "paused": int(ds.get("paused", 0)), "pause_reason": ds.get("pause_reason"),
                "queue_name": ds.get("queue_name", "queries"),
                "scheduled_queue_name": ds.get("scheduled_queue_name", "scheduled_queries"),
                "groups": {str(k): bool(v) for k, v in
                           (ds.get("groups") or {str(self.default_group): False}).items()}}
            self._record_secret_options(self.data_sources[did])
            created.append(did)
        return {"ids": created}

    def dump_state(self):
        return {"data_sources": [copy.deepcopy(self.data_sources[i])
                                 for i in sorted(self.data_sources)],
                "next_id": self.next_id, "api_keys": self.api_keys,
                "types": sorted(self.types), "test_log": self.test_log,
                "groups": [copy.deepcopy(self.groups[i]) for i in sorted(self.groups)]}

    def not_ready_response(self, req):
        return text_response(502, "<html><head><title>502 Bad Gateway</title></head><body>"
                                  "<center><h1>502 Bad Gateway</h1></center></body></html>\n",
                             content_type="text/html")

    # ------------------------------------------------------------------ helpers
    def _user(self, req):
        key = req.arg("api_key")
        if key is None:
            auth = req.header("Authorization")
            if auth is not None:
                key = auth.replace("Key ", "", 1)
        if not key:
            return None
        return self.api_keys.get(key)

    def _short(self, ds):
        t = self.types.get(ds["type"], {})
        return {"id": ds["id"], "name": ds["name"], "type": ds["type"],
                "syntax": t.get("syntax", "sql"), "paused": ds["paused"],
                "pause_reason": ds["pause_reason"],
                "supports_auto_limit": bool(t.get("supports_auto_limit", False))}

    def _record_secret_options(self, ds):
        schema = (self.types.get(ds["type"]) or {}).get("configuration_schema") or {}
        for k in schema.get("secret") or []:
            v = ds["options"].get(k)
            if v != PLACEHOLDER:
                self.secrets.record("redash_option", v)

    def _masked(self, ds):
        schema = (self.types.get(ds["type"]) or {}).get("configuration_schema") or {}
        secret = schema.get("secret") or []
        return {k: (PLACEHOLDER if k in secret else v) for k, v in ds["options"].items()}

    def _long(self, ds):
        d = self._short(ds)
        d["options"] = self._masked(ds)
        d["queue_name"] = ds["queue_name"]
        d["scheduled_queue_name"] = ds["scheduled_queue_name"]
        d["groups"] = dict(ds["groups"])
        return d

    def _body(self, req, status_on_bad=400):
        try:
            body = req.json()
        except ValueError:
            raise msg(400, MSG_400)
        return body

    @staticmethod
    def _filter_none(opts):
        if not isinstance(opts, dict):
            return opts
        return {k: v for k, v in opts.items() if v is not None}

    # ------------------------------------------------------------------ dispatch
    def handle(self, req):
        with self.lock:
            try:
                return self._handle(req)
            except Reply as r:
                return r.response

    def _handle(self, req):
        p = req.path.rstrip("/") if req.path != "/" else req.path
        if self.enforce_https and req.header("X-Forwarded-Proto", "http") != "https":
            host = req.header("Host") or "localhost"
            loc = "https://" + host + req.raw_path
            return text_response(302, '<!doctype html>\n<html lang=en>\n<title>Redirecting...'
                                      '</title>\n<h1>Redirecting...</h1>\n<p>You should be '
                                      'redirected automatically to the target URL: <a href="%s">'
                                      '%s</a>. If not, click the link.\n' % (loc, loc),
                                 headers={"Location": loc}, content_type="text/html; charset=utf-8")
        if p == "/ping":
            return text_response(200, "PONG.")
        if not p.startswith("/api/"):
            raise msg(404, MSG_404)
        user = self._user(req)
        if user is None:
            raise msg(404, MSG_LOGIN)
        parts = p.split("/")[2:]  # after /api
        if parts and parts[0] == "groups":
            return self._groups(req, user, parts[1:])
        if not parts or parts[0] != "data_sources":
            raise msg(404, MSG_404)
        admin = user["admin"]
        if len(parts) == 1:
            if req.method == "GET":
                items = sorted(self.data_sources.values(),
                               key=lambda d: (d["name"].lower(), d["id"]))
                out = []
                for ds in items:
                    d = self._short(ds)
                    d["view_only"] = False
                    out.append(d)
                return json_response(200, out)
            if req.method == "POST":
                if not admin:
                    raise msg(403, MSG_403)
                return self._create(req)
            raise msg(405, MSG_405)
        if parts[1] == "types" and len(parts) == 2:
            if req.method != "GET":
                raise msg(405, MSG_405)
            if not admin:
                raise msg(403, MSG_403)
            out = []
            for t in sorted(self.types.values(), key=lambda t: t["name"].lower()):
                d = {"name": t["name"], "type": t["type"],
                     "configuration_schema": copy.deepcopy(t["configuration_schema"])}
                if t.get("deprecated"):
                    d["deprecated"] = True
                out.append(d)
            return json_response(200, out)
        try:
            did = int(parts[1])
        except ValueError:
            raise msg(404, MSG_404)
        if len(parts) == 2:
            if req.method == "GET":
                ds = self.data_sources.get(did)
                if ds is None:
                    raise msg(404, MSG_404)
                if not admin:
                    d = self._short(ds)
                    d["view_only"] = False
                    return json_response(200, d)
                d = self._long(ds)
                d["view_only"] = False
                return json_response(200, d)
            if req.method == "POST":
                if not admin:
                    raise msg(403, MSG_403)
                return self._update(req, did)
            if req.method == "DELETE":
                if not admin:
                    raise msg(403, MSG_403)
                if did not in self.data_sources:
                    raise msg(500, MSG_500)
                del self.data_sources[did]
                return empty_response(204)
            raise msg(405, MSG_405)
        sub = parts[2] if len(parts) == 3 else None
        if sub == "test":
            if req.method != "POST":
                raise msg(405, MSG_405)
            if not admin:
                raise msg(403, MSG_403)
            return self._test(did)
        if sub == "pause":
            if not admin:
                raise msg(403, MSG_403)
            ds = self.data_sources.get(did)
            if ds is None:
                raise msg(404, MSG_404)
            if req.method == "POST":
                reason = req.arg("reason")
                if reason is None and req.body.strip():
                    try:
                        reason = (req.json() or {}).get("reason")
                    except (ValueError, AttributeError):
                        reason = None
                ds["paused"], ds["pause_reason"] = 1, reason
            elif req.method == "DELETE":
                ds["paused"], ds["pause_reason"] = 0, None
            else:
                raise msg(405, MSG_405)
            return json_response(200, self._long(ds))
        if sub == "schema" and req.method == "GET":
            if did not in self.data_sources:
                raise msg(404, MSG_404)
            return json_response(200, {"schema": []})
        raise msg(404, MSG_404)

    # ------------------------------------------------------------------ groups
    def _groups(self, req, user, parts):
        if not parts:
            if req.method != "GET":
                raise msg(405, MSG_405)
            return json_response(200, [copy.deepcopy(self.groups[i]) for i in sorted(self.groups)])
        try:
            gid = int(parts[0])
        except ValueError:
            raise msg(404, MSG_404)
        if len(parts) < 2 or parts[1] != "data_sources" or len(parts) > 3:
            raise msg(404, MSG_404)
        if not user["admin"]:
            raise msg(403, MSG_403)
        if gid not in self.groups:
            raise msg(404, MSG_404)
        key = str(gid)
        if len(parts) == 2:
            if req.method == "GET":
                out = []
                for ds in sorted(self.data_sources.values(), key=lambda d: d["id"]):
                    if key in ds["groups"]:
                        d = self._short(ds)
                        d["view_only"] = ds["groups"][key]
                        out.append(d)
                return json_response(200, out)
            if req.method != "POST":
                raise msg(405, MSG_405)
            body = self._body(req)
            if not isinstance(body, dict) or "data_source_id" not in body:
                raise msg(400, MSG_400)
            ds = self.data_sources.get(self._int(body["data_source_id"]))
            if ds is None:
                raise msg(404, MSG_404)
            if key in ds["groups"]:  # the data_source_groups row exists: IntegrityError
                raise msg(500, MSG_500)
            ds["groups"][key] = False
            d = self._short(ds)
            d["view_only"] = False
            return json_response(200, d)
        ds = self.data_sources.get(self._int(parts[2]))
        if ds is None:
            raise msg(404, MSG_404)
        if req.method == "POST":
            body = self._body(req)
            if not isinstance(body, dict) or "view_only" not in body:
                raise msg(400, MSG_400)
            if key not in ds["groups"]:  # update_group_permission's .one() finds no row
                raise msg(500, MSG_500)
            ds["groups"][key] = bool(body["view_only"])
            d = self._short(ds)
            d["view_only"] = ds["groups"][key]
            return json_response(200, d)
        if req.method == "DELETE":
            ds["groups"].pop(key, None)
            return json_response(200, None)
        raise msg(405, MSG_405)

    @staticmethod
    def _int(v):
        try:
            return int(v)
        except (TypeError, ValueError):
            return None

    def _create(self, req):
        body = self._body(req)
        if not isinstance(body, dict) or any(k not in body for k in ("name", "type", "options")):
            raise msg(400, MSG_400)
        t = self.types.get(body["type"])
        if t is None:
            raise msg(400, MSG_400)
        opts = self._filter_none(body["options"])
        if not validate(opts, t["configuration_schema"]):
            raise msg(400, MSG_400)
        did = self.next_id
        self.next_id += 1
        ds = {"id": did, "name": body["name"], "type": body["type"], "options": dict(opts),
              "paused": 0, "pause_reason": None, "queue_name": "queries",
              "scheduled_queue_name": "scheduled_queries",
              "groups": {str(self.default_group): False}}
        self.data_sources[did] = ds
        self._record_secret_options(ds)
        return json_response(200, self._long(ds))

    def _update(self, req, did):
        try:
            body = req.json()
        except ValueError:
            raise msg(400, MSG_400)
        ds = self.data_sources.get(did)
        if ds is None or not isinstance(body, dict) or \
                any(k not in body for k in ("name", "type", "options")):
            raise msg(500, MSG_500)
        t = self.types.get(body["type"])
        if t is None:
            raise msg(400, MSG_400)
        schema = t["configuration_schema"]
        new = self._filter_none(body["options"])
        if not validate(new, schema):
            raise msg(400, MSG_400)
        merged = dict(new)
        for k in schema.get("secret") or []:
            if merged.get(k) == PLACEHOLDER:
                if k not in ds["options"]:
                    raise msg(500, MSG_500)
                merged[k] = ds["options"][k]
        ds["type"] = body["type"]
        ds["options"] = merged
        ds["name"] = body["name"]
        self._record_secret_options(ds)
        return json_response(200, self._long(ds))

    # ------------------------------------------------------------------ test connection
    def _test(self, did):
        ds = self.data_sources.get(did)
        if ds is None:
            raise msg(404, MSG_404)
        override = self.test_results.get(str(did)) or self.test_results.get(ds["name"])
        ds = copy.deepcopy(ds)
        delay = self.test_delay
        self.lock.release()
        try:
            if delay:
                time.sleep(delay)
            if override is not None:
                result = {"message": override.get("message", "success"),
                          "ok": bool(override.get("ok", True))}
            elif ds["type"] in ("pg", "redshift"):
                result = self._test_pg(ds["options"], self.psql)
            else:
                result = {"message": "success", "ok": True}
        finally:
            self.lock.acquire()
        self.test_log.append({"id": did, "name": ds["name"], "result": result,
                              "time": time.time()})
        return json_response(200, result)

    @staticmethod
    def _test_pg(o, psql=None):
        """Logs in with the stored options through psql: the seeded `psql`, else the one on
        PATH. Without a seeded one and with none on PATH, every test succeeds (no database)."""
        if psql is not None:
            if not os.access(psql, os.X_OK):
                return {"message": "psql not found at %s" % psql, "ok": False}
        else:
            psql = shutil.which("psql")
            if psql is None:
                return {"message": "success", "ok": True}
        env = dict(os.environ)
        env["PGCONNECT_TIMEOUT"] = "5"
        env["PGPASSWORD"] = str(o.get("password", ""))
        if o.get("sslmode"):
            env["PGSSLMODE"] = str(o["sslmode"])
        port = o.get("port", 5432)
        if isinstance(port, float) and port.is_integer():
            port = int(port)
        cmd = [psql, "-X", "-q", "-w", "-h", str(o.get("host", "127.0.0.1")), "-p", str(port),
               "-d", str(o.get("dbname", "")), "-c", "SELECT 1"]
        if o.get("user"):
            cmd[4:4] = ["-U", str(o["user"])]
        try:
            p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return {"message": str(exc), "ok": False}
        if p.returncode == 0:
            return {"message": "success", "ok": True}
        text = (p.stderr or p.stdout).strip()
        if text.startswith("psql: error: "):
            text = text[len("psql: error: "):]
        return {"message": text, "ok": False}


if __name__ == "__main__":
    sys.exit(run_main(RedashEmulator))
