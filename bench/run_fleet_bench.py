#!/usr/bin/python3
"""Fleet benchmarks (issue 19): three `templet run` daemons with fleet.mode leader against one
Consul, Vault and Redash emulator set. Python 3 standard library only; prints markdown.

  bench/run_fleet_bench.py [--templet build/templet] [--only NAME,...] [--kills 20]
                           [--ttl 2s] [--lock-delay 2s] [--idle-ttl 10s] [--idle-seconds 60]

Benchmarks (NAME):
  takeover  --kills times: SIGKILL the leader, time until the Redash datasource holds another
            node's own credential (goal: max <= lock_delay + 2 x session_ttl + 5 s), then start
            the killed node again as a follower. Median and max.
  idle      The fleet idle for --idle-seconds with session_ttl --idle-ttl (10 s): Consul
            requests per node-minute, the fleet's own (sessions, lock keys) and all of them
            (goal: <= 6 for the fleet's, no loops).
  writes    Writes to Redash per rotation across the fleet: a Consul key every node renders
            changes 5 times (all three re-render and plan at once), and the leader's lease
            rotating (role TTL 6 s, max 12 s) for 40 s (goal: exactly one write each).
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_live_bench import Emulator  # noqa: E402

NODES = ["web-1", "web-2", "web-3"]
TEMPLATE = """managed_datasources:
{{- with secret "database/creds/%s" }}
  - name: "App QA"
    type: pg
    options:
      host: {{ keyOrDefault "app/host" "db" | toJSON }}
      port: 5432
      dbname: "app"
      user: {{ .Data.username | toJSON }}
      password: {{ .Data.password | toJSON }}
{{- end }}
"""


def seconds(s):
    return float(s[:-2]) / 1000 if s.endswith("ms") else float(s.rstrip("s"))


class Fleet:
    def __init__(self, templet, work, ttl, lock_delay, role="readonly"):
        self.templet, self.work = templet, work
        self.ttl, self.lock_delay, self.role = ttl, lock_delay, role
        self.vault = Emulator("vault", {"database_mounts": {"database": {"roles": {
            "readonly": {"default_ttl": 3600, "max_ttl": 86400},
            "short": {"default_ttl": 6, "max_ttl": 12}}}}}, work)
        self.consul = Emulator("consul", {
            "session_ttl_min": "1s", "kv": {"app/host": "db.internal"},
            "register_services": [{"Node": n, "Service": "web"} for n in NODES]}, work)
        self.redash = Emulator("redash", {
            "api_keys": {"key-" + n: {"admin": True} for n in NODES},
            "test_results": {"App QA": {"ok": True}}}, work)
        with open(os.path.join(work, "ds.tmpl"), "w") as f:
            f.write(TEMPLATE % role)
        self.procs = {}

    def start(self, node):
        d = os.path.join(self.work, node)
        os.makedirs(d, exist_ok=True)
        cfg = os.path.join(d, "templet.yaml")
        with open(cfg, "w") as f:
            f.write("state_dir: %s/state\nlog_level: info\nvault: {revoke_superseded: true}\n"
                    "fleet: {mode: leader, session_ttl: %s, lock_delay: %s, node_name: %s}\n"
                    "reconcile_interval: 0\n"
                    "templates:\n  - source: %s/ds.tmpl\n    destination: %s/ds.yaml\n"
                    "    apply:\n      redash: {url: %s, api_key_env: BENCH_REDASH_KEY,"
                    " ready_timeout: 10s}\n"
                    % (d, self.ttl, self.lock_delay, node, self.work, d, self.redash.url))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "CONSUL_"))}
        env.update(VAULT_ADDR=self.vault.url, VAULT_TOKEN="root",
                   CONSUL_HTTP_ADDR="127.0.0.1:%d" % self.consul.port,
                   BENCH_REDASH_KEY="key-" + node)
        log = open(os.path.join(d, "templet.log"), "a")
        self.procs[node] = subprocess.Popen([self.templet, "run", "-c", cfg], env=env,
                                            stdout=log, stderr=subprocess.STDOUT)

    def leader(self):
        try:
            keys = self.consul.call("GET", "/v1/kv/templet/leader/?recurse")
        except Exception:
            return None
        if not keys or "Session" not in keys[0]:
            return None
        info = self.consul.call("GET", "/v1/session/info/" + keys[0]["Session"])
        return info[0]["Node"] if info else None

    def datasource_user(self):
        for ds in self.redash.call("GET", "/_emulator/state")["data_sources"]:
            if ds["name"] == "App QA":
                return ds["options"]["user"]
        return None

    def writes(self):
        out = []
        for r in self.redash.call("GET", "/_emulator/requests"):
            if r["method"] != "GET" and r["path"].startswith("/api/data_sources") \
                    and not r["path"].endswith("/test"):
                out.append(r["headers"].get("authorization", "?").replace("Key key-", ""))
        return out

    def wait(self, pred, limit):
        end = time.monotonic() + limit
        while time.monotonic() < end:
            v = pred()
            if v:
                return v
            time.sleep(0.05)
        return None

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        for e in (self.vault, self.consul, self.redash):
            e.stop()


def bench_takeover(args, work):
    f = Fleet(args.templet, work, args.ttl, args.lock_delay)
    try:
        for n in NODES:
            f.start(n)
        f.wait(lambda: f.leader() and f.datasource_user(), 20)
        times = []
        for i in range(args.kills):
            leader = f.wait(f.leader, 20)
            user = f.wait(f.datasource_user, 20)
            t0 = time.monotonic()
            f.procs[leader].send_signal(signal.SIGKILL)
            f.procs[leader].wait()
            ok = f.wait(lambda: f.leader() not in (None, leader) and
                        f.datasource_user() != user, 60)
            times.append(time.monotonic() - t0 if ok else float("inf"))
            f.start(leader)
            time.sleep(1)
        w = f.writes()
        bound = seconds(args.lock_delay) + 2 * seconds(args.ttl) + 5
        print("### Takeover after SIGKILL of the leader (%d kills, session_ttl %s, lock_delay %s)"
              "\n" % (args.kills, args.ttl, args.lock_delay))
        print("| median | max | goal (max) | writes to Redash | writes per takeover |")
        print("|---|---|---|---|---|")
        print("| %.2f s | %.2f s | <= %.1f s | %d | %.2f |" % (
            statistics.median(times), max(times), bound, len(w), (len(w) - 1) / args.kills))
        print()
    finally:
        f.stop()


def bench_idle(args, work):
    f = Fleet(args.templet, work, args.idle_ttl, "15s")
    try:
        for n in NODES:
            f.start(n)
        f.wait(lambda: f.leader() and f.datasource_user(), 20)
        time.sleep(3)
        f.consul.call("DELETE", "/_emulator/requests")
        time.sleep(args.idle_seconds)
        reqs = f.consul.call("GET", "/_emulator/requests")
        minutes = args.idle_seconds / 60.0
        fleet = [r for r in reqs if r["path"].startswith(("/v1/session", "/v1/kv/templet/"))]
        renew = [r for r in fleet if r["path"].startswith("/v1/session/renew")]
        print("### Idle fleet: Consul requests per node-minute (3 nodes, session_ttl %s, %d s)\n"
              % (args.idle_ttl, args.idle_seconds))
        print("| fleet's requests | of which renewals | all requests | goal (fleet's) |")
        print("|---|---|---|---|")
        print("| %.2f | %.2f | %.2f | <= 6 |" % (
            len(fleet) / 3 / minutes, len(renew) / 3 / minutes, len(reqs) / 3 / minutes))
        print()
    finally:
        f.stop()


def bench_writes(args, work):
    f = Fleet(args.templet, work, args.ttl, args.lock_delay)
    try:
        for n in NODES:
            f.start(n)
        f.wait(lambda: f.leader() and f.datasource_user(), 20)
        time.sleep(2)
        base = len(f.writes())
        changes = 5
        for i in range(changes):
            f.consul.call("PUT", "/v1/kv/app/host", "db%d.internal" % i)
            f.wait(lambda: len(f.writes()) > base + i, 10)
            time.sleep(2)
        key_writes = len(f.writes()) - base
    finally:
        f.stop()
    f = Fleet(args.templet, tempfile.mkdtemp(dir=work), args.ttl, args.lock_delay, role="short")
    try:
        for n in NODES:
            f.start(n)
        f.wait(lambda: f.leader() and f.datasource_user(), 20)
        base = len(f.writes())
        users = set()
        end = time.monotonic() + 40
        while time.monotonic() < end:
            u = f.datasource_user()
            if u:
                users.add(u)
            time.sleep(0.1)
        lease_writes = len(f.writes()) - base
        rotations = len(users) - 1
    finally:
        f.stop()
    print("### Writes to Redash per rotation across the fleet (3 nodes)\n")
    print("| change | changes | writes | writes per change | goal |")
    print("|---|---|---|---|---|")
    print("| Consul key every node renders | %d | %d | %.2f | 1 |" % (
        changes, key_writes, key_writes / changes))
    print("| the leader's lease rotating (6 s TTL) | %d | %d | %.2f | 1 |" % (
        rotations, lease_writes, lease_writes / max(1, rotations)))
    print()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--templet", default=os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), "build", "templet"))
    p.add_argument("--only", default="takeover,idle,writes")
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--ttl", default="2s")
    p.add_argument("--lock-delay", default="2s")
    p.add_argument("--idle-ttl", default="10s")
    p.add_argument("--idle-seconds", type=int, default=60)
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="templet-fleet-bench-")
    try:
        for name in args.only.split(","):
            {"takeover": bench_takeover, "idle": bench_idle, "writes": bench_writes}[name](
                args, tempfile.mkdtemp(dir=work))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
