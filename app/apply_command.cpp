// `templet apply redash` (see apply_command.hpp).
#include "app/apply_command.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/config.hpp"
#include "hooks/redash.hpp"
#include "sys/private_files.hpp"

namespace templet {

int run_apply_redash(const ApplyRedashOptions& o) {
  std::ifstream in(o.file);
  if (!in) {
    std::cerr << "templet: cannot read " << o.file << "\n";
    return 1;
  }
  std::stringstream ss;
  ss << in.rdbuf();

  RedashApplyConfig cfg;
  std::string url = o.url;
  if (url.empty())
    if (const char* u = std::getenv("REDASH_URL")) url = u;
  if (url.empty()) {
    std::cerr << "templet: no Redash URL: pass --url or set REDASH_URL\n";
    return 2;
  }
  cfg.url = url;
  cfg.api_key_env = o.api_key_env.empty() ? "REDASH_API_KEY" : o.api_key_env;
  if (!o.verify.empty()) cfg.test_after_apply = o.verify == "test_on_change";
  std::string state_dir = o.state_dir.empty() ? "/var/lib/templet" : o.state_dir;
  auto duration = [](const char* flag, const std::string& text, std::optional<Duration>& out) {
    if (text.empty()) return true;
    try {
      out = parse_duration(text);
      return true;
    } catch (const DurationError& e) {
      std::cerr << "templet: apply redash: " << flag << ": " << e.what() << "\n";
      return false;
    }
  };
  if (!duration("--ready-timeout", o.ready_timeout, cfg.ready_timeout) ||
      !duration("--request-timeout", o.request_timeout, cfg.request_timeout))
    return 2;
  if (std::string w = open_state_dir_warning(state_dir); !w.empty())
    std::cerr << "templet: warning: " << w << "\n";

  auto hook = make_redash_hook(cfg, state_dir);
  Plan plan = hook->plan(ss.str(), o.file);
  std::cout << format_plan(plan) << std::flush;
  if (!plan.error.empty()) {
    std::cerr << "templet: apply redash: " << plan.error << "\n";
    return 1;
  }
  if (o.plan_only) return plan.ok() ? 0 : 1;
  ApplyResult result = hook->apply(plan);
  std::cout << format_result(result) << std::flush;
  if (!result.error.empty()) std::cerr << "templet: apply redash: " << result.error << "\n";
  return result.ok() ? 0 : 1;
}

}  // namespace templet
