"""The Vault emulator's PKI secrets engine (a mixin of VaultEmulator in vault.py): a root CA made
when the mount is, and real X.509 certificates from `pki/issue/ROLE`, so tests can parse what
templet writes with openssl.

What real Vault does, and where its source says so (hashicorp/vault, builtin/logical/pki/):
- path_issue_sign.go (pathIssueSignCert): the answer's data is `certificate`, `issuing_ca`,
  `ca_chain`, `serial_number`, `expiration` (Unix seconds of notAfter), `private_key` and
  `private_key_type`; `format` is pem (default), der (base64 DER) or pem_bundle (the key, the
  certificate and the chain in `certificate`). Without the role's generate_lease the answer has
  no Secret: lease_id "", lease_duration 0, renewable false. With it, a lease whose TTL runs to
  notAfter, not renewable, revoking the certificate when revoked.
- issuing/issue_common.go (GetCertificateNotAfter, ValidateCommonName, validateNames): ttl, else
  the role's ttl, else the mount's default; capped at the role's max_ttl (else the mount's) with
  the warning `TTL "…" is longer than permitted maxTTL "…", so maxTTL is being used`; notAfter
  past the CA's fails. notBefore is backdated by not_before_duration (30 s). The common name
  and alt_names must pass allow_any_name, allow_localhost, allowed_domains with
  allow_bare_domains / allow_subdomains / allow_glob_domains; ip_sans need allow_ip_sans. The
  common name is also a DNS SAN unless exclude_cn_from_sans.
- path_roles.go: PUT/GET/LIST pki/roles/NAME, with Vault's defaults (key_type rsa, key_bits 2048,
  allow_localhost, allow_ip_sans, server_flag, client_flag, not_before_duration 30s).
- path_fetch.go: GET pki/ca/pem (the CA's PEM, raw) and pki/cert/ca.
PEM strings are trimmed of their final newline, as certutil's ToCertBundle gives them.

Seed key `pki_mounts`: {"pki": {"common_name": "...", "default_ttl": "768h", "max_ttl": "...",
"roles": {"web": {role fields as PUT pki/roles takes them}}}}. `/_emulator/state` has, per mount,
`issued` (how many certificates were issued), the serials, `certificates` (serial, common name
and expiration of each) and the revoked serials.
Needs python3-cryptography (Debian); without it the engine answers 500 and its tests skip.
"""

import base64
import datetime
import fnmatch
import ipaddress
import re

from common import empty_response, format_go_duration, text_response  # noqa: E402
from vault_common import err, parse_duration_second, rand62  # noqa: E402

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    HAVE_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - the tests skip
    HAVE_CRYPTOGRAPHY = False

NOT_BEFORE_DURATION = 30  # path_roles.go: not_before_duration defaults to 30s
CA_TTL = 10 * 365 * 86400
FORMAT_ERROR = 'the "format" path parameter must be "pem", "der", or "pem_bundle"'
CN_REQUIRED = ('the common_name field is required, or must be provided in a CSR with '
               '"use_csr_common_name" set to true, unless "require_cn" is set to false')

ROLE_DEFAULTS = {
    "ttl": 0, "max_ttl": 0, "allow_localhost": True, "allowed_domains": [],
    "allow_bare_domains": False, "allow_subdomains": False, "allow_glob_domains": False,
    "allow_any_name": False, "enforce_hostnames": True, "allow_ip_sans": True,
    "server_flag": True, "client_flag": True, "key_type": "rsa", "key_bits": 0,
    "generate_lease": False, "no_store": False, "require_cn": True,
    "not_before_duration": NOT_BEFORE_DURATION, "organization": [], "ou": [],
}
BOOL_FIELDS = [k for k, v in ROLE_DEFAULTS.items() if isinstance(v, bool)]
LIST_FIELDS = ("allowed_domains", "organization", "ou")
DURATION_FIELDS = ("ttl", "max_ttl", "not_before_duration")


def _pem(obj_bytes):
    return obj_bytes.decode().strip()


