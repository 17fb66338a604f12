#include "app/check_command.hpp"

#include <fmt/format.h>

#include <iostream>
#include <map>
#include <set>

#include "app/deps_command.hpp"
#include "functions/live/consul_client.hpp"
#include "functions/live/vault_client.hpp"
#include "functions/values_file.hpp"

namespace templet {

namespace {

// The capability a dependency needs on its API path.
std::set<std::string> needed(DepType t) {
  if (t == DepType::VaultList) return {"list"};
  if (t == DepType::VaultWrite || t == DepType::VaultPki) return {"update", "create"};
  return {"read"};
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::shared_ptr<live::HttpPool> pool_for(const SslConfig& ssl) {
  TlsOptions tls;
  if (ssl.ca_cert) tls.ca_cert = *ssl.ca_cert;
  tls.verify = ssl.verify.value_or(true);
  return std::make_shared<live::HttpPool>([tls] { return make_http_client(tls); });
}

}  // namespace

int run_check_command(const CheckCommandOptions& o) {
  RecordingInputs in;
  if (!load_recording_inputs(o.config_paths, o.values_path, in)) return 2;
  const Config& config = in.config;
  const DataSource* data = in.data.get();
  const auto& env = in.env;
  // Each dependency once, in first-use order.
  std::vector<Dependency> deps;
  std::set<std::string> seen;
  int status = 0;
  for (const auto& t : collect_deps(config, *data, env)) {
    if (!t.error.empty()) {
      std::cout << "error   " << t.destination << ": " << t.error << "\n";
      status = 1;
    }
    for (const auto& d : t.deps)
      if (seen.insert(d.id).second) deps.push_back(d);
  }

  std::vector<Dependency> vault_deps;
  for (const auto& d : deps)
    if (d.type == DepType::VaultRead || d.type == DepType::VaultWrite ||
        d.type == DepType::VaultList || d.type == DepType::VaultPki)
      vault_deps.push_back(d);
  if (!vault_deps.empty()) {
    if (!config.vault.address || config.vault.address->empty()) {
      std::cout << "error   vault: no address (vault.address or VAULT_ADDR)\n";
      status = 1;
    } else {
      live::VaultClient vault(live::VaultSettings::from(config.vault), pool_for(config.vault.ssl),
                              live::system_clock());
      try {
        std::vector<std::string> paths;
        for (const auto& d : vault_deps) paths.push_back(vault.api_path(d));
        auto caps = vault.capabilities_self(paths);
        for (size_t i = 0; i < vault_deps.size(); ++i) {
          const auto& have = caps[paths[i]];
          bool ok = false;
          for (const auto& c : have) ok = ok || c == "root" || needed(vault_deps[i].type).count(c);
          std::cout << fmt::format("{:<7} {:<40} {} ({})\n", ok ? "ok" : "DENIED", vault_deps[i].id,
                                   paths[i], join(have));
          if (!ok) status = 1;
        }
      } catch (const FetchError& e) {
        std::cout << "error   vault: " << e.what() << "\n";
        status = 1;
      }
    }
  }

  live::ConsulClient consul(live::ConsulSettings::from(config.consul, config.block_query_wait),
                            pool_for(config.consul.ssl));
  for (const auto& d : deps) {
    if (d.type == DepType::HealthService || d.type == DepType::CatalogServices ||
        d.type == DepType::CatalogNode || d.type == DepType::CatalogNodes) {
      std::cout << fmt::format("{:<7} {:<40} not checked: Consul filters, never refuses\n", "skip",
                               d.id);
      continue;
    }
    if (d.type != DepType::KvGet && d.type != DepType::KvBlock && d.type != DepType::KvList)
      continue;
    try {
      consul.query(d, 0);
      std::cout << fmt::format("{:<7} {}\n", "ok", d.id);
    } catch (const live::ConsulError& e) {
      if (e.status == 403) {
        std::cout << fmt::format("{:<7} {:<40} {}\n", "DENIED", d.id, e.what());
      } else {
        std::cout << "error   " << d.id << ": " << e.what() << "\n";
      }
      status = 1;
    }
  }
  return status;
}

}  // namespace templet
