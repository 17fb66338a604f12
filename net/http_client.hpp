// HTTP for everything templet talks to (Vault, Consul, Redash, InfluxDB), over libcurl.
//
// One small interface so that clients and hooks can be tested against emulators or fakes, and
// so every request gets connect and total timeouts: a hung server must never hang templet.
// Errors carry method, URL path, status and the server's message, never request bodies or
// headers (they hold tokens and passwords).
#pragma once

#include <chrono>
#include <map>
#include <memory>
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
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Throws HttpTransportError when no HTTP answer was received; any status is returned.
  virtual HttpResponse send(const HttpRequest& request) = 0;
};

std::unique_ptr<HttpClient> make_curl_client(TlsOptions tls = {});

// "GET /v1/secret/data/x" with the query string dropped (queries can carry tokens).
std::string describe_request(const std::string& method, const std::string& url);
// "GET http://127.0.0.1:8200/v1/secret/data/x": the server as well, still without the query
// string, and without user info (it can hold a password).
std::string describe_request_at(const std::string& method, const std::string& url);

// Percent-encodes a path segment or query value (RFC 3986 unreserved characters kept).
std::string url_escape(const std::string& s);

}  // namespace templet
