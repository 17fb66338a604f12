// `templet check`: before boot, asks the live servers whether the configured tokens may read
// everything the templates read (the list `templet deps` finds). Vault answers through
// sys/capabilities-self on the API path each dependency is read at (KV v2 included); Consul
// keys and prefixes are read once with the token, a 403 being Consul's ACL refusal. Services
// are not checked: Consul filters them by ACL instead of refusing.
//
// Exit 0 when everything is allowed, 1 when something is denied or a server could not be
// asked (each named), 2 on a bad configuration. The manual "update the policy" step becomes a
// command that fails in CI.
#pragma once

#include <string>
#include <vector>

namespace templet {

struct CheckCommandOptions {
  std::vector<std::string> config_paths;
  std::string values_path;  // as for deps: answers that let the render reach further
};

int run_check_command(const CheckCommandOptions& options);

}  // namespace templet
