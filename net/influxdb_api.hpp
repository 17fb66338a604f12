// The InfluxDB v2 HTTP API as templet's InfluxDB hook and bucket poller use it: the token on
// every request, waiting for a server that is not ready yet, errors worded from the server's
// {"code","message"}, resolving an org, and listing with `after=` paging.
//
// The token never appears in what this module returns or throws.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "net/http_client.hpp"

namespace templet {

// A request the server refused or answered unreadably; what() is ready for people
// ("GET /api/v2/buckets: 404 bucket not found", "token rejected (GET /api/v2/orgs: 401)").
struct InfluxApiError : std::runtime_error {
  using std::runtime_error::runtime_error;
  long status = 0;  // 0: no answer, or an unreadable one
};

struct InfluxApiSettings {
  std::string url;  // http://host:8086; a trailing slash is dropped
  std::string token;
  std::chrono::milliseconds ready_timeout{std::chrono::minutes(2)};
  std::chrono::milliseconds first_backoff{250};  // not-ready retries: doubling, at most 5s
};

class InfluxApi {
 public:
  InfluxApi(InfluxApiSettings settings, std::shared_ptr<HttpClient> http);

  // Sends with the token; while the server is not ready (connection refused, 502/503, or for
  // GET and DELETE a 504 or any transport failure) retries with doubling backoff, at most 5s
  // apart, until ready_timeout has passed. A POST or PATCH that may have reached the server is
  // not resent. Throws HttpTransportError (token masked) when no answer came.
  HttpResponse send(HttpRequest req);
  // A request to url + path_and_query, with a JSON body unless `body` is null.
  HttpRequest request(const std::string& method, const std::string& path_and_query,
                      const nlohmann::json& body = nullptr) const;
  // "PATCH /api/v2/orgs/ID/secrets: 400 failed to decode request body"; 401 is worded as a
  // rejected token.
  std::string describe_failure(const HttpRequest& req, const HttpResponse& resp) const;
  // GET answered 200 with JSON, or throws InfluxApiError.
  nlohmann::json get_json(const std::string& path_and_query);
  // The id of org `name` (or `org_id` when given). Throws InfluxApiError naming the org; a
  // token that cannot read orgs (an empty list) is told to set org_id.
  std::string resolve_org(const std::string& name, const std::string& org_id);
  // Every element of array `field` across pages of `path_and_query` (which has a query),
  // asking `limit` at a time with after=<last id> until a page is shorter than `limit`.
  std::vector<nlohmann::json> list_all(const std::string& path_and_query, const std::string& field,
                                       int limit);
  // The text with the token masked.
  std::string mask(const std::string& text) const;
  const std::string& url() const { return settings_.url; }

 private:
  InfluxApiSettings settings_;
  std::shared_ptr<HttpClient> http_;
};

// The token from token_file, else from the variable named by token_env (default
// INFLUXDB_TOKEN); on failure "" and `error` says why.
std::string read_influx_token(const std::optional<std::string>& token_file,
                              const std::optional<std::string>& token_env, std::string& error);

// The server's {"code","message"} message, or the start of the body.
std::string influx_server_message(const HttpResponse& resp);

}  // namespace templet
