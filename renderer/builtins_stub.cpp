// TEMPORARY: a stand-in for Go's builtin function table so the parser links and can resolve
// builtin names before the real builtins land. Each entry has only its name. Delete this file
// when merging the real builtin_functions().
#include "renderer/function.hpp"

namespace templet {

const FunctionTable& builtin_functions() {
  static const FunctionTable table = [] {
    FunctionTable t;
    for (const char* name :
         {"and", "or", "not", "len", "index", "slice", "print", "printf", "println", "html", "js",
          "urlquery", "eq", "ne", "lt", "le", "gt", "ge", "call"}) {
      Function f;
      f.name = name;
      if (f.name == "and") f.builtin = Builtin::And;
      if (f.name == "or") f.builtin = Builtin::Or;
      t.add(std::move(f));
    }
    return t;
  }();
  return table;
}

}  // namespace templet
