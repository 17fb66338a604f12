// templet's configuration: the YAML contract of docs/ARCHITECTURE.md as typed structs.
//
// Keys follow consul-template's names where it has one. Every value remembers whether it was set
// (std::optional) so that several files can be merged (later wins) and defaults applied once at
// the end (finalize), as consul-template's Finalize() does: "unset" and "zero" differ.
// Errors name FILE:LINE.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace templet {

using Duration = std::chrono::milliseconds;

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "250ms", "2s", "1m30s", "1h" (Go's time.ParseDuration units ns..h); a bare integer is
// seconds, as in consul-template's config.
Duration parse_duration(const std::string& text);
std::string format_duration(Duration d);

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

struct WaitConfig {
  std::optional<Duration> min;
  std::optional<Duration> max;
};

struct RetryConfig {
  std::optional<int> attempts;  // 0: never give up
  std::optional<Duration> backoff;
  std::optional<Duration> max_backoff;
};

struct RedashApplyConfig {
  std::optional<std::string> url;
  std::optional<std::string> api_key_env;
  std::optional<std::string> api_key_file;
  std::optional<std::string> list_key;
  std::optional<std::string> mode;   // "api" or "manage_py"
  std::vector<std::string> command;  // manage.py argv prefix
  std::optional<bool> create_missing;
  std::optional<bool> prune;
  std::optional<bool> test_after_apply;
  std::optional<Duration> ready_timeout;
  std::optional<Duration> request_timeout;  // each HTTP request, start to end
};

struct InfluxApplyConfig {
  std::optional<std::string> url;
  std::optional<std::string> org;
  std::optional<std::string> org_id;
  std::optional<std::string> token_env;
  std::optional<std::string> token_file;
  std::optional<std::string> status;
  std::optional<bool> prune;
  std::optional<Duration> ready_timeout;
};

struct TemplateConfig {
  std::string origin;  // FILE:LINE where the entry was declared
  std::optional<std::string> source;
  std::optional<std::string> contents;
  std::optional<std::string> destination;
  std::optional<mode_t> perms;
  std::optional<bool> backup;
  std::optional<bool> create_dest_dirs;
  std::optional<bool> error_on_missing_key;
  std::optional<bool> allow_no_value;
  std::optional<std::string> left_delimiter;
  std::optional<std::string> right_delimiter;
  std::vector<std::string> function_denylist;
  std::optional<std::string> sandbox_path;
  WaitConfig wait;
  std::vector<std::string> command;  // argv; a YAML string becomes {"/bin/sh", "-c", s}
  std::optional<Duration> command_timeout;
  std::optional<bool> run_on_start;
  std::optional<RedashApplyConfig> redash;
  std::optional<InfluxApplyConfig> influxdb;

  // consul-template's name for a template in logs: the source, or "(dynamic)" for contents.
  std::string display_name() const { return source ? *source : "(dynamic)"; }
};

struct Config {
  VaultConfig vault;
  ConsulConfig consul;
  WaitConfig wait;
  RetryConfig retry;
  std::optional<Duration> block_query_wait;  // Consul blocking queries
  std::optional<std::string> state_dir;
  std::optional<std::string> log_level;
  std::vector<TemplateConfig> templates;
};

// Parses one YAML document; `file` names it in errors.
Config parse_config(const std::string& yaml, const std::string& file);
// Loads files in order (a directory means its *.yaml/*.yml/*.json files in name order); later
// files win for settings, templates accumulate.
Config load_config(const std::vector<std::string>& paths);
// Merges `over` into `base` (later wins).
void merge_config(Config& base, const Config& over);
// Fills every unset value: from the environment (VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE,
// VAULT_CACERT, CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN, REDASH_URL, INFLUXDB_URL, INFLUXDB_ORG),
// then defaults; validates what must be set (each template needs a destination and exactly one
// of source and contents). `env` is the environment to read (the process's by default).
void finalize_config(Config& config, const std::map<std::string, std::string>* env = nullptr);

// Adds an address's scheme when missing: "127.0.0.1:8200" → "http://127.0.0.1:8200".
std::string normalize_address(const std::string& address);

}  // namespace templet
