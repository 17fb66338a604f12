// The front door of the template engine: parse a template once, execute it many times.
//
// A Template owns its parse trees and is immutable after construction, so one parsed template
// can be executed by several renders. Execution runs on a thread with a large stack, because
// Go allows {{template}} recursion 100000 deep and C++ frames are not growable like goroutines.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "renderer/ast.hpp"
#include "renderer/exec.hpp"
#include "renderer/function.hpp"
#include "renderer/parser.hpp"

namespace templet {

struct TemplateOptions {
  std::string name;  // shown in errors; consul-template uses the source path
  std::string left_delim = "{{";
  std::string right_delim = "}}";
  MissingKey missing_key = MissingKey::Default;
  const FunctionTable* funcs = nullptr;          // besides Go's builtins
  size_t max_output = ExecOptions{}.max_output;  // see ExecOptions
  uint64_t max_steps = ExecOptions{}.max_steps;
};

class Template {
 public:
  // Parses `text`; throws ParseError.
  Template(std::string_view text, TemplateOptions options);

  // Appends the output of the main template to `out`; throws ExecError (with `out` holding the
  // partial output).
  void execute(std::string& out, const Value& dot, CallContext& ctx) const;
  // The same for a named ({{define}}d) template.
  void execute(const std::string& name, std::string& out, const Value& dot, CallContext& ctx) const;

  const std::string& name() const { return options_.name; }
  const TreeSet& trees() const { return trees_; }
  const TemplateOptions& options() const { return options_; }

 private:
  TemplateOptions options_;
  TreeSet trees_;
};

}  // namespace templet
