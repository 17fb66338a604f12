#include "hooks/apply_hook.hpp"

namespace templet {

namespace {
const char* action_word(PlanAction a) {
  switch (a) {
    case PlanAction::Create:
      return "create";
    case PlanAction::Update:
      return "update";
    case PlanAction::Unchanged:
      return "unchanged";
    case PlanAction::Delete:
      return "delete";
    case PlanAction::Refused:
      return "refused";
  }
  return "?";
}
const char* outcome_word(ApplyOutcome o) {
  switch (o) {
    case ApplyOutcome::Created:
      return "created";
    case ApplyOutcome::Updated:
      return "updated";
    case ApplyOutcome::Unchanged:
      return "unchanged";
    case ApplyOutcome::Deleted:
      return "deleted";
    case ApplyOutcome::Refused:
      return "refused";
    case ApplyOutcome::Failed:
      return "failed";
  }
  return "?";
}
}  // namespace

std::string format_plan(const Plan& plan) {
  std::string out = plan.hook + " plan for " + plan.file + " -> " + plan.target + "\n";
  if (!plan.error.empty()) return out + "  error: " + plan.error + "\n";
  for (const auto& e : plan.entries) {
    out += "  " + std::string(action_word(e.action)) + " \"" + e.name + "\"";
    if (!e.reason.empty()) out += ": " + e.reason;
    out += "\n";
    for (const auto& d : e.details) out += "      " + d + "\n";
  }
  // A create is the one action that cannot be taken back by re-planning (a near-miss name makes
  // a second datasource), so a plan that creates says how many, where it is seen first.
  size_t creates = 0, other = 0;
  for (const auto& e : plan.entries) (e.action == PlanAction::Create ? creates : other)++;
  if (creates > 0)
    out += "  => " + std::to_string(creates) + " to CREATE (new, by exact name), " +
           std::to_string(other) + " other\n";
  return out;
}

std::string format_result(const ApplyResult& result) {
  std::string out;
  if (!result.error.empty()) out += "  error: " + result.error + "\n";
  for (const auto& e : result.entries) {
    out += "  " + std::string(outcome_word(e.outcome)) + " \"" + e.name + "\"";
    if (!e.message.empty()) out += ": " + e.message;
    out += "\n";
  }
  return out;
}

}  // namespace templet
