// VaultClient (see vault_client.hpp).
//
// Locking: mu_ guards token and mount state and is never held across HTTP; login_mu_ makes
// concurrent watchers that find the token expired wait for one login instead of each minting
// their own token.
#include "functions/live/vault_client.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "functions/helpers_internal.hpp"

#include "functions/live/kv_path.hpp"
#include "functions/live/lease_timing.hpp"
#include "functions/live/mask.hpp"
#include "functions/live/token_sink.hpp"
#include "net/address.hpp"
#include "sys/number_cast.hpp"

namespace templet::live {

namespace {

// strings.TrimSpace of a token file or an error body.
std::string trimmed(std::string_view s) {
  return std::string(helpers::trim_space(s));
}

std::string read_trimmed(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  return trimmed(ss.str());
}

// Each segment escaped, slashes kept.
std::string escape_path(const std::string& path) {
  std::string out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (start > 0) out += '/';
    out += url_escape(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

// Vault's `errors`, with go-multierror's "1 error occurred:\n\t* x\n\n" reduced to "x".
std::string error_text(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("errors") || !j["errors"].is_array()) return "";
  std::vector<std::string> parts;
  for (const auto& e : j["errors"]) {
    if (!e.is_string()) continue;
    std::string s = e.get<std::string>();
    if (s.find("error occurred:") != std::string::npos ||
        s.find("errors occurred:") != std::string::npos) {
      std::istringstream lines(s);
      std::string line;
      while (std::getline(lines, line)) {
        auto star = line.find("* ");
        if (star != std::string::npos) parts.push_back(trimmed(line.substr(star + 2)));
      }
    } else {
      parts.push_back(trimmed(s));
    }
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

}  // namespace

VaultSettings VaultSettings::from(const VaultConfig& c) {
  VaultSettings s;
  if (c.address && !c.address->empty()) s.address = normalize_address(*c.address);
  while (!s.address.empty() && s.address.back() == '/') s.address.pop_back();
  if (c.token) s.token = *c.token;
  if (c.token_file) s.token_file = *c.token_file;
  if (c.namespace_) s.namespace_ = *c.namespace_;
  if (c.approle_role_id_file) s.role_id_file = *c.approle_role_id_file;
  if (c.approle_secret_id_file) s.secret_id_file = *c.approle_secret_id_file;
  // consul-template: no renewal of an agent-managed token file (#1189) or of no token (#1297).
  s.renew_token = c.renew_token.value_or(true) && s.token_file.empty();
  if (c.timeout) s.timeout = *c.timeout;
  s.auth = auth::AuthSettings::from(c, [](const char* n) { return std::getenv(n); });
  s.auth.vault_address = s.address;
  return s;
}

VaultClient::VaultClient(VaultSettings settings, std::shared_ptr<HttpPool> http, Clock& clock,
                         std::shared_ptr<HttpPool> metadata)
    : settings_(std::move(settings)), http_(std::move(http)), clock_(clock) {
  token_ = settings_.token;
  auth::AuthSettings& a = settings_.auth;
  if (a.method.empty() && settings_.logs_in()) a.method = a.mount = "approle";  // older settings
  if (a.role_id_file.empty()) a.role_id_file = settings_.role_id_file;
  if (a.secret_id_file.empty()) a.secret_id_file = settings_.secret_id_file;
  if (!metadata) metadata = std::make_shared<HttpPool>([] { return make_http_client(); });
  if (a.logs_in()) login_ = auth::make_login_method(a, std::move(metadata), clock_);
}

bool VaultClient::refresh_token_file_locked() {
  struct stat st {};
  FileStamp stamp;
  if (::stat(settings_.token_file.c_str(), &st) == 0) {
    stamp.mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
    stamp.size = static_cast<long long>(st.st_size);
  }
  if (stamp.mtime_ns == token_file_stamp_.mtime_ns && stamp.size == token_file_stamp_.size &&
      !token_file_stamp_.content_hash.empty())
    return false;
  std::string content = stamp.mtime_ns < 0 ? "" : read_trimmed(settings_.token_file);
  // A JSON wrap-info file carries the token in "token".
  if (!content.empty() && content[0] == '{') {
    nlohmann::json j = nlohmann::json::parse(content, nullptr, false);
    if (j.is_object() && j.contains("token") && j["token"].is_string())
      content = j["token"].get<std::string>();
  }
  stamp.content_hash = short_hash(content) + (content.empty() ? "-empty" : "");
  bool changed = false;
  if (stamp.content_hash != token_file_stamp_.content_hash) {
    // A new token is a new parent for leases (Agent re-auth, its restart_period).
    changed = !token_file_stamp_.content_hash.empty() && !content.empty() && content != token_;
    if (content.empty())
      spdlog::warn("vault: token file {} is missing or empty; will look again",
                   settings_.token_file);
    else if (!token_file_stamp_.content_hash.empty())
      spdlog::info("vault: token file {} changed; using {}", settings_.token_file,
                   mask_token(content));
    token_ = content;
    token_from_login_ = false;
  }
  // An empty or missing file is looked at again on every request (consul-template #1997).
  if (content.empty()) stamp.content_hash.clear();
  token_file_stamp_ = stamp;
  return changed;
}

std::string VaultClient::token() {
  bool changed = false;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!settings_.token_file.empty()) changed = refresh_token_file_locked();
    if (changed) {
      std::string t = token_;
      lock.unlock();
      token_changed();
      return t;
    }
    bool expired = token_from_login_ && token_expiry_.time_since_epoch().count() != 0 &&
                   clock_.now() >= token_expiry_;
    if (!settings_.logs_in() || (!token_.empty() && !expired)) return token_;
  }
  std::lock_guard<std::mutex> login(login_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    bool expired = token_from_login_ && token_expiry_.time_since_epoch().count() != 0 &&
                   clock_.now() >= token_expiry_;
    if (!token_.empty() && !expired) return token_;  // another thread logged in meanwhile
  }
  login_locked();
  std::lock_guard<std::mutex> lock(mu_);
  return token_;
}

void VaultClient::login_locked() {
  std::string body;
  try {
    body = login_->login_body();
  } catch (const VaultError&) {
    throw;
  } catch (const FetchError& e) {
    throw VaultError(e.what(), 0, "", true);  // the machine's proof may come back (IMDS restarts)
  }
  Answer a = send("POST", "auth/" + settings_.auth.mount + "/login", {}, body, false);
  if (a.status != 200) fail(a);
  nlohmann::json j = nlohmann::json::parse(a.body, nullptr, false);
  if (!j.is_object() || !j.contains("auth") || !j["auth"].is_object() ||
      !j["auth"].contains("client_token") || !j["auth"]["client_token"].is_string())
    throw VaultError("vault: " + a.described + ": no auth.client_token in the answer", a.status, "",
                     false);
  const auto& auth = j["auth"];
  std::unique_lock<std::mutex> lock(mu_);
  token_ = auth["client_token"].get<std::string>();
  token_from_login_ = true;
  relogin_due_ = false;
  token_ttl_ = auth.value("lease_duration", 0LL);
  token_renewable_ = auth.value("renewable", false);
  token_expiry_ = token_ttl_ > 0 ? clock_.now() + std::chrono::seconds(token_ttl_) : TimePoint{};
  learn_identity_locked(auth, false);
  spdlog::info("vault: {} login succeeded: {} (ttl {}s, renewable {})", login_->name(),
               mask_token(token_), token_ttl_, token_renewable_);
  std::string minted = token_;
  lock.unlock();
  write_token_sink(settings_.auth.sink_file, minted);
  token_changed();
}

void VaultClient::invalidate(const std::string& used) {
  std::lock_guard<std::mutex> lock(mu_);
  if (token_ == used && token_from_login_) {
    token_.clear();
    token_expiry_ = TimePoint{};
  }
}

VaultClient::Answer VaultClient::send(const std::string& method, const std::string& path,
                                      const std::vector<std::pair<std::string, std::string>>& query,
                                      const std::string& body, bool with_token) {
  for (int attempt = 0;; ++attempt) {
    HttpRequest req;
    req.method = method;
    req.url = settings_.address + "/v1/" + escape_path(path);
    std::string qs;
    for (const auto& [k, v] : query)
      qs += (qs.empty() ? "?" : "&") + url_escape(k) + "=" + url_escape(v);
    req.url += qs;
    req.timeout = settings_.timeout;
    req.body = body;
    req.headers.emplace_back("X-Vault-Request", "true");
    std::string used = with_token ? token() : "";
    if (!used.empty()) req.headers.emplace_back("X-Vault-Token", used);
    if (!settings_.namespace_.empty())
      req.headers.emplace_back("X-Vault-Namespace", settings_.namespace_);
    if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
    std::string described = describe_request_at(method, req.url);
    HttpResponse resp = exchange(req, described);
    if (resp.status == 403 && with_token && !used.empty() && path != "auth/token/lookup-self") {
      // 403 is also what a policy denial looks like: only a token lookup-self rejects is bad.
      if (token_still_valid(used)) {
        Answer a{resp.status, std::move(resp.body), described, retry_after(resp)};
        a.policy_denied = true;
        return a;
      }
      // A token we minted expired or was revoked: log in again once and retry.
      bool ours;
      {
        std::lock_guard<std::mutex> lock(mu_);
        ours = token_from_login_ || token_.empty();
      }
      if (attempt == 0 && settings_.logs_in() && ours) {
        std::string msg = error_text(resp.body);
        spdlog::warn("vault: {}: status 403{} with {}; logging in again", described,
                     msg.empty() ? "" : ": " + msg, mask_token(used));
        invalidate(used);
        continue;
      }
    }
    return Answer{resp.status, std::move(resp.body), described, retry_after(resp)};
  }
}

void VaultClient::fail(const Answer& a) const {
  std::string msg = error_text(a.body);
  VaultError err("vault: " + a.described + ": status " + std::to_string(a.status) +
                     (msg.empty() ? "" : ": " + msg) + (a.policy_denied ? " (token ok)" : ""),
                 a.status, msg, false);
  err.retry_after = a.retry_after;
  err.policy_denied = a.policy_denied;
  throw err;
}

VaultClient::Mount VaultClient::mount_for(const std::string& raw, bool use_cache) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (use_cache) {
      const std::string* best = nullptr;
      for (const auto& [m, v2] : mounts_) {
        std::string bare = m.substr(0, m.size() - (m.back() == '/' ? 1 : 0));
        if ((raw == bare || raw.rfind(m, 0) == 0) && (!best || m.size() > best->size())) best = &m;
      }
      if (best) return {*best, mounts_[*best]};
      if (unknown_paths_.count(raw)) return {};
    }
  }
  Answer a = send("GET", "sys/internal/ui/mounts/" + raw, {}, "");
  if (a.status == 200) {
    nlohmann::json j = nlohmann::json::parse(a.body, nullptr, false);
    const nlohmann::json* data = j.is_object() && j.contains("data") && j["data"].is_object()
                                     ? &j["data"]
                                     : (j.is_object() ? &j : nullptr);
    Mount m;
    if (data && data->contains("path") && (*data)["path"].is_string()) {
      m.path = (*data)["path"].get<std::string>();
      if (m.path.empty() || m.path.back() != '/') m.path += '/';
      std::string type = data->value("type", "");
      std::string version;
      if (data->contains("options") && (*data)["options"].is_object() &&
          (*data)["options"].contains("version") && (*data)["options"]["version"].is_string())
        version = (*data)["options"]["version"].get<std::string>();
      m.kv2 = type == "kv" && version == "2";
      std::lock_guard<std::mutex> lock(mu_);
      mounts_[m.path] = m.kv2;
      return m;
    }
  }
  if (a.status == 404) {
    // consul-template (dependency/vault_common.go isKVv2): a 404 makes this query KV v1, not
    // the whole process; other mounts keep their own answers.
    std::lock_guard<std::mutex> lock(mu_);
    unknown_paths_.insert(raw);
    return {};
  }
  if (a.status >= 500 || a.status == 429 || a.status == 412) fail(a);  // retry later
  spdlog::warn(
      "vault: failed to check if {} is KVv2 ({}: status {}{}), assume not; using the raw "
      "path",
      raw, a.described, a.status, error_text(a.body).empty() ? "" : ": " + error_text(a.body));
  std::lock_guard<std::mutex> lock(mu_);
  unknown_paths_.insert(raw);
  return {};
}

