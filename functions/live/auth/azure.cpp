// Azure: a managed identity access token from IMDS, plus the subscription, resource group and
// VM (or scale set) name from the instance metadata, as Vault Agent's azure method sends them
// (command/agentproxyshared/auth/azure/azure.go). Both answers come from IMDS with `Metadata:
// true`, which IMDS requires so that a redirected browser request cannot read it.
#include <nlohmann/json.hpp>

#include "functions/live/auth/login_method.hpp"
#include "net/http_client.hpp"

namespace templet::live::auth {

namespace {

std::string field(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

class AzureLogin : public LoginMethod {
 public:
  AzureLogin(AuthSettings s, std::shared_ptr<HttpPool> http)
      : s_(std::move(s)), http_(std::move(http)) {}
  std::string name() const override { return "azure"; }
  std::string login_body() override {
    const std::vector<std::pair<std::string, std::string>> headers = {{"Metadata", "true"}};
    std::string token_url = s_.azure_metadata_endpoint +
                            "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=" +
                            url_escape(s_.azure_resource);
    if (!s_.azure_client_id.empty()) token_url += "&client_id=" + url_escape(s_.azure_client_id);
    auto token = nlohmann::json::parse(
        metadata_call(*http_, "vault: azure login: the managed identity token", "GET", token_url,
                      headers),
        nullptr, false);
    std::string jwt = field(token, "access_token");
    if (jwt.empty())
      throw FetchError("vault: azure login: the managed identity answer has no access_token");
    auto instance = nlohmann::json::parse(
        metadata_call(*http_, "vault: azure login: the instance metadata", "GET",
                      s_.azure_metadata_endpoint + "/metadata/instance?api-version=2017-08-01",
                      headers),
        nullptr, false);
    nlohmann::json compute = instance.is_object() && instance.contains("compute")
                                 ? instance["compute"]
                                 : nlohmann::json();
    nlohmann::json body = {{"role", s_.role},
                           {"jwt", jwt},
                           {"subscription_id", field(compute, "subscriptionId")},
                           {"resource_group_name", field(compute, "resourceGroupName")}};
    std::string vmss = field(compute, "vmScaleSetName");
    if (!vmss.empty())
      body["vmss_name"] = vmss;
    else
      body["vm_name"] = field(compute, "name");
    return body.dump();
  }

 private:
  AuthSettings s_;
  std::shared_ptr<HttpPool> http_;
};

}  // namespace

std::unique_ptr<LoginMethod> make_azure_login(const AuthSettings& s,
                                              std::shared_ptr<HttpPool> metadata) {
  return std::make_unique<AzureLogin>(s, std::move(metadata));
}

}  // namespace templet::live::auth
