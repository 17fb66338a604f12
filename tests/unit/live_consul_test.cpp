// Consul client and watcher: blocking-query parameters, index rules, 404 as an answer.
#include <catch2/catch.hpp>

#include "functions/live/consul_client.hpp"
#include "functions/live/watcher.hpp"
#include "live_fakes.hpp"

using namespace templet;
using namespace templet::live;
using templet::live::test::FakeHttp;
using namespace std::chrono_literals;

namespace {

struct Sink : WatchSink {
  std::vector<Response> puts;
  bool put(const std::string&, const Response& r) override {
    puts.push_back(r);
    return true;
  }
  void fail(const std::string&, const std::string&, bool) override {}
};

std::map<std::string, std::string> idx(const std::string& n) {
  return {{"x-consul-index", n}};
}

const char* kFoo = R"([{"Key":"foo","Value":"YmFy","ModifyIndex":5}])";

}  // namespace

TEST_CASE("Consul request targets and timeout", "[live]") {
  FakeHttp http;
  ConsulSettings s;
  s.token = "c-tok";
  ConsulClient c(s, http.pool());
  CHECK(c.request_target(parse_kv_get("foo/bar"), 0) == "/v1/kv/foo/bar?stale");
  CHECK(c.request_target(parse_kv_get("foo@dc2"), 7) ==
        "/v1/kv/foo?dc=dc2&stale&index=7&wait=60000ms");
  CHECK(c.request_target(parse_kv_list("app/"), 0) == "/v1/kv/app/?recurse&stale");
  CHECK(c.request_target(parse_health_service("web"), 0) == "/v1/health/service/web?passing&stale");
  CHECK(c.request_target(parse_health_service("prod.web|any"), 0) ==
        "/v1/health/service/web?tag=prod&stale");
  CHECK(c.request_target(parse_catalog_services(""), 0) == "/v1/catalog/services?stale");
  CHECK(c.request_target(parse_catalog_nodes("~n1"), 0) == "/v1/catalog/nodes?near=n1&stale");
  // A blocking query may last the wait plus Consul's jitter (wait/16) plus the timeout; one that
  // does not block gets the timeout alone, so a hung server is noticed in seconds.
  CHECK(c.request_timeout(7) == 60000ms * 17 / 16 + 10000ms);
  CHECK(c.request_timeout(0) == 10000ms);
  http.on("GET", "/v1/kv/foo", 200, kFoo, idx("5"));
  c.query(parse_kv_get("foo"), 0);
  c.query(parse_kv_get("foo"), 5);
  CHECK(http.calls()[0].header("X-Consul-Token") == "c-tok");
  CHECK(http.calls()[0].timeout == 10000ms);
  CHECK(http.calls()[1].timeout == 73750ms);
}

TEST_CASE("Consul watcher: same index no news, backwards resets, index 0 is 1", "[live]") {
  FakeHttp http;
  FakeClock clock;
  Sink sink;
  WatchContext ctx;
  ctx.clock = &clock;
  ctx.random = [] { return 0.0; };
  ctx.consul = std::make_shared<ConsulClient>(ConsulSettings{}, http.pool());
  http.on("GET", "/v1/kv/foo", 200, kFoo, idx("5"));
  http.on("GET", "/v1/kv/foo", 200, kFoo, idx("5"));  // wait timeout: same index
  http.on("GET", "/v1/kv/foo", 200, kFoo, idx("3"));  // went backwards
  http.on("GET", "/v1/kv/foo", 200, R"([{"Key":"foo","Value":"YmF6","ModifyIndex":4}])", idx("4"));
  http.on("GET", "/v1/kv/foo", 200, R"([{"Key":"foo","Value":"YmF6","ModifyIndex":4}])", idx("0"));
  Watcher w(parse_kv_get("foo"), ctx, sink);
  TimePoint t = clock.now();
  CHECK(w.step() - t == 100ms);  // rate limit
  CHECK(sink.puts.size() == 1);
  w.step();
  CHECK(sink.puts.size() == 1);  // same index: nothing new
  TimePoint before = clock.now();
  CHECK(w.step() == before);  // backwards: re-query at once...
  CHECK(w.consul_index() == 0);
  w.step();  // ...with index 0
  CHECK(sink.puts.size() == 2);
  w.step();  // X-Consul-Index 0 counts as 1, which is below 4: reset
  CHECK(w.consul_index() == 0);
  auto calls = http.calls_to("GET", "/v1/kv/foo");
  REQUIRE(calls.size() == 5);
  CHECK(calls[0].target == "/v1/kv/foo?stale");
  CHECK(calls[1].target == "/v1/kv/foo?stale&index=5&wait=60000ms");
  CHECK(calls[2].target == "/v1/kv/foo?stale&index=5&wait=60000ms");
  CHECK(calls[3].target == "/v1/kv/foo?stale");
  CHECK(calls[4].target == "/v1/kv/foo?stale&index=4&wait=60000ms");
}

TEST_CASE("Consul 404: an absent answer for key lookups, keep waiting for a blocking key",
          "[live]") {
  FakeHttp http;
  FakeClock clock;
  WatchContext ctx;
  ctx.clock = &clock;
  ctx.consul = std::make_shared<ConsulClient>(ConsulSettings{}, http.pool());
  http.on("GET", "/v1/kv/missing", 404, "", idx("42"));
  {
    Sink sink;
    Watcher w(parse_kv_get("missing"), ctx, sink);
    w.step();
    REQUIRE(sink.puts.size() == 1);
    CHECK(sink.puts[0].status == 404);
    CHECK(w.consul_index() == 42);
  }
  {
    Sink sink;
    Watcher w(parse_kv_block("missing"), ctx, sink);
    w.step();
    CHECK(sink.puts.empty());
    CHECK(w.consul_index() == 42);
  }
  http.on("GET", "/v1/kv/zero", 200, "[]", idx("0"));
  CHECK(ConsulClient(ConsulSettings{}, http.pool()).query(parse_kv_get("zero"), 0).index == 1);
  http.on("GET", "/v1/kv/err", 403, "Permission denied: token lacks key:read", idx("1"));
  ConsulClient c(ConsulSettings{}, http.pool());
  CHECK_THROWS_WITH(
      c.query(parse_kv_get("err"), 0),
      "consul: GET http://127.0.0.1:8500/v1/kv/err: status 403: Permission denied: token lacks "
      "key:read");
}
