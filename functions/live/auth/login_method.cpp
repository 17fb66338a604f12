// The login seam (see login_method.hpp): settings, the factory and what every method shares.
#include "functions/live/auth/login_method.hpp"

#include <fstream>
#include <sstream>

#include "functions/helpers_internal.hpp"
#include "net/http_client.hpp"

namespace templet::live::auth {

AuthSettings AuthSettings::from(const VaultConfig& c,
                                const std::function<const char*(const char*)>& env) {
  AuthSettings s;
  const VaultAuthConfig& a = c.auth;
  if (a.method) s.method = *a.method;
  // The older form: auth.approle alone means AppRole.
  if (s.method.empty() && c.approle_role_id_file && c.approle_secret_id_file) s.method = "approle";
  s.mount = a.mount ? *a.mount : s.method;
  while (!s.mount.empty() && s.mount.back() == '/') s.mount.pop_back();
  if (a.role) s.role = *a.role;
  if (c.approle_role_id_file) s.role_id_file = *c.approle_role_id_file;
  if (c.approle_secret_id_file) s.secret_id_file = *c.approle_secret_id_file;
  if (a.aws.region) s.aws_region = *a.aws.region;
  if (a.aws.header_value) s.aws_header_value = *a.aws.header_value;
  if (a.aws.sts_endpoint) s.aws_sts_endpoint = *a.aws.sts_endpoint;
  const char* imds = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  s.aws_imds_endpoint = a.aws.metadata_endpoint ? *a.aws.metadata_endpoint
                        : imds && *imds         ? imds
                                                : "http://169.254.169.254";
  if (a.gcp.service_account) s.gcp_service_account = *a.gcp.service_account;
  const char* gce = env("GCE_METADATA_HOST");  // host[:port], as Google's client libraries read it
  s.gcp_metadata_endpoint = a.gcp.metadata_endpoint ? *a.gcp.metadata_endpoint
                            : gce && *gce           ? std::string("http://") + gce
                                                    : "http://metadata.google.internal";
  if (a.azure.resource) s.azure_resource = *a.azure.resource;
  if (a.azure.client_id) s.azure_client_id = *a.azure.client_id;
  s.azure_metadata_endpoint =
      a.azure.metadata_endpoint ? *a.azure.metadata_endpoint : "http://169.254.169.254";
  if (a.jwt_path)
    s.jwt_path = *a.jwt_path;
  else if (s.method == "kubernetes")
    s.jwt_path = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  if (a.cert.client_cert) s.client_cert = *a.cert.client_cert;
  if (a.cert.client_key) s.client_key = *a.cert.client_key;
  if (c.address) s.vault_address = *c.address;
  if (a.sink_file) s.sink_file = *a.sink_file;
  for (std::string* e :
       {&s.aws_imds_endpoint, &s.gcp_metadata_endpoint, &s.azure_metadata_endpoint})
    while (!e->empty() && e->back() == '/') e->pop_back();
  return s;
}

std::unique_ptr<LoginMethod> make_login_method(const AuthSettings& s,
                                               std::shared_ptr<HttpPool> metadata, Clock& clock) {
  if (s.method == "approle") return make_approle_login(s);
  if (s.method == "aws") return make_aws_iam_login(s, std::move(metadata), clock);
  if (s.method == "gcp") return make_gcp_login(s, std::move(metadata));
  if (s.method == "azure") return make_azure_login(s, std::move(metadata));
  if (s.method == "kubernetes" || s.method == "jwt") return make_jwt_login(s);
  if (s.method == "cert") return make_cert_login(s);
  return nullptr;
}

std::string read_credential_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  if (in) ss << in.rdbuf();
  std::string content(helpers::trim_space(ss.str()));
  if (content.empty()) throw FetchError(what + ": " + path + " is missing or empty");
  return content;
}

std::string metadata_call(HttpPool& http, const std::string& what, const std::string& method,
                          const std::string& url,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          HttpResponse* full) {
  HttpRequest req;
  req.method = method;
  req.url = url;
  req.headers = headers;
  req.connect_timeout = std::chrono::milliseconds(2000);
  req.timeout = std::chrono::milliseconds(5000);
  std::string described = describe_request_at(method, url);
  HttpResponse resp;
  try {
    resp = http.send(req);
  } catch (const HttpTransportError& e) {
    throw FetchError(what + ": " + described + ": " + e.reason);
  }
  if (resp.status != 200)
    throw FetchError(what + ": " + described + ": status " + std::to_string(resp.status));
  if (full) *full = resp;
  return std::move(resp.body);
}

}  // namespace templet::live::auth
