"""Tests for the four emulators (stdlib only).

    python3 -m unittest tests/emulators/test_emulators.py -v

Each emulator runs as a subprocess (as the C++ integration tests will run it), once per test
class; every test starts from POST /_emulator/reset. The §5 items of
shared/docs/reference/http-apis.md are tagged in the test names (r1..r5, i1..i5, v1..v5, c1..c5).

The optional PostgreSQL tests run only when TEMPLET_TEST_PG="host:port:user[:password[:dbname]]"
names a server whose user may CREATE ROLE.
"""

import base64
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))


class Emu:
    def __init__(self, script, extra_args=()):
        self.dir = tempfile.mkdtemp(prefix="emu-")
        self.port_file = os.path.join(self.dir, "port")
        self.state_file = os.path.join(self.dir, "state.json")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, script), "--port-file", self.port_file,
             "--state-file", self.state_file, *extra_args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 30
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None:
                raise RuntimeError("%s died: %s" % (script, self.proc.stderr.read().decode()))
            if time.time() > deadline:
                raise RuntimeError("%s did not start" % script)
            time.sleep(0.02)
        with open(self.port_file) as f:
            self.port = int(f.read().strip())

    def call(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        conn.close()
        return Resp(r.status, hdrs, data)

    def control(self, name, body=None, method="POST"):
        r = self.call(method, "/_emulator/" + name, body if body is not None else
                      ({} if method == "POST" else None))
        assert r.status == 200, (name, r.status, r.body)
        return r.json()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = -9
        self.proc.stderr.close()
        return rc


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    @property
    def text(self):
        return self.body.decode("utf-8")

    def __repr__(self):
        return "Resp(%d, %r)" % (self.status, self.body[:300])


class EmuCase(unittest.TestCase):
    script = None
    emu = None

    @classmethod
    def setUpClass(cls):
        cls.emu = Emu(cls.script)

    @classmethod
    def tearDownClass(cls):
        rc = cls.emu.stop()
        assert rc == 0, "emulator exit code %s" % rc
        assert os.path.exists(cls.emu.state_file)

    def setUp(self):
        self.emu.control("reset")

    def call(self, *a, **kw):
        return self.emu.call(*a, **kw)


# ====================================================================================== common
class CommonControlTests(EmuCase):
    script = "consul.py"

    def test_port_file_and_health(self):
        with open(self.emu.port_file) as f:
            self.assertEqual(int(f.read()), self.emu.port)
        self.assertEqual(self.emu.control("health", method="GET")["emulator"], "consul")

    def test_fault_status_count_and_clear(self):
        self.emu.control("fault", {"path_regex": "^/v1/kv/a$", "method": "GET", "status": 503,
                                   "body": "No cluster leader", "count": 2})
        self.assertEqual(self.call("GET", "/v1/kv/a").status, 503)
        self.assertEqual(self.call("PUT", "/v1/kv/a", b"x").status, 200)  # other method
        r = self.call("GET", "/v1/kv/a")
        self.assertEqual((r.status, r.text), (503, "No cluster leader"))
        self.assertEqual(self.call("GET", "/v1/kv/a").status, 200)  # count exhausted
        self.emu.control("fault", {"path_regex": "kv", "status": 429, "count": None})
        self.assertEqual(self.call("GET", "/v1/kv/a").status, 429)
        self.assertEqual(self.call("GET", "/v1/kv/a").status, 429)
        self.emu.control("clear_faults")
        self.assertEqual(self.call("GET", "/v1/kv/a").status, 200)

    def test_fault_delay_and_drop(self):
        self.emu.control("fault", {"path_regex": "slow", "delay_ms": 300, "count": 1})
        t0 = time.time()
        self.assertEqual(self.call("GET", "/v1/kv/slow").status, 404)
        self.assertGreaterEqual(time.time() - t0, 0.29)
        self.emu.control("fault", {"path_regex": "drop", "drop_connection": True, "count": 1})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, OSError)):
            self.call("GET", "/v1/kv/drop")
        self.assertEqual(self.call("GET", "/v1/kv/drop").status, 404)

    def test_concurrency_counts_requests_being_answered(self):
        self.emu.control("fault", {"path_regex": "^/v1/kv/slow", "delay_ms": 400, "count": 3})
        threads = [threading.Thread(target=self.call, args=("GET", "/v1/kv/slow%d" % i))
                   for i in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.2)
        self.assertEqual(self.emu.control("concurrency", method="GET"),
                         {"in_flight": 3, "peak": 3})
        for t in threads:
            t.join()
        self.assertEqual(self.emu.control("concurrency", method="GET"),
                         {"in_flight": 0, "peak": 3})
        self.assertEqual(self.emu.control("concurrency", method="DELETE"),
                         {"in_flight": 0, "peak": 0})

    def test_request_log(self):
        self.call("PUT", "/v1/kv/x?flags=3", b"hello", {"X-Consul-Token": "t"})
        self.call("GET", "/v1/kv/x")
        log = self.emu.control("requests?method=PUT", method="GET")
        self.assertEqual(len(log), 1)
        self.assertEqual(log[0]["path"], "/v1/kv/x")
        self.assertEqual(log[0]["query"], {"flags": ["3"]})
        self.assertEqual(log[0]["body"], "hello")
        self.assertEqual(log[0]["headers"]["x-consul-token"], "t")
        self.assertEqual(log[0]["status"], 200)
        self.assertEqual(len(self.emu.control("requests", method="GET")), 2)
        self.emu.control("requests", method="DELETE")
        self.assertEqual(self.emu.control("requests", method="GET"), [])


# ====================================================================================== redash
ADMIN = {"Authorization": "Key admin-api-key"}
PG_OPTS = {"host": "db.example", "port": 5432, "user": "app", "password": "s3cret",
           "dbname": "app", "extra_unknown": "kept"}


