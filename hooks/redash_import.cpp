// The Redash importer (see redash_import.hpp).
#include "hooks/redash_import.hpp"

#include <set>

#include "hooks/redash_schema.hpp"

namespace templet {

namespace {

using json = nlohmann::json;

// A JSON scalar or collection is also YAML (flow style), and keeps its type on the way back.
// Text that holds a template delimiter goes through a Go raw string instead.
std::string literal(const json& v) {
  std::string text = v.dump();
  if (text.find("{{") == std::string::npos && text.find("}}") == std::string::npos) return text;
  if (text.find('`') != std::string::npos)
    throw RedashError(
        "an option holds both a template delimiter and a backquote: write it by "
        "hand");
  return "{{ `" + text + "` }}";
}

}  // namespace

std::string redash_import_template(RedashBackend& backend, const std::string& source) {
  std::vector<RemoteDatasource> remote = backend.list();
  std::optional<json> schemas = backend.schemas();
  std::string out =
      "{{- /* Imported from " + source +
      " by templet redash import. Review it, then replace each CHANGE-ME path with the Vault "
      "path holding that secret. */ -}}\n"
      "managed_datasources:\n";
  if (remote.empty()) out = out.substr(0, out.size() - 1) + " []\n";
  for (const auto& ds : remote) {
    json options = backend.options(ds);
    if (!options.is_object()) options = json::object();
    static const json none;
    const json& schema = schemas && schemas->contains(ds.type) ? (*schemas)[ds.type] : none;
    std::set<std::string> secret = redash_secret_keys(ds.type, schema, options);
    out += "  - name: " + literal(ds.name) + "\n    type: " + literal(ds.type) + "\n";
    if (options.empty()) {
      out += "    options: {}\n";
      continue;
    }
    out += "    options:\n";
    for (auto it = options.begin(); it != options.end(); ++it) {
      const bool is_secret = secret.count(it.key()) || it.value() == kRedashSecretPlaceholder;
      if (!is_secret) {
        out += "      " + literal(it.key()) + ": " + literal(it.value()) + "\n";
        continue;
      }
      out += "      # " + literal(it.key()) +
             " is secret: point CHANGE-ME at its Vault path, and .Data at the field\n";
      // Inside an action a JSON string is a Go string literal.
      out += "      " + literal(it.key()) + ": {{ with secret " +
             json("CHANGE-ME/creds/" + ds.name).dump() + " }}{{ index .Data " +
             json(it.key()).dump() + " | toJSON }}{{ end }}\n";
    }
  }
  return out;
}

}  // namespace templet
