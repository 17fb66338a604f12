// Executing parsed templates: Go's text/template exec.go semantics over templet Values.
//
// The executor walks a Tree writing into one output string. It reads data only through Values
// (the dot, function results); it never fetches anything, which is what keeps rendering pure.
// Errors are thrown as ExecError carrying Go's message form:
//   template: NAME:LINE:COL: executing "NAME" at <NODE>: MESSAGE
#pragma once

#include <stdexcept>
#include <string>

#include "renderer/ast.hpp"
#include "renderer/function.hpp"
#include "renderer/value.hpp"

namespace templet {

enum class MissingKey : uint8_t {
  Default,  // Go's "default"/"invalid": a missing map key is no value (prints <no value>)
  Zero,     // the zero value of the map's element type
  Error,    // execution stops with "map has no entry for key"
};

struct ExecOptions {
  MissingKey missing_key = MissingKey::Default;
  // Go stops recursion of {{template}} at this depth.
  int max_depth = 100000;
  // Execution stops with "output exceeds N bytes" once the output grows past this. Go has no
  // bound; without one a runaway template (nested ranges, recursion) takes all memory before it
  // fails, where a rendered configuration file is never near this size.
  size_t max_output = size_t{64} << 20;
  // Execution stops with "execution exceeds N steps" after walking this many nodes; 0 means no
  // bound, as in Go. For callers that must finish in bounded time (the fuzz targets): a range
  // over a huge count with an empty body produces no output, so max_output cannot stop it.
  uint64_t max_steps = 0;
};

struct ExecError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Executes the template `name` of `trees` with `dot`, appending the output to `out`. On error,
// `out` holds the partial output and ExecError is thrown.
void execute(const TreeSet& trees, const std::string& name, const Value& dot, std::string& out,
             CallContext& ctx, const ExecOptions& options = {});

// Go's zero value of a type (what missingkey=zero and index of a missing key produce).
Value zero_value(const Type* t);

}  // namespace templet
