// `templet run`: load the configuration, pick the data feed (live servers, or a values file),
// install signal handling, and hand over to the run loop.
#pragma once

#include <string>
#include <vector>

#include "app/config.hpp"
#include "hooks/apply_hook.hpp"

#include <memory>

namespace templet {

struct RunCommandOptions {
  std::vector<std::string> config_paths;    // -c, in order (files or directories)
  std::vector<std::string> template_flags;  // --template SRC:DST[:COMMAND]
  bool once = false;
  bool dry_run = false;
  std::string timeout;      // --timeout DUR (with --once)
  std::string values_path;  // --values FILE: offline data instead of Vault/Consul
  std::string log_level;    // overrides the config's
};

// Returns the exit status (0 ok, 1 render/apply error, 2 configuration error, 3 data missing).
int run_run_command(const RunCommandOptions& options);

// The configuration `run` and `plan` use: -c files, then --template flags, then finalize.
// Throws ConfigError.
Config load_run_config(const std::vector<std::string>& config_paths,
                       const std::vector<std::string>& template_flags);

// The apply hooks (Redash, InfluxDB) a template's config asks for.
std::vector<std::unique_ptr<ApplyHook>> make_apply_hooks(const TemplateConfig& t,
                                                         const Config& config);

// Sets up spdlog on stderr at `level` (trace, debug, info, warn, error).
void setup_logging(const std::string& level);

}  // namespace templet
