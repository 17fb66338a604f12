// AsyncHttpClient (see async_http.hpp).
//
// Everything below Impl runs on the one io thread except start(), cancel() and the destructor,
// which post to it. An Op owns its connection while it runs; a connection kept alive goes back
// to the server's idle list and is checked (not readable) before it is reused, as the
// synchronous client does.
//
// Every byte of an Op and its connection is paid once per blocking query in flight (10,000 of
// them wait at once at scale), so an Op keeps one deadline timer (not the two of Beast's
// tcp_stream), builds its request only to send it, and while the server holds the query it
// waits for the socket to become readable: the parser, the read buffer and the composed read
// operation exist only once the answer starts.
#include "net/async_http.hpp"

#include <poll.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "net/http1_wire.hpp"

namespace templet {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
// Bound to the io_context's own executor, not the type-erased any_io_executor: 32 bytes less
// in each socket and each timer, both of which exist once per query in flight.
using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Timer = asio::basic_waitable_timer<SteadyClock, asio::wait_traits<SteadyClock>, Executor>;

struct Conn {
  explicit Conn(asio::io_context& io) : socket(io.get_executor()) {}
  Socket socket;
  beast::flat_buffer buffer;
  bool counted = false;  // in Impl::open

  bool usable() {
    if (!socket.is_open() || buffer.size() != 0) return false;
    pollfd p{socket.native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }
};

}  // namespace

struct AsyncHttpClient::Impl : std::enable_shared_from_this<AsyncHttpClient::Impl> {
  struct Op {
    explicit Op(asio::io_context& io) : timer(io.get_executor()) {}
    std::uint64_t id = 0;
    HttpRequest req;
    UrlParts url;
    std::string server;  // "host:port"
    Done done;
    std::unique_ptr<Conn> conn;
    bool reused = false;
    bool answer_started = false;
    bool finished = false;
    SteadyClock::time_point deadline;
    SteadyClock::time_point connect_deadline;
    bool connect_limit = false;  // the connect limit, not the exchange's, bounds connecting
    // The one deadline (connect's, then the exchange's): when it passes, the socket is closed,
    // which ends whatever waits on it; `timed_out` tells its handler why.
    Timer timer;
    std::uint64_t armed = 0;  // which arming a timer callback belongs to
    bool timed_out = false;
    std::unique_ptr<http::request<http::string_body>> msg;
    std::unique_ptr<http::response_parser<http::string_body>> parser;
    // Only while a name is looked up: most addresses are numbers, and every byte of an Op is
    // paid once per blocking query in flight.
    struct Lookup {
      explicit Lookup(asio::io_context& io) : resolver(io), timer(io) {}
      tcp::resolver resolver;
      asio::steady_timer timer;
    };
    std::unique_ptr<Lookup> lookup;
  };
  using OpPtr = std::shared_ptr<Op>;

  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  std::once_flag started;
  std::thread thread;
  std::atomic<std::uint64_t> next_id{0};
  std::size_t idle_per_server = 32;
  std::map<std::uint64_t, OpPtr> ops;
  std::map<std::string, std::deque<std::unique_ptr<Conn>>> idle;
  std::atomic<std::size_t> open{0};

  std::unique_ptr<Conn> take_idle(const std::string& server) {
    auto it = idle.find(server);
    if (it == idle.end()) return nullptr;
    while (!it->second.empty()) {
      auto c = std::move(it->second.back());
      it->second.pop_back();
      if (c->usable()) return c;
      close(*c);
    }
    return nullptr;
  }

  void close(Conn& c) {
    beast::error_code ignored;
    c.socket.close(ignored);
    if (c.counted) --open;
    c.counted = false;
  }

  void finish(const OpPtr& op, HttpResponse* answer, HttpTransportError* failure) {
    if (op->finished) return;
    op->finished = true;
    op->timer.cancel();
    ops.erase(op->id);
    Done done = std::move(op->done);
    try {
      done(answer, failure);
    } catch (...) {
      // a callback's failure is its own; the loop goes on
    }
  }

  void arm(const OpPtr& op, SteadyClock::time_point at) {
    std::uint64_t arming = ++op->armed;
    op->timed_out = false;
    op->timer.expires_at(at);
    op->timer.async_wait([op, arming](beast::error_code ec) {
      if (ec || op->finished || arming != op->armed) return;
      op->timed_out = true;
      beast::error_code ignored;
      if (op->conn) op->conn->socket.close(ignored);
    });
  }

  // What a handler saw, as Beast's tcp_stream would have reported it: the deadline closing the
  // socket is a timeout, not an abort.
  static beast::error_code seen(const OpPtr& op, beast::error_code ec) {
    return op->timed_out ? beast::error_code(beast::error::timeout) : ec;
  }