Response VaultClient::read(const Dependency& d) {
  Mount m = mount_for(d.target, true);
  std::string path = m.kv2 ? shim_kv2_path(d.target, m.path, settings_.namespace_) : d.target;
  Answer a = send("GET", path, d.query, "");
  if (a.status == 200 || a.status == 204 || a.status == 404)
    return Response{static_cast<int>(a.status), std::move(a.body)};
  if (a.policy_denied) report_denied(d.target);
  fail(a);
}

Response VaultClient::write(const Dependency& d) {
  // consul-template looks the mount up on every write.
  Mount m = mount_for(d.target, false);
  std::string path = m.kv2 ? shim_kv2_path(d.target, m.path, settings_.namespace_) : d.target;
  nlohmann::json fields = nlohmann::json::object();
  for (const auto& [k, v] : d.body) fields[k] = v;
  nlohmann::json body = m.kv2 ? nlohmann::json{{"data", fields}} : fields;
  Answer a = send("PUT", path, {}, body.dump());
  if (a.status == 200 || a.status == 204 || a.status == 404)
    return Response{static_cast<int>(a.status), std::move(a.body)};
  if (a.policy_denied) report_denied(d.target);
  fail(a);
}

Response VaultClient::issue(const Dependency& d) {
  nlohmann::json fields = nlohmann::json::object();
  for (const auto& [k, v] : d.body) fields[k] = v;
  Answer a = send("PUT", d.target, {}, fields.dump());
  if (a.status == 200 || a.status == 204 || a.status == 404)
    return Response{static_cast<int>(a.status), std::move(a.body)};
  if (a.policy_denied) report_denied(d.target);
  fail(a);
}

