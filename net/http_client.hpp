// HTTP for everything templet talks to (Vault, Consul, Redash, InfluxDB).
//
// One small interface so that clients and hooks can be tested against emulators or fakes, and
// so every request gets connect and total timeouts: a hung server must never hang templet.
// Errors carry method, URL path, status and the server's message, never request bodies or
// headers (they hold tokens and passwords).
//
// Two transports sit behind make_http_client: plain http:// (the local Vault Agent and Consul
// agent a machine image talks to) goes through a small Boost.Beast client compiled into templet;
// everything else (https, a proxy from the environment, user info in the URL) through libcurl,
// which is loaded only then (net/curl_library.hpp). Both word their failures the same way.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace templet {

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{30000};  // the whole exchange
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  const std::string* header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? nullptr : &it->second;
  }
};

// The request never reached an answer: refused, timed out, TLS failure...
// what() is "GET /path: REASON"; `reason` alone is "connection refused", "timed out after 2s",
// "connection reset", "connection closed without an answer", or curl's own description.
struct HttpTransportError : std::runtime_error {
  explicit HttpTransportError(const std::string& what, std::string reason = "")
      : std::runtime_error(what), reason(reason.empty() ? what : std::move(reason)) {}
  std::string reason;
  bool timed_out = false;
  bool refused = false;
};

struct TlsOptions {
  std::string ca_cert;  // PEM file; empty: the system's
  bool verify = true;
  std::string client_cert, client_key;  // PEM files: a TLS client certificate (Vault cert auth)
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Throws HttpTransportError when no HTTP answer was received; any status is returned.
  virtual HttpResponse send(const HttpRequest& request) = 0;
};

// Routes each request by its URL (see plain_http_suffices); TLS options apply to libcurl's.
std::unique_ptr<HttpClient> make_http_client(TlsOptions tls = {});

// Whether the built-in plain-HTTP transport can carry a request to `url` exactly as libcurl
// would: an http:// URL without user info, while no proxy is configured in the environment
// (http_proxy, all_proxy or ALL_PROXY: the variables libcurl reads for http).
bool plain_http_suffices(const std::string& url);

// The wait a 429 or 503 answer asks for in its Retry-After header, when it is a number of
// seconds (what Vault's rate-limit quotas send); an HTTP date is not read.
std::optional<std::chrono::milliseconds> retry_after(const HttpResponse& response);

// The parts of an absolute URL the transports and error messages need.
struct UrlParts {
  std::string scheme;    // lower-cased: "http"
  std::string userinfo;  // "user:pass" (never logged)
  std::string host;      // "127.0.0.1", "vault.example", "[::1]"
  std::string port;      // "8200"; empty when the URL has none
  std::string target;    // path and query: "/v1/kv/x?index=3"; "/" when the URL has no path
};
UrlParts split_url(const std::string& url);

// The transport error for a request: what() is "GET /path: REASON".
HttpTransportError transport_error(const HttpRequest& request, const std::string& reason);
// "300ms", "2s": how reasons name a limit.
std::string describe_limit(std::chrono::milliseconds limit);

// "GET /v1/secret/data/x" with the query string dropped (queries can carry tokens).
std::string describe_request(const std::string& method, const std::string& url);
// "GET http://127.0.0.1:8200/v1/secret/data/x": the server as well, still without the query
// string, and without user info (it can hold a password).
std::string describe_request_at(const std::string& method, const std::string& url);

// Percent-encodes a path segment or query value (RFC 3986 unreserved characters kept).
std::string url_escape(const std::string& s);

}  // namespace templet
