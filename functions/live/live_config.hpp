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

// Top-level `influxdb:`: the server influxdbBuckets polls (and, in app/config, the default of
// every apply.influxdb key).
struct InfluxServerConfig {
  std::optional<std::string> url;
  std::optional<std::string> org;
  std::optional<std::string> org_id;  // used for the org named `org`: no read:orgs needed
  std::optional<std::string> token_env;
  std::optional<std::string> token_file;
  std::optional<Duration> poll_interval;  // default 1m
};

struct RetryConfig {
  std::optional<int> attempts;  // 0: never give up
  std::optional<Duration> backoff;
  std::optional<Duration> max_backoff;
};

}  // namespace templet
