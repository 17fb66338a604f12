// AWS Signature Version 4 (the signing process AWS documents as "Create a signed AWS API
// request"): what the aws iam login signs, sts:GetCallerIdentity, for Vault to replay to STS.
// SHA-256 and HMAC come from functions/digest (no crypto library is loaded for this).
#pragma once

#include <string>
#include <vector>

#include "functions/live/clock.hpp"

namespace templet::live::auth {

struct AwsCredentials {
  std::string access_key_id, secret_access_key, session_token;
  TimePoint expiration{};  // epoch: does not expire
  std::string source;      // "environment", "shared credentials file", "instance profile app"
};

struct AwsRequest {
  std::string method = "POST";
  std::string url;  // absolute; its host is signed
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // as sent, Host excepted
};

// Adds X-Amz-Date, X-Amz-Security-Token (with a session token) and Authorization to `req`,
// signing every header it has plus host, for `service` in `region` at `when`.
void sigv4_sign(AwsRequest& req, const AwsCredentials& creds, const std::string& region,
                const std::string& service, TimePoint when);

// "20260102T030405Z": X-Amz-Date's form.
std::string amz_date(TimePoint when);

}  // namespace templet::live::auth
