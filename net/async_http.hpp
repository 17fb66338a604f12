// Many plain-HTTP requests at once on one thread: the transport of Consul's blocking queries.
//
// A blocking query waits up to a minute for news, so giving each one a thread (and, with the
// synchronous client, an epoll, an eventfd and a timerfd) costs a thread and four descriptors
// per watched key. Here every request runs on one Boost.Asio event loop: a request in flight
// costs its socket and a few hundred bytes. Connections are kept alive per server and reused
// (a few idle ones are kept, the rest closed), with the same connect and whole-exchange limits,
// resend-once rule and failure wording as net/plain_http_client.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "net/http_client.hpp"

namespace templet {

class AsyncHttpClient {
 public:
  // Exactly one of the two is set. Runs on the client's thread: it must not block.
  using Done = std::function<void(HttpResponse* answer, HttpTransportError* failure)>;

  // `idle_per_server`: kept-alive connections held while no request uses them.
  explicit AsyncHttpClient(std::size_t idle_per_server = 32);
  ~AsyncHttpClient();  // ends every request in flight (their `done` is not called)
  AsyncHttpClient(const AsyncHttpClient&) = delete;
  AsyncHttpClient& operator=(const AsyncHttpClient&) = delete;

  // Starts `request` (an URL plain_http_suffices accepts); any thread. The thread is started on
  // first use. Returns an id for cancel().
  std::uint64_t start(HttpRequest request, Done done);
  // Ends a request at once, closing its connection; its `done` is not called. Any thread.
  void cancel(std::uint64_t id);
  // Returns once the loop has run everything posted before (a cancel() included), so no `done`
  // of a request cancelled before is running or will run. Not on the loop's own thread.
  void drain();

  // Open connections (in use or idle), for tests.
  std::size_t connections() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace templet