Response VaultClient::list(const Dependency& d) {
  Mount m = mount_for(d.target, true);
  std::string path = m.kv2 ? shim_kv2_list_path(d.target, m.path, settings_.namespace_) : d.target;
  Answer a = send("LIST", path, {}, "");
  if (a.status == 200 || a.status == 404)
    return Response{static_cast<int>(a.status), std::move(a.body)};
  if (a.policy_denied) report_denied(d.target);
  fail(a);
}

std::string VaultClient::api_path(const Dependency& d) {
  if (d.type == DepType::VaultPki) return d.target;
  Mount m = mount_for(d.target, true);
  if (!m.kv2) return d.target;
  return d.type == DepType::VaultList ? shim_kv2_list_path(d.target, m.path, settings_.namespace_)
                                      : shim_kv2_path(d.target, m.path, settings_.namespace_);
}

std::map<std::string, std::vector<std::string>> VaultClient::capabilities_self(
    const std::vector<std::string>& paths) {
  Answer a = send("PUT", "sys/capabilities-self", {}, nlohmann::json{{"paths", paths}}.dump());
  if (a.status != 200) fail(a);
  auto j = nlohmann::json::parse(a.body, nullptr, false);
  std::map<std::string, std::vector<std::string>> out;
  const nlohmann::json* data =
      j.is_object() && j.contains("data") && j["data"].is_object() ? &j["data"] : nullptr;
  for (const auto& p : paths) {
    auto& caps = out[p];
    if (data && data->contains(p) && (*data)[p].is_array())
      for (const auto& c : (*data)[p])
        if (c.is_string()) caps.push_back(c.get<std::string>());
    if (caps.empty()) caps.push_back("deny");
  }
  return out;
}

