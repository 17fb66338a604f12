// `templet redash import` (see redash_import_command.hpp).
#include "app/redash_import_command.hpp"

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "hooks/redash.hpp"
#include "hooks/redash_import.hpp"
#include "renderer/diff.hpp"

namespace templet {

int run_redash_import(const RedashImportOptions& o) {
  RedashApplyConfig cfg;
  std::string url = o.url;
  if (url.empty())
    if (const char* u = std::getenv("REDASH_URL")) url = u;
  if (!o.manage_py.empty()) {
    cfg.mode = "manage_py";
    std::istringstream words(o.manage_py);
    for (std::string w; words >> w;) cfg.command.push_back(w);
  } else if (url.empty()) {
    std::cerr << "templet: redash import: no Redash URL: pass --url or set REDASH_URL\n";
    return 2;
  }
  if (!url.empty()) cfg.url = url;
  cfg.api_key_env = o.api_key_env.empty() ? "REDASH_API_KEY" : o.api_key_env;
  if (!o.forwarded_proto.empty()) cfg.forwarded_proto = o.forwarded_proto;
  std::string error;
  auto backend = make_redash_backend(cfg, error);
  if (!error.empty()) {
    std::cerr << "templet: redash import: " << error << "\n";
    return 2;
  }
  try {
    std::cout << redash_import_template(*backend, backend->target()) << std::flush;
  } catch (const RedashError& e) {
    // Backend messages are masked with what it knows; the API key is among those.
    std::cerr << "templet: redash import: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace templet
