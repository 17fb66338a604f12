// The live data sources' settings (Vault, Consul, retries) as the config file gives them: every
// value remembers whether it was set, so that several files merge (later wins) before defaults.
// app/config parses YAML into these; functions/live turns them into its clients' settings.
#pragma once

#include <optional>
#include <string>

#include "sys/duration.hpp"

namespace templet {

struct SslConfig {
  std::optional<std::string> ca_cert;
  std::optional<bool> verify;
};

struct VaultConfig {
  std::optional<std::string> address;
  std::optional<std::string> token;
  std::optional<std::string> token_file;
  std::optional<std::string> namespace_;
  std::optional<bool> renew_token;
  SslConfig ssl;
  std::optional<std::string> approle_role_id_file;
  std::optional<std::string> approle_secret_id_file;
  std::optional<Duration> default_lease_duration;
  std::optional<double> lease_renewal_threshold;
  std::optional<bool> revoke_superseded;
  std::optional<Duration> timeout;  // one request, connect to last byte
};

struct ConsulConfig {
  std::optional<std::string> address;
  std::optional<std::string> token;
  std::optional<std::string> token_file;
  SslConfig ssl;
  std::optional<Duration> timeout;  // one request beyond its blocking wait
};

struct RetryConfig {
  std::optional<int> attempts;  // 0: never give up
  std::optional<Duration> backoff;
  std::optional<Duration> max_backoff;
};

// `fleet:` (functions/live/consul_lock.hpp): one applier per apply target across machines.
struct FleetConfig {
  std::optional<std::string> mode;  // "single" (every node applies) or "leader"
  std::optional<std::string> lock_prefix;
  std::optional<Duration> session_ttl;
  std::optional<Duration> lock_delay;
  std::optional<std::string> node_name;  // unset: the Consul agent's node name, else the hostname
};

}  // namespace templet
