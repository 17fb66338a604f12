// `templet apply redash FILE`: run the Redash apply hook by hand on an already rendered file.
//
// Prints the plan, then (without --plan) the result; errors go to stderr. Exit 0 when every
// entry was applied or unchanged, 1 when any was refused or failed (or nothing could be
// planned), 2 for usage errors.
#pragma once

#include <string>

namespace templet {

struct ApplyRedashOptions {
  std::string file;
  std::string url;              // else REDASH_URL
  std::string api_key_env;      // default REDASH_API_KEY
  std::string state_dir;        // default /var/lib/templet
  std::string ready_timeout;    // e.g. "30s"; empty: 2m
  std::string request_timeout;  // e.g. "10s"; empty: 30s
  std::string verify;           // "test_on_change" (the default) or "off"
  bool plan_only = false;
};

int run_apply_redash(const ApplyRedashOptions& options);

}  // namespace templet
