// consul/api's HealthCheck as consul-template v0.42 gives it to templates (issue 14): every
// field of api/health.go in order, json tags (omitempty, "-") and HealthCheckDefinition's
// MarshalJSON, ServiceTags [] kept apart from nil, and durations as Go prints them. The
// expected texts come from Go 1.19 decoding and encoding tests/data/health_checks.yaml's checks
// with structs declared as consul/api declares them.
#include <catch2/catch.hpp>

#include "functions/health_check.hpp"
#include "functions/render.hpp"
#include "functions/values_file.hpp"
#include "renderer/template.hpp"

using namespace templet;

namespace {

std::string render_checks(const std::string& text) {
  ValuesFile values =
      ValuesFile::load(std::string(TEMPLET_SOURCE_DIR) + "/tests/data/health_checks.yaml");
  FunctionTable funcs = consul_template_functions();
  TemplateOptions o;
  o.name = "t";
  o.funcs = &funcs;
  Template t(text, o);
  return render(t, values, values.render_env()).output;
}

}  // namespace

TEST_CASE("consul structs: .Checks | toJSON has every field of api.HealthCheck", "[consul]") {
  CHECK(
      render_checks("{{ range service \"web|any\" }}{{ .Checks | toJSON }}{{ end }}") ==
      R"([{"Node":"n1","CheckID":"serfHealth","Name":"Serf Health Status","Status":"passing","Notes":"","Output":"Agent alive","ServiceID":"","ServiceName":"","ServiceTags":[],"Type":"","ExposedPort":0,"Definition":{"Interval":"0s","Timeout":"0s","DeregisterCriticalServiceAfter":"0s","HTTP":"","Header":null,"Method":"","Body":"","TLSServerName":"","TLSSkipVerify":false,"TCP":"","TCPUseTLS":false,"UDP":"","GRPC":"","OSService":"","GRPCUseTLS":false},"CreateIndex":10,"ModifyIndex":10},{"Node":"n1","CheckID":"service:web","Name":"web http","Status":"critical","Notes":"","Output":"","ServiceID":"web","ServiceName":"web","ServiceTags":["a","b"],"Type":"http","Namespace":"default","ExposedPort":21500,"Definition":{"Interval":"10s","Timeout":"1m30s","DeregisterCriticalServiceAfter":"1.5s","HTTP":"http://x/h","Header":{"X":["1","2"]},"Method":"GET","Body":"","TLSServerName":"","TLSSkipVerify":false,"TCP":"","TCPUseTLS":false,"UDP":"","GRPC":"","OSService":"","GRPCUseTLS":false},"CreateIndex":12,"ModifyIndex":14}])");
}

TEST_CASE("consul structs: a check printed with %v, field by field as Go", "[consul]") {
  CHECK(render_checks("{{ range service \"web|any\" }}{{ range .Checks }}{{ printf \"%v\" . "
                      "}}\n{{ end }}{{ end }}") ==
        "&{n1 serfHealth Serf Health Status passing  Agent alive   []    0  { map[]    false  "
        "false    false 0s 0s 0s  0 0 0} 10 10}\n&{n1 service:web web http critical   web web [a "
        "b] http default  21500  {http://x/h map[X:[1 2]] GET   false  false    false 10s 1m30s "
        "1.5s  10000000000 90000000000 1500000000} 12 14}\n");
  CHECK(render_checks("{{ range service \"web|any\" }}{{ range .Checks }}{{ printf \"%T %T %T\" "
                      ".ServiceTags .Definition .Definition.Interval }}|{{ end }}{{ end }}") ==
        "[]string api.HealthCheckDefinition api.ReadableDuration|[]string "
        "api.HealthCheckDefinition api.ReadableDuration|");
}

TEST_CASE("consul structs: Go's time.Duration text", "[consul]") {
  const std::vector<int64_t> ns = {
      0,         1,          999,        1000,        1500,          1000000,       1500000,
      999999999, 1000000000, 1500000000, 90000000000, 3600000000000, 3661000000001, -1500000000};
  std::string got;
  for (int64_t n : ns) got += dtypes::format_go_duration(n) + " ";
  CHECK(
      got ==
      "0s 1ns 999ns 1µs 1.5µs 1ms 1.5ms 999.999999ms 1s 1.5s 1m30s 1h0m0s 1h1m1.000000001s -1.5s ");
  int64_t n = 0;
  REQUIRE(dtypes::parse_go_duration("1h2m3.5s", n));
  CHECK(n == 3723500000000);
  REQUIRE(dtypes::parse_go_duration("300ms", n));
  CHECK(n == 300000000);
  CHECK_FALSE(dtypes::parse_go_duration("10", n));
  CHECK_FALSE(dtypes::parse_go_duration("5x", n));
}
