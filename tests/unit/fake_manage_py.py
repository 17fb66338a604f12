#!/usr/bin/env python3
"""A stand-in for Redash's `manage.py ds` (list/list_types/new/edit/delete/test) for the hook's
tests.

It prints what redash/cli/data_sources.py prints (http-apis.md section 1.14), to the same
streams, and works on the Redash emulator named by REDASH_EMU_URL, through its API (admin key)
and /_emulator/state (for unmasked options, as `ds list` shows them):
- every run first logs INFO lines to stderr, as the real one does while the app loads
  (redash/settings LOG_FORMAT, e.g. xmlschema's "Include schema ..."), so a client quoting "the
  last line" of stderr quotes a log line;
- `ds new` checks the type (validate_data_source_type: `Error: the type ... is not supported`
  on stdout, exit 1), then the options (ConfigurationContainer.is_valid: `Error: invalid
  configuration.`), then prints `Creating <type> data source (<name>) with options:` and the
  options unmasked, as json_dumps(sort_keys=True, ensure_ascii=False) gives them, then `Id: N`;
  a failing commit (the emulator refusing the POST) is a traceback on stderr after that;
- `ds edit` prints `Updating type: old -> new` when --type is given, and a jsonschema
  ValidationError traceback (multi-line message, the value's repr) for options its schema
  refuses;
- `ds edit`/`delete`/`test` of a name two datasources share die in `.one()` with a
  MultipleResultsFound traceback (SQLAlchemy 1.3);
- `ds test` prints `Failure: <message>` on stdout and exits 1.

Like the real one (a Flask CLI: click with auto_envvar_prefix "FLASK"), `--options` may instead
come from FLASK_DS_NEW_OPTIONS / FLASK_DS_EDIT_OPTIONS; FAKE_MANAGE_IGNORE_ENV=1 plays a
manage.py the variables do not reach (docker exec without -e). Without options, `new` prompts
and, with no input, aborts; `edit` changes nothing. FAKE_MANAGE_ARGV_LOG names a file each
argv is appended to, as a JSON line.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "emulators"))
from redash import validate  # noqa: E402  (the emulator's jsonschema subset)

BASE = os.environ["REDASH_EMU_URL"]
OUT, ERR = [], []


def out(text):
    OUT.append(text + "\n")


def err(text):
    ERR.append(text + "\n")


def log(level, name, message):
    stamp = time.strftime("%Y-%m-%d %H:%M:%S") + ",000"
    err("[%s][PID:%d][%s][%s] %s" % (stamp, os.getpid(), level, name, message))


def dumps(value):
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def call(method, path, body=None):
    req = urllib.request.Request(BASE + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Key admin-api-key",
                                          "X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(req) as r:
            data = r.read()
            return r.status, json.loads(data) if data else None
    except urllib.error.HTTPError as e:
        return e.code, None


def state():
    return call("GET", "/_emulator/state")[1]


def schema_of(type_):
    for t in call("GET", "/api/data_sources/types")[1] or []:
        if t["type"] == type_:
            return t["configuration_schema"]
    return None


def traceback(frames, exc_line, *more):
    err("Traceback (most recent call last):")
    for f, line, code in frames:
        err('  File "%s", line %d, in %s' % (f, line, code[0]))
        err("    " + code[1])
    err(exc_line)
    for m in more:
        err(m)


def one(name, command):
    """DataSource.query.filter(name == name).one(): None when absent; dies when shared."""
    found = [d for d in state()["data_sources"] if d["name"] == name]
    if len(found) > 1:
        traceback([("/app/redash/cli/data_sources.py", 70, (command, ").one()")),
                   ("/usr/local/lib/python3.10/site-packages/sqlalchemy/orm/query.py", 3500,
                    ("one", 'raise orm_exc.MultipleResultsFound("Multiple rows were found for '
                            'one()")'))],
                  "sqlalchemy.orm.exc.MultipleResultsFound: Multiple rows were found for one()")
        raise SystemExit(1)
    return found[0] if found else None


def py_repr(value):
    return repr(value)


def validation_error(value, key, prop):
    """jsonschema 3's ValidationError as str() prints it: message, schema, instance."""
    traceback([("/app/redash/cli/data_sources.py", 254, ("edit",
                                                         "data_source.options.update(options)")),
               ("/usr/local/lib/python3.10/site-packages/jsonschema/validators.py", 934,
                ("validate", "raise error"))],
              "jsonschema.exceptions.ValidationError: %s is not of type %s" %
              (py_repr(value), py_repr(prop.get("type"))),
              "", "Failed validating 'type' in schema['properties'][%s]:" % py_repr(key),
              "    %s" % py_repr(prop), "", "On instance[%s]:" % py_repr(key),
              "    %s" % py_repr(value))


