#!/usr/bin/env python3
"""A stand-in for Redash's `manage.py ds` (list/new/edit/delete/test) for the hook's tests.

It prints what redash/cli/data_sources.py prints (http-apis.md section 1.14) and works on the
Redash emulator named by REDASH_EMU_URL, through its API (admin key) and /_emulator/state
(for unmasked options, as `ds list` shows them).

Like the real one (a Flask CLI: click with auto_envvar_prefix "FLASK"), `--options` may instead
come from FLASK_DS_NEW_OPTIONS / FLASK_DS_EDIT_OPTIONS; FAKE_MANAGE_IGNORE_ENV=1 plays a
manage.py the variables do not reach (docker exec without -e). Without options, `new` prompts
and, with no input, aborts; `edit` changes nothing. FAKE_MANAGE_ARGV_LOG names a file each
argv is appended to, as a JSON line.
"""
import json
import os
import sys
import urllib.error
import urllib.request

BASE = os.environ["REDASH_EMU_URL"]


def call(method, path, body=None):
    req = urllib.request.Request(BASE + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Key admin-api-key"})
    try:
        with urllib.request.urlopen(req) as r:
            data = r.read()
            return r.status, json.loads(data) if data else None
    except urllib.error.HTTPError as e:
        return e.code, None


def by_name(name):
    return [d for d in call("GET", "/_emulator/state")[1]["data_sources"] if d["name"] == name]


def opt(args, flag):
    return args[args.index(flag) + 1] if flag in args else None


def options(cmd, args):
    given = opt(args, "--options")
    if given is None and not os.environ.get("FAKE_MANAGE_IGNORE_ENV"):
        given = os.environ.get("FLASK_DS_%s_OPTIONS" % cmd.upper())
    return None if given is None else json.loads(given)


def main(argv):
    if os.environ.get("FAKE_MANAGE_ARGV_LOG"):
        with open(os.environ["FAKE_MANAGE_ARGV_LOG"], "a") as f:
            f.write(json.dumps(argv) + "\n")
    if argv[:1] != ["ds"]:
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "list":
        rows = sorted(call("GET", "/_emulator/state")[1]["data_sources"],
                      key=lambda d: d["name"])
        for i, d in enumerate(rows):
            if i:
                print("-" * 20)
            print("Id: %d\nName: %s\nType: %s\nOptions: %s" %
                  (d["id"], d["name"], d["type"], json.dumps(d["options"])))
        return 0
    if cmd == "new":
        opts = options(cmd, args)
        if opts is None:  # click.prompt with stdin at EOF
            print("Aborted!", file=sys.stderr)
            return 1
        st, out = call("POST", "/api/data_sources", {"name": args[0], "type": opt(args, "--type"),
                                                     "options": opts})
        if st != 200:
            print("Error: invalid configuration.")
            return 1
        print("Id: %d" % out["id"])
        return 0
    found = by_name(args[0])
    if not found:
        print("Couldn't find data source named: %s" % args[0])
        return 0 if cmd == "edit" else 1
    ds = found[0]
    if cmd == "edit":
        opts = options(cmd, args)
        if opts is None:
            return 0
        st, _ = call("POST", "/api/data_sources/%d" % ds["id"],
                     {"name": ds["name"], "type": opt(args, "--type") or ds["type"],
                      "options": opts})
        if st != 200:
            print("Traceback (most recent call last):\nValidationError", file=sys.stderr)
            return 1
        return 0
    if cmd == "delete":
        call("DELETE", "/api/data_sources/%d" % ds["id"])
        print("Deleting data source: %s ..." % ds["name"])
        return 0
    if cmd == "test":
        st, out = call("POST", "/api/data_sources/%d/test" % ds["id"])
        print("Testing connection to data source: %s..." % ds["name"])
        print("Success" if out and out.get("ok") else "Failure: %s" % (out or {}).get("message"))
        return 0 if out and out.get("ok") else 1
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