class RedashTests(EmuCase):
    script = "redash.py"

    def create(self, name="ds", type_="pg", options=None, headers=ADMIN):
        return self.call("POST", "/api/data_sources",
                         {"name": name, "type": type_,
                          "options": dict(PG_OPTS) if options is None else options}, headers)

    def stored(self, did):
        st = self.emu.control("state", method="GET")
        return next(d for d in st["data_sources"] if d["id"] == did)

    def test_r1_auth_failures_are_404(self):
        login = {"message": "Couldn't find resource. Please login and try again."}
        for h in ({}, {"Authorization": "Key nope"}, {"Authorization": "Bearer admin-api-key"}):
            r = self.call("GET", "/api/data_sources", headers=h)
            self.assertEqual((r.status, r.json()), (404, login))
        self.assertEqual(self.call("GET", "/api/data_sources",
                                   headers={"Authorization": "admin-api-key"}).status, 200)
        # ?api_key= wins over the header, both ways
        self.assertEqual(self.call("GET", "/api/data_sources?api_key=admin-api-key",
                                   headers={"Authorization": "Key bad"}).status, 200)
        self.assertEqual(self.call("GET", "/api/data_sources?api_key=bad",
                                   headers=ADMIN).status, 404)

    def test_r2_update_is_a_full_replace_with_placeholder(self):
        r = self.create(options={"dbname": "a", "password": "--------", "host": "h"})
        self.assertEqual(r.status, 200)
        did = r.json()["id"]
        self.assertEqual(self.stored(did)["options"]["password"], "--------")  # literal
        r = self.create(name="b")
        did = r.json()["id"]
        upd = {"name": "b", "type": "pg", "options": {"dbname": "app2", "password": "--------"}}
        r = self.call("POST", "/api/data_sources/%d" % did, upd, ADMIN)
        self.assertEqual(r.status, 200)
        self.assertEqual(self.stored(did)["options"], {"dbname": "app2", "password": "s3cret"})
        upd["options"]["password"] = "rotated"
        self.call("POST", "/api/data_sources/%d" % did, upd, ADMIN)
        self.assertEqual(self.stored(did)["options"]["password"], "rotated")
        # placeholder for a secret never stored -> 500
        upd["options"] = {"dbname": "x", "sslkeyFile": "--------"}
        r = self.call("POST", "/api/data_sources/%d" % did, upd, ADMIN)
        self.assertEqual((r.status, r.json()), (500, {"message": "Internal Server Error"}))

    def test_r3_masking(self):
        r = self.create(options={"dbname": "a", "password": "", "user": "u"})
        self.assertEqual(r.json()["options"], {"dbname": "a", "password": "--------",
                                               "user": "u"})
        did = r.json()["id"]
        r = self.call("GET", "/api/data_sources/%d" % did, headers=ADMIN)
        self.assertEqual(r.json()["options"]["password"], "--------")
        self.assertNotIn("sslkeyFile", r.json()["options"])
        r = self.create(name="influx", type_="influxdb",
                        options={"url": "http://u:pw@influx:8086/db"})
        self.assertEqual(r.json()["options"]["url"], "http://u:pw@influx:8086/db")
        r = self.call("POST", "/api/data_sources/%d" % did,
                      {"name": "x", "type": "mysql", "options": {"db": "d", "passwd": "p"}},
                      ADMIN)
        self.assertEqual(r.json()["options"], {"db": "d", "passwd": "--------"})

    def test_r4_validation(self):
        generic = {"message": "The browser (or proxy) sent a request that this server could "
                              "not understand."}
        r = self.create(options={"dbname": "a", "port": "5432"})
        self.assertEqual((r.status, r.json()), (400, generic))
        r = self.create(options={"host": "h"})  # missing required dbname
        self.assertEqual((r.status, r.json()), (400, generic))
        r = self.create(options={"dbname": "a", "sslmode": "bogus"})
        self.assertEqual(r.status, 400)
        r = self.create(type_="nosuch")
        self.assertEqual((r.status, r.json()), (400, generic))
        r = self.call("POST", "/api/data_sources", {"name": "x", "type": "pg"}, ADMIN)
        self.assertEqual(r.status, 400)
        r = self.create(options={"dbname": "a", "port": None, "whatever": [1]})
        self.assertEqual(r.status, 200)
        self.assertEqual(self.stored(r.json()["id"])["options"], {"dbname": "a",
                                                                  "whatever": [1]})

    def test_r_enforce_https_redirects_unless_forwarded_proto(self):
        # redash/security.py: talisman force_https, before authentication.
        self.emu.control("seed", {"enforce_https": True})
        r = self.call("GET", "/api/data_sources?x=1", headers={"Host": "redash.local:5000"})
        self.assertEqual(r.status, 302)
        self.assertEqual(r.headers["location"], "https://redash.local:5000/api/data_sources?x=1")
        self.assertEqual(self.call("GET", "/ping").status, 302)
        h = dict(ADMIN, **{"X-Forwarded-Proto": "https"})
        self.assertEqual(self.call("GET", "/api/data_sources", headers=h).status, 200)
        self.assertEqual(self.call("GET", "/api/data_sources",
                                   headers={"X-Forwarded-Proto": "https"}).status, 404)

    def test_r_groups_and_their_data_sources(self):
        # redash/handlers/groups.py
        self.emu.control("seed", {"groups": [{"id": 7, "name": "Data Team"}]})
        names = [g["name"] for g in self.call("GET", "/api/groups", headers=ADMIN).json()]
        self.assertEqual(names, ["admin", "default", "Data Team"])
        did = self.create(name="A").json()["id"]
        self.assertEqual(self.call("GET", "/api/groups/7/data_sources", headers=ADMIN).json(), [])
        r = self.call("POST", "/api/groups/7/data_sources", {"data_source_id": did}, ADMIN)
        self.assertEqual((r.status, r.json()["view_only"]), (200, False))
        r = self.call("POST", "/api/groups/7/data_sources", {"data_source_id": did}, ADMIN)
        self.assertEqual(r.status, 500)  # the membership row exists already
        r = self.call("POST", "/api/groups/7/data_sources/%d" % did, {"view_only": True}, ADMIN)
        self.assertEqual((r.status, r.json()["view_only"]), (200, True))
        got = self.call("GET", "/api/groups/7/data_sources", headers=ADMIN).json()
        self.assertEqual([(d["id"], d["view_only"]) for d in got], [(did, True)])
        self.assertEqual(self.call("GET", "/api/data_sources/%d" % did, headers=ADMIN)
                         .json()["groups"], {"2": False, "7": True})
        user = {"Authorization": "Key user-api-key"}
        self.assertEqual(self.call("GET", "/api/groups/7/data_sources", headers=user).status, 403)
        self.assertEqual(self.call("DELETE", "/api/groups/7/data_sources/%d" % did,
                                   headers=ADMIN).status, 200)
        self.assertEqual(self.call("GET", "/api/groups/7/data_sources", headers=ADMIN).json(), [])
        r = self.call("POST", "/api/groups/7/data_sources/%d" % did, {"view_only": True}, ADMIN)
        self.assertEqual(r.status, 500)  # update_group_permission: no row
        self.assertEqual(self.call("GET", "/api/groups/99/data_sources", headers=ADMIN).status,
                         404)

    def manage(self, *args, env=None):
        e = dict(os.environ, REDASH_EMU_URL="http://127.0.0.1:%d" % self.emu.port, **(env or {}))
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit",
                              "fake_manage_py.py")
        return subprocess.run([sys.executable, script] + list(args), env=e,
                              capture_output=True, text=True, timeout=30)

    def test_r_fake_manage_py_prints_what_the_real_cli_prints(self):
        # redash/cli/data_sources.py
        opts = json.dumps({"dbname": "d", "password": 'q"\\x'})
        p = self.manage("ds", "new", "N", "--type", "pg", env={"FLASK_DS_NEW_OPTIONS": opts})
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stdout, 'Creating pg data source (N) with options:\n'
                                   '{"dbname": "d", "password": "q\\"\\\\x"}\nId: 1\n')
        self.assertRegex(p.stderr, r"^\[[^]]+\]\[PID:\d+\]\[INFO\]\[xmlschema\] Include schema")
        p = self.manage("ds", "new", "N", "--type", "nosuch", env={"FLASK_DS_NEW_OPTIONS": opts})
        self.assertEqual((p.returncode, p.stdout.splitlines()[1]), (1, "OJNK"))
        self.assertTrue(p.stdout.startswith('Error: the type "nosuch" is not supported'))
        self.manage("ds", "new", "N", "--type", "pg", env={"FLASK_DS_NEW_OPTIONS": opts})
        p = self.manage("ds", "edit", "N", "--type", "pg")
        self.assertEqual(p.returncode, 1)
        self.assertTrue(p.stderr.rstrip().endswith(
            "sqlalchemy.orm.exc.MultipleResultsFound: Multiple rows were found for one()"))
        p = self.manage("ds", "edit", "Nope", "--type", "pg")
        self.assertEqual((p.returncode, p.stdout), (0, "Couldn't find data source named: Nope\n"))
        self.manage("ds", "delete", "N")  # "N" is shared: nothing deleted
        self.assertEqual(len(self.emu.control("state", method="GET")["data_sources"]), 2)
        self.emu.control("reset")
        self.manage("ds", "new", "M", "--type", "pg", env={"FLASK_DS_NEW_OPTIONS": opts})
        p = self.manage("ds", "edit", "M", "--type", "pg",
                        env={"FLASK_DS_EDIT_OPTIONS": json.dumps({"dbname": "d", "port": "1"})})
        self.assertEqual(p.stdout, "Updating type: pg -> pg\n")
        self.assertIn("jsonschema.exceptions.ValidationError: '1' is not of type 'number'\n\n"
                      "Failed validating 'type' in schema['properties']['port']:", p.stderr)
        p = self.manage("ds", "list_types")
        self.assertEqual(p.stdout, "Enabled Query Runners:\ninfluxdb\ninfluxdbv2\nmysql\npg\n"
                                   "redshift\nTotal of 5.\n")

    def test_r5_names_types_ids_and_order(self):
        a = self.create(name="beta").json()
        b = self.create(name="beta")
        self.assertEqual(b.status, 200)  # duplicates allowed, 200 not 201
        self.create(name="Alpha")
        self.create(name="alpha2")
        names = [d["name"] for d in self.call("GET", "/api/data_sources", headers=ADMIN).json()]
        self.assertEqual(names, ["Alpha", "alpha2", "beta", "beta"])
        r = self.call("POST", "/api/data_sources/%d" % a["id"],
                      {"name": "now-mysql", "type": "mysql", "options": {"db": "x"}}, ADMIN)
        self.assertEqual((r.status, r.json()["type"]), (200, "mysql"))
        r = self.call("POST", "/api/data_sources/9999",
                      {"name": "x", "type": "pg", "options": {"dbname": "x"}}, ADMIN)
        self.assertEqual(r.status, 500)
        r = self.call("POST", "/api/data_sources/%d" % a["id"],
                      {"type": "pg", "options": {"dbname": "x"}}, ADMIN)
        self.assertEqual(r.status, 500)
        self.assertEqual(self.call("DELETE", "/api/data_sources/9999", headers=ADMIN).status,
                         500)
        self.assertEqual(self.call("GET", "/api/data_sources/9999", headers=ADMIN).status, 404)
        r = self.call("DELETE", "/api/data_sources/%d" % a["id"], headers=ADMIN)
        self.assertEqual((r.status, r.body), (204, b""))

    def test_shapes_types_and_permissions(self):
        d = self.create().json()
        for k in ("id", "name", "type", "syntax", "paused", "pause_reason",
                  "supports_auto_limit", "options", "queue_name", "scheduled_queue_name",
                  "groups"):
            self.assertIn(k, d)
        self.assertEqual(d["paused"], 0)
        lst = self.call("GET", "/api/data_sources", headers=ADMIN).json()
        self.assertNotIn("options", lst[0])
        self.assertFalse(lst[0]["view_only"])
        types = self.call("GET", "/api/data_sources/types", headers=ADMIN).json()
        pg = next(t for t in types if t["type"] == "pg")
        sch = pg["configuration_schema"]
        self.assertEqual(sch["properties"]["port"]["type"], "number")
        self.assertIn("password", sch["secret"])
        self.assertEqual(sch["required"], ["dbname"])
        self.assertIn("order", sch)
        self.assertEqual([t["name"].lower() for t in types],
                         sorted(t["name"].lower() for t in types))
        user = {"Authorization": "Key user-api-key"}
        self.assertEqual(self.create(headers=user).status, 403)
        r = self.call("GET", "/api/data_sources/%d" % d["id"], headers=user)
        self.assertNotIn("options", r.json())

    def test_test_endpoint_and_ready_mode(self):
        d = self.create(name="mysql", type_="mysql", options={"db": "x"}).json()
        r = self.call("POST", "/api/data_sources/%d/test" % d["id"], headers=ADMIN)
        self.assertEqual(r.json(), {"message": "success", "ok": True})
        self.emu.control("seed", {"test_results": {"mysql": {"ok": False, "message": "boom"}}})
        r = self.call("POST", "/api/data_sources/%d/test" % d["id"], headers=ADMIN)
        self.assertEqual(r.json(), {"message": "boom", "ok": False})
        self.assertEqual(self.call("POST", "/api/data_sources/77/test", headers=ADMIN).status,
                         404)
        self.emu.control("seed", {"ready_after_s": 0.4})
        self.assertEqual(self.call("GET", "/api/data_sources", headers=ADMIN).status, 502)
        time.sleep(0.45)
        self.assertEqual(self.call("GET", "/api/data_sources", headers=ADMIN).status, 200)

    def test_pg_test_unreachable_reports_failure(self):
        d = self.create(options={"host": "127.0.0.1", "port": 1, "user": "u", "password": "p",
                                 "dbname": "d"}).json()
        r = self.call("POST", "/api/data_sources/%d/test" % d["id"], headers=ADMIN).json()
        import shutil
        if shutil.which("psql"):
            self.assertFalse(r["ok"])
            self.assertIn("127.0.0.1", r["message"])

    def test_pg_test_with_a_seeded_psql_that_is_missing_fails(self):
        self.emu.control("seed", {"psql": "/nonexistent/psql"})
        d = self.create().json()
        r = self.call("POST", "/api/data_sources/%d/test" % d["id"], headers=ADMIN).json()
        self.assertEqual(r, {"message": "psql not found at /nonexistent/psql", "ok": False})


# ====================================================================================== influx
TOK = {"Authorization": "Token admin-token"}


def flux(name="t", every="1h", extra=""):
    return 'option task = {name: "%s", every: %s%s}\n\nfrom(bucket: "b") |> range(start: -1h)\n' \
        % (name, every, extra)


