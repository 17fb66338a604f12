#!/usr/bin/python3
"""Scale benchmark (issue 15): one templet daemon with thousands of Consul and Vault dependencies.

T templates each read K distinct Consul keys and one of S KV v2 secrets (so deps = T*K + S),
against bench/scale_emulator.py (one asyncio thread, so it is not the bottleneck: its CPU is
printed beside templet's). For each size it measures:

  all answered start -> the emulator has seen a blocking query from every Consul key's watcher
               (each has its first answer); polled every 0.1 s, so "≤ first pass" when quicker
  first pass   start -> every destination written: wall time, templet CPU, emulator CPU
  threads, fds, RSS of templet after the first pass (/proc)
  change p95   Consul PUT of one key -> its destination holds the new value (--changes samples)
  idle CPU     templet's CPU % over --idle-seconds after the changes
  vault peak   the most Vault requests the emulator had in flight at once
  log lines    lines templet printed (warn level): a resource it ran out of shows up here (the
               first five are printed after the table)

  bench/run_scale_bench.py [--templet build/templet] [--sizes 20x5x5,200x5x20,2000x5x50]
                           [--changes 20] [--idle-seconds 10] [--timeout 300]

Prints one markdown table, all rows from this one run. Python 3 standard library only.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return line.split()[1]
    return "0"


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class Emulator:
    def __init__(self, work, secrets):
        port_file = os.path.join(work, "ports")
        self.proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "bench", "scale_emulator.py"),
                                      "--port-file", port_file, "--secrets", str(secrets)])
        for _ in range(200):
            if os.path.exists(port_file):
                break
            time.sleep(0.05)
        with open(port_file) as f:
            self.consul_port, self.vault_port = (int(x) for x in f.read().split())
        self.consul = "http://127.0.0.1:%d" % self.consul_port

    def call(self, method, path, body=None):
        req = urllib.request.Request(self.consul + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"null")

    def put(self, values):
        self.call("POST", "/_bench/put", values)

    def stats(self):
        return self.call("GET", "/_bench/stats")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def key(t, k):
    return "scale/t%d/k%d" % (t, k)


def run_size(templet, t_count, k_count, s_count, args):
    work = tempfile.mkdtemp(prefix="templet-scale-")
    emu = Emulator(work, s_count)
    proc = None
    try:
        values = {key(t, k): "v0" for t in range(t_count) for k in range(k_count)}
        emu.put(values)
        out = os.path.join(work, "out")
        os.mkdir(out)
        lines = ["state_dir: " + os.path.join(work, "state"), "log_level: warn",
                 "vault: {address: 'http://127.0.0.1:%d', token: root}" % emu.vault_port,
                 "consul: {address: '127.0.0.1:%d'}" % emu.consul_port,
                 "block_query_wait: 60s", "templates:"]
        for t in range(t_count):
            body = "".join('%s={{ key "%s" }}\n' % ("k%d" % k, key(t, k)) for k in range(k_count))
            body += '{{ with secret "secret/data/s%d" }}pw={{ .Data.data.password }}{{ end }}\n' % (
                t % s_count)
            lines.append("  - contents: " + json.dumps(body))
            lines.append("    destination: " + os.path.join(out, "t%d.conf" % t))
        cfg = os.path.join(work, "templet.yaml")
        with open(cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        log = open(os.path.join(work, "templet.log"), "w")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "CONSUL_"))}
        start = time.monotonic()
        proc = subprocess.Popen(args.wrap.split() + [templet, "run", "-c", cfg], stdout=log, stderr=subprocess.STDOUT,
                                env=env)
        first_pass = None
        all_data = None  # every Consul key answered: its watcher's blocking query has come
        polls = 0
        while time.monotonic() - start < args.timeout and proc.poll() is None:
            polls += 1
            if all_data is None and polls % 5 == 0 and \
                    emu.stats()["requests"].get("consul GET blocking", 0) >= t_count * k_count:
                all_data = time.monotonic() - start
            if len(os.listdir(out)) >= t_count:
                first_pass = time.monotonic() - start
                break
            time.sleep(0.02)
        written = len(os.listdir(out))
        row = {"deps": t_count * k_count + s_count, "shape": "%d×%d, %d" % (t_count, k_count, s_count),
               "first_pass": first_pass, "written": written, "templates": t_count,
               "all_data": all_data,
               "templet_cpu": cpu_seconds(proc.pid), "emulator_cpu": emu.stats()["cpu_seconds"],
               "threads": int(status(proc.pid, "Threads")), "fds": fds(proc.pid),
               "rss_mb": int(status(proc.pid, "VmRSS")) / 1024}
        latencies = []
        if first_pass is not None:
            time.sleep(1)
            rng = random.Random(15)
            for n in range(args.changes):
                t, k = rng.randrange(t_count), rng.randrange(k_count)
                want = "k%d=c%d\n" % (k, n)
                dest = os.path.join(out, "t%d.conf" % t)
                began = time.monotonic()
                emu.put({key(t, k): "c%d" % n})
                while time.monotonic() - began < 10:
                    try:
                        with open(dest) as f:
                            if want in f.read():
                                latencies.append((time.monotonic() - began) * 1000)
                                break
                    except FileNotFoundError:
                        pass
                    time.sleep(0.0005)
                time.sleep(0.05)
            before = cpu_seconds(proc.pid)
            time.sleep(args.idle_seconds)
            row["idle_cpu"] = (cpu_seconds(proc.pid) - before) / args.idle_seconds * 100
        latencies.sort()
        row["p95_ms"] = latencies[int(len(latencies) * 0.95) - 1] if latencies else None
        row["changes_seen"] = len(latencies)
        row["vault_peak"] = emu.stats()["max_vault_in_flight"]
        log.flush()
        with open(os.path.join(work, "templet.log")) as f:
            lines = f.read().splitlines()
        row["log_lines"] = len(lines)
        row["log_head"] = lines[:5]
        return row
    finally:
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        emu.stop()
        shutil.rmtree(work, ignore_errors=True)


def fmt(v, spec, missing="–"):
    return missing if v is None else format(v, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--templet", default=os.path.join(ROOT, "build", "templet"))
    ap.add_argument("--sizes", default="20x5x5,200x5x20,2000x5x50")
    ap.add_argument("--changes", type=int, default=20)
    ap.add_argument("--idle-seconds", type=float, default=10)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--wrap", default="", help="a command templet runs under, e.g. 'perf record "
                    "-g -o perf.data --' to see where its time goes (the figures are then perf's)")
    args = ap.parse_args()
    rows = []
    for size in args.sizes.split(","):
        t, k, s = (int(x) for x in size.split("x"))
        rows.append(run_size(args.templet, t, k, s, args))
        print("done %s" % size, file=sys.stderr)
    print("| deps (T×K, S) | every key answered s | first complete pass s (templet CPU / "
          "emulator CPU) | threads | open fds | RSS MB | change → file p95 ms | idle CPU % | "
          "Vault in flight (max) | log lines |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        first = ("%.2f" % r["first_pass"]) if r["first_pass"] is not None else (
            "not complete: %d of %d files" % (r["written"], r["templates"]))
        print("| %d (%s) | %s | %s (%.2f / %.2f) | %d | %d | %.1f | %s | %s | %d | %d |" % (
            r["deps"], r["shape"], fmt(r["all_data"], ".2f", "≤ first pass"), first,
            r["templet_cpu"], r["emulator_cpu"], r["threads"],
            r["fds"], r["rss_mb"], fmt(r["p95_ms"], ".1f"), fmt(r.get("idle_cpu"), ".2f"),
            r["vault_peak"], r["log_lines"]))
    for r in rows:
        if r["log_head"]:
            print("\nLogged at %d dependencies (first lines):\n" % r["deps"])
            for line in r["log_head"]:
                print("    " + line)


if __name__ == "__main__":
    main()
