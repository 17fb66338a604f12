// The Redash hook's state file (see redash_state.hpp).
#include "hooks/redash_state.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "functions/digest.hpp"
#include "hooks/digest_key.hpp"
#include "sys/private_files.hpp"

namespace templet {

namespace {
using json = nlohmann::json;

constexpr int kStateVersion = 2;  // 1: plain SHA-256 digests

std::string key_dir_for(const std::string& state_path) {
  return std::filesystem::path(state_path).parent_path().string();
}

// Names the key a state file was digested with, without revealing anything about it.
std::string key_id(const std::string& digest_key) {
  return digest_key_id(digest_key, "templet redash state key id");
}
}  // namespace

std::string redash_options_digest(const std::string& digest_key, const json& options) {
  // nlohmann's object is a sorted map, so dump() is canonical: sorted keys, no spaces.
  return keyed_digest(digest_key, options.dump());
}

std::string redash_secret_digest(const std::string& digest_key, const std::string& key,
                                 const json& value) {
  return keyed_digest(digest_key, json{{key, value}}.dump());
}

RedashStateRecord redash_state_record(const std::string& digest_key, const std::string& name,
                                      const std::string& type, const json& options,
                                      const std::set<std::string>& secret_keys, bool created) {
  RedashStateRecord r;
  r.name = name;
  r.type = type;
  r.digest = redash_options_digest(digest_key, options);
  for (const auto& k : secret_keys)
    if (options.contains(k)) r.secrets[k] = redash_secret_digest(digest_key, k, options[k]);
  r.created = created;
  return r;
}

std::string redash_state_path(const std::string& state_dir, const std::string& url) {
  if (state_dir.empty()) return "";
  std::string u = url;
  while (!u.empty() && u.back() == '/') u.pop_back();
  return state_dir + "/redash/" + digest::hex(digest::sha256(u)).substr(0, 16) + ".json";
}

RedashState load_redash_state(const std::string& path) {
  RedashState st;
  if (path.empty()) return st;
  std::ifstream in(path);
  if (!in) {
    st.digest_key = read_digest_key(key_dir_for(path));
    return st;
  }
  st.exists = true;
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  if (!j.is_object() || !j.contains("datasources") || !j["datasources"].is_object()) return st;
  st.digest_key = read_digest_key(key_dir_for(path));
  // Digests from another key, or plain SHA-256 ones from version 1, cannot be compared.
  const bool digests_usable = j.value("version", 0) == kStateVersion && !st.digest_key.empty() &&
                              j.value("key_id", "") == key_id(st.digest_key);
  for (auto it = j["datasources"].begin(); it != j["datasources"].end(); ++it) {
    const json& d = it.value();
    if (!d.is_object()) continue;
    int64_t id = 0;
    try {
      id = std::stoll(it.key());
    } catch (const std::exception&) {
      continue;
    }
    RedashStateRecord r;
    r.name = d.value("name", "");
    r.type = d.value("type", "");
    r.created = d.value("created", false);
    r.test_failed = d.value("test_failed", false);
    if (d.contains("groups_added") && d["groups_added"].is_array())
      for (const auto& g : d["groups_added"])
        if (g.is_number_integer()) r.groups_added.insert(g.get<int64_t>());
    r.secrets_known = digests_usable && d.value("secrets_known", true);
    if (r.secrets_known) r.digest = d.value("digest", "");
    if (r.secrets_known && d.contains("secrets") && d["secrets"].is_object())
      for (auto s = d["secrets"].begin(); s != d["secrets"].end(); ++s)
        if (s.value().is_string()) r.secrets[s.key()] = s.value().get<std::string>();
    st.datasources[id] = std::move(r);
  }
  return st;
}

void ensure_redash_digest_key(const std::string& path, RedashState& state) {
  if (path.empty()) return;
  // state_dir keeps the mode it has (see private_files.hpp); redash/ is always private.
  ensure_private_dir(std::filesystem::path(path).parent_path().parent_path().string(), false);
  state.digest_key = ensure_digest_key(key_dir_for(path));
}

void save_redash_state(const std::string& path, const RedashState& state) {
  if (path.empty()) return;
  const std::filesystem::path p(path);
  // state_dir keeps the mode it has (see private_files.hpp); redash/ is always private.
  ensure_private_dir(p.parent_path().parent_path().string(), false);
  ensure_private_dir(p.parent_path().string(), true);
  json ds = json::object();
  for (const auto& [id, r] : state.datasources) {
    json& d = ds[std::to_string(id)];
    d = {{"name", r.name},
         {"type", r.type},
         {"digest", r.digest},
         {"secrets", r.secrets},
         {"created", r.created}};
    // Stays unknown until templet sends the secrets again (not "changed" on the next load).
    if (!r.secrets_known) d["secrets_known"] = false;
    if (!r.groups_added.empty()) d["groups_added"] = r.groups_added;
    if (r.test_failed) d["test_failed"] = true;
  }
  const std::string text =
      json{{"version", kStateVersion}, {"key_id", key_id(state.digest_key)}, {"datasources", ds}}
          .dump(2) +
      "\n";
  write_private_file(path, text);
}

}  // namespace templet
