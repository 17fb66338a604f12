"""The Vault emulator's machine login methods (issue #16): `POST auth/<mount>/login` for mounts of
type aws (iam), gcp (gce), azure, kubernetes and jwt, each verifying what it is sent as the real
plugin does before a token is minted:

    aws         builtin/credential/aws/path_login.go (pathLoginUpdateIam): decode the base64
                method, URL, body and headers; check the X-Vault-AWS-IAM-Server-ID header when
                the mount's config names one (present, equal, signed); replay the request to STS
                (aws_sts.py recomputes the SigV4 signature with the account's keys); map the
                caller's ARN to its IAM principal and check the role's bound_iam_principal_arn.
    gcp         vault-plugin-auth-gcp (gce login): the JWT's signature, expiry, audience ending
                in vault/<role>, and the role's bound_service_accounts / bound_projects.
    azure       vault-plugin-auth-azure: the JWT's signature, expiry and audience (the mount's
                resource), and the role's bound_subscription_ids / bound_resource_groups.
    kubernetes  vault-plugin-auth-kubernetes: the service account JWT (its TokenReview is the
                signature and expiry check here) and bound_service_account_names/namespaces.
    jwt         vault-plugin-auth-jwt: signature, expiry, bound_audiences, bound_subject.
    cert        builtin/credential/cert/path_login.go: the TLS client certificate the listener
                verified (common.py, TEMPLET_EMULATOR_TLS_CLIENT_CA), matched against the named
                role's allowed_common_names.

JWTs are RS256 with jwt_keys.py's issuer key. Seed (under "auth_methods" in vault.py's seed):
    {"aws": {"type": "aws", "sts_region": "us-east-1", "iam_server_id_header_value": "",
             "roles": {"redash": {"bound_iam_principal_arn": ["arn:aws:iam::...:role/app"],
                                  "token_ttl": 3600, "token_max_ttl": 0,
                                  "token_policies": ["app"]}}}, ...}
The mount's name is the key; "type" defaults to it.
"""

import base64
import fnmatch
import json
import re

import aws_sts
import jwt_keys
from common import json_response

ROLE_KEYS = ("token_ttl", "token_max_ttl", "token_policies", "token_period")


