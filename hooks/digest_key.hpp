// The per-state_dir HMAC key apply hooks digest secrets with, so that what templet last sent
// can be compared with what it renders now without storing the value or a plain hash of it
// (a weak password could be recovered from a plain digest by trying candidates).
//
// The key is 32 random bytes as 64 hex digits in DIR/digest.key (0600, DIR 0700), created by
// the first apply; a state file names the key it was made with by key_id(), so digests made
// under another key are known to be unusable. Used by the Redash and InfluxDB hooks.
#pragma once

#include <string>

namespace templet {

// HMAC-SHA-256 hex of `message` under `digest_key`.
std::string keyed_digest(const std::string& digest_key, const std::string& message);
// Names a key without revealing anything about it: the first 16 hex digits of the key's HMAC
// of `label` (each hook has its own label).
std::string digest_key_id(const std::string& digest_key, const std::string& label);
// The key in dir/digest.key, or "" when there is none (a plan never creates it).
std::string read_digest_key(const std::string& dir);
// The key in dir/digest.key, created first (random, 0600) when there is none; safe when two
// processes do it at once. `dir` is created or made private (0700); its parent must exist.
// Throws std::runtime_error when the key cannot be read or created.
std::string ensure_digest_key(const std::string& dir);

}  // namespace templet
