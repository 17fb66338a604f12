// What the two Beast transports (net/plain_http_client.cpp, synchronous, and net/async_http.cpp,
// one event loop for many requests) share: the HTTP/1.1 message sent for an HttpRequest, the
// HttpResponse taken from a parsed answer, and the wording of a failed exchange, so that both
// report failures exactly as HttpTransportError documents.
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "net/http_client.hpp"

namespace templet::http1 {

namespace beast = boost::beast;
namespace http = beast::http;

// The port of `url` (80 when it has none); nullopt when it is not a port number.
std::optional<unsigned short> port_of(const UrlParts& url);

// The message for `req` to `url` (Host and Accept added when the caller did not set them).
http::request<http::string_body> make_message(const HttpRequest& req, const UrlParts& url);

// A parser set up as libcurl behaves: no body limit, 1 MiB of headers.
void configure(http::response_parser<http::string_body>& parser, const HttpRequest& req);

// The answer with header names lower-cased; the body is moved out of the parser.
HttpResponse take_response(http::response_parser<http::string_body>& parser);

// The transport error for an exchange that failed with `ec` (write or read), after an answer
// had started or not.
HttpTransportError exchange_failure(const HttpRequest& req, const beast::error_code& ec,
                                    bool answer_started);

// The transport error for a failed connect (not a timeout).
HttpTransportError connect_failure(const HttpRequest& req, const beast::error_code& ec);

}  // namespace templet::http1
