// `templet redash import --url URL [--api-key-env VAR] [--forwarded-proto https]
// [--manage-py COMMAND]`: prints a datasources template for what a Redash has today
// (hooks/redash_import.hpp) on stdout. Exit 0 on success, 1 when Redash cannot be read, 2 for
// usage errors. Nothing from Redash is logged.
#pragma once

#include <string>

namespace templet {

struct RedashImportOptions {
  std::string url;              // else REDASH_URL; with --manage-py only a label
  std::string api_key_env;      // default REDASH_API_KEY
  std::string forwarded_proto;  // sent as X-Forwarded-Proto
  std::string manage_py;        // a command line, split on spaces, ending in manage.py
};

int run_redash_import(const RedashImportOptions& options);

}  // namespace templet
