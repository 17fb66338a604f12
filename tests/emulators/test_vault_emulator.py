"""Tests for vault.py and its modules (vault_kv.py, vault_database.py, vault_lifecycle.py).

    python3 -m unittest tests/emulators/test_vault_emulator.py -v

The §5 items of shared/docs/reference/http-apis.md are tagged in the test names (v1..v5).
"""

import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from emu_harness import HERE, ROOT, EmuCase, _pg_conf  # noqa: E402

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


if __name__ == "__main__":
    unittest.main()