RenewResult VaultClient::renew_lease(const std::string& lease_id, long long increment_seconds) {
  nlohmann::json body = {{"lease_id", lease_id}, {"increment", increment_seconds}};
  Answer a = send("PUT", "sys/leases/renew", {}, body.dump());
  if (a.status != 200) fail(a);
  nlohmann::json j = nlohmann::json::parse(a.body, nullptr, false);
  RenewResult r;
  if (j.is_object()) {
    r.lease_seconds = j.value("lease_duration", 0LL);
    r.renewable = j.value("renewable", false);
    if (j.contains("warnings") && j["warnings"].is_array())
      for (const auto& w : j["warnings"])
        if (w.is_string()) r.warnings.push_back(w.get<std::string>());
  }
  r.capped = r.lease_seconds < increment_seconds;
  for (const auto& w : r.warnings)
    if (w.find("capped") != std::string::npos || w.find("max_ttl") != std::string::npos)
      r.capped = true;
  return r;
}

bool VaultClient::revoke_lease(const std::string& lease_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (revoke_disabled_) return false;
  }
  nlohmann::json body = {{"lease_id", lease_id}};
  Answer a = send("PUT", "sys/leases/revoke", {}, body.dump());
  if (a.status == 200 || a.status == 204) return true;
  if (a.policy_denied) {
    // The default policy (and most app policies) has no sys/leases/revoke: asking again on
    // every rotation only fills the log. The old leases die with their TTL or their token.
    bool first;
    {
      std::lock_guard<std::mutex> lock(mu_);
      first = !revoke_disabled_;
      revoke_disabled_ = true;
    }
    if (first)
      spdlog::warn(
          "vault: the token may not revoke leases (no update capability on sys/leases/revoke); "
          "revoke_superseded is off for this run");
    return false;
  }
  fail(a);
}

