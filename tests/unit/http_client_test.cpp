// The HTTP layer. The transports (the built-in one for plain http, libcurl, and the event loop
// that carries Consul's blocking queries) are held to one contract against local sockets that
// misbehave on cue: failures named the way an operator searches logs for them (refused, silent,
// hung up, cut short), connections kept alive and re-opened when the server dropped them,
// interim and chunked answers. Then how make_http_client
// picks a transport, and how requests are described without the parts that carry credentials.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <future>
#include <thread>

#include "net/async_http.hpp"
#include "net/curl_client.hpp"
#include "net/http_client.hpp"
#include "net/plain_http_client.hpp"

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
  std::string url(const std::string& path, const std::string& host = "127.0.0.1") const {
    return "http://" + host + ":" + std::to_string(port) + path;
  }
};

// What the server does with the next request it reads.
struct Reply {
  std::string raw;  // bytes written back; empty: close without answering
  bool close_after = false;
  std::size_t pause_at = 0;  // > 0: write this many bytes, pause, then the rest
};

// Serves `replies` in order, over as many connections as the client opens, and records each
// request's raw bytes and how many connections were accepted.
struct ScriptedServer {
  Listener listener;
  std::vector<Reply> replies;
  std::vector<std::string> requests;
  std::atomic<int> connections{0};
  std::thread thread;

  explicit ScriptedServer(std::vector<Reply> script) : replies(std::move(script)) {
    thread = std::thread([this] { serve(); });
  }
  ~ScriptedServer() {
    ::shutdown(listener.fd, SHUT_RDWR);  // unblocks accept when the client stopped early
    thread.join();
  }
  std::string url(const std::string& path, const std::string& host = "127.0.0.1") const {
    return listener.url(path, host);
  }

 private:
  // One request: the head up to the blank line, then Content-Length bytes of body.
  static std::string read_request(int c) {
    std::string in;
    char buf[4096];
    for (;;) {
      auto head_end = in.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        auto cl = in.find("Content-Length: ");
        std::size_t body =
            cl == std::string::npos || cl > head_end ? 0 : std::stoul(in.substr(cl + 16));
        if (in.size() >= head_end + 4 + body) return in;
      }
      auto n = ::read(c, buf, sizeof buf);
      if (n <= 0) return "";
      in.append(buf, static_cast<std::size_t>(n));
    }
  }

  void serve() {
    std::size_t next = 0;
    while (next < replies.size()) {
      int c = ::accept(listener.fd, nullptr, nullptr);
      if (c < 0) return;
      ++connections;
      while (next < replies.size()) {
        std::string request = read_request(c);
        if (request.empty()) break;
        requests.push_back(request);
        const Reply& r = replies[next++];
        if (r.raw.empty()) break;
        std::size_t first = r.pause_at ? r.pause_at : r.raw.size();
        (void)!::write(c, r.raw.data(), first);
        if (r.pause_at) {
          std::this_thread::sleep_for(50ms);
          (void)!::write(c, r.raw.data() + first, r.raw.size() - first);
        }
        if (r.close_after) break;
      }
      ::close(c);
    }
  }
};

const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

// The event loop's client (net/async_http.hpp) held to the same contract: each send waits for
// its request's `done`.
class LoopClient : public HttpClient {
 public:
  HttpResponse send(const HttpRequest& request) override {
    std::promise<HttpResponse> answer;
    auto got = answer.get_future();
    loop_.start(request, [&answer](HttpResponse* r, HttpTransportError* e) {
      if (r)
        answer.set_value(std::move(*r));
      else
        answer.set_exception(std::make_exception_ptr(*e));
    });
    return got.get();
  }

 private:
  AsyncHttpClient loop_;
};

std::unique_ptr<HttpClient> make_transport(const std::string& name) {
  if (name == "event loop") return std::make_unique<LoopClient>();
  return name == "libcurl" ? make_curl_client() : make_plain_http_client();
}

HttpRequest get(const std::string& url, std::chrono::milliseconds timeout = 5000ms) {
  HttpRequest req;
  req.url = url;
  req.timeout = timeout;
  return req;
}

HttpTransportError failure(HttpClient& client, const HttpRequest& req) {
  try {
    client.send(req);
  } catch (const HttpTransportError& e) {
    return e;
  }
  FAIL("an answer came back");
  return HttpTransportError("");
}

}  // namespace

