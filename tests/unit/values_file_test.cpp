// The values file: its answers as API bodies, its errors, and `templet preview --values` end to
// end (the built binary, exact stdout/stderr and exit status).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "functions/values_file.hpp"
#include "tests/unit/test_support.hpp"

using namespace templet;

namespace {

const std::string kDataDir = std::string(TEMPLET_SOURCE_DIR) + "/tests/data";

std::string parse_error(const std::string& yaml) {
  try {
    ValuesFile::parse(yaml, "v.yaml");
  } catch (const ValuesError& e) {
    return e.what();
  }
  return "(no error)";
}

using Run = templet::testing::ShellRun;

Run run_templet(const std::string& args) {
  return templet::testing::run_shell(std::string(TEMPLET_BINARY) + " " + args);
}

}  // namespace

TEST_CASE("values file answers with API-shaped bodies", "[values]") {
  ValuesFile v = ValuesFile::load(kDataDir + "/values.yaml");
  auto kv = v.fetch(parse_kv_get("redash/app-qa/db_host"));
  REQUIRE(kv);
  CHECK(kv->status == 200);
  auto j = nlohmann::json::parse(kv->body);
  CHECK(j[0]["Key"] == "redash/app-qa/db_host");
  CHECK(j[0]["Value"] == "ZGIuaW50ZXJuYWw=");
  // Absent key: a 404 answer for both kv.get and kv.block (key then waits on it).
  auto none = v.fetch(parse_kv_block("nope"));
  REQUIRE(none);
  CHECK(none->status == 404);
  // A leading / in the file is dropped, as in templates.
  CHECK(v.fetch(parse_kv_get("redash/app-qa/empty"))->status == 200);
  auto list = v.fetch(parse_kv_list("app/"));
  REQUIRE(list);
  CHECK(nlohmann::json::parse(list->body).size() == 4);
  CHECK(v.fetch(parse_kv_list("zzz"))->status == 404);
  // Vault: by identity; absent → missing.
  CHECK(v.fetch(parse_vault_read("secret/app/"))->status == 200);
  CHECK_FALSE(v.fetch(parse_vault_read("secret/nope")));
  CHECK_FALSE(v.fetch(parse_vault_read("secret/other?version=3")));
  CHECK(v.fetch(parse_vault_write("transit/encrypt/app", {"plaintext=x"})));
  CHECK_FALSE(v.fetch(parse_vault_list("nothing")));
  CHECK_FALSE(v.fetch(parse_health_service("nothere")));
  CHECK_FALSE(v.fetch(parse_catalog_node("")));
  auto health = v.fetch(parse_health_service("db"));
  REQUIRE(health);
  CHECK(nlohmann::json::parse(health->body)[0]["Checks"][0]["Status"] == "passing");
  CHECK(v.env("ENVIRONMENT") == std::optional<std::string>("data-qa"));
  CHECK(v.env("EMPTY") == std::optional<std::string>(""));
  CHECK_FALSE(v.env("PATH"));
}

TEST_CASE("values file errors name FILE:LINE:COL", "[values]") {
  CHECK(parse_error("env: [a\n") == "v.yaml:2:1: end of sequence flow not found");
  CHECK(
      parse_error("envs: {}\n") ==
      R"(v.yaml:1:1: unknown section "envs" (expected env, consul, vault, influxdb, sockaddr or files))");
  CHECK(parse_error("consul:\n  kv:\n    a: {b: c}\n") ==
        "v.yaml:3:8: consul.kv.a must be a string");
  CHECK(parse_error("consul:\n  services:\n    web: [{Adress: x}]\n") ==
        R"(v.yaml:3:12: unknown service instance field "Adress")");
  CHECK(parse_error("consul:\n  nodes: {}\n") ==
        "v.yaml:2:3: unknown key consul.nodes (expected kv, services, datacenters, connect, "
        "ca_roots, ca_leaf, partitions, peerings, exported_services or imported_services)");
  CHECK(parse_error("vault:\n  p: '{not json'\n") ==
        "v.yaml:2:6: vault.p: not a JSON response body");
  CHECK(parse_error("") == "(no error)");
  CHECK_THROWS_WITH(ValuesFile::load(kDataDir + "/absent.yaml"),
                    kDataDir + "/absent.yaml: No such file or directory");
}

TEST_CASE("templet preview --values renders from the values file", "[values][cli]") {
  Run r =
      run_templet("preview " + kDataDir + "/preview.tmpl --values " + kDataDir + "/values.yaml");
  CHECK(r.err == "");
  CHECK(r.status == 0);
  CHECK(r.out ==
        "# data-qa\n"
        "host: db.internal\n"
        "port: 5432\n"
        "user: v-readonly-x1\n"
        "ratio: 1.50\n"
        "web: n1 10.0.1.1:8080\n"
        "web: n2 10.0.0.2:80\n");
}

