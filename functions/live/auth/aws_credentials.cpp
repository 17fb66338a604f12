// AwsCredentialChain (see aws_credentials.hpp).
#include "functions/live/auth/aws_credentials.hpp"

#include <time.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "functions/data_source.hpp"
#include "functions/helpers_internal.hpp"
#include "functions/live/auth/login_method.hpp"

namespace templet::live::auth {

namespace {

constexpr auto kRefreshBefore = std::chrono::minutes(5);
constexpr const char* kTokenTtl = "21600";  // six hours, what the SDKs ask for

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string trimmed(const std::string& s) {
  return std::string(helpers::trim_space(s));
}

// The profile's keys from an INI file such as ~/.aws/credentials.
AwsCredentials from_shared_file(const std::string& path, const std::string& profile) {
  AwsCredentials c;
  std::ifstream in(path);
  std::string line, section;
  while (std::getline(in, line)) {
    line = trimmed(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = trimmed(line.substr(1, line.size() - 2));
      continue;
    }
    auto eq = line.find('=');
    if (section != profile || eq == std::string::npos) continue;
    std::string key = trimmed(line.substr(0, eq)), value = trimmed(line.substr(eq + 1));
    if (key == "aws_access_key_id") c.access_key_id = value;
    if (key == "aws_secret_access_key") c.secret_access_key = value;
    if (key == "aws_session_token") c.session_token = value;
  }
  c.source = "shared credentials file " + path + " [" + profile + "]";
  return c;
}

// "2026-12-04T19:00:00Z" -> a time point; epoch when unreadable.
TimePoint parse_iso8601(const std::string& s) {
  struct tm tm {};
  if (!strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return TimePoint{};
  return SysClock::from_time_t(timegm(&tm));
}

}  // namespace

AwsCredentials AwsCredentialChain::get() {
  AwsCredentials c{env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN"),
                   TimePoint{}, "environment"};
  if (!c.access_key_id.empty() && !c.secret_access_key.empty()) return c;
  std::string file = env("AWS_SHARED_CREDENTIALS_FILE");
  if (file.empty() && !env("HOME").empty()) file = env("HOME") + "/.aws/credentials";
  std::string profile = env("AWS_PROFILE").empty() ? "default" : env("AWS_PROFILE");
  if (!file.empty()) {
    c = from_shared_file(file, profile);
    if (!c.access_key_id.empty() && !c.secret_access_key.empty()) return c;
  }
  return from_imds();
}

std::string AwsCredentialChain::imds_token(bool fresh) {
  if (!fresh && !token_.empty() && clock_.now() < token_expiry_) return token_;
  HttpResponse resp;
  token_ = metadata_call(*http_, "vault: aws login: the IMDSv2 session token", "PUT",
                         imds_ + "/latest/api/token",
                         {{"X-aws-ec2-metadata-token-ttl-seconds", kTokenTtl}}, &resp);
  long long ttl = std::atoll(kTokenTtl);
  if (const auto* h = resp.header("x-aws-ec2-metadata-token-ttl-seconds"))
    ttl = std::atoll(h->c_str());
  // A minute's margin so the token never dies between our look and IMDS's.
  token_expiry_ = clock_.now() + std::chrono::seconds(std::max(0LL, ttl - 60));
  return token_;
}

AwsCredentials AwsCredentialChain::from_imds() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!cached_.access_key_id.empty() && clock_.now() + kRefreshBefore < cached_.expiration)
    return cached_;
  const std::string base = imds_ + "/latest/meta-data/iam/security-credentials/";
  for (int attempt = 0;; ++attempt) {
    std::string token = imds_token(attempt > 0);
    try {
      std::vector<std::pair<std::string, std::string>> h = {{"X-aws-ec2-metadata-token", token}};
      std::string roles =
          metadata_call(*http_, "vault: aws login: the instance profile", "GET", base, h);
      std::string role = trimmed(roles.substr(0, roles.find('\n')));
      if (role.empty()) throw FetchError("vault: aws login: the instance has no instance profile");
      auto j = nlohmann::json::parse(
          metadata_call(*http_, "vault: aws login: the instance profile's credentials", "GET",
                        base + role, h),
          nullptr, false);
      if (!j.is_object() || j.value("Code", "") != "Success")
        throw FetchError("vault: aws login: IMDS has no credentials for the instance profile " +
                         role);
      AwsCredentials c{j.value("AccessKeyId", ""), j.value("SecretAccessKey", ""),
                       j.value("Token", ""), parse_iso8601(j.value("Expiration", "")),
                       "instance profile " + role};
      cached_ = c;
      return c;
    } catch (const FetchError& e) {
      // A session token IMDS no longer knows (it restarted, or our clock is off): one new one.
      if (attempt == 0 && std::string(e.what()).find("status 401") != std::string::npos) continue;
      throw;
    }
  }
}

}  // namespace templet::live::auth