TEST_CASE("a refused connection says so", "[net]") {
  auto transport = GENERATE(as<std::string>{}, "plain http", "libcurl", "event loop");
  CAPTURE(transport);
  std::string url;
  {
    Listener gone;  // bound and closed: nothing listens there now
    url = gone.url("/v1/kv/x?token=abc");
  }
  auto e = failure(*make_transport(transport), get(url));
  CHECK(e.reason == "connection refused");
  CHECK(std::string(e.what()) == "GET /v1/kv/x: connection refused");
  CHECK(e.refused);
  CHECK_FALSE(e.timed_out);
}

TEST_CASE("a server that never answers times out after the request's limit", "[net]") {
  auto transport = GENERATE(as<std::string>{}, "plain http", "libcurl", "event loop");
  CAPTURE(transport);
  Listener silent;  // the kernel accepts the connection; nobody ever reads or writes
  auto client = make_transport(transport);
  auto started = std::chrono::steady_clock::now();
  auto e = failure(*client, get(silent.url("/slow"), 300ms));
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  CHECK(e.reason == "timed out after 300ms");
  CHECK(e.timed_out);
  CHECK(failure(*client, get(silent.url("/slow"), 1000ms)).reason == "timed out after 1s");
}

TEST_CASE("a server that hangs up without answering is named", "[net]") {
  auto transport = GENERATE(as<std::string>{}, "plain http", "libcurl", "event loop");
  CAPTURE(transport);
  ScriptedServer rude({Reply{}});
  auto e = failure(*make_transport(transport), get(rude.url("/x")));
  CHECK(e.reason == "connection closed without an answer");
  CHECK_FALSE(e.refused);
}

TEST_CASE("an answer cut short is named", "[net]") {
  auto transport = GENERATE(as<std::string>{}, "plain http", "libcurl", "event loop");
  CAPTURE(transport);
  ScriptedServer cut({{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true}});
  auto e = failure(*make_transport(transport), get(cut.url("/x")));
  CHECK(e.reason == "connection closed in the middle of the answer");
}

TEST_CASE("a connection is kept alive between requests", "[net]") {
  auto transport = GENERATE(as<std::string>{}, "plain http", "libcurl", "event loop");
  CAPTURE(transport);
  ScriptedServer server({{kOk}, {kOk}, {kOk}});
  auto client = make_transport(transport);
  for (int i = 0; i < 3; ++i) CHECK(client->send(get(server.url("/v1/kv/a"))).body == "ok");
  CHECK(server.connections == 1);
}

TEST_CASE("a kept-alive connection the server closed is opened again", "[net]") {
  auto transport = GENERATE(as<std::string>{}, "plain http", "libcurl", "event loop");
  CAPTURE(transport);
  SECTION("closed while idle") {
    ScriptedServer server({{kOk, true}, {kOk}});
    auto client = make_transport(transport);
    CHECK(client->send(get(server.url("/a"))).status == 200);
    std::this_thread::sleep_for(50ms);  // the server's FIN arrives
    CHECK(client->send(get(server.url("/b"))).status == 200);
    CHECK(server.connections == 2);
  }
  SECTION("dropped as the next request arrives: sent again, once") {
    ScriptedServer server({{kOk}, Reply{}, {kOk}});
    auto client = make_transport(transport);
    CHECK(client->send(get(server.url("/a"))).body == "ok");
    CHECK(client->send(get(server.url("/b"))).body == "ok");
    CHECK(server.connections == 2);
    REQUIRE(server.requests.size() == 3);
    CHECK(server.requests[1].rfind("GET /b HTTP/1.1\r\n", 0) == 0);
    CHECK(server.requests[2].rfind("GET /b HTTP/1.1\r\n", 0) == 0);
  }
}

