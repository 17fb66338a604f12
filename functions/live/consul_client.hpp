// Consul over HTTP: the reads templates make (KV get/list, health, catalog) as blocking queries.
//
// `index` > 0 makes a blocking query (`index`, `wait`, `stale`); the answer carries
// X-Consul-Index (never below 1). A 404 is an answer ("absent"), not an error. The HTTP timeout
// is wait * 17/16 + 10 s, above Consul's wait/16 jitter.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "app/config.hpp"
#include "functions/data_source.hpp"
#include "functions/dependency.hpp"
#include "functions/live/clock.hpp"
#include "functions/live/http_pool.hpp"

namespace templet::live {

struct ConsulSettings {
  std::string address = "http://127.0.0.1:8500";
  std::string token;
  std::string token_file;  // read on each request when set; wins over `token`
  Ms wait{60000};          // blocking wait (tests shorten it)
  bool stale = true;       // consul-template's default max_stale of 2 s allows stale reads

  static ConsulSettings from(const ConsulConfig& c);
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

class ConsulClient {
 public:
  ConsulClient(ConsulSettings settings, std::shared_ptr<HttpPool> http);

  // One query for `d`; blocks on the server when index > 0.
  ConsulAnswer query(const Dependency& d, std::uint64_t index);

  // "/v1/kv/foo?stale&index=5&wait=60000ms": the path and query sent for `d`.
  std::string request_target(const Dependency& d, std::uint64_t index);
  Ms request_timeout() const { return settings_.wait * 17 / 16 + Ms(10000); }
  const ConsulSettings& settings() const { return settings_; }

 private:
  std::string token() const;
  std::string local_node();

  ConsulSettings settings_;
  std::shared_ptr<HttpPool> http_;
  std::mutex mu_;
  std::string local_node_;  // the agent's node name, for `node` without a name
};

}  // namespace templet::live
