// The InfluxDB hook's state file (see influxdb_state.hpp).
#include "hooks/influxdb_state.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "functions/digest.hpp"
#include "hooks/digest_key.hpp"
#include "sys/private_files.hpp"

namespace templet {

namespace {
using json = nlohmann::json;

constexpr int kStateVersion = 1;
const char* const kKeyLabel = "templet influxdb state key id";

std::string key_dir_for(const std::string& path) {
  return std::filesystem::path(path).parent_path().string();
}
}  // namespace

std::string influx_state_path(const std::string& state_dir, const std::string& url,
                              const std::string& org_id) {
  if (state_dir.empty()) return "";
  std::string u = url;
  while (!u.empty() && u.back() == '/') u.pop_back();
  return state_dir + "/influxdb/" + digest::hex(digest::sha256(u + "\n" + org_id)).substr(0, 16) +
         ".json";
}

std::string influx_secret_digest(const std::string& digest_key, const std::string& key,
                                 const std::string& value) {
  return keyed_digest(digest_key, json{{key, value}}.dump());
}

InfluxState load_influx_state(const std::string& path) {
  InfluxState st;
  if (path.empty()) return st;
  st.digest_key = read_digest_key(key_dir_for(path));
  std::ifstream in(path);
  if (!in) return st;
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  if (!j.is_object()) return st;
  const bool usable = j.value("version", 0) == kStateVersion && !st.digest_key.empty() &&
                      j.value("key_id", "") == digest_key_id(st.digest_key, kKeyLabel);
  if (j.contains("secrets") && j["secrets"].is_object())
    for (auto it = j["secrets"].begin(); it != j["secrets"].end(); ++it) {
      if (!it.value().is_object()) continue;
      InfluxSecretRecord r;
      r.destination = it.value().value("destination", "");
      if (usable) r.digest = it.value().value("digest", "");
      st.secrets[it.key()] = r;
    }
  if (j.contains("buckets") && j["buckets"].is_object())
    for (auto it = j["buckets"].begin(); it != j["buckets"].end(); ++it)
      if (it.value().is_string()) st.buckets[it.key()] = it.value().get<std::string>();
  return st;
}

void ensure_influx_digest_key(const std::string& path, InfluxState& state) {
  if (path.empty()) return;
  // state_dir keeps the mode it has (see private_files.hpp); influxdb/ is always private.
  ensure_private_dir(std::filesystem::path(path).parent_path().parent_path().string(), false);
  state.digest_key = ensure_digest_key(key_dir_for(path));
}

void save_influx_state(const std::string& path, const InfluxState& state) {
  if (path.empty()) return;
  const std::filesystem::path p(path);
  ensure_private_dir(p.parent_path().parent_path().string(), false);
  ensure_private_dir(p.parent_path().string(), true);
  json secrets = json::object();
  for (const auto& [k, r] : state.secrets)
    secrets[k] = {{"digest", r.digest}, {"destination", r.destination}};
  json text = {{"version", kStateVersion},
               {"key_id", digest_key_id(state.digest_key, kKeyLabel)},
               {"secrets", secrets},
               {"buckets", state.buckets}};
  write_private_file(path, text.dump(2) + "\n");
}

}  // namespace templet
