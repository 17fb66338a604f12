// consul-template's data functions rendered against a values file (tests/data/values.yaml) and
// against raw API answers: exact outputs, placeholders, missing dependencies and taint.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "functions/data_source.hpp"
#include "functions/data_types.hpp"
#include "functions/dependency.hpp"
#include "functions/digest.hpp"
#include "functions/render.hpp"
#include "functions/values_file.hpp"
#include "renderer/template.hpp"

using namespace templet;

namespace {

const std::string kDataDir = std::string(TEMPLET_SOURCE_DIR) + "/tests/data";

const ValuesFile& values() {
  static const ValuesFile v = ValuesFile::load(kDataDir + "/values.yaml");
  return v;
}

RenderResult run_with(const std::string& text, const DataSource& source, const RenderEnv& env,
                      const std::vector<std::string>& deny = {}) {
  FunctionOptions fo;
  fo.denylist = deny;
  FunctionTable funcs = consul_template_functions(fo);
  TemplateOptions to;
  to.name = "t";
  to.funcs = &funcs;
  Template t(text, to);
  return render(t, source, env);
}

// The values file, with `file` answered from the local disk as a live run does (a values file
// answers `file` from its files: section only), for the tests of `file`'s own rules.
class WithLocalFiles : public DataSource {
 public:
  explicit WithLocalFiles(const DataSource& inner) : inner_(inner) {}
  std::optional<Response> fetch(const Dependency& dep) const override {
    if (dep.type != DepType::File) return inner_.fetch(dep);
    std::ifstream in(dep.target, std::ios::binary);
    if (!in) throw FetchError(dep.id + ": open " + dep.target + ": no such file or directory");
    std::stringstream ss;
    ss << in.rdbuf();
    return Response{200, ss.str()};
  }

