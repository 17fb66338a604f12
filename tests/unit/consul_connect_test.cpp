// consul-template's Connect and topology functions (issue 14): caRoots, caLeaf, connect,
// partitions, peerings, exportedServices, importedServices. Printing from the values file
// (tests/data/consul_connect.yaml) is pinned byte for byte; the expected texts come from Go 1.19
// text/template printing the same values in structs declared as consul/api v1.34 and
// consul-template v0.42's dependency package declare them. The live tests ask the Consul
// emulator (tests/emulators/consul_connect.py) through ConsulClient.
#include <catch2/catch.hpp>

#include <fstream>
#include <thread>

#include "functions/live/consul_client.hpp"
#include "functions/live/live_data_source.hpp"
#include "functions/live/watcher.hpp"
#include "functions/render.hpp"
#include "functions/values_file.hpp"
#include "live_fakes.hpp"
#include "net/http_client.hpp"
#include "renderer/exec.hpp"
#include "renderer/template.hpp"
#include "tests/unit/emulator_process.hpp"
#include "tests/unit/test_support.hpp"

using namespace templet;
using namespace templet::live;
using templet::live::test::FakeHttp;
using namespace std::chrono_literals;

namespace {

RenderResult render_with(const std::string& text, const DataSource& source,
                         const RenderEnv& env = {}) {
  static FunctionTable funcs = consul_template_functions();
  TemplateOptions o;
  o.name = "t";
  o.funcs = &funcs;
  Template t(text, o);
  return render(t, source, env);
}

std::string offline(const std::string& text) {
  static const ValuesFile values =
      ValuesFile::load(std::string(TEMPLET_SOURCE_DIR) + "/tests/data/consul_connect.yaml");
  return render_with(text, values, values.render_env()).output;
}

std::string offline_error(const std::string& text) {
  try {
    offline(text);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

// Answers every dependency from Consul, once, without blocking.
struct ConsulSource : DataSource {
  ConsulClient& consul;
  explicit ConsulSource(ConsulClient& c) : consul(c) {}
  std::optional<Response> fetch(const Dependency& dep) const override {
    return consul.query(dep, 0).response;
  }
};

struct Sink : WatchSink {
  std::vector<Response> puts;
  bool put(const std::string&, const Response& r) override {
    puts.push_back(r);
    return true;
  }
  void fail(const std::string&, const std::string&, bool) override {}
};

const char* kRootPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

}  // namespace

TEST_CASE("connect funcs: caRoots prints each *api.CARoot as Go", "[connect][values]") {
  CHECK(offline(R"({{ range caRoots }}{{ . }};{{ printf "%+v" . }};{{ end }})") ==
        std::string("{a1 Consul CA Primary Cert ") + kRootPem +
            " true 5 7};&{ID:a1 Name:Consul CA Primary Cert RootCertPEM:" + kRootPem +
            " Active:true CreateIndex:5 ModifyIndex:7};{b2 Old old-pem false 3 3};&{ID:b2 "
            "Name:Old RootCertPEM:old-pem Active:false CreateIndex:3 ModifyIndex:3};");
  // encoding/json names RootCertPEM by its tag, RootCert, in declaration order.
  CHECK(
      offline("{{ caRoots | toJSON }}") ==
      R"([{"ID":"a1","Name":"Consul CA Primary Cert","RootCert":"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n","Active":true,"CreateIndex":5,"ModifyIndex":7},{"ID":"b2","Name":"Old","RootCert":"old-pem","Active":false,"CreateIndex":3,"ModifyIndex":3}])");
  CHECK(offline(R"({{ printf "%T" caRoots }} {{ len caRoots }})") == "[]*api.CARoot 2");
}

TEST_CASE("connect funcs: caLeaf prints *api.LeafCert with Go's time.Time", "[connect][values]") {
  CHECK(offline(R"({{ with caLeaf "web" }}{{ . }}|{{ printf "%+v" . }}|{{ .ValidBefore }}|)"
                R"({{ printf "%T" .ValidAfter }}{{ end }})") ==
        "{3a:1f cert-pem key-pem web spiffe://t.consul/ns/default/dc/dc1/svc/web 2026-12-04 "
        "21:00:00 +0000 UTC 2026-12-07 21:00:00 +0200 +0200 12 12}|&{SerialNumber:3a:1f "
        "CertPEM:cert-pem PrivateKeyPEM:key-pem Service:web "
        "ServiceURI:spiffe://t.consul/ns/default/dc/dc1/svc/web ValidAfter:2026-12-04 21:00:00 "
        "+0000 UTC ValidBefore:2026-12-07 21:00:00 +0200 +0200 CreateIndex:12 "
        "ModifyIndex:12}|2026-12-07 21:00:00 +0200 +0200|time.Time");
  CHECK(
      offline(R"({{ caLeaf "web" | toJSON }})") ==
      R"({"SerialNumber":"3a:1f","CertPEM":"cert-pem","PrivateKeyPEM":"key-pem","Service":"web","ServiceURI":"spiffe://t.consul/ns/default/dc/dc1/svc/web","ValidAfter":"2026-12-04T21:00:00Z","ValidBefore":"2026-12-07T21:00:00+02:00","CreateIndex":12,"ModifyIndex":12})");
  // No argument: nil, as consul-template returns; a service the file lacks is missing.
  CHECK(offline(R"({{ caLeaf }}|{{ caLeaf "" }})") == "<no value>|<no value>");
  ValuesFile values =
      ValuesFile::load(std::string(TEMPLET_SOURCE_DIR) + "/tests/data/consul_connect.yaml");
  RenderResult r = render_with(R"({{ caLeaf "db" }})", values, values.render_env());
  CHECK_FALSE(r.complete);
  REQUIRE(r.missing.size() == 1);
  CHECK(r.missing[0].id == "connect.caleaf(db)");
  // The private key is a secret: masked wherever templet prints.
  RenderResult k =
      render_with(R"({{ (caLeaf "web").PrivateKeyPEM }})", values, values.render_env());
  CHECK(k.secrets == std::set<std::string>{"key-pem"});
}

TEST_CASE("connect funcs: partitions sorted by name", "[connect][values]") {
  CHECK(offline(R"({{ range partitions }}{{ . }} {{ printf "%+v" . }};{{ end }})") ==
        "{default Primary} &{Name:default Description:Primary};{team-a } &{Name:team-a "
        "Description:};");
  CHECK(offline_error("{{ partitions 1 }}")
            .find("wrong number of args for partitions: want 0 "
                  "got 1") != std::string::npos);
}

TEST_CASE("connect funcs: peerings sorted by state, partition, name", "[connect][values]") {
  CHECK(offline("{{ range peerings }}{{ . }}|{{ printf \"%+v\" . }}\n{{ end }}") ==
        "{p-1 east default map[env:prod] ACTIVE x-9 server.east.peering [10.0.0.1:8502] {[db] [] "
        "2026-12-04 21:00:05.25 +0000 UTC <nil> <nil>} {default dc-east}}|&{ID:p-1 Name:east "
        "Partition:default Meta:map[env:prod] PeeringState:ACTIVE PeerID:x-9 "
        "PeerServerName:server.east.peering PeerServerAddresses:[10.0.0.1:8502] "
        "StreamStatus:{ImportedServices:[db] ExportedServices:[] LastHeartbeat:2026-12-04 "
        "21:00:05.25 +0000 UTC LastReceive:<nil> LastSend:<nil>} Remote:{Partition:default "
        "Datacenter:dc-east}}\n"
        "{p-2 west  map[] PENDING   [] {[] [] <nil> <nil> <nil>} { }}|&{ID:p-2 Name:west "
        "Partition: Meta:map[] PeeringState:PENDING PeerID: PeerServerName: "
        "PeerServerAddresses:[] StreamStatus:{ImportedServices:[] ExportedServices:[] "
        "LastHeartbeat:<nil> LastReceive:<nil> LastSend:<nil>} Remote:{Partition: "
        "Datacenter:}}\n");
  CHECK(
      offline("{{ peerings | toJSON }}") ==
      R"([{"ID":"p-1","Name":"east","Partition":"default","Meta":{"env":"prod"},"PeeringState":"ACTIVE","PeerID":"x-9","PeerServerName":"server.east.peering","PeerServerAddresses":["10.0.0.1:8502"],"StreamStatus":{"ImportedServices":["db"],"ExportedServices":null,"LastHeartbeat":"2026-12-04T21:00:05.25Z","LastReceive":null,"LastSend":null},"Remote":{"Partition":"default","Datacenter":"dc-east"}},{"ID":"p-2","Name":"west","Partition":"","Meta":null,"PeeringState":"PENDING","PeerID":"","PeerServerName":"","PeerServerAddresses":null,"StreamStatus":{"ImportedServices":null,"ExportedServices":null,"LastHeartbeat":null,"LastReceive":null,"LastSend":null},"Remote":{"Partition":"","Datacenter":""}}])");
  CHECK(offline(R"({{ range peerings "?partition=team-a" }}{{ .Name }}{{ end }})") == "north");
  CHECK(offline_error(R"({{ peerings "partition=x" }})")
            .find(R"(error calling peerings: list.peering: invalid format: "partition=x")") !=
        std::string::npos);
  CHECK(offline_error(R"({{ peerings "?dc=x" }})")
            .find(R"(list.peering: invalid query parameter key "dc" in query "dc=x")") !=
        std::string::npos);
  CHECK(parse_peerings("?partition=p").id == "list.peerings?partition=p");
}

TEST_CASE("connect funcs: exportedServices and importedServices", "[connect][values]") {
  CHECK(
      offline(R"({{ exportedServices }} {{ printf "%+v" exportedServices }} )"
              R"({{ exportedServices | toJSON }})") ==
      "[{api   {[] []}} {web   {[east] [team-a]}}] [{Service:api Partition: Namespace: "
      "Consumers:{Peers:[] Partitions:[]}} {Service:web Partition: Namespace: "
      "Consumers:{Peers:[east] Partitions:[team-a]}}] "
      R"([{"Service":"api","Partition":"","Namespace":"","Consumers":{"Peers":[],"Partitions":[]}},{"Service":"web","Partition":"","Namespace":"","Consumers":{"Peers":["east"],"Partitions":["team-a"]}}])");
  CHECK(offline(R"({{ len (exportedServices "default") }})") == "2");
  CHECK(offline(R"({{ importedServices "team-a" }} {{ printf "%+v" (importedServices "team-a") }})"
                R"( {{ importedServices "team-a" | toJSON }})") ==
        "[{db default team-b}] [{Service:db Namespace:default SourcePartition:team-b}] "
        R"([{"Service":"db","Namespace":"default","SourcePartition":"team-b"}])");
  CHECK(offline_error(R"({{ exportedServices "a" "b" }})")
            .find("error calling exportedServices: exportedServices: wrong number of arguments, "
                  "expected 0 or 1") != std::string::npos);
  CHECK(offline_error(R"({{ importedServices "" }})")
            .find("error calling importedServices: importedServices: partition name is "
                  "required") != std::string::npos);
}

TEST_CASE("connect funcs: connect lists the values file's consul.connect", "[connect][values]") {
  CHECK(offline(R"({{ range connect "web" }}{{ .Name }} {{ .Address }}:{{ .Port }}{{ end }})") ==
        "web-sidecar-proxy 10.0.0.5:21000");
  CHECK(parse_health_connect("web").id == "health.connect(web|passing)");
  CHECK(offline(R"({{ connect "" }}{{ len (connect "other") }})") == "[]0");
}

TEST_CASE("connect funcs: request targets, blocking where Consul blocks", "[connect][live]") {
  ConsulSettings s;
  s.wait = 60000ms;
  FakeHttp http;
  ConsulClient c(s, http.pool());
  CHECK(c.request_target(parse_connect_ca_roots(), 7) ==
        "/v1/agent/connect/ca/roots?stale&index=7&wait=60000ms");
  CHECK(c.request_target(parse_connect_leaf("web"), 7) ==
        "/v1/agent/connect/ca/leaf/web?stale&index=7&wait=60000ms");
  CHECK(c.request_target(parse_health_connect("v1.web|any"), 0) ==
        "/v1/health/connect/web?tag=v1&stale");
  CHECK(c.request_target(parse_peerings("?partition=p"), 3) ==
        "/v1/peerings?partition=p&stale&index=3&wait=60000ms");
  CHECK(c.request_target(parse_exported_services("p"), 0) ==
        "/v1/exported-services?partition=p&stale");
  CHECK(c.request_target(parse_imported_services("p"), 0) ==
        "/v1/imported-services?partition=p&stale");
  CHECK(c.request_target(parse_partitions(), 9) == "/v1/partitions");
}

TEST_CASE("connect funcs: partitions are polled every 15 s, each answer news", "[connect][live]") {
  FakeHttp http;
  FakeClock clock;
  Sink sink;
  WatchContext ctx;
  ctx.clock = &clock;
  ctx.random = [] { return 0.0; };
  ctx.consul = std::make_shared<ConsulClient>(ConsulSettings{}, http.pool());
  http.on("GET", "/v1/partitions", 200, R"([{"Name":"default"}])");
  http.on("GET", "/v1/partitions", 200, R"([{"Name":"default"},{"Name":"b"}])");
  Watcher w(parse_partitions(), ctx, sink);
  TimePoint t = clock.now();
  CHECK(w.step() - t == 15s);
  w.step();
  REQUIRE(sink.puts.size() == 2);
  CHECK(sink.puts[1].body == R"([{"Name":"default"},{"Name":"b"}])");
  auto calls = http.calls_to("GET", "/v1/partitions");
  REQUIRE(calls.size() == 2);
  CHECK(calls[1].target == "/v1/partitions");
}

TEST_CASE("connect funcs: against the Consul emulator (CE)", "[connect][live][emulator]") {
  templet::testing::EmulatorProcess emu("consul", R"({"register_services": [
        {"Node": "n1", "NodeAddress": "10.0.0.1", "ID": "web-1", "Service": "web", "Port": 80},
        {"Node": "n1", "ID": "web-1-sidecar", "Service": "web-sidecar-proxy", "Port": 21000,
         "Kind": "connect-proxy", "Proxy": {"DestinationServiceName": "web"}}],
       "peerings": [{"Name": "west", "State": "PENDING"},
                    {"Name": "east", "State": "ACTIVE", "Remote": {"Datacenter": "dc-east"}}],
       "exported_services": [{"Service": "web", "Consumers": {"Peers": ["east"]}}]})");
  if (emu.port == 0) {
    WARN("emulator not available; skipped");
    return;
  }
  ConsulSettings cs;
  cs.address = emu.url();
  ConsulClient consul(cs, std::make_shared<HttpPool>([] { return make_http_client(); }));
  ConsulSource source(consul);

  CHECK(render_with("{{ range caRoots }}{{ .Active }} {{ .Name }} {{ printf \"%.27s\" "
                    ".RootCertPEM }}{{ end }}",
                    source)
            .output == "true Consul CA Primary Cert -----BEGIN CERTIFICATE-----");

  RenderResult leaf =
      render_with(R"({{ with caLeaf "web" }}{{ .Service }} {{ printf "%.9s" .ServiceURI }} )"
                  R"({{ printf "%T" .ValidBefore }} {{ gt .ModifyIndex 0 }}{{ end }})",
                  source);
  CHECK(leaf.output == "web spiffe:// time.Time true");
  // An error quoting the private key masks it, as it masks a Vault secret.
  try {
    render_with(R"({{ (caLeaf "web").PrivateKeyPEM | parseInt }})", source);
    FAIL("parseInt of a PEM key succeeded");
  } catch (const ExecError& e) {
    const std::string what = e.what();
    CHECK(what.find("parsing \"********\": invalid syntax") != std::string::npos);
    CHECK(what.find("PRIVATE KEY") == std::string::npos);
  }

  CHECK(render_with(R"({{ range connect "web" }}{{ .ID }}:{{ .Port }} {{ .Status }}{{ end }})",
                    source)
            .output == "web-1-sidecar:21000 passing");

  CHECK(render_with("{{ range peerings }}{{ .Name }} {{ .PeeringState }} {{ .Remote.Datacenter }};"
                    "{{ end }}",
                    source)
            .output == "east ACTIVE dc-east;west PENDING ;");
  CHECK(render_with("{{ range exportedServices }}{{ .Service }} {{ .Consumers.Peers }} "
                    "{{ .Consumers.Partitions }}{{ end }}",
                    source)
            .output == "web [east] []");

  // CE: no partitions endpoint, and no ?partition=.
  CHECK_THROWS_WITH(render_with("{{ partitions }}", source),
                    Catch::Contains("error calling partitions: list.partitions: Partitions are an "
                                    "enterprise feature: Unexpected response code: 404 (Invalid "
                                    "URL path: not a recognized HTTP API endpoint)"));
  CHECK_THROWS_WITH(
      render_with(R"({{ importedServices "team-a" }})", source),
      Catch::Contains("consul: GET " + emu.url() +
                      "/v1/imported-services: status 400: Invalid query parameter: \"partition\" - "
                      "Partitions are a Consul Enterprise feature"));
  CHECK_THROWS_WITH(render_with(R"({{ peerings "?partition=team-a" }})", source),
                    Catch::Contains("status 400: Invalid query parameter: \"partition\""));
}

TEST_CASE("connect funcs: against the Consul emulator (Enterprise)", "[connect][live][emulator]") {
  templet::testing::EmulatorProcess emu("consul", R"({"enterprise": true,
       "partitions": [{"Name": "team-a"}, {"Name": "default", "Description": "Builtin"}],
       "imported_services": [{"Service": "db", "Namespace": "default",
                              "SourcePartition": "team-b"}]})");
  if (emu.port == 0) {
    WARN("emulator not available; skipped");
    return;
  }
  ConsulSettings cs;
  cs.address = emu.url();
  ConsulClient consul(cs, std::make_shared<HttpPool>([] { return make_http_client(); }));
  ConsulSource source(consul);
  CHECK(render_with("{{ range partitions }}{{ .Name }}:{{ .Description }};{{ end }}", source)
            .output == "default:Builtin;team-a:;");
  CHECK(render_with(R"({{ importedServices "team-a" }})", source).output ==
        "[{db default team-b}]");
  // Each answer of the polled partitions is news, though Enterprise sends no index.
  auto a = consul.query(parse_partitions(), 0);
  CHECK(consul.query(parse_partitions(), a.index).index > a.index);
}

