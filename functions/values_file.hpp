// The values file: all outside data for an offline render (preview, tests), as a DataSource.
//
//   env:                     the only environment variables `env` sees (name: value)
//   consul:
//     kv:                    key (no leading /): value (scalars, taken as written)
//     services:              name: [instance, ...]
//     datacenters:           [name, ...] for `datacenters` (absent: missing)
//     connect:               name: [instance, ...] for `connect` (as services)
//     ca_roots:              [{ID, Name, RootCert, Active, CreateIndex, ModifyIndex}] (caRoots)
//     ca_leaf:               service: {SerialNumber, CertPEM, PrivateKeyPEM, Service,
//                            ServiceURI, ValidAfter, ValidBefore (RFC 3339), CreateIndex,
//                            ModifyIndex} (caLeaf)
//     partitions:            [{Name, Description}]
//     peerings:              [api.Peering as Consul sends it: ID, Name, Partition, Meta, State,
//                            PeerID, PeerServerName, PeerServerAddresses, StreamStatus, Remote]
//                            (`peerings` lists Partition default or none; ?partition=p lists p's)
//     exported_services:     partition: [{Service, Consumers: {Peers, Partitions}}]
//                            (`exportedServices` without an argument reads default)
//     imported_services:     partition: [{Service, Namespace, SourcePartition}]
//   vault:                   path as written in the template: Vault's response body for it
//   influxdb:
//     buckets:               org: [{name, id, retentionSeconds, type, labels}] (influxdbBuckets;
//                            type defaults to system for a name starting with `_`, else user)
//   files:                   path: contents, what `file` reads (nothing else is read)
//   sockaddr:                {default_interface: eth0, interfaces: [{name, index, mtu,
//                            hardware_addr, flags: [up, ...], addresses: [10.0.0.5/24, ...]}]}
//                            what `sockaddr` evaluates over (absent: missing)
//
// A service instance is either Consul's /v1/health/service entry ({Node: {...}, Service: {...},
// Checks: [...]}) or the flat HealthService form templates see: Node, NodeID, NodeAddress,
// NodeDatacenter, NodeTaggedAddresses, NodeMeta, ServiceMeta, Address, ServiceTaggedAddresses,
// ID, Name, Tags, Checks, Status, Port, Weights (Status: passing by default, made into one check).
// The catalog (services, nodes, node NAME) is derived from the instances.
//
// Answers: a key absent from consul.kv is "not found" (an answer for keyExists/keyOrDefault, not
// for key, which then stays missing); a Vault path absent is missing; `secrets "p/"` lists the
// body's data.keys when the file holds p, else the paths below p; a write is answered by the
// body under its identity (`vault.write(p -> 1a2b3c4d)`) or under its path. Datacenters,
// namespaces and partitions are ignored. `file "P"` answers files.P (P as `file` resolves it,
// or as written; compared after lexical normalisation: "/etc/./x" is "/etc/x"); a path absent
// from files: is missing, so a preview never depends on, or reads, the machine's own files.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "functions/data_source.hpp"
#include "functions/render.hpp"

namespace templet {

// "FILE:LINE:COL: message".
struct ValuesError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class ValuesFile : public DataSource {
 public:
  static ValuesFile load(const std::string& path);  // throws ValuesError
  static ValuesFile parse(std::string_view text, const std::string& name);

  std::optional<Response> fetch(const Dependency& dep) const override;

  std::optional<std::string> env(std::string_view name) const;
  // A RenderEnv whose `env` sees only this file's env map.
  RenderEnv render_env(std::string sandbox_path = "") const;

 private:
  std::optional<Response> fetch_kv(const Dependency& dep) const;
  std::optional<Response> fetch_kv_list(const Dependency& dep) const;
  std::optional<Response> fetch_health(const Dependency& dep) const;
  std::optional<Response> fetch_catalog(const Dependency& dep) const;
  std::optional<Response> fetch_vault(const Dependency& dep) const;

  std::map<std::string, std::string, std::less<>> env_;
  std::map<std::string, std::string, std::less<>> kv_;
  std::map<std::string, std::string, std::less<>> files_;  // lexically normal path → contents
  std::map<std::string, nlohmann::json, std::less<>> services_;  // name → health entries
  std::map<std::string, nlohmann::json, std::less<>> connect_;   // name → /v1/health/connect
  // consul.ca_roots, ca_leaf, partitions, exported_services, imported_services: identity →
  // response body; "list.peerings" → every peering.
  std::map<std::string, std::string, std::less<>> consul_bodies_;
  std::optional<std::string> interfaces_;   // sockaddr: as JSON
  std::optional<std::string> datacenters_;  // consul.datacenters as a JSON array
  struct VaultEntry {
    std::string path;  // the key as written, trimmed
    std::string body;  // JSON text
  };
  std::map<std::string, VaultEntry, std::less<>> vault_;               // identity → entry
  std::map<std::string, nlohmann::json, std::less<>> influx_buckets_;  // org → API bucket list
};

}  // namespace templet
