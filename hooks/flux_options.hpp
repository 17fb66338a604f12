// Flux `option task = {…}` records, read the way InfluxDB v2 reads them (task/options/options.go).
//
// InfluxDB never runs a task script to learn its options: it parses the Flux, takes the single
// top-level `option task` statement and reads the literals of its object. templet does the same
// before sending anything, so a plan can refuse a script with FILE:LINE:COL instead of learning
// about it from a 400. The rules and messages follow the server's (http-apis.md §2.5):
//   * exactly one top-level `option task =` whose value is an object literal;
//   * `name` a plain string literal (no `${…}`), non-empty;
//   * exactly one of `every` (a duration literal such as 1h30m, at least 1s, whole seconds) and
//     `cron` (a string literal holding a 5, 6 or 7 field cron expression or a descriptor);
//   * `offset` an optional duration literal or its negation, whole seconds, and (unlike the
//     server, which answers 500 for it) no d/w/mo/y units;
//   * `concurrency` 1..100 and `retry` 1..10, integer literals; other keys are ignored.
// The rest of the script is only tokenized (strings, comments, regexes) and bracket-checked.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace templet {

struct FluxPosition {
  int line = 1;    // 1-based
  int column = 1;  // 1-based, in bytes
};

struct FluxTaskOptions {
  std::string name;    // decoded string value
  std::string every;   // the duration literal as written ("1h30m"); empty when cron is used
  std::string cron;    // decoded string value; empty when every is used
  std::string offset;  // as written, with its sign ("-5m"); empty: none
  int64_t concurrency = 1;
  int64_t retry = 1;
  FluxPosition position;  // of the `option` keyword
};

// A script whose options InfluxDB would refuse. `detail` is the message without position,
// `name` the task's name when it could be read before the error (else empty).
struct FluxOptionsError : std::runtime_error {
  FluxOptionsError(std::string detail, FluxPosition position, std::string name = {});
  std::string detail;
  FluxPosition position;
  std::string name;
  // "FILE:LINE:COL: detail"
  std::string describe(const std::string& file) const;
};

// Parses and validates the `option task` record of one script. Positions count from
// `first_line` (the line where this script starts in its file). Throws FluxOptionsError.
FluxTaskOptions parse_flux_task_options(std::string_view script, int first_line = 1);

// True for a Flux duration literal: one or more <integer><unit> pairs (ns us µs ms s m h d w mo
// y), integers without leading zeros.
bool is_flux_duration(std::string_view text);

// A cron expression as InfluxDB accepts it; returns "" or why not.
std::string check_cron(std::string_view expr);

}  // namespace templet
