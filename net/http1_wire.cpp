// The HTTP/1.1 plumbing both Beast transports share (see http1_wire.hpp).
#include "net/http1_wire.hpp"

#include <boost/asio/error.hpp>
#include <cctype>
#include <charconv>
#include <limits>

namespace templet::http1 {

namespace asio = boost::asio;

std::optional<unsigned short> port_of(const UrlParts& url) {
  if (url.port.empty()) return 80;
  unsigned value = 0;
  const char* end = url.port.data() + url.port.size();
  auto [ptr, ec] = std::from_chars(url.port.data(), end, value);
  if (ec != std::errc() || ptr != end || value == 0 || value > 65535) return std::nullopt;
  return static_cast<unsigned short>(value);
}

http::request<http::string_body> make_message(const HttpRequest& req, const UrlParts& url) {
  http::request<http::string_body> msg;
  msg.version(11);
  auto verb = http::string_to_verb(req.method);
  if (verb == http::verb::unknown)
    msg.method_string(req.method);
  else
    msg.method(verb);
  msg.target(url.target);
  for (const auto& [name, value] : req.headers) msg.insert(name, value);
  if (msg.find(http::field::host) == msg.end())
    msg.set(http::field::host, url.port.empty() ? url.host : url.host + ":" + url.port);
  if (msg.find(http::field::accept) == msg.end()) msg.set(http::field::accept, "*/*");
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
    msg.body() = req.body;
    msg.prepare_payload();
  }
  return msg;
}

void configure(http::response_parser<http::string_body>& parser, const HttpRequest& req) {
  // libcurl has no body limit, and a Consul tree can be large. Not boost::none: Boost 1.74
  // compares a Content-Length with an empty limit as exceeding it whenever the head and the
  // body arrive in separate reads.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  parser.header_limit(1024 * 1024);
  if (req.method == "HEAD") parser.skip(true);
}

HttpResponse take_response(http::response_parser<http::string_body>& parser) {
  HttpResponse out;
  auto& res = parser.get();
  out.status = res.result_int();
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(field.value());
  }
  out.body = std::move(res.body());
  return out;
}

HttpTransportError exchange_failure(const HttpRequest& req, const beast::error_code& ec,
                                    bool answer_started) {
  if (ec == beast::error::timeout) {
    auto err = transport_error(req, "timed out after " + describe_limit(req.timeout));
    err.timed_out = true;
    return err;
  }
  if (ec == asio::error::connection_reset) return transport_error(req, "connection reset");
  bool closed = ec == http::error::end_of_stream || ec == http::error::partial_message ||
                ec == asio::error::eof || ec == asio::error::broken_pipe;
  if (closed && !answer_started) return transport_error(req, "connection closed without an answer");
  if (closed) return transport_error(req, "connection closed in the middle of the answer");
  if (ec.category() == http::make_error_code(http::error::bad_version).category())
    return transport_error(req, "not an HTTP answer: " + ec.message());
  return transport_error(req, ec.message());
}

HttpTransportError connect_failure(const HttpRequest& req, const beast::error_code& ec) {
  auto err = transport_error(
      req, ec == asio::error::connection_refused ? "connection refused" : ec.message());
  err.refused = true;
  return err;
}

}  // namespace templet::http1
