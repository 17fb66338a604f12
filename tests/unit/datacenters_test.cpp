// consul-template's `datacenters`: sorted names from /v1/catalog/datacenters (offline from the
// values file's consul.datacenters), polled every 15 s because Consul has no blocking query for
// it, and with ignoreFailing only the datacenters whose catalog answers a consistent read.
#include <catch2/catch.hpp>

#include <fstream>

#include "functions/live/consul_client.hpp"
#include "functions/live/watcher.hpp"
#include "functions/values_file.hpp"
#include "live_fakes.hpp"
#include "net/http_client.hpp"
#include "tests/unit/emulator_process.hpp"
#include "tests/unit/test_support.hpp"

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

templet::testing::ShellRun preview(const std::string& tmpl, const std::string& values) {
  templet::testing::TempDir dir("templet-dcs");
  const std::string d = dir.path.string();
  std::ofstream(d + "/t.tmpl") << tmpl;
  std::ofstream(d + "/v.yaml") << values;
  return templet::testing::run_shell(std::string(TEMPLET_BINARY) + " preview " + d +
                                     "/t.tmpl --values " + d + "/v.yaml");
}

}  // namespace

TEST_CASE("datacenters renders the values file's list sorted", "[datacenters][values][cli]") {
  auto r = preview("{{ datacenters }} {{ range datacenters true }}{{ . }};{{ end }}",
                   "consul:\n  datacenters: [west, east]\n");
  CHECK(r.err == "");
  CHECK(r.status == 0);
  CHECK(r.out == "[east west] east;west;");
}

TEST_CASE("datacenters without consul.datacenters is missing", "[datacenters][values][cli]") {
  auto r = preview("{{ datacenters }}", "consul:\n  kv: {}\n");
  CHECK(r.status == 3);
  CHECK(r.err.find("missing data: datacenters") != std::string::npos);
}

TEST_CASE("datacenters with two arguments fails as consul-template does", "[datacenters][cli]") {
  auto r = preview("{{ datacenters true false }}", "consul:\n  datacenters: [dc1]\n");
  CHECK(r.status == 1);
  CHECK(r.err.find("error calling datacenters: datacenters: wrong number of arguments, expected "
                   "0 or 1, but got 2") != std::string::npos);
}

TEST_CASE("datacenters watcher polls every 15 s, each answer news", "[datacenters][live]") {
  FakeHttp http;
  FakeClock clock;
  Sink sink;
  WatchContext ctx;
  ctx.clock = &clock;
  ctx.random = [] { return 0.0; };
  ctx.consul = std::make_shared<ConsulClient>(ConsulSettings{}, http.pool());
  http.on("GET", "/v1/catalog/datacenters", 200, R"(["dc1"])");
  http.on("GET", "/v1/catalog/datacenters", 200, R"(["dc1","dc2"])");
  Watcher w(parse_catalog_datacenters(false), ctx, sink);
  TimePoint t = clock.now();
  CHECK(w.step() - t == 15s);
  w.step();
  REQUIRE(sink.puts.size() == 2);
  CHECK(sink.puts[1].body == R"(["dc1","dc2"])");
  auto calls = http.calls_to("GET", "/v1/catalog/datacenters");
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].target == "/v1/catalog/datacenters");
  CHECK(calls[1].target == "/v1/catalog/datacenters");  // no index, no wait: not blocking
}

TEST_CASE("datacenters true keeps the datacenters that answer", "[datacenters][live]") {
  FakeHttp http;
  ConsulClient c(ConsulSettings{}, http.pool());
  http.on("GET", "/v1/catalog/datacenters", 200, R"(["dc1","dc2","dc3"])");
  http.on("GET", "/v1/catalog/services", 200, "{}");
  http.on("GET", "/v1/catalog/services", 500, "No path to datacenter");
  http.on("GET", "/v1/catalog/services", 200, "{}");
  auto ans = c.query(parse_catalog_datacenters(true), 0);
  CHECK(ans.response.body == R"(["dc1","dc3"])");
  auto probes = http.calls_to("GET", "/v1/catalog/services");
  REQUIRE(probes.size() == 3);
  CHECK(probes[1].target == "/v1/catalog/services?dc=dc2&consistent");
  CHECK(parse_catalog_datacenters(true).id != parse_catalog_datacenters(false).id);
}

TEST_CASE("datacenters against the Consul emulator", "[datacenters][live][emulator]") {
  templet::testing::EmulatorProcess emu("consul", R"({"wan_datacenters": ["dc2"]})");
  if (emu.port == 0) {
    WARN("emulator not available; skipped");
    return;
  }
  ConsulSettings cs;
  cs.address = emu.url();
  ConsulClient consul(cs, std::make_shared<HttpPool>([] { return make_http_client(); }));
  auto all = consul.query(parse_catalog_datacenters(false), 0);
  CHECK(all.response.status == 200);
  CHECK(all.response.body == R"(["dc1","dc2"])");
  // dc2 is known to the WAN pool but unreachable: ignoreFailing leaves it out.
  auto reachable = consul.query(parse_catalog_datacenters(true), 0);
  CHECK(reachable.response.body == R"(["dc1"])");
  CHECK(consul.query(parse_catalog_datacenters(false), all.index).index > all.index);
}
