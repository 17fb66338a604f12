"""Tests for influxdb.py (with flux_options.py and influxdb_org.py).

    python3 -m unittest tests/emulators/test_influxdb_emulator.py -v

The §5 items of shared/docs/reference/http-apis.md are tagged in the test names (i1..i5).
"""

import json
import os
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from emu_harness import EmuCase  # noqa: E402


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


if __name__ == "__main__":
    unittest.main()
