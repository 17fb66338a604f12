// Secret keys and schema validation for Redash datasource options (see redash_schema.hpp).
#include "hooks/redash_schema.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace templet {

namespace {

using json = nlohmann::json;

// Secret lists of the runners' configuration_schema() (shared/docs/reference/http-apis.md §1.5).
const std::map<std::string, std::vector<std::string>>& builtin_secrets() {
  static const std::map<std::string, std::vector<std::string>> table = {
      {"pg", {"password", "sslrootcertFile", "sslcertFile", "sslkeyFile"}},
      {"redshift", {"password"}},
      {"mysql", {"passwd"}},
      {"rds_mysql", {"passwd"}},
      {"mssql", {"password"}},
      {"clickhouse", {"password"}},
      {"influxdbv2",
       {"token", "cert_File", "cert_key_File", "cert_key_password", "ssl_ca_cert_File"}},
  };
  return table;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

const char* json_kind(const json& v) {
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_array()) return "a list";
  if (v.is_object()) return "a map";
  return "null";
}

bool type_ok(const json& v, const json& t) {
  if (t.is_array()) {
    for (const auto& x : t)
      if (type_ok(v, x)) return true;
    return false;
  }
  if (!t.is_string()) return true;
  const std::string s = t.get<std::string>();
  if (s == "string") return v.is_string();
  if (s == "number") return v.is_number();
  if (s == "integer")
    return v.is_number_integer() || (v.is_number_float() && std::isfinite(v.get<double>()) &&
                                     v.get<double>() == std::trunc(v.get<double>()));
  if (s == "boolean") return v.is_boolean();
  if (s == "array") return v.is_array();
  if (s == "object") return v.is_object();
  if (s == "null") return v.is_null();
  return true;
}

std::string type_words(const json& t) {
  if (t.is_string()) {
    std::string s = t.get<std::string>();
    if (s == "integer") return "a whole number";
    if (s == "array") return "a list";
    if (s == "object") return "a map";
    return "a " + s;
  }
  std::string out;
  for (const auto& x : t) out += (out.empty() ? "" : " or ") + type_words(x);
  return out;
}

}  // namespace

bool looks_secret(const std::string& key) {
  const std::string k = lower(key);
  for (const char* w : {"password", "passwd", "secret", "token", "credential", "private"})
    if (k.find(w) != std::string::npos) return true;
  if (k == "key" || k == "pass" || k == "pwd") return true;
  // api_key, apiKey, sslkey, access_key...; not "keyspace" or "monkey_count".
  return k.size() > 3 && k.compare(k.size() - 3, 3, "key") == 0;
}

std::set<std::string> redash_secret_keys(const std::string& type, const json& schema,
                                         const json& options) {
  std::set<std::string> out;
  if (schema.is_object() && schema.contains("secret") && schema["secret"].is_array())
    for (const auto& s : schema["secret"])
      if (s.is_string()) out.insert(s.get<std::string>());
  auto it = builtin_secrets().find(type);
  if (it != builtin_secrets().end()) out.insert(it->second.begin(), it->second.end());
  if (options.is_object())
    for (auto o = options.begin(); o != options.end(); ++o)
      if (looks_secret(o.key())) out.insert(o.key());
  return out;
}

std::string validate_redash_options(const json& options, const json& schema,
                                    const std::set<std::string>& secret_keys) {
  if (!schema.is_object()) return "";
  std::vector<std::string> problems;
  std::vector<std::string> missing;
  if (schema.contains("required") && schema["required"].is_array())
    for (const auto& r : schema["required"])
      if (r.is_string() && !options.contains(r.get<std::string>()))
        missing.push_back(r.get<std::string>());
  if (!missing.empty()) {
    std::string m = "missing required option" + std::string(missing.size() > 1 ? "s " : " ");
    for (size_t i = 0; i < missing.size(); ++i) m += (i ? ", " : "") + missing[i];
    problems.push_back(m);
  }
  const json props = schema.value("properties", json::object());
  if (props.is_object()) {
    for (auto p = props.begin(); p != props.end(); ++p) {
      if (!options.contains(p.key())) continue;
      const json& v = options[p.key()];
      const bool secret = secret_keys.count(p.key()) > 0;
      const json& prop = p.value();
      if (!prop.is_object()) continue;
      if (prop.contains("type") && !type_ok(v, prop["type"])) {
        std::string m =
            "option " + p.key() + " must be " + type_words(prop["type"]) + ", not " + json_kind(v);
        if (!secret && v.is_string()) m += " " + v.dump();
        if (v.is_string() && (prop["type"] == "number" || prop["type"] == "integer"))
          m += " (write it without quotes)";
        else if (v.is_number() && prop["type"] == "string")
          m += " (quote it)";
        problems.push_back(m);
        continue;
      }
      json allowed = json::array();
      if (prop.contains("enum") && prop["enum"].is_array()) allowed = prop["enum"];
      if (prop.contains("extendedEnum") && prop["extendedEnum"].is_array()) {
        allowed = json::array();
        for (const auto& e : prop["extendedEnum"])
          allowed.push_back(e.is_object() && e.contains("value") ? e["value"] : e);
      }
      if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
        std::string m = "option " + p.key() + " must be one of ";
        for (size_t i = 0; i < allowed.size(); ++i)
          m += (i ? ", " : "") +
               (allowed[i].is_string() ? allowed[i].get<std::string>() : allowed[i].dump());
        if (!secret) m += ", not " + (v.is_string() ? v.get<std::string>() : v.dump());
        problems.push_back(m);
      }
    }
  }
  std::string out;
  for (const auto& p : problems) out += (out.empty() ? "" : "; ") + p;
  return out;
}

std::vector<std::string> redash_secret_values(const json& options,
                                              const std::set<std::string>& secret_keys) {
  std::vector<std::string> out;
  if (!options.is_object()) return out;
  for (auto it = options.begin(); it != options.end(); ++it) {
    const json& v = it.value();
    if (secret_keys.count(it.key())) {
      if (v.is_string()) {
        if (!v.get<std::string>().empty()) out.push_back(v.get<std::string>());
      } else if (!v.is_null()) {
        out.push_back(v.dump());
      }
    }
    // A password inside a URL (influxdb v1 `url` is never masked by Redash).
    if (v.is_string()) {
      const std::string s = v.get<std::string>();
      size_t scheme = s.find("://");
      if (scheme == std::string::npos) continue;
      size_t start = scheme + 3;
      size_t end = s.find_first_of("/?#", start);
      std::string authority = s.substr(start, end == std::string::npos ? end : end - start);
      size_t at = authority.rfind('@');
      if (at == std::string::npos) continue;
      size_t colon = authority.find(':');
      if (colon != std::string::npos && colon < at && colon + 1 < at)
        out.push_back(authority.substr(colon + 1, at - colon - 1));
    }
  }
  return out;
}

}  // namespace templet
