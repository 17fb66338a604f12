// The Redash HTTP API backend (see redash_api.hpp).
#include "hooks/redash_api.hpp"

#include <thread>

#include "sys/duration.hpp"

#include "renderer/diff.hpp"

namespace templet {

namespace {

using json = nlohmann::json;

class ApiBackend : public RedashBackend {
 public:
  ApiBackend(RedashApiSettings s, std::shared_ptr<HttpClient> http)
      : s_(std::move(s)), http_(std::move(http)) {
    while (!s_.url.empty() && s_.url.back() == '/') s_.url.pop_back();
  }

  std::string target() const override { return s_.url; }

  void set_secrets(std::vector<std::string> secrets) override {
    secrets_ = std::move(secrets);
    if (!s_.api_key.empty()) secrets_.push_back(s_.api_key);
  }

  std::vector<RemoteDatasource> list() override {
    json j = call("GET", "/api/data_sources", nullptr, {200});
    std::vector<RemoteDatasource> out;
    if (!j.is_array()) throw RedashError("GET /api/data_sources: expected a JSON list");
    for (const auto& d : j) {
      RemoteDatasource r;
      r.id = d.value("id", int64_t{0});
      r.name = d.value("name", "");
      r.type = d.value("type", "");
      out.push_back(std::move(r));
    }
    return out;
  }

  std::optional<json> schemas() override {
    json j = call("GET", "/api/data_sources/types", nullptr, {200});
    json out = json::object();
    if (!j.is_array()) return out;
    for (const auto& t : j)
      if (t.is_object() && t.contains("type") && t["type"].is_string())
        out[t["type"].get<std::string>()] = t.value("configuration_schema", json::object());
    return out;
  }

  json options(const RemoteDatasource& ds) override {
    json j = call("GET", "/api/data_sources/" + std::to_string(ds.id), nullptr, {200});
    if (!j.is_object() || !j.contains("options") || !j["options"].is_object())
      throw RedashError("GET /api/data_sources/" + std::to_string(ds.id) +
                        ": no options in the answer (is the API key an admin's?)");
    memberships_[ds.id] = groups_in(j);
    return j["options"];
  }

  std::optional<std::vector<RemoteGroup>> groups() override {
    json j = call("GET", "/api/groups", nullptr, {200});
    std::vector<RemoteGroup> out;
    if (!j.is_array()) throw RedashError("GET /api/groups: expected a JSON list");
    for (const auto& g : j)
      if (g.is_object()) out.push_back({g.value("id", int64_t{0}), g.value("name", "")});
    return out;
  }

  // Read with the options (a datasource's long form lists its groups), else asked for.
  std::map<int64_t, bool> memberships(const RemoteDatasource& ds) override {
    auto it = memberships_.find(ds.id);
    if (it != memberships_.end()) return it->second;
    return groups_in(call("GET", "/api/data_sources/" + std::to_string(ds.id), nullptr, {200}));
  }

  void add_to_group(int64_t group, const RemoteDatasource& ds) override {
    json body = {{"data_source_id", ds.id}};
    call("POST", "/api/groups/" + std::to_string(group) + "/data_sources", &body, {200});
    memberships_.erase(ds.id);
  }

  void set_view_only(int64_t group, const RemoteDatasource& ds, bool view_only) override {
    json body = {{"view_only", view_only}};
    call("POST", "/api/groups/" + std::to_string(group) + "/data_sources/" + std::to_string(ds.id),
         &body, {200});
    memberships_.erase(ds.id);
  }

  void remove_from_group(int64_t group, const RemoteDatasource& ds) override {
    call("DELETE",
         "/api/groups/" + std::to_string(group) + "/data_sources/" + std::to_string(ds.id), nullptr,
         {200, 204});
    memberships_.erase(ds.id);
  }

  int64_t create(const std::string& name, const std::string& type, const json& options) override {
    json body = {{"name", name}, {"type", type}, {"options", options}};
    json j = call("POST", "/api/data_sources", &body, {200, 201});
    if (!j.is_object() || !j.contains("id") || !j["id"].is_number_integer())
      throw RedashError("POST /api/data_sources: no id in the answer");
    return j["id"].get<int64_t>();
  }

  void update(const RemoteDatasource& ds, const std::string& type, const json& options) override {
    json body = {{"name", ds.name}, {"type", type}, {"options", options}};
    call("POST", "/api/data_sources/" + std::to_string(ds.id), &body, {200});
  }

  void remove(const RemoteDatasource& ds) override {
    call("DELETE", "/api/data_sources/" + std::to_string(ds.id), nullptr, {200, 204});
  }

  RedashTestResult test(const RemoteDatasource& ds) override {
    json j = call("POST", "/api/data_sources/" + std::to_string(ds.id) + "/test", nullptr, {200},
                  s_.test_timeout);
    RedashTestResult r;
    r.ok = j.is_object() && j.value("ok", false);
    r.message = j.is_object() && j.contains("message") && j["message"].is_string()
                    ? mask_secrets(j["message"].get<std::string>(), secrets_)
                    : "";
    return r;
  }

