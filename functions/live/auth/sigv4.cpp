// SigV4 (see sigv4.hpp). The canonical request is the method, the URI path, the (empty) query,
// the signed headers lower-cased and sorted with trimmed values, their names, and the body's
// SHA-256; the key is derived date -> region -> service -> "aws4_request".
#include "functions/live/auth/sigv4.hpp"

#include <time.h>

#include <algorithm>
#include <cctype>

#include "functions/digest.hpp"
#include "net/http_client.hpp"

namespace templet::live::auth {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string bytes(const std::array<uint8_t, 32>& a) {
  return std::string(reinterpret_cast<const char*>(a.data()), a.size());
}

}  // namespace

std::string amz_date(TimePoint when) {
  time_t t = SysClock::to_time_t(when);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

void sigv4_sign(AwsRequest& req, const AwsCredentials& creds, const std::string& region,
                const std::string& service, TimePoint when) {
  const std::string date = amz_date(when);
  const std::string day = date.substr(0, 8);
  req.headers.emplace_back("X-Amz-Date", date);
  if (!creds.session_token.empty())
    req.headers.emplace_back("X-Amz-Security-Token", creds.session_token);
  UrlParts url = split_url(req.url);
  std::string host = url.host + (url.port.empty() ? "" : ":" + url.port);
  std::vector<std::pair<std::string, std::string>> signed_headers = {{"host", host}};
  for (const auto& [k, v] : req.headers) signed_headers.emplace_back(lower(k), trim(v));
  std::sort(signed_headers.begin(), signed_headers.end());
  std::string path = url.target.substr(0, url.target.find('?'));
  std::string query =
      url.target.find('?') == std::string::npos ? "" : url.target.substr(url.target.find('?') + 1);
  std::string canonical = req.method + "\n" + path + "\n" + query + "\n";
  std::string names;
  for (const auto& [k, v] : signed_headers) {
    canonical += k + ":" + v + "\n";
    names += (names.empty() ? "" : ";") + k;
  }
  canonical += "\n" + names + "\n" + digest::hex(digest::sha256(req.body));
  const std::string scope = day + "/" + region + "/" + service + "/aws4_request";
  const std::string to_sign =
      "AWS4-HMAC-SHA256\n" + date + "\n" + scope + "\n" + digest::hex(digest::sha256(canonical));
  std::string key = bytes(digest::hmac_sha256("AWS4" + creds.secret_access_key, day));
  key = bytes(digest::hmac_sha256(key, region));
  key = bytes(digest::hmac_sha256(key, service));
  key = bytes(digest::hmac_sha256(key, "aws4_request"));
  const std::string signature = digest::hex(digest::hmac_sha256(key, to_sign));
  req.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + creds.access_key_id +
                                                "/" + scope + ", SignedHeaders=" + names +
                                                ", Signature=" + signature);
}

}  // namespace templet::live::auth