  void fail(const OpPtr& op, HttpTransportError err) {
    if (op->conn) close(*op->conn);
    finish(op, nullptr, &err);
  }

  void begin(const OpPtr& op) {
    op->url = split_url(op->req.url);
    auto port = http1::port_of(op->url);
    if (!port)
      return fail(op, transport_error(op->req, "bad port in the address: " + op->url.port));
    op->server = op->url.host + ":" + std::to_string(*port);
    op->deadline = SteadyClock::now() + op->req.timeout;
    op->conn = take_idle(op->server);
    op->reused = op->conn != nullptr;
    if (op->reused) return write(op);
    connect(op);
  }

  void connect_timed_out(const OpPtr& op) {
    auto err = op->connect_limit
                   ? transport_error(op->req, "connect timed out after " +
                                                  describe_limit(op->req.connect_timeout))
                   : transport_error(op->req, "timed out after " + describe_limit(op->req.timeout));
    err.timed_out = true;
    fail(op, std::move(err));
  }

  void connect(const OpPtr& op) {
    if (op->conn) close(*op->conn);
    op->conn = std::make_unique<Conn>(io);
    auto by_connect = SteadyClock::now() + op->req.connect_timeout;
    op->connect_limit = by_connect < op->deadline;
    op->connect_deadline = op->connect_limit ? by_connect : op->deadline;
    std::string name = op->url.host;
    if (name.size() > 1 && name.front() == '[') name = name.substr(1, name.size() - 2);
    unsigned short port = *http1::port_of(op->url);
    beast::error_code ec;
    auto address = asio::ip::make_address(name, ec);
    if (!ec) return connect_to(op, {tcp::endpoint(address, port)});
    // A name: looked up off the loop (Asio's resolver thread), bounded by the connect deadline.
    op->lookup = std::make_unique<Op::Lookup>(io);
    op->lookup->timer.expires_at(op->connect_deadline);
    op->lookup->timer.async_wait([this, op](beast::error_code ec) {
      if (ec || op->finished) return;
      op->lookup->resolver.cancel();
      connect_timed_out(op);
    });
    op->lookup->resolver.async_resolve(
        name, std::to_string(port),
        [this, op, name](beast::error_code ec, tcp::resolver::results_type results) {
          op->lookup->timer.cancel();
          if (op->finished) return;
          std::vector<tcp::endpoint> found;
          for (const auto& r : results) found.push_back(r.endpoint());
          if (ec || found.empty())
            return fail(op, transport_error(op->req, "could not resolve host " + name +
                                                         (ec ? ": " + ec.message() : "")));
          connect_to(op, std::move(found));
        });
  }

  void connect_to(const OpPtr& op, std::vector<tcp::endpoint> endpoints) {
    // Opened here, not by async_connect: out of descriptors (EMFILE, ENFILE), Beast's connect
    // reports "Operation canceled" instead of the cause.
    beast::error_code opened;
    op->conn->socket.open(endpoints.front().protocol(), opened);
    if (opened) return fail(op, http1::connect_failure(op->req, opened));
    arm(op, op->connect_deadline);
    if (endpoints.size() == 1)
      return op->conn->socket.async_connect(
          endpoints.front(), [this, op](beast::error_code ec) { connected(op, ec); });
    asio::async_connect(
        op->conn->socket, endpoints,
        [this, op](beast::error_code ec, const tcp::endpoint&) { connected(op, ec); });
  }

  void connected(const OpPtr& op, beast::error_code ec) {
    if (op->finished) return;
    ec = seen(op, ec);
    if (ec == beast::error::timeout) return connect_timed_out(op);
    if (ec) return fail(op, http1::connect_failure(op->req, ec));
    ++open;
    op->conn->counted = true;
    beast::error_code ignored;
    op->conn->socket.set_option(tcp::no_delay(true), ignored);
    write(op);
  }

  // A kept-alive connection the server closed meanwhile: nothing was answered, so the request
  // goes again on a fresh connection, once.
  bool resend(const OpPtr& op, const beast::error_code& ec) {
    if (!op->reused || op->answer_started || ec == beast::error::timeout) return false;
    op->reused = false;
    connect(op);
    return true;
  }

