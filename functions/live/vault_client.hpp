// Vault over HTTP: reads, writes and lists with KV v2 detection, lease renew and revoke, and the
// token's life (static, token file re-read on change, login through a vault.auth method
// (functions/live/auth/) and re-login).
//
// Answers are the real response bodies (DataSource's Response). Errors (VaultError) name the
// method, path, status and Vault's `errors` text; never the token or a body.
//
// The token's identity (accessor, expiry) is tracked so that leases can be tied to the token
// that created them: Vault revokes a token's leases when the token dies. A 403 is a bad token
// only when lookup-self says so; otherwise it is the policy, and no login happens.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "functions/data_source.hpp"
#include "functions/dependency.hpp"
#include "functions/live/auth/login_method.hpp"
#include "functions/live/clock.hpp"
#include "functions/live/http_pool.hpp"
#include "functions/live/live_config.hpp"

namespace templet::live {

struct VaultSettings {
  std::string address = "http://127.0.0.1:8200";
  std::string token;       // from config or VAULT_TOKEN; may be empty (an agent injects one)
  std::string token_file;  // wins over `token`; re-read whenever its mtime, size or content moves
  std::string namespace_;  // X-Vault-Namespace
  std::string role_id_file, secret_id_file;  // AppRole: both set enables login and re-login
  auth::AuthSettings auth;                   // vault.auth: a method enables login and re-login
  bool renew_token = true;                   // renew-self a static token when renewable
  Ms timeout{60000};                         // one request (vault.timeout)

  static VaultSettings from(const VaultConfig& c);
  bool logs_in() const {
    return auth.logs_in() ||
           (auth.method.empty() && !role_id_file.empty() && !secret_id_file.empty());
  }
};

struct VaultError : FetchError {
  VaultError(const std::string& what, long status, std::string message, bool transport)
      : FetchError(what), status(status), message(std::move(message)), transport(transport) {}
  long status;          // 0 when no HTTP answer came back
  std::string message;  // Vault's errors, joined
  bool transport;
  bool policy_denied = false;  // 403 with a token lookup-self accepts: the policy, not the token
  // 5xx, 429, 412 or no answer: worth retrying the same request.
  bool retryable() const { return transport || status >= 500 || status == 429 || status == 412; }
};

struct RenewResult {
  long long lease_seconds = 0;  // what Vault granted
  bool renewable = false;
  bool capped = false;  // shorter than asked, or a "capped" warning: the max TTL is near
  std::vector<std::string> warnings;
};

// The token a request was sent with, as far as templet knows it. Empty accessor: unknown.
struct TokenIdentity {
  std::string accessor;
  TimePoint expires_at{};  // epoch: no known end
  long long ttl_s = 0;     // the TTL last granted (login, renew-self or lookup-self)
  bool known() const { return !accessor.empty(); }
  bool expires() const { return expires_at.time_since_epoch().count() != 0; }
};

class VaultClient {
 public:
  // `metadata` carries the login method's calls to instance metadata servers (default: its own
  // pool of plain clients).
  VaultClient(VaultSettings settings, std::shared_ptr<HttpPool> http, Clock& clock,
              std::shared_ptr<HttpPool> metadata = nullptr);

  // vault.read / vault.write / vault.list. Status 200/204 and 404 come back as a Response; other
  // statuses and transport failures throw VaultError.
  Response read(const Dependency& d);
  Response write(const Dependency& d);
  Response list(const Dependency& d);
  // vault.pki: PUT the path with the body as given, no mount lookup (consul-template calls
  // Logical().Write, which has no KV v2 shim).
  Response issue(const Dependency& d);

  // PUT sys/leases/renew asking for `increment_seconds`.
  RenewResult renew_lease(const std::string& lease_id, long long increment_seconds);
  // PUT sys/leases/revoke. After a policy denial, revoking is off for the run (one warning naming
  // sys/leases/revoke): returns false without a request then.
  bool revoke_lease(const std::string& lease_id);
  // PUT sys/leases/lookup (the id in the body, as the default policy allows): seconds left, or
  // nullopt when Vault will not say.
  std::optional<long long> lease_ttl(const std::string& lease_id);

