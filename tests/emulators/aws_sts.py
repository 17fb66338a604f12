"""An emulated AWS account for the aws iam login: the keys it issues and an STS that answers
sts:GetCallerIdentity as AWS does, checking the SigV4 signature (AWS's "Create a signed AWS API
request" steps), the signing date (15 minutes either way), the credential scope's region and the
session token's expiry. The Vault emulator (vault_auth.py) calls `get_caller_identity` where real
Vault (builtin/credential/aws/path_login.go, submitCallerIdentityRequest) forwards the signed
request to STS; the IMDS emulator (imds.py) issues the instance profile's keys.

Keys derive from ACCOUNT_KEY, so the emulators need share nothing but this module:
    ASIA...  temporary keys; their session token carries the ARN and the expiry, MAC'd
    AKIA...  a user's long-term keys: `python3 aws_sts.py user NAME` prints "AKID SECRET"
"""

import base64
import calendar
import hashlib
import hmac
import json
import sys
import time
import urllib.parse

ACCOUNT = "123456789012"
ACCOUNT_KEY = b"templet-emulated-aws-account-key"
SKEW_S = 15 * 60


def _mac(*parts):
    return hmac.new(ACCOUNT_KEY, "|".join(parts).encode(), hashlib.sha256).digest()


def secret_for(akid):
    return base64.b64encode(_mac("secret", akid)).decode()[:40]


def user_keys(name):
    """Long-term keys of IAM user NAME (at most 10 characters): (akid, secret)."""
    akid = "AKIA" + base64.b32encode(name.encode().ljust(10, b"\0")).decode()
    return akid, secret_for(akid)


def temporary_keys(arn, expires_at, serial):
    """Keys of an assumed role session: (akid, secret, session_token)."""
    akid = "ASIA" + base64.b32encode(_mac("akid", arn, str(serial))[:10]).decode()
    payload = base64.b64encode(json.dumps({"akid": akid, "arn": arn,
                                           "exp": int(expires_at)}).encode()).decode()
    token = payload + "." + base64.b64encode(_mac("token", payload)).decode()
    return akid, secret_for(akid), token


def _error(status, code, message, kind="Sender"):
    body = ('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n'
            '  <Error>\n    <Type>%s</Type>\n    <Code>%s</Code>\n    <Message>%s</Message>\n'
            '  </Error>\n  <RequestId>4f8c2a7e-1b9d-4e0f-9a43-templetemul</RequestId>\n'
            '</ErrorResponse>\n' % (kind, code, message))
    return status, body


def _who(akid, token, now):
    """The ARN behind `akid`, or an (status, body) error."""
    if akid.startswith("AKIA"):
        try:
            name = base64.b32decode(akid[4:]).rstrip(b"\0").decode()
        except (ValueError, UnicodeDecodeError):
            return None, _error(403, "InvalidClientTokenId",
                                "The security token included in the request is invalid.")
        return "arn:aws:iam::%s:user/%s" % (ACCOUNT, name), None
    payload, _, mac = (token or "").partition(".")
    if not token or not hmac.compare_digest(
            mac, base64.b64encode(_mac("token", payload)).decode()):
        return None, _error(403, "InvalidClientTokenId",
                            "The security token included in the request is invalid.")
    info = json.loads(base64.b64decode(payload))
    if info["akid"] != akid:
        return None, _error(403, "InvalidClientTokenId",
                            "The security token included in the request is invalid.")
    if now >= info["exp"]:
        return None, _error(400, "ExpiredToken",
                            "The security token included in the request is expired")
    return info["arn"], None


def _amz(ts):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(ts))


def get_caller_identity(method, url, headers, body, now, region="us-east-1"):
    """(status, XML body) of STS's answer. `headers` maps names (any case) to values; `region`
    is the one the STS endpoint serves."""
    h = {k.lower(): v for k, v in headers.items()}
    auth = h.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return _error(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
    fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(",")
                  if "=" in p)
    cred = fields.get("Credential", "").split("/")
    if len(cred) != 5 or cred[3] != "sts" or cred[4] != "aws4_request":
        return _error(400, "IncompleteSignature", "Credential is malformed")
    akid, day, cred_region = cred[0], cred[1], cred[2]
    if cred_region != region:
        return _error(403, "SignatureDoesNotMatch",
                      "Credential should be scoped to a valid region, not '%s'. " % cred_region)
    date = h.get("x-amz-date", "")
    try:
        signed_at = calendar.timegm(time.strptime(date, "%Y%m%dT%H%M%SZ"))
    except ValueError:
        return _error(403, "IncompleteSignature", "Date must be in ISO-8601 'basic format'.")
    if signed_at < now - SKEW_S:
        return _error(403, "SignatureDoesNotMatch",
                      "Signature expired: %s is now earlier than %s (%s - 15 min.)"
                      % (date, _amz(now - SKEW_S), _amz(now)))
    if signed_at > now + SKEW_S:
        return _error(403, "SignatureDoesNotMatch",
                      "Signature not yet current: %s is still later than %s (%s + 15 min.)"
                      % (date, _amz(now + SKEW_S), _amz(now)))
    arn, error = _who(akid, h.get("x-amz-security-token"), now)
    if error:
        return error
    split = urllib.parse.urlsplit(url)
    names = fields.get("SignedHeaders", "").split(";")
    values = dict(h, host=split.netloc)
    canonical = "\n".join([method, split.path or "/", split.query] +
                          ["%s:%s" % (n, " ".join(values.get(n, "").split())) for n in names] +
                          ["", ";".join(names), hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/sts/aws4_request" % (day, cred_region)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret_for(akid)).encode()
    for part in (day, cred_region, "sts", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    want = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if "host" not in names or not hmac.compare_digest(want, fields.get("Signature", "")):
        return _error(403, "SignatureDoesNotMatch",
                      "The request signature we calculated does not match the signature you "
                      "provided. Check your AWS Secret Access Key and signing method. Consult "
                      "the service documentation for details.")
    if method != "POST" or urllib.parse.parse_qs(body.decode()).get("Action") != \
            ["GetCallerIdentity"]:
        return _error(400, "InvalidAction", "Could not find operation for this request")
    user_id = akid if akid.startswith("AKIA") else "AROAEMULATED:" + arn.rsplit("/", 1)[-1]
    return 200, ('<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n'
                 '  <GetCallerIdentityResult>\n    <Arn>%s</Arn>\n    <UserId>%s</UserId>\n'
                 '    <Account>%s</Account>\n  </GetCallerIdentityResult>\n'
                 '</GetCallerIdentityResponse>\n' % (arn, user_id, ACCOUNT))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "user":
        print("%s %s" % user_keys(sys.argv[2]))
    else:
        sys.exit("usage: aws_sts.py user NAME")
