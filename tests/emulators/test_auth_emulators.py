"""Tests for the machine-login emulators (issue #16): imds.py, gcp_metadata.py,
azure_metadata.py, and vault.py's auth mounts (vault_auth.py, aws_sts.py, jwt_keys.py).

    python3 -m unittest tests/emulators/test_auth_emulators.py -v
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import aws_sts  # noqa: E402
import jwt_keys  # noqa: E402
from test_emulators import EmuCase  # noqa: E402


def sign_sts(akid, secret, token, region, when, extra_headers=None):
    """A GetCallerIdentity request signed as SigV4 says, written out here independently of
    templet's C++ signer: (url, headers, body)."""
    url, body = "https://sts.amazonaws.com/", b"Action=GetCallerIdentity&Version=2011-06-15"
    date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(when))
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
               "X-Amz-Date": date, **(extra_headers or {})}
    if token:
        headers["X-Amz-Security-Token"] = token
    signed = sorted([("host", "sts.amazonaws.com")] + [(k.lower(), v) for k, v in headers.items()])
    names = ";".join(k for k, _ in signed)
    canonical = "POST\n/\n\n" + "".join("%s:%s\n" % kv for kv in signed) + "\n" + names + "\n" + \
        hashlib.sha256(body).hexdigest()
    scope = "%s/%s/sts/aws4_request" % (date[:8], region)
    to_sign = "AWS4-HMAC-SHA256\n%s\n%s\n%s" % (date, scope,
                                                hashlib.sha256(canonical.encode()).hexdigest())
    key = ("AWS4" + secret).encode()
    for part in (date[:8], region, "sts", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = ("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, "
                                "Signature=%s" % (akid, scope, names, sig))
    return url, headers, body


def login_body(url, headers, body, role="redash"):
    enc = lambda b: base64.b64encode(b if isinstance(b, bytes) else b.encode()).decode()  # noqa
    return {"role": role, "iam_http_request_method": "POST", "iam_request_url": enc(url),
            "iam_request_body": enc(body),
            "iam_request_headers": enc(json.dumps({k: [v] for k, v in headers.items()}))}


class ImdsTests(EmuCase):
    script = "imds.py"

    def token(self, ttl="60"):
        r = self.call("PUT", "/latest/api/token",
                      headers={"X-aws-ec2-metadata-token-ttl-seconds": ttl})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["x-aws-ec2-metadata-token-ttl-seconds"], ttl)
        return r.text

    def test_token_required_and_ttl_checked(self):
        self.assertEqual(self.call("GET", "/latest/meta-data/instance-id").status, 401)
        self.assertEqual(self.call("PUT", "/latest/api/token").status, 400)
        self.assertEqual(self.call("PUT", "/latest/api/token", headers={
            "X-aws-ec2-metadata-token-ttl-seconds": "21601"}).status, 400)
        tok = self.token()
        r = self.call("GET", "/latest/meta-data/instance-id",
                      headers={"X-aws-ec2-metadata-token": tok})
        self.assertEqual((r.status, r.text), (200, "i-0abc"))
        self.emu.control("seed", {"time_offset_s": 61})
        self.assertEqual(self.call("GET", "/latest/meta-data/instance-id",
                                   headers={"X-aws-ec2-metadata-token": tok}).status, 401)

    def test_credentials_rotate(self):
        h = {"X-aws-ec2-metadata-token": self.token()}
        base = "/latest/meta-data/iam/security-credentials/"
        self.assertEqual(self.call("GET", base, headers=h).text, "app")
        first = self.call("GET", base + "app", headers=h).json()
        self.assertEqual(first["Code"], "Success")
        self.assertEqual(first["Type"], "AWS-HMAC")
        self.assertTrue(first["AccessKeyId"].startswith("ASIA"))
        self.assertEqual(self.call("GET", base + "app", headers=h).json()["AccessKeyId"],
                         first["AccessKeyId"])
        self.emu.control("seed", {"rotate": True})
        self.assertNotEqual(self.call("GET", base + "app", headers=h).json()["AccessKeyId"],
                            first["AccessKeyId"])


