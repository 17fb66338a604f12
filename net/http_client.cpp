// make_http_client's routing, and what both transports share: URL parts, error wording, and
// descriptions of requests that leave out anything that can carry a credential.
#include "net/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "net/curl_client.hpp"
#include "net/plain_http_client.hpp"

namespace templet {

namespace {

bool set_in_environment(const char* name) {
  const char* v = std::getenv(name);
  return v && *v;
}

// Each transport is made on first use, so a client that only ever sees http:// URLs never
// loads libcurl.
class RoutingClient : public HttpClient {
 public:
  explicit RoutingClient(TlsOptions tls) : tls_(std::move(tls)) {}

  HttpResponse send(const HttpRequest& request) override {
    if (plain_http_suffices(request.url)) {
      if (!plain_) plain_ = make_plain_http_client();
      return plain_->send(request);
    }
    if (!curl_) curl_ = make_curl_client(tls_);
    return curl_->send(request);
  }

 private:
  TlsOptions tls_;
  std::unique_ptr<HttpClient> plain_;
  std::unique_ptr<HttpClient> curl_;
};

}  // namespace

std::unique_ptr<HttpClient> make_http_client(TlsOptions tls) {
  return std::make_unique<RoutingClient>(std::move(tls));
}

bool plain_http_suffices(const std::string& url) {
  UrlParts u = split_url(url);
  if (u.scheme != "http" || !u.userinfo.empty() || u.host.empty()) return false;
  // libcurl ignores HTTP_PROXY in capitals for http:// (a CGI environment could set it).
  return !set_in_environment("http_proxy") && !set_in_environment("all_proxy") &&
         !set_in_environment("ALL_PROXY");
}

std::optional<std::chrono::milliseconds> retry_after(const HttpResponse& response) {
  if (response.status != 429 && response.status != 503) return std::nullopt;
  const std::string* value = response.header("retry-after");
  if (!value || value->empty() || value->size() > 9) return std::nullopt;
  long seconds = 0;
  for (char c : *value) {
    if (c < '0' || c > '9') return std::nullopt;
    seconds = seconds * 10 + (c - '0');
  }
  return std::chrono::seconds(seconds);
}

UrlParts split_url(const std::string& url) {
  UrlParts u;
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    u.target = url;
    return u;
  }
  u.scheme = url.substr(0, scheme_end);
  std::transform(u.scheme.begin(), u.scheme.end(), u.scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  auto authority_start = scheme_end + 3;
  auto authority_end = url.find_first_of("/?#", authority_start);
  std::string authority = url.substr(authority_start, authority_end == std::string::npos
                                                          ? std::string::npos
                                                          : authority_end - authority_start);
  u.target = authority_end == std::string::npos ? "/" : url.substr(authority_end);
  u.target.resize(std::min(u.target.size(), u.target.find('#')));
  if (u.target.empty() || u.target[0] != '/') u.target.insert(0, "/");
  auto at = authority.rfind('@');
  if (at != std::string::npos) {
    u.userinfo = authority.substr(0, at);
    authority.erase(0, at + 1);
  }
  // An IPv6 literal keeps its brackets: it is written that way in the Host header too.
  auto host_end =
      !authority.empty() && authority[0] == '[' ? authority.find(']') : std::string::npos;
  auto colon = authority.find(':', host_end == std::string::npos ? 0 : host_end);
  u.host = authority.substr(0, colon);
  if (colon != std::string::npos) u.port = authority.substr(colon + 1);
  return u;
}

HttpTransportError transport_error(const HttpRequest& request, const std::string& reason) {
  return HttpTransportError(describe_request(request.method, request.url) + ": " + reason, reason);
}

std::string describe_limit(std::chrono::milliseconds limit) {
  auto ms = limit.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

std::string describe_request(const std::string& method, const std::string& url) {
  std::string path = split_url(url).target;
  path.resize(std::min(path.size(), path.find('?')));
  return method + " " + path;
}

std::string describe_request_at(const std::string& method, const std::string& url) {
  UrlParts u = split_url(url);
  std::string server;
  if (!u.scheme.empty())
    server = url.substr(0, url.find("://") + 3) + u.host + (u.port.empty() ? "" : ":" + u.port);
  std::string described = describe_request(method, url);
  return described.substr(0, method.size() + 1) + server + described.substr(method.size() + 1);
}

std::string url_escape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace templet
