// Rendering a template against a data source: the pure step of templet's loop.
//
// render() executes a parsed template once. Data functions (key, secret, service...) look their
// dependency up in the DataSource; what is not there is recorded as missing and replaced by
// consul-template's placeholder, so the pass runs to the end and reports everything it still
// needs. An incomplete result must not be written anywhere; the caller fetches what is missing
// (or, in preview, reports it) and renders again.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "functions/data_source.hpp"
#include "functions/dependency.hpp"
#include "renderer/function.hpp"
#include "renderer/template.hpp"

namespace templet {

struct RenderEnv {
  // The environment `env`, `mustEnv` and `envOrDefault` see: nullopt for an unset variable.
  // Unset (empty function) means the process environment.
  std::function<std::optional<std::string>(std::string_view)> env;
  // consul-template's sandbox_path: `file` may only read below it (empty: anywhere).
  std::string sandbox_path;
  // `file` paths are checked against sandbox_path as written, without resolving symlinks
  // through the local disk: the data (a values file's files:) is not on this machine.
  bool offline_files = false;
  // preview and --dry-run: functions that act on the machine (writeToFile, plugin) do nothing
  // and say in RenderResult::not_done what they would have done.
  bool dry_run = false;
  // The file the output goes to. pkiCert's dependency names it: its watcher keeps the
  // certificate found there while it is good (consul-template reads its destination so).
  std::string destination;
};

struct RenderResult {
  std::string output;
  bool complete = true;             // no dependency is missing: the output may be used
  std::vector<Dependency> used;     // deduplicated by identity, in first-use order
  std::vector<Dependency> missing;  // the same, for dependencies without data
  std::set<std::string> secrets;    // text of every secret-derived value the output holds
  // Under RenderEnv::dry_run, one line per action skipped ("writeToFile: would write ..."),
  // secrets masked.
  std::vector<std::string> not_done;
};

// Executes `tmpl` with `dot` against `source`. Throws ExecError on a template error (a render
// error; the data-less placeholders are designed not to cause one, as in consul-template). Its
// message has every string that came from Vault, and every secret-derived argument of a failed
// call, masked as kSecretMask, also where it is quoted (Go's %q, JSON escapes).
RenderResult render(const Template& tmpl, const DataSource& source, const RenderEnv& env = {},
                    const Value& dot = Value());

// consul-template's data functions: key, keyExists, keyOrDefault, ls, safeLs, tree, safeTree,
// secret, secrets, pkiCert, service, services, node, nodes, env, mustEnv, envOrDefault, file,
// scratch.
// They reach the render's state through CallContext::user and fail when called outside render().
void register_data_functions(FunctionTable& table);

struct FunctionOptions {
  std::vector<std::string> denylist;  // globs (`*`), as function_denylist
};

// The table templates are parsed with: the helpers, the data functions, then the denylist.
FunctionTable consul_template_functions(const FunctionOptions& options = {});

}  // namespace templet