class MetadataTests(unittest.TestCase):
    def test_gcp_needs_the_flavor_header_and_signs_the_audience(self):
        from test_emulators import Emu
        emu = Emu("gcp_metadata.py")
        try:
            path = ("/computeMetadata/v1/instance/service-accounts/default/identity?audience="
                    "http%3A%2F%2Fv%2Fvault%2Fr&format=full")
            self.assertEqual(emu.call("GET", path).status, 403)
            r = emu.call("GET", path, headers={"Metadata-Flavor": "Google"})
            self.assertEqual(r.headers["metadata-flavor"], "Google")
            claims = jwt_keys.verify(r.text)
            self.assertEqual(claims["aud"], "http://v/vault/r")
            self.assertEqual(claims["google"]["compute_engine"]["project_id"], "my-project")
            self.assertIsNone(jwt_keys.verify(r.text[:-4] + "AAAA"))
        finally:
            emu.stop()

    def test_azure_needs_the_metadata_header(self):
        from test_emulators import Emu
        emu = Emu("azure_metadata.py")
        try:
            path = "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=x"
            self.assertEqual(emu.call("GET", path).status, 400)
            r = emu.call("GET", path, headers={"Metadata": "true"})
            self.assertEqual(jwt_keys.verify(r.json()["access_token"])["aud"], "x")
        finally:
            emu.stop()


class VaultAuthTests(EmuCase):
    script = "vault.py"

    def setUp(self):
        super().setUp()
        self.emu.control("seed", {"auth_methods": {"aws": {"roles": {"redash": {
            "bound_iam_principal_arn": ["arn:aws:iam::123456789012:user/deploy"]}}},
            "jwt": {"roles": {"r": {"bound_audiences": ["vault"]}}}}})

    def test_a_signed_request_logs_in_and_a_tampered_one_is_refused(self):
        akid, secret = aws_sts.user_keys("deploy")
        url, headers, body = sign_sts(akid, secret, "", "us-east-1", time.time())
        r = self.call("POST", "/v1/auth/aws/login", login_body(url, headers, body))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["auth"]["metadata"]["client_arn"],
                         "arn:aws:iam::123456789012:user/deploy")
        headers["Authorization"] = headers["Authorization"][:-1] + (
            "0" if headers["Authorization"][-1] != "0" else "1")
        r = self.call("POST", "/v1/auth/aws/login", login_body(url, headers, body))
        self.assertEqual(r.status, 400)
        self.assertIn("<Code>SignatureDoesNotMatch</Code>", r.json()["errors"][0])

    def test_a_wrong_secret_and_an_unknown_role(self):
        akid, _ = aws_sts.user_keys("deploy")
        url, headers, body = sign_sts(akid, "not-the-secret", "", "us-east-1", time.time())
        r = self.call("POST", "/v1/auth/aws/login", login_body(url, headers, body))
        self.assertIn("The request signature we calculated does not match",
                      r.json()["errors"][0])
        akid, secret = aws_sts.user_keys("deploy")
        url, headers, body = sign_sts(akid, secret, "", "us-east-1", time.time())
        r = self.call("POST", "/v1/auth/aws/login", login_body(url, headers, body, "nope"))
        self.assertEqual(r.json()["errors"], ['entry for role "nope" not found'])

    def test_jwt_expiry_and_key(self):
        good = jwt_keys.sign({"aud": "vault", "exp": time.time() + 60})
        self.assertEqual(self.call("POST", "/v1/auth/jwt/login",
                                   {"role": "r", "jwt": good}).status, 200)
        old = jwt_keys.sign({"aud": "vault", "exp": time.time() - 1})
        r = self.call("POST", "/v1/auth/jwt/login", {"role": "r", "jwt": old})
        self.assertEqual(r.json()["errors"], ["error validating claims: invalid expiration time "
                                              "(exp) claim: token is expired"])
        stranger = jwt_keys.sign({"aud": "vault"}, "other")
        r = self.call("POST", "/v1/auth/jwt/login", {"role": "r", "jwt": stranger})
        self.assertIn("no known key successfully validated", r.json()["errors"][0])


if __name__ == "__main__":
    unittest.main()
