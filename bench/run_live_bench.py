#!/usr/bin/python3
"""Live-data benchmarks of `templet run` against the Vault and Consul emulators (issue 4).

Python 3 standard library only. Each benchmark starts its own emulators on random ports and its
own templet process with a temporary config and state_dir, and prints one markdown section.

  bench/run_live_bench.py [--templet build/templet] [--only NAME,...] [--lease-minutes 2]

Benchmarks (NAME):
  reads    20 templates sharing one dynamic secret: Vault creds reads per lease, with --once and
           in the daemon over several lease lifetimes (goal: exactly 1 read per lease).
  latency  Consul KV PUT -> destination file holding the new value, wait 0 (goal < 50 ms);
           20 samples, median and p95.
  idle     Idle daemon with 20 templates for 60 s: CPU % from /proc/PID/stat (utime+stime) and
           RSS from /proc/PID/status (goal < 1 % and < 10 MB).
  lease    The 6 s-lease soak (issue: 10 minutes; default here --lease-minutes 2): role TTL 6 s,
           max TTL 12 s, revoke_superseded; the file is sampled every 200 ms and each credential
           checked against the emulator's leases (goal: zero bad samples).
  soak     Issue 8's soak (not part of the default set): 20 templates sharing two dynamic secrets
           with 6 s leases and 21 Consul keys (one rewritten every 30 s), revoke_superseded, for
           --soak-minutes (default 30). Every 10 s: RSS, open fds and threads of the daemon;
           every 200 ms: each file's credential checked as in `lease`. Prints first, min, max
           and last of each (goal: flat) and the bad samples (goal: 0).
  stop     How soon templet exits (median of --stop-runs, default 5): `run --once` with one
           template reading a Consul key (alone, with a 0.3 s command, missing with --timeout
           1s), a Vault secret, or both (fresh state_dir each run); and SIGTERM -> exit of a
           daemon watching 21 Consul keys (each in a 60 s blocking query), with its exit status
           and the temporary files left.
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EMU = os.path.join(ROOT, "tests", "emulators")
VAULT_SEED = {"database_mounts": {"database": {"roles": {
    "readonly": {"default_ttl": 3600, "max_ttl": 86400},
    "short": {"default_ttl": 6, "max_ttl": 12},
    "short2": {"default_ttl": 6, "max_ttl": 12}}}}}
CLK_TCK = os.sysconf("SC_CLK_TCK")


class Emulator:
    def __init__(self, name, seed, workdir):
        self.dir = tempfile.mkdtemp(dir=workdir)
        port_file = os.path.join(self.dir, "port")
        args = ["/usr/bin/python3", os.path.join(EMU, name + ".py"), "--port-file", port_file]
        if seed:
            seed_file = os.path.join(self.dir, "seed.json")
            with open(seed_file, "w") as f:
                json.dump(seed, f)
            args += ["--seed-file", seed_file]
        self.proc = subprocess.Popen(args)
        for _ in range(200):
            if os.path.exists(port_file):
                with open(port_file) as f:
                    self.port = int(f.read())
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(name + " emulator did not start")
        self.url = "http://127.0.0.1:%d" % self.port

    def call(self, method, path, body=None):
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(self.url + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read().decode()
        return json.loads(text) if text else None

    def requests(self, regex, method=None):
        q = "/_emulator/requests?path_regex=" + urllib.request.quote(regex)
        if method:
            q += "&method=" + method
        return self.call("GET", q)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


class Setup:
    """Emulators, a work directory, and a templet process over a generated config."""

    def __init__(self, templet, workdir):
        self.templet = templet
        self.work = tempfile.mkdtemp(prefix="templet-bench-", dir=workdir)
        self.vault = Emulator("vault", VAULT_SEED, self.work)
        self.consul = Emulator("consul", {"kv": {"bench/k": "v0"}}, self.work)
        self.proc = None

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "CONSUL_"))}
        env.update(VAULT_ADDR=self.vault.url, VAULT_TOKEN="root",
                   CONSUL_HTTP_ADDR="127.0.0.1:%d" % self.consul.port)
        return env

    def config(self, templates, extra=""):
        lines = ["state_dir: " + os.path.join(self.work, "state"), "log_level: warn", extra,
                 "templates:"]
        for contents, dest, *command in templates:
            lines.append("  - contents: " + json.dumps(contents))
            lines.append("    destination: " + dest)
            if command:
                lines.append("    command: " + json.dumps(command[0]))
        path = os.path.join(self.work, "templet.yaml")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def start(self, cfg, *args):
        self.log = open(os.path.join(self.work, "templet.log"), "w")
        self.proc = subprocess.Popen([self.templet, "run", "-c", cfg, *args], env=self.env(),
                                     stdout=self.log, stderr=subprocess.STDOUT)
        return self.proc

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.vault.stop()
        self.consul.stop()
        shutil.rmtree(self.work, ignore_errors=True)


def wait_for(pred, limit):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.001)
    return pred()


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def leases_by_user(vault):
    return {l.get("username"): l for l in vault.call("GET", "/_emulator/state")["leases"].values()}


SECRET = '{{ with secret "database/creds/%s" }}{{ .Data.username }}{{ end }}'


def bench_reads(templet, workdir):
    out = ["### Vault reads per secret per lease (20 templates, one secret)", ""]
    s = Setup(templet, workdir)
    try:
        dests = [os.path.join(s.work, "t%02d" % i) for i in range(20)]
        cfg = s.config([("%d " % i + SECRET % "readonly", d) for i, d in enumerate(dests)])
        t0 = time.monotonic()
        rc = s.start(cfg, "--once", "--timeout", "30s").wait(60)
        took = time.monotonic() - t0
        reads = len(s.vault.requests("^/v1/database/creds/readonly$", "GET"))
        users = {read(d).split(" ", 1)[1] for d in dests}
        out.append("- `--once`: exit %d in %.2f s; creds reads: **%d**; distinct usernames in "
                   "the 20 files: %d" % (rc, took, reads, len(users)))
    finally:
        s.stop()
    s = Setup(templet, workdir)
    try:
        dests = [os.path.join(s.work, "t%02d" % i) for i in range(20)]
        cfg = s.config([("%d " % i + SECRET % "short", d) for i, d in enumerate(dests)])
        s.start(cfg)
        seen = set()
        end = time.monotonic() + 40
        while time.monotonic() < end:
            for d in dests:
                c = read(d)
                if c:
                    seen.add(c.split(" ", 1)[1])
            time.sleep(0.1)
        reads = len(s.vault.requests("^/v1/database/creds/short$", "GET"))
        out.append("- daemon, 40 s over TTL 6 s / max TTL 12 s leases: creds reads **%d**, "
                   "distinct credentials written %d -> **%.2f reads per lease**"
                   % (reads, len(seen), reads / max(1, len(seen))))
    finally:
        s.stop()
    return out


def bench_latency(templet, workdir, samples=20):
    s = Setup(templet, workdir)
    out = ["### Consul KV PUT -> file written (wait 0)", ""]
    try:
        dest = os.path.join(s.work, "k")
        cfg = s.config([('{{ key "bench/k" }}', dest)])
        s.start(cfg)
        if not wait_for(lambda: read(dest) == "v0", 10):
            raise RuntimeError("first render did not happen")
        lat = []
        for i in range(1, samples + 1):
            time.sleep(0.3)  # let the watcher re-enter its blocking query
            value = "v%d" % i
            t0 = time.monotonic()
            s.consul.call("PUT", "/v1/kv/bench/k", value)
            if not wait_for(lambda: read(dest) == value, 5):
                lat.append(float("inf"))
                continue
            lat.append((time.monotonic() - t0) * 1000)
        lat.sort()
        p95 = lat[min(len(lat) - 1, int(round(0.95 * len(lat))) - 1)]
        out.append("- %d samples: median **%.1f ms**, p95 **%.1f ms**, min %.1f ms, max %.1f ms "
                   "(measured from before the PUT request to the file read back; includes the "
                   "PUT round trip and a 1 ms polling granularity)"
                   % (len(lat), statistics.median(lat), p95, lat[0], lat[-1]))
    finally:
        s.stop()
    return out


def proc_cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)


def proc_status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    return 0


RUNTIME_LIBS = ("libc.so", "libm.so", "libstdc++.so", "libgcc_s.so", "ld-linux")
LOGGING_CONFIG_LIBS = ("libspdlog.so", "libfmt.so", "libyaml-cpp.so")


def memory_breakdown(pid, templet):
    """RSS and PSS (kB) of the daemon by where the pages come from, from /proc/PID/smaps."""
    groups = {}
    name = size = None
    for line in open("/proc/%d/smaps" % pid):
        parts = line.split()
        if "-" in parts[0] and len(parts) >= 5 and ":" in parts[3]:
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            size = (hi - lo) // 1024
            path = parts[5] if len(parts) > 5 else ""
            if path == templet:
                name = "templet binary (code, data)"
            elif path == "[heap]":
                name = "malloc heap"
            elif path == "" and size == 8192:
                name = "thread stacks (8 MiB reserved each)"
            elif path.startswith("[") or path == "":
                name = "other anonymous (library data, small maps)"
            elif any(l in path for l in RUNTIME_LIBS):
                name = "C and C++ runtime (libc, libm, libstdc++, ld.so)"
            elif any(l in path for l in LOGGING_CONFIG_LIBS):
                name = "spdlog, fmt, yaml-cpp"
            else:
                name = "libcurl and the libraries it loads (OpenSSL, GnuTLS, Kerberos, LDAP...)"
            groups.setdefault(name, [0, 0])
        elif parts[0] == "Rss:":
            groups[name][0] += int(parts[1])
        elif parts[0] == "Pss:":
            groups[name][1] += int(parts[1])
    return sorted(groups.items(), key=lambda kv: -kv[1][0])


KEYS = '{{ key "bench/k%02d" }} {{ key "bench/k" }}%s'


def keyed_templates(s, body, n=20):
    """n destinations in s.work, each template with its own Consul key bench/kNN (set to "v")
    besides the shared bench/k; body(i) gives template i. Returns (destinations, templates)."""
    dests = [os.path.join(s.work, "t%02d" % i) for i in range(n)]
    for i in range(n):
        s.consul.call("PUT", "/v1/kv/bench/k%02d" % i, "v")
    return dests, [(body(i), d) for i, d in enumerate(dests)]


def bench_idle(templet, workdir, seconds=60):
    s = Setup(templet, workdir)
    out = ["### Idle daemon, 20 templates, %d s" % seconds, ""]
    try:
        dests, tmpls = keyed_templates(
            s, lambda i: KEYS % (i, "") + (" " + SECRET % "readonly" if i % 2 == 0 else ""))
        p = s.start(s.config(tmpls))
        if not wait_for(lambda: all(read(d) for d in dests), 20):
            raise RuntimeError("templates did not render")
        time.sleep(2)
        c0, t0 = proc_cpu_ticks(p.pid), time.monotonic()
        time.sleep(seconds)
        c1, t1 = proc_cpu_ticks(p.pid), time.monotonic()
        cpu = (c1 - c0) / CLK_TCK / (t1 - t0) * 100
        rss = proc_status(p.pid, "VmRSS")
        hwm = proc_status(p.pid, "VmHWM")
        anon = proc_status(p.pid, "RssAnon")
        rss_file = proc_status(p.pid, "RssFile")
        threads = proc_status(p.pid, "Threads")
        pss = 0
        with open("/proc/%d/smaps_rollup" % p.pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
        out.append("- CPU **%.2f %%** of one core (%d ticks in %.0f s); RSS **%.1f MB** "
                   "(peak %.1f MB) = %.1f MB anonymous + %.1f MB file-backed (binary and shared "
                   "libraries); PSS %.1f MB; %d threads. 20 templates: 21 Consul keys, one Vault "
                   "secret in 10 of them."
                   % (cpu, c1 - c0, t1 - t0, rss / 1024, hwm / 1024, anon / 1024,
                      rss_file / 1024, pss / 1024, threads))
        out += ["", "| where | RSS (kB) | PSS (kB) |", "|---|---:|---:|"]
        for name, (r, ps) in memory_breakdown(p.pid, templet):
            out.append("| %s | %d | %d |" % (name, r, ps))
    finally:
        s.stop()
    return out


def bench_lease(templet, workdir, minutes):
    s = Setup(templet, workdir)
    note = " (the issue asks 10 minutes)" if minutes < 10 else ""
    out = ["### 6 s leases for %g minutes%s" % (minutes, note), ""]
    try:
        dest = os.path.join(s.work, "creds")
        cfg = s.config([(SECRET % "short", dest)], "vault: {revoke_superseded: true}")
        s.start(cfg)
        if not wait_for(lambda: read(dest), 10):
            raise RuntimeError("first render did not happen")
        good = bad = 0
        seen = []
        end = time.monotonic() + minutes * 60
        while time.monotonic() < end:
            before = read(dest)
            leases = leases_by_user(s.vault)
            after = read(dest)
            if before and before == after:
                l = leases.get(before)
                if l is None or l.get("expired"):
                    bad += 1
                else:
                    good += 1
                if not seen or seen[-1] != before:
                    seen.append(before)
            time.sleep(0.2)
        reads = len(s.vault.requests("^/v1/database/creds/short$", "GET"))
        revokes = len(s.vault.requests("^/v1/sys/leases/revoke", "PUT")) + \
            len(s.vault.requests("^/v1/sys/leases/revoke", "POST"))
        renews = len(s.vault.requests("^/v1/sys/leases/renew", "PUT")) + \
            len(s.vault.requests("^/v1/sys/leases/renew", "POST"))
        out.append("- samples every 200 ms: **%d good, %d bad**; credentials written %d; creds "
                   "reads %d; renewals %d; revocations of superseded leases %d; templet "
                   "still running: %s" % (good, bad, len(seen), reads, renews, revokes,
                                          s.proc.poll() is None))
    finally:
        s.stop()
    return out


def proc_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def sample_credentials(s, dests):
    """One lease-safety sample of every file: (good, bad, the usernames seen)."""
    before = [read(d) for d in dests]
    leases = leases_by_user(s.vault)
    after = [read(d) for d in dests]
    good = bad = 0
    users = set()
    for b, a in zip(before, after):
        if not b or b != a:
            continue  # rewritten between the two reads: not a sample
        user = b.split(" ")[0]
        users.add(user)
        l = leases.get(user)
        if l is None or l.get("expired"):
            bad += 1
        else:
            good += 1
    return good, bad, users


def bench_soak(templet, workdir, minutes):
    s = Setup(templet, workdir)
    out = ["### Soak: 20 templates, two 6 s-lease secrets, %g minutes" % minutes, ""]
    try:
        # The username first: the lease check reads it from there.
        dests, tmpls = keyed_templates(
            s, lambda i: SECRET % ("short" if i % 2 == 0 else "short2") + " " + KEYS % (i, ""))
        p = s.start(s.config(tmpls, "vault: {revoke_superseded: true}"))
        if not wait_for(lambda: all(read(d) for d in dests), 20):
            raise RuntimeError("templates did not render")
        # Anonymous memory is where a leak shows; file-backed pages also grow when a code path
        # runs for the first time (a revoke, a retry), which is not a leak.
        series = {"RSS (MB)": [], "anonymous RSS (MB)": [], "open fds": [], "threads": []}
        good = bad = 0
        users = set()
        bad_times = []
        start = time.monotonic()
        end = start + minutes * 60
        next_stat = start
        next_put = start + 30
        puts = 0
        while time.monotonic() < end and p.poll() is None:
            now = time.monotonic()
            if now >= next_stat:
                series["RSS (MB)"].append(proc_status(p.pid, "VmRSS") / 1024)
                series["anonymous RSS (MB)"].append(proc_status(p.pid, "RssAnon") / 1024)
                series["open fds"].append(proc_fds(p.pid))
                series["threads"].append(proc_status(p.pid, "Threads"))
                next_stat += 10
            if now >= next_put:
                puts += 1
                s.consul.call("PUT", "/v1/kv/bench/k", "v%d" % puts)
                next_put += 30
            g, b, u = sample_credentials(s, dests)
            good += g
            bad += b
            users |= u
            if b:
                bad_times.append(round(now - start, 1))
            time.sleep(0.2)
        alive = p.poll() is None
        reads = len(s.vault.requests("^/v1/database/creds/short2?$", "GET"))
        revokes = len(s.vault.requests("^/v1/sys/leases/revoke", "PUT")) + \
            len(s.vault.requests("^/v1/sys/leases/revoke", "POST"))
        out.append("| measure | first | min | max | last |")
        out.append("|---|---:|---:|---:|---:|")
        for name, v in series.items():
            fmt = "%.2f" if "RSS" in name else "%d"
            out.append("| %s | %s |" % (name, " | ".join(fmt % x for x in
                                                        (v[0], min(v), max(v), v[-1]))))
        out.append("")
        every = 30  # samples: 5 minutes
        out.append("- RSS / anonymous RSS (MB) every 5 minutes: " + ", ".join(
            "%.2f/%.2f" % (series["RSS (MB)"][i], series["anonymous RSS (MB)"][i])
            for i in range(0, len(series["threads"]), every)))
        out.append("- %d samples of the daemon (every 10 s); file samples every 200 ms (20 files "
                   "each): **%d good, %d bad**%s" % (len(series["threads"]), good, bad,
                                                     (" at %s s" % bad_times[:10]) if bad else ""))
        out.append("- credentials written: %d; creds reads %d; revocations of superseded leases "
                   "%d; Consul key rewrites %d; templet still running: %s"
                   % (len(users), reads, revokes, puts, alive))
    finally:
        s.stop()
    return out


def timed_exit(proc, since, limit=30):
    """(exit status, seconds from `since` to the exit) of `proc`."""
    rc = proc.wait(limit)
    return rc, time.monotonic() - since


def temp_files(directory):
    return [n for n in os.listdir(directory) if ".templet-" in n]


def bench_stop(templet, workdir, runs=5):
    out = ["### Exit: `--once` and SIGTERM (median of %d runs)" % runs, ""]
    s = Setup(templet, workdir)
    try:
        s.consul.call("PUT", "/v1/kv/a", "1")
        dest = os.path.join(s.work, "out")
        # (label, template, its command or None, --timeout, what the file must hold or None)
        cases = [("`{{ key \"a\" }}`", '{{ key "a" }}', None, "20s", "1"),
                 ("`{{ key \"a\" }}` with a command taking 0.3 s (the watcher is in its "
                  "blocking query when it ends)", '{{ key "a" }}', "sleep 0.3", "20s", "1"),
                 ("`{{ key \"missing\" }}` with `--timeout 1s`", '{{ key "missing" }}', None,
                  "1s", None),
                 ("a Vault secret only", SECRET % "readonly", None, "20s", None),
                 ("a Vault secret and `{{ key \"a\" }}`", SECRET % "readonly" + '{{ key "a" }}',
                  None, "20s", None)]
        for label, contents, command, timeout, expect in cases:
            cfg = s.config([(contents, dest) + ((command,) if command else ())])
            times, statuses = [], set()
            for _ in range(runs):
                shutil.rmtree(os.path.join(s.work, "state"), ignore_errors=True)
                if os.path.exists(dest):
                    os.remove(dest)
                t0 = time.monotonic()
                rc, took = timed_exit(s.start(cfg, "--once", "--timeout", timeout), t0)
                s.log.close()
                statuses.add(rc)
                if expect is not None and read(dest) != expect:
                    raise RuntimeError("--once did not write " + expect)
                times.append(took)
            out.append("- `run --once`, one template, %s: **%.2f s** (min %.2f, max %.2f), exit %s"
                       % (label, statistics.median(times), min(times), max(times),
                          ",".join(map(str, sorted(statuses)))))
    finally:
        s.stop()
    s = Setup(templet, workdir)
    try:
        dests, tmpls = keyed_templates(s, lambda i: KEYS % (i, ""))
        cfg = s.config(tmpls)
        times, statuses, left = [], set(), 0
        for _ in range(runs):
            for d in dests:
                if os.path.exists(d):
                    os.remove(d)
            p = s.start(cfg)
            if not wait_for(lambda: all(read(d) for d in dests), 20):
                raise RuntimeError("templates did not render")
            time.sleep(1)  # every watcher is inside its blocking query
            t0 = time.monotonic()
            p.send_signal(signal.SIGTERM)
            rc, took = timed_exit(p, t0)
            s.log.close()
            statuses.add(rc)
            left += len(temp_files(s.work))
            times.append(took)
        out.append("- daemon watching 21 Consul keys (20 templates), SIGTERM -> exit: **%.2f s** "
                   "(min %.2f, max %.2f), exit %s, temporary files left: %d"
                   % (statistics.median(times), min(times), max(times),
                      ",".join(map(str, sorted(statuses))), left))
    finally:
        s.stop()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--templet", default=os.path.join(ROOT, "build", "templet"))
    ap.add_argument("--only", default="reads,latency,idle,lease")
    ap.add_argument("--lease-minutes", type=float, default=2)
    ap.add_argument("--soak-minutes", type=float, default=30)
    ap.add_argument("--idle-seconds", type=int, default=60)
    ap.add_argument("--stop-runs", type=int, default=5)
    ap.add_argument("--workdir", default=None)
    a = ap.parse_args()
    templet = os.path.abspath(a.templet)
    for name in a.only.split(","):
        if name == "reads":
            lines = bench_reads(templet, a.workdir)
        elif name == "latency":
            lines = bench_latency(templet, a.workdir)
        elif name == "idle":
            lines = bench_idle(templet, a.workdir, a.idle_seconds)
        elif name == "lease":
            lines = bench_lease(templet, a.workdir, a.lease_minutes)
        elif name == "soak":
            lines = bench_soak(templet, a.workdir, a.soak_minutes)
        elif name == "stop":
            lines = bench_stop(templet, a.workdir, a.stop_runs)
        else:
            sys.exit("unknown benchmark " + name)
        print("\n".join(lines) + "\n", flush=True)


if __name__ == "__main__":
    main()
