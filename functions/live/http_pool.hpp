// A pool of HttpClients so watchers can talk to a server concurrently.
//
// An HttpClient serializes calls on one connection, so a 60 s Consul blocking query would stall
// every other request sharing it. The pool lends each request an idle client (making one when
// none is idle) and takes it back afterwards, which keeps connections alive across requests.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "net/http_client.hpp"

namespace templet::live {

using HttpFactory = std::function<std::unique_ptr<HttpClient>()>;

class HttpPool {
 public:
  explicit HttpPool(HttpFactory factory) : factory_(std::move(factory)) {}
  // Sends on a borrowed client; throws what the client throws.
  HttpResponse send(const HttpRequest& request);

 private:
  HttpFactory factory_;
  std::mutex mu_;
  std::vector<std::unique_ptr<HttpClient>> idle_;
};

}  // namespace templet::live
