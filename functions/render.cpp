#include "functions/render.hpp"

#include <cstdlib>

#include "functions/error_mask.hpp"
#include "functions/helpers.hpp"
#include "functions/influxdb_data.hpp"
#include "functions/render_state.hpp"
#include "renderer/exec.hpp"

namespace templet {

std::optional<Response> RenderState::lookup(const Dependency& dep) {
  if (used_ids_.insert(dep.id).second) used.push_back(dep);
  auto it = answers_.find(dep.id);
  if (it == answers_.end()) it = answers_.emplace(dep.id, source_.fetch(dep)).first;
  return it->second;
}

void RenderState::missing(const Dependency& dep) {
  if (missing_ids_.insert(dep.id).second) missing_deps.push_back(dep);
}

std::optional<std::string> RenderState::getenv(std::string_view name) const {
  if (env_.env) return env_.env(name);
  const char* v = std::getenv(std::string(name).c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

void RenderState::add_secrets(const Value& v) {
  collect_strings(v, secrets_);
}

std::string RenderState::mask(std::string_view text, const std::set<std::string>& extra) const {
  if (extra.empty()) return mask_error_text(text, secrets_);
  std::set<std::string> all = secrets_;
  all.insert(extra.begin(), extra.end());
  return mask_error_text(text, all);
}

RenderState& RenderState::of(CallContext& ctx) {
  if (ctx.user == nullptr) throw FuncError("data functions are only available while rendering");
  return *static_cast<RenderState*>(ctx.user);
}

RenderResult render(const Template& tmpl, const DataSource& source, const RenderEnv& env,
                    const Value& dot) {
  RenderResult result;
  RenderState state(source, env);
  CallContext ctx;
  ctx.user = &state;
  ctx.secret_seen = [&result](std::string_view s) {
    if (!s.empty()) result.secrets.emplace(s);
  };
  ctx.secret_in_error = [&state](std::string_view s) { state.add_secret(std::string(s)); };
  try {
    tmpl.execute(result.output, dot, ctx);
  } catch (const ExecError& e) {
    // The one place every execution error passes: whatever shows it (stderr, the log, status)
    // gets it masked.
    throw ExecError(state.mask(e.what(), result.secrets));
  }
  result.not_done = std::move(state.not_done);
  result.used = std::move(state.used);
  result.missing = std::move(state.missing_deps);
  // "missing data: key \"...\"" is logged every 30 s: an argument taken from a secret is masked.
  for (auto& d : result.missing) d.call = state.mask(d.call);
  result.complete = result.missing.empty();
  return result;
}

FunctionTable consul_template_functions(const FunctionOptions& options) {
  FunctionTable table;
  register_helper_functions(table);
  register_data_functions(table);
  register_influxdb_functions(table);
  for (const auto& glob : options.denylist) table.deny(glob);
  return table;
}

}  // namespace templet
