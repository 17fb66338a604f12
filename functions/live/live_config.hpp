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

// vault.auth: how templet logs in (functions/live/auth/). `method` unset: a token, or AppRole when
// auth.approle names both files (the older form).
struct VaultAuthConfig {
  std::optional<std::string> method;  // token approle aws gcp azure kubernetes jwt cert
  std::optional<std::string> mount;   // auth/<mount>/login; defaults to the method's name
  std::optional<std::string> role;
  struct Aws {
    std::optional<std::string> type;               // iam (ec2 is not supported)
    std::optional<std::string> region;             // signing region; us-east-1 when unset
    std::optional<std::string> header_value;       // X-Vault-AWS-IAM-Server-ID
    std::optional<std::string> sts_endpoint;       // the URL signed; sts.<region>.amazonaws.com
    std::optional<std::string> metadata_endpoint;  // IMDS; AWS_EC2_METADATA_SERVICE_ENDPOINT
  } aws;
  struct Gcp {
    std::optional<std::string> type;  // gce
    std::optional<std::string> service_account;
    std::optional<std::string> metadata_endpoint;  // GCE_METADATA_HOST as a URL
  } gcp;
  struct Azure {
    std::optional<std::string> resource;
    std::optional<std::string> client_id;  // a user-assigned identity
    std::optional<std::string> metadata_endpoint;
  } azure;
  std::optional<std::string> jwt_path;  // kubernetes.token_path or jwt.path
  struct Cert {
    std::optional<std::string> client_cert, client_key;
  } cert;
  std::optional<std::string> sink_file;  // token_sink: {path}: templet's token for others, 0600
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
  VaultAuthConfig auth;
  std::optional<Duration> default_lease_duration;
  std::optional<double> lease_renewal_threshold;
  std::optional<bool> revoke_superseded;
  std::optional<Duration> timeout;     // one request, connect to last byte
  std::optional<int> max_connections;  // requests in flight at once (default 8)
};

struct ConsulConfig {
  std::optional<std::string> address;
  std::optional<std::string> token;
  std::optional<std::string> token_file;
  SslConfig ssl;
  std::optional<Duration> timeout;     // one request beyond its blocking wait
  std::optional<int> max_connections;  // non-blocking queries in flight at once (default 8)
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

// `fleet:` (functions/live/consul_lock.hpp): one applier per apply target across machines.
struct FleetConfig {
  std::optional<std::string> mode;  // "single" (every node applies) or "leader"
  std::optional<std::string> lock_prefix;
  std::optional<Duration> session_ttl;
  std::optional<Duration> lock_delay;
  std::optional<std::string> node_name;  // unset: the Consul agent's node name, else the hostname
};

}  // namespace templet
