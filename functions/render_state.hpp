// The per-render state data functions reach through CallContext::user (internal to functions/).
#pragma once

#include <map>
#include <optional>
#include <set>
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
  bool dry_run() const { return env_.dry_run; }
  bool offline_files() const { return env_.offline_files; }
  const std::string& destination() const { return env_.destination; }
  ScratchState& scratch() { return scratch_; }
  // Every string of a Vault response seen by this render, and the text of secret-derived
  // arguments of failed calls: what an error message must not show.
  void add_secrets(const Value& v);
  void add_secret(std::string s) {
    if (!s.empty()) secrets_.insert(std::move(s));
  }
  const std::set<std::string>& secrets() const { return secrets_; }
  // Masks what add_secrets recorded (and `extra`) in `text`, in raw and quoted forms.
  std::string mask(std::string_view text, const std::set<std::string>& extra = {}) const;
  std::vector<std::string> not_done;

  std::vector<Dependency> used, missing_deps;

  // The state of the render running `ctx`; throws FuncError outside render().
  static RenderState& of(CallContext& ctx);

 private:
  const DataSource& source_;
  const RenderEnv& env_;
  std::unordered_set<std::string> used_ids_, missing_ids_;
  std::unordered_map<std::string, std::optional<Response>> answers_;
  ScratchState scratch_;
  std::set<std::string> secrets_;
};

// The `scratch` object's type, *template.Scratch, with its methods.
const Type* scratch_type();

}  // namespace templet
