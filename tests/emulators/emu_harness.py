"""What the emulator tests share: each emulator as a subprocess on a random port, one per test
class, reset before every test (tests/emulators/test_*.py; run them with
`python3 -m unittest discover -s tests/emulators -p 'test_*.py'`, as ctest does).

The optional PostgreSQL tests run only when TEMPLET_TEST_PG="host:port:user[:password[:dbname]]"
names a server whose user may CREATE ROLE.
"""

import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))

# Credentials the emulators are seeded with.
ADMIN = {"Authorization": "Key admin-api-key"}
ROOT = {"X-Vault-Token": "root"}


class Emu:
    def __init__(self, script, extra_args=()):
        self.dir = tempfile.mkdtemp(prefix="emu-")
        self.port_file = os.path.join(self.dir, "port")
        self.state_file = os.path.join(self.dir, "state.json")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, script), "--port-file", self.port_file,
             "--state-file", self.state_file, *extra_args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 30
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None:
                raise RuntimeError("%s died: %s" % (script, self.proc.stderr.read().decode()))
            if time.time() > deadline:
                raise RuntimeError("%s did not start" % script)
            time.sleep(0.02)
        with open(self.port_file) as f:
            self.port = int(f.read().strip())

    def call(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        conn.close()
        return Resp(r.status, hdrs, data)

    def control(self, name, body=None, method="POST"):
        r = self.call(method, "/_emulator/" + name, body if body is not None else
                      ({} if method == "POST" else None))
        assert r.status == 200, (name, r.status, r.body)
        return r.json()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = -9
        self.proc.stderr.close()
        return rc


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    @property
    def text(self):
        return self.body.decode("utf-8")

    def __repr__(self):
        return "Resp(%d, %r)" % (self.status, self.body[:300])


class EmuCase(unittest.TestCase):
    script = None
    emu = None

    @classmethod
    def setUpClass(cls):
        cls.emu = Emu(cls.script)

    @classmethod
    def tearDownClass(cls):
        rc = cls.emu.stop()
        assert rc == 0, "emulator exit code %s" % rc
        assert os.path.exists(cls.emu.state_file)

    def setUp(self):
        self.emu.control("reset")

    def call(self, *a, **kw):
        return self.emu.call(*a, **kw)


def _pg_conf():
    parts = os.environ["TEMPLET_TEST_PG"].split(":")
    conf = {"host": parts[0], "port": int(parts[1]), "user": parts[2]}
    if len(parts) > 3 and parts[3]:
        conf["password"] = parts[3]
    conf["dbname"] = parts[4] if len(parts) > 4 else "postgres"
    return conf


def _psql_admin(conf, sql):
    env = dict(os.environ, PGPASSWORD=conf.get("password", ""))
    return subprocess.run(["psql", "-X", "-h", conf["host"], "-p", str(conf["port"]), "-U",
                           conf["user"], "-d", conf["dbname"], "-c", sql], env=env,
                          capture_output=True, text=True)
