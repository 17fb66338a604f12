// TLS certificate login: the proof is the client certificate on the connection itself (the
// Vault client's TLS options carry it, see LiveDataSource::from_config); the body only names
// the certificate role, as Vault Agent's cert method sends `name`.
#include <nlohmann/json.hpp>

#include "functions/live/auth/login_method.hpp"

namespace templet::live::auth {

namespace {

class CertLogin : public LoginMethod {
 public:
  explicit CertLogin(AuthSettings s) : s_(std::move(s)) {}
  std::string name() const override { return "cert"; }
  std::string login_body() override {
    nlohmann::json body = nlohmann::json::object();
    if (!s_.role.empty()) body["name"] = s_.role;
    return body.dump();
  }

 private:
  AuthSettings s_;
};

}  // namespace

std::unique_ptr<LoginMethod> make_cert_login(const AuthSettings& s) {
  return std::make_unique<CertLogin>(s);
}

}  // namespace templet::live::auth