 private:
  const DataSource& inner_;
};

RenderResult run(const std::string& text, const std::string& sandbox = "") {
  static const WithLocalFiles source(values());
  RenderEnv env = values().render_env(sandbox);
  env.offline_files = false;  // the files are on this disk: symlinks are resolved
  return run_with(text, source, env);
}

std::string out(const std::string& text) {
  RenderResult r = run(text);
  return r.output;
}

std::string error_of(const std::string& text, const std::string& sandbox = "") {
  try {
    run(text, sandbox);
  } catch (const ExecError& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<std::string> ids(const std::vector<Dependency>& deps) {
  std::vector<std::string> v;
  for (const auto& d : deps) v.push_back(d.id);
  return v;
}

// Answers from canned API bodies, by identity.
struct FakeSource : DataSource {
  std::map<std::string, Response> answers;
  std::optional<Response> fetch(const Dependency& d) const override {
    auto it = answers.find(d.id);
    if (it == answers.end()) return std::nullopt;
    return it->second;
  }
};

}  // namespace

TEST_CASE("dependency identities match consul-template's", "[data][identity]") {
  struct Case {
    Dependency (*parse)(std::string_view);
    std::string in, id;
  };
  std::vector<Case> cases = {
      {parse_kv_get, "a/b", "kv.get(a/b)"},
      {parse_kv_get, "/a/b", "kv.get(a/b)"},
      {parse_kv_block, "a/b@dc1", "kv.block(a/b@dc1)"},
      {parse_kv_get, "a?ns=n&partition=p@dc1", "kv.get(a@dc1@partition=p@ns=n)"},
      {parse_kv_get, "a?peer=x", "kv.get(a)"},
      {parse_kv_list, "app/", "kv.list(app/)"},
      {parse_kv_list, "/app", "kv.list(app)"},
      {parse_health_service, "web", "health.service(web|passing)"},
      {parse_health_service, "tag.web@dc1~agent|any", "health.service(tag.web@dc1~agent|any)"},
      {parse_health_service, "web|warning,passing", "health.service(web|passing,warning)"},
      {parse_health_service, "a.b.web", "health.service(a.b.web|passing)"},
      {parse_health_service, "web?peer=p&ns=n", "health.service(web@ns=n@peer=p|passing)"},
      {parse_health_service, "web?sameness-group=g",
       "health.service(web@sameness-group=g|passing)"},
      {parse_catalog_services, "", "catalog.services"},
      {parse_catalog_services, "@dc1", "catalog.services(@dc1)"},
      {parse_catalog_node, "", "catalog.node"},
      {parse_catalog_node, "n1.x@dc1", "catalog.node(n1.x@dc1)"},
      {parse_catalog_nodes, "", "catalog.nodes"},
      {parse_catalog_nodes, "?ns=n@dc1~me", "catalog.nodes(@dc1@ns=n~me)"},
      {parse_vault_read, " /secret/foo/ ", "vault.read(secret/foo)"},
      {parse_vault_read, "secret/foo?version=2", "vault.read(secret/foo.v2)"},
      {parse_vault_read, "secret/foo?x=1", "vault.read(secret/foo)"},
      {parse_vault_read, "secret/a%20b", "vault.read(secret/a b)"},
      {parse_vault_list, "secret/", "vault.list(secret)"},
      {parse_file, "/etc/x", "file(/etc/x)"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    CHECK(c.parse(c.in).id == c.id);
  }
  // Writes: SHA-1 over the sorted k=%q pairs, first 4 bytes.
  CHECK(parse_vault_write("transit/encrypt/x", {"plaintext=abc"}).id ==
        "vault.write(transit/encrypt/x -> f69d1379)");
  CHECK(parse_vault_write("/p/", {" plaintext = abc "}).id == "vault.write(p -> f69d1379)");
  CHECK(parse_vault_write("p", {""}).id == "vault.write(p -> da39a3ee)");
  CHECK(parse_vault_write("p", {"b=2", "a=1"}).id == "vault.write(p -> 7342b7a6)");
  CHECK(parse_vault_write("p", {"a=1", "b=2"}).body ==
        std::vector<std::pair<std::string, std::string>>{{"a", "1"}, {"b", "2"}});
}

TEST_CASE("bad dependency arguments fail with consul-template's messages", "[data][identity]") {
  struct Case {
    Dependency (*parse)(std::string_view);
    std::string in, error;
  };
  std::vector<Case> cases = {
      {parse_kv_get, "@dc1", R"(kv.get: invalid format: "@dc1")"},
      {parse_kv_get, "a?foo=1",
       R"(kv.get: invalid query parameter key "foo" in query "foo=1": supported keys: ns,peer,partition,sameness-group)"},
      {parse_kv_list, "a?x",
       R"(kv.list: invalid query parameter key "x" in query "x": supported keys: ns,peer,partition,sameness-group)"},
      {parse_health_service, "", R"(health.service: invalid format: "")"},
      {parse_health_service, "web|bogus",
       R"(health.service: invalid filter: "bogus" in "web|bogus")"},
      {parse_health_service, "we b", R"(health.service: invalid format: "we b")"},
      {parse_health_service, "web?peer=p&sameness-group=g",
       "health.service: cannot specify both peer and sameness-group"},
      {parse_catalog_node, "a b", R"(catalog.node: invalid format: "a b")"},
      {parse_catalog_nodes, "n1", R"(catalog.nodes: invalid format: "n1")"},
      {parse_catalog_services, "x", R"(catalog.services: invalid format: "x")"},
      {parse_vault_read, "//", R"(vault.read: invalid format: "")"},
      {parse_vault_list, " ", R"(vault.list: invalid format: "")"},
      {parse_vault_read, "a%zz", R"(parse "a%zz": invalid URL escape "%zz")"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    try {
      c.parse(c.in);
      FAIL("no error");
    } catch (const DependencyError& e) {
      CHECK(std::string(e.what()) == c.error);
    }
  }
  CHECK_THROWS_WITH(parse_vault_write("p", {"novalue"}), R"(not k=v pair "novalue")");
}

TEST_CASE("go_clean_path follows Go", "[data]") {
  CHECK(go_clean_path("/srv/sb/../etc//passwd/") == "/srv/etc/passwd");
  CHECK(go_clean_path("a/./b/..") == "a");
  CHECK(go_clean_path("../../x") == "../../x");
  CHECK(go_clean_path("") == ".");
  CHECK(go_clean_path("/..") == "/");
}

TEST_CASE("KV functions render values and placeholders", "[data][kv]") {
  struct Case {
    std::string tmpl, output;
    bool complete;
  };
  std::vector<Case> cases = {
      {R"({{ key "redash/app-qa/db_host" }})", "db.internal", true},
      {R"({{ key "/redash/app-qa/db_host" }})", "db.internal", true},
      {R"({{ key "redash/app-qa/db_port" }})", "5432", true},
      {R"({{ key "redash/app-qa/empty" }}|)", "|", true},
      {R"({{ key "" }}|)", "|", true},
      {R"({{ key "nope" }}|)", "|", false},
      {R"({{ keyExists "redash/app-qa/empty" }})", "true", true},
      {R"({{ keyExists "nope" }})", "false", true},
      {R"({{ keyExists "" }})", "false", true},
      {R"({{ keyOrDefault "redash/app-qa/db_host" "d" }})", "db.internal", true},
      {R"({{ keyOrDefault "redash/app-qa/empty" "d" }})", "d", true},
      {R"({{ keyOrDefault "nope" "d" }})", "d", true},
      {R"({{ keyOrDefault "" "d" }})", "d", true},
      {R"({{ range ls "app/" }}{{ .Key }}={{ .Value }};{{ end }})", "a=1;", true},
      {R"({{ range ls "app" }}{{ .Key }}={{ .Value }};{{ end }})", "a=1;le=red;", true},
      {R"({{ range tree "app/" }}{{ .Key }}={{ .Value }} {{ .Path }};{{ end }})",
       "a=1 app/a;b/c=2 app/b/c;", true},
      {R"({{ range safeLs "app/" }}{{ .Key }};{{ end }})", "a;", true},
      {R"({{ ls "none/" }})", "[]", true},
      {R"({{ tree "none/" }})", "[]", true},
      {R"({{ safeLs "none/" }})", "[]", false},
      {R"({{ safeTree "none/" }})", "[]", false},
      {R"({{ safeTree "app/d/" }})", "[]", false},
      {R"({{ ls "" }})", "[]", true},
      {R"({{ range ls "app/" }}{{ .CreateIndex }} {{ .Flags }} {{ printf "%q" .Session }}{{ end }})",
       R"(0 0 "")", true},
      {R"({{ printf "%T" (ls "app/") }})", "[]*dependency.KeyPair", true},
  };
  for (const auto& c : cases) {
    INFO(c.tmpl);
    RenderResult r = run(c.tmpl);
    CHECK(r.output == c.output);
    CHECK(r.complete == c.complete);
  }
}

TEST_CASE("missing dependencies are recorded once, in first-use order", "[data][missing]") {
  RenderResult r =
      run(R"({{ key "x" }}{{ secret "s/x" }}{{ key "/x" }}{{ keyExists "x" }}{{ service "api" }})");
  CHECK_FALSE(r.complete);
  CHECK(ids(r.used) == std::vector<std::string>{"kv.block(x)", "vault.read(s/x)", "kv.get(x)",
                                                "health.service(api|passing)"});
  CHECK(ids(r.missing) ==
        std::vector<std::string>{"kv.block(x)", "vault.read(s/x)", "health.service(api|passing)"});
  REQUIRE(r.missing.size() == 3);
  CHECK(r.missing[0].call == R"(key "x")");
  CHECK(r.missing[1].call == R"(secret "s/x")");
  CHECK(r.missing[2].call == R"(service "api")");

  // Without any data, everything is missing and placeholders keep the pass alive.
  EmptyDataSource none;
  RenderResult e = run_with(
      R"({{ key "a" }}|{{ keyOrDefault "b" "def" }}|{{ keyExists "c" }}|{{ ls "d" }}|)"
      R"({{ secret "e" }}|{{ secrets "f" }}|{{ service "g" }}|{{ services }}|{{ node }}|)"
      R"({{ nodes }}|{{ file "/etc/hostname" }}|{{ with secret "e" }}x{{ else }}nil{{ end }})",
      none, RenderEnv{});
  CHECK(e.output == "|def|false|[]|<no value>|[]|[]|[]|<no value>|[]||nil");
  CHECK(ids(e.missing) == std::vector<std::string>{"kv.block(a)", "kv.get(b)", "kv.get(c)",
                                                   "kv.list(d)", "vault.read(e)", "vault.list(f)",
                                                   "health.service(g|passing)", "catalog.services",
                                                   "catalog.node", "catalog.nodes",
                                                   "file(/etc/hostname)"});
  CHECK(run_with(R"({{ $s := secret "e" }}{{ $s.Data.x }})", none, RenderEnv{}).output ==
        "<no value>");
}

TEST_CASE("secret reads, versions and writes", "[data][vault]") {
  struct Case {
    std::string tmpl, output;
  };
  std::vector<Case> cases = {
      {R"({{ with secret "postgres-app/creds/readonly" }}{{ .Data.username }} {{ .LeaseID }} {{ .LeaseDuration }} {{ .Renewable }} {{ .RequestID }}{{ end }})",
       "v-readonly-x1 postgres-app/creds/readonly/abc 3600 true req-1"},
      {R"({{ with secret "/postgres-app/creds/readonly/" }}{{ .Data.ratio }} {{ .Data.port }}{{ end }})",
       "1.50 8080"},
      {R"({{ with secret "postgres-app/creds/readonly" }}{{ printf "%T %T %T" .Data.ratio .LeaseDuration .Data }}{{ end }})",
       "json.Number int map[string]interface {}"},
      {R"({{ with secret "postgres-app/creds/readonly" }}{{ eq .Data.port "8080" }}{{ end }})",
       "true"},
      {R"({{ (secret "secret/app").Data.data.api_key }} {{ (secret "secret/app").Data.metadata.version }})",
       "k-123 3"},
      {R"({{ (secret "secret/app?version=1").Data.data.api_key }})", "k-old"},
      {R"({{ (secret "secret/other").Data.missing }})", "<no value>"},
      {R"({{ with secret "secret/other" }}{{ .Warnings }} {{ .Auth }} {{ .WrapInfo }}{{ end }})",
       "[] <nil> <nil>"},
      {R"({{ with secret "transit/encrypt/app" "plaintext=aGk=" }}{{ .Data.ciphertext }}{{ end }})",
       "vault:v1:abc"},
      {R"({{ with secret "auth/token/create" "" }}{{ .Auth.ClientToken }} {{ .Auth.Policies }} {{ .Auth.LeaseDuration }}{{ end }})",
       "s.token [default] 60"},
      {R"({{ secrets "secret/" }})", "[app other]"},
      {R"({{ secrets "" }})", "[]"},
  };
  for (const auto& c : cases) {
    INFO(c.tmpl);
    RenderResult r = run(c.tmpl);
    CHECK(r.output == c.output);
    CHECK(r.complete);
  }
  CHECK_THAT(error_of(R"({{ secret "p" "novalue" }})"),
             Catch::Contains(R"(error calling secret: not k=v pair "novalue")"));
  CHECK_THAT(error_of(R"({{ secret "" }})"),
             Catch::Contains(R"(error calling secret: vault.read: invalid format: "")"));
  CHECK(out(R"({{ secret }})") == "<no value>");
  CHECK_THAT(error_of(R"({{ secret "/" }})"),
             Catch::Contains(R"(error calling secret: vault.read: invalid format: "")"));
}

TEST_CASE("Vault data numbers keep their JSON literal text", "[data][vault]") {
  Value s = dtypes::vault_secret(
      R"({"lease_duration": 7, "data": {"a": 1.50, "b": 1e3, "c": -0.0, "d": 12345678901234567890123, "e": [1, {"f": 2.0}]}})");
  FakeSource src;
  src.answers["vault.read(p)"] = Response{
      200,
      R"({"lease_duration": 7, "data": {"a": 1.50, "b": 1e3, "c": -0.0, "d": 12345678901234567890123, "e": [1, {"f": 2.0}]}})"};
  RenderResult r = run_with(
      R"({{ with secret "p" }}{{ .Data.a }} {{ .Data.b }} {{ .Data.c }} {{ .Data.d }} {{ .Data.e }} {{ .LeaseDuration }}{{ end }})",
      src, RenderEnv{});
  CHECK(r.output == "1.50 1e3 -0.0 12345678901234567890123 [1 map[f:2.0]] 7");
}

TEST_CASE("secret-derived text printed is reported, plain data is not", "[data][taint]") {
  RenderResult r =
      run(R"({{ key "redash/app-qa/db_host" }} {{ with secret "postgres-app/creds/readonly" }})"
          R"({{ .Data.password }} {{ printf "%s@%s" .Data.username "h" }} {{ .LeaseID }} )"
          R"({{ .Data.username | print }} {{ .Data.port }} {{ .RequestID }}{{ end }})");
  CHECK(r.output ==
        "db.internal not-a-real-password v-readonly-x1@h postgres-app/creds/readonly/abc "
        "v-readonly-x1 8080 req-1");
  CHECK(r.secrets == std::set<std::string>{"not-a-real-password", "v-readonly-x1@h",
                                           "postgres-app/creds/readonly/abc", "v-readonly-x1"});
  RenderResult t = run(R"({{ (secret "auth/token/create" "").Auth.ClientToken }})");
  CHECK(t.secrets == std::set<std::string>{"s.token"});
}

TEST_CASE("service filters, sorts and shapes health entries", "[data][consul]") {
  struct Case {
    std::string tmpl, output;
  };
  std::vector<Case> cases = {
      {R"({{ range service "web" }}{{ .Node }} {{ .ID }} {{ .Address }}:{{ .Port }} {{ .Tags }} {{ .Status }};{{ end }})",
       "n1 web-1 10.0.1.1:8080 [a] passing;n2 web 10.0.0.2:80 [a b] passing;"},
      {R"({{ range service "web|any" }}{{ .Node }}/{{ .ID }}/{{ .Status }};{{ end }})",
       "n1/web-0/warning;n1/web-1/passing;n2/web/passing;n3/web/critical;"},
      {R"({{ range service "web" "warning,critical" }}{{ .Node }}/{{ .Status }};{{ end }})",
       "n1/warning;n3/critical;"},
      {R"({{ range service "a.web" }}{{ .Node }};{{ end }})", "n1;n2;"},
      {R"({{ range service "c.web|any" }}{{ .Node }};{{ end }})", "n3;"},
      {R"({{ range service "db" }}{{ .Address }} {{ .NodeAddress }} {{ .ServiceMeta.role }} {{ .Name }} {{ .Weights.Passing }} {{ len .Checks }}{{ end }})",
       "10.0.0.5 10.0.1.1 primary db 1 1"},
      {R"({{ service "" }})", "[]"},
      {R"({{ range services }}{{ .Name }}:{{ .Tags }};{{ end }})", "db:[];web:[a b c];"},
      {R"({{ range nodes }}{{ .Node }}@{{ .Address }};{{ end }})",
       "n1@10.0.1.1;n2@10.0.0.2;n3@10.0.0.3;"},
      {R"({{ with node "n1" }}{{ .Node.Address }}{{ range .Services }} {{ .Service }}/{{ .ID }}{{ end }}{{ end }})",
       "10.0.1.1 db/db web/web-0 web/web-1"},
      {R"({{ with node "nx" }}{{ .Node }}{{ end }})", "<nil>"},
  };
  for (const auto& c : cases) {
    INFO(c.tmpl);
    RenderResult r = run(c.tmpl);
    CHECK(r.output == c.output);
    CHECK(r.complete);
  }
  CHECK_THAT(
      error_of(R"({{ service "web|bogus" }})"),
      Catch::Contains(
          R"(error calling service: health.service: invalid filter: "bogus" in "web|bogus")"));
}

TEST_CASE("service answers from Consul's API body", "[data][consul]") {
  FakeSource src;
  src.answers["health.service(api|any)"] = Response{200, R"([
    {"Node": {"ID": "i2", "Node": "b", "Address": "10.1.0.2", "Datacenter": "dc1",
              "TaggedAddresses": {"lan": "10.1.0.2"}, "Meta": null},
     "Service": {"ID": "api-2", "Service": "api", "Tags": ["z", "y"], "Address": "",
                 "Meta": {"v": "2"}, "Port": 9000, "Weights": {"Passing": 3, "Warning": 1},
                 "TaggedAddresses": {"wan": {"Address": "1.2.3.4", "Port": 9001}}},
     "Checks": [{"CheckID": "serfHealth", "Status": "passing"},
                {"CheckID": "_service_maintenance:api-2", "Status": "critical"}]},
    {"Node": {"Node": "a", "Address": "10.1.0.1"},
     "Service": {"ID": "api-1", "Service": "api", "Port": 9000},
     "Checks": [{"CheckID": "c", "Status": "warning"}]}
  ])"};
  RenderResult r = run_with(
      R"({{ range service "api|any" }}{{ .Node }} {{ .Address }} {{ .Status }} {{ .Tags }} {{ .NodeTaggedAddresses.lan }} {{ .Weights.Passing }} {{ .NodeMeta }};{{ end }})"
      R"({{ range service "api|any" }}{{ with .ServiceTaggedAddresses.wan }}{{ .Address }}:{{ .Port }}{{ end }}{{ end }})",
      src, RenderEnv{});
  CHECK(r.output ==
        "a 10.1.0.1 warning [] <no value> 0 map[];b 10.1.0.2 maintenance [y z] 10.1.0.2 3 map[];"
        "1.2.3.4:9001");
}

TEST_CASE("env sees only the values file's environment", "[data][env]") {
  struct Case {
    std::string tmpl, output;
  };
  std::vector<Case> cases = {
      {R"({{ env "ENVIRONMENT" }})", "data-qa"},     {R"({{ env "HOME" }}|)", "|"},
      {R"({{ envOrDefault "EMPTY" "d" }}|)", "|"},   {R"({{ envOrDefault "UNSET" "d" }})", "d"},
      {R"({{ mustEnv "ENVIRONMENT" }})", "data-qa"},
  };
  for (const auto& c : cases) {
    INFO(c.tmpl);
    CHECK(out(c.tmpl) == c.output);
  }
  CHECK_THAT(
      error_of(R"({{ mustEnv "EMPTY" }})"),
      Catch::Contains("error calling mustEnv: required environment variable EMPTY is empty"));
  CHECK_THAT(error_of(R"({{ mustEnv "UNSET" }})"),
             Catch::Contains("required environment variable UNSET is empty"));
}

TEST_CASE("file reads local files, inside the sandbox when one is set", "[data][file]") {
  std::string hello = kDataDir + "/hello.txt";
  CHECK(out(R"({{ file ")" + hello + R"(" }})") == "file contents\n");
  CHECK(out(R"({{ file "" }}|)") == "|");
  RenderResult r = run(R"({{ file " )" + kDataDir + R"(/./hello.txt " }})");
  CHECK(ids(r.used) == std::vector<std::string>{"file(" + hello + ")"});
  CHECK(run(R"({{ file ")" + hello + R"(" }})", kDataDir).output == "file contents\n");
  CHECK_THAT(error_of(R"({{ file ")" + kDataDir + R"(/../CMakeLists.txt" }})", kDataDir),
             Catch::Contains("error calling file: '" + kDataDir +
                             "/../CMakeLists.txt' is outside of sandbox"));
  CHECK_THAT(error_of(R"({{ file ")" + kDataDir + R"(/nope" }})", kDataDir),
             Catch::Contains("error calling file: failed to resolve target path: lstat " +
                             kDataDir + "/nope: no such file or directory"));
  CHECK_THAT(error_of(R"({{ file ")" + kDataDir + R"(/nope" }})"),
             Catch::Contains("error calling file: file(" + kDataDir + "/nope): open " + kDataDir +
                             "/nope: no such file or directory"));
}

TEST_CASE("file resolves symlinks before the sandbox check", "[data][file]") {
  namespace fs = std::filesystem;
  char tmpl[] = "/tmp/templet-sandbox-XXXXXX";
  fs::path root = ::mkdtemp(tmpl);
  fs::create_directories(root / "box" / "sub");
  fs::create_directories(root / "outside");
  std::ofstream(root / "box" / "sub" / "in.txt") << "inside";
  std::ofstream(root / "outside" / "secret.txt") << "outside";
  fs::create_symlink("sub/in.txt", root / "box" / "to-inside");
  fs::create_symlink("../outside/secret.txt", root / "box" / "to-outside");
  fs::create_symlink("../outside", root / "box" / "dir-outside");
  fs::create_symlink("box", root / "box-link");
  const std::string box = (root / "box").string();
  auto file = [](const fs::path& p) { return "{{ file \"" + p.string() + "\" }}"; };

  CHECK(run(file(root / "box" / "to-inside"), box).output == "inside");
  // A sandbox named through a symlink is the directory it points to.
  CHECK(run(file(root / "box" / "sub" / "in.txt"), (root / "box-link").string()).output ==
        "inside");
  for (const fs::path& escape :
       {root / "box" / "to-outside", root / "box" / "dir-outside" / "secret.txt",
        root / "box-link" / ".." / "outside" / "secret.txt"}) {
    INFO(escape);
    // Go cuts the node in the error context after 20 bytes.
    std::string node = ("file \"" + escape.string() + "\"").substr(0, 20) + "...";
    CHECK(error_of(file(escape), box) == "template: t:1:3: executing \"t\" at <" + node +
                                             ">: error calling file: '" + escape.string() +
                                             "' is outside of sandbox");
  }
  fs::remove_all(root);
}

TEST_CASE("the denylist can turn off plugin and writeToFile", "[data][denylist]") {
  std::string target = "/tmp/templet-denied-" + std::to_string(::getpid());
  for (const std::string& text : {std::string(R"({{ plugin "/bin/echo" "x" }})"),
                                  R"({{ writeToFile ")" + target + R"(" "" "" "0644" "x" }})"}) {
    INFO(text);
    try {
      run_with(text, values(), values().render_env(), {"plugin", "writeToFile"});
      FAIL("no error");
    } catch (const ExecError& e) {
      CHECK_THAT(e.what(), Catch::EndsWith(": function is disabled"));
    }
  }
  CHECK_FALSE(std::filesystem::exists(target));
}

TEST_CASE("scratch keeps values for one execution", "[data][scratch]") {
  struct Case {
    std::string tmpl, output;
  };
  std::vector<Case> cases = {
      {R"({{ scratch.Key "a" }} {{ scratch.Get "a" }})", "false <no value>"},
      {R"({{ scratch.Set "a" 1 }}{{ scratch.Key "a" }} {{ scratch.Get "a" }})", "true 1"},
      {R"({{ scratch.Set "a" 1 }}{{ scratch.SetX "a" 2 }}{{ scratch.Get "a" }})", "1"},
      {R"({{ scratch.SetX "a" 2 }}{{ scratch.Get "a" }})", "2"},
      {R"({{ scratch.Set "a" nil }}{{ scratch.Key "a" }} {{ scratch.Get "a" }})",
       "true <no value>"},
      {R"({{ scratch.MapSet "m" "b" 2 }}{{ scratch.MapSet "m" "a" 1 }}{{ scratch.MapSetX "m" "a" 9 }})"
       R"({{ scratch.MapValues "m" }} {{ scratch.Get "m" }})",
       "[1 2] map[a:1 b:2]"},
      {R"({{ scratch.MapValues "none" }})", "[]"},
      {R"({{ printf "%T" scratch }})", "*template.Scratch"},
  };
  for (const auto& c : cases) {
    INFO(c.tmpl);
    CHECK(out(c.tmpl) == c.output);
  }
  CHECK_THAT(error_of(R"({{ scratch.Set "a" 1 }}{{ scratch.MapSet "a" "k" 2 }})"),
             Catch::Contains(R"(error calling MapSet: "a" is not a map)"));
  // A fresh scratch per render.
  CHECK(out(R"({{ scratch.Set "a" 1 }})") == "");
  CHECK(out(R"({{ scratch.Key "a" }})") == "false");
}

TEST_CASE("the denylist disables functions at execution, not at parse", "[data][denylist]") {
  CHECK(run_with(R"(ok)", values(), values().render_env(), {"key*"}).output == "ok");
  try {
    run_with(R"({{ keyOrDefault "a" "b" }})", values(), values().render_env(), {"key*"});
    FAIL("no error");
  } catch (const ExecError& e) {
    CHECK_THAT(e.what(), Catch::Contains("error calling keyOrDefault: function is disabled"));
  }
  CHECK(run_with(R"({{ env "ENVIRONMENT" }})", values(), values().render_env(), {"key*"}).output ==
        "data-qa");
}

TEST_CASE("data functions outside a render fail cleanly", "[data]") {
  FunctionTable funcs = consul_template_functions();
  TemplateOptions to;
  to.name = "t";
  to.funcs = &funcs;
  Template t(R"({{ key "a" }})", to);
  std::string o;
  CallContext ctx;
  CHECK_THROWS_WITH(t.execute(o, Value(), ctx),
                    Catch::Contains("data functions are only available while rendering"));
}

TEST_CASE("digest::sha1 matches FIPS 180-4 test vectors", "[digest]") {
  CHECK(digest::hex(digest::sha1("")) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  CHECK(digest::hex(digest::sha1("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(digest::hex(digest::sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  CHECK(digest::hex(digest::sha1(std::string(1000000, 'a'))) ==
        "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}
