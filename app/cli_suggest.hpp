// "Did you mean": CLI11 refuses an unknown option but does not say which one was meant. These
// helpers find the closest known option by edit distance, for the message
//   templet: unknown option --dryrun; did you mean --dry-run?
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace templet {

// Edit distance counting insertions, deletions, substitutions and swaps of two adjacent
// characters as one step each (so "--dyr-run" is 1 from "--dry-run").
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, when close enough to be a plausible typo: at most a third of
// the longer name's length in edits, and at least 1 edit allowed. Ties go to the first candidate.
std::optional<std::string> closest_name(std::string_view word,
                                        const std::vector<std::string>& candidates);

// The option names (--long and -s forms) the command `app` accepts, with those of its parents
// (which CLI11 accepts after a subcommand too, like --help).
std::vector<std::string> known_option_names(const CLI::App& app);

// Whether `error`, thrown by `app.parse`, is about arguments templet does not know: unexpected
// options or arguments, or an unknown subcommand.
bool unknown_arguments(const CLI::App& app, const CLI::ParseError& error);

// After such an error: one line per unknown argument, each
//   templet: unknown option --dryrun; did you mean --dry-run?
//   templet: unknown command rn; did you mean run?
// (without the suggestion when no name is close), then a pointer to the command's --help.
std::string describe_extras(const CLI::App& app);

}  // namespace templet
