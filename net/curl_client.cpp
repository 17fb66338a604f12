#include "net/curl_client.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <mutex>

#include "net/curl_library.hpp"

namespace templet {

namespace {

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

// Why no answer came, in the words an operator searches logs for. Curl's own texts ("Couldn't
// connect to server", "Timeout was reached") do not say which limit or which failure it was.
std::string transport_reason(const CurlLibrary& curl, CURL* h, CURLcode rc,
                             const std::string& detail, const HttpRequest& req) {
  long os_errno = 0;
  curl.easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
      if (os_errno == ECONNREFUSED) return "connection refused";
      break;
    case CURLE_OPERATION_TIMEDOUT:
      // Curl words a connect-phase timeout "Connection timed out after N milliseconds".
      if (detail.rfind("Connection timed out", 0) == 0 && req.connect_timeout < req.timeout)
        return "connect timed out after " + describe_limit(req.connect_timeout);
      return "timed out after " + describe_limit(req.timeout);
    case CURLE_GOT_NOTHING:
      return "connection closed without an answer";
    case CURLE_PARTIAL_FILE:
      return "connection closed in the middle of the answer";
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
      if (os_errno == ECONNRESET) return "connection reset";
      break;
    default:
      break;
  }
  return detail.empty() ? curl.easy_strerror(rc) : detail;
}

class CurlClient : public HttpClient {
 public:
  explicit CurlClient(TlsOptions tls) : tls_(std::move(tls)) {}
  ~CurlClient() override {
    if (handle_) curl_->easy_cleanup(handle_);
  }

  HttpResponse send(const HttpRequest& req) override {
    // One handle per client, reused so connections are kept alive; calls are serialized.
    std::lock_guard<std::mutex> lock(mu_);
    if (!curl_) {
      std::string why;
      curl_ = curl_library(&why);
      if (!curl_) throw transport_error(req, "libcurl is needed for this address: " + why);
    }
    const CurlLibrary& curl = *curl_;
    if (!handle_) handle_ = curl.easy_init();
    CURL* h = handle_;
    curl.easy_reset(h);
    HttpResponse resp;
    curl.easy_setopt(h, CURLOPT_URL, req.url.c_str());
    curl.easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout.count()));
    curl.easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
    curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl.easy_setopt(h, CURLOPT_WRITEDATA, &resp.body);
    curl.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl.easy_setopt(h, CURLOPT_HEADERDATA, &resp.headers);
    curl.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, tls_.verify ? 1L : 0L);
    curl.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, tls_.verify ? 2L : 0L);
    if (!tls_.ca_cert.empty()) curl.easy_setopt(h, CURLOPT_CAINFO, tls_.ca_cert.c_str());
    if (!tls_.client_cert.empty()) curl.easy_setopt(h, CURLOPT_SSLCERT, tls_.client_cert.c_str());
    if (!tls_.client_key.empty()) curl.easy_setopt(h, CURLOPT_SSLKEY, tls_.client_key.c_str());
    if (req.method == "HEAD") curl.easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
      curl.easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
      curl.easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(req.body.size()));
    }
    curl_slist* headers = nullptr;
    headers = curl.slist_append(headers, "Expect:");
    for (const auto& [k, v] : req.headers)
      headers = curl.slist_append(headers, (k + ": " + v).c_str());
    curl.easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    char detail[CURL_ERROR_SIZE] = "";
    curl.easy_setopt(h, CURLOPT_ERRORBUFFER, detail);
    CURLcode rc = curl.easy_perform(h);
    curl.slist_free_all(headers);
    curl.easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);  // `detail` dies with this call
    if (rc != CURLE_OK) {
      auto err = transport_error(req, transport_reason(curl, h, rc, detail, req));
      err.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
      err.refused = rc == CURLE_COULDNT_CONNECT;
      throw err;
    }
    curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
    return resp;
  }

 private:
  TlsOptions tls_;
  std::mutex mu_;
  const CurlLibrary* curl_ = nullptr;
  CURL* handle_ = nullptr;
};

}  // namespace

std::unique_ptr<HttpClient> make_curl_client(TlsOptions tls) {
  return std::make_unique<CurlClient>(std::move(tls));
}

}  // namespace templet