class InfluxTests(EmuCase):
    script = "influxdb.py"

    def setUp(self):
        super().setUp()
        st = self.emu.control("state", method="GET")
        self.org = st["default_org_id"]

    def post(self, body, headers=TOK):
        return self.call("POST", "/api/v2/tasks", body, headers)

    def assertErr(self, r, status, code, message=None):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.headers.get("x-platform-error-code"), code)
        self.assertEqual(r.json()["code"], code)
        if message is not None:
            self.assertEqual(r.json()["message"], message)

    def test_i1_listing_rules(self):
        self.emu.control("seed", {"users": [{"name": "bob"}],
                                  "tokens": [{"token": "bob-token", "user": "bob"}]})
        mine = self.post({"orgID": self.org, "flux": flux("dup")}).json()
        bobs = self.post({"org": "myorg", "flux": flux("dup")},
                         {"Authorization": "Bearer bob-token"}).json()
        r = self.call("GET", "/api/v2/tasks", headers=TOK).json()
        self.assertEqual([t["id"] for t in r["tasks"]], [mine["id"]])  # only the token's user
        r = self.call("GET", "/api/v2/tasks?orgID=%s&name=dup&limit=1" % self.org,
                      headers=TOK).json()
        self.assertEqual(len(r["tasks"]), 1)
        nxt = urllib.parse.urlsplit(r["links"]["next"])
        q = urllib.parse.parse_qs(nxt.query)
        self.assertNotIn("name", q)
        self.assertEqual(q["after"], [mine["id"]])
        self.assertEqual(q["orgID"], [self.org])
        r = self.call("GET", "/api/v2/tasks?orgID=%s" % self.org, headers=TOK).json()
        ids = [t["id"] for t in r["tasks"]]
        self.assertEqual(ids, sorted(ids))
        self.assertEqual(set(ids), {mine["id"], bobs["id"]})
        self.assertNotIn("next", r["links"])
        self.assertEqual(len(self.call("GET", "/api/v2/tasks?org=myorg&name=Dup",
                                       headers=TOK).json()["tasks"]), 0)
        for lim in ("0", "501"):
            r = self.call("GET", "/api/v2/tasks?org=myorg&limit=" + lim, headers=TOK)
            self.assertErr(r, 400, "invalid",
                           "failed to decode request: limit must be between 1 and 500")

    def test_i1_pagination_over_generated_tasks(self):
        self.emu.control("seed", {"generate_tasks": 600})
        seen, after = [], None
        while True:
            url = "/api/v2/tasks?orgID=%s&limit=500" % self.org + ("&after=" + after
                                                                   if after else "")
            r = self.call("GET", url, headers=TOK).json()
            seen += [t["id"] for t in r["tasks"]]
            if "next" not in r["links"]:
                break
            after = r["tasks"][-1]["id"]
        self.assertEqual(len(seen), 600)
        self.assertEqual(seen, sorted(seen))

    def test_i2_option_rules(self):
        cases = [
            ('option task = {name: "${x}", every: 1h}',
             "invalid options: failed to parse field 'name' in task options"),
            ('option task = {name: "a", every: 1h, cron: "* * * * *"}',
             "invalid options: cannot use both cron and every in task options"),
            ('option task = {name: "a"}', "invalid options: missing required option: cron or every"),
            ('option task = {every: 1h}', "invalid options: missing required option: name"),
            ('option task = {name: "a", every: 500ms}',
             "invalid options: every option must be at least 1 second"),
            ('option task = {name: "a", every: 1s500ms}',
             "invalid options: every option must be expressible as whole seconds"),
            ('option task = {name: "a", every: duration(v: "1h")}',
             "invalid options: failed to parse field 'every' in task options"),
            ('option task = {name: "", every: 1h}', "invalid options: name required"),
            ('x = 1', "invalid options: no task options defined"),
            (flux("a") + flux("b"), "invalid options: multiple task options defined"),
            ('option task = {name: "a", cron: "61 * * * *"}', None),
        ]
        for src, message in cases:
            r = self.post({"orgID": self.org, "flux": src})
            self.assertErr(r, 400, "invalid", message)
        r = self.post({"orgID": self.org, "flux": flux("a", extra=", offset: 1d")})
        self.assertErr(r, 500, "internal error")
        self.assertIn('unknown unit "d"', r.json()["message"])
        for extra in (", concurrency: 5, retry: 3, whatever: foo()", ""):
            self.assertEqual(self.post({"orgID": self.org, "flux": flux("same", extra=extra)})
                             .status, 201)

    def test_i2_decode_errors(self):
        self.assertErr(self.post({"orgID": self.org}), 400, "invalid",
                       "failed to decode request: missing flux")
        self.assertErr(self.post({"flux": flux()}), 400, "invalid",
                       "failed to decode request: missing orgID and org")
        self.assertErr(self.post({"orgID": "", "flux": flux()}), 400, "invalid",
                       "failed to decode request: id must have a length of 16 bytes")
        self.assertErr(self.post({"org": "nosuch", "flux": flux()}), 404, "not found")
        self.assertErr(self.post({"org": "myorg", "flux": flux(), "status": "x"}), 400,
                       "invalid", 'invalid task status: "x"')

    def test_i3_patch_semantics(self):
        src = '// keep me\noption task = {name: "a",   every: 1h}\n\n\n\nfrom(bucket: "b")  \n'
        t = self.post({"orgID": self.org, "flux": src}).json()
        self.assertEqual(t["flux"], src)
        url = "/api/v2/tasks/" + t["id"]
        r = self.call("PATCH", url, {"description": "only"}, TOK)
        self.assertErr(r, 400, "invalid",
                       "failed to decode request: cannot update task without content")
        new_src = 'option task = {name: "b", every: 2h}\nfrom(bucket: "b")   '
        r = self.call("PATCH", url, {"flux": new_src, "description": "d"}, TOK).json()
        self.assertEqual((r["flux"], r["name"], r["every"], r["description"]),
                         (new_src, "b", "2h", "d"))
        r = self.call("PATCH", url, {"name": "c", "cron": "0 * * * *"}, TOK).json()
        self.assertNotEqual(r["flux"], new_src)
        self.assertIn('name: "c"', r["flux"])
        self.assertEqual((r["name"], r.get("cron"), r.get("every")), ("c", "0 * * * *", None))
        self.assertNotIn("   \n", r["flux"] + "\n")
        r = self.call("PATCH", url, {"every": "1h", "cron": "0 * * * *"}, TOK)
        self.assertErr(r, 400, "invalid")
        r = self.call("PATCH", url, {"offset": "1d"}, TOK)
        self.assertErr(r, 400, "invalid")
        self.assertIn("the largest unit supported is h", r.json()["message"])
        # re-activation resets latestCompleted
        self.call("PATCH", url, {"status": "inactive"}, TOK)
        self.emu.control("seed", {"time_offset_s": 3600})
        r = self.call("PATCH", url, {"status": "active"}, TOK).json()
        self.assertGreater(r["latestCompleted"], t["latestCompleted"])
        r = self.call("PATCH", "/api/v2/tasks/0000000000000001", {"status": "active"}, TOK)
        self.assertErr(r, 404, "not found", "failed to update task: task not found")

    def test_i4_error_shapes(self):
        r = self.call("GET", "/api/v2/tasks")
        self.assertErr(r, 401, "unauthorized", "unauthorized access")
        self.assertEqual(r.headers["content-type"], "application/json; charset=utf-8")
        self.assertErr(self.call("GET", "/api/v2/tasks", headers={"Authorization": "Token x"}),
                       401, "unauthorized")
        self.assertErr(self.call("GET", "/api/v2/tasks/0000000000000abc", headers=TOK), 404,
                       "not found", "failed to find task: task not found")
        self.assertErr(self.call("GET", "/api/v2/tasks/abc", headers=TOK), 400, "invalid",
                       "id must have a length of 16 bytes")
        t = self.post({"orgID": self.org, "flux": flux()}).json()
        body = {"scheduledFor": "2030-01-01T00:00:00Z"}
        self.assertEqual(self.call("POST", "/api/v2/tasks/%s/runs" % t["id"], body, TOK).status,
                         201)
        self.assertErr(self.call("POST", "/api/v2/tasks/%s/runs" % t["id"], body, TOK), 422,
                       "conflict", "failed to force run: run already queued")
        self.assertErr(self.call("GET", "/api/v2/orgs?org=nope", headers=TOK), 404, "not found",
                       'organization name "nope" not found')

    def test_i5_representation(self):
        t = self.post({"orgID": self.org, "flux": flux("x", "90m", ", offset: 90s")})
        self.assertEqual(t.status, 201)
        t = t.json()
        self.assertEqual((t["every"], t["offset"], t["org"], t["status"]),
                         ("90m", "1m30s", "myorg", "active"))
        self.assertNotIn("description", t)
        self.assertNotIn("cron", t)
        self.assertEqual(t["labels"], [])
        self.assertRegex(t["id"], r"^[0-9a-f]{16}$")
        r = self.call("GET", "/api/v2/tasks?orgID=%s&type=basic" % self.org, headers=TOK).json()
        self.assertEqual(r["tasks"][0]["flux"], "")
        self.assertNotIn("createdAt", r["tasks"][0])
        self.assertErr(self.call("GET", "/api/v2/tasks?orgID=%s&type=x" % self.org,
                                 headers=TOK), 400, "invalid")
        d = self.call("GET", "/api/v2/dbrps?orgID=" + self.org, headers=TOK).json()["content"]
        self.assertTrue(any(x["virtual"] and x["database"] == "mybucket" and
                            x["retention_policy"] == "autogen" for x in d))
        self.assertErr(self.call("GET", "/api/v2/dbrps", headers=TOK), 400, "invalid",
                       "either 'org' or 'orgID' must be provided")
        r = self.call("DELETE", "/api/v2/tasks/" + t["id"], headers=TOK)
        self.assertEqual((r.status, r.body), (204, b""))
        self.assertErr(self.call("DELETE", "/api/v2/tasks/" + t["id"], headers=TOK), 404,
                       "not found", "failed to delete task: task not found")

    def test_health_orgs_and_dbrp_conflict(self):
        self.assertEqual(self.call("GET", "/health").json()["status"], "pass")
        self.assertEqual(self.call("GET", "/ready").json()["status"], "ready")
        orgs = self.call("GET", "/api/v2/orgs?org=myorg", headers=TOK).json()["orgs"]
        self.assertEqual(orgs[0]["id"], self.org)
        self.emu.control("seed", {"orgs": [{"name": "other"}],
                                  "tokens": [{"token": "ro", "orgs": ["other"], "write": False}]})
        r = self.call("GET", "/api/v2/orgs?org=myorg", headers={"Authorization": "Token ro"})
        self.assertEqual(r.json()["orgs"], [])
        b = self.call("GET", "/api/v2/buckets?orgID=%s&name=mybucket" % self.org,
                      headers=TOK).json()["buckets"][0]
        m = {"orgID": self.org, "bucketID": b["id"], "database": "db", "retention_policy": "rp"}
        r = self.call("POST", "/api/v2/dbrps", m, TOK)
        self.assertEqual((r.status, r.json()["default"]), (201, True))
        self.assertErr(self.call("POST", "/api/v2/dbrps", m, TOK), 422, "conflict")

    def test_bucket_paging_retention_and_system_buckets(self):
        self.emu.control("seed", {"buckets": [{"name": "app%02d" % i} for i in range(5)]})
        q = "/api/v2/buckets?orgID=%s&limit=3" % self.org
        p1 = self.call("GET", q, headers=TOK).json()
        self.assertEqual([b["name"] for b in p1["buckets"]], ["_monitoring", "_tasks", "app00"])
        self.assertIn("next", p1["links"])  # a full page always links onward
        self.assertEqual([b["type"] for b in p1["buckets"]], ["system", "system", "user"])
        p2 = self.call("GET", q + "&after=" + p1["buckets"][-1]["id"], headers=TOK).json()
        self.assertEqual([b["name"] for b in p2["buckets"]], ["app01", "app02", "app03"])
        p3 = self.call("GET", q + "&after=" + p2["buckets"][-1]["id"], headers=TOK).json()
        self.assertEqual([b["name"] for b in p3["buckets"]], ["app04", "mybucket"])
        self.assertNotIn("next", p3["links"])
        self.assertErr(self.call("GET", q.replace("limit=3", "limit=101"), headers=TOK),
                       400, "invalid", "limit must be between 1 and 100")
        body = {"orgID": self.org, "name": "x", "retentionRules": [{"everySeconds": -1}]}
        self.assertErr(self.call("POST", "/api/v2/buckets", body, TOK), 422,
                       "unprocessable entity", "expiration seconds cannot be negative")
        body["name"] = "_x"
        body["retentionRules"] = []
        self.assertErr(self.call("POST", "/api/v2/buckets", body, TOK), 400, "invalid",
                       "bucket name _x is invalid. Buckets may not start with underscore")
        body["name"] = "x"
        body["retentionRules"] = [{"type": "expire", "everySeconds": 3600}]
        b = self.call("POST", "/api/v2/buckets", body, TOK).json()
        self.assertEqual(b["retentionRules"][0]["everySeconds"], 3600)
        r = self.call("PATCH", "/api/v2/buckets/" + b["id"], {"retentionRules": []}, TOK)
        self.assertEqual(r.json()["retentionRules"][0]["everySeconds"], 3600)  # left alone
        r = self.call("PATCH", "/api/v2/buckets/" + b["id"],
                      {"retentionRules": [{"type": "expire", "everySeconds": 0}]}, TOK)
        self.assertEqual(r.json()["retentionRules"][0]["everySeconds"], 0)  # forever
        mon = p1["buckets"][0]["id"]
        self.assertErr(self.call("DELETE", "/api/v2/buckets/" + mon, headers=TOK), 400,
                       "invalid", "system buckets cannot be deleted")

    def test_dbrp_virtual_mappings_hidden_only_by_same_db_and_rp(self):
        bs = self.call("GET", "/api/v2/buckets?orgID=%s" % self.org, headers=TOK).json()
        mb = next(b for b in bs["buckets"] if b["name"] == "mybucket")
        q = "/api/v2/dbrps?orgID=%s&db=mybucket" % self.org
        v = self.call("GET", q, headers=TOK).json()["content"]
        self.assertEqual([(d["retention_policy"], d["virtual"]) for d in v], [("autogen", True)])
        m = {"orgID": self.org, "bucketID": mb["id"], "database": "mybucket",
             "retention_policy": "other"}
        self.assertEqual(self.call("POST", "/api/v2/dbrps", m, TOK).status, 201)
        v = self.call("GET", q, headers=TOK).json()["content"]
        self.assertEqual(sorted((d["retention_policy"], d["virtual"], d["default"]) for d in v),
                         [("autogen", True, False), ("other", False, True)])
        m["retention_policy"] = "autogen"
        self.assertEqual(self.call("POST", "/api/v2/dbrps", m, TOK).status, 201)
        v = self.call("GET", q, headers=TOK).json()["content"]
        self.assertEqual(sorted((d["retention_policy"], d["virtual"]) for d in v),
                         [("autogen", False), ("other", False)])
        m["bucketID"] = "0000000000000001"
        m["retention_policy"] = "third"
        self.assertErr(self.call("POST", "/api/v2/dbrps", m, TOK), 404, "not found",
                       "bucket not found")

    def test_org_secrets_keys_only(self):
        base = "/api/v2/orgs/%s/secrets" % self.org
        self.assertEqual(self.call("PATCH", base, {"B": "sb", "A": "sa"}, TOK).status, 204)
        r = self.call("GET", base, headers=TOK).json()
        self.assertEqual(r["secrets"], ["A", "B"])
        self.assertNotIn("sa", json.dumps(r))
        self.assertEqual(self.call("DELETE", base + "/A", headers=TOK).status, 204)
        self.assertEqual(self.call("DELETE", base + "/A", headers=TOK).status, 204)
        self.assertEqual(self.call("POST", base + "/delete", {"secrets": ["B"]}, TOK).status, 204)
        self.assertEqual(self.call("GET", base, headers=TOK).json()["secrets"], [])
        self.assertErr(self.call("PATCH", base, {"A": 1}, TOK), 400, "invalid")

    def test_token_without_read_orgs_sees_no_org(self):
        self.emu.control("seed", {"tokens": [{"token": "noorg", "read_orgs": False}]})
        h = {"Authorization": "Token noorg"}
        self.assertEqual(self.call("GET", "/api/v2/orgs?org=myorg", headers=h).json()["orgs"], [])
        self.assertErr(self.call("GET", "/api/v2/orgs/" + self.org, headers=h), 401,
                       "unauthorized")


