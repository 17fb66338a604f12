// The plain-HTTP transport: HTTP/1.1 over TCP with Boost.Beast, no TLS, no proxy.
//
// It exists so that a daemon talking to local agents over http:// does not load libcurl and the
// TLS, Kerberos and LDAP libraries Debian links it with (bench/README.md, idle memory). It keeps
// libcurl's observable behaviour where templet relies on it: connections kept alive and reused
// (a request on a connection the server closed meanwhile is sent again on a fresh one, when no
// answer had started), connect and whole-exchange limits, no redirects followed, failures worded
// as HttpTransportError documents.
#pragma once

#include "net/http_client.hpp"

namespace templet {

std::unique_ptr<HttpClient> make_plain_http_client();

}  // namespace templet
