// Redash datasource type schemas: which options are secret, and whether options satisfy a
// type's configuration_schema (GET /api/data_sources/types).
//
// Redash validates with jsonschema and answers a bare, generic 400 on failure; validating here
// first lets a plan say which key is missing or has the wrong type. Secret keys come from the
// schema's `secret` list, plus a built-in list for the common runners (used when no schema is
// available, as with manage.py) and any key whose name looks like a password, token or key.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace templet {

// Redash's mask for stored secrets ("--------").
inline constexpr const char* kRedashSecretPlaceholder = "--------";

// Does the option name look secret (password, passwd, secret, token, *key*...)?
bool looks_secret(const std::string& key);

// The secret keys for `type`: the schema's `secret` list (if `schema` is an object), the
// built-in list for well-known runners, and every key of `options` that looks secret.
std::set<std::string> redash_secret_keys(const std::string& type, const nlohmann::json& schema,
                                         const nlohmann::json& options);

// "" when `options` satisfy `schema` (required keys, property types, enums); otherwise one
// message naming each problem. Values of secret keys are never quoted.
std::string validate_redash_options(const nlohmann::json& options, const nlohmann::json& schema,
                                    const std::set<std::string>& secret_keys);

// Every secret value in `options` worth masking in output: the string forms of the secret keys'
// values and passwords embedded in URLs (scheme://user:password@host).
std::vector<std::string> redash_secret_values(const nlohmann::json& options,
                                              const std::set<std::string>& secret_keys);

}  // namespace templet