# ====================================================================================== vault
ROOT = {"X-Vault-Token": "root"}
ENVELOPE = {"request_id", "lease_id", "renewable", "lease_duration", "data", "wrap_info",
            "warnings", "auth", "mount_type"}


class VaultTests(EmuCase):
    script = "vault.py"

    def test_v1_envelope(self):
        self.call("POST", "/v1/secret/data/app", {"data": {"k": "v"}}, ROOT)
        for path in ("/v1/secret/data/app", "/v1/sys/internal/ui/mounts/secret/app",
                     "/v1/auth/token/lookup-self"):
            r = self.call("GET", path, headers=ROOT).json()
            self.assertTrue(ENVELOPE <= set(r), (path, r))
            self.assertIsNone(r["wrap_info"])
            self.assertIsNone(r["warnings"])
        r = self.call("GET", "/v1/sys/internal/ui/mounts/secret/app", headers=ROOT).json()
        self.assertEqual(r["path"], "secret/")  # sys/ copies data keys to the top level
        r = self.call("GET", "/v1/kv/x", headers=ROOT)
        self.assertEqual((r.status, r.json()), (404, {"errors": []}))

    def test_v2_delete_version_after(self):
        # A version's deletion is scheduled when it is written; until then it reads as usual.
        self.call("POST", "/v1/secret/metadata/sched", {"delete_version_after": "1h"}, ROOT)
        self.call("POST", "/v1/secret/data/sched", {"data": {"k": "v1"}}, ROOT)
        r = self.call("GET", "/v1/secret/data/sched", headers=ROOT)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["data"]["data"], {"k": "v1"})
        self.assertNotEqual(r.json()["data"]["metadata"]["deletion_time"], "")
        self.emu.control("seed", {"time_offset_s": 3601})
        r = self.call("GET", "/v1/secret/data/sched", headers=ROOT)
        self.assertEqual(r.status, 404)
        self.assertIsNone(r.json()["data"]["data"])

    def test_v2_not_found_denied_sealed(self):
        self.call("POST", "/v1/secret/data/app", {"data": {"k": "v1"}}, ROOT)
        self.call("POST", "/v1/secret/data/app", {"data": {"k": "v2"}}, ROOT)
        self.assertEqual(self.call("DELETE", "/v1/secret/data/app", headers=ROOT).status, 204)
        r = self.call("GET", "/v1/secret/data/app", headers=ROOT)
        self.assertEqual(r.status, 404)
        j = r.json()
        self.assertIsNone(j["data"]["data"])
        self.assertNotEqual(j["data"]["metadata"]["deletion_time"], "")
        self.assertEqual(j["data"]["metadata"]["version"], 2)
        r = self.call("GET", "/v1/secret/data/app?version=1", headers=ROOT).json()
        self.assertEqual(r["data"]["data"], {"k": "v1"})
        self.call("POST", "/v1/secret/destroy/app", {"versions": [1]}, ROOT)
        j = self.call("GET", "/v1/secret/data/app?version=1", headers=ROOT).json()
        self.assertTrue(j["data"]["metadata"]["destroyed"])
        r = self.call("GET", "/v1/secret/data/app?version=9", headers=ROOT)
        self.assertEqual((r.status, r.json()), (404, {"errors": []}))
        r = self.call("GET", "/v1/secret/app", headers=ROOT)
        self.assertEqual(r.status, 404)
        self.assertNotIn("errors", r.json())
        self.assertIn("Invalid path for a versioned K/V", r.json()["warnings"][0])
        self.emu.control("seed", {"policies": {"app": {"secret/data/app/*": ["read"]}},
                                  "tokens": [{"id": "app-token", "policies": ["app"],
                                              "ttl": 60}]})
        r = self.call("GET", "/v1/secret/data/other", headers={"X-Vault-Token": "app-token"})
        self.assertEqual((r.status, r.json()),
                         (403, {"errors": ["1 error occurred:\n\t* permission denied\n\n"]}))
        r = self.call("GET", "/v1/secret/data/x", headers={"X-Vault-Token": "nope"})
        self.assertEqual(r.status, 403)
        self.assertIn("permission denied", r.json()["errors"][0])
        self.emu.control("seed", {"sealed": True})
        r = self.call("GET", "/v1/secret/data/app", headers=ROOT)
        self.assertEqual((r.status, r.json()), (503, {"errors": ["Vault is sealed"]}))

    def test_v2b_capabilities_self(self):
        self.emu.control("seed", {"policies": {"app": {"secret/data/app/*": ["read", "list"],
                                                       "database/creds/ro": ["read"],
                                                       "secret/data/app/hidden": ["deny"]}},
                                  "tokens": [{"id": "app-token", "policies": ["app"],
                                              "ttl": 60}]})
        app = {"X-Vault-Token": "app-token"}
        paths = ["secret/data/app/x", "database/creds/ro", "database/creds/rw",
                 "secret/data/app/hidden"]
        r = self.call("POST", "/v1/sys/capabilities-self", {"paths": paths}, app).json()
        want = {"secret/data/app/x": ["list", "read"], "database/creds/ro": ["read"],
                "database/creds/rw": ["deny"], "secret/data/app/hidden": ["deny"]}
        self.assertEqual(r["data"], want)
        self.assertEqual({k: r[k] for k in paths}, want)  # sys/ copies data to the top level
        self.assertNotIn("capabilities", r["data"])
        one = self.call("PUT", "/v1/sys/capabilities-self", {"path": ["database/creds/ro"]},
                        app).json()
        self.assertEqual(one["data"]["capabilities"], ["read"])
        root = self.call("POST", "/v1/sys/capabilities-self", {"paths": ["any/where"]},
                         ROOT).json()
        self.assertEqual(root["data"], {"any/where": ["root"], "capabilities": ["root"]})
        r = self.call("POST", "/v1/sys/capabilities-self", {}, app)
        self.assertEqual((r.status, r.json()), (400, {"errors": ["paths must be supplied"]}))

    def test_v3_mount_detection(self):
        self.emu.control("seed", {"kv_mounts": {"secret/legacy": {"version": 1}}})
        d = self.call("GET", "/v1/sys/internal/ui/mounts/secret/foo/bar", headers=ROOT).json()
        self.assertEqual((d["data"]["path"], d["data"]["type"], d["data"]["options"]),
                         ("secret/", "kv", {"version": "2"}))
        d = self.call("GET", "/v1/sys/internal/ui/mounts/secret/legacy/x", headers=ROOT).json()
        self.assertEqual((d["data"]["path"], d["data"]["options"]["version"]),
                         ("secret/legacy/", "1"))
        d = self.call("GET", "/v1/sys/internal/ui/mounts/kv", headers=ROOT).json()
        self.assertEqual(d["data"]["options"]["version"], "1")
        r = self.call("GET", "/v1/sys/internal/ui/mounts/nosuch/x", headers=ROOT)
        self.assertEqual(r.status, 403)
        self.assertIn("preflight capability check returned 403", r.json()["errors"][0])

    def test_v3_kv1_and_lists(self):
        self.call("PUT", "/v1/kv/app/a", {"user": "u"}, ROOT)
        self.call("PUT", "/v1/kv/app/sub/b", {"ttl": "30m", "x": 1}, ROOT)
        r = self.call("GET", "/v1/kv/app/a", headers=ROOT).json()
        self.assertEqual((r["data"], r["lease_duration"], r["renewable"]),
                         ({"user": "u"}, 2764800, False))
        self.assertEqual(self.call("GET", "/v1/kv/app/sub/b", headers=ROOT).json()
                         ["lease_duration"], 1800)
        for m, path in (("LIST", "/v1/kv/app"), ("GET", "/v1/kv/app/?list=true")):
            self.assertEqual(self.call(m, path, headers=ROOT).json()["data"]["keys"],
                             ["a", "sub/"])
        self.call("POST", "/v1/secret/data/x/y", {"data": {"a": 1}}, ROOT)
        self.assertEqual(self.call("LIST", "/v1/secret/metadata/", headers=ROOT).json()
                         ["data"]["keys"], ["x/"])
        self.assertEqual(self.call("LIST", "/v1/kv/none", headers=ROOT).status, 404)

    def seed_db(self, default_ttl=4, max_ttl=10):
        self.emu.control("seed", {"database_mounts": {"postgres-app": {"roles": {
            "app": {"default_ttl": default_ttl, "max_ttl": max_ttl}}}},
            "lease_reap_delay_s": 0.3})

    def test_v4_lease_arithmetic(self):
        self.seed_db()
        a = self.call("GET", "/v1/postgres-app/creds/app", headers=ROOT).json()
        b = self.call("GET", "/v1/postgres-app/creds/app", headers=ROOT).json()
        self.assertNotEqual(a["data"]["username"], b["data"]["username"])
        self.assertRegex(a["lease_id"], r"^postgres-app/creds/app/[A-Za-z0-9]{24}$")
        self.assertTrue(a["data"]["username"].startswith("v-app-"))
        self.assertEqual((a["renewable"], a["lease_duration"]), (True, 4))
        r = self.call("PUT", "/v1/sys/leases/renew", {"lease_id": a["lease_id"],
                                                      "increment": 3}, ROOT).json()
        self.assertEqual((r["lease_duration"], r["warnings"]), (3, None))
        r = self.call("PUT", "/v1/sys/leases/renew", {"lease_id": a["lease_id"],
                                                      "increment": "1h"}, ROOT).json()
        self.assertLessEqual(r["lease_duration"], 10)
        self.assertEqual(r["lease_id"], a["lease_id"])
        self.assertRegex(r["warnings"][0], r'^TTL of "1h" exceeded the effective max_ttl of '
                                           r'"\d+s"; TTL value is capped accordingly$')
        self.assertEqual(self.call("PUT", "/v1/sys/leases/revoke", {"lease_id": a["lease_id"]},
                                   ROOT).status, 204)
        r = self.call("PUT", "/v1/sys/leases/renew", {"lease_id": a["lease_id"]}, ROOT)
        self.assertEqual((r.status, r.json()), (400, {"errors": ["lease not found"]}))

    def test_v4_lease_expiry(self):
        self.seed_db(default_ttl=1, max_ttl=1)
        a = self.call("GET", "/v1/postgres-app/creds/app", headers=ROOT).json()
        time.sleep(1.05)
        r = self.call("PUT", "/v1/sys/leases/renew", {"lease_id": a["lease_id"]}, ROOT)
        self.assertEqual(r.status, 400)
        self.assertIn(r.json()["errors"][0], ("lease expired", "lease not found"))
        time.sleep(0.6)
        r = self.call("PUT", "/v1/sys/leases/renew", {"lease_id": a["lease_id"]}, ROOT)
        self.assertEqual(r.json(), {"errors": ["lease not found"]})
        log = self.emu.control("requests?path_regex=creds", method="GET")
        self.assertEqual(len(log), 1)

    def test_v5_tokens_and_approle(self):
        r = self.call("GET", "/v1/auth/token/lookup-self", headers=ROOT).json()
        self.assertEqual((r["data"]["id"], r["data"]["ttl"], r["data"]["renewable"],
                          r["data"]["expire_time"]), ("root", 0, False, None))
        r = self.call("POST", "/v1/auth/token/renew-self", {}, ROOT)
        self.assertEqual(r.status, 400)
        self.emu.control("seed", {"approle": {"roles": {"templet": {
            "role_id": "rid", "secret_ids": ["sid"], "token_ttl": 30, "token_max_ttl": 40}}}})
        r = self.call("POST", "/v1/auth/approle/login", {"role_id": "rid", "secret_id": "bad"})
        self.assertEqual((r.status, r.json()), (400, {"errors": ["invalid role or secret ID"]}))
        r = self.call("POST", "/v1/auth/approle/login", {"role_id": "rid", "secret_id": "sid"})
        j = r.json()
        self.assertEqual((j["data"], j["lease_id"], j["auth"]["metadata"]),
                         (None, "", {"role_name": "templet"}))
        tok = {"X-Vault-Token": j["auth"]["client_token"]}
        self.assertEqual(j["auth"]["lease_duration"], 30)
        time.sleep(1.1)
        d = self.call("GET", "/v1/auth/token/lookup-self", headers=tok).json()["data"]
        self.assertEqual(d["id"], j["auth"]["client_token"])
        self.assertLess(d["ttl"], 30)
        r = self.call("POST", "/v1/auth/token/renew-self", {"increment": "1h"}, tok).json()
        self.assertIsNone(r["data"])
        self.assertEqual(r["auth"]["client_token"], j["auth"]["client_token"])
        self.assertLessEqual(r["auth"]["lease_duration"], 40)
        self.assertIn("capped accordingly", r["warnings"][0])
        self.emu.control("seed", {"tokens": [{"id": "short", "ttl": 1, "policies": ["root"]}]})
        self.assertEqual(self.call("GET", "/v1/kv/x", headers={"X-Vault-Token": "short"}).status,
                         404)
        time.sleep(1.05)
        self.assertEqual(self.call("GET", "/v1/kv/x", headers={"X-Vault-Token": "short"}).status,
                         403)


