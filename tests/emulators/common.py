"""Shared plumbing for templet's HTTP emulators (Vault, Consul, Redash, InfluxDB v2).

Standard library only. Each emulator subclasses `Emulator` and implements `handle(req)`,
`reset_state()`, `seed(data)` and `dump_state()`. `run_main()` gives every emulator the same
command line:

    python3 tests/emulators/<name>.py --port-file /tmp/x.port [--seed-file seed.json]
                                      [--state-file state.json] [--port N] [--verbose]
                                      [--tls-cert cert.pem --tls-key key.pem]
                                      [--artifacts-dir DIR]
    (with --tls-cert, TEMPLET_EMULATOR_TLS_CLIENT_CA=ca.pem also asks clients for certificates)

The server binds 127.0.0.1 only (port 0 = random unless --port), writes the port number to the
port file atomically (tmp + rename) once it is listening, serves until SIGTERM/SIGINT and then
exits 0 (after writing the state dump to --state-file when that is given).

With --artifacts-dir, every secret the emulator issues or accepts (passwords, lease ids, tokens,
API keys, secret values) is appended to DIR/secrets/<name>-<pid>.jsonl, one JSON object
{"kind", "value"} a line, so the integration suite can check afterwards that templet never
printed any of them (tests/unit/secret_scan.hpp).

Control API (no auth), common to all emulators, under /_emulator/:
    POST /_emulator/reset         back to the start-up state (defaults + --seed-file); clears
                                  faults and the request log
    POST /_emulator/fault         {"path_regex", "method", "status", "body", "headers",
                                   "delay_ms", "count", "drop_connection"} -> {"id": n}
    POST /_emulator/clear_faults  remove every fault
    GET  /_emulator/faults        the faults still armed
    GET  /_emulator/requests      request log; filters ?method=GET&path_regex=...&since=<seq>
    GET  /_emulator/concurrency   {"in_flight", "peak"}: requests being answered now and at most
                                  at once since start or reset (control requests not counted);
                                  how a test sees whether a client keeps to its connection cap
    DELETE /_emulator/concurrency the peak back to the requests in flight now
    DELETE /_emulator/requests    clear the request log only
    POST /_emulator/seed          emulator-specific JSON; common keys: "time_offset_s",
                                  "ready_after_s"
    GET  /_emulator/state         emulator-specific state dump
    GET  /_emulator/health        {"ok": true, "emulator": name}
"""

import argparse
import base64
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONTROL_PREFIX = "/_emulator/"


class HTTPError(Exception):
    """Raised by handlers to answer with a prepared response."""

    def __init__(self, response):
        super().__init__(response.status)
        self.response = response


class Request:
    def __init__(self, method, raw_path, headers, body, client):
        self.method = method.upper()
        self.raw_path = raw_path
        split = urllib.parse.urlsplit(raw_path)
        self.raw_url_path = split.path
        # Go's net/http decodes the path; so do we.
        self.path = urllib.parse.unquote(split.path)
        self.query_string = split.query
        self.query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        self.headers = headers  # email.message.Message (case-insensitive get)
        self.body = body or b""
        self.client = client

    def has(self, name):
        return name in self.query

    def arg(self, name, default=None):
        vals = self.query.get(name)
        if not vals:
            return default
        return vals[0]

    def args(self, name):
        return list(self.query.get(name, []))

    def header(self, name, default=None):
        v = self.headers.get(name)
        return default if v is None else v

    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        """Parse the body as JSON; raises ValueError on bad JSON (empty body -> ValueError)."""
        if not self.body.strip():
            raise ValueError("EOF")
        return json.loads(self.body.decode("utf-8"))


class Response:
    def __init__(self, status=200, body=b"", headers=None, content_type=None):
        self.status = status
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.body = body
        self.headers = list((headers or {}).items()) if isinstance(headers, dict) else list(headers or [])
        if content_type and not any(k.lower() == "content-type" for k, _ in self.headers):
            self.headers.append(("Content-Type", content_type))

    def set_header(self, name, value):
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        self.headers.append((name, str(value)))


def json_dumps(obj, pretty=False):
    if pretty:
        return json.dumps(obj, indent=4, sort_keys=False)
    return json.dumps(obj, separators=(",", ":"))


def json_response(status, obj, headers=None, content_type="application/json", pretty=False):
    body = json_dumps(obj, pretty) + ("\n" if pretty else "")
    return Response(status, body, headers, content_type)


def text_response(status, text, headers=None, content_type="text/plain; charset=utf-8"):
    return Response(status, text, headers, content_type)


