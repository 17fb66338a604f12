// A pool of HttpClients so watchers can talk to a server concurrently.
//
// An HttpClient serializes calls on one connection, so a 60 s Consul blocking query would stall
// every other request sharing it. The pool lends each request an idle client (making one when
// none is idle) and takes it back afterwards, which keeps connections alive across requests.
// A pool may also have an event-loop transport (net/async_http.hpp) for requests that wait long
// (Consul's blocking queries), so those need no thread each.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "net/async_http.hpp"
#include "net/http_client.hpp"

namespace templet::live {

using HttpFactory = std::function<std::unique_ptr<HttpClient>()>;

class HttpPool {
 public:
  explicit HttpPool(HttpFactory factory, std::shared_ptr<AsyncHttpClient> async = nullptr)
      : factory_(std::move(factory)), async_(std::move(async)) {}
  // Sends on a borrowed client; throws what the client throws.
  HttpResponse send(const HttpRequest& request);

  // Whether start() can carry `request`: the pool has an event-loop transport and the URL is
  // one the built-in plain-HTTP transport carries (plain_http_suffices).
  bool can_start(const HttpRequest& request) const;
  // Starts `request` on the event loop; `done` runs there. Returns an id for cancel().
  std::uint64_t start(HttpRequest request, AsyncHttpClient::Done done);
  void cancel(std::uint64_t id);
  void drain();  // AsyncHttpClient::drain

 private:
  HttpFactory factory_;
  std::shared_ptr<AsyncHttpClient> async_;
  std::mutex mu_;
  std::vector<std::unique_ptr<HttpClient>> idle_;
};

}  // namespace templet::live