TEST_CASE("interim, chunked and HEAD answers", "[net]") {
  auto transport = GENERATE(as<std::string>{}, "plain http", "libcurl", "event loop");
  CAPTURE(transport);
  ScriptedServer server({
      {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nX-Seen: One\r\n"
       "Content-Length: 2\r\n\r\nok"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Consul-Index: 42\r\n\r\n"
       "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"},
      // A HEAD answer announces a length and sends no body: reading one would hang.
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"},
      {kOk},
  });
  auto client = make_transport(transport);
  auto created = client->send(get(server.url("/created")));
  CHECK(created.status == 201);
  CHECK(created.body == "ok");
  REQUIRE(created.header("x-seen"));
  CHECK(*created.header("x-seen") == "One");
  CHECK(created.header("content-length"));
  auto chunked = client->send(get(server.url("/chunked")));
  CHECK(chunked.body == "abcde");
  REQUIRE(chunked.header("x-consul-index"));
  CHECK(*chunked.header("x-consul-index") == "42");
  auto head = get(server.url("/head"), 2000ms);
  head.method = "HEAD";
  auto headed = client->send(head);
  CHECK(headed.status == 200);
  CHECK(headed.body.empty());
  CHECK(client->send(get(server.url("/after"))).body == "ok");
  CHECK(server.connections == 1);
}

TEST_CASE("an HTTP/1.0 answer that ends when the server closes", "[net]") {
  auto transport = GENERATE(as<std::string>{}, "plain http", "libcurl", "event loop");
  CAPTURE(transport);
  // Python's http.server by default: no length, the end of the body is the end of the stream.
  ScriptedServer server(
      {{"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\": 1}", true}, {kOk}});
  auto client = make_transport(transport);
  auto first = client->send(get(server.url("/v1/kv/a")));
  CHECK(first.status == 200);
  CHECK(first.body == R"({"a": 1})");
  CHECK(client->send(get(server.url("/v1/kv/b"))).body == "ok");
  CHECK(server.connections == 2);
}

TEST_CASE("an answer whose head and body arrive apart", "[net]") {
  auto transport = GENERATE(as<std::string>{}, "plain http", "libcurl", "event loop");
  CAPTURE(transport);
  ScriptedServer server({{kOk, false, kOk.size() - 2}});
  CHECK(make_transport(transport)->send(get(server.url("/x"))).body == "ok");
}

TEST_CASE("a request goes out with its method, target, headers and body", "[net]") {
  auto transport = GENERATE(as<std::string>{}, "plain http", "libcurl", "event loop");
  CAPTURE(transport);
  ScriptedServer server({{kOk}, {kOk}});
  auto client = make_transport(transport);
  HttpRequest put = get(server.url("/v1/sys/leases/renew?x=1#fragment"));
  put.method = "PUT";
  put.headers = {{"X-Vault-Token", "s.abc"}, {"Content-Type", "application/json"}};
  put.body = R"({"a":1})";
  client->send(put);
  HttpRequest post = get(server.url(""));
  post.method = "POST";
  client->send(post);
  REQUIRE(server.requests.size() == 2);
  const std::string& r = server.requests[0];
  CHECK(r.rfind("PUT /v1/sys/leases/renew?x=1 HTTP/1.1\r\n", 0) == 0);
  std::string host = "\r\nHost: 127.0.0.1:" + std::to_string(server.listener.port) + "\r\n";
  CHECK(r.find(host) != std::string::npos);
  CHECK(r.find("\r\nX-Vault-Token: s.abc\r\n") != std::string::npos);
  CHECK(r.find("\r\nContent-Type: application/json\r\n") != std::string::npos);
  CHECK(r.find("\r\nContent-Length: 7\r\n") != std::string::npos);
  CHECK(r.find("Expect") == std::string::npos);
  CHECK(r.substr(r.size() - 7) == R"({"a":1})");
  // An empty POST still says its length, or a server waits for a body.
  CHECK(server.requests[1].rfind("POST / HTTP/1.1\r\n", 0) == 0);
  CHECK(server.requests[1].find("\r\nContent-Length: 0\r\n") != std::string::npos);
}

TEST_CASE("a host name is resolved and each of its addresses tried", "[net]") {
  auto transport = GENERATE(as<std::string>{}, "plain http", "libcurl", "event loop");
  CAPTURE(transport);
  // localhost is ::1 and 127.0.0.1; only the second listens here.
  ScriptedServer server({{kOk}});
  CHECK(make_transport(transport)->send(get(server.url("/x", "localhost"))).body == "ok");
}

