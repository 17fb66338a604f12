// AWS iam: a SigV4-signed sts:GetCallerIdentity that Vault replays to STS to learn who signed
// it. The method, URL, body and headers go base64-encoded, the headers as Go's http.Header JSON
// (canonical names, each a list), which is how Vault's awsutil.GenerateLoginData sends them and
// builtin/credential/aws/path_login.go reads them. The optional X-Vault-AWS-IAM-Server-ID header
// is signed so that a captured login cannot be replayed to another Vault.
#include <nlohmann/json.hpp>

#include "functions/helpers_internal.hpp"
#include "functions/live/auth/aws_credentials.hpp"
#include "functions/live/auth/login_method.hpp"
#include "functions/live/auth/sigv4.hpp"

namespace templet::live::auth {

namespace {

constexpr const char* kBody = "Action=GetCallerIdentity&Version=2011-06-15";

// STS's URL as AWS SDK v1 resolves it: the global endpoint for us-east-1, else the region's.
std::string sts_url(const AuthSettings& s) {
  if (!s.aws_sts_endpoint.empty()) {
    std::string u = s.aws_sts_endpoint;
    if (u.find("://") == std::string::npos) u = "https://" + u;
    return u.back() == '/' ? u : u + "/";
  }
  if (s.aws_region == "us-east-1") return "https://sts.amazonaws.com/";
  return "https://sts." + s.aws_region + ".amazonaws.com/";
}

class AwsIamLogin : public LoginMethod {
 public:
  AwsIamLogin(AuthSettings s, std::shared_ptr<HttpPool> http, Clock& clock)
      : s_(std::move(s)), clock_(clock), creds_(s_.aws_imds_endpoint, std::move(http), clock) {}
  std::string name() const override { return "aws iam"; }
  std::string login_body() override {
    AwsCredentials c = creds_.get();
    AwsRequest req;
    req.url = sts_url(s_);
    req.body = kBody;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                   {"User-Agent", "templet/" TEMPLET_VERSION}};
    if (!s_.aws_header_value.empty())
      req.headers.emplace_back("X-Vault-Aws-Iam-Server-Id", s_.aws_header_value);
    sigv4_sign(req, c, s_.aws_region, "sts", clock_.now());
    nlohmann::json headers = nlohmann::json::object();
    for (const auto& [k, v] : req.headers) headers[k].push_back(v);
    nlohmann::json body = {{"iam_http_request_method", req.method},
                           {"iam_request_url", helpers::base64_std_encode(req.url)},
                           {"iam_request_body", helpers::base64_std_encode(req.body)},
                           {"iam_request_headers", helpers::base64_std_encode(headers.dump())}};
    if (!s_.role.empty()) body["role"] = s_.role;
    return body.dump();
  }

 private:
  AuthSettings s_;
  Clock& clock_;
  AwsCredentialChain creds_;
};

}  // namespace

std::unique_ptr<LoginMethod> make_aws_iam_login(const AuthSettings& s,
                                                std::shared_ptr<HttpPool> metadata, Clock& clock) {
  return std::make_unique<AwsIamLogin>(s, std::move(metadata), clock);
}

}  // namespace templet::live::auth
