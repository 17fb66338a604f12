#include "app/cli_suggest.hpp"

#include <algorithm>
#include <sstream>

namespace templet {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment over three rows: the previous two and the current one.
  const std::size_t n = b.size();
  std::vector<std::size_t> before(n + 1), prev(n + 1), cur(n + 1);
  for (std::size_t j = 0; j <= n; ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= n; ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        cur[j] = std::min(cur[j], before[j - 2] + 1);
    }
    std::swap(before, prev);
    std::swap(prev, cur);
  }
  return prev[n];
}

std::optional<std::string> closest_name(std::string_view word,
                                        const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(word, c);
    std::size_t allowed = std::max(word.size(), c.size()) / 3;
    if (d > allowed) continue;
    if (!best || d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

std::vector<std::string> known_option_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* a = &app; a != nullptr; a = a->get_parent()) {
    for (const CLI::Option* opt : a->get_options()) {
      for (const auto& l : opt->get_lnames()) names.push_back("--" + l);
      for (const auto& s : opt->get_snames()) names.push_back("-" + s);
    }
  }
  return names;
}

namespace {

// The parsed command holding the unexpected arguments: the deepest one in the chain of parsed
// subcommands that has any, as CLI11 leaves them with the command they were met in.
const CLI::App* command_with_extras(const CLI::App& app) {
  const CLI::App* found = app.remaining(false).empty() ? nullptr : &app;
  for (const CLI::App* sub : app.get_subcommands()) {
    if (const CLI::App* deeper = command_with_extras(*sub)) found = deeper;
  }
  return found;
}

std::string command_path(const CLI::App& app) {
  std::string path;
  for (const CLI::App* a = &app; a->get_parent() != nullptr; a = a->get_parent())
    path = " " + a->get_name() + path;
  return "templet" + path;
}

}  // namespace

bool unknown_arguments(const CLI::App& app, const CLI::ParseError& error) {
  if (dynamic_cast<const CLI::ExtrasError*>(&error) != nullptr) return true;
  // `templet rn`: CLI11 reports the missing subcommand, not the word it did not know.
  return dynamic_cast<const CLI::RequiredError*>(&error) != nullptr &&
         app.get_subcommands().empty() && !app.remaining(false).empty();
}

std::string describe_extras(const CLI::App& app) {
  const CLI::App* where = command_with_extras(app);
  if (where == nullptr) where = &app;
  const auto known = known_option_names(*where);
  std::ostringstream out;
  std::vector<std::string> commands;
  for (const CLI::App* sub : where->get_subcommands([](const CLI::App*) { return true; }))
    commands.push_back(sub->get_name());
  for (const auto& arg : where->remaining(false)) {
    if (arg.size() > 1 && arg[0] == '-') {
      std::string name = arg.substr(0, arg.find('='));
      out << "templet: unknown option " << name;
      if (auto guess = closest_name(name, known)) out << "; did you mean " << *guess << "?";
      out << "\n";
    } else if (!commands.empty() && where->get_subcommands().empty()) {
      out << "templet: unknown command " << arg;
      if (auto guess = closest_name(arg, commands)) out << "; did you mean " << *guess << "?";
      out << "\n";
      break;  // what follows was meant for that command
    } else {
      out << "templet: unexpected argument " << arg << "\n";
    }
  }
  out << "Run '" << command_path(*where) << " --help' for usage.\n";
  return out.str();
}

}  // namespace templet
