#!/usr/bin/env python3
"""GCE metadata server emulator: the instance identity token for templet's gcp login. Behaviour
follows Google's "Verifying the identity of instances" and "About VM metadata" pages (the
client side is hashicorp/vault command/agentproxyshared/auth/gcp/gcp.go):

    GET /computeMetadata/v1/instance/service-accounts/ACCOUNT/identity?audience=A[&format=full]
        -> a JWT (RS256, jwt_keys.py's issuer key): iss https://accounts.google.com, aud A,
           sub, email, iat, exp = iat + 1 h; with format=full also google.compute_engine
    Every request needs `Metadata-Flavor: Google` (else 403), and every answer carries it.

Seed: {"project_id", "instance_name", "zone", "email", "jwt_ttl_s"}.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import jwt_keys  # noqa: E402
from common import Emulator, run_main, text_response  # noqa: E402

MISSING_FLAVOR = ("Missing required header \"Metadata-Flavor\": \"Google\"\n")


class GcpMetadataEmulator(Emulator):
    name = "gcp_metadata"

    def reset_state(self):
        self.project_id = "my-project"
        self.instance_name = "redash-1"
        self.instance_id = "4317921345678901234"
        self.zone = "europe-west1-b"
        self.email = "redash@my-project.iam.gserviceaccount.com"
        self.jwt_ttl = 3600

    def seed(self, data):
        for k in ("project_id", "instance_name", "zone", "email"):
            if k in data:
                setattr(self, k, data[k])
        self.jwt_ttl = int(data.get("jwt_ttl_s", self.jwt_ttl))
        return None

    def handle(self, req):
        flavor = {"Metadata-Flavor": "Google"}
        if req.header("Metadata-Flavor") != "Google":
            return text_response(403, MISSING_FLAVOR, headers=flavor)
        prefix = "/computeMetadata/v1/instance/service-accounts/"
        if not (req.path.startswith(prefix) and req.path.endswith("/identity")):
            return text_response(404, "Not Found\n", headers=flavor)
        account = req.path[len(prefix):-len("/identity")]
        if account not in ("default", self.email):
            return text_response(404, "Not Found\n", headers=flavor)
        audience = req.arg("audience", "")
        if not audience:
            return text_response(400, "non-empty audience parameter required\n", headers=flavor)
        with self.lock:
            now = int(self.now())
            claims = {"iss": "https://accounts.google.com", "aud": audience,
                      "azp": "104857601234567890123", "sub": "104857601234567890123",
                      "email": self.email, "email_verified": True, "iat": now,
                      "exp": now + self.jwt_ttl}
            if req.arg("format") == "full":
                claims["google"] = {"compute_engine": {
                    "project_id": self.project_id, "project_number": 271828182845,
                    "zone": self.zone, "instance_id": self.instance_id,
                    "instance_name": self.instance_name,
                    "instance_creation_timestamp": now - 86400}}
            token = jwt_keys.sign(claims)
            self.secrets.record("jwt", token)
        return text_response(200, token, headers=flavor, content_type="application/text")


if __name__ == "__main__":
    sys.exit(run_main(GcpMetadataEmulator))
