#include "renderer/function.hpp"

namespace templet {

namespace types {
const Type reflect_value = [] {
  Type t;
  t.kind = Kind::Struct;
  t.name = "reflect.Value";
  return t;
}();
}  // namespace types

void FunctionTable::add(Function f) {
  std::string name = f.name;
  funcs_.insert_or_assign(std::move(name), std::move(f));
}

const Function* FunctionTable::find(std::string_view name) const {
  auto it = funcs_.find(name);
  return it == funcs_.end() ? nullptr : &it->second;
}

namespace {
// Shell-style glob with * and ?, as consul-template's denylist matches names.
bool glob_match(std::string_view pat, std::string_view s) {
  size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pat.size() && (pat[p] == '?' || pat[p] == s[i])) {
      ++p;
      ++i;
    } else if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}
}  // namespace

void FunctionTable::deny(std::string_view glob) {
  for (auto& [name, f] : funcs_)
    if (glob_match(glob, name)) f.disabled = true;
}

std::vector<std::string> FunctionTable::names() const {
  std::vector<std::string> out;
  for (const auto& [name, f] : funcs_) out.push_back(name);
  return out;
}

}  // namespace templet