class VaultLifecycleTests(EmuCase):
    """vault_lifecycle.py: leases die with their token, the default policy, Agent's cache,
    static roles, standby redirects (issue 13)."""
    script = "vault.py"

    def login(self, ttl=30, max_ttl=0, policies=("app",)):
        self.emu.control("seed", {
            "database_mounts": {"database": {"roles": {"app": {"default_ttl": 30,
                                                               "max_ttl": 60}}}},
            "policies": {"app": {"database/creds/app": ["read"]}},
            "approle": {"roles": {"r": {"role_id": "rid", "secret_ids": ["sid"],
                                        "token_ttl": ttl, "token_max_ttl": max_ttl,
                                        "token_policies": list(policies)}}}})
        j = self.call("POST", "/v1/auth/approle/login", {"role_id": "rid",
                                                         "secret_id": "sid"}).json()
        return j["auth"], {"X-Vault-Token": j["auth"]["client_token"]}

    def test_leases_are_revoked_with_the_token_that_made_them(self):
        auth, tok = self.login(ttl=1)
        self.assertEqual(auth["policies"], ["app", "default"])
        a = self.call("GET", "/v1/database/creds/app", headers=tok).json()
        b = self.call("GET", "/v1/database/creds/app", headers=ROOT).json()
        time.sleep(1.5)  # the token expires; the reaper revokes its lease, not root's
        state = self.emu.control("state", method="GET")
        self.assertNotIn(a["lease_id"], state["leases"])
        self.assertIn(b["lease_id"], state["leases"])
        self.assertEqual([(x["lease_id"], x["revoked_with_token"])
                          for x in state["revoked_leases"]], [(a["lease_id"], "expired")])
        r = self.call("PUT", "/v1/sys/leases/renew", {"lease_id": a["lease_id"]}, ROOT)
        self.assertEqual((r.status, r.json()), (400, {"errors": ["lease not found"]}))
        # revoke-self takes the leases along too.
        _, tok = self.login()
        c = self.call("GET", "/v1/database/creds/app", headers=tok).json()
        self.assertEqual(self.call("PUT", "/v1/auth/token/revoke-self", {}, tok).status, 204)
        self.assertNotIn(c["lease_id"], self.emu.control("state", method="GET")["leases"])

    def test_approle_max_ttl_caps_login_and_renew_but_is_not_explicit(self):
        auth, tok = self.login(ttl=30, max_ttl=10)
        self.assertEqual(auth["lease_duration"], 10)
        d = self.call("GET", "/v1/auth/token/lookup-self", headers=tok).json()["data"]
        self.assertEqual((d["explicit_max_ttl"], d["ttl"]), (0, 10))
        time.sleep(1.1)
        r = self.call("PUT", "/v1/auth/token/renew-self", {"increment": 30}, tok).json()
        self.assertLess(r["auth"]["lease_duration"], 10)
        self.assertRegex(r["warnings"][0], r'^TTL of "30s" exceeded the effective max_ttl of '
                                           r'"\d+s"; TTL value is capped accordingly$')

    def test_default_policy_rules(self):
        _, tok = self.login()
        lease = self.call("GET", "/v1/database/creds/app", headers=tok).json()["lease_id"]
        self.assertEqual(self.call("GET", "/v1/auth/token/lookup-self", headers=tok).status, 200)
        self.assertEqual(self.call("PUT", "/v1/auth/token/lookup-self", {}, tok).status, 403)
        self.assertEqual(self.call("PUT", "/v1/sys/leases/renew", {"lease_id": lease},
                                   tok).status, 200)
        self.assertEqual(self.call("PUT", "/v1/sys/leases/renew/" + lease, {}, tok).status, 403)
        r = self.call("PUT", "/v1/sys/leases/lookup", {"lease_id": lease}, tok)
        self.assertEqual((r.status, r.json()["data"]["id"]), (200, lease))
        r = self.call("PUT", "/v1/sys/leases/revoke", {"lease_id": lease}, tok)
        self.assertEqual((r.status, r.json()),
                         (403, {"errors": ["1 error occurred:\n\t* permission denied\n\n"]}))
        r = self.call("GET", "/v1/secret/data/x", headers=tok)
        self.assertEqual(r.status, 403)

    def test_agent_cache_answers_identical_reads_with_the_first_lease(self):
        self.login()
        self.emu.control("seed", {"agent_cache": True})
        a = self.call("GET", "/v1/database/creds/app", headers=ROOT)
        time.sleep(1.1)
        b = self.call("GET", "/v1/database/creds/app", headers=ROOT)
        self.assertEqual(a.body, b.body)  # same lease_id, the original lease_duration
        self.assertEqual(b.json()["lease_duration"], 30)
        lease = a.json()["lease_id"]
        ttl = self.call("PUT", "/v1/sys/leases/lookup", {"lease_id": lease},
                        ROOT).json()["data"]["ttl"]
        self.assertLess(ttl, 30)
        self.call("PUT", "/v1/sys/leases/revoke", {"lease_id": lease}, ROOT)
        c = self.call("GET", "/v1/database/creds/app", headers=ROOT).json()
        self.assertNotEqual(c["lease_id"], lease)  # evicted with its lease

    def test_static_role_ttl_counts_down_then_stays_zero_until_the_queue_rotates(self):
        self.emu.control("seed", {"rotation_tick_s": 0.3, "database_mounts": {"database": {
            "static_roles": {"svc": {"username": "svc_user", "rotation_period": 1}}}}})
        d = self.call("GET", "/v1/database/static-creds/svc", headers=ROOT).json()["data"]
        self.assertEqual(sorted(d), ["last_vault_rotation", "password", "rotation_period", "ttl",
                                     "username"])
        self.assertEqual((d["username"], d["rotation_period"]), ("svc_user", 1))
        self.assertIn(d["ttl"], (0, 1))  # Vault truncates the seconds left
        time.sleep(1.5)
        e = self.call("GET", "/v1/database/static-creds/svc", headers=ROOT).json()["data"]
        self.assertNotEqual(e["password"], d["password"])
        # A queue that has not ticked yet: ttl 0 and the old password.
        self.emu.control("seed", {"rotation_tick_s": 100, "database_mounts": {"database": {
            "static_roles": {"slow": {"username": "slow_user", "rotation_period": 60}}}}})
        time.sleep(0.4)  # the old 0.3 s sleep ends; the next one is 100 s
        f = self.call("GET", "/v1/database/static-creds/slow", headers=ROOT).json()["data"]
        self.emu.control("seed", {"time_offset_s": 61})
        g = self.call("GET", "/v1/database/static-creds/slow", headers=ROOT).json()["data"]
        self.assertEqual((g["ttl"], g["password"]), (0, f["password"]))
        self.assertEqual(self.call("POST", "/v1/database/rotate-role/slow", {}, ROOT).status, 204)
        h = self.call("GET", "/v1/database/static-creds/slow", headers=ROOT).json()["data"]
        self.assertNotEqual(h["password"], f["password"])
        self.assertIn(h["ttl"], (59, 60))

    def test_static_role_schedule(self):
        sys.path.insert(0, HERE)
        from vault_lifecycle import next_cron
        t0 = 1767225600.0  # 2026-01-01T00:00:00Z, a Thursday
        self.assertEqual(next_cron("*/5 * * * *", t0 + 1), t0 + 300)
        self.assertEqual(next_cron("30 2 * * *", t0), t0 + 2 * 3600 + 1800)
        self.assertEqual(next_cron("0 0 * * 0", t0), t0 + 3 * 86400)  # the Sunday after
        self.emu.control("seed", {"database_mounts": {"database": {"static_roles": {
            "cron": {"username": "c", "rotation_schedule": "*/5 * * * *"}}}}})
        d = self.call("GET", "/v1/database/static-creds/cron", headers=ROOT).json()["data"]
        self.assertEqual((d["rotation_schedule"], d["rotation_window"]), ("*/5 * * * *", 3600))
        self.assertNotIn("rotation_period", d)
        self.assertLessEqual(d["ttl"], 300)

    def test_standby_redirects_with_307(self):
        self.emu.control("seed", {"standby_redirect": "http://127.0.0.1:1"})
        r = self.call("GET", "/v1/secret/data/x?version=2", headers=ROOT)
        self.assertEqual((r.status, r.headers["location"]),
                         (307, "http://127.0.0.1:1/v1/secret/data/x?version=2"))
        self.assertEqual(self.call("GET", "/v1/sys/health").status, 200)