TEST_CASE("plain http goes through the built-in transport, the rest through libcurl", "[net]") {
  struct Env {
    std::string name;
    std::string saved;
    bool had;
    explicit Env(std::string n) : name(std::move(n)) {
      const char* v = std::getenv(name.c_str());
      had = v != nullptr;
      if (v) saved = v;
      ::unsetenv(name.c_str());
    }
    ~Env() {
      if (had)
        ::setenv(name.c_str(), saved.c_str(), 1);
      else
        ::unsetenv(name.c_str());
    }
  } http_proxy("http_proxy"), all_proxy("all_proxy"), all_proxy_caps("ALL_PROXY"),
      http_proxy_caps("HTTP_PROXY");
  CHECK(plain_http_suffices("http://127.0.0.1:8500/v1/kv/a?index=3"));
  CHECK(plain_http_suffices("HTTP://localhost/"));
  CHECK(plain_http_suffices("http://[::1]:8200/v1/sys/health"));
  CHECK_FALSE(plain_http_suffices("https://vault.example:8200/v1/sys/health"));
  CHECK_FALSE(plain_http_suffices("http://admin:secret@influx:8086/api/v2/tasks"));
  CHECK_FALSE(plain_http_suffices("/v1/kv/a"));
  // libcurl would send these through a proxy; so they go to libcurl.
  ::setenv("http_proxy", "http://proxy:3128", 1);
  CHECK_FALSE(plain_http_suffices("http://127.0.0.1:8500/"));
  ::unsetenv("http_proxy");
  ::setenv("ALL_PROXY", "socks5://proxy:1080", 1);
  CHECK_FALSE(plain_http_suffices("http://127.0.0.1:8500/"));
  ::unsetenv("ALL_PROXY");
  // As for libcurl, HTTP_PROXY in capitals does not apply to http:// (a CGI header can set it).
  ::setenv("HTTP_PROXY", "http://proxy:3128", 1);
  CHECK(plain_http_suffices("http://127.0.0.1:8500/"));
}

TEST_CASE("Retry-After is read from 429 and 503 answers, in seconds", "[net]") {
  auto answer = [](long status, const std::string& value) {
    HttpResponse r;
    r.status = status;
    r.headers["retry-after"] = value;
    return r;
  };
  CHECK(retry_after(answer(429, "2")) == std::chrono::milliseconds(2000));
  CHECK(retry_after(answer(503, "0")) == std::chrono::milliseconds(0));
  CHECK(retry_after(answer(503, "120")) == std::chrono::milliseconds(120000));
  CHECK_FALSE(retry_after(answer(500, "2")));  // only where the status means "come back later"
  CHECK_FALSE(retry_after(answer(429, "Wed, 21 Oct 2015 07:28:00 GMT")));
  CHECK_FALSE(retry_after(answer(429, "-1")));
  CHECK_FALSE(retry_after(answer(429, "")));
  CHECK_FALSE(retry_after(answer(429, "9999999999")));
  HttpResponse none;
  none.status = 429;
  CHECK_FALSE(retry_after(none));
}

TEST_CASE("URLs are split into the parts the transports need", "[net]") {
  auto u = split_url("HTTP://user:pw@[::1]:8200/v1/x?index=3#frag");
  CHECK(u.scheme == "http");
  CHECK(u.userinfo == "user:pw");
  CHECK(u.host == "[::1]");
  CHECK(u.port == "8200");
  CHECK(u.target == "/v1/x?index=3");
  auto bare = split_url("http://consul?stale");
  CHECK(bare.host == "consul");
  CHECK(bare.port.empty());
  CHECK(bare.target == "/?stale");
}

TEST_CASE("a bad port is an error naming it", "[net]") {
  auto e = failure(*make_plain_http_client(), get("http://127.0.0.1:99999/x"));
  CHECK(std::string(e.what()) == "GET /x: bad port in the address: 99999");
}

TEST_CASE("requests are described with the server, without user info or query", "[net]") {
  CHECK(describe_request("GET", "http://127.0.0.1:8200/v1/x?token=t") == "GET /v1/x");
  CHECK(describe_request_at("GET", "http://127.0.0.1:8200/v1/x?token=t") ==
        "GET http://127.0.0.1:8200/v1/x");
  CHECK(describe_request_at("PUT", "https://user:pass@vault.example:8200/v1/sys/leases/renew") ==
        "PUT https://vault.example:8200/v1/sys/leases/renew");
  CHECK(describe_request_at("GET", "http://consul:8500") == "GET http://consul:8500/");
}