class Refused(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def _b64(body, key):
    v = body.get(key)
    if not v:
        raise Refused(400, "missing %s" % key)
    try:
        return base64.b64decode(v)
    except ValueError:
        raise Refused(400, "failed to base64 decode %s" % key)


class VaultAuthMethods:
    def __init__(self):
        self.mounts = {}

    def seed(self, data):
        for mount, conf in (data or {}).items():
            conf = dict(conf)
            conf.setdefault("type", mount)
            conf.setdefault("roles", {})
            self.mounts[mount.strip("/")] = conf

    def serves(self, path):
        m = re.fullmatch(r"auth/(.+)/login", path)
        return bool(m and m.group(1) in self.mounts)

    def login(self, em, req, path):
        mount = path[len("auth/"):-len("/login")]
        conf = self.mounts[mount]
        try:
            try:
                body = req.json() if req.body.strip() else {}
            except ValueError:
                raise Refused(400, "failed to parse JSON input")
            handler = getattr(self, "_" + conf["type"])
            if conf["type"] == "cert":
                role_name, role, meta = handler(conf, body, getattr(req, "peer_cert", None))
            else:
                role_name, role, meta = handler(em, conf, body)
        except Refused as r:
            return json_response(r.status, {"errors": [r.message]})
        spec = {"policies": role.get("token_policies") or ["default"],
                "ttl": role.get("token_ttl", 3600), "explicit_max_ttl": role.get("token_max_ttl", 0),
                "period": role.get("token_period", 0), "renewable": True,
                "display_name": "%s-%s" % (mount, role_name), "meta": meta,
                "path": "auth/%s/login" % mount}
        t = em._add_token(spec)
        return em.ok(auth=em._auth_block(t, metadata=meta), mount_type=conf["type"])

    # ------------------------------------------------------------------ aws iam
    def _aws(self, em, conf, body):
        method = body.get("iam_http_request_method")
        if not method:
            raise Refused(400, "missing iam_http_request_method")
        if method != "POST":
            raise Refused(400, "invalid iam_http_request_method; currently only 'POST' is "
                               "supported")
        url = _b64(body, "iam_request_url").decode()
        request_body = _b64(body, "iam_request_body")
        try:
            headers = json.loads(_b64(body, "iam_request_headers"))
        except ValueError:
            raise Refused(400, "failed to JSON decode iam_request_headers")
        em.secrets.record("aws_signed_headers", body["iam_request_headers"])
        flat = {k: (v[0] if isinstance(v, list) and v else v) for k, v in headers.items()}
        for k, v in flat.items():
            if k.lower() == "authorization":
                sig = re.search(r"Signature=([0-9a-f]+)", v)
                if sig:
                    em.secrets.record("aws_signature", sig.group(1))
            if k.lower() == "x-amz-security-token":
                em.secrets.record("aws_session_token", v)
        expected = conf.get("iam_server_id_header_value", "")
        if expected:
            got = next((v for k, v in flat.items() if k.lower() == "x-vault-aws-iam-server-id"),
                       None)
            auth = next((v for k, v in flat.items() if k.lower() == "authorization"), "")
            signed = re.search(r"SignedHeaders=([^,]*)", auth)
            if got is None:
                raise Refused(400, "error validating X-Vault-AWS-IAM-Server-ID header: missing "
                                   "X-Vault-AWS-IAM-Server-ID header")
            if got != expected:
                raise Refused(400, "error validating X-Vault-AWS-IAM-Server-ID header: expected "
                                   "%r but got %r" % (expected, got))
            if not signed or "x-vault-aws-iam-server-id" not in signed.group(1).split(";"):
                raise Refused(400, "error validating X-Vault-AWS-IAM-Server-ID header: vault "
                                   "header wasn't signed")
        status, xml = aws_sts.get_caller_identity(method, url, flat, request_body, em.now(),
                                                  conf.get("sts_region", "us-east-1"))
        if status != 200:
            raise Refused(400, "error making upstream request: received error code %d from STS: "
                               "%s" % (status, xml))
        arn = re.search(r"<Arn>([^<]+)</Arn>", xml).group(1)
        m = re.fullmatch(r"arn:aws:(?:sts|iam)::(\d+):(assumed-role|user)/([^/]+)(?:/(.+))?", arn)
        account, kind, name = m.group(1), m.group(2), m.group(3)
        principal = "arn:aws:iam::%s:%s/%s" % (account, "role" if kind == "assumed-role"
                                               else "user", name)
        role_name = body.get("role") or name
        role = conf["roles"].get(role_name)
        if role is None:
            raise Refused(400, "entry for role %s not found" % json.dumps(role_name))
        if role.get("auth_type", "iam") != "iam":
            raise Refused(400, "auth method iam not allowed for role %s" % role_name)
        bound = role.get("bound_iam_principal_arn") or []
        if bound and not any(fnmatch.fnmatchcase(principal, b) for b in bound):
            raise Refused(400, "IAM Principal %s does not belong to the role %s"
                          % (json.dumps(arn), json.dumps(role_name)))
        return role_name, role, {"account_id": account, "auth_type": "iam",
                                 "canonical_arn": principal, "client_arn": arn,
                                 "role": role_name}

    # ------------------------------------------------------------------ JWT-based
    @staticmethod
    def _jwt_claims(em, token, error_prefix="error validating token"):
        if not token:
            raise Refused(400, "missing jwt")
        em.secrets.record("jwt", token)
        claims = jwt_keys.verify(token)
        if claims is None:
            raise Refused(400, "%s: failed to verify signature: no known key successfully "
                               "validated the token signature" % error_prefix)
        if "exp" in claims and em.now() >= claims["exp"]:
            raise Refused(400, "error validating claims: invalid expiration time (exp) claim: "
                               "token is expired")
        return claims

    @staticmethod
    def _role(conf, body, missing):
        name = body.get("role") or ""
        role = conf["roles"].get(name)
        if role is None:
            raise Refused(400, missing % json.dumps(name))
        return name, role

    def _gcp(self, em, conf, body):
        name, role = self._role(conf, body, "role %s not found")
        claims = self._jwt_claims(em, body.get("jwt"))
        aud = claims.get("aud", "")
        if not aud.endswith("vault/" + name):
            raise Refused(400, "audience claim found in JWT (%s) does not match expected "
                               "audience (vault/%s)" % (aud, name))
        email = claims.get("email", "")
        ce = (claims.get("google") or {}).get("compute_engine")
        if ce is None:
            raise Refused(400, "instance metadata is missing from the JWT: was it requested "
                               "with format=full?")
        if role.get("bound_service_accounts") and email not in role["bound_service_accounts"]:
            raise Refused(400, "service account %s is not authorized for role" % email)
        if role.get("bound_projects") and ce["project_id"] not in role["bound_projects"]:
            raise Refused(400, "instance %s is not in project %s" % (ce["instance_name"],
                                                                    role["bound_projects"][0]))
        return name, role, {"role": name, "service_account_email": email,
                            "project_id": ce["project_id"], "zone": ce["zone"],
                            "instance_name": ce["instance_name"]}

    def _azure(self, em, conf, body):
        name, role = self._role(conf, body, "invalid role name %s")
        claims = self._jwt_claims(em, body.get("jwt"))
        if claims.get("aud") != conf.get("resource", "https://management.azure.com/"):
            raise Refused(400, "error validating claims: invalid audience (aud) claim: audience "
                               "claim does not match any expected audience")
        sub, rg, vm = body.get("subscription_id"), body.get("resource_group_name"), \
            body.get("vm_name") or body.get("vmss_name")
        mirid = ("/subscriptions/%s/resourcegroups/%s/providers/Microsoft.Compute/"
                 "virtualMachines/%s" % (sub, rg, vm))
        if claims.get("xms_mirid", "").lower() != mirid.lower():
            raise Refused(400, "token object id does not match expected identities")
        if role.get("bound_subscription_ids") and sub not in role["bound_subscription_ids"]:
            raise Refused(400, "subscription not authorized")
        if role.get("bound_resource_groups") and rg not in role["bound_resource_groups"]:
            raise Refused(400, "resource group not authorized")
        return name, role, {"role": name, "subscription_id": sub, "resource_group_name": rg,
                            "vm_name": vm}

    def _kubernetes(self, em, conf, body):
        name, role = self._role(conf, body, "invalid role name %s")
        claims = self._jwt_claims(em, body.get("jwt"), "lookup failed")
        sa = claims.get("kubernetes.io/serviceaccount/service-account.name", "")
        ns = claims.get("kubernetes.io/serviceaccount/namespace", "")
        names = role.get("bound_service_account_names") or ["*"]
        namespaces = role.get("bound_service_account_namespaces") or ["*"]
        if "*" not in names and sa not in names:
            raise Refused(403, "service account name not authorized")
        if "*" not in namespaces and ns not in namespaces:
            raise Refused(403, "namespace not authorized")
        return name, role, {"role": name, "service_account_name": sa,
                            "service_account_namespace": ns}

    def _jwt(self, em, conf, body):
        name, role = self._role(conf, body, "role %s could not be found")
        claims = self._jwt_claims(em, body.get("jwt"))
        aud = claims.get("aud", [])
        aud = aud if isinstance(aud, list) else [aud]
        bound = role.get("bound_audiences") or []
        if bound and not set(aud) & set(bound):
            raise Refused(400, "error validating claims: invalid audience (aud) claim: audience "
                               "claim does not match any expected audience")
        if role.get("bound_subject") and claims.get("sub") != role["bound_subject"]:
            raise Refused(400, "error validating claims: invalid subject (sub) claim: claim "
                               "\"%s\" does not match the expected subject" % claims.get("sub"))
        return name, role, {"role": name}

    # ------------------------------------------------------------------ cert
    def _cert(self, conf, body, peer):
        if not peer:
            raise Refused(400, "invalid certificate or no client certificate supplied")
        cn = next((v for rdn in peer.get("subject", ()) for k, v in rdn if k == "commonName"), "")
        name = body.get("name", "")
        roles = [(name, conf["roles"][name])] if name in conf["roles"] else \
            ([] if name else sorted(conf["roles"].items()))
        for rname, role in roles:
            allowed = role.get("allowed_common_names") or ["*"]
            if any(fnmatch.fnmatchcase(cn, a) for a in allowed):
                return rname, role, {"cert_name": rname, "common_name": cn}
        raise Refused(400, "no chain matching all constraints could be found for this login "
                           "certificate")
