#!/usr/bin/python3
"""Issue 13's lifecycle soak: `templet run` against the Vault emulator's real token life.

Python 3 standard library only; reuses run_live_bench.py's emulator and process plumbing.

  bench/vault_lifecycle_soak.py [--templet build/templet] [--minutes 5]

AppRole tokens with an 8 s TTL and max TTL (so each must be replaced by a new login), database
leases with a 30 s TTL and 60 s max TTL: every lease outlives its parent token, so each token's
death revokes the lease it made (tests/emulators/vault_lifecycle.py, as Vault's
expiration.go RevokeByToken) and templet must have moved the file to the next token's lease
before. Three templates share the secret. Prints, as markdown:

- samples (every 200 ms, each of the 3 files) naming a user Vault no longer has (goal 0);
- logins per token lifetime: for each token that died, the logins made while it was alive
  (goal 1: replaced once, not re-logged-in early or on 403s);
- creds reads per lease needed: creds reads per token (goal 1; one lease per parent token);
- the daemon's CPU % and RSS at the end, and the machine's load average.
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_live_bench import CLK_TCK, Emulator, Setup, proc_cpu_ticks, proc_status  # noqa: E402

ROLE_ID, SECRET_ID = "soak-role-id", "soak-secret-id"
SEED = {"database_mounts": {"database": {"roles": {"app": {"default_ttl": 30, "max_ttl": 60}}}},
        "lease_reap_delay_s": 0,
        "policies": {"app": {"database/creds/app": ["read"]}},
        "approle": {"roles": {"templet": {"role_id": ROLE_ID, "secret_ids": [SECRET_ID],
                                          "token_ttl": 8, "token_max_ttl": 8,
                                          "token_policies": ["app"]}}}}
TEMPLATE = '{{ with secret "database/creds/app" }}{{ .Data.username }}{{ end }}'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--templet", default="build/templet")
    ap.add_argument("--minutes", type=float, default=5)
    a = ap.parse_args()
    workdir = os.environ.get("TMPDIR", "/tmp")
    s = Setup(os.path.abspath(a.templet), workdir)
    s.vault.stop()
    s.vault = Emulator("vault", SEED, s.work)
    try:
        for name, value in (("role_id", ROLE_ID), ("secret_id", SECRET_ID)):
            with open(os.path.join(s.work, name), "w") as f:
                f.write(value + "\n")
        dests = [os.path.join(s.work, "out%d" % i) for i in range(3)]
        cfg = s.config([(TEMPLATE, d) for d in dests],
                       "vault: {auth: {approle: {role_id_file: %s, secret_id_file: %s}}}" %
                       (os.path.join(s.work, "role_id"), os.path.join(s.work, "secret_id")))
        env = s.env()
        del env["VAULT_TOKEN"]
        s.env = lambda: env
        proc = s.start(cfg)
        t0, ticks0 = time.monotonic(), proc_cpu_ticks(proc.pid)
        end = time.monotonic() + 15
        while time.monotonic() < end and not all(os.path.exists(d) for d in dests):
            time.sleep(0.1)
        samples = bad = 0
        end = time.monotonic() + a.minutes * 60
        while time.monotonic() < end:
            live = {l["username"] for l in s.vault.call("GET", "/_emulator/state")
                    ["leases"].values()}
            for d in dests:
                with open(d) as f:
                    user = f.read()
                samples += 1
                bad += user not in live
            time.sleep(0.2)
        cpu = "%.1f" % (100.0 * (proc_cpu_ticks(proc.pid) - ticks0) / CLK_TCK /
                        (time.monotonic() - t0))
        rss = "%.1f" % (proc_status(proc.pid, "VmRSS") / 1024.0)
        logins = [e["time"] for e in s.vault.requests("^/v1/auth/approle/login$", "POST")]
        reads = len(s.vault.requests("^/v1/database/creds/app$", "GET"))
        state = s.vault.call("GET", "/_emulator/state")
        revoked = len(state["revoked_leases"])
        stop = time.time()
        # A token lives 8 s from its login; count the later logins inside that life.
        per_token = [sum(1 for u in logins if t < u < t + 8) for t in logins if t + 8 < stop]
        load = os.getloadavg()
        print("## Vault lifecycle soak (issue 13)\n")
        print("%.1f minutes, 8 s AppRole tokens (max TTL 8 s), 30 s/60 s database leases, "
              "3 templates; load average %.2f %.2f %.2f on %d cores\n"
              % (a.minutes, load[0], load[1], load[2], os.cpu_count()))
        print("| measure | value | goal |\n|---|---:|---:|")
        print("| samples holding a revoked credential | %d of %d | 0 |" % (bad, samples))
        print("| logins per token lifetime (median, max) | %s, %s | 1 |"
              % (statistics.median(per_token) if per_token else "-",
                 max(per_token) if per_token else "-"))
        print("| tokens that died | %d | |" % len(per_token))
        print("| creds reads per token (reads %d, logins %d) | %.2f | 1 |"
              % (reads, len(logins), reads / max(1, len(logins))))
        print("| leases revoked with their token | %d | |" % revoked)
        print("| daemon CPU %%, RSS MiB at the end | %s, %s | |" % (cpu, rss))
        return 0 if bad == 0 else 1
    finally:
        s.stop()


if __name__ == "__main__":
    sys.exit(main())
