// Where the aws iam login finds AWS credentials, in the AWS SDKs' order: the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), the shared credentials file
// (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile AWS_PROFILE or "default"), then the
// instance profile through IMDSv2: a session token PUT first, then the role's credentials, kept
// until five minutes before they expire.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "functions/live/auth/sigv4.hpp"
#include "functions/live/http_pool.hpp"

namespace templet::live::auth {

class AwsCredentialChain {
 public:
  AwsCredentialChain(std::string imds_endpoint, std::shared_ptr<HttpPool> http, Clock& clock)
      : imds_(std::move(imds_endpoint)), http_(std::move(http)), clock_(clock) {}
  // Credentials to sign with now; throws FetchError when no source has any.
  AwsCredentials get();

 private:
  AwsCredentials from_imds();
  std::string imds_token(bool fresh);

  std::string imds_;
  std::shared_ptr<HttpPool> http_;
  Clock& clock_;
  std::mutex mu_;
  AwsCredentials cached_;  // from IMDS
  std::string token_;
  TimePoint token_expiry_{};
};

}  // namespace templet::live::auth
