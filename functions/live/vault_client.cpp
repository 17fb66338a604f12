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
#include "net/address.hpp"

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
  return s;
}

VaultClient::VaultClient(VaultSettings settings, std::shared_ptr<HttpPool> http, Clock& clock)
    : settings_(std::move(settings)), http_(std::move(http)), clock_(clock) {
  token_ = settings_.token;
}

void VaultClient::refresh_token_file_locked() {
  struct stat st {};
  FileStamp stamp;
  if (::stat(settings_.token_file.c_str(), &st) == 0) {
    stamp.mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
    stamp.size = static_cast<long long>(st.st_size);
  }
  if (stamp.mtime_ns == token_file_stamp_.mtime_ns && stamp.size == token_file_stamp_.size &&
      !token_file_stamp_.content_hash.empty())
    return;
  std::string content = stamp.mtime_ns < 0 ? "" : read_trimmed(settings_.token_file);
  // A JSON wrap-info file carries the token in "token".
  if (!content.empty() && content[0] == '{') {
    nlohmann::json j = nlohmann::json::parse(content, nullptr, false);
    if (j.is_object() && j.contains("token") && j["token"].is_string())
      content = j["token"].get<std::string>();
  }
  stamp.content_hash = short_hash(content) + (content.empty() ? "-empty" : "");
  if (stamp.content_hash != token_file_stamp_.content_hash) {
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
}

std::string VaultClient::token() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!settings_.token_file.empty()) refresh_token_file_locked();
    bool expired = token_from_login_ && token_expiry_.time_since_epoch().count() != 0 &&
                   clock_.now() >= token_expiry_;
    if (!settings_.approle() || (!token_.empty() && !expired)) return token_;
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
  std::string role_id = read_trimmed(settings_.role_id_file);
  std::string secret_id = read_trimmed(settings_.secret_id_file);
  if (role_id.empty() || secret_id.empty())
    throw VaultError("vault: AppRole login: role_id_file or secret_id_file is missing or empty", 0,
                     "", false);
  nlohmann::json body = {{"role_id", role_id}, {"secret_id", secret_id}};
  Answer a = send("POST", "auth/approle/login", {}, body.dump(), false);
  if (a.status != 200) fail(a);
  nlohmann::json j = nlohmann::json::parse(a.body, nullptr, false);
  if (!j.is_object() || !j.contains("auth") || !j["auth"].is_object() ||
      !j["auth"].contains("client_token") || !j["auth"]["client_token"].is_string())
    throw VaultError("vault: " + a.described + ": no auth.client_token in the answer", a.status, "",
                     false);
  const auto& auth = j["auth"];
  std::lock_guard<std::mutex> lock(mu_);
  token_ = auth["client_token"].get<std::string>();
  token_from_login_ = true;
  token_ttl_ = auth.value("lease_duration", 0LL);
  token_renewable_ = auth.value("renewable", false);
  token_expiry_ = token_ttl_ > 0 ? clock_.now() + std::chrono::seconds(token_ttl_) : TimePoint{};
  spdlog::info("vault: AppRole login succeeded: {} (ttl {}s, renewable {})", mask_token(token_),
               token_ttl_, token_renewable_);
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
    HttpResponse resp;
    try {
      resp = http_->send(req);
    } catch (const HttpTransportError& e) {
      throw VaultError("vault: " + described + ": " + e.reason, 0, e.reason, true);
    }
    // A 403 on a token we minted: it expired or was revoked. Log in again once and retry.
    if (resp.status == 403 && with_token && attempt == 0 && settings_.approle()) {
      bool ours;
      {
        std::lock_guard<std::mutex> lock(mu_);
        ours = token_from_login_ || token_.empty();
      }
      if (ours) {
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
                     (msg.empty() ? "" : ": " + msg),
                 a.status, msg, false);
  err.retry_after = a.retry_after;
  throw err;
}

VaultClient::Mount VaultClient::mount_for(const std::string& raw, bool use_cache) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (no_mounts_endpoint_) return {};
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
    std::lock_guard<std::mutex> lock(mu_);
    no_mounts_endpoint_ = true;  // an old Vault without the endpoint: everything is KV v1
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
  fail(a);
}

Response VaultClient::list(const Dependency& d) {
  Mount m = mount_for(d.target, true);
  std::string path = m.kv2 ? shim_kv2_list_path(d.target, m.path, settings_.namespace_) : d.target;
  Answer a = send("LIST", path, {}, "");
  if (a.status == 200 || a.status == 404)
    return Response{static_cast<int>(a.status), std::move(a.body)};
  fail(a);
}

std::string VaultClient::api_path(const Dependency& d) {
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

void VaultClient::revoke_lease(const std::string& lease_id) {
  nlohmann::json body = {{"lease_id", lease_id}};
  Answer a = send("PUT", "sys/leases/revoke", {}, body.dump());
  if (a.status != 200 && a.status != 204) fail(a);
}

bool VaultClient::token_needs_upkeep() const {
  std::lock_guard<std::mutex> lock(mu_);
  return settings_.approle() || (settings_.renew_token && !token_.empty());
}

std::optional<TimePoint> VaultClient::maintain_token(const Random& random) {
  const double u = random ? random() : 0.0;
  if (settings_.approle()) {
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
          token_.empty() || !token_from_login_ ||
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
      std::lock_guard<std::mutex> lock(mu_);
      if (token_ttl_ <= 0) return std::nullopt;
      Ms ttl(token_ttl_ * 1000);
      return clock_.now() + renew_sleep(ttl, renew_grace(ttl, u));
    }
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    if (!settings_.renew_token || token_.empty()) return std::nullopt;
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
    if (settings_.approle()) {
      spdlog::warn("vault: token renewal refused ({}); logging in again", msg);
      std::lock_guard<std::mutex> login(login_mu_);
      login_locked();
      std::lock_guard<std::mutex> lock(mu_);
      if (token_ttl_ <= 0) return std::nullopt;
      Ms ttl(token_ttl_ * 1000);
      return clock_.now() + renew_sleep(ttl, renew_grace(ttl, u));
    }
    spdlog::info("vault: the token is not renewed ({}: status {}{})", a.described, a.status,
                 msg.empty() ? "" : ": " + msg);
    return std::nullopt;
  }
  nlohmann::json j = nlohmann::json::parse(a.body, nullptr, false);
  long long ttl = 0;
  bool renewable = false;
  if (j.is_object() && j.contains("auth") && j["auth"].is_object()) {
    ttl = j["auth"].value("lease_duration", 0LL);
    renewable = j["auth"].value("renewable", false);
  }
  std::lock_guard<std::mutex> lock(mu_);
  token_ttl_ = asked > 0 ? std::max(asked, ttl) : ttl;  // remember what to ask for next time
  token_renewable_ = renewable;
  token_expiry_ = ttl > 0 ? clock_.now() + std::chrono::seconds(ttl) : TimePoint{};
  spdlog::info("vault: renewed {}: {}s left", mask_token(token_), ttl);
  if (ttl <= 0) return std::nullopt;
  Ms left(ttl * 1000);
  Ms grace = renew_grace(Ms(token_ttl_ * 1000), u);
  if (!renewable || renewal_exhausted(left, grace)) {
    if (!settings_.approle()) {
      spdlog::warn("vault: {} reaches its max TTL in {}s and cannot be renewed further",
                   mask_token(token_), ttl);
      return std::nullopt;
    }
    return clock_.now() + left / 2;  // log in again well before it dies
  }
  return clock_.now() + renew_sleep(left, grace);
}

}  // namespace templet::live
