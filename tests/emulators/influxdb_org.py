"""The org-scoped resources of the InfluxDB emulator: buckets, DBRP mappings, org secrets.

A mixin of InfluxEmulator (influxdb.py), which owns the state, auth and dispatch. Behaviour
follows influxdata/influxdb v2.9.1:
  buckets  tenant/http_server_bucket.go (routes, request checks, response shape),
           tenant/service_bucket.go (name rules, system buckets cannot be deleted),
           tenant/storage_bucket.go (an org's buckets listed in name order from the name index;
           `after` skips up to and including that id; offset before after; limit after),
           paging.go (DecodeFindOptions: limit 1..100, default 20; NewPagingLinks: `next`
           whenever a page is full, so a client that follows it until an empty page asks once
           more than it needs to)
  dbrps    dbrp/http_server_dbrp.go, dbrp/service.go (Create: bucket must exist, (org, db, rp)
           unique among physical mappings, the first mapping of a database becomes its default;
           FindMany: a virtual mapping per bucket, hidden only by a physical mapping of the
           same database and retention policy), dbrp/error.go (messages)
  secrets  secret/http_server.go (GET lists keys only, PATCH merges a key -> value object and
           answers 204, DELETE /secrets/{key} and the deprecated POST /secrets/delete answer 204
           whether or not the key existed), secret/service.go, secret/storage.go (keys in byte
           order)
"""

import re

from common import empty_response