  // The current token's identity; looks the token up (GET lookup-self) once per token when its
  // accessor is not known yet. Never throws: an unknown identity is returned instead.
  TokenIdentity identity();
  // Without any request: what is known now.
  TokenIdentity known_identity() const;
  // Called (on the thread that noticed, without locks held) when the token in use changes: a
  // login, a new token file.
  void set_on_token_change(std::function<void()> callback);

  // One round of token upkeep: a login when there is no usable token, renew-self when the
  // token is renewable. Returns when to call again, or nullopt when there is nothing to maintain.
  std::optional<TimePoint> maintain_token(const Random& random);
  // Whether maintain_token has any work (a login method, a static token with renew_token, or a
  // token file to watch for a new token).
  bool token_needs_upkeep() const;

  struct Mount {
    std::string path;  // "secret/"; empty when unknown
    bool kv2 = false;
  };
  // KV version of the mount holding `raw`, via sys/internal/ui/mounts (cached per mount).
  Mount mount_for(const std::string& raw, bool use_cache = true);

  const VaultSettings& settings() const { return settings_; }

  // The API path a dependency is asked at (KV v2 shimmed: secret/x -> secret/data/x, and
  // secret/metadata/x for a list), as `templet check` asks about it.
  std::string api_path(const Dependency& d);
  // POST sys/capabilities-self: the token's capabilities on each path ("deny" when none,
  // "root" for a root token). Throws VaultError.
  std::map<std::string, std::vector<std::string>> capabilities_self(
      const std::vector<std::string>& paths);

 private:
  struct Answer {
    long status;
    std::string body;
    std::string described;  // "GET http://127.0.0.1:8200/v1/x"
    std::optional<std::chrono::milliseconds> retry_after;
    bool policy_denied = false;
  };
  // One request, following a standby's 307/308 (or 301/302) to another Vault address with the
  // same method, body and token, at most kMaxRedirects hops and never from https to http (as
  // Vault's api client, api/client.go). Throws VaultError on transport failures.
  HttpResponse exchange(HttpRequest req, std::string& described);
  static constexpr int kMaxRedirects = 3;
  static constexpr Ms kTokenFilePoll{1000};
  void report_denied(const std::string& path);  // once per path
  Answer send(const std::string& method, const std::string& path,
              const std::vector<std::pair<std::string, std::string>>& query,
              const std::string& body, bool with_token = true);
  [[noreturn]] void fail(const Answer& a) const;
  // A 403: whether the token is still good (lookup-self answers 200).
  bool token_still_valid(const std::string& used);
  void token_changed();  // runs the on-change callback
  void learn_identity_locked(const nlohmann::json& auth_or_data, bool from_lookup);
  std::string token();               // the token to send now (file re-read, login when needed)
  bool refresh_token_file_locked();  // true when the token changed
  void login_locked();               // requires login_mu_
  void invalidate(const std::string& used);

  VaultSettings settings_;
  std::shared_ptr<HttpPool> http_;
  Clock& clock_;
  std::unique_ptr<auth::LoginMethod> login_;  // when settings_.logs_in()

  mutable std::mutex mu_;  // token and mount state
  std::mutex login_mu_;    // one login at a time
  std::string token_;      // the current token
  bool token_from_login_ = false;
  TimePoint token_expiry_{};  // login or renew-self: when the token dies (epoch: unknown)
  bool token_renewable_ = false;
  long long token_ttl_ = 0;  // seconds granted by the last login or renewal
  bool static_renew_done_ = false;
  bool relogin_due_ = false;  // the token is capped by its max TTL: replace it now
  struct FileStamp {
    long long mtime_ns = -1;
    long long size = -1;
    std::string content_hash;
  } token_file_stamp_;
  std::map<std::string, bool> mounts_;  // mount path ("secret/") -> KV v2
  std::set<std::string>
      unknown_paths_;                   // mount lookup refused or 404: this query uses the raw path
  TokenIdentity identity_;              // of token_
  std::string identity_token_hash_;     // which token identity_ describes
  bool lookup_denied_ = false;          // lookup-self refused for the current token
  std::set<std::string> denied_paths_;  // policy denials already reported
  bool revoke_disabled_ = false;
  std::function<void()> on_token_change_;
};

}  // namespace templet::live
