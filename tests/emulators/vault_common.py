"""Shared by the Vault emulator's modules (vault.py and its mixins): Vault's error envelope and
the small formatting rules its handlers use (sdk/helper/parseutil, the humanDuration of
vault/logical_system.go)."""

import random
import re
import string

from common import json_response  # noqa: E402

BASE62 = string.ascii_letters + string.digits
PERMISSION_DENIED = "permission denied"
PERMISSION_DENIED_MULTI = "1 error occurred:\n\t* permission denied\n\n"
SYSTEM_MAX_TTL = 768 * 3600  # 2764800



def rand62(n):
    rng = random.SystemRandom()
    return "".join(rng.choice(BASE62) for _ in range(n))


def multierror(msg):
    return "1 error occurred:\n\t* %s\n\n" % msg


def human_duration(seconds):
    """Vault's humanDuration: Go Duration.String() with trailing 'm0s' / 'h0m' trimmed."""
    seconds = int(seconds)
    if seconds == 0:
        return "0s"
    neg = seconds < 0
    seconds = abs(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    if h:
        out = "%dh%dm%ds" % (h, m, s)
    elif m:
        out = "%dm%ds" % (m, s)
    else:
        out = "%ds" % s
    if out.endswith("m0s"):
        out = out[:-2]
    if out.endswith("h0m"):
        out = out[:-2]
    return ("-" if neg else "") + out


def parse_duration_second(v):
    """parseutil.ParseDurationSecond: int seconds, "3600", "1h", "30m", "10s", "1d"."""
    if v is None or v == "":
        return 0
    if isinstance(v, bool):
        raise ValueError("invalid duration")
    if isinstance(v, (int, float)):
        return int(v)
    s = str(v).strip()
    if re.fullmatch(r"-?\d+", s):
        return int(s)
    total = 0.0
    units = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}
    pos = 0
    for m in re.finditer(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h|d)", s):
        if m.start() != pos:
            raise ValueError("invalid duration %r" % s)
        total += float(m.group(1)) * units[m.group(2)]
        pos = m.end()
    if pos != len(s) or pos == 0:
        raise ValueError("invalid duration %r" % s)
    return int(total)


class Reply(Exception):
    def __init__(self, response):
        super().__init__()
        self.response = response


def err(status, *msgs):
    return Reply(json_response(status, {"errors": list(msgs)}))
