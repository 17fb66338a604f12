// What the InfluxDB hook last set in an org, kept in state_dir between runs.
//
// InfluxDB never returns a secret's value (GET lists keys only), so whether a rendered value
// differs from the stored one can only be known from what templet itself sent: per secret key,
// an HMAC-SHA-256 of the key and value under the state_dir's digest key (hooks/digest_key.hpp,
// shared with the Redash hook's reasoning: no value or plain hash is stored) and the
// destination whose config set it. The file also records the buckets templet created, per
// destination: the only buckets and secrets `prune` may delete.
//
// state_dir/influxdb/<16 hex of sha256(url + org id)>.json, 0600 in a private directory with
// its own digest.key; replaced atomically.
#pragma once

#include <map>
#include <string>

namespace templet {

struct InfluxSecretRecord {
  std::string digest;       // "" when unknown (another key, or never recorded)
  std::string destination;  // whose config set it
};

struct InfluxState {
  std::map<std::string, InfluxSecretRecord> secrets;  // by secret key
  std::map<std::string, std::string> buckets;         // bucket name -> destination that created it
  std::string digest_key;                             // "" until created
};

// "" when state_dir is empty (nothing kept).
std::string influx_state_path(const std::string& state_dir, const std::string& url,
                              const std::string& org_id);
// HMAC-SHA-256 hex, under `digest_key`, of one secret.
std::string influx_secret_digest(const std::string& digest_key, const std::string& key,
                                 const std::string& value);
// An absent or unreadable file is an empty state; digests made under another key are dropped.
// The digest key is read when it exists, never created here (a plan writes nothing).
InfluxState load_influx_state(const std::string& path);
// Reads (creating when missing) the digest key into state.digest_key. Throws
// std::runtime_error when it cannot. Nothing to do for an empty path.
void ensure_influx_digest_key(const std::string& path, InfluxState& state);
// Throws std::runtime_error when the file cannot be written. Nothing to do for an empty path.
void save_influx_state(const std::string& path, const InfluxState& state);

}  // namespace templet
