// AppRole: role_id and secret_id from files, re-read at every login (a rotated secret_id is
// picked up without a restart).
#include <nlohmann/json.hpp>

#include "functions/live/auth/login_method.hpp"

namespace templet::live::auth {

namespace {

class AppRoleLogin : public LoginMethod {
 public:
  explicit AppRoleLogin(AuthSettings s) : s_(std::move(s)) {}
  std::string name() const override { return "AppRole"; }
  std::string login_body() override {
    std::string role_id =
        read_credential_file(s_.role_id_file, "vault: AppRole login: role_id_file");
    std::string secret_id =
        read_credential_file(s_.secret_id_file, "vault: AppRole login: secret_id_file");
    return nlohmann::json{{"role_id", role_id}, {"secret_id", secret_id}}.dump();
  }

 private:
  AuthSettings s_;
};

}  // namespace

std::unique_ptr<LoginMethod> make_approle_login(const AuthSettings& s) {
  return std::make_unique<AppRoleLogin>(s);
}

}  // namespace templet::live::auth
