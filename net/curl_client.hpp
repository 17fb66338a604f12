// The libcurl transport: TLS (https, with the configured CA and verification), proxies from the
// environment, user info in the URL. libcurl itself is loaded on the first request
// (net/curl_library.hpp), so a process that never needs it never maps it.
#pragma once

#include "net/http_client.hpp"

namespace templet {

std::unique_ptr<HttpClient> make_curl_client(TlsOptions tls = {});

}  // namespace templet
