// Consul over HTTP: the reads templates make (KV get/list, health, catalog) as blocking queries.
//
// `index` > 0 makes a blocking query (`index`, `wait`, `stale`); the answer carries
// X-Consul-Index (never below 1). A 404 is an answer ("absent"), not an error. The HTTP timeout
// of a blocking query is wait * 17/16 (Consul's jitter is up to wait/16) plus `timeout` (10 s by
// default); a query that does not block gets `timeout` alone, so a hung server is noticed soon.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "functions/data_source.hpp"
#include "functions/dependency.hpp"
#include "functions/live/clock.hpp"
#include "functions/live/http_pool.hpp"
#include "functions/live/live_config.hpp"

namespace templet::live {

struct ConsulSettings {
  std::string address = "http://127.0.0.1:8500";
  std::string token;
  std::string token_file;  // read on each request when set; wins over `token`
  Ms wait{60000};          // blocking wait (block_query_wait)
  Ms timeout{10000};       // the answer's allowance beyond the wait (consul.timeout)
  bool stale = true;       // consul-template's default max_stale of 2 s allows stale reads

  static ConsulSettings from(const ConsulConfig& c, std::optional<Duration> block_query_wait = {});
};

struct ConsulError : FetchError {
  ConsulError(const std::string& what, long status, bool transport)
      : FetchError(what), status(status), transport(transport) {}
  long status;
  bool transport;
};

struct ConsulAnswer {
  Response response;    // status 200 or 404, body as received
  std::uint64_t index;  // X-Consul-Index, at least 1
};

// A KV key as a URL path: each segment escaped, the slashes kept ("a b/c" -> "a%20b/c").
std::string consul_key_path(const std::string& key);

class ConsulClient {
 public:
  ConsulClient(ConsulSettings settings, std::shared_ptr<HttpPool> http);

  // One query for `d`; blocks on the server when index > 0.
  ConsulAnswer query(const Dependency& d, std::uint64_t index);

  // The same query on the event loop, when the pool has one and `d` needs a single request
  // (not catalog.datacenters, nor a catalog.node of the agent's own node not known yet):
  // `done` runs on the loop with the answer or the error query() would throw. nullopt: use
  // query(). Returns an id for cancel().
  using Done = std::function<void(ConsulAnswer* answer, ConsulError* error)>;
  std::optional<std::uint64_t> start_query(const Dependency& d, std::uint64_t index, Done done);
  void cancel(std::uint64_t id) { http_->cancel(id); }
  // Whether start_query() carries `d` (else its watcher needs a thread for query()).
  bool runs_on_loop(const Dependency& d) const;
  // Returns once no answer is being handed to a `done` (after cancel(), none will be).
  void drain() { http_->drain(); }

  // "/v1/kv/foo?stale&index=5&wait=60000ms": the path and query sent for `d`.
  std::string request_target(const Dependency& d, std::uint64_t index);
  // The HTTP timeout of a query at `index` (0: not blocking).
  Ms request_timeout(std::uint64_t index = 1) const {
    return index > 0 ? settings_.wait * 17 / 16 + settings_.timeout : settings_.timeout;
  }
  const ConsulSettings& settings() const { return settings_; }

  // Any other request (sessions, locks): `target` is the path and query, `body` sent as is.
  // Throws ConsulError as queries do; a 404 is an answer.
  ConsulAnswer call(const std::string& method, const std::string& target, const std::string& body,
                    Ms timeout);
  // The agent's node name (GET /v1/agent/self, asked once).
  std::string local_node();

 private:
  // Stands in for the index of the polled dependencies (consul_polled), which Consul does not
  // send.
  std::atomic<std::uint64_t> datacenters_polls_{0};
  // Sends; a transport failure or a status other than 200 and 404 throws ConsulError naming the
  // server, the request without its query string, and the status with Consul's message.
  HttpResponse send(const HttpRequest& req);
  // The error for a transport failure of `req`, or for an answer other than 200 and 404.
  ConsulError transport_failure(const HttpRequest& req, const HttpTransportError& e) const;
  void check(const HttpRequest& req, const HttpResponse& resp) const;
  HttpRequest query_request(const Dependency& d, std::uint64_t index);
  std::string token() const;
  ConsulAnswer answer(HttpResponse resp);

  ConsulSettings settings_;
  std::shared_ptr<HttpPool> http_;
  std::mutex mu_;
  std::string local_node_;  // the agent's node name, for `node` without a name
};

}  // namespace templet::live
