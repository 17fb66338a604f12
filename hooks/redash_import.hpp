// `templet redash import`: the datasources a Redash has today, written as a datasources
// template to review, so that moving an install over is one command instead of copying each
// datasource by hand.
//
// Names and types are exact (names are matched byte for byte), non-secret options are written
// as Redash holds them, and every secret option becomes a Vault placeholder with a comment
// naming the field: `{{ with secret "CHANGE-ME/creds/NAME" }}{{ .Data.FIELD | toJSON }}{{ end }}`.
// No secret value is ever written, even through manage.py, which sees them.
#pragma once

#include <string>

#include "hooks/redash_backend.hpp"

namespace templet {

// The template text; `source` names the Redash in its first comment. Throws RedashError.
std::string redash_import_template(RedashBackend& backend, const std::string& source);

}  // namespace templet
