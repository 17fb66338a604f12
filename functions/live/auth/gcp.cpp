// GCP gce: the instance identity JWT from the metadata server, its audience
// "<vault address>/vault/<role>" and format=full, as Vault Agent's gcp method asks for it
// (command/agentproxyshared/auth/gcp/gcp.go); Vault checks the audience ends in vault/<role>.
#include <nlohmann/json.hpp>

#include "functions/live/auth/login_method.hpp"
#include "net/http_client.hpp"

namespace templet::live::auth {

namespace {

class GcpLogin : public LoginMethod {
 public:
  GcpLogin(AuthSettings s, std::shared_ptr<HttpPool> http)
      : s_(std::move(s)), http_(std::move(http)) {}
  std::string name() const override { return "gcp gce"; }
  std::string login_body() override {
    std::string url = s_.gcp_metadata_endpoint + "/computeMetadata/v1/instance/service-accounts/" +
                      url_escape(s_.gcp_service_account) +
                      "/identity?audience=" + url_escape(s_.vault_address + "/vault/" + s_.role) +
                      "&format=full";
    std::string jwt = metadata_call(*http_, "vault: gcp login: the instance identity token", "GET",
                                    url, {{"Metadata-Flavor", "Google"}});
    return nlohmann::json{{"role", s_.role}, {"jwt", jwt}}.dump();
  }

 private:
  AuthSettings s_;
  std::shared_ptr<HttpPool> http_;
};

}  // namespace

std::unique_ptr<LoginMethod> make_gcp_login(const AuthSettings& s,
                                            std::shared_ptr<HttpPool> metadata) {
  return std::make_unique<GcpLogin>(s, std::move(metadata));
}

}  // namespace templet::live::auth
