"""Tests for the Consul emulator's Connect, partition, peering and exported/imported services
endpoints (consul_connect.py).

    python3 -m unittest tests/emulators/test_consul_connect.py -v

Also run by ctest (emulators.consul_connect).
"""

import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_emulators import EmuCase  # noqa: E402

PARTITION_REFUSED = ('Invalid query parameter: "partition" - Partitions are a Consul '
                     'Enterprise feature')


class ConsulConnectTests(EmuCase):
    script = "consul.py"

    def test_ca_roots_are_a_blocking_query_and_rotate(self):
        r = self.call("GET", "/v1/agent/connect/ca/roots")
        self.assertEqual(r.status, 200)
        body = r.json()
        self.assertEqual(len(body["Roots"]), 1)
        root = body["Roots"][0]
        self.assertEqual(body["ActiveRootID"], root["ID"])
        self.assertTrue(body["TrustDomain"].endswith(".consul"))
        self.assertTrue(root["Active"])
        self.assertTrue(root["RootCert"].startswith("-----BEGIN CERTIFICATE-----"))
        index = int(r.headers["x-consul-index"])
        self.assertEqual(index, root["ModifyIndex"])
        # Nothing changes: the wait runs out and the same index comes back.
        t0 = time.time()
        same = self.call("GET", "/v1/agent/connect/ca/roots?index=%d&wait=300ms" % index)
        self.assertGreaterEqual(time.time() - t0, 0.3)
        self.assertEqual(int(same.headers["x-consul-index"]), index)
        # A rotation wakes the blocked query with both roots, only the new one active.
        got = {}

        def block():
            got["r"] = self.call("GET", "/v1/agent/connect/ca/roots?index=%d&wait=10s" % index)
        t = threading.Thread(target=block)
        t.start()
        time.sleep(0.2)
        self.emu.control("seed", {"rotate_ca": True})
        t.join(10)
        roots = got["r"].json()["Roots"]
        self.assertEqual([x["Active"] for x in roots], [False, True])
        self.assertGreater(int(got["r"].headers["x-consul-index"]), index)

    def test_leaf_is_signed_by_the_active_root_with_the_spiffe_uri(self):
        leaf = self.call("GET", "/v1/agent/connect/ca/leaf/web")
        self.assertEqual(leaf.status, 200)
        body = leaf.json()
        self.assertEqual(body["Service"], "web")
        self.assertTrue(body["ServiceURI"].startswith("spiffe://"))
        self.assertTrue(body["ServiceURI"].endswith("/ns/default/dc/dc1/svc/web"))
        self.assertIn("PRIVATE KEY", body["PrivateKeyPEM"])
        root = self.call("GET", "/v1/agent/connect/ca/roots").json()["Roots"][0]["RootCert"]
        d = tempfile.mkdtemp()
        for name, text in (("ca.pem", root), ("leaf.pem", body["CertPEM"])):
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        ok = subprocess.run(["openssl", "verify", "-CAfile", "ca.pem", "leaf.pem"], cwd=d,
                            capture_output=True, text=True)
        self.assertEqual(ok.stdout.strip(), "leaf.pem: OK")
        text = subprocess.run(["openssl", "x509", "-in", "leaf.pem", "-noout", "-text"], cwd=d,
                              capture_output=True, text=True).stdout
        self.assertIn("URI:" + body["ServiceURI"], text)
        # The same leaf until the roots rotate; then a new one, at a higher index.
        index = int(leaf.headers["x-consul-index"])
        self.assertEqual(self.call("GET", "/v1/agent/connect/ca/leaf/web").json()["CertPEM"],
                         body["CertPEM"])
        self.emu.control("seed", {"rotate_ca": True})
        again = self.call("GET", "/v1/agent/connect/ca/leaf/web?index=%d&wait=5s" % index)
        self.assertNotEqual(again.json()["CertPEM"], body["CertPEM"])
        self.assertGreater(int(again.headers["x-consul-index"]), index)

    def test_leaf_needs_service_write(self):
        self.emu.control("seed", {"acl": {"enabled": True, "tokens": {
            "reader": {"AccessorID": "a-1", "rules": {"service": {"web": "read"}}},
            "writer": {"AccessorID": "a-2", "rules": {"service": {"web": "write"}}}}}})
        r = self.call("GET", "/v1/agent/connect/ca/leaf/web", headers={"X-Consul-Token": "reader"})
        self.assertEqual(r.status, 403)
        self.assertEqual(r.text, "Permission denied: token with AccessorID 'a-1' lacks "
                                 "permission 'service:write' on \"web\"")
        r = self.call("GET", "/v1/agent/connect/ca/leaf/web", headers={"X-Consul-Token": "writer"})
        self.assertEqual(r.status, 200)

    def test_health_connect_lists_proxies_and_native_services(self):
        self.emu.control("seed", {"register_services": [
            {"Node": "n1", "NodeAddress": "10.0.0.1", "ID": "web-1", "Service": "web",
             "Port": 80},
            {"Node": "n1", "ID": "web-1-sidecar", "Service": "web-sidecar-proxy", "Port": 21000,
             "Kind": "connect-proxy", "Proxy": {"DestinationServiceName": "web"}},
            {"Node": "n2", "NodeAddress": "10.0.0.2", "ID": "api-1", "Service": "api",
             "Port": 9090, "Connect": {"Native": True}}]})
        web = self.call("GET", "/v1/health/connect/web")
        self.assertEqual(web.status, 200)
        self.assertEqual([(e["Service"]["ID"], e["Service"]["Port"]) for e in web.json()],
                         [("web-1-sidecar", 21000)])
        self.assertEqual(web.json()[0]["Service"]["Proxy"]["DestinationServiceName"], "web")
        self.assertIn("x-consul-index", web.headers)
        api = self.call("GET", "/v1/health/connect/api").json()
        self.assertEqual([e["Service"]["ID"] for e in api], ["api-1"])
        self.assertEqual(self.call("GET", "/v1/health/connect/db").json(), [])

    def test_partitions_are_enterprise_only(self):
        r = self.call("GET", "/v1/partitions")
        self.assertEqual((r.status, r.text),
                         (404, "Invalid URL path: not a recognized HTTP API endpoint\n"))
        self.emu.control("seed", {"enterprise": True, "partitions": [
            {"Name": "default", "Description": "Builtin Default Partition"}, {"Name": "team-a"}]})
        r = self.call("GET", "/v1/partitions")
        self.assertEqual(r.json(), [
            {"Name": "default", "Description": "Builtin Default Partition"},
            {"Name": "team-a", "Description": ""}])
        self.assertNotIn("x-consul-index", r.headers)

    def test_peerings_block_and_refuse_a_partition_in_ce(self):
        self.emu.control("seed", {"peerings": [
            {"Name": "east", "State": "ACTIVE", "PeerServerAddresses": ["10.1.0.1:8502"],
             "Remote": {"Partition": "default", "Datacenter": "dc-east"}}]})
        r = self.call("GET", "/v1/peerings")
        self.assertEqual(r.status, 200)
        self.assertEqual([(p["Name"], p["State"], p["Partition"]) for p in r.json()],
                         [("east", "ACTIVE", "")])
        index = int(r.headers["x-consul-index"])
        self.assertEqual(index, r.json()[0]["ModifyIndex"])
        t0 = time.time()
        self.call("GET", "/v1/peerings?index=%d&wait=300ms" % index)
        self.assertGreaterEqual(time.time() - t0, 0.3)
        r = self.call("GET", "/v1/peerings?partition=team-a")
        self.assertEqual((r.status, r.text), (400, PARTITION_REFUSED))

    def test_exported_services_in_ce_and_enterprise(self):
        self.emu.control("seed", {"exported_services": [
            {"Service": "web", "Consumers": {"Peers": ["east"]}}, {"Service": "api"}]})
        r = self.call("GET", "/v1/exported-services")
        self.assertEqual(r.json(), [{"Service": "web", "Consumers": {"Peers": ["east"]}},
                                    {"Service": "api", "Consumers": {}}])
        self.assertIn("x-consul-index", r.headers)
        r = self.call("GET", "/v1/exported-services?partition=default")
        self.assertEqual((r.status, r.text), (400, PARTITION_REFUSED))
        self.emu.control("seed", {"enterprise": True})
        r = self.call("GET", "/v1/exported-services?partition=team-a")
        self.assertEqual(r.json()[0], {"Service": "web", "Partition": "team-a",
                                       "Namespace": "default",
                                       "Consumers": {"Peers": ["east"]}})

    def test_imported_services_ce_list_enterprise_wrapper(self):
        self.emu.control("seed", {"imported_services": [
            {"Service": "db", "Namespace": "default", "SourcePartition": "team-b"}]})
        r = self.call("GET", "/v1/imported-services")
        self.assertEqual(r.json(), [{"Service": "db", "Namespace": "default",
                                     "SourcePartition": "team-b"}])
        self.assertEqual(self.call("GET", "/v1/imported-services?partition=team-a").status, 400)
        self.emu.control("seed", {"enterprise": True})
        r = self.call("GET", "/v1/imported-services?partition=team-a")
        self.assertEqual(r.json(), {"Partition": "team-a", "ImportedServices": [
            {"Service": "db", "Namespace": "default", "SourcePartition": "team-b"}]})


if __name__ == "__main__":
    unittest.main()
