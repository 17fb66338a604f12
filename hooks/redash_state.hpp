// What templet last applied to a Redash, kept in state_dir between runs.
//
// Redash reads secrets back masked, so whether a rendered password differs from the stored one
// can only be known from what templet itself sent: per datasource id, the SHA-256 of the
// canonical JSON of the options sent and one digest per secret key. The file also records which
// datasources templet created, the only ones `prune` may delete. No secret value is stored.
// The file is 0600 in a 0700 directory and replaced atomically.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace templet {

struct RedashStateRecord {
  std::string name;
  std::string type;
  std::string digest;                          // sha256 of the canonical options JSON
  std::map<std::string, std::string> secrets;  // key -> digest of that key's value
  bool created = false;                        // created by templet (prune may delete it)
};

struct RedashState {
  std::map<int64_t, RedashStateRecord> datasources;
};

// SHA-256 hex of the canonical (sorted-key, compact) JSON of `options`.
std::string redash_options_digest(const nlohmann::json& options);
// Digest of one secret option's value.
std::string redash_secret_digest(const std::string& key, const nlohmann::json& value);
// The record for options about to be sent.
RedashStateRecord redash_state_record(const std::string& name, const std::string& type,
                                      const nlohmann::json& options,
                                      const std::set<std::string>& secret_keys, bool created);

// state_dir/redash/<digest of url>.json; "" when state_dir is empty (no state kept).
std::string redash_state_path(const std::string& state_dir, const std::string& url);
// An absent or unreadable file is an empty state.
RedashState load_redash_state(const std::string& path);
// Throws std::runtime_error when the file cannot be written.
void save_redash_state(const std::string& path, const RedashState& state);

}  // namespace templet
