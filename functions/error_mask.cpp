#include "functions/error_mask.hpp"

#include <vector>

#include "functions/helpers_internal.hpp"
#include "renderer/diff.hpp"

namespace templet {

namespace {

// The inside of a quoted form: what stands between the quotes.
std::string inner(const std::string& quoted) {
  return quoted.size() >= 2 ? quoted.substr(1, quoted.size() - 2) : quoted;
}

}  // namespace

std::string mask_error_text(std::string_view text, const std::set<std::string>& secrets) {
  if (secrets.empty()) return std::string(text);
  std::vector<std::string> forms;
  forms.reserve(secrets.size() * 3);
  for (const std::string& s : secrets) {
    if (s.empty()) continue;
    forms.push_back(s);
    forms.push_back(inner(helpers::go_quote(s)));
    for (bool html : {true, false}) {
      try {
        forms.push_back(inner(helpers::to_json(Value::string(s), html, false)));
      } catch (const FuncError&) {
        // Not encodable: no JSON error can quote it either.
      }
    }
  }
  return mask_secrets(text, forms);
}

void collect_strings(const Value& v, std::set<std::string>& out) {
  switch (v.kind()) {
    case Kind::String:
      if (v.tainted() && !v.as_string().empty()) out.insert(v.as_string());
      return;
    case Kind::List:
      if (!v.is_nil())
        for (const Value& x : v.as_list()) collect_strings(x, out);
      return;
    case Kind::Map:
      if (!v.is_nil())
        for (const auto& [k, x] : v.as_map()) collect_strings(x, out);
      return;
    case Kind::Struct:
      if (!v.is_nil())
        for (const Value& x : v.as_fields()) collect_strings(x, out);
      return;
    default:
      return;
  }
}

}  // namespace templet
