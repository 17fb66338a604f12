// Vault over HTTP: reads, writes and lists with KV v2 detection, lease renew and revoke, and the
// token's life (static, token file re-read on change, AppRole login and re-login).
//
// Answers are the real response bodies (DataSource's Response). Errors (VaultError) name the
// method, path, status and Vault's `errors` text; never the token or a body.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "functions/data_source.hpp"
#include "functions/dependency.hpp"
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
  bool renew_token = true;                   // renew-self a static token when renewable
  Ms timeout{60000};                         // one request (vault.timeout)

  static VaultSettings from(const VaultConfig& c);
  bool approle() const { return !role_id_file.empty() && !secret_id_file.empty(); }
};

struct VaultError : FetchError {
  VaultError(const std::string& what, long status, std::string message, bool transport)
      : FetchError(what), status(status), message(std::move(message)), transport(transport) {}
  long status;          // 0 when no HTTP answer came back
  std::string message;  // Vault's errors, joined
  bool transport;
  // 5xx, 429, 412 or no answer: worth retrying the same request.
  bool retryable() const { return transport || status >= 500 || status == 429 || status == 412; }
};

struct RenewResult {
  long long lease_seconds = 0;  // what Vault granted
  bool renewable = false;
  bool capped = false;  // shorter than asked, or a "capped" warning: the max TTL is near
  std::vector<std::string> warnings;
};

class VaultClient {
 public:
  VaultClient(VaultSettings settings, std::shared_ptr<HttpPool> http, Clock& clock);

  // vault.read / vault.write / vault.list. Status 200/204 and 404 come back as a Response; other
  // statuses and transport failures throw VaultError.
  Response read(const Dependency& d);
  Response write(const Dependency& d);
  Response list(const Dependency& d);

  // PUT sys/leases/renew asking for `increment_seconds`.
  RenewResult renew_lease(const std::string& lease_id, long long increment_seconds);
  // PUT sys/leases/revoke.
  void revoke_lease(const std::string& lease_id);

  // One round of token upkeep: AppRole login when there is no usable token, renew-self when the
  // token is renewable. Returns when to call again, or nullopt when there is nothing to maintain.
  std::optional<TimePoint> maintain_token(const Random& random);
  // Whether maintain_token has any work (AppRole, or a static token with renew_token).
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
  };
  Answer send(const std::string& method, const std::string& path,
              const std::vector<std::pair<std::string, std::string>>& query,
              const std::string& body, bool with_token = true);
  [[noreturn]] void fail(const Answer& a) const;
  std::string token();  // the token to send now (file re-read, login when needed)
  void refresh_token_file_locked();
  void login_locked();  // requires login_mu_
  void invalidate(const std::string& used);

  VaultSettings settings_;
  std::shared_ptr<HttpPool> http_;
  Clock& clock_;

  mutable std::mutex mu_;  // token and mount state
  std::mutex login_mu_;    // one login at a time
  std::string token_;      // the current token
  bool token_from_login_ = false;
  TimePoint token_expiry_{};  // login or renew-self: when the token dies (epoch: unknown)
  bool token_renewable_ = false;
  long long token_ttl_ = 0;  // seconds granted by the last login or renewal
  bool static_renew_done_ = false;
  struct FileStamp {
    long long mtime_ns = -1;
    long long size = -1;
    std::string content_hash;
  } token_file_stamp_;
  std::map<std::string, bool> mounts_;   // mount path ("secret/") -> KV v2
  std::set<std::string> unknown_paths_;  // mount lookup refused: raw path used
  bool no_mounts_endpoint_ = false;      // 404: an old Vault; everything is v1
};

}  // namespace templet::live
