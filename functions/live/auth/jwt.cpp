// Kubernetes and JWT: a JWT read from a file at every login, since the kubelet (or whatever
// issues it) rotates the file under us; the service account token path by default.
#include <nlohmann/json.hpp>

#include "functions/live/auth/login_method.hpp"

namespace templet::live::auth {

namespace {

class JwtLogin : public LoginMethod {
 public:
  explicit JwtLogin(AuthSettings s) : s_(std::move(s)) {}
  std::string name() const override { return s_.method; }
  std::string login_body() override {
    std::string jwt =
        read_credential_file(s_.jwt_path, "vault: " + s_.method + " login: the JWT file");
    return nlohmann::json{{"role", s_.role}, {"jwt", jwt}}.dump();
  }

 private:
  AuthSettings s_;
};

}  // namespace

std::unique_ptr<LoginMethod> make_jwt_login(const AuthSettings& s) {
  return std::make_unique<JwtLogin>(s);
}

}  // namespace templet::live::auth