 private:
  // Sends one request and returns the parsed body (null when empty) for the expected statuses;
  // throws otherwise. While Redash is not ready (connection refused, 502, 503; for GET and
  // DELETE also 504 and timeouts) the request is resent with doubling backoff until
  // ready_timeout. A create or update that may have reached Redash (504, timeout) is not resent:
  // that entry fails and the next plan sees what Redash did. Once a wait has run out, later
  // calls are tried once, so a Redash that is down costs one ready_timeout per apply, not one
  // per entry.
  json call(const std::string& method, const std::string& path, const json* body,
            std::initializer_list<long> ok,
            std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    HttpRequest req;
    req.method = method;
    req.url = s_.url + path;
    req.headers.emplace_back("Authorization", "Key " + s_.api_key);
    req.headers.emplace_back("Accept", "application/json");
    // What the TLS-terminating proxy in front of Redash sends: talisman then does not redirect.
    if (!s_.forwarded_proto.empty())
      req.headers.emplace_back("X-Forwarded-Proto", s_.forwarded_proto);
    if (body) {
      req.headers.emplace_back("Content-Type", "application/json");
      req.body = body->dump();
    }
    req.timeout = timeout.value_or(s_.request_timeout);
    const std::string what = method + " " + path;
    const bool write = method != "GET";
    const bool resendable = method == "GET" || method == "DELETE";
    const bool may_wait = !waited_out_;
    const auto deadline = std::chrono::steady_clock::now() +
                          (may_wait ? s_.ready_timeout : std::chrono::milliseconds(0));
    std::chrono::milliseconds backoff{250};
    HttpResponse resp;
    std::string waiting;
    while (true) {
      try {
        resp = http_->send(req);
        if (resp.status != 502 && resp.status != 503 && !(resp.status == 504 && resendable)) break;
        waiting = "answered " + std::to_string(resp.status);
      } catch (const HttpTransportError& e) {
        if (e.timed_out && !resendable)
          throw RedashError(what + ": no answer from Redash at " + s_.url + " within " +
                            format_duration(req.timeout) +
                            "; not resent, as Redash may have applied it");
        if (!e.refused && !e.timed_out) throw RedashUnavailable(masked(what + ": " + e.what()));
        resp = HttpResponse{};
        waiting = e.refused ? "connection refused" : "timed out";
      }
      auto now = std::chrono::steady_clock::now();
      if (now + backoff > deadline) {
        waited_out_ = true;
        std::string until =
            may_wait ? " until the ready timeout (" + format_duration(s_.ready_timeout) + ")" : "";
        std::string m = server_message(resp);
        if (!m.empty()) until += ": " + m;
        // A read that cannot be made stops the plan; a write fails only its own entry.
        if (write) throw RedashError(what + ": Redash at " + s_.url + " " + waiting + until);
        throw RedashUnavailable("Redash at " + s_.url + " not ready: " + what + " " + waiting +
                                until);
      }
      std::this_thread::sleep_for(backoff);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(5));
    }
    for (long s : ok)
      if (resp.status == s) {
        if (resp.body.empty()) return nullptr;
        try {
          return json::parse(resp.body);
        } catch (const json::parse_error&) {
          throw RedashError(what + ": answer is not JSON (status " + std::to_string(resp.status) +
                            ")");
        }
      }
    // A redirect is never followed: it would carry the API key to wherever it points.
    if (resp.status >= 300 && resp.status < 400) {
      const std::string* loc = resp.header("location");
      std::string to = loc ? masked(*loc) : "(no Location)";
      if (to.starts_with("https://") && s_.url.starts_with("http://"))
        throw RedashUnavailable("Redash at " + s_.url + " redirects to " + to +
                                " (REDASH_ENFORCE_HTTPS?): use the https URL, or set "
                                "forwarded_proto: https for a local http address");
      throw RedashUnavailable(what + ": Redash at " + s_.url + " answered " +
                              std::to_string(resp.status) + " redirecting to " + to +
                              "; redirects are not followed");
    }
    std::string message = server_message(resp);
    if (resp.status == 404 && (path == "/api/data_sources" || path == "/api/data_sources/types"))
      throw RedashUnavailable("API key rejected: Redash answered 404 to " + what +
                              " (check the key in " + s_.api_key_source + ")");
    if (resp.status == 403)
      throw RedashUnavailable("API key lacks admin rights: Redash answered 403 to " + what);
    std::string out = what + ": Redash at " + s_.url + " answered " + std::to_string(resp.status);
    if (resp.status == 400) out += " (options or type refused by Redash's own validation)";
    if (!message.empty()) out += ": " + message;
    throw RedashError(out);
  }

  std::string server_message(const HttpResponse& resp) const {
    try {
      json j = json::parse(resp.body);
      if (j.is_object() && j.contains("message") && j["message"].is_string())
        return masked(j["message"].get<std::string>());
    } catch (const json::parse_error&) {
    }
    // A proxy's plain-text page ("502 Bad Gateway") is worth a line; HTML says nothing useful.
    const std::string* type = resp.header("content-type");
    if (!type || !type->starts_with("text/plain")) return "";
    std::string line = resp.body.substr(0, resp.body.find('\n'));
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.size() > 200) line = line.substr(0, 200) + "...";
    return masked(line);
  }

  std::string masked(const std::string& s) const { return mask_secrets(s, secrets_); }

  static std::map<int64_t, bool> groups_in(const json& ds) {
    std::map<int64_t, bool> out;
    if (!ds.is_object() || !ds.contains("groups") || !ds["groups"].is_object()) return out;
    for (auto it = ds["groups"].begin(); it != ds["groups"].end(); ++it) {
      try {
        out[std::stoll(it.key())] = it.value().is_boolean() && it.value().get<bool>();
      } catch (const std::exception&) {
      }
    }
    return out;
  }

  RedashApiSettings s_;
  std::map<int64_t, std::map<int64_t, bool>> memberships_;
  std::shared_ptr<HttpClient> http_;
  std::vector<std::string> secrets_;
  bool waited_out_ = false;  // a wait for readiness ran out: later calls are tried once
};

}  // namespace

std::unique_ptr<RedashBackend> make_redash_api_backend(RedashApiSettings settings,
                                                       std::shared_ptr<HttpClient> http) {
  return std::make_unique<ApiBackend>(std::move(settings), std::move(http));
}

}  // namespace templet
