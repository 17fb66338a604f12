// The InfluxDB v2 HTTP API (see influxdb_api.hpp).
#include "net/influxdb_api.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

namespace templet {

using json = nlohmann::json;

namespace {

std::string trim_right(std::string s) {
  while (!s.empty() &&
         (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.pop_back();
  return s;
}

std::string replace_all(std::string text, const std::string& what, const std::string& with) {
  if (what.empty()) return text;
  for (size_t pos = text.find(what); pos != std::string::npos;
       pos = text.find(what, pos + with.size()))
    text.replace(pos, what.size(), with);
  return text;
}

}  // namespace

std::string influx_server_message(const HttpResponse& resp) {
  try {
    json j = json::parse(resp.body);
    if (j.is_object() && j.contains("message") && j["message"].is_string())
      return j["message"].get<std::string>();
  } catch (const json::exception&) {
  }
  std::string b = trim_right(resp.body);
  if (b.size() > 200) b = b.substr(0, 200) + "...";
  return b;
}

InfluxApi::InfluxApi(InfluxApiSettings settings, std::shared_ptr<HttpClient> http)
    : settings_(std::move(settings)), http_(std::move(http)) {
  while (!settings_.url.empty() && settings_.url.back() == '/') settings_.url.pop_back();
}

std::string InfluxApi::mask(const std::string& text) const {
  return replace_all(text, settings_.token, "********");
}

HttpRequest InfluxApi::request(const std::string& method, const std::string& path_and_query,
                               const json& body) const {
  HttpRequest req;
  req.method = method;
  req.url = settings_.url + path_and_query;
  if (!body.is_null()) req.body = body.dump();
  return req;
}

std::string InfluxApi::describe_failure(const HttpRequest& req, const HttpResponse& resp) const {
  std::string what = describe_request(req.method, req.url);  // the path only
  if (resp.status == 401) return mask("token rejected (" + what + ": 401)");
  return mask(what + ": " + std::to_string(resp.status) + " " + influx_server_message(resp));
}

HttpResponse InfluxApi::send(HttpRequest req) {
  req.headers.emplace_back("Authorization", "Token " + settings_.token);
  req.headers.emplace_back("Accept", "application/json");
  if (!req.body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  bool idempotent = req.method == "GET" || req.method == "DELETE";
  std::optional<std::chrono::steady_clock::time_point> deadline;
  auto backoff = settings_.first_backoff;
  while (true) {
    std::optional<HttpResponse> resp;
    std::optional<HttpTransportError> err;
    try {
      resp = http_->send(req);
      bool not_ready =
          resp->status == 502 || resp->status == 503 || (resp->status == 504 && idempotent);
      if (!not_ready) return *resp;
    } catch (const HttpTransportError& e) {
      HttpTransportError masked(mask(e.what()), mask(e.reason));
      masked.timed_out = e.timed_out;
      masked.refused = e.refused;
      if (!e.refused && !idempotent) throw masked;
      err = masked;
    }
    auto now = std::chrono::steady_clock::now();
    if (!deadline) deadline = now + settings_.ready_timeout;
    if (now + backoff > *deadline) {
      if (err) throw *err;
      return *resp;
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(5));
  }
}

json InfluxApi::get_json(const std::string& path_and_query) {
  HttpRequest req = request("GET", path_and_query);
  HttpResponse resp = send(req);
  if (resp.status != 200) {
    InfluxApiError e(describe_failure(req, resp));
    e.status = resp.status;
    throw e;
  }
  try {
    return json::parse(resp.body);
  } catch (const json::exception& ex) {
    throw InfluxApiError(std::string("unreadable answer from InfluxDB: ") + ex.what());
  }
}

std::string InfluxApi::resolve_org(const std::string& name, const std::string& org_id) {
  if (!org_id.empty()) return org_id;
  json j;
  try {
    j = get_json("/api/v2/orgs?org=" + url_escape(name));
  } catch (const InfluxApiError& e) {
    if (e.status == 404) throw InfluxApiError("organization \"" + name + "\" not found");
    throw;
  }
  const json orgs = j.is_object() ? j.value("orgs", json::array()) : json::array();
  for (const auto& o : orgs)
    if (o.is_object() && o.value("name", "") == name) return o.value("id", "");
  // The server leaves out the orgs a token may not read (a token without read:orgs, as a
  // task-only token usually is) and answers 200 with an empty list.
  throw InfluxApiError("organization \"" + name +
                       "\" is not visible to this token (it lacks read:orgs); set org_id to the "
                       "organization's id instead of org");
}

std::vector<json> InfluxApi::list_all(const std::string& path_and_query, const std::string& field,
                                      int limit) {
  std::vector<json> out;
  std::string after;
  std::set<std::string> seen;  // buckets come in name order: ids do not grow page by page
  while (true) {
    json j = get_json(path_and_query + "&limit=" + std::to_string(limit) +
                      (after.empty() ? "" : "&after=" + url_escape(after)));
    const json page = j.is_object() && j.contains(field) ? j[field] : json::array();
    if (!page.is_array() || page.empty()) break;
    for (const auto& x : page) out.push_back(x);
    // A short page is the last one: asking on would only fetch an empty page.
    if (page.size() < static_cast<size_t>(limit)) break;
    std::string last = page.back().is_object() ? page.back().value("id", "") : "";
    if (last.empty() || !seen.insert(last).second) break;  // a server that does not page
    after = last;
  }
  return out;
}

std::string read_influx_token(const std::optional<std::string>& token_file,
                              const std::optional<std::string>& token_env, std::string& error) {
  error.clear();
  if (token_file && !token_file->empty()) {
    std::ifstream in(*token_file, std::ios::binary);
    std::stringstream buf;
    if (in) buf << in.rdbuf();
    if (!in) {
      error = "cannot read token_file " + *token_file;
      return "";
    }
    std::string token = trim_right(buf.str());
    if (token.empty()) error = "token_file " + *token_file + " is empty";
    return token;
  }
  std::string var = token_env.value_or("INFLUXDB_TOKEN");
  const char* v = std::getenv(var.c_str());
  if (v && *v) return v;
  error = "no InfluxDB token: " + var + " is not set";
  return "";
}

}  // namespace templet
