// Where a render's data comes from: the seam between pure rendering and the outside world.
//
// A render asks a DataSource for each Dependency it uses. The answer is what the server said,
// stored as the HTTP status and the response body exactly as received, so a live client (Vault,
// Consul) can keep the bytes it got and the values file can fake them. Keeping the text (not a
// parsed JSON tree) is what lets Vault numbers print their literal text (`1.50`), as Go's
// json.Number does.
//
// Answer shapes, by dependency type (bodies are JSON unless noted):
//   kv.get, kv.block   GET /v1/kv/<key>: status 200 and the array `[{"Key","Value"(base64 or
//                      null),"CreateIndex","ModifyIndex","LockIndex","Flags","Session"}]`, or
//                      status 404 (body ignored) when the key does not exist. A 404 is an answer
//                      for kv.get (keyExists, keyOrDefault) but "keep waiting" for kv.block.
//   kv.list            GET /v1/kv/<prefix>?recurse: 200 and the same array (one entry per key),
//                      or 404 for an empty prefix.
//   health.service     GET /v1/health/service/<name>[?passing][&tag=]: the array of
//                      `{"Node":{ID,Node,Address,Datacenter,TaggedAddresses,Meta},
//                        "Service":{ID,Service,Tags,Address,Meta,Port,Weights,TaggedAddresses},
//                        "Checks":[{Node,CheckID,Name,Status,Notes,Output,ServiceID,ServiceName,
//                                   ServiceTags,Type}]}`. The function filters by status (unless
//                      passing-only, which the server did), sorts and shapes it.
//   catalog.services   GET /v1/catalog/services: `{"name": ["tag", ...], ...}`.
//   catalog.node       GET /v1/catalog/node/<name>: `{"Node":{...},"Services":{"id":{ID,Service,
//                      Tags,Meta,Port,Address,EnableTagOverride}}}` or `null` (no such node).
//   catalog.nodes      GET /v1/catalog/nodes: `[{ID,Node,Address,Datacenter,TaggedAddresses,
//                      Meta}]`.
//   vault.read,        The response body: `{"request_id","lease_id","lease_duration",
//   vault.write        "renewable","data","warnings","auth","wrap_info"}` (status 200; 204 =
//                      empty body).
//   vault.list         LIST body: `{"data":{"keys":[...]}}`, or status 404 (nothing there).
//   vault.pki          status 200 and PEM text (not JSON): what pkiCert scans for its blocks,
//                      either a pki/issue answer flattened (pki::issue_answer_pems) or the
//                      destination's contents when the certificate there is kept.
//   file               status 200 and the file's contents (not JSON).
//
// An answer that cannot be had (a missing file, a refused request after the retries) is thrown as
// FetchError; the render fails with its message.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include <chrono>
#include <optional>

#include "functions/dependency.hpp"

namespace templet {

struct Response {
  int status = 200;  // HTTP status: 200 (or 204) data, 404 not found
  std::string body;  // byte for byte as received
};

struct FetchError : std::runtime_error {
  using std::runtime_error::runtime_error;
  // How long the server asked to be left alone (its Retry-After), when it said.
  std::optional<std::chrono::milliseconds> retry_after;
  // A transport failure's server and reason without the request ("consul http://127.0.0.1:8500:
  // connection refused"): what many dependencies failing alike share, so it is logged once.
  std::string cause;
};

class DataSource {
 public:
  virtual ~DataSource() = default;
  // The data for `dep`, or std::nullopt when it is not (yet) available: the render records the
  // dependency as missing and uses the function's placeholder.
  virtual std::optional<Response> fetch(const Dependency& dep) const = 0;
};

// A source with no data at all: every dependency is missing.
class EmptyDataSource : public DataSource {
 public:
  std::optional<Response> fetch(const Dependency&) const override { return std::nullopt; }
};

}  // namespace templet
