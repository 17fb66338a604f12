// Parsing template text into trees: Go's text/template/parse (lexer + parser), with Go's
// acceptance rules and error messages.
//
// Errors read `template: NAME:LINE:COL: MESSAGE`, Go's message with the column added (COL counts
// bytes from the start of the line, from 0, as Go's execution errors do).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "renderer/ast.hpp"
#include "renderer/function.hpp"

namespace templet {

struct ParseOptions {
  std::string name;  // the template's name; also the file name shown in errors
  std::string left_delim = "{{";
  std::string right_delim = "}}";
  // Functions known besides Go's builtins; an identifier found in neither is the parse error
  // `function "x" not defined`.
  const FunctionTable* funcs = nullptr;
};

struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses `text`. The result holds the main template under options.name and every {{define}} and
// {{block}} by its name, following Go's rules for redefinition within one parse.
TreeSet parse(std::string_view text, const ParseOptions& options);

}  // namespace templet
