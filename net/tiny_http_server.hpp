// A minimal HTTP/1.0 responder for local scrapes (Prometheus `/metrics`, `/health`): one thread,
// one request per connection, GET and HEAD only, answered and closed. Not a general server: the
// request body is ignored, a request head over 8 KiB or slower than 2 s is dropped.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "net/accept_loop.hpp"

namespace templet {

struct TinyHttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class TinyHttpServer {
 public:
  // `listen` is "HOST:PORT" (port 0: any free port). Throws std::runtime_error naming the
  // address when it cannot listen there.
  TinyHttpServer(const std::string& listen,
                 std::function<TinyHttpResponse(const std::string& path)> handler);
  ~TinyHttpServer();
  TinyHttpServer(const TinyHttpServer&) = delete;
  TinyHttpServer& operator=(const TinyHttpServer&) = delete;
  int port() const { return port_; }  // the port bound

 private:
  void answer(int fd);
  std::function<TinyHttpResponse(const std::string&)> handler_;
  int fd_ = -1;  // owned by loop_ once it runs
  int port_ = 0;
  std::unique_ptr<AcceptLoop> loop_;
};

}  // namespace templet