def empty_response(status=204, headers=None):
    return Response(status, b"", headers)


def b64(data):
    return base64.b64encode(data).decode("ascii")


def new_uuid():
    return str(uuid.uuid4())


_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0,
             "m": 60.0, "h": 3600.0}


def parse_go_duration(text):
    """Go time.ParseDuration -> seconds (float). Raises ValueError."""
    s = text.strip()
    if s in ("0", "+0", "-0"):
        return 0.0
    if not s:
        raise ValueError('time: invalid duration ""')
    sign = 1.0
    orig = s
    if s[0] in "+-":
        if s[0] == "-":
            sign = -1.0
        s = s[1:]
    if not s:
        raise ValueError('time: invalid duration "%s"' % orig)
    total = 0.0
    pos = 0
    pat = re.compile(r"([0-9]*(?:\.[0-9]*)?)([a-zA-Z\u00b5\u03bc]+)")
    while pos < len(s):
        m = pat.match(s, pos)
        if not m or m.group(1) in ("", "."):
            if m is None and re.match(r"[0-9.]+$", s[pos:]):
                raise ValueError('time: missing unit in duration "%s"' % orig)
            raise ValueError('time: invalid duration "%s"' % orig)
        unit = m.group(2)
        if unit not in _GO_UNITS:
            raise ValueError('time: unknown unit "%s" in duration "%s"' % (unit, orig))
        total += float(m.group(1)) * _GO_UNITS[unit]
        pos = m.end()
    return sign * total


