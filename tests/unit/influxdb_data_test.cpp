// influxdbBuckets: the values file's influxdb section, the fields and order templates see, the
// missing-data report of `templet preview`, and bad values files named FILE:LINE:COL.
#include <catch2/catch.hpp>
#include <string>

#include "functions/render.hpp"
#include "functions/values_file.hpp"
#include "renderer/template.hpp"
#include "tests/unit/test_support.hpp"

using namespace templet;
using namespace templet::testing;

namespace {

const char* kValues =
    "influxdb:\n"
    "  buckets:\n"
    "    myorg:\n"
    "      - {name: web, id: 0a00000000000003, retentionSeconds: 2592000, labels: [team-b, "
    "app]}\n"
    "      - {name: _tasks, id: 0a00000000000002, retentionSeconds: 259200}\n"
    "      - {name: api, id: 0a00000000000001}\n"
    "      - {name: _monitoring, id: 0a00000000000004, retentionSeconds: 604800}\n"
    "      - {name: multiapp_, id: 0a00000000000005}\n";

std::string render_text(const std::string& text, const DataSource& source,
                        RenderResult* out = nullptr) {
  static const FunctionTable funcs = consul_template_functions();
  TemplateOptions to;
  to.funcs = &funcs;
  Template t(text, to);
  RenderResult r = render(t, source);
  if (out) *out = r;
  return r.output;
}

}  // namespace

TEST_CASE("influxdbBuckets: fields sorted by name, system buckets included", "[influxdb][values]") {
  ValuesFile v = ValuesFile::parse(kValues, "v.yaml");
  CHECK(render_text("{{ range influxdbBuckets \"myorg\" }}{{ .Name }} {{ .ID }} "
                    "{{ .RetentionSeconds }} {{ .Type }} {{ .Labels }}\n{{ end }}",
                    v) ==
        "_monitoring 0a00000000000004 604800 system []\n"
        "_tasks 0a00000000000002 259200 system []\n"
        "api 0a00000000000001 0 user []\n"
        "multiapp_ 0a00000000000005 0 user []\n"
        "web 0a00000000000003 2592000 user [app team-b]\n");
  // What taskmaker calls an application: neither starts nor ends with "_".
  CHECK(render_text("{{ range influxdbBuckets \"myorg\" }}{{ if not (.Name | regexMatch "
                    "\"^_|_$\") }}{{ .Name }} {{ end }}{{ end }}",
                    v) == "api web ");
  CHECK(render_text("{{ printf \"%T\" (influxdbBuckets \"myorg\") }}", v) == "[]*influxdb.Bucket");
  RenderResult r;
  CHECK(render_text("{{ range influxdbBuckets \"other\" }}x{{ end }}", v, &r) == "");
  CHECK_FALSE(r.complete);
  REQUIRE(r.missing.size() == 1);
  CHECK(r.missing[0].id == "influxdb.buckets(other)");
  CHECK(r.missing[0].call == "influxdbBuckets \"other\"");
}

TEST_CASE("influxdbBuckets in the values file: errors name FILE:LINE:COL", "[influxdb][values]") {
  auto error = [](const std::string& yaml) {
    try {
      ValuesFile::parse(yaml, "v.yaml");
    } catch (const ValuesError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  CHECK(error("influxdb:\n  bukets: {}\n") ==
        "v.yaml:2:3: unknown key influxdb.bukets (expected buckets)");
  CHECK(error("influxdb:\n  buckets:\n    myorg:\n      - {id: x}\n") ==
        "v.yaml:4:9: influxdb.buckets.myorg: a bucket needs a name");
  CHECK(error("influxdb:\n  buckets:\n    myorg:\n      - {name: a, retentionSeconds: 1h}\n") ==
        "v.yaml:4:37: influxdb.buckets.myorg: retentionSeconds must be a whole number");
}

TEST_CASE("templet preview: influxdbBuckets from --values, missing without", "[influxdb][cli]") {
  TempDir d;
  spit(d.path / "v.yaml", kValues);
  spit(d.path / "t.tmpl", "{{ range influxdbBuckets \"myorg\" }}{{ .Name }}\n{{ end }}");
  ShellRun r = run_shell(std::string(TEMPLET_BINARY) + " preview " + (d.path / "t.tmpl").string() +
                         " --values " + (d.path / "v.yaml").string());
  CHECK(r.status == 0);
  CHECK(r.out == "_monitoring\n_tasks\napi\nmultiapp_\nweb\n");
  ShellRun none =
      run_shell(std::string(TEMPLET_BINARY) + " preview " + (d.path / "t.tmpl").string());
  CHECK(none.status == 3);
  CHECK(none.err == "templet: missing data: influxdbBuckets \"myorg\"\n");
}
