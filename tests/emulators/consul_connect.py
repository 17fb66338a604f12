"""Consul's Connect CA, health/connect, admin partitions, peerings and exported/imported services,
mixed into ConsulEmulator (consul.py), as Consul CE answers them unless seeded "enterprise".

Sources (hashicorp/consul): agent/agent_endpoint.go AgentConnectCARoots and
AgentConnectCALeafCert (served from the agent's cache: blocking queries on the roots' and the
leaf's index; the leaf needs service:write and is re-issued when the roots rotate),
agent/health_endpoint.go HealthConnectServiceNodes (proxies whose
Proxy.DestinationServiceName is the service, and native Connect services), agent/http.go Index
(CE has no /v1/partitions: its catch-all 404 "Invalid URL path: not a recognized HTTP API
endpoint"), agent/http_ce.go parseEntMetaPartition (CE refuses ?partition=: 400 "Invalid query
parameter: \\"partition\\" - Partitions are a Consul Enterprise feature"),
agent/peering_endpoint.go PeeringList (blocking), agent/exported_services_endpoint.go and the
imported-services endpoint (blocking on the config entries' index; CE answers imported services
as a list, Enterprise as {Partition, ImportedServices}).

Certificates are real: openssl makes a P-256 root per trust domain and signs each leaf with
the SPIFFE URI Consul gives it (spiffe://<trust domain>/ns/default/dc/<dc>/svc/<service>).
Every leaf private key is recorded as a secret (kind connect_leaf_key).

Seed keys: enterprise (bool), partitions [{Name, Description}], peerings [api.Peering],
exported_services [{Service, Consumers: {Peers, Partitions}}], imported_services
[{Service, Namespace, SourcePartition, SourcePeer}], rotate_ca (true: a new active root).
"""

import os
import subprocess
import tempfile
import time

from common import new_uuid, rfc3339

LEAF_TTL = 72 * 3600.0  # Consul's default leaf_cert_ttl
ROOT_TTL = 10 * 365 * 24 * 3600.0


