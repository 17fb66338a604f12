// The objects templates see, with consul-template's Go type and field names, and the converters
// from API response bodies (see data_source.hpp) to them.
//
//   *dependency.KeyPair        {Path, Key, Value, CreateIndex, ModifyIndex, LockIndex, Flags,
//                               Session}                                   (ls, tree)
//   *dependency.HealthService  {Node, NodeID, NodeAddress, NodeTaggedAddresses, NodeMeta,
//                               ServiceMeta, Address, ServiceTaggedAddresses, ID, Name, Tags,
//                               Checks, Status, Port, Weights}             (service)
//   *api.HealthCheck           {Node, CheckID, Name, Status, Notes, Output, ServiceID,
//                               ServiceName, ServiceTags, Type}
//   *dependency.CatalogSnippet {Name, Tags}                                (services)
//   *dependency.Node           {ID, Node, Address, Datacenter, TaggedAddresses, Meta} (nodes)
//   *dependency.CatalogNode    {Node *Node, Services []*CatalogNodeService}           (node)
//   *dependency.CatalogNodeService {ID, Service, Tags, Meta, Port, Address, EnableTagOverride}
//   *dependency.Secret         {RequestID, LeaseID, LeaseDuration int, Renewable, Data, Warnings,
//                               Auth *SecretAuth, WrapInfo *SecretWrapInfo}           (secret)
//   *dependency.SecretAuth     {ClientToken, Accessor, Policies, Metadata, LeaseDuration,
//                               Renewable}
//   *dependency.SecretWrapInfo {Token, TTL, CreationTime (the RFC 3339 text), WrappedAccessor}
//   dependency.PemEncoded      {Cert, Key, CA string, CAChain []string}, a value, not a pointer,
//                              with methods Data (itself), CaChainContains, Equals  (pkiCert)
//
// Deviations: ServiceTags print their type as []string (so they pass to join); Go's time.Time
// CreationTime is kept as the text Vault sent.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string_view>

#include "functions/dependency.hpp"
#include "functions/pem_bundle.hpp"
#include "renderer/value.hpp"

namespace templet::dtypes {

const Type* key_pair();
const Type* key_pair_list();  // []*dependency.KeyPair
const Type* health_service();
const Type* health_service_list();
const Type* health_check();
const Type* health_checks();  // api.HealthChecks
const Type* catalog_snippet();
const Type* catalog_snippet_list();
const Type* node();
const Type* node_list();
const Type* catalog_node();
const Type* catalog_node_service();
const Type* secret();
const Type* secret_auth();
const Type* secret_wrap_info();

// Consul: KV pairs of a GET /v1/kv (recurse) array; Key is the path minus `prefix` minus
// leading `/`. Throws FetchError on a malformed body.
Value key_pairs(const nlohmann::json& body, const std::string& prefix);
// The decoded value of the first pair of a GET /v1/kv/<key> array.
std::string kv_value(const nlohmann::json& body);
// Health: filtered by `dep.filters` (client side unless passing only), sorted by Node then ID
// unless `~near` was given, tags sorted, Address falling back to the node's address.
Value health_services(const nlohmann::json& body, const Dependency& dep);
std::string aggregated_status(const nlohmann::json& checks);
Value catalog_snippets(const nlohmann::json& body);
Value catalog_node_value(const nlohmann::json& body);
Value catalog_nodes(const nlohmann::json& body, bool sort);
// Vault: the response body's text. Data keeps JSON numbers as json.Number with their literal
// text; every string in Data, the lease id, Auth.ClientToken and WrapInfo.Token are tainted.
Value vault_secret(std::string_view body);
// vault/api keeps a 404's secret only when it has Data or Warnings.
bool secret_has_data_or_warnings(const Value& secret);
// consul-template's deletedKVv2: Data.metadata.deletion_time is an RFC 3339 time before `now`.
bool secret_deleted_kv2(const Value& secret, std::chrono::system_clock::time_point now);
// Go's time.Parse(time.RFC3339, s), as seconds and nanoseconds since the epoch.
bool parse_rfc3339(std::string_view s, int64_t& seconds, int64_t& nanos);
// A LIST body's data.keys, sorted, as []string.
Value vault_list_keys(std::string_view body);
// pkiCert's value: every string tainted, as Vault data.
const Type* pem_encoded();
Value pem_encoded_value(const pki::PemBundle& pems);

// Parses JSON text into Values with Go's encoding/json rules under UseNumber (objects
// map[string]interface {}, arrays []interface {}, numbers json.Number keeping their text);
// `taint` marks strings and containers as secret-derived. Throws FetchError.
Value json_to_value(std::string_view text, bool taint);
nlohmann::json parse_json(std::string_view text);  // throws FetchError

std::string base64_decode(std::string_view s);  // standard alphabet; throws FetchError

}  // namespace templet::dtypes
