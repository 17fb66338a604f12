// The Redash HTTP API backend: /api/data_sources with a user API key ("Authorization: Key").
//
// Redash behind a proxy answers "connection refused" or 502/503/504 while it starts; calls
// retry those with exponential backoff until ready_timeout has passed since the first attempt
// (creates and updates only "connection refused", 502 and 503: after a timeout or a 504 Redash
// may have applied them). A read that cannot be made stops the plan (RedashUnavailable); a write
// fails only its own entry (RedashError naming the server, status and message). Every request
// has request_timeout. A bad key answers 404 (not 401), reported as "API key rejected".
//
// Redash with REDASH_ENFORCE_HTTPS (flask-talisman) answers plain http with a 302 to https unless
// X-Forwarded-Proto says https, as its proxy sends: forwarded_proto sends that header for a local
// http address. Redirects are never followed (the key would go along); a 3xx stops the plan with
// what to change.
#pragma once

#include <chrono>
#include <memory>

#include "hooks/redash_backend.hpp"
#include "net/http_client.hpp"

namespace templet {

struct RedashApiSettings {
  std::string url;                                // base URL, no trailing slash needed
  std::string api_key;                            // never logged
  std::string api_key_source = "REDASH_API_KEY";  // named in "API key rejected" messages
  std::string forwarded_proto;                    // sent as X-Forwarded-Proto when not empty
  std::chrono::milliseconds ready_timeout{std::chrono::minutes(2)};
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds test_timeout{std::chrono::minutes(2)};
};

std::unique_ptr<RedashBackend> make_redash_api_backend(RedashApiSettings settings,
                                                       std::shared_ptr<HttpClient> http);

}  // namespace templet