@unittest.skipUnless(os.environ.get("TEMPLET_TEST_PG"), "TEMPLET_TEST_PG not set")
class VaultPostgresTests(EmuCase):
    script = "vault.py"

    def test_roles_are_created_renewed_and_dropped(self):
        conf = _pg_conf()
        self.emu.control("seed", {"database_mounts": {"postgres-app": {"roles": {"app": {
            "default_ttl": 30, "max_ttl": 60, "postgres": conf,
            "grant": 'GRANT CONNECT ON DATABASE "%s" TO "{{name}}";' % conf["dbname"]}}}}})
        a = self.call("GET", "/v1/postgres-app/creds/app", headers=ROOT)
        self.assertEqual(a.status, 200, a)
        a = a.json()
        env = dict(os.environ, PGPASSWORD=a["data"]["password"])
        ok = subprocess.run(["psql", "-X", "-h", conf["host"], "-p", str(conf["port"]), "-U",
                             a["data"]["username"], "-d", conf["dbname"], "-c", "SELECT 1"],
                            env=env, capture_output=True)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        r = self.call("PUT", "/v1/sys/leases/renew", {"lease_id": a["lease_id"],
                                                      "increment": 20}, ROOT)
        self.assertEqual(r.status, 200)
        self.call("PUT", "/v1/sys/leases/revoke", {"lease_id": a["lease_id"]}, ROOT)
        log = self.emu.control("state", method="GET")["pg_log"]
        self.assertEqual([(x["action"], x["ok"]) for x in log],
                         [("create", True), ("renew", True), ("drop", True)])


def _pg_conf():
    parts = os.environ["TEMPLET_TEST_PG"].split(":")
    conf = {"host": parts[0], "port": int(parts[1]), "user": parts[2]}
    if len(parts) > 3 and parts[3]:
        conf["password"] = parts[3]
    conf["dbname"] = parts[4] if len(parts) > 4 else "postgres"
    return conf


def _psql_admin(conf, sql):
    env = dict(os.environ, PGPASSWORD=conf.get("password", ""))
    return subprocess.run(["psql", "-X", "-h", conf["host"], "-p", str(conf["port"]), "-U",
                           conf["user"], "-d", conf["dbname"], "-c", sql], env=env,
                          capture_output=True, text=True)


@unittest.skipUnless(os.environ.get("TEMPLET_TEST_PG"), "TEMPLET_TEST_PG not set")
class RedashPostgresTests(EmuCase):
    script = "redash.py"

    def test_pg_test_endpoint_logs_in_for_real(self):
        conf = _pg_conf()
        _psql_admin(conf, "DROP ROLE IF EXISTS templet_redash_probe")
        r = _psql_admin(conf, "CREATE ROLE templet_redash_probe LOGIN PASSWORD 'right-pw'")
        self.assertEqual(r.returncode, 0, r.stderr)
        try:
            opts = {"host": conf["host"], "port": conf["port"], "user": "templet_redash_probe",
                    "password": "right-pw", "dbname": conf["dbname"]}
            good = self.call("POST", "/api/data_sources",
                             {"name": "good", "type": "pg", "options": opts}, ADMIN).json()
            opts["password"] = "wrong-pw"
            bad = self.call("POST", "/api/data_sources",
                            {"name": "bad", "type": "pg", "options": opts}, ADMIN).json()
            r = self.call("POST", "/api/data_sources/%d/test" % good["id"], headers=ADMIN)
            self.assertEqual(r.json(), {"message": "success", "ok": True})
            r = self.call("POST", "/api/data_sources/%d/test" % bad["id"], headers=ADMIN).json()
            self.assertFalse(r["ok"])
            self.assertIn("templet_redash_probe", r["message"])
        finally:
            _psql_admin(conf, "DROP ROLE IF EXISTS templet_redash_probe")