TEST_CASE("connect funcs: the live source polls partitions and never asks Consul for interfaces",
          "[connect][live][emulator]") {
  // Both are polled, not blocking: on the event loop a partitions answer (no index) looked like
  // a wait timeout and was asked again every rate_limit, and sockaddr's interfaces, read from
  // this machine, were sent to Consul as a query.
  templet::testing::EmulatorProcess emu("consul", R"({"enterprise": true,
       "partitions": [{"Name": "default", "Description": "Builtin"}]})");
  if (emu.port == 0) {
    WARN("emulator not available; skipped");
    return;
  }
  LiveSourceConfig c;
  c.consul.address = emu.url();
  auto src = LiveDataSource::from_config(c);
  src->ensure_watching({parse_partitions(), parse_interfaces()});
  REQUIRE(templet::testing::eventually(
      [&] {
        for (const auto& d : src->dependency_states())
          if (!d.answered) return false;
        return true;
      },
      5s));
  std::this_thread::sleep_for(1500ms);  // 15 rate_limit gaps
  src->stop();
  std::vector<std::string> paths;
  for (const auto& r : templet::testing::call_json(emu, "GET", "/_emulator/requests"))
    paths.push_back(r["path"].get<std::string>());
  CHECK(paths == std::vector<std::string>{"/v1/partitions"});
}
