// Functions callable from templates: the table the parser resolves identifiers against, and the
// context a function receives when the executor calls it.
//
// A function declares Go-style parameter types so the executor can apply Go's argument rules
// (constants take the parameter's type, values must be assignable, "wrong type for value; expected
// []string; got []interface {}"). Failures are reported by throwing FuncError; the executor turns
// them into Go's `error calling NAME: MSG`.
#pragma once

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "renderer/value.hpp"

namespace templet {

namespace types {
// Parameter type of Go's builtins that take reflect.Value: arguments arrive unconverted.
extern const Type reflect_value;
}  // namespace types

// Which Go builtin a function is, for the ones the executor must treat specially (and/or
// short-circuit; the rest are ordinary natives but are listed for clarity of errors).
enum class Builtin : uint8_t { None, And, Or, Call };

struct Function {
  std::string name;
  std::vector<const Type*> params;  // nullptr means interface{}
  bool variadic = false;            // params.back() is the element type of the ... parameter
  NativeFunc call;
  Builtin builtin = Builtin::None;
  bool disabled = false;  // denied by function_denylist: still parses, fails when called
};

// Raised by a native function; the message is what follows "error calling NAME: ".
struct FuncError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class FunctionTable {
 public:
  // Replaces a function of the same name (as Go's Funcs does).
  void add(Function f);
  const Function* find(std::string_view name) const;
  // Marks every function whose name matches the glob (`*` and `?`) as disabled.
  void deny(std::string_view glob);
  std::vector<std::string> names() const;

 private:
  std::map<std::string, Function, std::less<>> funcs_;
};

// Go's text/template builtins: and, or, not, len, index, slice, print, printf, println, html,
// js, urlquery, eq, ne, lt, le, gt, ge, call.
const FunctionTable& builtin_functions();

// Per-execution services a function may use. Extended by the function library (issue 3) through
// `user`, which points at whatever the caller of execute() passed in.
struct CallContext {
  void* user = nullptr;
  // Told the text of every secret-derived value the template prints, so that whatever shows
  // the output to a person can mask it.
  std::function<void(std::string_view)> secret_seen;
  // Told the text of every secret-derived argument of a call that failed: its error message may
  // quote it, and whoever reports the error masks it.
  std::function<void(std::string_view)> secret_in_error;
  // Runs a template of the executing set by name (consul-template's executeTemplate); set by
  // execute() for the duration of an execution. Throws FuncError.
  std::function<std::string(const std::string& name, const Value& dot)> execute_template;
  int nested_executions = 0;
};

}  // namespace templet