def format_go_duration(seconds):
    """Go time.Duration.String() for whole or fractional seconds (>= 1s precision is enough)."""
    if seconds == 0:
        return "0s"
    neg = seconds < 0
    seconds = abs(seconds)
    if seconds < 1:
        ms = seconds * 1000
        out = ("%g" % ms) + "ms"
        return ("-" if neg else "") + out
    h = int(seconds // 3600)
    rem = seconds - h * 3600
    m = int(rem // 60)
    s = rem - m * 60
    if abs(s - round(s)) < 1e-9:
        s_txt = "%d" % round(s)
    else:
        s_txt = ("%.9f" % s).rstrip("0").rstrip(".")
    out = ""
    if h:
        out = "%dh%dm%ss" % (h, m, s_txt)
    elif m:
        out = "%dm%ss" % (m, s_txt)
    else:
        out = "%ss" % s_txt
    return ("-" if neg else "") + out


def rfc3339(ts, nanos=False):
    """UTC RFC3339 timestamp. With nanos, Go's RFC3339Nano style (trailing zeros trimmed)."""
    t = time.gmtime(ts)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", t)
    if nanos:
        frac = ("%.9f" % (ts - int(ts)))[2:].rstrip("0")
        if frac:
            base += "." + frac
    return base + "Z"


class Fault:
    def __init__(self, fid, spec):
        self.id = fid
        self.path_regex = spec.get("path_regex") or ""
        self.regex = re.compile(self.path_regex)
        m = spec.get("method")
        self.method = m.upper() if m else None
        self.status = spec.get("status")
        body = spec.get("body")
        if body is not None and not isinstance(body, str):
            body = json_dumps(body)
        self.body = body
        self.headers = spec.get("headers") or {}
        self.content_type = spec.get("content_type")
        self.delay_ms = int(spec.get("delay_ms") or 0)
        self.count = spec.get("count")
        self.drop_connection = bool(spec.get("drop_connection"))
        self.hits = 0

    def matches(self, req):
        if self.method and self.method != req.method:
            return False
        target = req.path + ("?" + req.query_string if req.query_string else "")
        return bool(self.regex.search(req.path) or self.regex.search(target))

    def to_dict(self):
        return {"id": self.id, "path_regex": self.path_regex, "method": self.method,
                "status": self.status, "body": self.body, "headers": self.headers,
                "delay_ms": self.delay_ms, "count": self.count,
                "drop_connection": self.drop_connection, "hits": self.hits}


class SecretLog:
    """Appends each secret once to a JSON-lines file; a no-op without a file."""

    def __init__(self, path=None):
        self.path = path
        self.lock = threading.Lock()
        self.seen = set()

    def record(self, kind, value):
        if not self.path or not isinstance(value, str) or not value:
            return
        with self.lock:
            if (kind, value) in self.seen:
                return
            self.seen.add((kind, value))
            with open(self.path, "a") as f:
                f.write(json.dumps({"kind": kind, "value": value}) + "\n")

    def record_leaves(self, kind, data):
        """Every string inside a JSON-like value (dict values, list items)."""
        if isinstance(data, dict):
            for v in data.values():
                self.record_leaves(kind, v)
        elif isinstance(data, list):
            for v in data:
                self.record_leaves(kind, v)
        else:
            self.record(kind, data)


# Where clients put credentials: these headers (Authorization without its scheme word) and
# query parameters.
_CREDENTIAL_HEADERS = ("X-Vault-Token", "X-Consul-Token", "Authorization")
_CREDENTIAL_QUERY = ("token", "api_key")


class Emulator:
    """Base class. Subclasses override the hooks below. `self.lock` guards all state."""

    name = "emulator"
    log_header_names = None  # None = log every header

    def __init__(self):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.time_offset = 0.0
        self.ready_at = 0.0
        self.stopping = False
        self.secrets = SecretLog()

    def record_presented_credentials(self, req):
        """Whatever a client sent as a token or key is a secret, accepted or not."""
        for h in _CREDENTIAL_HEADERS:
            v = req.header(h)
            if v:
                parts = v.split(None, 1)
                self.secrets.record("credential", parts[-1].strip() if h == "Authorization"
                                    else v.strip())
        for q in _CREDENTIAL_QUERY:
            for v in req.args(q):
                self.secrets.record("credential", v)

    # --- time -------------------------------------------------------------------------------
    def now(self):
        return time.time() + self.time_offset

    # --- hooks ------------------------------------------------------------------------------
    def reset_state(self):
        raise NotImplementedError

    def seed(self, data):
        raise NotImplementedError

    def dump_state(self):
        return {}

    def handle(self, req):
        raise NotImplementedError

    def not_ready_response(self, req):
        return text_response(502, "502 Bad Gateway\n")

    def start_background(self):
        """Start background threads (reapers). Called once after construction."""

    # --- common seed keys -------------------------------------------------------------------
    def seed_common(self, data):
        if "time_offset_s" in data:
            self.time_offset = float(data["time_offset_s"] or 0)
        if "ready_after_s" in data:
            self.ready_at = time.time() + float(data["ready_after_s"] or 0)


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, emulator, port=0, seed_data=None, verbose=False):
        self.emulator = emulator
        self.verbose = verbose
        self.seed_data = seed_data
        self.log_lock = threading.Lock()
        self.request_log = []
        self.seq = 0
        self.faults = []
        self.fault_seq = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.apply_initial_state()
        super().__init__(("127.0.0.1", port), EmulatorHandler)

    def handle_error(self, request, client_address):
        # A client refusing the https certificate is what some tests want; no traceback for it.
        if isinstance(sys.exc_info()[1], (ConnectionError, OSError)) and \
                type(sys.exc_info()[1]).__module__ == "ssl":
            return
        super().handle_error(request, client_address)

    def server_bind(self):
        # HTTPServer.server_bind calls socket.getfqdn(), which can stall on DNS; skip it.
        import socketserver
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def apply_initial_state(self):
        em = self.emulator
        with em.lock:
            em.time_offset = 0.0
            em.ready_at = 0.0
            em.reset_state()
            if self.seed_data:
                em.seed_common(self.seed_data)
                em.seed(self.seed_data)
            em.cond.notify_all()

    # --- faults -----------------------------------------------------------------------------
    def take_fault(self, req):
        with self.log_lock:
            for f in self.faults:
                if f.matches(req):
                    f.hits += 1
                    if f.count is not None:
                        f.count -= 1
                        if f.count <= 0:
                            self.faults.remove(f)
                    return f
        return None

    def log_request(self, req):
        with self.log_lock:
            self.seq += 1
            if self.emulator.log_header_names is None:
                hdrs = {k.lower(): v for k, v in req.headers.items()}
            else:
                hdrs = {k.lower(): v for k, v in req.headers.items()
                        if k.lower() in self.emulator.log_header_names}
            try:
                parsed = json.loads(req.body.decode("utf-8")) if req.body.strip() else None
            except (ValueError, UnicodeDecodeError):
                parsed = None
            entry = {"seq": self.seq, "time": time.time(), "method": req.method,
                     "path": req.path, "raw_path": req.raw_url_path,
                     "query": {k: v for k, v in req.query.items()},
                     "query_string": req.query_string, "headers": hdrs,
                     "body": req.body.decode("utf-8", errors="replace"), "json": parsed,
                     "status": None, "fault": None}
            self.request_log.append(entry)
            if len(self.request_log) > 50000:
                del self.request_log[:10000]
            return entry


class EmulatorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "templet-emulator/1"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet unless --verbose
        if self.server.verbose:
            sys.stderr.write("[%s] %s\n" % (self.server.emulator.name, fmt % args))

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, resp, head_only=False):
        self.send_response(resp.status)
        has_ct = False
        for k, v in resp.headers:
            if k.lower() == "content-type":
                has_ct = True
            self.send_header(k, v)
        if resp.status not in (204, 304):
            if not has_ct and resp.body:
                self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if resp.status not in (204, 304) and not head_only and resp.body:
            self.wfile.write(resp.body)

    def _dispatch(self):
        srv = self.server
        em = srv.emulator
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        req = Request(self.command, self.path, self.headers, body, self.client_address)
        # The verified TLS client certificate, when the server asks for one (Vault cert auth).
        getpeercert = getattr(self.connection, "getpeercert", None)
        req.peer_cert = getpeercert() if getpeercert else None
        if req.path.startswith(CONTROL_PREFIX):
            try:
                resp = self._control(req)
            except Exception as exc:  # pragma: no cover - defensive
                resp = json_response(500, {"error": "%s: %s" % (type(exc).__name__, exc)})
            self._send(resp)
            return
        with srv.log_lock:
            srv.in_flight += 1
            srv.peak_in_flight = max(srv.peak_in_flight, srv.in_flight)
        try:
            self._answer(srv, em, req)
        finally:
            with srv.log_lock:
                srv.in_flight -= 1

    def _answer(self, srv, em, req):
        em.record_presented_credentials(req)
        entry = srv.log_request(req)
        fault = srv.take_fault(req)
        if fault is not None:
            entry["fault"] = fault.id
            if fault.delay_ms:
                time.sleep(fault.delay_ms / 1000.0)
            if fault.drop_connection:
                entry["status"] = "dropped"
                self.close_connection = True
                try:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               b"\x01\x00\x00\x00\x00\x00\x00\x00")
                except OSError:
                    pass
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if fault.status is not None:
                fbody = fault.body if fault.body is not None else ""
                ctype = fault.content_type
                if ctype is None:
                    try:
                        json.loads(fbody)
                        ctype = "application/json"
                    except ValueError:
                        ctype = "text/plain; charset=utf-8"
                resp = Response(int(fault.status), fbody, dict(fault.headers), ctype)
                entry["status"] = resp.status
                self._send(resp, req.method == "HEAD")
                return
        if em.ready_at and time.time() < em.ready_at:
            resp = em.not_ready_response(req)
        else:
            try:
                resp = em.handle(req)
            except HTTPError as he:
                resp = he.response
            except Exception as exc:
                import traceback
                traceback.print_exc()
                resp = text_response(500, "emulator internal error: %s: %s" % (type(exc).__name__, exc))
        entry["status"] = resp.status
        try:
            self._send(resp, req.method == "HEAD")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _control(self, req):
        srv = self.server
        em = srv.emulator
        name = req.path[len(CONTROL_PREFIX):].strip("/")
        if name == "health":
            return json_response(200, {"ok": True, "emulator": em.name})
        if name == "reset" and req.method == "POST":
            with srv.log_lock:
                srv.faults = []
                srv.request_log = []
                srv.peak_in_flight = srv.in_flight
            srv.apply_initial_state()
            return json_response(200, {"ok": True})
        if name == "fault" and req.method == "POST":
            try:
                spec = req.json()
                with srv.log_lock:
                    srv.fault_seq += 1
                    f = Fault(srv.fault_seq, spec)
                    srv.faults.append(f)
            except (ValueError, re.error, TypeError) as exc:
                return json_response(400, {"error": str(exc)})
            return json_response(200, {"ok": True, "id": f.id})
        if name == "clear_faults" and req.method == "POST":
            with srv.log_lock:
                srv.faults = []
            return json_response(200, {"ok": True})
        if name == "concurrency":
            with srv.log_lock:
                if req.method == "DELETE":
                    srv.peak_in_flight = srv.in_flight
                return json_response(200, {"in_flight": srv.in_flight,
                                           "peak": srv.peak_in_flight})
        if name == "faults" and req.method == "GET":
            with srv.log_lock:
                return json_response(200, [f.to_dict() for f in srv.faults])
        if name == "requests":
            if req.method == "DELETE":
                with srv.log_lock:
                    srv.request_log = []
                return json_response(200, {"ok": True})
            with srv.log_lock:
                out = list(srv.request_log)
            m = req.arg("method")
            if m:
                out = [e for e in out if e["method"] == m.upper()]
            pr = req.arg("path_regex")
            if pr:
                rx = re.compile(pr)
                out = [e for e in out if rx.search(e["path"])]
            since = req.arg("since")
            if since:
                out = [e for e in out if e["seq"] > int(since)]
            return json_response(200, out)
        if name == "seed" and req.method == "POST":
            try:
                data = req.json()
            except ValueError as exc:
                return json_response(400, {"error": "bad JSON: %s" % exc})
            if not isinstance(data, dict):
                return json_response(400, {"error": "seed must be a JSON object"})
            try:
                with em.lock:
                    em.seed_common(data)
                    result = em.seed(data)
                    em.cond.notify_all()
            except (ValueError, KeyError, TypeError) as exc:
                return json_response(400, {"error": "%s: %s" % (type(exc).__name__, exc)})
            out = {"ok": True}
            if isinstance(result, dict):
                out.update(result)
            return json_response(200, out)
        if name == "state" and req.method == "GET":
            with em.lock:
                return json_response(200, em.dump_state())
        return json_response(404, {"error": "unknown control endpoint %s %s" % (req.method, req.path)})

    # every method goes through _dispatch
    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_LIST = do_HEAD = do_OPTIONS = do_GET