class OrgResources:
    """Needs from the host class: orgs, buckets, dbrps, org_secrets, secrets (SecretLog),
    new_id, now, _add_bucket, _org_by_name, _can, _method, ierr/jresp/check_id via module."""

    # ------------------------------------------------------------------ buckets
    def _bucket_json(self, b):
        d = {"id": b["id"], "orgID": b["orgID"], "type": b["type"], "name": b["name"]}
        if b.get("description"):
            d["description"] = b["description"]
        d.update({"retentionRules": b["retentionRules"], "createdAt": b["createdAt"],
                  "updatedAt": b["updatedAt"], "labels": [],
                  "links": {"self": "/api/v2/buckets/" + b["id"],
                            "org": "/api/v2/orgs/" + b["orgID"]}})
        return d

    def _req_org(self, req, tok, missing_msg):
        oid, name = req.arg("orgID"), req.arg("org")
        if oid:
            self.check_id(oid)
            if oid not in self.orgs:
                raise self.ierr("not found", 'invalid org ID "%s": organization not found' % oid)
            return oid
        if name:
            o = self._org_by_name(name)
            if o is None:
                raise self.ierr("not found", 'invalid org "%s": organization not found' % name)
            return o["id"]
        if missing_msg:
            raise self.ierr("invalid", missing_msg)
        return None

    def _retention_rules(self, body):
        """postBucketRequest.OK / bucketUpdate.OK: at most one rule, no negative seconds."""
        rr = body.get("retentionRules")
        if rr is None:
            return None
        if not isinstance(rr, list):
            raise self.ierr("invalid", "failed to decode request body: retentionRules")
        if len(rr) > 1:
            raise self.ierr("unprocessable entity",
                            "buckets cannot have more than one retention rule at this time")
        if not rr:
            return []
        every = int(rr[0].get("everySeconds") or 0)
        shard = int(rr[0].get("shardGroupDurationSeconds") or 0)
        if every < 0:
            raise self.ierr("unprocessable entity", "expiration seconds cannot be negative")
        if shard < 0:
            raise self.ierr("unprocessable entity",
                            "shard-group duration seconds cannot be negative")
        if every == 0 and shard == 0:
            return []
        return [{"type": "expire", "everySeconds": every,
                 "shardGroupDurationSeconds": shard or (604800 if every == 0 or every >= 15552000
                                                        else 86400 if every >= 172800
                                                        else 3600)}]

    @staticmethod
    def _find_options(req, ierr, check_id):
        """paging.go DecodeFindOptions."""
        opts = {"offset": 0, "after": None, "limit": 20}
        if req.arg("offset"):
            try:
                opts["offset"] = int(req.arg("offset"))
            except ValueError:
                raise ierr("invalid", "offset is invalid")
        if req.arg("after"):
            try:
                opts["after"] = check_id(req.arg("after"))
            except Exception:
                raise ierr("invalid", "decoding after: invalid ID")
        if req.arg("limit"):
            try:
                limit = int(req.arg("limit"))
            except ValueError:
                raise ierr("invalid", "limit is invalid")
            if limit < 1 or limit > 100:
                raise ierr("invalid", "limit must be between 1 and 100")
            opts["limit"] = limit
        return opts

    def _list_buckets(self, req, tok):
        opts = self._find_options(req, self.ierr, self.check_id)
        name, bid = req.arg("name"), req.arg("id")
        if bid:
            b = self.buckets.get(self.check_id(bid))
            if b is None:
                raise self.ierr("not found", "bucket not found")
            items = [b]
        else:
            oid = self._req_org(req, tok, None)
            if name and oid:
                b = next((b for b in self.buckets.values()
                          if b["orgID"] == oid and b["name"] == name), None)
                if b is None:
                    raise self.ierr("not found", 'bucket "%s" not found' % name)
                items = [b]
            elif oid:
                # the org's name index: name order; offset, then after (exclusive), then limit
                cands = sorted((b for b in self.buckets.values() if b["orgID"] == oid),
                               key=lambda b: b["name"].encode())[opts["offset"]:]
                if opts["after"]:
                    ids = [b["id"] for b in cands]
                    cands = cands[ids.index(opts["after"]) + 1:] if opts["after"] in ids else []
                items = cands[:opts["limit"]]
            else:
                # the id-keyed bucket store: id order, after seeks past that id
                cands = sorted(self.buckets.values(), key=lambda b: b["id"])
                if name:
                    cands = [b for b in cands if b["name"] == name]
                if opts["after"]:
                    cands = [b for b in cands if b["id"] > opts["after"]]
                items = cands[opts["offset"]:][:opts["limit"]]
        # AuthorizeFindBuckets filters after paging: a page may come back short
        items = [b for b in items if self._can(tok, b["orgID"])]
        q = ["descending=false", "limit=%d" % opts["limit"], "offset=%d" % opts["offset"]]
        if opts["after"]:
            q.insert(0, "after=" + opts["after"])
        links = {"self": "/api/v2/buckets?" + "&".join(sorted(q))}
        if len(items) >= opts["limit"]:
            nq = [x for x in q if not x.startswith("offset=")] + [
                "offset=%d" % (opts["offset"] + opts["limit"])]
            links["next"] = "/api/v2/buckets?" + "&".join(sorted(nq))
        if opts["offset"] > 0:
            pq = [x for x in q if not x.startswith("offset=")] + [
                "offset=%d" % max(0, opts["offset"] - opts["limit"])]
            links["prev"] = "/api/v2/buckets?" + "&".join(sorted(pq))
        return self.jresp(200, {"links": links,
                                "buckets": [self._bucket_json(b) for b in items]})

    def _create_bucket(self, req, tok):
        try:
            body = req.json()
        except ValueError as exc:
            raise self.ierr("invalid", "failed to decode request body: %s" % exc)
        oid = body.get("orgID")
        if not oid:
            raise self.ierr("invalid", "organization id must be provided")
        self.check_id(oid)
        rules = self._retention_rules(body) or []
        if oid not in self.orgs:
            raise self.ierr("not found", "organization not found")
        if not self._can(tok, oid, write=True):
            raise self.ierr("unauthorized", "write:orgs/%s/buckets is unauthorized" % oid)
        name = body.get("name") or ""
        if name.startswith("_"):
            raise self.ierr("invalid", "bucket name %s is invalid. Buckets may not start with "
                                       "underscore" % name)
        if '"' in name:
            raise self.ierr("invalid", "bucket name %s is invalid. Bucket names may not include "
                                       "quotation marks" % name)
        if any(b["orgID"] == oid and b["name"] == name for b in self.buckets.values()):
            raise self.ierr("conflict", "bucket with name %s already exists" % name)
        b = self._add_bucket(oid, name)
        b["retentionRules"] = rules
        b["description"] = body.get("description", "")
        return self.jresp(201, self._bucket_json(b))

    def _buckets(self, req, tok, rest):
        if not rest:
            self._method(req, ["GET", "POST"])
            if req.method == "POST":
                return self._create_bucket(req, tok)
            return self._list_buckets(req, tok)
        bid = self.check_id(rest[0])
        b = self.buckets.get(bid)
        if b is None or not self._can(tok, b["orgID"]):
            raise self.ierr("not found", "bucket not found")
        self._method(req, ["GET", "PATCH", "DELETE"])
        if req.method == "DELETE":
            if not self._can(tok, b["orgID"], write=True):
                raise self.ierr("unauthorized", "write:orgs/%s/buckets/%s is unauthorized"
                                % (b["orgID"], bid))
            if b["type"] == "system":
                raise self.ierr("invalid", "system buckets cannot be deleted")
            del self.buckets[bid]
            return empty_response(204)
        if req.method == "PATCH":
            try:
                body = req.json()
            except ValueError as exc:
                raise self.ierr("invalid", "failed to decode request body: %s" % exc)
            rules = self._retention_rules(body)
            if not self._can(tok, b["orgID"], write=True):
                raise self.ierr("unauthorized", "write:orgs/%s/buckets/%s is unauthorized"
                                % (b["orgID"], bid))
            if body.get("name") is not None and body["name"] != b["name"]:
                if b["type"] == "system":
                    raise self.ierr("invalid", "system buckets cannot be renamed")
                if any(x["orgID"] == b["orgID"] and x["name"] == body["name"]
                       for x in self.buckets.values()):
                    raise self.ierr("conflict", "bucket name is not unique")
                b["name"] = body["name"]
            if body.get("description") is not None:
                b["description"] = body["description"]
            # bucketUpdate.toInfluxDB: an absent or empty list leaves the retention alone; a
            # rule of 0 seconds is forever, the shard-group duration kept
            rr = body.get("retentionRules") or []
            if rules is not None and rr:
                old = b["retentionRules"][0] if b["retentionRules"] else {}
                every = int(rr[0].get("everySeconds") or 0)
                shard = int(rr[0].get("shardGroupDurationSeconds") or 0) or \
                    old.get("shardGroupDurationSeconds", 0)
                b["retentionRules"] = rules if not shard else [
                    {"type": "expire", "everySeconds": every,
                     "shardGroupDurationSeconds": shard}]
            from common import rfc3339
            b["updatedAt"] = rfc3339(self.now())
        return self.jresp(200, self._bucket_json(b))

    # ------------------------------------------------------------------ dbrps
    def _add_dbrp(self, org, bucket_id, db, rp, default):
        same_db = [d for d in self.dbrps.values() if d["orgID"] == org and d["database"] == db]
        if not same_db:
            default = True  # Create: no default set for this database yet
        if default:
            for d in same_db:
                d["default"] = False
        d = {"id": self.new_id(), "database": db, "retention_policy": rp,
             "default": bool(default), "orgID": org, "bucketID": bucket_id, "virtual": False}
        self.dbrps[d["id"]] = d
        return d

    def _all_dbrps(self, org):
        out = [dict(d) for d in self.dbrps.values() if d["orgID"] == org]
        physical = list(out)
        for b in sorted(self.buckets.values(), key=lambda b: b["name"].encode()):
            if b["orgID"] != org:
                continue
            db, _, rp = b["name"].partition("/")
            v = {"id": b["id"], "database": db, "retention_policy": rp or "autogen",
                 "default": not rp, "orgID": org, "bucketID": b["id"], "virtual": True}
            if any(m["database"] == db and m["retention_policy"] == v["retention_policy"]
                   for m in physical):
                continue
            if any(m["database"] == db and m["default"] for m in physical):
                v["default"] = False
            out.append(v)
        return out

    def _dbrps(self, req, tok, rest):
        org = self._req_org(req, tok, "either 'org' or 'orgID' must be provided") \
            if not (req.method == "POST" and not rest) else None
        if not rest:
            self._method(req, ["GET", "POST"])
            if req.method == "GET":
                items = self._all_dbrps(org)
                for key, field in (("id", "id"), ("bucketID", "bucketID"), ("db", "database"),
                                   ("rp", "retention_policy")):
                    v = req.arg(key)
                    if v:
                        items = [d for d in items if d[field] == v]
                if req.arg("default") in ("true", "false"):
                    want = req.arg("default") == "true"
                    items = [d for d in items if d["default"] == want]
                return self.jresp(200, {"content": items})
            try:
                body = req.json()
            except ValueError:
                raise self.ierr("invalid", "invalid json structure")
            if body.get("orgID"):
                org = self.check_id(body["orgID"])
            elif body.get("org"):
                o = self._org_by_name(body["org"])
                if o is None:
                    raise self.ierr("not found", 'invalid org "%s"' % body["org"])
                org = o["id"]
            else:
                raise self.ierr("invalid", "either 'org' or 'orgID' must be provided")
            if not self._can(tok, org, write=True):
                raise self.ierr("unauthorized", "write:orgs/%s/dbrp is unauthorized" % org)
            for f in ("database", "retention_policy"):
                v = body.get(f) or ""
                if not v or not re.fullmatch(r"[A-Za-z0-9_.\-]+", v):
                    raise self.ierr("invalid", "DBRP provided is invalid")
            bid = body.get("bucketID") or ""
            if not re.fullmatch(r"[0-9a-f]{16}", bid) or bid == "0" * 16:
                raise self.ierr("invalid", 'invalid bucket ID "%s"' % bid)
            if bid not in self.buckets:
                raise self.ierr("not found", "bucket not found")
            if any(d["orgID"] == org and d["database"] == body["database"] and
                   d["retention_policy"] == body["retention_policy"]
                   for d in self.dbrps.values()):
                raise self.ierr("conflict", "another DBRP mapping with same orgID, db, and rp "
                                            "exists")
            d = self._add_dbrp(org, bid, body["database"], body["retention_policy"],
                               bool(body.get("default")))
            return self.jresp(201, d)
        did = self.check_id(rest[0])
        d = self.dbrps.get(did)
        if d is None or d["orgID"] != org:
            v = next((x for x in self._all_dbrps(org) if x["id"] == did), None)
            if v is None or req.method != "GET":
                raise self.ierr("not found", "unable to find DBRP")
            return self.jresp(200, {"content": v})
        self._method(req, ["GET", "PATCH", "DELETE"])
        if req.method == "DELETE":
            del self.dbrps[did]
            return empty_response(204)
        if req.method == "PATCH":
            try:
                body = req.json()
            except ValueError:
                raise self.ierr("invalid", "invalid json structure")
            if body.get("retention_policy"):
                d["retention_policy"] = body["retention_policy"]
            if body.get("default") is not None:
                if body["default"]:
                    for x in self.dbrps.values():
                        if x["orgID"] == org and x["database"] == d["database"]:
                            x["default"] = False
                d["default"] = bool(body["default"])
        return self.jresp(200, {"content": d})

    # ------------------------------------------------------------------ secrets
    def _org_secrets(self, req, tok, oid, rest):
        if not self._can(tok, oid):
            raise self.ierr("unauthorized", "read:orgs/%s/secrets is unauthorized" % oid)
        store = self.org_secrets.setdefault(oid, {})
        links = {"org": "/api/v2/orgs/" + oid, "self": "/api/v2/orgs/%s/secrets" % oid}
        if not rest:
            self._method(req, ["GET", "PATCH"])
            if req.method == "GET":
                return self.jresp(200, {"links": links,
                                        "secrets": sorted(store, key=lambda k: k.encode())})
            try:
                body = req.json()
            except ValueError as exc:
                raise self.ierr("invalid", "failed to decode request body: %s" % exc)
            if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
                raise self.ierr("invalid", "failed to decode request body: json: cannot "
                                           "unmarshal into Go value of type map[string]string")
            if not self._can(tok, oid, write=True):
                raise self.ierr("unauthorized", "write:orgs/%s/secrets is unauthorized" % oid)
            for k, v in body.items():
                self.secrets.record("influxdb_secret", v)
                store[k] = v
            return empty_response(204)
        if len(rest) == 1 and rest[0] == "delete" and req.method == "POST":
            try:
                keys = (req.json() or {}).get("secrets") or []
            except (ValueError, AttributeError) as exc:
                raise self.ierr("invalid", "failed to decode request body: %s" % exc)
        elif len(rest) == 1:
            self._method(req, ["DELETE"])
            keys = [rest[0]]
        else:
            raise self.ierr("not found", "path not found")
        if not self._can(tok, oid, write=True):
            raise self.ierr("unauthorized", "write:orgs/%s/secrets is unauthorized" % oid)
        for k in keys:
            store.pop(k, None)
        return empty_response(204)
