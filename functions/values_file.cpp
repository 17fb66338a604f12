#include "functions/values_file.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "functions/data_types.hpp"
#include "functions/helpers_internal.hpp"
#include "functions/pem_bundle.hpp"
#include "functions/yaml_scalar.hpp"

namespace templet {

namespace {

using json = nlohmann::json;

[[noreturn]] void fail(const std::string& file, const YAML::Node& n, const std::string& msg) {
  const YAML::Mark m = n.Mark();
  throw ValuesError(file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1) +
                    ": " + msg);
}

std::string base64_encode(std::string_view s) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t n = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8) | uint8_t(s[i + 2]);
    out += a[n >> 18];
    out += a[(n >> 12) & 63];
    out += a[(n >> 6) & 63];
    out += a[n & 63];
  }
  if (i + 1 == s.size()) {
    uint32_t n = uint8_t(s[i]) << 16;
    out += a[n >> 18];
    out += a[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == s.size()) {
    uint32_t n = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8);
    out += a[n >> 18];
    out += a[(n >> 12) & 63];
    out += a[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

bool quoted(const YAML::Node& n) {
  return n.Tag() == "!";
}

// A string as JSON text. yaml-cpp can hand back bytes that are not UTF-8 even from a valid file
// (escapes), which nlohmann's dump() would throw on; they become U+FFFD, as Go's json.Marshal
// writes them.
std::string json_string(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

// A YAML scalar as JSON text, with YAML 1.2 core schema types. Numbers already written as JSON
// numbers keep their text (`1.50` stays `1.50`), as Vault's body would carry it.
std::string scalar_json(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  static const std::regex json_number(R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?)");
  YamlScalar r = resolve_yaml_scalar(n);
  switch (r.kind) {
    case YamlScalar::Kind::Null:
      return "null";
    case YamlScalar::Kind::Bool:
      return r.boolean ? "true" : "false";
    case YamlScalar::Kind::Int:
      return std::regex_match(s, json_number) ? s : std::to_string(r.integer);
    case YamlScalar::Kind::Float:
      if (!std::isfinite(r.floating)) break;  // JSON has no infinity: kept as text
      return std::regex_match(s, json_number) ? s : json(r.floating).dump();
    case YamlScalar::Kind::String:
      break;
  }
  return json_string(s);
}

std::string to_json_text(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar:
      return scalar_json(n);
    case YAML::NodeType::Sequence: {
      std::string out = "[";
      bool first = true;
      for (const auto& x : n) {
        if (!first) out += ",";
        first = false;
        out += to_json_text(x);
      }
      return out + "]";
    }
    case YAML::NodeType::Map: {
      std::string out = "{";
      bool first = true;
      for (const auto& kv : n) {
        if (!first) out += ",";
        first = false;
        out += json_string(kv.first.Scalar()) + ":" + to_json_text(kv.second);
      }
      return out + "}";
    }
    default:
      return "null";
  }
}

json to_json(const YAML::Node& n) {
  return json::parse(to_json_text(n));
}

std::string scalar_text(const std::string& file, const YAML::Node& n, const std::string& what) {
  if (!n.IsScalar() && !n.IsNull()) fail(file, n, what + " must be a string");
  return n.IsNull() ? "" : n.Scalar();
}

const std::set<std::string>& flat_fields() {
  static const std::set<std::string> f = {"Node",
                                          "NodeID",
                                          "NodeAddress",
                                          "NodeDatacenter",
                                          "NodeTaggedAddresses",
                                          "NodeMeta",
                                          "ServiceMeta",
                                          "Address",
                                          "ServiceTaggedAddresses",
                                          "ID",
                                          "Name",
                                          "Tags",
                                          "Checks",
                                          "Status",
                                          "Port",
                                          "Weights"};
  return f;
}

// Members of an API-shaped instance as the values file wrote them: any YAML may stand where
// Consul would send an object or a string, and nlohmann's value() throws on a mismatch.
json object_member(const json& j, const char* key) {
  if (j.is_object()) {
    auto it = j.find(key);
    if (it != j.end() && it->is_object()) return *it;
  }
  return json::object();
}

std::string string_member(const json& j, const char* key, const std::string& fallback) {
  if (j.is_object()) {
    auto it = j.find(key);
    if (it != j.end() && it->is_string()) return it->get<std::string>();
  }
  return fallback;
}

// One instance of consul.services.NAME as a /v1/health/service entry.
json health_entry(const std::string& file, const std::string& name, const YAML::Node& inst) {
  if (!inst.IsMap()) fail(file, inst, "a service instance must be a map");
  if (inst["Service"] && inst["Service"].IsMap()) return to_json(inst);
  for (const auto& kv : inst) {
    const std::string& k = kv.first.Scalar();
    if (!flat_fields().count(k))
      fail(file, kv.first, "unknown service instance field " + json_string(k));
  }
  json f = to_json(inst);
  auto s = [&](const char* k) { return f.contains(k) && f[k].is_string() ? f[k] : json(""); };
  auto or_null = [&](const char* k) { return f.contains(k) ? f[k] : json(); };
  json node = {{"ID", s("NodeID")},
               {"Node", s("Node")},
               {"Address", f.contains("NodeAddress") ? s("NodeAddress") : s("Address")},
               {"Datacenter", s("NodeDatacenter")},
               {"TaggedAddresses", or_null("NodeTaggedAddresses")},
               {"Meta", or_null("NodeMeta")}};
  std::string id = s("ID").get<std::string>();
  std::string svc = s("Name").get<std::string>();
  if (svc.empty()) svc = name;
  if (id.empty()) id = svc;
  json service = {
      {"ID", id},
      {"Service", svc},
      {"Tags", or_null("Tags")},
      {"Address", s("Address")},
      {"Meta", or_null("ServiceMeta")},
      {"Port", f.contains("Port") ? f["Port"] : json(0)},
      {"Weights", f.contains("Weights") ? f["Weights"] : json{{"Passing", 1}, {"Warning", 1}}},
      {"TaggedAddresses", or_null("ServiceTaggedAddresses")}};
  json checks = f.contains("Checks") ? f["Checks"] : json::array();
  if (!f.contains("Checks")) {
    std::string status = f.contains("Status") ? s("Status").get<std::string>() : "passing";
    checks.push_back({{"Node", node["Node"]},
                      {"CheckID", "service:" + id},
                      {"Name", "Service '" + svc + "' check"},
                      {"Status", status},
                      {"Notes", ""},
                      {"Output", ""},
                      {"ServiceID", id},
                      {"ServiceName", svc},
                      {"ServiceTags", service["Tags"].is_null() ? json::array() : service["Tags"]},
                      {"Type", ""}});
  }
  return {{"Node", node}, {"Service", service}, {"Checks", checks}};
}

Response ok(std::string body) {
  return Response{200, std::move(body)};
}
Response not_found() {
  return Response{404, ""};
}

// `influxdb: {buckets: {ORG: [{name, id, retentionSeconds, type, labels}]}}` as the API's
// bucket list would give it (type: system for a name starting with `_`, unless given).
std::map<std::string, json, std::less<>> influx_section(const std::string& file,
                                                        const YAML::Node& body) {
  if (!body.IsMap()) fail(file, body, "influxdb must be a map with buckets");
  std::map<std::string, json, std::less<>> out;
  for (const auto& part : body) {
    if (part.first.Scalar() != "buckets")
      fail(file, part.first, "unknown key influxdb." + part.first.Scalar() + " (expected buckets)");
    if (part.second.IsNull()) continue;
    if (!part.second.IsMap())
      fail(file, part.second, "influxdb.buckets must be a map of org: [buckets]");
    for (const auto& org : part.second) {
      const std::string where = "influxdb.buckets." + org.first.Scalar();
      json list = json::array();
      if (!org.second.IsSequence() && !org.second.IsNull())
        fail(file, org.second, where + " must be a list of {name, id, retentionSeconds}");
      int n = 0;
      for (const auto& b : org.second) {
        ++n;
        if (!b.IsMap() || !b["name"] || !b["name"].IsScalar())
          fail(file, b, where + ": a bucket needs a name");
        const std::string name = b["name"].Scalar();
        long long retention = 0;
        if (b["retentionSeconds"]) {
          const std::string& r = b["retentionSeconds"].Scalar();
          auto res = std::from_chars(r.data(), r.data() + r.size(), retention);
          if (res.ec != std::errc() || res.ptr != r.data() + r.size() || retention < 0)
            fail(file, b["retentionSeconds"], where + ": retentionSeconds must be a whole number");
        }
        json labels = json::array();
        if (b["labels"] && b["labels"].IsSequence())
          for (const auto& l : b["labels"]) labels.push_back({{"name", l.Scalar()}});
        char fake_id[17];
        std::snprintf(fake_id, sizeof fake_id, "%016x", n);
        json rules = json::array();
        if (retention) rules.push_back({{"type", "expire"}, {"everySeconds", retention}});
        list.push_back({{"id", b["id"] ? b["id"].Scalar() : std::string(fake_id)},
                        {"name", name},
                        {"type", b["type"] ? b["type"].Scalar()
                                           : (name.rfind('_', 0) == 0 ? "system" : "user")},
                        {"retentionRules", rules},
                        {"labels", labels}});
      }
      out[org.first.Scalar()] = std::move(list);
    }
  }
  return out;
}

// The Connect and topology keys of `consul:`, each kept as the body Consul would answer under
// the identity that asks for it (peerings: the whole list, filtered by partition on fetch).
// False: not one of these keys.
bool connect_section(const std::string& file, const std::string& name, const YAML::Node& p,
                     std::map<std::string, std::string, std::less<>>& bodies) {
  const std::string where = "consul." + name;
  auto list_of_maps = [&](const YAML::Node& n, const std::string& what) {
    if (!n.IsSequence()) fail(file, n, what + " must be a list of maps");
    for (const auto& x : n)
      if (!x.IsMap()) fail(file, x, what + ": each entry must be a map");
    return to_json(n);
  };
  auto per_name = [&](const char* label) {
    if (!p.IsMap()) fail(file, p, where + " must be a map of " + label + ": ...");
  };
  if (name == "ca_roots") {
    json roots = list_of_maps(p, where);
    std::string active;
    for (const auto& r : roots)
      if (r.contains("Active") && r["Active"] == true && r.contains("ID") && r["ID"].is_string())
        active = r["ID"].get<std::string>();
    bodies[parse_connect_ca_roots().id] =
        json{{"ActiveRootID", active}, {"TrustDomain", ""}, {"Roots", roots}}.dump();
  } else if (name == "ca_leaf") {
    per_name("service");
    for (const auto& kv : p) {
      if (!kv.second.IsMap())
        fail(file, kv.second, where + "." + kv.first.Scalar() + " must be a map");
      json leaf = to_json(kv.second);
      if (!leaf.contains("Service")) leaf["Service"] = kv.first.Scalar();
      bodies[parse_connect_leaf(kv.first.Scalar()).id] = leaf.dump();
    }
  } else if (name == "partitions") {
    bodies[parse_partitions().id] = list_of_maps(p, where).dump();
  } else if (name == "peerings") {
    bodies["list.peerings"] = list_of_maps(p, where).dump();
  } else if (name == "exported_services" || name == "imported_services") {
    per_name("partition");
    bool exported = name == "exported_services";
    for (const auto& kv : p) {
      const std::string& part = kv.first.Scalar();
      std::string body = list_of_maps(kv.second, where + "." + part).dump();
      bodies[(exported ? parse_exported_services(part) : parse_imported_services(part)).id] = body;
      // No partition asked: the token's, which outside Enterprise is default.
      if (exported && part == "default") bodies[parse_exported_services("").id] = body;
    }
  } else {
    return false;
  }
  return true;
}

}  // namespace

ValuesFile ValuesFile::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ValuesError(path + ": " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

ValuesFile ValuesFile::parse(std::string_view text, const std::string& file) {
  // yaml-cpp passes invalid UTF-8 through, and the JSON bodies built from the scalars below
  // cannot hold it (nlohmann's dump throws). Go's YAML decoder rejects such a file too.
  for (size_t i = 0, line = 1, col = 1; i < text.size(); ++col) {
    size_t width = 1;
    if (helpers::decode_rune(text, i, width) == 0xFFFD && width == 1)
      throw ValuesError(file + ":" + std::to_string(line) + ":" + std::to_string(col) +
                        ": invalid UTF-8");
    if (text[i] == '\n') {
      ++line;
      col = 0;
    }
    i += width;
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw ValuesError(file + ":" + std::to_string(e.mark.line + 1) + ":" +
                      std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  ValuesFile v;
  if (root.IsNull()) return v;
  if (!root.IsMap()) fail(file, root, "a values file is a map with env, consul and vault");
  for (const auto& top : root) {
    const std::string& section = top.first.Scalar();
    const YAML::Node& body = top.second;
    if (section == "env") {
      if (body.IsNull()) continue;
      if (!body.IsMap()) fail(file, body, "env must be a map of variable: value");
      for (const auto& kv : body)
        v.env_[kv.first.Scalar()] = scalar_text(file, kv.second, "env." + kv.first.Scalar());
    } else if (section == "consul") {
      if (body.IsNull()) continue;
      if (!body.IsMap()) fail(file, body, "consul must be a map with kv and services");
      for (const auto& part : body) {
        const std::string& name = part.first.Scalar();
        const YAML::Node& p = part.second;
        if (p.IsNull()) continue;
        if (name == "kv") {
          if (!p.IsMap()) fail(file, p, "consul.kv must be a map of key: value");
          for (const auto& kv : p) {
            std::string key = kv.first.Scalar();
            if (!key.empty() && key[0] == '/') key.erase(0, 1);
            v.kv_[key] = scalar_text(file, kv.second, "consul.kv." + kv.first.Scalar());
          }
        } else if (name == "datacenters") {
          if (!p.IsSequence()) fail(file, p, "consul.datacenters must be a list of names");
          json dcs = json::array();
          for (const auto& dc : p) dcs.push_back(scalar_text(file, dc, "consul.datacenters"));
          v.datacenters_ = dcs.dump();
        } else if (name == "services" || name == "connect") {
          auto& into = name == "services" ? v.services_ : v.connect_;
          if (!p.IsMap()) fail(file, p, "consul." + name + " must be a map of name: [instances]");
          for (const auto& svc : p) {
            const std::string& sname = svc.first.Scalar();
            json entries = json::array();
            if (svc.second.IsSequence()) {
              for (const auto& inst : svc.second)
                entries.push_back(health_entry(file, sname, inst));
            } else if (!svc.second.IsNull()) {
              fail(file, svc.second,
                   "consul." + name + "." + sname + " must be a list of instances");
            }
            into[sname] = std::move(entries);
          }
        } else if (!connect_section(file, name, p, v.consul_bodies_)) {
          fail(file, part.first,
               "unknown key consul." + name +
                   " (expected kv, services, datacenters, connect, ca_roots, ca_leaf, partitions, "
                   "peerings, exported_services or imported_services)");
        }
      }
    } else if (section == "vault") {
      if (body.IsNull()) continue;
      if (!body.IsMap()) fail(file, body, "vault must be a map of path: response body");
      for (const auto& kv : body) {
        const std::string& path = kv.first.Scalar();
        // A string is taken as the body's JSON text itself.
        std::string text = kv.second.IsScalar() && quoted(kv.second) ? kv.second.Scalar()
                                                                     : to_json_text(kv.second);
        if (kv.second.IsScalar() && quoted(kv.second) && !json::accept(text))
          fail(file, kv.second, "vault." + path + ": not a JSON response body");
        std::string id;
        try {
          id = path.rfind("vault.write(", 0) == 0 ? path : parse_vault_read(path).id;
        } catch (const DependencyError& e) {
          fail(file, kv.first, e.what());
        }
        std::string trimmed = path;
        trimmed.erase(0, trimmed.find_first_not_of(" /"));
        while (!trimmed.empty() && (trimmed.back() == '/' || trimmed.back() == ' '))
          trimmed.pop_back();
        v.vault_[id] = VaultEntry{trimmed, std::move(text)};
      }
    } else if (section == "influxdb") {
      if (!body.IsNull()) v.influx_buckets_ = influx_section(file, body);
    } else if (section == "sockaddr") {
      // The addresses `sockaddr` evaluates over, as sys/ifaddrs reads them (sockaddr.hpp).
      if (body.IsNull()) continue;
      if (!body.IsMap()) fail(file, body, "sockaddr must be a map with interfaces");
      for (const auto& kv : body)
        if (kv.first.Scalar() != "interfaces" && kv.first.Scalar() != "default_interface")
          fail(file, kv.first,
               "unknown key sockaddr." + kv.first.Scalar() +
                   " (expected interfaces or default_interface)");
      if (body["interfaces"] && !body["interfaces"].IsSequence())
        fail(file, body["interfaces"], "sockaddr.interfaces must be a list of interfaces");
      v.interfaces_ = to_json(body).dump();
    } else if (section == "files") {
      if (body.IsNull()) continue;
      if (!body.IsMap()) fail(file, body, "files must be a map of path: contents");
      for (const auto& kv : body)
        v.files_[std::filesystem::path(kv.first.Scalar()).lexically_normal().string()] =
            scalar_text(file, kv.second, "files." + kv.first.Scalar());
    } else {
      fail(file, top.first,
           "unknown section " + json_string(section) +
               " (expected env, consul, vault, influxdb, sockaddr or files)");
    }
  }
  return v;
}

std::optional<std::string> ValuesFile::env(std::string_view name) const {
  auto it = env_.find(name);
  if (it == env_.end()) return std::nullopt;
  return it->second;
}

RenderEnv ValuesFile::render_env(std::string sandbox_path) const {
  RenderEnv e;
  e.env = [this](std::string_view name) { return env(name); };
  e.sandbox_path = std::move(sandbox_path);
  e.offline_files = true;
  return e;
}

std::optional<Response> ValuesFile::fetch(const Dependency& dep) const {
  switch (dep.type) {
    case DepType::KvGet:
    case DepType::KvBlock:
      return fetch_kv(dep);
    case DepType::KvList:
      return fetch_kv_list(dep);
    case DepType::HealthService:
      return fetch_health(dep);
    case DepType::ConsulPeerings: {
      auto it = consul_bodies_.find("list.peerings");
      if (it == consul_bodies_.end()) return std::nullopt;
      // Without ?partition= the default partition's peerings (a peering without a Partition
      // counts as default's).
      json out = json::array();
      const std::string want = dep.partition.empty() ? "default" : dep.partition;
      for (const auto& pr : json::parse(it->second)) {
        std::string part = string_member(pr, "Partition", "");
        if ((part.empty() ? "default" : part) == want) out.push_back(pr);
      }
      return ok(out.dump());
    }
    case DepType::ConnectCARoots:
    case DepType::ConnectLeaf:
    case DepType::ConsulPartitions:
    case DepType::ExportedServices:
    case DepType::ImportedServices: {
      auto it = consul_bodies_.find(dep.id);
      if (it == consul_bodies_.end()) return std::nullopt;
      return ok(it->second);
    }
    case DepType::CatalogServices:
    case DepType::CatalogNode:
    case DepType::CatalogNodes:
      return fetch_catalog(dep);
    case DepType::CatalogDatacenters:
      // Every listed datacenter counts as answering: offline nothing fails.
      if (!datacenters_) return std::nullopt;
      return Response{200, *datacenters_};
    case DepType::VaultRead:
    case DepType::VaultWrite:
    case DepType::VaultList:
      return fetch_vault(dep);
    case DepType::VaultPki: {
      // The issue answer as given, as the live watcher hands it over: flattened to PEM text.
      // Offline there is no destination to keep a certificate from.
      for (const auto& [id, e] : vault_)
        if (e.path == dep.target)
          return ok(pki::issue_answer_pems(json::parse(e.body, nullptr, false)));
      return std::nullopt;
    }
    case DepType::InfluxBuckets: {
      auto it = influx_buckets_.find(dep.target);
      if (it == influx_buckets_.end()) return std::nullopt;  // missing, as live before a poll
      return ok(json{{"buckets", it->second}}.dump());
    }
    case DepType::Interfaces:
      if (!interfaces_) return std::nullopt;
      return ok(*interfaces_);
    case DepType::File: {
      auto it = files_.find(std::filesystem::path(dep.target).lexically_normal().string());
      if (it == files_.end()) return std::nullopt;
      return ok(it->second);
    }
  }
  return std::nullopt;
}

namespace {
json kv_entry(const std::string& key, const std::string& value) {
  return {{"Key", key},       {"Value", base64_encode(value)},
          {"CreateIndex", 0}, {"ModifyIndex", 0},
          {"LockIndex", 0},   {"Flags", 0}};
}
}  // namespace

std::optional<Response> ValuesFile::fetch_kv(const Dependency& dep) const {
  auto it = kv_.find(dep.target);
  if (it == kv_.end()) return not_found();
  return ok(json::array({kv_entry(it->first, it->second)}).dump());
}

std::optional<Response> ValuesFile::fetch_kv_list(const Dependency& dep) const {
  json arr = json::array();
  for (auto it = kv_.lower_bound(dep.target); it != kv_.end(); ++it) {
    if (it->first.compare(0, dep.target.size(), dep.target) != 0) break;
    arr.push_back(kv_entry(it->first, it->second));
  }
  if (arr.empty()) return not_found();
  return ok(arr.dump());
}

std::optional<Response> ValuesFile::fetch_health(const Dependency& dep) const {
  const auto& from = dep.connect ? connect_ : services_;
  auto it = from.find(dep.target);
  if (it == from.end()) return std::nullopt;
  json out = json::array();
  for (const auto& e : it->second) {
    if (!dep.tag.empty()) {
      const json tags = object_member(e, "Service").value("Tags", json::array());
      if (!tags.is_array() || std::find(tags.begin(), tags.end(), json(dep.tag)) == tags.end())
        continue;
    }
    // ?passing is answered by the server: only instances whose checks all pass.
    if (dep.passing_only() && dtypes::aggregated_status(e.value("Checks", json())) != "passing")
      continue;
    out.push_back(e);
  }
  return ok(out.dump());
}

std::optional<Response> ValuesFile::fetch_catalog(const Dependency& dep) const {
  if (dep.type == DepType::CatalogServices) {
    json out = json::object();
    for (const auto& [name, entries] : services_) {
      std::set<std::string> tags;
      for (const auto& e : entries) {
        const json t = object_member(e, "Service").value("Tags", json::array());
        if (t.is_array())
          for (const auto& x : t)
            if (x.is_string()) tags.insert(x.get<std::string>());
      }
      out[name] = json(std::vector<std::string>(tags.begin(), tags.end()));
    }
    return ok(out.dump());
  }
  // Nodes, in the order first seen; the functions sort.
  std::vector<json> nodes;
  std::map<std::string, json> node_services;
  for (const auto& [name, entries] : services_) {
    for (const auto& e : entries) {
      const json n = object_member(e, "Node");
      std::string node_name = string_member(n, "Node", "");
      if (!node_services.count(node_name)) {
        nodes.push_back(n);
        node_services[node_name] = json::object();
      }
      const json s = object_member(e, "Service");
      node_services[node_name][string_member(s, "ID", name)] = s;
    }
  }
  if (dep.type == DepType::CatalogNodes) return ok(json(nodes).dump());
  if (dep.target.empty()) return std::nullopt;  // the local agent's node: unknown offline
  for (const auto& n : nodes)
    if (string_member(n, "Node", "") == dep.target)
      return ok(json{{"Node", n}, {"Services", node_services[dep.target]}}.dump());
  return ok("null");
}

std::optional<Response> ValuesFile::fetch_vault(const Dependency& dep) const {
  if (dep.type == DepType::VaultRead) {
    auto it = vault_.find(dep.id);
    if (it == vault_.end()) return std::nullopt;
    return ok(it->second.body);
  }
  if (dep.type == DepType::VaultWrite) {
    if (auto it = vault_.find(dep.id); it != vault_.end()) return ok(it->second.body);
    for (const auto& [id, e] : vault_)
      if (e.path == dep.target) return ok(e.body);
    return std::nullopt;
  }
  // LIST: the file's own answer for the path, else the paths below it.
  for (const auto& [id, e] : vault_) {
    if (e.path != dep.target) continue;
    json j = json::parse(e.body, nullptr, false);
    if (j.is_object() && j.contains("data") && j["data"].is_object() && j["data"].contains("keys"))
      return ok(e.body);
  }
  std::set<std::string> keys;
  std::string prefix = dep.target + "/";
  for (const auto& [id, e] : vault_) {
    if (e.path.compare(0, prefix.size(), prefix) != 0) continue;
    std::string rest = e.path.substr(prefix.size());
    if (size_t q = rest.find('?'); q != std::string::npos) rest.erase(q);
    if (rest.empty()) continue;
    size_t slash = rest.find('/');
    keys.insert(slash == std::string::npos ? rest : rest.substr(0, slash + 1));
  }
  if (keys.empty()) return std::nullopt;
  return ok(json{{"data", {{"keys", std::vector<std::string>(keys.begin(), keys.end())}}}}.dump());
}

}  // namespace templet
