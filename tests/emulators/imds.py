#!/usr/bin/env python3
"""EC2 instance metadata (IMDSv2) emulator: the instance profile's credentials for templet's aws
iam login. Behaviour follows AWS's "Use IMDSv2" and "Retrieve security credentials from instance
metadata" user guide pages (the AWS SDKs' ec2rolecreds provider is the client side):

    PUT /latest/api/token   header X-aws-ec2-metadata-token-ttl-seconds: 1..21600 -> the token
                            as text, its TTL echoed in the same header; 400 without the header
    GET /latest/meta-data/... with X-aws-ec2-metadata-token: a valid token, else 401 (IMDSv2
                            only: an instance with HttpTokens=required)
    GET /latest/meta-data/iam/security-credentials/        -> the role name
    GET /latest/meta-data/iam/security-credentials/ROLE    -> {"Code": "Success", ...}
    GET /latest/meta-data/instance-id

Credentials (aws_sts.py's temporary keys, so the Vault emulator can check what they sign)
rotate every `rotate_s` seconds when set (AWS rotates them well before they expire), and on a
`{"rotate": true}` seed. Seed: {"role", "instance_id", "credential_ttl_s", "rotate_s",
"expired": true (the credentials handed out are already past their Expiration)}.
"""

import os
import secrets as pysecrets
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import aws_sts  # noqa: E402
from common import Emulator, json_response, rfc3339, run_main, text_response  # noqa: E402

TOKEN_TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"


class ImdsEmulator(Emulator):
    name = "imds"

    def reset_state(self):
        self.role = "app"
        self.instance_id = "i-0abc"
        self.credential_ttl = 6 * 3600
        self.rotate_s = 0
        self.expired = False
        self.serial = 0
        self.started = self.now()
        self.tokens = {}  # token -> expiry

    def seed(self, data):
        self.role = data.get("role", self.role)
        self.instance_id = data.get("instance_id", self.instance_id)
        self.credential_ttl = int(data.get("credential_ttl_s", self.credential_ttl))
        self.rotate_s = int(data.get("rotate_s", self.rotate_s))
        self.expired = bool(data.get("expired", self.expired))
        if data.get("rotate"):
            self.serial += 1
        return None

    def dump_state(self):
        return {"serial": self._serial(), "tokens": len(self.tokens)}

    def _serial(self):
        if not self.rotate_s:
            return self.serial
        return self.serial + int((self.now() - self.started) // self.rotate_s)

    def arn(self):
        return "arn:aws:sts::%s:assumed-role/%s/%s" % (aws_sts.ACCOUNT, self.role,
                                                       self.instance_id)

    def handle(self, req):
        with self.lock:
            now = self.now()
            if req.path == "/latest/api/token":
                if req.method != "PUT":
                    return text_response(405, "")
                try:
                    ttl = int(req.header(TOKEN_TTL_HEADER, ""))
                except ValueError:
                    return text_response(400, "")
                if not 1 <= ttl <= 21600:
                    return text_response(400, "")
                token = "AQAEA" + pysecrets.token_urlsafe(40)
                self.tokens[token] = now + ttl
                self.secrets.record("imds_token", token)
                return text_response(200, token, headers={TOKEN_TTL_HEADER: str(ttl)})
            token = req.header("X-aws-ec2-metadata-token")
            if not token or self.tokens.get(token, 0) <= now:
                return text_response(401, "")
            if req.method != "GET":
                return text_response(405, "")
            base = "/latest/meta-data/iam/security-credentials/"
            if req.path == "/latest/meta-data/instance-id":
                return text_response(200, self.instance_id)
            if req.path in (base, base.rstrip("/")):
                return text_response(200, self.role)
            if req.path == base + self.role:
                serial = self._serial()
                issued = now if not self.rotate_s else self.started + serial * self.rotate_s
                expires = now - 60 if self.expired else issued + self.credential_ttl
                akid, secret, session = aws_sts.temporary_keys(self.arn(), expires, serial)
                self.secrets.record("aws_secret_key", secret)
                self.secrets.record("aws_session_token", session)
                return json_response(200, {
                    "Code": "Success", "LastUpdated": rfc3339(issued), "Type": "AWS-HMAC",
                    "AccessKeyId": akid, "SecretAccessKey": secret, "Token": session,
                    "Expiration": rfc3339(expires)}, pretty=True)
            return text_response(404, "")


if __name__ == "__main__":
    sys.exit(run_main(ImdsEmulator))
