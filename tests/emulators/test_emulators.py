"""Tests of what every emulator shares (common.py): the control API, the request log, and the
secrets each records for the suite's leak scan. Each emulator's own behaviour is tested in
test_<name>_emulator.py.

    python3 -m unittest tests/emulators/test_emulators.py -v
"""

import http.client
import json
import os
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from emu_harness import ROOT, Emu, EmuCase  # noqa: E402


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
