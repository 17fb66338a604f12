// What templet last applied to a Redash, kept in state_dir between runs.
//
// Redash reads secrets back masked, so whether a rendered password differs from the stored one
// can only be known from what templet itself sent: per datasource id, a digest of the canonical
// JSON of the options sent and one digest per secret key. The file also records which
// datasources templet created, the only ones `prune` may delete, and the group memberships
// templet added, the only ones it removes, and which failed their connection test. No secret
// value is stored.
//
// The digests are HMAC-SHA-256 under a random key of this state_dir (state_dir/redash/
// digest.key: 32 random bytes as 64 hex digits, the digits being the key; 0600, created by
// the first apply), not plain SHA-256: a password with little entropy could be recovered from
// a plain digest by trying candidates, and the state file may travel (backups, bug reports)
// without the key. Whoever can read the key as well can still test guesses; the key only keeps
// the state file alone from being enough. The file names the key it was made with (`key_id`);
// digests made under another key, or by templet versions that wrote plain SHA-256 (file
// version 1), are ignored: those secrets count as unknown, so the next apply sends them once
// and records new digests.
//
// Files are 0600 in a 0700 directory and replaced atomically.
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
  std::string digest;                          // HMAC of the canonical options JSON
  std::map<std::string, std::string> secrets;  // key -> HMAC of that key's value
  bool secrets_known = true;                   // false: digests absent or made under another key
  bool created = false;                        // created by templet (prune may delete it)
  std::set<int64_t> groups_added;              // group ids templet added it to (it may remove)
  // Its connection test failed after templet's last write: planned as an update (sent and
  // tested again) until a test passes, so a retry cannot call it done while it fails.
  bool test_failed = false;
};

struct RedashState {
  std::map<int64_t, RedashStateRecord> datasources;
  std::string digest_key;  // this state_dir's HMAC key; "" until created
  bool exists = false;     // a state file was found: templet has applied to this Redash before
};

// HMAC-SHA-256 hex, under `digest_key`, of the canonical (sorted-key, compact) JSON of `options`.
std::string redash_options_digest(const std::string& digest_key, const nlohmann::json& options);
// HMAC-SHA-256 hex, under `digest_key`, of one secret option.
std::string redash_secret_digest(const std::string& digest_key, const std::string& key,
                                 const nlohmann::json& value);
// The record for options about to be sent, digested under `digest_key`.
RedashStateRecord redash_state_record(const std::string& digest_key, const std::string& name,
                                      const std::string& type, const nlohmann::json& options,
                                      const std::set<std::string>& secret_keys, bool created);

// state_dir/redash/<digest of url>.json; "" when state_dir is empty (no state kept).
std::string redash_state_path(const std::string& state_dir, const std::string& url);
// An absent or unreadable file is an empty state. The digest key is read when it exists, never
// created here (a plan writes nothing).
RedashState load_redash_state(const std::string& path);
// Reads state.digest_key from the key file next to `path`, creating the file first (random,
// 0600) when there is none; safe when two processes do it at once. Throws std::runtime_error
// when the key cannot be read or created. Nothing to do for an empty path.
void ensure_redash_digest_key(const std::string& path, RedashState& state);
// Throws std::runtime_error when the file cannot be written.
void save_redash_state(const std::string& path, const RedashState& state);

}  // namespace templet
