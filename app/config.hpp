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

#include "app/metrics_config.hpp"
#include "functions/live/live_config.hpp"
#include "hooks/influxdb_config.hpp"
#include "hooks/redash_config.hpp"
#include "net/address.hpp"
#include "sys/duration.hpp"

namespace templet {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct WaitConfig {
  std::optional<Duration> min;
  std::optional<Duration> max;
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
  // Vets the staged file before it replaces the destination (its path is the last argument and
  // $TEMPLET_STAGED); a non-zero exit keeps the old file. Bounded by command_timeout.
  std::vector<std::string> check;
  std::optional<bool> run_on_start;
  std::optional<RedashApplyConfig> redash;
  std::optional<InfluxApplyConfig> influxdb;

  // consul-template's name for a template in logs: the source, or "(dynamic)" for contents.
  std::string display_name() const { return source ? *source : "(dynamic)"; }
};

struct Config {
  VaultConfig vault;
  ConsulConfig consul;
  InfluxServerConfig influxdb;  // influxdbBuckets' server; defaults of every apply.influxdb
  WaitConfig wait;
  RetryConfig retry;
  std::optional<Duration> block_query_wait;  // Consul blocking queries
  std::optional<std::string> state_dir;
  std::optional<std::string> log_level;
  MetricsConfig metrics;
  FleetConfig fleet;
  // Re-plan every apply target against its server this often and put drift back (0: never).
  std::optional<Duration> reconcile_interval;
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

}  // namespace templet
