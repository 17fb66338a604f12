// The rendered Redash datasources file: a YAML list of {name, type, options}, either at the top
// level or under a key (managed_datasources by default).
//
// YAML types are kept as Redash's JSON schemas need them: `port: 5432` is a number, `"5432"` a
// string, `true` a boolean, and a null option is dropped (Redash strips nulls before storing).
// An entry may also give `groups: {"Data Team": {view_only: true}}`: the Redash groups the
// datasource belongs to (view_only defaults to false, full access).
// A malformed file or entry throws RedashInputError naming FILE:LINE and the entry; the caller
// then applies nothing.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace templet {

struct RedashInputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct RedashEntry {
  std::string name;
  std::string type;
  nlohmann::json options = nlohmann::json::object();
  std::map<std::string, bool> groups;  // group name -> view_only
  int line = 0;                        // 1-based line of the entry in the rendered file
};

// Parses the rendered file; `file` names it in errors. Names must be unique within the file.
std::vector<RedashEntry> parse_redash_file(const std::string& text, const std::string& file,
                                           const std::string& list_key = "managed_datasources");

}  // namespace templet