def _openssl(args, cwd):
    subprocess.run(["openssl"] + args, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def _read(path):
    with open(path) as f:
        return f.read()


class ConnectMixin:
    def _reset_connect(self):
        self.enterprise = False
        self.cluster_id = new_uuid()
        self.trust_domain = self.cluster_id + ".consul"
        self.ca_roots = []  # made on first use: openssl takes a while
        self.ca_index = 0
        self.leaves = {}  # service -> issued cert dict (with _key_file for re-signing)
        self.partitions = []
        self.peerings = []
        self.peering_index = 1
        self.exported = []
        self.imported = []
        self.config_index = 1

    def _seed_connect(self, data):
        if "enterprise" in data:
            self.enterprise = bool(data["enterprise"])
        if "partitions" in data:
            self.partitions = [dict(p) for p in data["partitions"]]
        if "peerings" in data:
            self.peerings = []
            for p in data["peerings"]:
                idx = self._next()
                peer = {"ID": p.get("ID") or new_uuid(), "Name": p["Name"],
                        "Partition": p.get("Partition", "default" if self.enterprise else ""),
                        "Meta": p.get("Meta"), "State": p.get("State", "ACTIVE"),
                        "PeerID": p.get("PeerID", ""), "PeerCAPems": p.get("PeerCAPems"),
                        "PeerServerName": p.get("PeerServerName", ""),
                        "PeerServerAddresses": p.get("PeerServerAddresses"),
                        "StreamStatus": p.get("StreamStatus") or {},
                        "Remote": p.get("Remote") or {"Partition": "", "Datacenter": ""},
                        "CreateIndex": idx, "ModifyIndex": idx}
                self.peerings.append(peer)
                self.peering_index = idx
        if "exported_services" in data:
            self.exported = [dict(e) for e in data["exported_services"]]
            self.config_index = self._next()
        if "imported_services" in data:
            self.imported = [dict(e) for e in data["imported_services"]]
            self.config_index = self._next()
        if data.get("rotate_ca"):
            self._ensure_ca()
            self._new_root()
        self.cond.notify_all()

    # ------------------------------------------------------------------ CA
    def _ensure_ca(self):
        if not self.ca_roots:
            self._new_root()

    def _new_root(self):
        idx = self._next()
        d = tempfile.mkdtemp(prefix="consul-ca-")
        uri = "spiffe://" + self.trust_domain
        name = "pri-%s.consul.ca.%s.consul" % (new_uuid()[:8], self.cluster_id[:8])
        _openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"], d)
        _openssl(["req", "-x509", "-new", "-key", "ca.key", "-sha256", "-days", "3650",
                  "-subj", "/CN=" + name, "-addext", "subjectAltName=URI:" + uri,
                  "-addext", "basicConstraints=critical,CA:TRUE",
                  "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
                  "-out", "ca.pem"], d)
        now = time.time()
        for r in self.ca_roots:
            r["Active"] = False
            r["ModifyIndex"] = idx
        self.ca_roots.append({"ID": new_uuid(), "Name": "Consul CA Primary Cert",
                              "SerialNumber": idx, "SigningKeyID": "",
                              "ExternalTrustDomain": self.cluster_id,
                              "NotBefore": rfc3339(now), "NotAfter": rfc3339(now + ROOT_TTL),
                              "RootCert": _read(os.path.join(d, "ca.pem")),
                              "IntermediateCerts": None, "Active": True,
                              "PrivateKeyType": "ec", "PrivateKeyBits": 256,
                              "CreateIndex": idx, "ModifyIndex": idx, "_dir": d})
        self.ca_index = idx
        # The agent's leaf cache re-issues every leaf under the new root.
        for service in list(self.leaves):
            self._issue_leaf(service)

    def _active_root(self):
        return [r for r in self.ca_roots if r["Active"]][0]

    def _issue_leaf(self, service):
        idx = self._next()
        root = self._active_root()
        d = root["_dir"]
        uri = "%s/ns/default/dc/%s/svc/%s" % ("spiffe://" + self.trust_domain, self.dc, service)
        key, csr, pem = service + ".key", service + ".csr", service + ".pem"
        with open(os.path.join(d, service + ".ext"), "w") as f:
            f.write("subjectAltName=URI:%s\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=critical,CA:FALSE\n"
                    % uri)
        _openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key], d)
        _openssl(["req", "-new", "-key", key, "-subj", "/CN=" + service, "-out", csr], d)
        serial = "%x" % idx
        _openssl(["x509", "-req", "-in", csr, "-CA", "ca.pem", "-CAkey", "ca.key",
                  "-set_serial", "0x" + serial, "-days", "3", "-sha256",
                  "-extfile", service + ".ext", "-out", pem], d)
        now = time.time()
        private = _read(os.path.join(d, key))
        self.secrets.record("connect_leaf_key", private)
        serial = serial if len(serial) % 2 == 0 else "0" + serial
        self.leaves[service] = {
            "SerialNumber": ":".join(serial[i:i + 2] for i in range(0, len(serial), 2)),
            "CertPEM": _read(os.path.join(d, pem)), "PrivateKeyPEM": private,
            "Service": service, "ServiceURI": uri,
            "ValidAfter": rfc3339(now - 60), "ValidBefore": rfc3339(now + LEAF_TTL),
            "CreateIndex": idx, "ModifyIndex": idx}

    # ------------------------------------------------------------------ HTTP
    def _refuse_partition(self, req):
        if not self.enterprise and req.arg("partition") not in (None, ""):
            raise self._reply(400, 'Invalid query parameter: "partition" - Partitions are a '
                                   'Consul Enterprise feature')

    def _connect_endpoint(self, req, p):
        """The Response for one of this module's paths, or None."""
        ours = (p == "/v1/agent/connect/ca/roots" or p.startswith("/v1/agent/connect/ca/leaf/")
                or p.startswith("/v1/health/connect/")
                or p in ("/v1/partitions", "/v1/peerings", "/v1/exported-services",
                         "/v1/imported-services"))
        if not ours:
            return None
        if p == "/v1/partitions" and not self.enterprise:
            raise self._reply(404, "Invalid URL path: not a recognized HTTP API endpoint\n")
        self._method(req, ["GET"])
        ident = self._resolve(req)
        if p == "/v1/partitions":
            # Enterprise lists the partitions without an index (consul-template polls it).
            return self._json(req, 200, [dict({"Description": ""}, **x) for x in self.partitions])
        if p.startswith("/v1/health/connect/"):
            name = p[len("/v1/health/connect/"):]
            tags = req.args("tag")
            passing = req.has("passing") and req.arg("passing") not in ("false", "0")

            def connect_of(s):
                proxy = s.get("Proxy") or {}
                if s["Kind"] == "connect-proxy":
                    return proxy.get("DestinationServiceName") == name
                return s["Service"] == name and bool((s.get("Connect") or {}).get("Native"))

            def compute():
                return (200, self._health_entries(ident, connect_of, tags, passing),
                        self.catalog_index, False)
            status, body, index, _ = self._blocking(req, compute)
            return self._json(req, status, body, self._meta_headers(req, index))
        if p == "/v1/agent/connect/ca/roots":
            self._ensure_ca()

            def compute():
                roots = [{k: v for k, v in r.items() if not k.startswith("_")}
                         for r in self.ca_roots]
                return 200, {"ActiveRootID": self._active_root()["ID"],
                             "TrustDomain": self.trust_domain, "Roots": roots}, self.ca_index, \
                    False
            status, body, index, _ = self._blocking(req, compute)
            return self._json(req, status, body, self._meta_headers(req, index))
        if p.startswith("/v1/agent/connect/ca/leaf/"):
            service = p[len("/v1/agent/connect/ca/leaf/"):]
            self._require(ident, "service", service, "write")
            self._ensure_ca()
            if service not in self.leaves:
                self._issue_leaf(service)

            def compute():
                leaf = self.leaves[service]
                return 200, dict(leaf), leaf["ModifyIndex"], False
            status, body, index, _ = self._blocking(req, compute)
            return self._json(req, status, body, self._meta_headers(req, index))
        self._refuse_partition(req)
        partition = req.arg("partition") or "default"
        if p == "/v1/peerings":
            def compute():
                out = [dict(x) for x in self.peerings
                       if not self.enterprise or (x["Partition"] or "default") == partition]
                return 200, out, self.peering_index, False
        elif p == "/v1/exported-services":
            def compute():
                out = []
                for e in self.exported:
                    c = e.get("Consumers") or {}
                    item = {"Service": e["Service"],
                            "Consumers": {k: c[k] for k in ("Peers", "Partitions") if c.get(k)}}
                    if self.enterprise:
                        item["Partition"], item["Namespace"] = partition, "default"
                    out.append(item)
                return 200, out, self.config_index, False
        else:
            def compute():
                out = [{k: v for k, v in e.items() if v} for e in self.imported]
                if self.enterprise:
                    return 200, {"Partition": partition, "ImportedServices": out}, \
                        self.config_index, False
                return 200, out, self.config_index, False
        status, body, index, _ = self._blocking(req, compute)
        return self._json(req, status, body, self._meta_headers(req, index))
