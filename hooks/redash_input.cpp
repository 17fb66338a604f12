// Parsing of the rendered datasources file (see redash_input.hpp).
#include "hooks/redash_input.hpp"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <set>

#include "functions/yaml_scalar.hpp"

namespace templet {

namespace {

using json = nlohmann::json;

[[noreturn]] void fail(const std::string& file, const YAML::Node& at, const std::string& msg) {
  const int line = at.Mark().line < 0 ? 0 : at.Mark().line;  // the root node says -1
  throw RedashInputError(file + ":" + std::to_string(line + 1) + ": " + msg);
}

// YAML types are kept (`port: 5432` is a number); .inf and .nan have no JSON form and stay text.
json scalar(const YAML::Node& n) {
  YamlScalar r = resolve_yaml_scalar(n);
  switch (r.kind) {
    case YamlScalar::Kind::Null:
      return nullptr;
    case YamlScalar::Kind::Bool:
      return r.boolean;
    case YamlScalar::Kind::Int:
      return r.integer;
    case YamlScalar::Kind::Float:
      if (std::isfinite(r.floating)) return r.floating;
      break;
    case YamlScalar::Kind::String:
      break;
  }
  return n.Scalar();
}

json to_json(const YAML::Node& n, const std::string& file, const std::string& where) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return scalar(n);
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& x : n) out.push_back(to_json(x, file, where));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : n) {
        if (!kv.first.IsScalar()) fail(file, kv.first, where + ": option names must be strings");
        const std::string key = kv.first.Scalar();
        if (out.contains(key)) fail(file, kv.first, where + ": option \"" + key + "\" repeated");
        out[key] = to_json(kv.second, file, where);
      }
      return out;
    }
  }
  return nullptr;
}

std::string required_string(const YAML::Node& entry, const char* key, const std::string& file,
                            const std::string& where) {
  const YAML::Node v = entry[key];
  if (!v || v.IsNull()) fail(file, entry, where + ": missing \"" + key + "\"");
  if (!v.IsScalar()) fail(file, v, where + ": \"" + key + "\" must be a string");
  if (v.Scalar().empty()) fail(file, v, where + ": \"" + key + "\" is empty");
  return v.Scalar();
}

}  // namespace

std::vector<RedashEntry> parse_redash_file(const std::string& text, const std::string& file,
                                           const std::string& list_key) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw RedashInputError(file + ":" + std::to_string(e.mark.line + 1) +
                           ": invalid YAML: " + e.msg);
  }
  YAML::Node list = root;
  if (root.IsMap()) {
    list = root[list_key];
    if (!list) fail(file, root, "no \"" + list_key + "\" list");
    if (list.IsNull()) return {};
  } else if (root.IsNull()) {
    throw RedashInputError(file + ":1: empty file: expected a list of datasources or a \"" +
                           list_key + "\" key");
  }
  if (!list.IsSequence())
    fail(file, list, "expected a list of datasources (each with name, type and options)");

  std::vector<RedashEntry> out;
  std::set<std::string> names;
  size_t index = 0;
  for (const auto& node : list) {
    ++index;
    std::string where = "entry " + std::to_string(index);
    if (!node.IsMap()) fail(file, node, where + ": expected a map with name, type and options");
    for (const auto& kv : node) {
      const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "";
      if (k != "name" && k != "type" && k != "options" && k != "groups")
        fail(file, kv.first,
             where + ": unknown key \"" + k + "\" (expected name, type, options, groups)");
    }
    RedashEntry e;
    e.line = static_cast<int>(node.Mark().line) + 1;
    e.name = required_string(node, "name", file, where);
    where += " (\"" + e.name + "\")";
    e.type = required_string(node, "type", file, where);
    const YAML::Node opts = node["options"];
    if (opts && !opts.IsNull()) {
      if (!opts.IsMap()) fail(file, opts, where + ": \"options\" must be a map");
      json o = to_json(opts, file, where);
      for (auto it = o.begin(); it != o.end(); ++it)
        if (!it.value().is_null()) e.options[it.key()] = it.value();
    }
    if (const YAML::Node g = node["groups"]; g && !g.IsNull()) {
      if (!g.IsMap()) fail(file, g, where + ": \"groups\" must be a map of group name to settings");
      for (const auto& kv : g) {
        const std::string group = kv.first.IsScalar() ? kv.first.Scalar() : "";
        if (group.empty()) fail(file, kv.first, where + ": a group name must be a string");
        bool view_only = false;
        if (kv.second && !kv.second.IsNull()) {
          if (!kv.second.IsMap())
            fail(file, kv.second, where + ": group \"" + group + "\" must be a map");
          for (const auto& s : kv.second) {
            const std::string sk = s.first.IsScalar() ? s.first.Scalar() : "";
            if (sk != "view_only")
              fail(file, s.first,
                   where + ": group \"" + group + "\": unknown key \"" + sk +
                       "\" (expected view_only)");
            json v = scalar(s.second);
            if (!v.is_boolean())
              fail(file, s.second,
                   where + ": group \"" + group + "\": view_only must be true or false");
            view_only = v.get<bool>();
          }
        }
        e.groups[group] = view_only;
      }
    }
    if (!names.insert(e.name).second)
      fail(file, node, where + ": the name appears twice in this file");
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace templet
