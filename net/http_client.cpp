#include "net/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <mutex>

namespace templet {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    auto b = value.find_first_not_of(" \t");
    auto e = value.find_last_not_of(" \t\r\n");
    (*headers)[name] = b == std::string::npos ? "" : value.substr(b, e - b + 1);
  } else if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();  // a new response (after 100 Continue or a redirect)
  }
  return size * n;
}

std::string format_limit(std::chrono::milliseconds d) {
  auto ms = d.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

// Why no answer came, in the words an operator searches logs for. Curl's own texts ("Couldn't
// connect to server", "Timeout was reached") do not say which limit or which failure it was.
std::string transport_reason(CURL* h, CURLcode rc, const std::string& detail,
                             const HttpRequest& req) {
  long os_errno = 0;
  curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
      if (os_errno == ECONNREFUSED) return "connection refused";
      break;
    case CURLE_OPERATION_TIMEDOUT:
      // Curl words a connect-phase timeout "Connection timed out after N milliseconds".
      if (detail.rfind("Connection timed out", 0) == 0 && req.connect_timeout < req.timeout)
        return "connect timed out after " + format_limit(req.connect_timeout);
      return "timed out after " + format_limit(req.timeout);
    case CURLE_GOT_NOTHING:
      return "connection closed without an answer";
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
      if (os_errno == ECONNRESET) return "connection reset";
      break;
    default:
      break;
  }
  return detail.empty() ? curl_easy_strerror(rc) : detail;
}

class CurlClient : public HttpClient {
 public:
  explicit CurlClient(TlsOptions tls) : tls_(std::move(tls)) { global_init(); }
  ~CurlClient() override {
    if (handle_) curl_easy_cleanup(handle_);
  }

  HttpResponse send(const HttpRequest& req) override {
    // One handle per client, reused so connections are kept alive; calls are serialized.
    std::lock_guard<std::mutex> lock(mu_);
    if (!handle_) handle_ = curl_easy_init();
    CURL* h = handle_;
    curl_easy_reset(h);
    HttpResponse resp;
    curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp.body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &resp.headers);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, tls_.verify ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, tls_.verify ? 2L : 0L);
    if (!tls_.ca_cert.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, tls_.ca_cert.c_str());
    if (req.method == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(req.body.size()));
    }
    struct curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Expect:");
    for (const auto& [k, v] : req.headers)
      headers = curl_slist_append(headers, (k + ": " + v).c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    char detail[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, detail);
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(headers);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);  // `detail` dies with this call
    if (rc != CURLE_OK) {
      std::string reason = transport_reason(h, rc, detail, req);
      HttpTransportError err(describe_request(req.method, req.url) + ": " + reason, reason);
      err.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
      err.refused = rc == CURLE_COULDNT_CONNECT;
      throw err;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
    return resp;
  }

 private:
  TlsOptions tls_;
  std::mutex mu_;
  CURL* handle_ = nullptr;
};

}  // namespace

std::unique_ptr<HttpClient> make_curl_client(TlsOptions tls) {
  return std::make_unique<CurlClient>(std::move(tls));
}

std::string describe_request(const std::string& method, const std::string& url) {
  std::string path = url;
  auto scheme = path.find("://");
  if (scheme != std::string::npos) {
    auto slash = path.find('/', scheme + 3);
    path = slash == std::string::npos ? "/" : path.substr(slash);
  }
  auto q = path.find('?');
  if (q != std::string::npos) path.resize(q);
  return method + " " + path;
}

std::string describe_request_at(const std::string& method, const std::string& url) {
  std::string server;
  auto scheme = url.find("://");
  if (scheme != std::string::npos) {
    auto slash = url.find('/', scheme + 3);
    std::string authority =
        url.substr(scheme + 3, slash == std::string::npos ? std::string::npos : slash - scheme - 3);
    auto at = authority.rfind('@');
    if (at != std::string::npos) authority = authority.substr(at + 1);
    server = url.substr(0, scheme + 3) + authority;
  }
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
