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
