// KV v2 versions that are deleted or destroyed, as consul-template treats them (issue 14):
// vault/api's Read keeps a 404 that carries data (KV v2 answers so for a deleted or destroyed
// version, with its metadata), and consul-template's deletedKVv2 then calls a version whose
// deletion_time has passed "no secret exists". A destroyed version without a deletion time
// renders, with a nil .Data.data; a deletion still in the future is no deletion yet.
#include <catch2/catch.hpp>

#include "functions/data_types.hpp"
#include "functions/render.hpp"
#include "functions/values_file.hpp"
#include "renderer/exec.hpp"
#include "tests/unit/test_support.hpp"

using namespace templet;
using namespace templet::testing;

namespace {

std::string render_values(const std::string& text, const std::string& values_yaml) {
  ValuesFile values = ValuesFile::parse(values_yaml, "v.yaml");
  FunctionTable funcs = consul_template_functions();
  TemplateOptions o;
  o.name = "t";
  o.funcs = &funcs;
  Template t(text, o);
  try {
    return render(t, values, values.render_env()).output;
  } catch (const ExecError& e) {
    return e.what();
  }
}

std::string kv2(const std::string& deletion_time, bool destroyed, const std::string& data) {
  return "vault:\n  kv/app:\n    data:\n      data: " + data +
         "\n      metadata: {version: 3, destroyed: " + (destroyed ? "true" : "false") +
         ", deletion_time: \"" + deletion_time + "\"}\n";
}

const std::string kPw = "{{ with secret \"kv/app\" }}{{ .Data.data.pw }}{{ end }}";

}  // namespace

TEST_CASE("kv2: a version whose deletion_time has passed is no secret", "[kv2]") {
  CHECK(render_values(kPw, kv2("2021-03-04T05:06:07.123456Z", false, "{pw: old-pw-1}")) ==
        "template: t:1:8: executing \"t\" at <secret \"kv/app\">: error calling secret: "
        "vault.read(kv/app): no secret exists at kv/app");
  // An offset spelled out is the same instant.
  CHECK(render_values(kPw, kv2("2021-03-04T07:06:07+02:00", false, "{pw: old-pw-1}"))
            .find("no secret exists at kv/app") != std::string::npos);
}

TEST_CASE("kv2: a deletion_time in the future, empty or unparsable is not a deletion", "[kv2]") {
  CHECK(render_values(kPw, kv2("2999-01-01T00:00:00Z", false, "{pw: still-here}")) == "still-here");
  CHECK(render_values(kPw, kv2("", false, "{pw: plain}")) == "plain");
  CHECK(render_values(kPw, kv2("yesterday", false, "{pw: plain}")) == "plain");
}

TEST_CASE("kv2: a destroyed version renders with nil data, as consul-template does", "[kv2]") {
  CHECK(render_values("{{ with secret \"kv/app\" }}{{ .Data.metadata.destroyed }} "
                      "{{ .Data.data }}{{ end }}",
                      kv2("", true, "null")) == "true <no value>");
}

TEST_CASE("kv2: RFC 3339 parsing as Go's time.Parse", "[kv2]") {
  int64_t s = 0, ns = 0;
  REQUIRE(dtypes::parse_rfc3339("1970-01-02T00:00:01.5Z", s, ns));
  CHECK(s == 86401);
  CHECK(ns == 500000000);
  REQUIRE(dtypes::parse_rfc3339("2000-02-29T00:00:00-01:30", s, ns));
  CHECK(s == 951782400 + 5400);
  CHECK_FALSE(dtypes::parse_rfc3339("2001-02-29T00:00:00Z", s, ns));
  CHECK_FALSE(dtypes::parse_rfc3339("2001-01-01 00:00:00Z", s, ns));
  CHECK_FALSE(dtypes::parse_rfc3339("2001-01-01T00:00:00", s, ns));
}

TEST_CASE("kv2: deleted, destroyed and scheduled versions from the Vault emulator", "[kv2]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto put = [&](const std::string& path, const std::string& body) {
    templet::HttpRequest req;
    req.method = "POST";
    req.url = s.vault.url() + "/v1/" + path;
    req.headers.emplace_back("X-Vault-Token", "root");
    req.body = body;
    return templet::make_http_client()->send(req).status;
  };
  put("secret/data/gone", R"({"data": {"pw": "gone-Pw-4Tq"}})");
  templet::HttpRequest del;
  del.method = "DELETE";
  del.url = s.vault.url() + "/v1/secret/data/gone";
  del.headers.emplace_back("X-Vault-Token", "root");
  templet::make_http_client()->send(del);
  put("secret/data/burnt", R"({"data": {"pw": "burnt-Pw-8Yh"}})");
  put("secret/destroy/burnt", R"({"versions": [1]})");
  put("secret/metadata/later", R"({"delete_version_after": "1h"})");
  put("secret/data/later", R"({"data": {"pw": "later-Pw-2Wd"}})");

  auto run = [&](const std::string& tmpl, int want) {
    spit(d.path / "templet.yaml", config_yaml(d.path, {{tmpl, d.path / "out"}}));
    TempletProcess t(
        {"run", "-c", (d.path / "templet.yaml").string(), "--once", "--timeout", "10s"}, s.env(),
        d.path);
    CHECK(t.wait(20s) == want);
    return want == 0 ? slurp(d.path / "out") : t.stderr_text();
  };
  CHECK(run("{{ with secret \"secret/gone\" }}{{ .Data.data.pw }}{{ end }}", 1)
            .find("vault.read(secret/gone): no secret exists at secret/gone") != std::string::npos);
  CHECK(run("{{ with secret \"secret/burnt\" }}{{ .Data.metadata.destroyed }}{{ end }}", 0) ==
        "true");
  CHECK(run("{{ with secret \"secret/later\" }}{{ .Data.data.pw }}{{ end }}", 0) == "later-Pw-2Wd");
}