def _dt(ts):
    return datetime.datetime.fromtimestamp(int(ts), datetime.timezone.utc)


def _serial_text(n):
    h = "%040x" % n
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


def _bool(v):
    if isinstance(v, str):
        return v.strip().lower() in ("1", "t", "true")
    return bool(v)


def _list(v):
    if v is None:
        return []
    if isinstance(v, str):
        return [s.strip() for s in v.split(",") if s.strip()]
    return [str(s) for s in v]


def _new_key(key_type, bits):
    if key_type == "ec":
        curve = {224: ec.SECP224R1(), 384: ec.SECP384R1(), 521: ec.SECP521R1()}.get(
            bits, ec.SECP256R1())
        return ec.generate_private_key(curve)
    return rsa.generate_private_key(public_exponent=65537, key_size=bits or 2048)


class PkiMount:
    """One PKI mount: its CA, roles and what it issued."""

    def __init__(self, path, common_name, now):
        self.path = path
        self.ca_key = _new_key("rsa", 2048)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        ski = x509.SubjectKeyIdentifier.from_public_key(self.ca_key.public_key())
        self.ca_cert = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(self.ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_dt(now - NOT_BEFORE_DURATION))
            .not_valid_after(_dt(int(now) + CA_TTL))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .add_extension(ski, critical=False)
            .sign(self.ca_key, hashes.SHA256()))
        self.ca_pem = _pem(self.ca_cert.public_bytes(serialization.Encoding.PEM))
        self.ca_not_after = int(now) + CA_TTL
        self.roles = {}
        self.issued = 0
        self.serials = []
        self.certificates = []  # {serial_number, common_name, expiration} per issue
        self.revoked = []

    def dump(self):
        return {"issued": self.issued, "serials": list(self.serials),
                "certificates": list(self.certificates),
                "revoked": list(self.revoked), "roles": self.roles, "ca": self.ca_pem}


def role_from(body, parse_duration):
    role = dict(ROLE_DEFAULTS)
    for k, v in (body or {}).items():
        if k in BOOL_FIELDS:
            role[k] = _bool(v)
        elif k in LIST_FIELDS:
            role[k] = _list(v)
        elif k in DURATION_FIELDS:
            role[k] = parse_duration(v)
        elif k == "key_bits":
            role[k] = int(v)
        else:
            role[k] = v
    return role


