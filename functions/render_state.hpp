// The per-render state data functions reach through CallContext::user (internal to functions/).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "functions/data_source.hpp"
#include "functions/dependency.hpp"
#include "functions/render.hpp"
#include "renderer/function.hpp"
#include "renderer/value.hpp"

namespace templet {

struct ScratchState {
  std::map<std::string, Value> values;  // MapSet's maps are map[string]interface {} Values
};

class RenderState {
 public:
  RenderState(const DataSource& source, const RenderEnv& env) : source_(source), env_(env) {}

  // Records `dep` as used and returns its data, or nullopt (the caller then decides whether the
  // answer counts as data and calls missing() when it does not). Answers are asked once per
  // render and per identity.
  std::optional<Response> lookup(const Dependency& dep);
  void missing(const Dependency& dep);

  std::optional<std::string> getenv(std::string_view name) const;
  const std::string& sandbox_path() const { return env_.sandbox_path; }
  ScratchState& scratch() { return scratch_; }

  std::vector<Dependency> used, missing_deps;

  // The state of the render running `ctx`; throws FuncError outside render().
  static RenderState& of(CallContext& ctx);

 private:
  const DataSource& source_;
  const RenderEnv& env_;
  std::unordered_set<std::string> used_ids_, missing_ids_;
  std::unordered_map<std::string, std::optional<Response>> answers_;
  ScratchState scratch_;
};

// The `scratch` object's type, *template.Scratch, with its methods.
const Type* scratch_type();

}  // namespace templet