bool VaultClient::token_needs_upkeep() const {
  std::lock_guard<std::mutex> lock(mu_);
  return settings_.logs_in() || !settings_.token_file.empty() ||
         (settings_.renew_token && !token_.empty());
}

std::optional<TimePoint> VaultClient::maintain_token(const Random& random) {
  const double u = random ? random() : 0.0;
  // A fresh login is looked at again at half its TTL at the latest: if renew-self says the max
  // TTL caps it, the next token is fetched while half of this one is left for its leases to be
  // fetched again, rendered and applied (the lead scales with the TTL).
  auto after_login = [&]() -> std::optional<TimePoint> {
    std::lock_guard<std::mutex> lock(mu_);
    if (token_ttl_ <= 0) return std::nullopt;
    Ms ttl(token_ttl_ * 1000);
    return clock_.now() + std::min(renew_sleep(ttl, renew_grace(ttl, u)), ttl / 2);
  };
  if (settings_.logs_in()) {
    bool need_login;
    std::string seen;  // the token judged; another one by the time we may log in is fresh
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen = token_;
      long long left =
          token_expiry_.time_since_epoch().count() == 0
              ? 0
              : std::chrono::duration_cast<std::chrono::seconds>(token_expiry_ - clock_.now())
                    .count();
      Ms grace = renew_grace(Ms(token_ttl_ * 1000), u);
      need_login =
          token_.empty() || !token_from_login_ || relogin_due_ ||
          (token_ttl_ > 0 && (!token_renewable_ || renewal_exhausted(Ms(left * 1000), grace)));
      if (!need_login && token_ttl_ == 0) return std::nullopt;  // a login without expiry
    }
    if (need_login) {
      std::lock_guard<std::mutex> login(login_mu_);
      bool fresh;
      {
        std::lock_guard<std::mutex> lock(mu_);
        fresh = token_from_login_ && !token_.empty() && token_ != seen;
      }
      // A watcher that found no token logged in meanwhile (at start both race): one login.
      if (!fresh) login_locked();
      return after_login();
    }
  } else if (!settings_.token_file.empty()) {
    // An agent-managed token file: not renewed (consul-template #1189), but watched, so that a
    // new token re-parents the leases before the old one dies (token() re-reads the file).
    (void)token();
    identity();
    return clock_.now() + kTokenFilePoll;
  } else {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!settings_.renew_token || token_.empty()) return std::nullopt;
    }
    identity();  // its accessor and end, once per token, for the leases it creates
  }
  // renew-self, asking for the TTL we were last granted (Vault's default when unknown).
  long long asked;
  {
    std::lock_guard<std::mutex> lock(mu_);
    asked = token_ttl_;
  }
  nlohmann::json body = asked > 0 ? nlohmann::json{{"increment", asked}} : nlohmann::json::object();
  Answer a = send("PUT", "auth/token/renew-self", {}, body.dump());
  if (a.status != 200) {
    if (a.status >= 500 || a.status == 429 || a.status == 0) fail(a);
    std::string msg = error_text(a.body);
    if (settings_.logs_in()) {
      spdlog::warn("vault: token renewal refused ({}); logging in again", msg);
      {
        std::lock_guard<std::mutex> login(login_mu_);
        login_locked();
      }
      return after_login();
    }
    spdlog::info("vault: the token is not renewed ({}: status {}{})", a.described, a.status,
                 msg.empty() ? "" : ": " + msg);
    return std::nullopt;
  }
  nlohmann::json j = nlohmann::json::parse(a.body, nullptr, false);
  long long ttl = 0;
  bool renewable = false;
  bool capped = false;  // vault/token_store.go: past the max TTL, a shorter TTL and a warning
  if (j.is_object() && j.contains("auth") && j["auth"].is_object()) {
    ttl = j["auth"].value("lease_duration", 0LL);
    renewable = j["auth"].value("renewable", false);
  }
  if (j.is_object() && j.contains("warnings") && j["warnings"].is_array())
    for (const auto& w : j["warnings"])
      if (w.is_string() && w.get<std::string>().find("capped") != std::string::npos) capped = true;
  capped = capped || (asked > 0 && ttl < asked);
  std::lock_guard<std::mutex> lock(mu_);
  token_ttl_ = asked > 0 ? std::max(asked, ttl) : ttl;  // remember what to ask for next time
  token_renewable_ = renewable;
  token_expiry_ = ttl > 0 ? clock_.now() + std::chrono::seconds(ttl) : TimePoint{};
  if (identity_token_hash_ == short_hash(token_)) {
    identity_.expires_at = token_expiry_;
    identity_.ttl_s = ttl;
  }
  spdlog::info("vault: renewed {}: {}s left", mask_token(token_), ttl);
  if (ttl <= 0) return std::nullopt;
  Ms left(ttl * 1000);
  Ms grace = renew_grace(Ms(token_ttl_ * 1000), u);
  if (settings_.logs_in() && (capped || !renewable || renewal_exhausted(left, grace))) {
    // Log in again now: the leases of this token die with it and must be fetched again with
    // the next one before then, which takes a render and the apply hooks.
    spdlog::info("vault: {} ends in {}s (max TTL); logging in again now", mask_token(token_), ttl);
    relogin_due_ = true;
    return clock_.now();
  }
  if (!renewable || renewal_exhausted(left, grace)) {
    spdlog::warn("vault: {} reaches its max TTL in {}s and cannot be renewed further",
                 mask_token(token_), ttl);
    return std::nullopt;
  }
  return clock_.now() + renew_sleep(left, grace);
}