TEST_CASE("templet preview exits 3 naming every missing dependency", "[values][cli]") {
  Run r = run_templet("preview " + kDataDir + "/preview_missing.tmpl --values " + kDataDir +
                      "/values.yaml");
  CHECK(r.status == 3);
  CHECK(r.out == "");
  CHECK(r.err ==
        "templet: missing data: key \"redash/x/db_host\"\n"
        "templet: missing data: secret \"postgres-x/creds/readonly\"\n"
        "templet: missing data: service \"api\"\n");
  // Without --values there is no data source at all: everything is missing.
  Run none = run_templet("preview " + kDataDir + "/preview.tmpl");
  CHECK(none.status == 3);
  CHECK(none.out == "");
  CHECK(none.err ==
        "templet: missing data: key \"redash/app-qa/db_host\"\n"
        "templet: missing data: keyOrDefault \"redash/app-qa/db_port\"\n"
        "templet: missing data: secret \"postgres-app/creds/readonly\"\n"
        "templet: missing data: service \"web\"\n");
}

TEST_CASE("templet preview flags: denylist, sandbox, bad values file", "[values][cli]") {
  Run denied = run_templet("preview " + kDataDir + "/preview.tmpl --values " + kDataDir +
                           "/values.yaml --function-denylist env,nothing");
  CHECK(denied.status == 1);
  CHECK(denied.out == "");
  CHECK(denied.err.find("error calling env: function is disabled") != std::string::npos);
  Run bad =
      run_templet("preview " + kDataDir + "/preview.tmpl --values " + kDataDir + "/hello.txt");
  CHECK(bad.status == 2);
  Run shown = run_templet("preview " + kDataDir + "/preview.tmpl --values " + kDataDir +
                          "/values.yaml --show-secrets --sandbox-path " + kDataDir);
  CHECK(shown.status == 0);
}

TEST_CASE("values file: files: feeds `file`, and nothing else is read", "[values][cli]") {
  templet::testing::TempDir d;
  // A real file the values file does not list: a preview must not read it.
  templet::testing::spit(d.path / "on-disk.txt", "from the disk\n");
  templet::testing::spit(d.path / "t.tmpl",
                         "token={{ file \"/etc/app/token\" }} ip={{ file \"/etc/./app/ip\" | "
                         "trimSpace }} {{ file \"" +
                             (d.path / "on-disk.txt").string() + "\" }}\n");
  templet::testing::spit(d.path / "v.yaml",
                         "files:\n  /etc/app/token: tok-123\n  /etc/app/ip: |\n    10.1.2.3\n");
  Run r = run_templet("preview " + (d.path / "t.tmpl").string() + " --values " +
                      (d.path / "v.yaml").string());
  CHECK(r.status == 3);
  CHECK(r.out.empty());
  CHECK(r.err == "templet: missing data: file \"" + (d.path / "on-disk.txt").string() + "\"\n");

  templet::testing::spit(d.path / "v.yaml",
                         "files:\n  /etc/app/token: tok-123\n  /etc/app/ip: "
                         "|\n    10.1.2.3\n  " +
                             (d.path / "on-disk.txt").string() + ": given\n");
  r = run_templet("preview " + (d.path / "t.tmpl").string() + " --values " +
                  (d.path / "v.yaml").string());
  CHECK(r.status == 0);
  CHECK(r.out == "token=tok-123 ip=10.1.2.3 given\n");
  // A sandbox is checked on the paths as written: /etc/app need not exist on this machine.
  templet::testing::spit(d.path / "s.tmpl", "{{ file \"/etc/app/token\" }}");
  r = run_templet("preview " + (d.path / "s.tmpl").string() + " --values " +
                  (d.path / "v.yaml").string() + " --sandbox-path /etc/app");
  CHECK(r.status == 0);
  CHECK(r.out == "tok-123");
  r = run_templet("preview " + (d.path / "s.tmpl").string() + " --values " +
                  (d.path / "v.yaml").string() + " --sandbox-path /etc/other/");
  CHECK(r.status == 1);
  CHECK(r.err.find("error calling file: '/etc/app/token' is outside of sandbox") !=
        std::string::npos);
  CHECK(parse_error("files:\n  /x: {a: 1}\n") == "v.yaml:2:7: files./x must be a string");
  CHECK(parse_error("filez: {}\n") ==
        "v.yaml:1:1: unknown section \"filez\" (expected env, consul, vault, influxdb, sockaddr or "
        "files)");
}
