// What a template asks for: one Dependency per query, identified by consul-template's canonical
// identity string (`kv.block(foo)`, `health.service(web|passing)`, `vault.read(secret/x.v2)`...).
//
// The identity drives everything downstream: a render's used/missing sets are deduplicated by it,
// the data snapshot is keyed by it, and the live clients (a later issue) share one fetch per
// identity. The parsers below accept exactly consul-template's argument grammar (reference §2.2)
// and fail with its messages (`kv.get: invalid format: "..."`); the error text is what follows
// `error calling FUNC: ` in the template error.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace templet {

enum class DepType {
  KvGet,               // kv.get(key)       keyExists, keyOrDefault: a 404 is an answer
  KvBlock,             // kv.block(key)     key: a 404 means "keep waiting"
  KvList,              // kv.list(prefix)   ls, safeLs, tree, safeTree
  HealthService,       // health.service(tag.name@dc~near|filters)
  CatalogServices,     // catalog.services(@dc)
  CatalogNode,         // catalog.node(name@dc), catalog.node for the local agent
  CatalogNodes,        // catalog.nodes(@dc~near)
  CatalogDatacenters,  // catalog.datacenters: polled, Consul has no blocking query for it
  ConnectCARoots,      // connect.caroots                 GET /v1/agent/connect/ca/roots
  ConnectLeaf,         // connect.caleaf(service)         GET /v1/agent/connect/ca/leaf/<service>
  ConsulPartitions,    // list.partitions: polled, Consul has no blocking query for it
  ConsulPeerings,      // list.peerings[?partition=p]     GET /v1/peerings
  ExportedServices,    // list.exportedServices(p)        GET /v1/exported-services
  ImportedServices,    // list.importedServices(p)        GET /v1/imported-services
  Interfaces,          // sockaddr.interfaces: this machine's addresses (sys/ifaddrs), polled
  VaultRead,           // vault.read(path) / vault.read(path.vN)
  VaultWrite,          // vault.write(path -> 8hex)
  VaultList,           // vault.list(path)
  VaultPki,            // vault.pki(path->destination)  pkiCert: issued, or kept from the file
  File,                // file(path)
  InfluxBuckets,       // influxdb.buckets(org)  polled, not blocking (functions/live/influx_poller)
};

// A bad argument; the message is consul-template's (without the "error calling" prefix).
struct DependencyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Dependency {
  DepType type = DepType::KvGet;
  // The main argument after parsing: the KV key or prefix (leading `/` stripped), the service or
  // node name, the Vault path (trimmed of spaces and `/` on both ends, without `?query`), the
  // file path (cleaned, or resolved inside the sandbox).
  std::string target;
  // Consul query parts (empty when not given).
  std::string dc, ns, partition, peer, sameness_group, near, tag;
  std::vector<std::string> filters;  // health: sorted; {"passing"} by default
  bool connect = false;  // health: Connect-capable instances (health.connect, `connect`)
  // Vault read: the `?version=N` value; the other query parameters, kept for the request.
  std::string version;
  std::vector<std::pair<std::string, std::string>> query;
  // Vault write and PKI issue: the body, sorted by key, keys and values TrimSpace'd, values
  // strings.
  std::vector<std::pair<std::string, std::string>> body;
  // vault.pki: the template's destination, where a certificate issued before may still be.
  std::string destination;
  // The canonical identity string (consul-template's Dependency.String()).
  std::string id;
  // How the template asked for it, for people: `key "redash/x/db_host"`. Set by the function.
  std::string call;

  // A health query filtered on passing only is asked of Consul with ?passing (server side).
  bool passing_only() const { return filters.size() == 1 && filters[0] == "passing"; }
};

// Parsers, one per dependency kind. `s` is the argument as the template passed it.
Dependency parse_kv_get(std::string_view s);    // kv.get(...)
Dependency parse_kv_block(std::string_view s);  // kv.block(...): the same grammar as kv.get
Dependency parse_kv_list(std::string_view s);
Dependency parse_health_service(std::string_view s);
// `connect`: the health.service grammar, asked of /v1/health/connect (proxies and native
// Connect services), identity health.connect(...).
Dependency parse_health_connect(std::string_view s);
Dependency parse_catalog_services(std::string_view s);
Dependency parse_catalog_node(std::string_view s);
Dependency parse_catalog_nodes(std::string_view s);
// `datacenters` takes no query; with ignore_failing only the datacenters that answer a
// consistent catalog read are kept, which is a different answer, so a different identity
// (consul-template names both `catalog.datacenters` and would share them).
Dependency parse_catalog_datacenters(bool ignore_failing);
// Consul Connect and cluster topology (consul-template's connect_ca.go, connect_leaf.go,
// consul_partitions.go, consul_peering.go, consul_exported_services.go,
// consul_imported_services.go). `peerings` takes `?partition=p` (the query grammar, only
// partition used); the others take a plain service or partition name.
Dependency parse_connect_ca_roots();
Dependency parse_connect_leaf(std::string_view service);
Dependency parse_partitions();
Dependency parse_peerings(std::string_view s);
Dependency parse_exported_services(std::string_view partition);
Dependency parse_imported_services(std::string_view partition);
// The Consul dependencies whose endpoint cannot block: the watcher polls them every 15 s, as
// consul-template does (DefaultNonBlockingQuerySleepTime), and each answer is news.
bool consul_polled(DepType t);
// Whether Consul answers dependencies of this type (everything but Vault, files, InfluxDB and
// this machine's interfaces).
bool consul_dependency(DepType t);
// `sockaddr`'s input: the machine's interface addresses (functions/sockaddr.hpp).
Dependency parse_interfaces();
Dependency parse_vault_read(std::string_view s);
// `args` are the extra `k=v` arguments of `secret`; empty strings are skipped, an argument
// without `=` fails with `not k=v pair "x"`.
Dependency parse_vault_write(std::string_view path, const std::vector<std::string>& args);
Dependency parse_vault_list(std::string_view s);
// pkiCert "PATH" "k=v"...: the `k=v` arguments as parse_vault_write takes them; the identity
// names the destination, as consul-template's (two templates issuing through one role to two
// files are two certificates). The path is url.Parse'd; empty fails as consul-template's does,
// with `vault.read: invalid format: ""`.
Dependency parse_vault_pki(std::string_view path, const std::vector<std::string>& args,
                           std::string_view destination);
// `path` must already be resolved (see resolve_file_path).
Dependency parse_file(std::string_view path);
// influxdbBuckets "ORG": the org's name, spaces trimmed; empty fails.
Dependency parse_influx_buckets(std::string_view org);

// consul-template's file path handling: without a sandbox, Go's filepath.Clean; with one, both
// paths are symlink-resolved and the target must lie inside the sandbox (`'<path>' is outside of
// sandbox`). `lexical`: no symlink is resolved (a values file's paths need not exist here), the
// cleaned paths are compared as written. Throws DependencyError.
std::string resolve_file_path(std::string_view path, const std::string& sandbox,
                              bool lexical = false);

// Go's path/filepath.Clean, shared with the KV path handling.
std::string go_clean_path(std::string_view p);

}  // namespace templet