def write_port_file(path, port):
    d = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(d, ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def run_main(emulator_factory, argv=None):
    ap = argparse.ArgumentParser(description="templet %s emulator" % emulator_factory.name)
    ap.add_argument("--port-file", help="write the bound port here (atomically) once listening")
    ap.add_argument("--port", type=int, default=0, help="port to bind (default: random)")
    ap.add_argument("--seed-file", help="JSON seed applied at start and on /_emulator/reset")
    ap.add_argument("--state-file", help="write the /_emulator/state dump here on exit")
    ap.add_argument("--verbose", action="store_true", help="log requests to stderr")
    ap.add_argument("--artifacts-dir",
                    help="append every secret issued or accepted to DIR/secrets/NAME-PID.jsonl")
    ap.add_argument("--tls-cert", help="serve https with this PEM certificate (needs --tls-key)")
    ap.add_argument("--tls-key", help="the PEM private key of --tls-cert")
    args = ap.parse_args(argv)

    seed_data = None
    if args.seed_file:
        with open(args.seed_file) as f:
            seed_data = json.load(f)
    emulator = emulator_factory()
    if args.artifacts_dir:
        secrets_dir = os.path.join(args.artifacts_dir, "secrets")
        os.makedirs(secrets_dir, exist_ok=True)
        emulator.secrets = SecretLog(os.path.join(
            secrets_dir, "%s-%d.jsonl" % (emulator_factory.name, os.getpid())))
    server = EmulatorHTTPServer(emulator, args.port, seed_data, args.verbose)
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        # Client certificates signed by this CA are asked for and verified, none required
        # (what Vault's listener does for its cert auth method). An environment variable, so
        # that tests can set it without a new flag in every launcher.
        client_ca = os.environ.get("TEMPLET_EMULATOR_TLS_CLIENT_CA")
        if client_ca:
            ctx.verify_mode = ssl.CERT_OPTIONAL
            ctx.load_verify_locations(client_ca)
        # The handshake happens on the handler's thread, so one stalled client cannot block
        # accept() for the others.
        server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
    emulator.start_background()
    port = server.server_address[1]

    def stop(signum, frame):
        emulator.stopping = True
        with emulator.lock:
            emulator.cond.notify_all()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.port_file:
        write_port_file(args.port_file, port)
    else:
        print(port, flush=True)
    if args.verbose:
        sys.stderr.write("[%s] listening on 127.0.0.1:%d\n" % (emulator.name, port))
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        if args.state_file:
            try:
                with emulator.lock:
                    state = emulator.dump_state()
                tmp = args.state_file + ".tmp"
                with open(tmp, "w") as f:
                    json.dump(state, f, indent=2)
                os.replace(tmp, args.state_file)
            except Exception as exc:  # pragma: no cover
                sys.stderr.write("could not write state file: %s\n" % exc)
    return 0


def start_in_thread(emulator_factory, seed_data=None):
    """For Python tests that prefer an in-process server: returns (server, port)."""
    emulator = emulator_factory()
    server = EmulatorHTTPServer(emulator, 0, seed_data)
    emulator.start_background()
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    return server, server.server_address[1]
