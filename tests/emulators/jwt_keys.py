"""RS256 JWTs for the metadata emulators (which issue them) and the Vault emulator (which checks
them): the test issuer's RSA key is testdata/jwt_issuer_key.pem (a key made for these tests and
nothing else; testdata/jwt_other_key.pem is a stranger's). openssl reads the keys once; the
PKCS#1 v1.5 signature itself (RFC 8017 8.2, what RS256 is, RFC 7518 3.3) is computed here.

    python3 tests/emulators/jwt_keys.py sign '{"aud": "x", "exp": 123}' [--key other]

prints a JWT signed with the issuer's (or the other) key, for tests that write token files.
"""

import base64
import hashlib
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = {"issuer": os.path.join(HERE, "testdata", "jwt_issuer_key.pem"),
        "other": os.path.join(HERE, "testdata", "jwt_other_key.pem")}
# DER prefix of DigestInfo for SHA-256 (RFC 8017 9.2, note 1).
SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")
_cache = {}


def _key(name):
    if name not in _cache:
        text = subprocess.run(["openssl", "rsa", "-in", KEYS[name], "-noout", "-text"],
                              capture_output=True, text=True, check=True).stdout

        def num(label):
            m = re.search(r"^%s:\s*\n((?:\s+[0-9a-f:]+\n)+)" % label, text, re.M)
            return int(re.sub(r"[\s:]", "", m.group(1)), 16)
        e = int(re.search(r"^publicExponent: (\d+)", text, re.M).group(1))
        _cache[name] = (num("modulus"), e, num("privateExponent"))
    return _cache[name]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _encoded_digest(message, n):
    k = (n.bit_length() + 7) // 8
    t = SHA256_PREFIX + hashlib.sha256(message).digest()
    return b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t


def sign(claims, key="issuer", kid="templet-test"):
    n, _, d = _key(key)
    header = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": kid}).encode())
    payload = b64url(json.dumps(claims).encode())
    signing_input = (header + "." + payload).encode()
    m = int.from_bytes(_encoded_digest(signing_input, n), "big")
    sig = pow(m, d, n).to_bytes((n.bit_length() + 7) // 8, "big")
    return header + "." + payload + "." + b64url(sig)


def verify(token, key="issuer"):
    """The claims of `token` when the issuer's key signed it, else None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    n, e, _ = _key(key)
    try:
        header = json.loads(unb64url(parts[0]))
        sig = int.from_bytes(unb64url(parts[2]), "big")
        claims = json.loads(unb64url(parts[1]))
    except ValueError:
        return None
    if header.get("alg") != "RS256" or sig >= n:
        return None
    k = (n.bit_length() + 7) // 8
    got = pow(sig, e, n).to_bytes(k, "big")
    if got != _encoded_digest((parts[0] + "." + parts[1]).encode(), n):
        return None
    return claims


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "sign":
        which = sys.argv[4] if len(sys.argv) >= 5 and sys.argv[3] == "--key" else "issuer"
        print(sign(json.loads(sys.argv[2]), which))
    else:
        sys.exit("usage: jwt_keys.py sign CLAIMS_JSON [--key other]")
