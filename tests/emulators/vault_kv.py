"""KV v1 and KV v2 mounts of the Vault emulator (a mixin of VaultEmulator in vault.py).

As hashicorp/vault's KV plugin (vault-plugin-secrets-kv: passthrough.go for v1; path_data.go,
path_metadata.go and path_delete.go for v2): versions with created and deletion times, soft
delete and destroy, check-and-set, and the list and metadata endpoints.
"""

import calendar
import time

from common import empty_response, json_response, rfc3339  # noqa: E402
from vault_common import err, multierror, parse_duration_second  # noqa: E402

KV_V1_TTL = 768 * 3600
INVALID_V2_PATH = ("Invalid path for a versioned K/V secrets engine. See the API docs for the "
                   "appropriate API endpoints to use. If using the Vault CLI, use 'vault kv get' "
                   "for this operation.")


class KvMixin:
    # ------------------------------------------------------------------ KV v1
    def _kv1(self, req, m, op, rel):
        store = self.kv[m["path"]]
        mt = "kv"
        if op == "LIST":
            keys = self._list_keys(store.keys(), rel)
            if not keys:
                raise err(404)
            return self.ok(data={"keys": keys}, mount_type=mt)
        if not rel or rel.endswith("/"):
            if op == "GET":
                raise err(404)
            raise err(400, "missing path" if not rel else multierror("unsupported path"))
        if op == "GET":
            if rel not in store:
                raise err(404)
            data = store[rel]
            ttl = KV_V1_TTL
            if "ttl" in data:
                try:
                    ttl = parse_duration_second(data["ttl"])
                except ValueError:
                    pass
            elif m["default_ttl"]:
                ttl = m["default_ttl"]
            return self.ok(data=data, lease_duration=ttl, mount_type=mt)
        if op == "PUT":
            try:
                body = req.json() if req.body.strip() else {}
            except ValueError:
                raise err(400, "failed to parse JSON input: invalid character")
            if not isinstance(body, dict) or not body:
                raise err(400, "missing data fields")
            store[rel] = body
            self.secrets.record_leaves("kv_value", body)
            return empty_response(204)
        if op == "DELETE":
            store.pop(rel, None)
            return empty_response(204)
        raise err(405, multierror("unsupported operation"))

    @staticmethod
    def _list_keys(paths, prefix):
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        keys = set()
        for p in paths:
            if p.startswith(prefix):
                rest = p[len(prefix):]
                if not rest:
                    continue
                if "/" in rest:
                    keys.add(rest.split("/", 1)[0] + "/")
                else:
                    keys.add(rest)
        return sorted(keys)

    # ------------------------------------------------------------------ KV v2
    def _kv2_write(self, mpath, rel, data, cas):
        store = self.kv[mpath]
        now = self.now()
        e = store.get(rel)
        if e is None:
            e = {"versions": {}, "current_version": 0, "oldest_version": 0,
                 "created_time": rfc3339(now, True), "updated_time": rfc3339(now, True),
                 "custom_metadata": None, "max_versions": 0, "cas_required": False,
                 "delete_version_after": "0s"}
        if cas is not None and int(cas) != e["current_version"]:
            raise err(400, "check-and-set parameter did not match the current version")
        if e["cas_required"] and cas is None:
            raise err(400, "check-and-set parameter required for this call")
        store[rel] = e
        self.secrets.record_leaves("kv_value", data)
        v = e["current_version"] + 1
        e["current_version"] = v
        if e["oldest_version"] == 0:
            e["oldest_version"] = 1
        e["updated_time"] = rfc3339(now, True)
        # delete_version_after schedules the version's deletion when it is written
        # (vault-plugin-secrets-kv path_data.go, delete_version_after.go; the metadata's
        # setting, the mount's config being fixed at "0s" here).
        dva = parse_duration_second(e["delete_version_after"])
        e["versions"][str(v)] = {"data": data, "created_time": rfc3339(now, True),
                                 "deletion_time": rfc3339(now + dva, True) if dva > 0 else "",
                                 "destroyed": False}
        maxv = e["max_versions"] or 10
        while len(e["versions"]) > maxv:
            oldest = min(int(k) for k in e["versions"])
            del e["versions"][str(oldest)]
            e["oldest_version"] = oldest + 1
        return e, v

    def _deleted(self, vv):
        t = vv["deletion_time"]
        if not t:
            return False
        base, _, frac = t.rstrip("Z").partition(".")
        when = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
        return when + float("0." + (frac or "0")) <= self.now()

    def _version_meta(self, e, v):
        ver = e["versions"][str(v)]
        return {"created_time": ver["created_time"], "custom_metadata": e["custom_metadata"],
                "deletion_time": ver["deletion_time"], "destroyed": ver["destroyed"],
                "version": v}

    def _kv2(self, req, m, op, rel):
        mt = "kv"
        store = self.kv[m["path"]]
        head, _, sub = rel.partition("/")
        if rel in ("config",):
            if op == "GET":
                return self.ok(data={"cas_required": False, "delete_version_after": "0s",
                                     "max_versions": 0}, mount_type=mt)
            return empty_response(204)
        if head not in ("data", "metadata", "delete", "undelete", "destroy", "subkeys"):
            return json_response(404, self.envelope(warnings=[INVALID_V2_PATH], mount_type=mt))
        if head == "metadata" and op == "LIST":
            keys = self._list_keys(store.keys(), sub)
            if not keys:
                raise err(404)
            return self.ok(data={"keys": keys}, mount_type=mt)
        if op == "LIST":
            return json_response(404, self.envelope(warnings=[INVALID_V2_PATH], mount_type=mt))
        if not sub:
            raise err(404)
        e = store.get(sub)
        if head == "data":
            if op == "GET":
                if e is None:
                    raise err(404)
                ver = req.arg("version")
                v = e["current_version"]
                if ver not in (None, "", "0"):
                    try:
                        v = int(ver)
                    except ValueError:
                        raise err(400, "invalid version")
                if str(v) not in e["versions"]:
                    raise err(404)
                meta = self._version_meta(e, v)
                vv = e["versions"][str(v)]
                # A deletion_time still in the future (delete_version_after) is not a
                # deletion yet: the version reads as usual until then (path_data.go).
                if vv["destroyed"] or self._deleted(vv):
                    return json_response(404, self.envelope(
                        data={"data": None, "metadata": meta}, mount_type=mt))
                return self.ok(data={"data": vv["data"], "metadata": meta}, mount_type=mt)
            if op in ("PUT", "PATCH"):
                try:
                    body = req.json()
                except ValueError:
                    raise err(400, "failed to parse JSON input: invalid character")
                if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
                    raise err(400, "no data provided")
                cas = (body.get("options") or {}).get("cas")
                if op == "PATCH":
                    if e is None or not e["current_version"] or \
                            e["versions"].get(str(e["current_version"]), {}).get("deletion_time"):
                        raise err(404)
                    merged = dict(e["versions"][str(e["current_version"])]["data"] or {})
                    for k, val in body["data"].items():
                        if val is None:
                            merged.pop(k, None)
                        else:
                            merged[k] = val
                    newdata = merged
                else:
                    newdata = body["data"]
                e, v = self._kv2_write(m["path"], sub, newdata, cas)
                return self.ok(data=self._version_meta(e, v), mount_type=mt)
            if op == "DELETE":
                if e and str(e["current_version"]) in e["versions"]:
                    vv = e["versions"][str(e["current_version"])]
                    if not vv["deletion_time"]:
                        vv["deletion_time"] = rfc3339(self.now(), True)
                return empty_response(204)
            raise err(405, multierror("unsupported operation"))
        if head in ("delete", "undelete", "destroy"):
            if op != "PUT":
                raise err(405, multierror("unsupported operation"))
            try:
                body = req.json()
            except ValueError:
                body = {}
            versions = body.get("versions") if isinstance(body, dict) else None
            if not versions:
                raise err(400, "no version number provided")
            if e:
                for v in versions:
                    vv = e["versions"].get(str(v))
                    if not vv:
                        continue
                    if head == "delete" and not vv["deletion_time"]:
                        vv["deletion_time"] = rfc3339(self.now(), True)
                    elif head == "undelete" and not vv["destroyed"]:
                        vv["deletion_time"] = ""
                    elif head == "destroy":
                        vv["destroyed"] = True
                        vv["data"] = None
            return empty_response(204)
        if head == "metadata":
            if op == "GET":
                if e is None:
                    raise err(404)
                versions = {k: {"created_time": v["created_time"],
                                "deletion_time": v["deletion_time"],
                                "destroyed": v["destroyed"]} for k, v in e["versions"].items()}
                data = {"cas_required": e["cas_required"], "created_time": e["created_time"],
                        "current_version": e["current_version"],
                        "custom_metadata": e["custom_metadata"],
                        "delete_version_after": e["delete_version_after"],
                        "max_versions": e["max_versions"],
                        "oldest_version": e["oldest_version"],
                        "updated_time": e["updated_time"], "versions": versions}
                return self.ok(data=data, mount_type=mt)
            if op in ("PUT", "PATCH"):
                try:
                    body = req.json()
                except ValueError:
                    body = {}
                if e is None:
                    now = self.now()
                    e = {"versions": {}, "current_version": 0, "oldest_version": 0,
                         "created_time": rfc3339(now, True), "updated_time": rfc3339(now, True),
                         "custom_metadata": None, "max_versions": 0, "cas_required": False,
                         "delete_version_after": "0s"}
                    store[sub] = e
                for k in ("custom_metadata", "max_versions", "cas_required",
                          "delete_version_after"):
                    if k in body:
                        e[k] = body[k]
                return empty_response(204)
            if op == "DELETE":
                store.pop(sub, None)
                return empty_response(204)
        if head == "subkeys" and op == "GET":
            if e is None or not e["current_version"]:
                raise err(404)
            vv = e["versions"][str(e["current_version"])]

            def sk(d):
                return {k: (sk(v) if isinstance(v, dict) else None) for k, v in d.items()}
            return self.ok(data={"subkeys": sk(vv["data"] or {}),
                                 "metadata": self._version_meta(e, e["current_version"])},
                           mount_type=mt)
        raise err(405, multierror("unsupported operation"))
