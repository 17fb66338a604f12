"""The Vault emulator's PKI engine (vault_pki.py): real certificates, checked with openssl.

    python3 -m unittest tests/emulators/test_vault_pki.py -v
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from emu_harness import EmuCase  # noqa: E402
from vault_pki import HAVE_CRYPTOGRAPHY  # noqa: E402

ROOT = {"X-Vault-Token": "root"}
SEED = {"pki_mounts": {"pki": {"common_name": "Test Root", "roles": {
    "web": {"allowed_domains": ["example.com"], "allow_subdomains": True, "max_ttl": "1h",
            "key_type": "ec"},
    "leased": {"allow_any_name": True, "generate_lease": True, "key_type": "ec"}}}}}


def openssl(args, stdin):
    return subprocess.run(["openssl"] + args, input=stdin.encode(), capture_output=True,
                          check=True).stdout.decode()


@unittest.skipUnless(HAVE_CRYPTOGRAPHY and shutil.which("openssl"),
                     "needs python3-cryptography and openssl")
class VaultPkiTests(EmuCase):
    script = "vault.py"

    def setUp(self):
        super().setUp()
        self.emu.control("seed", SEED)

    def issue(self, role="web", status=200, **body):
        r = self.call("PUT", "/v1/pki/issue/" + role, body, ROOT)
        self.assertEqual(r.status, status, r)
        return r.json()

    def test_issue_answers_vaults_shape_with_a_real_certificate(self):
        now = int(time.time())
        j = self.issue(common_name="app.example.com", alt_names="b.example.com",
                       ip_sans="127.0.0.1", ttl="10m")
        self.assertEqual((j["lease_id"], j["lease_duration"], j["renewable"]), ("", 0, False))
        self.assertIsNone(j["warnings"])
        d = j["data"]
        self.assertEqual(sorted(d), ["ca_chain", "certificate", "expiration", "issuing_ca",
                                     "private_key", "private_key_type", "serial_number"])
        self.assertEqual(d["private_key_type"], "ec")
        self.assertEqual(d["ca_chain"], [d["issuing_ca"]])
        self.assertTrue(d["certificate"].startswith("-----BEGIN CERTIFICATE-----\n"))
        self.assertTrue(d["certificate"].endswith("-----END CERTIFICATE-----"))
        self.assertTrue(d["private_key"].startswith("-----BEGIN EC PRIVATE KEY-----\n"))
        self.assertRegex(d["serial_number"], r"^([0-9a-f]{2}:){19}[0-9a-f]{2}$")
        self.assertIn(d["expiration"], (now + 600, now + 601))
        text = openssl(["x509", "-noout", "-subject", "-issuer", "-ext", "subjectAltName"],
                       d["certificate"])
        self.assertEqual(text, "subject=CN = app.example.com\nissuer=CN = Test Root\n"
                               "X509v3 Subject Alternative Name: \n"
                               "    DNS:app.example.com, DNS:b.example.com, "
                               "IP Address:127.0.0.1\n")
        # The certificate chains to the CA, and the key is the certificate's.
        with tempfile.TemporaryDirectory() as tmp:
            ca = os.path.join(tmp, "ca.pem")
            with open(ca, "w") as f:
                f.write(d["issuing_ca"])
            self.assertEqual(openssl(["verify", "-CAfile", ca], d["certificate"]),
                             "stdin: OK\n")
        self.assertEqual(openssl(["pkey", "-pubout"], d["private_key"]),
                         openssl(["x509", "-noout", "-pubkey"], d["certificate"]))
        dates = openssl(["x509", "-noout", "-startdate", "-enddate", "-dateopt", "iso_8601"],
                        d["certificate"])
        self.assertIn("notBefore=%s" % time.strftime("%Y-%m-%d %H:%M", time.gmtime(now - 30)),
                      dates)
        self.assertEqual(self.emu.control("state", method="GET")["pki"]["pki/"]["issued"], 1)

    def test_ttl_is_capped_at_the_roles_max_ttl_with_vaults_warning(self):
        now = int(time.time())
        j = self.issue(common_name="app.example.com", ttl="2h")
        self.assertEqual(j["warnings"], ['TTL "2h0m0s" is longer than permitted maxTTL '
                                         '"1h0m0s", so maxTTL is being used'])
        self.assertIn(j["data"]["expiration"], (now + 3600, now + 3601))

    def test_names_the_role_does_not_allow_are_refused(self):
        self.assertEqual(self.issue(common_name="evil.org", status=400),
                         {"errors": ["common name evil.org not allowed by this role"]})
        self.assertEqual(self.issue(common_name="a.example.com", alt_names="x.org", status=400),
                         {"errors": ["subject alternate name x.org not allowed by this role"]})
        self.assertEqual(self.issue(role="nope", common_name="a.example.com", status=400),
                         {"errors": ["unknown role: nope"]})
        self.assertEqual(self.issue(common_name="a.example.com", format="x", status=400),
                         {"errors": ['the "format" path parameter must be "pem", "der", or '
                                     '"pem_bundle"']})
        self.assertEqual(self.emu.control("state", method="GET")["pki"]["pki/"]["issued"], 0)

    def test_roles_api_and_ca_pem(self):
        r = self.call("PUT", "/v1/pki/roles/any", {"allow_any_name": True, "ttl": "5m"}, ROOT)
        self.assertEqual(r.status, 204)
        role = self.call("GET", "/v1/pki/roles/any", None, ROOT).json()["data"]
        self.assertEqual((role["allow_any_name"], role["ttl"]), (True, 300))
        self.assertEqual(self.call("LIST", "/v1/pki/roles", None, ROOT).json()["data"]["keys"],
                         ["any", "leased", "web"])
        now = int(time.time())
        d = self.issue(role="any", common_name="whatever.internal")["data"]
        self.assertIn(d["expiration"], (now + 300, now + 301))
        ca = self.call("GET", "/v1/pki/ca/pem")
        self.assertEqual(ca.status, 403)  # a token is needed in this emulator
        ca = self.call("GET", "/v1/pki/ca/pem", None, ROOT)
        self.assertEqual(ca.text, d["issuing_ca"])
        self.assertIn("CA:TRUE", openssl(["x509", "-noout", "-ext", "basicConstraints"], ca.text))

    def test_generate_lease_gives_a_revocable_lease(self):
        j = self.issue(role="leased", common_name="x.internal", ttl="90s")
        self.assertTrue(j["lease_id"].startswith("pki/issue/leased/"))
        # Secret.TTL is notAfter - now, a little under 90 s: whole seconds, truncated.
        self.assertFalse(j["renewable"])
        self.assertIn(j["lease_duration"], (89, 90))
        r = self.call("PUT", "/v1/sys/leases/revoke", {"lease_id": j["lease_id"]}, ROOT)
        self.assertEqual(r.status, 204)
        pki = self.emu.control("state", method="GET")["pki"]["pki/"]
        self.assertEqual(pki["revoked"], [j["data"]["serial_number"]])


if __name__ == "__main__":
    unittest.main()
