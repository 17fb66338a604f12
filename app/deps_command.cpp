#include "app/deps_command.hpp"

#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "app/data_document.hpp"
#include "functions/render.hpp"
#include "functions/values_file.hpp"
#include "renderer/template.hpp"

namespace templet {

namespace {

const char* kind_name(const Dependency& d) {
  switch (d.type) {
    case DepType::KvGet:
      return "kv.get";
    case DepType::KvBlock:
      return "kv.block";
    case DepType::KvList:
      return "kv.list";
    case DepType::HealthService:
      return d.connect ? "health.connect" : "health.service";
    case DepType::CatalogServices:
      return "catalog.services";
    case DepType::CatalogNode:
      return "catalog.node";
    case DepType::CatalogNodes:
      return "catalog.nodes";
    case DepType::CatalogDatacenters:
      return "catalog.datacenters";
    case DepType::ConnectCARoots:
      return "connect.caroots";
    case DepType::ConnectLeaf:
      return "connect.caleaf";
    case DepType::ConsulPartitions:
      return "list.partitions";
    case DepType::ConsulPeerings:
      return "list.peerings";
    case DepType::ExportedServices:
      return "list.exportedServices";
    case DepType::ImportedServices:
      return "list.importedServices";
    case DepType::Interfaces:
      return "sockaddr.interfaces";
    case DepType::VaultRead:
      return "vault.read";
    case DepType::VaultWrite:
      return "vault.write";
    case DepType::VaultList:
      return "vault.list";
    case DepType::VaultPki:
      return "vault.pki";
    case DepType::File:
      return "file";
    case DepType::InfluxBuckets:
      return "influxdb.buckets";
  }
  return "?";
}

}  // namespace

std::vector<TemplateDeps> collect_deps(
    const Config& config, const DataSource& data,
    const std::function<std::optional<std::string>(std::string_view)>& env_lookup) {
  std::vector<TemplateDeps> out;
  for (const auto& cfg : config.templates) {
    TemplateDeps td;
    td.source = cfg.display_name();
    td.destination = *cfg.destination;
    std::string text;
    if (cfg.contents) {
      text = *cfg.contents;
    } else if (!read_whole_file(*cfg.source, text)) {
      td.error = *cfg.source + ": cannot read template: " + std::strerror(errno);
      out.push_back(std::move(td));
      continue;
    }
    try {
      FunctionOptions fo;
      fo.denylist = cfg.function_denylist;
      FunctionTable funcs = consul_template_functions(fo);
      TemplateOptions to;
      to.name = cfg.display_name();
      to.left_delim = *cfg.left_delimiter;
      to.right_delim = *cfg.right_delimiter;
      to.missing_key = *cfg.error_on_missing_key ? MissingKey::Error : MissingKey::Zero;
      to.funcs = &funcs;
      Template tmpl(text, to);
      RenderEnv env;
      // Every variable looked up is recorded, set or not.
      env.env = [&](std::string_view name) -> std::optional<std::string> {
        td.env.insert(std::string(name));
        if (env_lookup) return env_lookup(name);
        const char* v = std::getenv(std::string(name).c_str());
        return v ? std::optional<std::string>(v) : std::nullopt;
      };
      if (cfg.sandbox_path) env.sandbox_path = *cfg.sandbox_path;
      env.destination = td.destination;
      // `used` lists every dependency asked for, answered or not: the recording.
      td.deps = render(tmpl, data, env).used;
    } catch (const std::exception& e) {
      td.error = e.what();
    }
    out.push_back(std::move(td));
  }
  return out;
}

nlohmann::json deps_json(const std::vector<TemplateDeps>& all) {
  nlohmann::json j;
  j["templates"] = nlohmann::json::array();
  std::set<std::string> vault, keys, prefixes, services, catalog, files, env, influx_orgs;
  for (const auto& t : all) {
    nlohmann::json e{
        {"source", t.source},
        {"destination", t.destination},
        {"dependencies", nlohmann::json::array()},
        {"env", t.env},
        {"error", t.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(t.error)}};
    for (const auto& d : t.deps) {
      e["dependencies"].push_back(
          {{"dependency", d.id}, {"kind", kind_name(d)}, {"target", d.target}});
      switch (d.type) {
        case DepType::KvGet:
        case DepType::KvBlock:
          keys.insert(d.target);
          break;
        case DepType::KvList:
          prefixes.insert(d.target);
          break;
        case DepType::HealthService:
          services.insert(d.target);
          break;
        case DepType::CatalogServices:
        case DepType::CatalogNode:
        case DepType::CatalogNodes:
        case DepType::CatalogDatacenters:
        case DepType::ConnectCARoots:
        case DepType::ConnectLeaf:
        case DepType::ConsulPartitions:
        case DepType::ConsulPeerings:
        case DepType::ExportedServices:
        case DepType::ImportedServices:
          catalog.insert(d.id);
          break;
        case DepType::Interfaces:
          break;
        case DepType::VaultRead:
        case DepType::VaultWrite:
        case DepType::VaultList:
        case DepType::VaultPki:
          vault.insert(d.target);
          break;
        case DepType::File:
          files.insert(d.target);
          break;
        case DepType::InfluxBuckets:
          influx_orgs.insert(d.target);
          break;
      }
    }
    env.insert(t.env.begin(), t.env.end());
    j["templates"].push_back(std::move(e));
  }
  j["vault"] = vault;
  j["consul"] = {
      {"keys", keys}, {"prefixes", prefixes}, {"services", services}, {"catalog", catalog}};
  j["files"] = files;
  if (!influx_orgs.empty()) j["influxdb"] = {{"bucket_orgs", influx_orgs}};
  j["env"] = env;
  return j;
}

std::string format_deps(const std::vector<TemplateDeps>& all) {
  std::string out;
  for (const auto& t : all) {
    out += t.destination + " (" + t.source + ")\n";
    if (!t.error.empty()) out += "  error: " + t.error + "\n";
    for (const auto& d : t.deps) out += fmt::format("  {:<16}  {}\n", kind_name(d), d.target);
    for (const auto& e : t.env) out += fmt::format("  {:<16}  {}\n", "env", e);
  }
  return out;
}

bool load_recording_inputs(const std::vector<std::string>& config_paths,
                           const std::string& values_path, RecordingInputs& out) {
  try {
    out.config = load_config(config_paths);
    finalize_config(out.config);
  } catch (const ConfigError& e) {
    std::cerr << "templet: " << e.what() << "\n";
    return false;
  }
  out.data = std::make_shared<EmptyDataSource>();
  if (values_path.empty()) return true;
  try {
    auto values = std::make_shared<ValuesFile>(ValuesFile::load(values_path));
    out.env = [values](std::string_view n) { return values->env(n); };
    out.data = values;
  } catch (const std::exception& e) {
    std::cerr << "templet: " << e.what() << "\n";
    return false;
  }
  return true;
}

int run_deps_command(const DepsCommandOptions& o) {
  RecordingInputs in;
  if (!load_recording_inputs(o.config_paths, o.values_path, in)) return 2;
  const Config& config = in.config;
  const DataSource* data = in.data.get();
  const auto& env = in.env;
  auto all = collect_deps(config, *data, env);
  if (o.json)
    std::cout << deps_json(all).dump(2) << "\n";
  else
    std::cout << format_deps(all);
  for (const auto& t : all)
    if (!t.error.empty()) return 1;
  return 0;
}

}  // namespace templet