# ====================================================================================== consul
class ConsulTests(EmuCase):
    script = "consul.py"

    def put(self, key, value=b"", q=""):
        return self.call("PUT", "/v1/kv/" + key + q, value)

    def test_c1_index_semantics(self):
        r = self.call("GET", "/v1/kv/missing")
        self.assertEqual((r.status, r.body, r.headers["x-consul-index"]), (404, b"", "1"))
        self.assertEqual(r.headers["x-consul-knownleader"], "true")
        self.assertIn("x-consul-lastcontact", r.headers)
        self.put("app/a", b"1")
        self.put("app/b", b"2")
        self.put("other", b"3")
        a = self.call("GET", "/v1/kv/app/a")
        self.assertEqual(int(a.headers["x-consul-index"]), a.json()[0]["ModifyIndex"])
        lst = self.call("GET", "/v1/kv/app?recurse")
        self.assertEqual(int(lst.headers["x-consul-index"]),
                         max(e["ModifyIndex"] for e in lst.json()))
        other = self.call("GET", "/v1/kv/other").json()[0]["ModifyIndex"]
        miss = self.call("GET", "/v1/kv/missing")
        self.assertEqual(int(miss.headers["x-consul-index"]), other)  # table max
        self.call("DELETE", "/v1/kv/app/b")
        after = int(self.call("GET", "/v1/kv/app?recurse").headers["x-consul-index"])
        self.assertGreater(after, int(lst.headers["x-consul-index"]))  # tombstone counts
        self.emu.control("seed", {"reset_index_to": 2})
        self.assertLess(int(self.call("GET", "/v1/kv/app/a").headers["x-consul-index"]),
                        int(a.headers["x-consul-index"]))

    def test_c2_blocking(self):
        self.put("k", b"v")
        r = self.call("GET", "/v1/kv/k")
        idx = int(r.headers["x-consul-index"])
        t0 = time.time()
        self.assertEqual(self.call("GET", "/v1/kv/k?index=0&wait=1s").status, 200)
        self.assertLess(time.time() - t0, 0.5)
        t0 = time.time()
        again = self.call("GET", "/v1/kv/k?index=%d&wait=1s" % idx)
        el = time.time() - t0
        self.assertTrue(0.95 <= el < 1.0 * 17 / 16 + 0.5, el)
        self.assertEqual((again.status, again.body, again.headers["x-consul-index"]),
                         (200, r.body, str(idx)))
        threading.Timer(0.3, lambda: self.put("k", b"new")).start()
        t0 = time.time()
        woke = self.call("GET", "/v1/kv/k?index=%d&wait=5s" % idx)
        self.assertLess(time.time() - t0, 2)
        self.assertGreater(int(woke.headers["x-consul-index"]), idx)
        # a missing key keeps blocking through unrelated writes
        miss = self.call("GET", "/v1/kv/absent")
        midx = int(miss.headers["x-consul-index"])
        threading.Timer(0.2, lambda: self.put("unrelated", b"x")).start()
        t0 = time.time()
        r = self.call("GET", "/v1/kv/absent?index=%d&wait=1s" % midx)
        self.assertGreaterEqual(time.time() - t0, 0.95)
        self.assertEqual(r.status, 404)
        self.assertGreater(int(r.headers["x-consul-index"]), midx)
        self.assertEqual(self.call("GET", "/v1/kv/k?wait=xyz&index=1").text, "Invalid wait time")
        self.assertEqual(self.call("GET", "/v1/kv/k?index=abc").text, "Invalid index")

    def test_c2_index_going_backwards_blocks_full_wait(self):
        self.put("k", b"v")
        high = int(self.call("GET", "/v1/kv/k").headers["x-consul-index"]) + 100
        t0 = time.time()
        r = self.call("GET", "/v1/kv/k?index=%d&wait=1s" % high)
        self.assertGreaterEqual(time.time() - t0, 0.95)
        self.assertLess(int(r.headers["x-consul-index"]), high)

    def test_c3_body_shapes(self):
        self.put("b/x", b"hello")
        self.put("b/empty")
        self.put("a/one", b"1")
        self.put("b/sub/deep", b"2")
        e = self.call("GET", "/v1/kv/b/empty").json()
        self.assertEqual(e[0]["Value"], None)
        self.assertNotIn("Session", e[0])
        x = self.call("GET", "/v1/kv/b/x").json()
        self.assertIsInstance(x, list)
        self.assertEqual(base64.b64decode(x[0]["Value"]), b"hello")
        self.assertEqual(set(x[0]), {"LockIndex", "Key", "Flags", "Value", "CreateIndex",
                                     "ModifyIndex"})
        keys = [e["Key"] for e in self.call("GET", "/v1/kv/?recurse").json()]
        self.assertEqual(keys, sorted(keys))
        self.assertEqual(self.call("GET", "/v1/kv/b/?keys&separator=/").json(),
                         ["b/empty", "b/sub/", "b/x"])
        self.assertEqual(self.call("GET", "/v1/kv/zz?keys").status, 404)
        self.assertEqual(self.call("GET", "/v1/kv/zz?recurse").status, 404)
        raw = self.call("GET", "/v1/kv/b/x?raw")
        self.assertEqual((raw.body, raw.headers["content-type"]), (b"hello", "text/plain"))
        self.assertEqual(raw.headers["x-content-type-options"], "nosniff")
        self.emu.control("reset")
        r = self.call("GET", "/v1/kv/?keys")
        self.assertEqual((r.status, r.json()), (200, []))

    def test_c4_write_semantics(self):
        self.assertEqual(self.put("k", b"1", "?cas=0").json(), True)
        r = self.put("k", b"2", "?cas=0")
        self.assertEqual((r.status, r.json()), (200, False))
        mi = self.call("GET", "/v1/kv/k").json()[0]["ModifyIndex"]
        self.assertEqual(self.put("k", b"2", "?cas=%d" % (mi + 50)).json(), False)
        self.assertEqual(self.put("k", b"2", "?cas=%d&flags=7" % mi).json(), True)
        self.assertEqual(self.call("GET", "/v1/kv/k").json()[0]["Flags"], 7)
        sid = self.call("PUT", "/v1/session/create", {"LockDelay": "1s", "TTL": "10s"}).json()["ID"]
        sid2 = self.call("PUT", "/v1/session/create", {"LockDelay": "0s"}).json()["ID"]
        self.assertEqual(self.put("lock", b"a", "?acquire=" + sid).json(), True)
        e = self.call("GET", "/v1/kv/lock").json()[0]
        self.assertEqual((e["LockIndex"], e["Session"]), (1, sid))
        self.assertEqual(self.put("lock", b"b", "?acquire=" + sid).json(), True)
        self.assertEqual(self.call("GET", "/v1/kv/lock").json()[0]["LockIndex"], 1)
        self.assertEqual(self.put("lock", b"c", "?acquire=" + sid2).json(), False)
        self.assertEqual(self.put("lock", b"plain").json(), True)  # plain PUT ignores the lock
        e = self.call("GET", "/v1/kv/lock").json()[0]
        self.assertEqual((base64.b64decode(e["Value"]), e["Session"]), (b"plain", sid))
        self.call("PUT", "/v1/session/destroy/" + sid)
        self.assertNotIn("Session", self.call("GET", "/v1/kv/lock").json()[0])
        self.assertEqual(self.put("lock", b"d", "?acquire=" + sid2).json(), False)  # lock-delay
        r = self.put("k", b"x", "?cas=1&acquire=" + sid2)
        self.assertEqual((r.status, r.headers["content-type"].split(";")[0]), (400, "text/plain"))
        self.assertTrue(r.text.startswith("Conflicting flags"))
        self.assertEqual(self.call("DELETE", "/v1/kv/k?cas=0").json(), False)
        self.assertEqual(self.call("DELETE", "/v1/kv/k?recurse&cas=1").status, 400)
        self.put("p/a", b"1")
        self.put("p/b", b"1")
        self.assertEqual(self.call("DELETE", "/v1/kv/p?recurse").json(), True)
        self.assertEqual(self.call("GET", "/v1/kv/p?recurse").status, 404)

    def test_c5_errors_tokens_sessions(self):
        r = self.call("GET", "/v1/kv/")
        self.assertEqual((r.status, r.text), (400, "Missing key name"))
        self.assertEqual(self.call("GET", "/v1/kv/a/../b").status, 400)
        self.emu.control("seed", {"acl": {"enabled": True, "tokens": {
            "good": {"rules": {"key_prefix": {"app/": "write"}}},
            "mgmt": {"management": True}}}})
        self.call("PUT", "/v1/kv/app/x", b"1", {"X-Consul-Token": "mgmt"})
        self.call("PUT", "/v1/kv/secret/y", b"1", {"X-Consul-Token": "mgmt"})
        r = self.call("GET", "/v1/kv/app/x", headers={"X-Consul-Token": "nope"})
        self.assertEqual((r.status, r.text), (403, "ACL not found"))
        r = self.call("GET", "/v1/kv/app/x?token=good", headers={"X-Consul-Token": "nope"})
        self.assertEqual(r.status, 200)
        r = self.call("GET", "/v1/kv/secret/y?token=good")
        self.assertEqual(r.status, 403)
        self.assertTrue(r.text.startswith("Permission denied"))
        r = self.call("GET", "/v1/kv/?recurse&token=good")
        self.assertEqual([e["Key"] for e in r.json()], ["app/x"])
        self.assertEqual(r.headers.get("x-consul-results-filtered-by-acls"), "true")
        self.emu.control("seed", {"acl": {"enabled": False}, "session_ttl_min": "200ms"})
        r = self.call("PUT", "/v1/session/renew/00000000-0000-0000-0000-000000000000")
        self.assertEqual(r.status, 404)
        self.assertTrue(r.text.startswith("Session id '"))
        sid = self.call("PUT", "/v1/session/create", {"TTL": "10s", "LockDelay": "0s"}).json()["ID"]
        rn = self.call("PUT", "/v1/session/renew/" + sid).json()
        self.assertIsInstance(rn, list)
        self.assertEqual((rn[0]["ID"], rn[0]["TTL"]), (sid, "10s"))
        self.assertEqual(self.call("GET", "/v1/session/info/nope").json(), [])
        r = self.call("PUT", "/v1/session/create", {"TTL": "100ms"})
        self.assertEqual((r.status, r.text),
                         (500, "Invalid Session TTL '100000000', must be between [200ms=24h0m0s]"))
        sid = self.call("PUT", "/v1/session/create", {"TTL": "300ms", "LockDelay": "0s"}).json()["ID"]
        self.put("held", b"v", "?acquire=" + sid)
        time.sleep(0.8)  # 2 x 300ms after the last renewal: invalidated
        self.assertNotIn("Session", self.call("GET", "/v1/kv/held").json()[0])

    def test_catalog_datacenters_is_not_a_blocking_query(self):
        r = self.call("GET", "/v1/catalog/datacenters?index=5&wait=10s")
        self.assertEqual((r.status, r.json()), (200, ["dc1"]))
        self.assertNotIn("x-consul-index", r.headers)
        self.emu.control("seed", {"wan_datacenters": ["dc2", "dc3"]})
        self.assertEqual(self.call("GET", "/v1/catalog/datacenters").json(), ["dc1", "dc2", "dc3"])
        self.assertEqual(self.call("GET", "/v1/catalog/services?dc=dc1&consistent").status, 200)
        self.assertEqual(self.call("GET", "/v1/catalog/services?dc=dc2&consistent").status, 500)

    def test_c6_session_ttl_is_two_ttls_after_the_last_renewal(self):
        self.emu.control("seed", {"session_ttl_min": "1s"})
        sid = self.call("PUT", "/v1/session/create", {"TTL": "1s", "LockDelay": "0s"}).json()["ID"]
        self.assertEqual(self.put("l", b"", "?acquire=" + sid).json(), True)
        time.sleep(1.5)  # past one TTL: still alive (Consul promises no expiry before 2 x TTL)
        self.assertEqual(self.call("PUT", "/v1/session/renew/" + sid).status, 200)
        renewed = time.monotonic()
        info = "/v1/session/info/" + sid
        while self.call("GET", info).json() != []:
            time.sleep(0.01)
            self.assertLess(time.monotonic() - renewed, 3)
        self.assertAlmostEqual(time.monotonic() - renewed, 2.0, delta=0.15)
        self.assertNotIn("Session", self.call("GET", "/v1/kv/l").json()[0])
        r = self.call("PUT", "/v1/session/renew/" + sid)
        self.assertEqual((r.status, r.text), (404, "Session id '%s' not found" % sid))

    def test_c6_session_create_defaults_and_errors(self):
        s = self.call("PUT", "/v1/session/create").json()["ID"]
        info = self.call("GET", "/v1/session/info/" + s).json()[0]
        self.assertEqual({k: info[k] for k in ("Node", "LockDelay", "Behavior", "TTL",
                                                "NodeChecks")},
                         {"Node": "emulator-node", "LockDelay": 15000000000,
                          "Behavior": "release", "TTL": "", "NodeChecks": ["serfHealth"]})
        # A small number (or duration string) for LockDelay means seconds.
        for ld in (5, "5ns", 5000000000):
            sid = self.call("PUT", "/v1/session/create", {"LockDelay": ld}).json()["ID"]
            self.assertEqual(self.call("GET", "/v1/session/info/" + sid).json()[0]["LockDelay"],
                             5000000000, ld)
        sid = self.call("PUT", "/v1/session/create", {"Checks": []}).json()["ID"]
        self.assertEqual(self.call("GET", "/v1/session/info/" + sid).json()[0]["NodeChecks"], [])
        cases = [({"Behavior": "keep"}, "Invalid Behavior setting 'keep'"),
                 ({"TTL": "x"}, "Session TTL 'x' invalid: time: invalid duration \"x\""),
                 ({"TTL": "5s"}, "Invalid Session TTL '5000000000', must be between "
                                 "[10s=24h0m0s]"),
                 ({"Node": "ghost"}, "Missing node registration"),
                 ({"NodeChecks": ["nope"]}, "Missing check 'nope' registration")]
        for body, text in cases:
            r = self.call("PUT", "/v1/session/create", body)
            self.assertEqual((r.status, r.text), (500, text), body)
        self.assertEqual(self.call("PUT", "/v1/session/renew/").text, "Missing session")
        self.assertEqual(self.call("PUT", "/v1/session/destroy/").text, "Missing session")
        self.assertEqual(self.call("GET", "/v1/session/node/").text, "Missing node name")
        self.emu.control("seed", {"register_services": [{"Node": "web-2", "Service": "x"}]})
        mine = self.call("PUT", "/v1/session/create", {"Node": "web-2"}).json()["ID"]
        self.assertEqual([x["ID"] for x in self.call("GET", "/v1/session/node/web-2").json()],
                         [mine])
        lst = self.call("GET", "/v1/session/list")
        self.assertEqual(len(lst.json()), 6)
        idx = int(lst.headers["x-consul-index"])
        threading.Timer(0.2, lambda: self.call("PUT", "/v1/session/destroy/" + mine)).start()
        t0 = time.time()
        r = self.call("GET", "/v1/session/list?index=%d&wait=5s" % idx)
        self.assertLess(time.time() - t0, 2)
        self.assertEqual(len(r.json()), 5)

    def test_c6_lock_release_delete_and_lock_delay(self):
        rel = self.call("PUT", "/v1/session/create", {"LockDelay": "1s"}).json()["ID"]
        dele = self.call("PUT", "/v1/session/create",
                         {"LockDelay": "0s", "Behavior": "delete"}).json()["ID"]
        other = self.call("PUT", "/v1/session/create", {"LockDelay": "0s"}).json()["ID"]
        self.assertEqual(self.put("a", b"1", "?acquire=" + rel).json(), True)
        self.assertEqual(self.put("b", b"1", "?acquire=" + dele).json(), True)
        # Release by a session that does not hold it: false; the holder: true, LockIndex kept.
        self.assertEqual(self.put("a", b"x", "?release=" + other).json(), False)
        self.assertEqual(self.put("a", b"2", "?release=" + rel).json(), True)
        e = self.call("GET", "/v1/kv/a").json()[0]
        self.assertEqual((e["LockIndex"], "Session" in e, base64.b64decode(e["Value"])),
                         (1, False, b"2"))
        self.assertEqual(self.put("a", b"3", "?acquire=" + other).json(), True)  # no delay
        self.assertEqual(self.call("GET", "/v1/kv/a").json()[0]["LockIndex"], 2)
        self.assertEqual(self.put("a", b"", "?release=" + other).json(), True)
        self.assertEqual(self.put("a", b"", "?acquire=" + rel).json(), True)
        # A blocking query on the lock key wakes when the holder's session dies.
        idx = int(self.call("GET", "/v1/kv/a").headers["x-consul-index"])
        threading.Timer(0.2, lambda: self.call("PUT", "/v1/session/destroy/" + rel)).start()
        t0 = time.time()
        r = self.call("GET", "/v1/kv/a?index=%d&wait=5s" % idx)
        self.assertLess(time.time() - t0, 2)
        self.assertNotIn("Session", r.json()[0])
        # Lock-delay (1s) after invalidation: refused even to a live session, then granted.
        self.assertEqual(self.put("a", b"", "?acquire=" + other).json(), False)
        time.sleep(1.1)
        self.assertEqual(self.put("a", b"", "?acquire=" + other).json(), True)
        # Behavior delete removes the key.
        self.call("PUT", "/v1/session/destroy/" + dele)
        self.assertEqual(self.call("GET", "/v1/kv/b").status, 404)
        r = self.put("a", b"", "?acquire=00000000-0000-0000-0000-000000000000")
        self.assertEqual((r.status, r.text),
                         (500, 'invalid session "00000000-0000-0000-0000-000000000000"'))

    def test_c6_node_checks_invalidate_sessions(self):
        self.emu.control("seed", {"register_services": [{"Node": "web-1", "Service": "x"}]})
        sid = self.call("PUT", "/v1/session/create", {"Node": "web-1", "LockDelay": "0s"}
                        ).json()["ID"]
        self.put("lock", b"", "?acquire=" + sid)
        self.emu.control("seed", {"set_checks": [{"Node": "web-1", "CheckID": "serfHealth",
                                                  "Status": "critical"}]})
        self.assertEqual(self.call("GET", "/v1/session/info/" + sid).json(), [])
        self.assertNotIn("Session", self.call("GET", "/v1/kv/lock").json()[0])
        r = self.call("PUT", "/v1/session/create", {"Node": "web-1"})
        self.assertEqual((r.status, r.text), (500, "Check 'serfHealth' is in critical state"))
        self.emu.control("seed", {"set_checks": [{"Node": "web-1", "CheckID": "serfHealth",
                                                  "Status": "passing"}]})
        sid = self.call("PUT", "/v1/session/create", {"Node": "web-1"}).json()["ID"]
        self.emu.control("seed", {"deregister_nodes": ["web-1"]})
        self.assertEqual(self.call("GET", "/v1/session/info/" + sid).json(), [])

    def test_catalog_and_health(self):
        self.emu.control("seed", {"services": [
            {"Node": "n1", "NodeAddress": "10.0.0.1", "ID": "web-1", "Service": "web",
             "Tags": ["v1", "blue"], "Port": 80, "Checks": [{"CheckID": "web-1-http",
                                                             "Status": "passing"}]},
            {"Node": "n2", "NodeAddress": "10.0.0.2", "ID": "web-2", "Service": "web",
             "Tags": ["v2"], "Port": 81, "Address": "10.9.9.9",
             "Checks": [{"CheckID": "web-2-http", "Status": "critical"}]}]})
        h = self.call("GET", "/v1/health/service/web").json()
        self.assertEqual(len(h), 2)
        self.assertEqual(set(h[0]), {"Node", "Service", "Checks"})
        self.assertEqual(h[0]["Checks"][0]["CheckID"], "serfHealth")
        p = self.call("GET", "/v1/health/service/web?passing").json()
        self.assertEqual([e["Service"]["ID"] for e in p], ["web-1"])
        t = self.call("GET", "/v1/health/service/web?tag=v2&ns=default&dc=dc1").json()
        self.assertEqual([e["Service"]["ID"] for e in t], ["web-2"])
        self.assertEqual(self.call("GET", "/v1/health/service/nope").json(), [])
        self.assertEqual(self.call("GET", "/v1/health/service/web?dc=dc9").status, 500)
        self.assertEqual(self.call("GET", "/v1/catalog/services").json(),
                         {"web": ["v1", "blue", "v2"]})
        cs = self.call("GET", "/v1/catalog/service/web").json()
        self.assertEqual(cs[1]["ServiceAddress"], "10.9.9.9")
        self.assertEqual(cs[0]["Address"], "10.0.0.1")
        node = self.call("GET", "/v1/catalog/node/n1").json()
        self.assertIn("web-1", node["Services"])
        self.assertEqual([n["Node"] for n in self.call("GET", "/v1/catalog/nodes").json()],
                         ["emulator-node", "n1", "n2"])
        r = self.call("GET", "/v1/health/service/web")
        idx = int(r.headers["x-consul-index"])
        threading.Timer(0.2, lambda: self.emu.control(
            "seed", {"set_checks": [{"CheckID": "web-2-http", "Status": "passing"}]})).start()
        t0 = time.time()
        r = self.call("GET", "/v1/health/service/web?passing&index=%d&wait=5s" % idx)
        self.assertLess(time.time() - t0, 2)
        self.assertEqual(len(r.json()), 2)


