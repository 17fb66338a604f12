// `templet deps`: the dependencies a template set reads, found by rendering against recorded
// answers, exactly those the values given let it reach (issue 20, item 5).
#include <catch2/catch.hpp>

#include "app/deps_command.hpp"
#include "functions/values_file.hpp"
#include "tests/unit/test_support.hpp"

using namespace templet;
using templet::testing::run_shell;
using templet::testing::spit;
using templet::testing::TempDir;

namespace {

const char* kTemplate =
    R"({{ env "ENVIRONMENT" }} {{ if keyExists "app/enabled" }}{{ with secret "database/creds/ro" }})"
    R"({{ .Data.username }}{{ end }}{{ end }}{{ range ls "app/list" }}{{ end }})"
    R"({{ with secret "secret/flag" }}{{ key "app/inner" }}{{ end }}{{ range service "web" }}{{ end }})";

Config one_template(const std::string& dest) {
  Config c;
  TemplateConfig t;
  t.origin = "test";
  t.contents = kTemplate;
  t.destination = dest;
  c.templates.push_back(t);
  std::map<std::string, std::string> env;
  finalize_config(c, &env);
  return c;
}

}  // namespace

TEST_CASE("deps: without values, only what the template reaches unconditionally", "[deps]") {
  auto all = collect_deps(one_template("/etc/x"), EmptyDataSource(),
                          [](std::string_view) { return std::nullopt; });
  CHECK(format_deps(all) ==
        "/etc/x ((dynamic))\n"
        "  kv.get            app/enabled\n"
        "  kv.list           app/list\n"
        "  vault.read        secret/flag\n"
        "  health.service    web\n"
        "  env               ENVIRONMENT\n");
}

TEST_CASE("deps: the values given open the with/if branches they reach", "[deps]") {
  auto values = ValuesFile::parse(R"(
consul:
  kv:
    app/enabled: "true"
vault:
  secret/flag:
    data: {on: "yes"}
)",
                                  "values.yaml");
  auto all = collect_deps(one_template("/etc/x"), values,
                          [&](std::string_view n) { return values.env(n); });
  auto j = deps_json(all);
  CHECK(j["vault"] == nlohmann::json({"database/creds/ro", "secret/flag"}));
  CHECK(j["consul"] ==
        nlohmann::json::parse(R"({"catalog": [], "keys": ["app/enabled", "app/inner"],
      "prefixes": ["app/list"], "services": ["web"]})"));
  CHECK(j["env"] == nlohmann::json({"ENVIRONMENT"}));
  CHECK(j["templates"][0]["dependencies"][1] ==
        nlohmann::json::parse(
            R"j({"dependency": "vault.read(database/creds/ro)", "kind": "vault.read",
                "target": "database/creds/ro"})j"));
  CHECK(j["templates"][0]["error"].is_null());
}

TEST_CASE("deps: the command prints JSON, and a broken template exits 1 naming it", "[deps]") {
  TempDir d;
  spit(d.path / "t.yaml", "state_dir: " + (d.path / "state").string() +
                              "\ntemplates:\n  - contents: '{{ key \"a\" }}{{ if }}'\n"
                              "    destination: /etc/x\n");
  auto r = run_shell(std::string(TEMPLET_BINARY) + " deps -c " + (d.path / "t.yaml").string());
  CHECK(r.status == 1);
  CHECK(r.out.rfind("/etc/x ((dynamic))\n  error: template: (dynamic):1:", 0) == 0);
  spit(d.path / "t.yaml", "state_dir: " + (d.path / "state").string() +
                              "\ntemplates:\n  - contents: '{{ key \"a\" }}'\n"
                              "    destination: /etc/x\n");
  r = run_shell(std::string(TEMPLET_BINARY) + " deps --json -c " + (d.path / "t.yaml").string());
  CHECK(r.status == 0);
  CHECK(nlohmann::json::parse(r.out)["consul"]["keys"] == nlohmann::json({"a"}));
}
