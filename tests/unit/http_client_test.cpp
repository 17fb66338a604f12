// The HTTP client's transport failures: each is named the way an operator searches logs for it
// (against local sockets: refused, silent, hung up), and requests are described without the
// parts that can carry credentials.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "net/http_client.hpp"

using namespace templet;
using namespace std::chrono_literals;

namespace {

// A listening socket on 127.0.0.1 and a random port; closed on destruction.
struct Listener {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int port = 0;
  Listener() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd, 8);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~Listener() { ::close(fd); }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
};

HttpTransportError failure(const std::string& url, std::chrono::milliseconds timeout = 5000ms) {
  HttpRequest req;
  req.url = url;
  req.timeout = timeout;
  try {
    make_curl_client()->send(req);
  } catch (const HttpTransportError& e) {
    return e;
  }
  FAIL("an answer came back");
  return HttpTransportError("");
}

}  // namespace

TEST_CASE("a refused connection says so", "[net]") {
  std::string url;
  {
    Listener gone;  // bound and closed: nothing listens there now
    url = gone.url("/v1/kv/x?token=abc");
  }
  auto e = failure(url);
  CHECK(e.reason == "connection refused");
  CHECK(std::string(e.what()) == "GET /v1/kv/x: connection refused");
  CHECK(e.refused);
  CHECK_FALSE(e.timed_out);
}

TEST_CASE("a server that never answers times out after the request's limit", "[net]") {
  Listener silent;  // the kernel accepts the connection; nobody ever reads or writes
  auto started = std::chrono::steady_clock::now();
  auto e = failure(silent.url("/slow"), 300ms);
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  CHECK(e.reason == "timed out after 300ms");
  CHECK(e.timed_out);
  CHECK(failure(silent.url("/slow"), 1000ms).reason == "timed out after 1s");
}

TEST_CASE("a server that hangs up without answering is named", "[net]") {
  Listener rude;
  std::thread server([&] {
    int c = ::accept(rude.fd, nullptr, nullptr);
    char buf[1024];
    (void)::read(c, buf, sizeof buf);
    ::close(c);
  });
  auto e = failure(rude.url("/x"));
  server.join();
  CHECK(e.reason == "connection closed without an answer");
  CHECK_FALSE(e.refused);
}

TEST_CASE("requests are described with the server, without user info or query", "[net]") {
  CHECK(describe_request("GET", "http://127.0.0.1:8200/v1/x?token=t") == "GET /v1/x");
  CHECK(describe_request_at("GET", "http://127.0.0.1:8200/v1/x?token=t") ==
        "GET http://127.0.0.1:8200/v1/x");
  CHECK(describe_request_at("PUT", "https://user:pass@vault.example:8200/v1/sys/leases/renew") ==
        "PUT https://vault.example:8200/v1/sys/leases/renew");
  CHECK(describe_request_at("GET", "http://consul:8500") == "GET http://consul:8500/");
}
