// `templet deps`: what each template reads (Vault paths, Consul keys, prefixes and services,
// files, environment variables), found by rendering it against a recording data source, so the
// dependencies behind `with` and `if` branches count whenever the values given (a values file,
// else none) reach them. The preflight for image builders; `templet check` asks the servers
// about the same list.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "app/config.hpp"
#include "functions/data_source.hpp"
#include "functions/dependency.hpp"

namespace templet {

struct DepsCommandOptions {
  std::vector<std::string> config_paths;
  std::string values_path;  // answers that let the render reach further (default: none)
  bool json = false;
};

struct TemplateDeps {
  std::string source, destination;
  std::vector<Dependency> deps;  // first-use order
  std::set<std::string> env;     // variable names read
  std::string error;             // the template could not be read, parsed or rendered
};

// Renders every template of `config` against `data` (recording what it asks for) with
// `env_lookup` as its environment (empty: the process's).
std::vector<TemplateDeps> collect_deps(
    const Config& config, const DataSource& data,
    const std::function<std::optional<std::string>(std::string_view)>& env_lookup);

// {"templates": [{"source", "destination", "dependencies": [{"dependency", "kind", "target"}],
//  "env": [...], "error"}], "vault": [...], "consul": {"keys", "prefixes", "services",
//  "catalog"}, "files": [...], "env": [...]} -- the totals sorted and deduplicated.
nlohmann::json deps_json(const std::vector<TemplateDeps>& all);
std::string format_deps(const std::vector<TemplateDeps>& all);

// What `deps` and `check` render with: the config's templates, and the values file's answers
// and environment when one is given. Prints the error and returns false (exit 2) when either
// cannot be read.
struct RecordingInputs {
  Config config;
  std::shared_ptr<const DataSource> data;
  std::function<std::optional<std::string>(std::string_view)> env;
};
bool load_recording_inputs(const std::vector<std::string>& config_paths,
                           const std::string& values_path, RecordingInputs& out);

int run_deps_command(const DepsCommandOptions& options);

}  // namespace templet
