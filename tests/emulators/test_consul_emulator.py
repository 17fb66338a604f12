"""Tests for consul.py.

    python3 -m unittest tests/emulators/test_consul_emulator.py -v

The §5 items of shared/docs/reference/http-apis.md are tagged in the test names (c1..c5).
"""

import base64
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from emu_harness import EmuCase  # noqa: E402


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


if __name__ == "__main__":
    unittest.main()
