#include "net/plain_http_client.hpp"

#include "net/http1_wire.hpp"

#include <poll.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace templet {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const HttpRequest& req, const std::string& reason, bool timed_out = false,
                       bool refused = false) {
  auto err = transport_error(req, reason);
  err.timed_out = timed_out;
  err.refused = refused;
  throw err;
}

// When connecting must be done by: connect_timeout from now, unless the whole exchange's
// deadline comes first. Names the limit a timeout then reports, as libcurl's transport does.
struct ConnectDeadline {
  Clock::time_point at;
  bool connect_limit;  // the connect limit is the one that applies
  ConnectDeadline(const HttpRequest& req, Clock::time_point exchange_deadline) {
    auto by_connect_limit = Clock::now() + req.connect_timeout;
    connect_limit = by_connect_limit < exchange_deadline;
    at = connect_limit ? by_connect_limit : exchange_deadline;
  }
};

[[noreturn]] void fail_connect_timeout(const HttpRequest& req, const ConnectDeadline& deadline) {
  if (deadline.connect_limit)
    fail(req, "connect timed out after " + describe_limit(req.connect_timeout), true);
  fail(req, "timed out after " + describe_limit(req.timeout), true);
}

unsigned short port_of(const HttpRequest& req, const UrlParts& url) {
  auto port = http1::port_of(url);
  if (!port) fail(req, "bad port in the address: " + url.port);
  return *port;
}

// getaddrinfo has no timeout of its own (it waits out resolv.conf's timeouts and attempts), so a
// name is looked up on a thread of its own that is abandoned at the connect deadline, as
// libcurl's threaded resolver does. Addresses written as numbers need no lookup.
std::vector<tcp::endpoint> resolve(const HttpRequest& req, const UrlParts& url,
                                   const ConnectDeadline& deadline) {
  std::string name = url.host;
  if (name.size() > 1 && name.front() == '[') name = name.substr(1, name.size() - 2);
  unsigned short port = port_of(req, url);
  beast::error_code ec;
  auto address = asio::ip::make_address(name, ec);
  if (!ec) return {tcp::endpoint(address, port)};

  struct Lookup {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::vector<tcp::endpoint> found;
    std::string error;
  };
  auto lookup = std::make_shared<Lookup>();
  std::thread([lookup, name, port] {
    asio::io_context io;
    tcp::resolver resolver(io);
    beast::error_code ec;
    auto results = resolver.resolve(name, std::to_string(port), ec);
    std::lock_guard<std::mutex> lock(lookup->mu);
    if (ec) lookup->error = ec.message();
    for (const auto& r : results) lookup->found.push_back(r.endpoint());
    lookup->done = true;
    lookup->cv.notify_all();
  }).detach();
  std::unique_lock<std::mutex> lock(lookup->mu);
  if (!lookup->cv.wait_until(lock, deadline.at, [&] { return lookup->done; }))
    fail_connect_timeout(req, deadline);
  if (lookup->found.empty())
    fail(req,
         "could not resolve host " + name + (lookup->error.empty() ? "" : ": " + lookup->error));
  return lookup->found;
}

// One connection, kept alive between requests. Requests are serialized, as with libcurl's
// handle; HttpPool gives concurrent callers a client each.
class PlainHttpClient : public HttpClient {
 public:
  HttpResponse send(const HttpRequest& req) override {
    std::lock_guard<std::mutex> lock(mu_);
    UrlParts url = split_url(req.url);
    const auto deadline = Clock::now() + req.timeout;
    std::string server = url.host + ":" + std::to_string(port_of(req, url));
    bool reused = server == connected_to_ && idle_connection_usable();
    if (!reused) connect(req, url, server, deadline);

    Exchange ex = exchange(req, url, deadline);
    if (ex.error && reused && !ex.answer_started && ex.error != beast::error::timeout) {
      // The server closed the kept-alive connection while the request went out. Nothing was
      // answered, so send it again on a fresh connection, as libcurl does.
      connect(req, url, server, deadline);
      ex = exchange(req, url, deadline);
    }
    stream_.expires_never();
    if (ex.error) {
      close();
      fail_exchange(req, ex);
    }
    if (!ex.keep_alive) close();
    return std::move(ex.response);
  }

 private:
  struct Exchange {
    beast::error_code error;
    bool answer_started = false;
    bool keep_alive = false;
    HttpResponse response;
  };

  // Runs one asynchronous operation to completion on this client's own io_context: the
  // asynchronous form is what lets tcp_stream's deadline cut a silent server off.
  template <typename Start>
  beast::error_code run(Start start) {
    beast::error_code result = asio::error::would_block;
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    io_.restart();
    io_.run();
    return result;
  }

  // Opens a connection; within the exchange's deadline, since a resend on a fresh connection
  // (send) has only what the first try left.
  void connect(const HttpRequest& req, const UrlParts& url, const std::string& server,
               Clock::time_point exchange_deadline) {
    close();
    ConnectDeadline deadline(req, exchange_deadline);
    auto endpoints = resolve(req, url, deadline);
    stream_.expires_at(deadline.at);
    auto ec = run([&](auto done) { stream_.async_connect(endpoints, std::move(done)); });
    stream_.expires_never();
    if (ec == beast::error::timeout) fail_connect_timeout(req, deadline);
    if (ec) throw http1::connect_failure(req, ec);
    beast::error_code ignored;
    stream_.socket().set_option(tcp::no_delay(true), ignored);  // libcurl's default too
    connected_to_ = server;
  }

  Exchange exchange(const HttpRequest& req, const UrlParts& url, Clock::time_point deadline) {
    Exchange ex;
    auto msg = http1::make_message(req, url);

    stream_.expires_at(deadline);
    ex.error = run([&](auto done) { http::async_write(stream_, msg, std::move(done)); });
    if (ex.error) return ex;
    for (;;) {
      http::response_parser<http::string_body> parser;
      http1::configure(parser, req);
      ex.error =
          run([&](auto done) { http::async_read(stream_, buffer_, parser, std::move(done)); });
      ex.answer_started = ex.answer_started || parser.got_some();
      if (ex.error) return ex;
      auto& res = parser.get();
      int status = res.result_int();
      if (status >= 100 && status < 200 && status != 101) continue;  // interim, e.g. 100 Continue
      ex.keep_alive = res.keep_alive() && !parser.need_eof();
      ex.response = http1::take_response(parser);
      return ex;
    }
  }

  [[noreturn]] void fail_exchange(const HttpRequest& req, const Exchange& ex) {
    throw http1::exchange_failure(req, ex.error, ex.answer_started);
  }

  // A kept-alive connection is reused only while it is quiet: readable while idle means the
  // server closed it (or sent bytes nobody asked for).
  bool idle_connection_usable() {
    if (!stream_.socket().is_open() || buffer_.size() != 0) return false;
    pollfd p{stream_.socket().native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    connected_to_.clear();
    buffer_.clear();
  }

  std::mutex mu_;
  asio::io_context io_{1};
  beast::tcp_stream stream_{io_};
  beast::flat_buffer buffer_;
  std::string connected_to_;  // "host:port" of the open connection
};

}  // namespace

std::unique_ptr<HttpClient> make_plain_http_client() {
  return std::make_unique<PlainHttpClient>();
}

}  // namespace templet
