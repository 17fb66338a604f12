#!/usr/bin/env python3
"""InfluxDB OSS v2 emulator for templet's integration tests (see README.md in this folder).

Emulated: token auth, /health, /ready, /ping, orgs, tasks (list/create/get/patch/delete with
the `option task` rules), forced runs; buckets, DBRP mappings and org secrets are in
influxdb_org.py. Tasks never execute. Follows influxdata/influxdb v2.9.1: task/ and http/ for
tasks and runs, tenant/http_server_org.go and tenant/middleware_org_auth.go for orgs (a token
that may not read an org gets it filtered out of a list, 200 with an empty list).
"""

import json
import os
import random
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (Emulator, Response, json_dumps, empty_response, rfc3339, run_main,  # noqa
                    parse_go_duration)
import flux_options as fo  # noqa: E402
from influxdb_org import OrgResources  # noqa: E402

STATUS = {"invalid": 400, "empty value": 400, "unprocessable entity": 422, "conflict": 422,
          "not found": 404, "unauthorized": 401, "forbidden": 403, "too many requests": 429,
          "unavailable": 503, "method not allowed": 405, "request too large": 413,
          "not implemented": 501, "internal error": 500}
ID_RE = re.compile(r"[0-9a-f]{16}")


class Reply(Exception):
    def __init__(self, response):
        super().__init__()
        self.response = response


def ierr(code, message, headers=None):
    h = {"X-Platform-Error-Code": code}
    h.update(headers or {})
    return Reply(Response(STATUS.get(code, 500), json_dumps({"code": code, "message": message}),
                          h, "application/json; charset=utf-8"))


def jresp(status, obj):
    return Response(status, json_dumps(obj), None, "application/json; charset=utf-8")


def check_id(s):
    """kit/platform/id.go: returns the id or raises 400."""
    if s is None or len(s) != 16:
        raise ierr("invalid", "id must have a length of 16 bytes")
    if not ID_RE.fullmatch(s) or s == "0" * 16:
        raise ierr("invalid", "invalid ID")
    return s