def opt(args, flag):
    return args[args.index(flag) + 1] if flag in args else None


def options(cmd, args):
    given = opt(args, "--options")
    if given is None and not os.environ.get("FAKE_MANAGE_IGNORE_ENV"):
        given = os.environ.get("FLASK_DS_%s_OPTIONS" % cmd.upper())
    return None if given is None else json.loads(given)


def run(argv):
    log("INFO", "xmlschema", "Include schema from 'http://www.w3.org/2001/xml.xsd'")
    if argv[:1] != ["ds"] or len(argv) < 2:
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "list":
        rows = sorted(state()["data_sources"], key=lambda d: d["name"])
        for i, d in enumerate(rows):
            if i:
                out("-" * 20)
            out("Id: %d\nName: %s\nType: %s\nOptions: %s" %
                (d["id"], d["name"], d["type"], dumps(d["options"])))
        return 0
    if cmd == "list_types":
        types = state()["types"]
        out("Enabled Query Runners:")
        for t in types:
            out(t)
        out("Total of %d." % len(types))
        return 0
    if cmd == "new":
        type_ = opt(args, "--type")
        types = state()["types"]
        if type_ not in types:
            out('Error: the type "%s" is not supported (supported types: %s).' %
                (type_, ", ".join(types)))
            out("OJNK")
            return 1
        opts = options(cmd, args)
        if opts is None:  # click.prompt with stdin at EOF
            err("Aborted!")
            return 1
        if not validate(opts, schema_of(type_)):
            out("Error: invalid configuration.")
            return 1
        out("Creating %s data source (%s) with options:\n%s" % (type_, args[0], dumps(opts)))
        st, created = call("POST", "/api/data_sources",
                           {"name": args[0], "type": type_, "options": opts})
        if st != 200:
            traceback([("/app/redash/cli/data_sources.py", 170, ("new",
                                                                 "models.db.session.commit()"))],
                      "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) server "
                      "closed the connection unexpectedly")
            return 1
        out("Id: %d" % created["id"])
        return 0
    if cmd not in ("edit", "delete", "test"):
        return 2
    type_ = opt(args, "--type") if cmd == "edit" else None
    if type_ is not None and type_ not in state()["types"]:
        out('Error: the type "%s" is not supported (supported types: %s).' %
            (type_, ", ".join(state()["types"])))
        out("OJNK")
        return 1
    ds = one(args[0], cmd)
    if ds is None:
        out("Couldn't find data source named: %s" % args[0])
        return 0 if cmd == "edit" else 1
    if cmd == "edit":
        if type_ is not None:
            out("Updating type: %s -> %s" % (ds["type"], type_))
        opts = options(cmd, args)
        if opts is None:
            return 0
        schema = schema_of(type_ or ds["type"]) or {}
        for k, prop in (schema.get("properties") or {}).items():
            if k in opts and not validate({k: opts[k]}, {"properties": {k: prop}}):
                validation_error(opts[k], k, prop)
                return 1
        st, _ = call("POST", "/api/data_sources/%d" % ds["id"],
                     {"name": ds["name"], "type": type_ or ds["type"], "options": opts})
        if st != 200:
            traceback([], "jsonschema.exceptions.ValidationError: invalid configuration")
            return 1
        return 0
    if cmd == "delete":
        out("Deleting data source: %s (id=%d)" % (args[0], ds["id"]))
        call("DELETE", "/api/data_sources/%d" % ds["id"])
        return 0
    out("Testing connection to data source: %s (id=%d)" % (args[0], ds["id"]))
    st, res = call("POST", "/api/data_sources/%d/test" % ds["id"])
    if res and res.get("ok"):
        out("Success")
        return 0
    out("Failure: %s" % (res or {}).get("message"))
    return 1


def main(argv):
    if os.environ.get("FAKE_MANAGE_ARGV_LOG"):
        with open(os.environ["FAKE_MANAGE_ARGV_LOG"], "a") as f:
            f.write(json.dumps(argv) + "\n")
    try:
        code = run(argv)
    except SystemExit as e:
        code = e.code
    sys.stdout.write("".join(OUT))
    sys.stderr.write("".join(ERR))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
