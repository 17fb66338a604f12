// `templet apply influxdb`: flags and environment to an InfluxDB hook, plan, apply, report.
#include "app/apply_influxdb_command.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/config.hpp"
#include "hooks/influxdb.hpp"

namespace templet {

namespace {
std::string env_or(const std::string& value, const char* var) {
  if (!value.empty()) return value;
  const char* v = std::getenv(var);
  return v ? v : "";
}
}  // namespace

int run_apply_influxdb(const ApplyInfluxOptions& o) {
  InfluxApplyConfig cfg;
  std::string url = env_or(o.url, "INFLUXDB_URL");
  if (url.empty()) {
    std::cerr << "templet apply influxdb: no URL (--url or INFLUXDB_URL)\n";
    return 2;
  }
  cfg.url = url;
  if (!o.org_id.empty()) {
    cfg.org_id = o.org_id;
  } else {
    std::string org = env_or(o.org, "INFLUXDB_ORG");
    if (org.empty()) {
      std::cerr << "templet apply influxdb: no organization (--org, --org-id or INFLUXDB_ORG)\n";
      return 2;
    }
    cfg.org = org;
  }
  cfg.token_env = o.token_env.empty() ? "INFLUXDB_TOKEN" : o.token_env;
  cfg.prune = o.prune;
  if (!o.ready_timeout.empty()) {
    try {
      cfg.ready_timeout = parse_duration(o.ready_timeout);
    } catch (const std::exception& e) {
      std::cerr << "templet apply influxdb: --ready-timeout: " << e.what() << "\n";
      return 2;
    }
  }

  std::ifstream in(o.file, std::ios::binary);
  if (!in) {
    std::cerr << "templet apply influxdb: cannot read " << o.file << "\n";
    return 2;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::error_code ec;
  std::string destination = std::filesystem::absolute(o.file, ec).lexically_normal().string();
  if (ec) destination = o.file;

  auto hook = make_influxdb_hook(cfg, destination);
  Plan plan = hook->plan(buf.str(), o.file);
  std::cout << format_plan(plan);
  if (!plan.error.empty()) {
    std::cerr << "templet apply influxdb: " << plan.error << "\n";
    return 1;
  }
  if (o.plan_only) return plan.ok() ? 0 : 1;
  ApplyResult result = hook->apply(plan);
  std::cout << "influxdb apply result:\n" << format_result(result);
  std::cout.flush();
  if (!result.ok()) {
    std::cerr << "templet apply influxdb: not every task was applied\n";
    return 1;
  }
  return 0;
}

}  // namespace templet
