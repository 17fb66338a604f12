// How templet proves who it is to Vault (vault.auth): each method builds the JSON body of
// `POST auth/<mount>/login` from what the machine holds (files, instance metadata, cloud
// credentials), as Vault Agent's auto-auth methods do. One file per method; VaultClient calls
// `login_body()` whenever it needs a token and owns everything after the POST.
//
// A method throws FetchError when the machine's proof cannot be had (metadata server down, no
// credentials). Messages name the method, the metadata URL and its status; never a credential,
// a signature or a JWT.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "functions/data_source.hpp"
#include "functions/live/clock.hpp"
#include "functions/live/http_pool.hpp"
#include "functions/live/live_config.hpp"

namespace templet::live::auth {

struct AuthSettings {
  std::string method;  // "" or "token": no login
  std::string mount;   // auth/<mount>/login
  std::string role;
  std::string role_id_file, secret_id_file;  // approle
  std::string aws_region = "us-east-1";
  std::string aws_header_value;   // X-Vault-AWS-IAM-Server-ID, signed when set
  std::string aws_sts_endpoint;   // empty: https://sts[.<region>].amazonaws.com
  std::string aws_imds_endpoint;  // AWS_EC2_METADATA_SERVICE_ENDPOINT
  std::string gcp_service_account = "default";
  std::string gcp_metadata_endpoint;  // http://metadata.google.internal or GCE_METADATA_HOST
  std::string azure_resource = "https://management.azure.com/";
  std::string azure_client_id;
  std::string azure_metadata_endpoint;  // http://169.254.169.254
  std::string jwt_path;                 // kubernetes token_path / jwt path
  std::string client_cert, client_key;  // cert: the TLS client certificate for Vault
  std::string vault_address;            // gcp: the audience is <address>/vault/<role>
  std::string sink_file;                // written with each new token, 0600

  // From the config; `env` looks up AWS_EC2_METADATA_SERVICE_ENDPOINT, GCE_METADATA_HOST.
  static AuthSettings from(const VaultConfig& c,
                           const std::function<const char*(const char*)>& env);
  bool logs_in() const { return !method.empty() && method != "token"; }
};

class LoginMethod {
 public:
  virtual ~LoginMethod() = default;
  // "AppRole", "aws iam", ...: how log lines name the method.
  virtual std::string name() const = 0;
  // The JSON body of the login request, fresh (files re-read, credentials refreshed).
  virtual std::string login_body() = 0;
};

// The method `s.method` names, talking to metadata servers through `metadata`.
std::unique_ptr<LoginMethod> make_login_method(const AuthSettings& s,
                                               std::shared_ptr<HttpPool> metadata, Clock& clock);

// A file's content with surrounding white space trimmed; throws FetchError naming `what` and the
// path when it is missing or empty.
std::string read_credential_file(const std::string& path, const std::string& what);

// GET (or PUT) on a metadata server: the body of a 200 answer, else FetchError naming `what`,
// the URL without its query and the status.
std::string metadata_call(HttpPool& http, const std::string& what, const std::string& method,
                          const std::string& url,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          HttpResponse* full = nullptr);

// The per-method constructors (one file each).
std::unique_ptr<LoginMethod> make_approle_login(const AuthSettings& s);
std::unique_ptr<LoginMethod> make_aws_iam_login(const AuthSettings& s,
                                                std::shared_ptr<HttpPool> metadata, Clock& clock);
std::unique_ptr<LoginMethod> make_gcp_login(const AuthSettings& s,
                                            std::shared_ptr<HttpPool> metadata);
std::unique_ptr<LoginMethod> make_azure_login(const AuthSettings& s,
                                              std::shared_ptr<HttpPool> metadata);
std::unique_ptr<LoginMethod> make_jwt_login(const AuthSettings& s);
std::unique_ptr<LoginMethod> make_cert_login(const AuthSettings& s);

}  // namespace templet::live::auth