// ---- redirects, token identity, policy denials ----

HttpResponse VaultClient::exchange(HttpRequest req, std::string& described) {
  for (int hop = 0;; ++hop) {
    HttpResponse resp;
    try {
      resp = http_->send(req);
    } catch (const HttpTransportError& e) {
      VaultError err("vault: " + described + ": " + e.reason, 0, e.reason, true);
      UrlParts u = split_url(req.url);
      err.cause = "vault " + u.scheme + "://" + u.host + (u.port.empty() ? "" : ":" + u.port) +
                  ": " + e.reason;
      throw err;
    }
    bool redirect =
        resp.status == 307 || resp.status == 308 || resp.status == 301 || resp.status == 302;
    const std::string* loc = redirect ? resp.header("location") : nullptr;
    if (!loc || loc->empty()) return resp;
    std::string target = *loc;
    if (target[0] == '/') {  // relative: same scheme and host
      auto host_end = req.url.find('/', req.url.find("://") + 3);
      target = req.url.substr(0, host_end) + target;
    }
    if (hop >= kMaxRedirects)
      throw VaultError("vault: " + described + ": more than " + std::to_string(kMaxRedirects) +
                           " redirects (last to " + describe_request_at(req.method, target) + ")",
                       resp.status, "", false);
    if (req.url.rfind("https://", 0) == 0 && target.rfind("https://", 0) != 0)
      throw VaultError("vault: " + described + ": redirect would cause protocol downgrade to " +
                           describe_request_at(req.method, target),
                       resp.status, "", false);
    std::string next = describe_request_at(req.method, target);
    spdlog::info("vault: {}: status {}: following to {}", described, resp.status, next);
    req.url = target;
    described = next;
  }
}