# ====================================================================================== secrets
class SecretLogTests(unittest.TestCase):
    """--artifacts-dir: what an emulator issued or accepted, for the suite's leak scan."""

    def logged(self, emu):
        out = []
        secrets_dir = os.path.join(self.artifacts, "secrets")
        for name in os.listdir(secrets_dir):
            with open(os.path.join(secrets_dir, name)) as f:
                out += [tuple(json.loads(line).values()) for line in f]
        return out

    def start(self, script):
        self.artifacts = tempfile.mkdtemp(prefix="artifacts-")
        emu = Emu(script, ["--artifacts-dir", self.artifacts])
        self.addCleanup(emu.stop)
        return emu

    def test_vault_records_passwords_leases_tokens_values(self):
        emu = self.start("vault.py")
        creds = emu.call("GET", "/v1/database/creds/app", headers=ROOT).json()
        self.assertRegex(creds["data"]["password"], r"^A1a-[A-Za-z0-9]{16}$")
        emu.call("POST", "/v1/secret/data/app", {"data": {"pw": "kv-secret-1"}}, ROOT)
        tok = emu.call("POST", "/v1/auth/token/create", {}, ROOT).json()["auth"]["client_token"]
        self.assertTrue(tok.startswith("hvs."))
        emu.call("GET", "/v1/auth/token/lookup-self", headers={"X-Vault-Token": "wrong-one"})
        got = self.logged(emu)
        for want in [("db_password", creds["data"]["password"]),
                     ("lease_id", creds["lease_id"]), ("kv_value", "kv-secret-1"),
                     ("vault_token", tok), ("vault_token", "root"),
                     ("credential", "wrong-one")]:
            self.assertIn(want, got)
        self.assertEqual(len(got), len(set(got)))  # each once

    def test_redash_records_keys_and_secret_options_not_placeholders(self):
        emu = self.start("redash.py")
        emu.call("POST", "/api/data_sources", {"name": "a", "type": "pg", "options": {
            "dbname": "d", "password": "Pg-Pass-77"}}, {"Authorization": "Key admin-api-key"})
        emu.call("POST", "/api/data_sources/1", {"name": "a", "type": "pg", "options": {
            "dbname": "d", "password": "--------"}}, {"Authorization": "Key admin-api-key"})
        got = self.logged(emu)
        self.assertIn(("redash_option", "Pg-Pass-77"), got)
        self.assertIn(("redash_api_key", "admin-api-key"), got)
        self.assertNotIn("--------", [v for _, v in got])
        self.assertNotIn("d", [v for _, v in got])


if __name__ == "__main__":
    unittest.main()