  void write(const OpPtr& op) {
    arm(op, op->deadline);
    // Built for each write and dropped once sent: a blocking query waits a minute with its
    // message no longer needed (a resend builds it again).
    op->msg =
        std::make_unique<http::request<http::string_body>>(http1::make_message(op->req, op->url));
    http::async_write(op->conn->socket, *op->msg, [this, op](beast::error_code ec, std::size_t) {
      op->msg.reset();
      if (op->finished) return;
      ec = seen(op, ec);
      if (ec) {
        if (resend(op, ec)) return;
        return fail(op, http1::exchange_failure(op->req, ec, op->answer_started));
      }
      read(op);
    });
  }

  // Until the answer starts, only the socket's readiness is waited for (see the top).
  void read(const OpPtr& op) {
    if (op->conn->buffer.size() != 0) return parse(op);
    op->conn->buffer.shrink_to_fit();
    op->conn->socket.async_wait(Socket::wait_read, [this, op](beast::error_code ec) {
      if (op->finished) return;
      ec = seen(op, ec);
      if (ec) {
        if (resend(op, ec)) return;
        return fail(op, http1::exchange_failure(op->req, ec, op->answer_started));
      }
      parse(op);
    });
  }

  void parse(const OpPtr& op) {
    op->parser = std::make_unique<http::response_parser<http::string_body>>();
    http1::configure(*op->parser, op->req);
    http::async_read(op->conn->socket, op->conn->buffer, *op->parser,
                     [this, op](beast::error_code ec, std::size_t) {
                       if (op->finished) return;
                       ec = seen(op, ec);
                       op->answer_started = op->answer_started || op->parser->got_some();
                       if (ec) {
                         if (resend(op, ec)) return;
                         return fail(op, http1::exchange_failure(op->req, ec, op->answer_started));
                       }
                       int status = op->parser->get().result_int();
                       if (status >= 100 && status < 200 && status != 101)
                         return read(op);  // interim
                       bool keep = op->parser->get().keep_alive() && !op->parser->need_eof();
                       HttpResponse answer = http1::take_response(*op->parser);
                       op->parser.reset();
                       op->timer.cancel();
                       auto& list = idle[op->server];
                       if (keep && list.size() < idle_per_server)
                         list.push_back(std::move(op->conn));
                       else
                         close(*op->conn);
                       finish(op, &answer, nullptr);
                     });
  }

  void cancel(std::uint64_t id) {
    auto it = ops.find(id);
    if (it == ops.end()) return;
    OpPtr op = it->second;
    op->finished = true;
    op->timer.cancel();
    ops.erase(it);
    if (op->conn) close(*op->conn);
    if (op->lookup) {
      op->lookup->resolver.cancel();
      op->lookup->timer.cancel();
    }
  }

  void shutdown() {
    for (auto& [id, op] : ops) {
      op->finished = true;
      op->timer.cancel();
      if (op->conn) close(*op->conn);
      if (op->lookup) {
        op->lookup->resolver.cancel();
        op->lookup->timer.cancel();
      }
    }
    ops.clear();
    for (auto& [server, list] : idle)
      for (auto& c : list) close(*c);
    idle.clear();
  }
};

AsyncHttpClient::AsyncHttpClient(std::size_t idle_per_server) : impl_(std::make_shared<Impl>()) {
  impl_->idle_per_server = idle_per_server;
}

AsyncHttpClient::~AsyncHttpClient() {
  auto impl = impl_;
  if (!impl->thread.joinable()) return;
  asio::post(impl->io, [impl] {
    impl->shutdown();
    impl->guard.reset();
  });
  if (impl->thread.get_id() == std::this_thread::get_id()) {
    impl->thread.detach();  // the last owner let go inside a callback: the loop ends on its own
  } else {
    impl->thread.join();
  }
}

std::uint64_t AsyncHttpClient::start(HttpRequest request, Done done) {
  std::call_once(impl_->started,
                 [impl = impl_] { impl->thread = std::thread([impl] { impl->io.run(); }); });
  auto op = std::make_shared<Impl::Op>(impl_->io);
  op->id = ++impl_->next_id;
  op->req = std::move(request);
  op->done = std::move(done);
  Impl* impl = impl_.get();
  asio::post(impl_->io, [impl, op] {
    impl->ops[op->id] = op;
    impl->begin(op);
  });
  return op->id;
}

void AsyncHttpClient::cancel(std::uint64_t id) {
  Impl* impl = impl_.get();
  asio::post(impl_->io, [impl, id] { impl->cancel(id); });
}

void AsyncHttpClient::drain() {
  if (!impl_->thread.joinable() || impl_->thread.get_id() == std::this_thread::get_id()) return;
  std::promise<void> done;
  auto ran = done.get_future();
  asio::post(impl_->io, [&done] { done.set_value(); });
  ran.wait();
}

std::size_t AsyncHttpClient::connections() const {
  return impl_->open;
}

}  // namespace templet