bool VaultClient::token_still_valid(const std::string& used) {
  HttpRequest req;
  req.method = "GET";  // the default policy grants lookup-self `read` only
  req.url = settings_.address + "/v1/auth/token/lookup-self";
  req.timeout = settings_.timeout;
  req.headers.emplace_back("X-Vault-Request", "true");
  req.headers.emplace_back("X-Vault-Token", used);
  if (!settings_.namespace_.empty())
    req.headers.emplace_back("X-Vault-Namespace", settings_.namespace_);
  std::string described = describe_request_at("GET", req.url);
  try {
    HttpResponse resp = exchange(req, described);
    if (resp.status != 200) return false;
    nlohmann::json j = nlohmann::json::parse(resp.body, nullptr, false);
    std::lock_guard<std::mutex> lock(mu_);
    if (used == token_ && j.is_object() && j.contains("data") && j["data"].is_object())
      learn_identity_locked(j["data"], true);
    return true;
  } catch (const VaultError&) {
    return false;  // no answer: the 403 stands as it came
  }
}

void VaultClient::report_denied(const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!denied_paths_.insert(path).second) return;
  }
  spdlog::warn("vault: permission denied by policy for {} (token ok)", path);
}

void VaultClient::learn_identity_locked(const nlohmann::json& j, bool from_lookup) {
  TokenIdentity id;
  id.accessor = j.value("accessor", "");
  long long ttl = from_lookup ? j.value("ttl", 0LL) : j.value("lease_duration", 0LL);
  id.ttl_s = from_lookup ? j.value("creation_ttl", ttl) : ttl;
  if (ttl > 0) id.expires_at = clock_.now() + std::chrono::seconds(ttl);
  identity_ = id;
  identity_token_hash_ = short_hash(token_);
  lookup_denied_ = false;
}

TokenIdentity VaultClient::known_identity() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (identity_token_hash_ != short_hash(token_)) return {};
  return identity_;
}

TokenIdentity VaultClient::identity() {
  std::string t;
  try {
    t = token();
  } catch (const FetchError&) {
    return known_identity();
  }
  if (t.empty()) return {};
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (identity_token_hash_ == short_hash(t) && (identity_.known() || lookup_denied_))
      return identity_;
  }
  Answer a;
  try {
    a = send("GET", "auth/token/lookup-self", {}, "");
  } catch (const VaultError&) {
    return known_identity();  // no answer: ask again next time
  }
  TokenIdentity out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (token_ != t) return {};
    nlohmann::json j = nlohmann::json::parse(a.body, nullptr, false);
    if (a.status != 200 || !j.is_object() || !j.contains("data") || !j["data"].is_object()) {
      identity_ = TokenIdentity{};
      identity_token_hash_ = short_hash(t);
      lookup_denied_ = true;  // once per token
      return identity_;
    }
    learn_identity_locked(j["data"], true);
    out = identity_;
  }
  token_changed();  // now that it is known, the leases of other tokens can be told apart
  return out;
}

void VaultClient::set_on_token_change(std::function<void()> callback) {
  std::lock_guard<std::mutex> lock(mu_);
  on_token_change_ = std::move(callback);
}

void VaultClient::token_changed() {
  std::function<void()> cb;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cb = on_token_change_;
  }
  if (cb) cb();
}

std::optional<long long> VaultClient::lease_ttl(const std::string& lease_id) {
  nlohmann::json body = {{"lease_id", lease_id}};
  Answer a = send("PUT", "sys/leases/lookup", {}, body.dump());
  if (a.status != 200) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(a.body, nullptr, false);
  if (!j.is_object() || !j.contains("data") || !j["data"].is_object()) return std::nullopt;
  const auto& ttl = j["data"]["ttl"];
  return json_exact_int64(ttl);
}

}  // namespace templet::live