def _name_allowed(role, name):
    """issue_common.go validateNames, for DNS names (no emails, no CSR)."""
    if role["allow_any_name"]:
        return True
    if role["allow_localhost"] and name in ("localhost", "localdomain"):
        return True
    if role["enforce_hostnames"] and not re.fullmatch(
            r"(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)*"
            r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.?", name):
        return False
    for d in role["allowed_domains"]:
        if role["allow_bare_domains"] and name == d:
            return True
        if role["allow_subdomains"] and name.endswith("." + d) and name != "." + d:
            return True
        if role["allow_glob_domains"] and "*" in d and fnmatch.fnmatchcase(name, d):
            return True
    return False


class PkiMixin:
    """Needs from VaultEmulator: mounts, _mount, leases, secrets, now, ok, system_max_ttl."""

    def reset_pki(self):
        self.pki = {}

    def seed_pki(self, data):
        for path, conf in (data.get("pki_mounts") or {}).items():
            conf = conf or {}
            p = path.strip("/") + "/"
            m = self.mounts.get(p)
            if not m or m["type"] != "pki":
                m = self._mount(p, "pki", None, conf=conf)
            if p not in self.pki:
                if not HAVE_CRYPTOGRAPHY:
                    raise ValueError("the PKI engine needs python3-cryptography")
                self.pki[p] = PkiMount(p, conf.get("common_name", "templet emulator root CA"),
                                       self.now())
            for rname, rconf in (conf.get("roles") or {}).items():
                self.pki[p].roles[rname] = role_from(rconf, parse_duration_second)

    def dump_pki(self):
        return {p: e.dump() for p, e in self.pki.items()}

    def pki_revoked(self, lease):
        """A PKI lease revoked (sys/leases/revoke, or with its token) revokes its certificate."""
        e = self.pki.get(lease.get("mount"))
        if e is not None and lease.get("pki_serial"):
            e.revoked.append(lease["pki_serial"])

    def _pki(self, req, tok, m, op, rel):
        e = self.pki.get(m["path"])
        if e is None:
            raise err(500, "the PKI engine needs python3-cryptography")
        if rel.startswith("issue/") and op == "PUT":
            return self._pki_issue(req, tok, m, e, rel[len("issue/"):])
        if rel.startswith("roles/") and op == "PUT":
            e.roles[rel[len("roles/"):]] = role_from(self._pki_body(req), parse_duration_second)
            return empty_response(204)
        if rel.startswith("roles/") and op == "GET":
            role = e.roles.get(rel[len("roles/"):])
            if role is None:
                raise err(404)
            return self.ok(data=role, mount_type="pki")
        if rel in ("roles", "roles/") and op == "LIST":
            if not e.roles:
                raise err(404)
            return self.ok(data={"keys": sorted(e.roles)}, mount_type="pki")
        if rel == "ca/pem" and op == "GET":
            return text_response(200, e.ca_pem, content_type="application/pem-certificate-chain")
        if rel == "cert/ca" and op == "GET":
            return self.ok(data={"certificate": e.ca_pem, "revocation_time": 0},
                           mount_type="pki")
        raise err(404, "no handler for route \"%s%s\". route entry not found."
                             % (m["path"], rel))

    def _pki_body(self, req):
        try:
            body = req.json() if req.body.strip() else {}
        except ValueError:
            raise err(400, "failed to parse JSON input")
        return body if isinstance(body, dict) else {}

    def _pki_issue(self, req, tok, m, e, rname):
        role = e.roles.get(rname)
        if role is None:
            raise err(400, "unknown role: %s" % rname)
        body = self._pki_body(req)
        fmt = str(body.get("format") or "pem")
        if fmt not in ("pem", "der", "pem_bundle"):
            raise err(400, FORMAT_ERROR)
        cn = str(body.get("common_name") or "").strip()
        if not cn and role["require_cn"]:
            raise err(400, CN_REQUIRED)
        if cn and not _name_allowed(role, cn):
            raise err(400, "common name %s not allowed by this role" % cn)
        alt = _list(body.get("alt_names"))
        for name in alt:
            if not _name_allowed(role, name):
                raise err(400, "subject alternate name %s not allowed by this role"
                                     % name)
        ips = _list(body.get("ip_sans"))
        if ips and not role["allow_ip_sans"]:
            raise err(400, "IP Subject Alternative Names are not allowed in this "
                                 "role, but was provided %s" % ips)
        try:
            ip_values = [ipaddress.ip_address(s) for s in ips]
        except ValueError as exc:
            raise err(400, "the value %r is not a valid IP address" % str(exc))
        try:
            ttl = parse_duration_second(body.get("ttl"))
        except ValueError as exc:
            raise err(400, str(exc))
        warnings = []
        if ttl == 0:
            ttl = role["ttl"] or m["default_ttl"] or self.system_max_ttl
        max_ttl = role["max_ttl"] or m["max_ttl"] or self.system_max_ttl
        if ttl > max_ttl:
            warnings.append('TTL "%s" is longer than permitted maxTTL "%s", so maxTTL is being '
                            'used' % (format_go_duration(ttl), format_go_duration(max_ttl)))
            ttl = max_ttl
        now = self.now()
        not_after = int(now) + int(ttl)
        ca_after = e.ca_not_after
        if not_after > ca_after:
            raise err(400, "cannot satisfy request, as TTL would result in notAfter "
                                 "of %s that is beyond the expiration of the CA certificate "
                                 "at %s" % (_dt(not_after).isoformat(), _dt(ca_after)
                                            .isoformat()))
        key = _new_key(role["key_type"], role["key_bits"])
        names = [] if not cn or _bool(body.get("exclude_cn_from_sans")) else [cn]
        names += [n for n in alt if n not in names]
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else []
        attrs = [x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, o) for o in role["ou"]] + \
            [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in role["organization"]] + \
            attrs
        serial = x509.random_serial_number()
        usages = []
        if role["server_flag"]:
            usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
        if role["client_flag"]:
            usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
        b = (x509.CertificateBuilder().subject_name(x509.Name(attrs))
             .issuer_name(e.ca_cert.subject).public_key(key.public_key()).serial_number(serial)
             .not_valid_before(_dt(now - role["not_before_duration"]))
             .not_valid_after(_dt(not_after))
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(x509.KeyUsage(True, False, True, False, True, False, False, False,
                                          False), critical=True)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                 e.ca_key.public_key()), critical=False))
        if usages:
            b = b.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        if names or ip_values:
            b = b.add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(n) for n in names] + [x509.IPAddress(i) for i in ip_values]),
                critical=False)
        cert = b.sign(e.ca_key, hashes.SHA256())
        pkcs8 = body.get("private_key_format") == "pkcs8"
        key_format = serialization.PrivateFormat.PKCS8 if pkcs8 else \
            serialization.PrivateFormat.TraditionalOpenSSL
        key_pem = _pem(key.private_bytes(serialization.Encoding.PEM, key_format,
                                         serialization.NoEncryption()))
        cert_pem = _pem(cert.public_bytes(serialization.Encoding.PEM))
        data = {"expiration": not_after, "serial_number": _serial_text(serial),
                "private_key_type": "ec" if role["key_type"] == "ec" else "rsa"}
        if fmt == "der":
            der_key = key.private_bytes(serialization.Encoding.DER, key_format,
                                        serialization.NoEncryption())
            data.update({"certificate": base64.b64encode(cert.public_bytes(
                serialization.Encoding.DER)).decode(),
                "issuing_ca": base64.b64encode(e.ca_cert.public_bytes(
                    serialization.Encoding.DER)).decode(),
                "private_key": base64.b64encode(der_key).decode()})
            data["ca_chain"] = [data["issuing_ca"]]
        else:
            data.update({"certificate": cert_pem if fmt == "pem" else
                         "\n".join([key_pem, cert_pem, e.ca_pem]),
                         "issuing_ca": e.ca_pem, "ca_chain": [e.ca_pem],
                         "private_key": key_pem})
        self.secrets.record("pki_private_key", key_pem)
        # A key leaks as well through one of its lines (a diff shows lines), except a line that
        # is public: RSA keys hold the modulus, EC keys end with the public point.
        public = "".join(
            _pem(key.public_key().public_bytes(
                serialization.Encoding.PEM,
                serialization.PublicFormat.SubjectPublicKeyInfo)).splitlines()[1:-1]) + \
            "".join(cert_pem.splitlines()[1:-1])
        for line in key_pem.splitlines():
            if not line.startswith("-----") and line not in public:
                self.secrets.record("pki_private_key", line)
        self.secrets.record("pki_certificate", cert_pem)
        e.issued += 1
        e.serials.append(data["serial_number"])
        e.certificates.append({"serial_number": data["serial_number"], "common_name": cn,
                               "expiration": not_after})
        lease_id, lease_ttl = "", 0
        if role["generate_lease"]:
            lease_id = "%sissue/%s/%s" % (m["path"], rname, rand62(24))
            lease_ttl = int(not_after - now)
            self.secrets.record("lease_id", lease_id)
            self.leases[lease_id] = {
                "lease_id": lease_id, "mount": m["path"], "role": rname, "issue_time": now,
                "expire_time": now + lease_ttl, "max_expire": now + lease_ttl,
                "last_renewal_time": None, "renewable": False, "duration": lease_ttl,
                "token_accessor": tok["accessor"], "pki_serial": data["serial_number"]}
        return self.ok(data=data, lease_id=lease_id, renewable=False, lease_duration=lease_ttl,
                       warnings=warnings or None, mount_type="pki")
