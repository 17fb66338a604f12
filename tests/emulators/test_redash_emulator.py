"""Tests for redash.py.

    python3 -m unittest tests/emulators/test_redash_emulator.py -v

The §5 items of shared/docs/reference/http-apis.md are tagged in the test names (r1..r5).
"""

import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from emu_harness import ADMIN, EmuCase, _pg_conf, _psql_admin  # noqa: E402

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


if __name__ == "__main__":
    unittest.main()