class InfluxEmulator(OrgResources, Emulator):
    name = "influxdb"
    ierr, jresp, check_id = staticmethod(ierr), staticmethod(jresp), staticmethod(check_id)

    def reset_state(self):
        self.id_counter = random.randint(0x0a00000000000000, 0x0aff000000000000)
        self.started = time.time()
        self.orgs = {}
        self.users = {}
        self.tokens = {}
        self.tasks = {}
        self.runs = {}
        self.buckets = {}
        self.dbrps = {}
        self.org_secrets = {}
        org = self._add_org("myorg")
        user = self._add_user("admin")
        self.default_org, self.default_user = org["id"], user["id"]
        self.tokens["admin-token"] = {"user": user["id"], "orgs": "*", "write": True,
                                      "read_orgs": True,
                                      "description": "admin's Token"}
        self.secrets.record("influxdb_token", "admin-token")
        for b in ("_monitoring", "_tasks", "mybucket"):
            self._add_bucket(org["id"], b, system=b.startswith("_"))

    def new_id(self):
        self.id_counter += random.randint(1, 4096)
        return "%016x" % self.id_counter

    def _add_org(self, name, oid=None):
        now = rfc3339(self.now())
        o = {"id": oid or self.new_id(), "name": name, "description": "",
             "createdAt": now, "updatedAt": now}
        self.orgs[o["id"]] = o
        return o

    def _add_user(self, name, uid=None):
        u = {"id": uid or self.new_id(), "name": name, "status": "active"}
        self.users[u["id"]] = u
        return u

    def _add_bucket(self, org_id, name, system=False, retention=0, bid=None):
        now = rfc3339(self.now())
        b = {"id": bid or self.new_id(), "orgID": org_id, "type": "system" if system else "user",
             "name": name, "retentionRules": [{"type": "expire", "everySeconds": retention,
                                                "shardGroupDurationSeconds": 604800}]
             if retention or system else [],
             "createdAt": now, "updatedAt": now}
        if name == "_monitoring":
            b["description"] = "System bucket for monitoring logs"
            b["retentionRules"][0]["everySeconds"] = 604800
        if name == "_tasks":
            b["description"] = "System bucket for task logs"
            b["retentionRules"][0]["everySeconds"] = 259200
        self.buckets[b["id"]] = b
        return b

    def _org_by_name(self, name):
        return next((o for o in self.orgs.values() if o["name"] == name), None)

    def _user_by_name(self, name):
        return next((u for u in self.users.values() if u["name"] == name), None)

    def seed(self, data):
        for o in data.get("orgs") or []:
            if not self._org_by_name(o["name"]):
                self._add_org(o["name"], o.get("id"))
        for u in data.get("users") or []:
            if not self._user_by_name(u["name"]):
                self._add_user(u["name"], u.get("id"))
        for t in data.get("tokens") or []:
            uid = t.get("user_id") or (self._user_by_name(t.get("user", "admin")) or {}).get("id")
            if uid is None:
                uid = self._add_user(t["user"])["id"]
            orgs = t.get("orgs", "*")
            if orgs != "*":
                orgs = [(self._org_by_name(x) or {}).get("id", x) for x in orgs]
            self.secrets.record("influxdb_token", t["token"])
            self.tokens[t["token"]] = {"user": uid, "orgs": orgs,
                                       "write": bool(t.get("write", True)),
                                       "read_orgs": bool(t.get("read_orgs", True)),
                                       "description": t.get("description", "")}
        for b in data.get("buckets") or []:
            org = self._resolve_org_seed(b)
            self._add_bucket(org, b["name"], retention=int(b.get("retention_s", 0)),
                             bid=b.get("id"))
        created = []
        for t in data.get("tasks") or []:
            created.append(self._seed_task(t)["id"])
        gen = data.get("generate_tasks")
        if gen:
            if isinstance(gen, int):
                gen = {"count": gen}
            prefix = gen.get("name_prefix", "generated-task-")
            for i in range(int(gen["count"])):
                flux = ('option task = {name: "%s%04d", every: %s}\n\n'
                        'from(bucket: "mybucket")\n    |> range(start: -task.every)\n'
                        '    |> count()\n' % (prefix, i, gen.get("every", "1h")))
                created.append(self._seed_task({"flux": flux, "org": gen.get("org"),
                                                "owner": gen.get("owner"),
                                                "status": gen.get("status", "active")})["id"])
        for k, v in (data.get("secrets") or {}).items():  # the default org's
            self.secrets.record("influxdb_secret", v)
            self.org_secrets.setdefault(self.default_org, {})[k] = v
        for d in data.get("dbrps") or []:
            org = self._resolve_org_seed(d)
            self._add_dbrp(org, d["bucketID"], d["database"], d["retention_policy"],
                           d.get("default"))
        return {"task_ids": created} if created else None

    def _resolve_org_seed(self, d):
        if d.get("orgID"):
            return d["orgID"]
        if d.get("org"):
            o = self._org_by_name(d["org"])
            if o is None:
                raise ValueError("unknown org %s" % d["org"])
            return o["id"]
        return self.default_org

    def _seed_task(self, t):
        org = self._resolve_org_seed(t)
        owner = t.get("ownerID") or (self._user_by_name(t["owner"])["id"] if t.get("owner")
                                     else self.default_user)
        try:
            opts = fo.parse_options(t["flux"])
        except (fo.OptionError, fo.FluxError) as exc:
            raise ValueError("invalid options: %s" % exc)
        return self._store_task(org, owner, t["flux"], opts, t.get("status") or "active",
                                t.get("description", ""), t.get("id"))

    def _store_task(self, org_id, owner, flux, opts, status, description, tid=None):
        now = int(self.now())
        task = {"id": tid or self.new_id(), "orgID": org_id, "ownerID": owner,
                "name": opts.name, "description": description or "", "status": status,
                "flux": flux, "every": opts.every or "", "cron": opts.cron or "",
                "offset_s": int(round(opts.offset_s or 0)),
                "latestCompleted": now, "latestScheduled": now, "lastRunStatus": "",
                "lastRunError": "", "createdAt": now, "updatedAt": None}
        self.tasks[task["id"]] = task
        return task

    def dump_state(self):
        return {"orgs": list(self.orgs.values()), "users": list(self.users.values()),
                "tokens": self.tokens,
                "tasks": [dict(self.tasks[k], flux=self.tasks[k]["flux"])
                          for k in sorted(self.tasks)],
                "runs": self.runs, "buckets": list(self.buckets.values()),
                "dbrps": list(self.dbrps.values()),
                "org_secrets": self.org_secrets,
                "default_org_id": self.default_org, "default_user_id": self.default_user}

    # ------------------------------------------------------------------ auth
    def _auth(self, req):
        h = req.header("Authorization") or ""
        parts = h.split(None, 1)
        if len(parts) != 2 or parts[0].lower() not in ("token", "bearer"):
            raise ierr("unauthorized", "unauthorized access")
        t = self.tokens.get(parts[1].strip())
        if t is None:
            raise ierr("unauthorized", "unauthorized access")
        return t

    @staticmethod
    def _can(tok, org_id, write=False):
        if write and not tok["write"]:
            return False
        return tok["orgs"] == "*" or org_id in tok["orgs"]

    # ------------------------------------------------------------------ views
    def _task_json(self, t, basic=False):
        org = self.orgs.get(t["orgID"], {})
        d = {"id": t["id"], "orgID": t["orgID"], "org": "" if basic else org.get("name", ""),
             "ownerID": t["ownerID"], "name": t["name"]}
        if t["description"]:
            d["description"] = t["description"]
        d["status"] = t["status"]
        d["labels"] = []
        d["flux"] = "" if basic else t["flux"]
        if t["every"]:
            d["every"] = t["every"]
        if t["cron"]:
            d["cron"] = t["cron"]
        if t["offset_s"]:
            d["offset"] = fo.go_duration_text(t["offset_s"])
        if t["latestCompleted"]:
            d["latestCompleted"] = rfc3339(t["latestCompleted"])
        if t["lastRunStatus"]:
            d["lastRunStatus"] = t["lastRunStatus"]
        if t["lastRunError"]:
            d["lastRunError"] = t["lastRunError"]
        if not basic:
            d["createdAt"] = rfc3339(t["createdAt"])
            if t["updatedAt"]:
                d["updatedAt"] = rfc3339(t["updatedAt"])
        base = "/api/v2/tasks/" + t["id"]
        d["links"] = {"self": base, "owners": base + "/owners", "members": base + "/members",
                      "labels": base + "/labels", "runs": base + "/runs", "logs": base + "/logs"}
        return d

    def _org_json(self, o):
        base = "/api/v2/orgs/" + o["id"]
        return {"links": {"self": base, "members": base + "/members",
                          "owners": base + "/owners", "labels": base + "/labels",
                          "secrets": base + "/secrets", "buckets": "/api/v2/buckets?org=" +
                          urllib.parse.quote(o["name"]), "tasks": "/api/v2/tasks?org=" +
                          urllib.parse.quote(o["name"]), "dashboards": "/api/v2/dashboards?org=" +
                          urllib.parse.quote(o["name"]), "logs": base + "/logs"},
                "id": o["id"], "name": o["name"], "description": o["description"],
                "createdAt": o["createdAt"], "updatedAt": o["updatedAt"]}

    # ------------------------------------------------------------------ dispatch
    def handle(self, req):
        with self.lock:
            try:
                return self._handle(req)
            except Reply as r:
                return r.response

    def _handle(self, req):
        p = req.path.rstrip("/") or "/"
        if p == "/health":
            return jresp(200, {"name": "influxdb", "message": "ready for queries and writes",
                               "status": "pass", "checks": [], "version": "v2.9.1",
                               "commit": "d4fa1941"})
        if p == "/ready":
            up = time.time() - self.started
            return jresp(200, {"status": "ready", "started": rfc3339(self.started, True),
                               "up": "%.3fs" % up})
        if p == "/ping":
            return empty_response(204, {"X-Influxdb-Build": "OSS",
                                        "X-Influxdb-Version": "v2.9.1"})
        if not p.startswith("/api/v2"):
            raise ierr("not found", "path not found")
        tok = self._auth(req)
        parts = p.split("/")[3:]
        if not parts:
            return jresp(200, {"tasks": "/api/v2/tasks", "orgs": "/api/v2/orgs",
                               "buckets": "/api/v2/buckets", "dbrps": "/api/v2/dbrps"})
        head = parts[0]
        if head == "orgs":
            return self._orgs(req, tok, parts[1:])
        if head == "tasks":
            return self._tasks(req, tok, parts[1:])
        if head == "buckets":
            return self._buckets(req, tok, parts[1:])
        if head == "dbrps":
            return self._dbrps(req, tok, parts[1:])
        if head == "me" and req.method == "GET":
            u = self.users[tok["user"]]
            return jresp(200, {"id": u["id"], "name": u["name"], "status": "active",
                               "links": {"self": "/api/v2/users/" + u["id"]}})
        raise ierr("not found", "path not found")

    def _method(self, req, allowed):
        if req.method not in allowed:
            raise ierr("method not allowed", "allow: " + ", ".join(allowed),
                       {"Allow": ", ".join(allowed)})

    # ------------------------------------------------------------------ orgs
    def _orgs(self, req, tok, rest):
        if rest:
            oid = check_id(rest[0])
            if len(rest) > 1 and rest[1] == "secrets":
                if oid not in self.orgs:
                    raise ierr("not found", "organization not found")
                return self._org_secrets(req, tok, oid, rest[2:])
            self._method(req, ["GET"])
            o = self.orgs.get(oid)
            if o is None:
                raise ierr("not found", "organization not found")
            if not self._can(tok, oid) or not tok.get("read_orgs", True):
                raise ierr("unauthorized", "read:orgs/%s is unauthorized" % oid)
            return jresp(200, self._org_json(o))
        self._method(req, ["GET"])
        orgs = sorted(self.orgs.values(), key=lambda o: o["id"])
        name = req.arg("org")
        if name:
            o = self._org_by_name(name)
            if o is None:
                raise ierr("not found", 'organization name "%s" not found' % name)
            orgs = [o]
        oid = req.arg("orgID")
        if oid and ID_RE.fullmatch(oid):
            orgs = [o for o in orgs if o["id"] == oid]
        # AuthorizeFindOrganizations: what the token may not read is left out, not refused
        orgs = [o for o in orgs if self._can(tok, o["id"]) and tok.get("read_orgs", True)]
        return jresp(200, {"links": {"self": "/api/v2/orgs"},
                           "orgs": [self._org_json(o) for o in orgs]})

    # ------------------------------------------------------------------ tasks
    def _tasks(self, req, tok, rest):
        if not rest:
            self._method(req, ["GET", "POST"])
            if req.method == "GET":
                return self._list_tasks(req, tok)
            return self._create_task(req, tok)
        tid = rest[0]
        if len(rest) == 1:
            self._method(req, ["GET", "PATCH", "DELETE"])
            check_id(tid)
            if req.method == "GET":
                t = self.tasks.get(tid)
                if t is None or not self._can(tok, t["orgID"]):
                    raise ierr("not found", "failed to find task: task not found")
                return jresp(200, self._task_json(t))
            if req.method == "DELETE":
                t = self.tasks.get(tid)
                if t is None or not self._can(tok, t["orgID"], write=True):
                    raise ierr("not found", "failed to delete task: task not found")
                del self.tasks[tid]
                self.runs.pop(tid, None)
                return empty_response(204)
            return self._patch_task(req, tok, tid)
        if rest[1] == "runs":
            return self._runs(req, tok, tid, rest[2:])
        if rest[1] in ("labels", "members", "owners", "logs") and req.method == "GET":
            check_id(tid)
            if tid not in self.tasks:
                raise ierr("not found", "failed to find task: task not found")
            key = {"labels": "labels", "members": "users", "owners": "users",
                   "logs": "events"}[rest[1]]
            return jresp(200, {key: [], "links": {"self": req.path}})
        raise ierr("not found", "path not found")

    def _list_tasks(self, req, tok):
        after = req.arg("after")
        if after not in (None, ""):
            check_id(after)
        org_id = req.arg("orgID")
        org_name = req.arg("org")
        user = req.arg("user")
        if org_id not in (None, ""):
            check_id(org_id)
        if user not in (None, ""):
            check_id(user)
        limit = 100
        if req.arg("limit") not in (None, ""):
            try:
                limit = int(req.arg("limit"))
            except ValueError:
                raise ierr("invalid", 'failed to decode request: strconv.Atoi: parsing "%s": '
                                      'invalid syntax' % req.arg("limit"))
            if limit < 1 or limit > 500:
                raise ierr("invalid", "failed to decode request: limit must be between 1 and 500")
        ttype = req.arg("type") or ""
        if ttype not in ("", "basic", "system"):
            raise ierr("invalid", '"%s" is not a valid task type' % ttype)
        status = req.arg("status")
        if status not in ("active", "inactive"):
            status = None
        name = req.arg("name")
        filt_org = None
        if org_id:
            filt_org = org_id
        elif org_name:
            o = self._org_by_name(org_name)
            if o is None or not self._can(tok, o["id"]):
                raise ierr("invalid", "failed to decode request: org %s not found or "
                                      "unauthorized" % org_name)
            filt_org = o["id"]
        filt_user = user or (None if (org_id or org_name) else tok["user"])
        out = []
        for tid in sorted(self.tasks):
            t = self.tasks[tid]
            if after and tid <= after:
                continue
            if filt_org and t["orgID"] != filt_org:
                continue
            if filt_user and t["ownerID"] != filt_user:
                continue
            if name is not None and t["name"] != name:
                continue
            if status and t["status"] != status:
                continue
            if not self._can(tok, t["orgID"]):
                continue
            out.append(t)
            if len(out) >= limit:
                break

        def link(after_id):
            qp = {}
            if after_id:
                qp["after"] = after_id
            qp["limit"] = str(limit)
            if org_name:
                qp["org"] = org_name
            if org_id:
                qp["orgID"] = org_id
            if user:
                qp["user"] = user
            return "/api/v2/tasks?" + urllib.parse.urlencode(sorted(qp.items()))

        links = {"self": link(after)}
        if len(out) >= limit:
            links["next"] = link(out[-1]["id"])
        return jresp(200, {"links": links,
                           "tasks": [self._task_json(t, basic=(ttype == "basic")) for t in out]})

    def _opts_or_error(self, flux, prefix=""):
        try:
            return fo.parse_options(flux)
        except fo.FluxError as exc:
            raise ierr("invalid", prefix + "invalid options: " + str(exc))
        except fo.OptionError as exc:
            raise ierr("invalid", prefix + "invalid options: " + str(exc))

    def _create_task(self, req, tok):
        try:
            body = req.json()
            if not isinstance(body, dict):
                raise ValueError("json: cannot unmarshal into Go value of type "
                                 "http.postTaskRequest")
        except ValueError as exc:
            raise ierr("invalid", "failed to decode request: %s" % exc)
        flux = body.get("flux")
        if not flux:
            raise ierr("invalid", "failed to decode request: missing flux")
        org_id = body.get("orgID")
        org_name = body.get("org")
        if org_id is not None:
            try:
                check_id(org_id)
            except Reply as r:
                msg = json.loads(r.response.body)["message"]
                raise ierr("invalid", "failed to decode request: " + msg)
        if not org_id and not org_name:
            raise ierr("invalid", "failed to decode request: missing orgID and org")
        status = body.get("status") or ""
        if status not in ("", "active", "inactive"):
            raise ierr("invalid", 'invalid task status: "%s"' % status)
        if org_name:
            o = self._org_by_name(org_name)
            if o is None:
                raise ierr("not found", 'could not identify organization: organization name '
                                        '"%s" not found' % org_name)
            org = o["id"]
        else:
            if org_id not in self.orgs:
                raise ierr("not found", "could not identify organization: organization not "
                                        "found")
            org = org_id
        if not self._can(tok, org, write=True):
            raise ierr("internal error", "failed to create task: unauthorized")
        opts = self._opts_or_error(flux)
        if opts.offset:
            try:
                fo.go_parse_offset(opts.offset)
            except ValueError as exc:
                raise ierr("internal error", "unexpected error parsing time: %s" % exc)
        t = self._store_task(org, tok["user"], flux, opts, status or "active",
                             body.get("description", ""))
        return jresp(201, self._task_json(t))

    def _patch_task(self, req, tok, tid):
        try:
            body = req.json()
            if not isinstance(body, dict):
                raise ValueError("json: cannot unmarshal into Go value of type "
                                 "taskmodel.TaskUpdate")
        except ValueError as exc:
            raise ierr("invalid", "failed to decode request: %s" % exc)
        flux = body.get("flux")
        status = body.get("status")
        name, every, cron = body.get("name"), body.get("every"), body.get("cron")
        offset = body.get("offset")
        every_nonzero = False
        if every:
            if not fo.DUR_RE.fullmatch(str(every)):
                raise ierr("invalid", 'failed to decode request: invalid duration "%s"' % every)
            every_nonzero = fo.duration_seconds(every) != 0
        opts_zero = not name and not every_nonzero and not cron and not offset and \
            not body.get("concurrency") and not body.get("retry")
        # TaskUpdate.Validate is a first-match switch
        if every_nonzero and cron:
            raise ierr("invalid", "failed to decode request: cannot specify both every and cron")
        elif every_nonzero:
            pass
        elif offset not in (None, "", "0s", "0") and offset:
            try:
                parse_go_duration(str(offset))
            except ValueError as exc:
                raise ierr("invalid", "failed to decode request: offset: %s, %s is invalid, the "
                                      "largest unit supported is h" % (offset, exc))
        elif flux is None and status is None and opts_zero:
            raise ierr("invalid", "failed to decode request: cannot update task without content")
        elif status is not None and status not in ("active", "inactive"):
            raise ierr("invalid", 'failed to decode request: invalid task status: "%s"' % status)
        t = self.tasks.get(tid)
        if t is None or not self._can(tok, t["orgID"], write=True):
            raise ierr("not found", "failed to update task: task not found")
        new_flux = t["flux"]
        changed = False
        if flux is not None:
            new_flux = flux
        if name is not None or every is not None or cron is not None or offset is not None:
            try:
                new_flux = fo.rewrite(new_flux, name=name, every=every, cron=cron,
                                      offset=offset)
            except (fo.OptionError, fo.FluxError) as exc:
                raise ierr("invalid", "failed to update task: invalid options: %s" % exc)
        if flux is not None or new_flux != t["flux"]:
            opts = self._opts_or_error(new_flux, "failed to update task: ")
            if opts.offset:
                try:
                    fo.go_parse_offset(opts.offset)
                except ValueError as exc:
                    raise ierr("internal error", "unexpected error parsing time: %s" % exc)
            t["flux"] = new_flux
            t["name"], t["every"], t["cron"] = opts.name, opts.every or "", opts.cron or ""
            t["offset_s"] = int(round(opts.offset_s or 0))
            changed = True
        if "description" in body and body["description"] is not None:
            t["description"] = body["description"]
            changed = True
        if status is not None and status != t["status"]:
            if status == "active":
                now = int(self.now())
                t["latestCompleted"] = now
                t["latestScheduled"] = now
            t["status"] = status
            changed = True
        if changed:
            t["updatedAt"] = int(self.now())
        return jresp(200, self._task_json(t))

    # ------------------------------------------------------------------ runs
    def _run_json(self, tid, r):
        base = "/api/v2/tasks/%s/runs/%s" % (tid, r["id"])
        d = {"id": r["id"], "taskID": tid, "status": r["status"],
             "scheduledFor": rfc3339(r["scheduledFor"])}
        if r.get("requestedAt"):
            d["requestedAt"] = rfc3339(r["requestedAt"])
        d["links"] = {"self": base, "task": "/api/v2/tasks/" + tid, "logs": base + "/logs",
                      "retry": base + "/retry"}
        return d

    def _runs(self, req, tok, tid, rest):
        check_id(tid)
        t = self.tasks.get(tid)
        if t is None or not self._can(tok, t["orgID"]):
            raise ierr("not found", "failed to find task: task not found")
        runs = self.runs.setdefault(tid, [])
        if not rest:
            self._method(req, ["GET", "POST"])
            if req.method == "POST":
                when = int(self.now())
                clen = len(req.body)
                if 0 < clen < 1000:
                    try:
                        sf = (req.json() or {}).get("scheduledFor")
                        if sf:
                            when = int(_parse_rfc3339(sf))
                    except (ValueError, AttributeError) as exc:
                        raise ierr("invalid", "failed to decode request: %s" % exc)
                if any(r["scheduledFor"] == when and r["status"] == "scheduled" for r in runs):
                    raise ierr("conflict", "failed to force run: run already queued")
                r = {"id": self.new_id(), "status": "scheduled", "scheduledFor": when,
                     "requestedAt": int(self.now())}
                runs.append(r)
                return jresp(201, self._run_json(tid, r))
            limit = 100
            if req.arg("limit") not in (None, ""):
                try:
                    limit = int(req.arg("limit"))
                except ValueError:
                    limit = 0
                if limit < 1 or limit > 500:
                    raise ierr("invalid", "failed to decode request: run limit is out of "
                                          "bounds, must be between 1 and 500")
            items = sorted(runs, key=lambda r: -r["scheduledFor"])[:limit]
            return jresp(200, {"links": {"self": "/api/v2/tasks/%s/runs" % tid,
                                         "task": "/api/v2/tasks/" + tid},
                               "runs": [self._run_json(tid, r) for r in items]})
        rid = rest[0]
        check_id(rid)
        r = next((r for r in runs if r["id"] == rid), None)
        if r is None:
            raise ierr("not found", "failed to find run: run not found")
        if len(rest) == 2 and rest[1] == "logs":
            return jresp(200, {"events": []})
        if req.method == "DELETE":
            runs.remove(r)
            return empty_response(204)
        return jresp(200, self._run_json(tid, r))


def _parse_rfc3339(s):
    import calendar as _cal
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})",
                     s)
    if not m:
        raise ValueError('parsing time "%s" as RFC3339: cannot parse' % s)
    ts = _cal.timegm(tuple(int(m.group(i)) for i in range(1, 7)))
    if m.group(8) != "Z":
        sign = 1 if m.group(8)[0] == "+" else -1
        hh, mm = m.group(8)[1:].split(":")
        ts -= sign * (int(hh) * 3600 + int(mm) * 60)
    return ts


if __name__ == "__main__":
    sys.exit(run_main(InfluxEmulator))
