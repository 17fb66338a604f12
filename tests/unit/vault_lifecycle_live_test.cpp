// Vault as it really lives (project issue 13): the built `templet run` against the Vault
// emulator's lifecycle (tests/emulators/vault_lifecycle.py). Leases die with the token that
// created them, a policy denial is not a bad token, a token may lack sys/leases/revoke, Vault
// Agent's cache answers with the lease just given up on, static roles rotate, a standby
// redirects. Each case fails without its part of the fix.
#include <atomic>
#include <catch2/catch.hpp>
#include <regex>
#include <thread>

#include "tests/unit/local_postgres.hpp"
#include "tests/unit/test_support.hpp"

using namespace templet;
using namespace templet::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

size_t count_lines(const std::string& log, const std::string& pattern) {
  std::regex rx("^\\S+ \\S+ (" + pattern + ")$");
  size_t n = 0;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);)
    if (std::regex_match(line, rx)) ++n;
  return n;
}

void seed(const EmulatorProcess& e, const std::string& json) {
  REQUIRE(call(e, "POST", "/_emulator/seed", json).status == 200);
}

const std::string kRoleId = "role-id-13-Lq2v";
const std::string kSecretId = "secret-id-13-Pz8w";

// An AppRole `templet` whose tokens carry `policies` (and `default`, as Vault adds it).
std::string approle_seed(int token_ttl, int token_max_ttl, const std::string& policies) {
  return R"("approle": {"roles": {"templet": {"role_id": ")" + kRoleId + R"(", "secret_ids": [")" +
         kSecretId + R"("], "token_ttl": )" + std::to_string(token_ttl) + R"(, "token_max_ttl": )" +
         std::to_string(token_max_ttl) + R"(, "token_policies": )" + policies + "}}}";
}

// One daemon over one template rendered to DIR/dest, logging in with the AppRole above (or
// with VAULT_TOKEN when `token` is given; "-": neither, `vault_yaml` says).
struct Daemon {
  TempDir dir;
  std::optional<TempletProcess> t;
  fs::path dest() const { return dir.path / "dest"; }
  void start(const EmulatorProcess& vault, const std::string& tmpl, const std::string& vault_yaml,
             const std::string& token = "") {
    spit(dir.path / "role_id", kRoleId + "\n");
    spit(dir.path / "secret_id", kSecretId + "\n");
    spit(dir.path / "t.tmpl", tmpl);
    std::string auth =
        token.empty() ? std::string(vault_yaml.empty() ? "" : ", ") +
                            "auth: {approle: {role_id_file: " + (dir.path / "role_id").string() +
                            ", secret_id_file: " + (dir.path / "secret_id").string() + "}}"
                      : "";
    spit(dir.path / "templet.yaml",
         "state_dir: " + (dir.path / "state").string() +
             "\nretry: {backoff: 200ms, max_backoff: 1s}\nvault: {" + vault_yaml + auth +
             "}\ntemplates:\n  - source: " + (dir.path / "t.tmpl").string() +
             "\n    destination: " + dest().string() + "\n");
    if (token == "-") auth.clear();
    std::map<std::string, std::string> env{{"VAULT_ADDR", vault.url()}};
    if (!token.empty() && token != "-") env["VAULT_TOKEN"] = token;
    t.emplace(std::vector<std::string>{"run", "-c", (dir.path / "templet.yaml").string()}, env,
              dir.path);
  }
  std::string log() const { return t->stderr_text(); }
  void stop() {
    t->signal(SIGTERM);
    CHECK(t->wait(10s) == 0);
  }
};

const char* kUserTemplate = "{{ with secret \"database/creds/app\" }}{{ .Data.username }}{{ end }}";

std::set<std::string> live_users(const EmulatorProcess& vault) {
  std::set<std::string> out;
  nlohmann::json state = call_json(vault, "GET", "/_emulator/state");
  for (auto& [id, l] : state["leases"].items()) out.insert(l.value("username", ""));
  return out;
}

}  // namespace

TEST_CASE("vault lifecycle: leases are fetched anew before their AppRole token dies",
          "[vault_lifecycle]") {
  EmulatorProcess vault("vault", R"({"database_mounts": {"database": {"roles": {"app":
      {"default_ttl": 30, "max_ttl": 60}}}}, "lease_reap_delay_s": 0,
      "policies": {"app": {"database/creds/app": ["read"]}}, )" +
                                     approle_seed(3, 3, R"(["app"])") + "}");
  if (vault.port == 0) return;
  Daemon d;
  d.start(vault, kUserTemplate, "");
  REQUIRE(eventually([&] { return fs::exists(d.dest()); }, 10s));
  // Samples: the destination must always name a user Vault still has (goal 0 dead samples).
  int dead = 0, samples = 0;
  auto end = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < end) {
    std::string user = slurp(d.dest());
    if (!live_users(vault).count(user)) ++dead;
    ++samples;
    std::this_thread::sleep_for(100ms);
  }
  INFO(d.log());
  CHECK(dead == 0);
  CHECK(samples > 20);
  nlohmann::json state = call_json(vault, "GET", "/_emulator/state");
  CHECK(state["revoked_leases"].size() >= 2);  // tokens did die, taking their leases along
  // Each token replaced once, and each of its leases fetched once more with the next token.
  size_t logins = requests(vault, "^/v1/auth/approle/login$", "POST").size();
  size_t reads = requests(vault, "^/v1/database/creds/app$", "GET").size();
  CHECK(logins >= 3);
  CHECK(reads == logins);
  CHECK(
      count_lines(
          d.log(),
          R"(vault\.read\(database/creds/app\): fetching database/creds/app/…#[0-9a-f]{6} anew with the current token: parent token expires in \ds)") ==
      reads - 1);
  d.stop();
}

TEST_CASE("vault lifecycle: a policy denial logs one line and causes no login",
          "[vault_lifecycle]") {
  EmulatorProcess vault("vault", R"({"kv": {"secret/other": {"password": "pw-Denied-7hQ"}},
      "policies": {"app": {"secret/data/app": ["read"]}}, )" +
                                     approle_seed(3600, 0, R"(["app"])") + "}");
  if (vault.port == 0) return;
  Daemon d;
  d.start(vault, "{{ with secret \"secret/other\" }}{{ .Data.data.password }}{{ end }}", "");
  REQUIRE(eventually([&] { return requests(vault, "^/v1/secret/data/other$", "GET").size() >= 4; },
                     10s));
  INFO(d.log());
  CHECK(count_lines(d.log(),
                    "vault: permission denied by policy for secret/other \\(token ok\\)") == 1);
  CHECK(count_lines(d.log(), R"(vault\.read\(secret/other\): .*)") == 1);  // retries are quiet
  CHECK(requests(vault, "^/v1/auth/approle/login$", "POST").size() == 1);
  CHECK_FALSE(fs::exists(d.dest()));
  d.stop();
  CHECK(d.t->stderr_text().find("pw-Denied-7hQ") == std::string::npos);
}

TEST_CASE("vault lifecycle: revoke without sys/leases/revoke warns once and causes no login",
          "[vault_lifecycle]") {
  EmulatorProcess vault("vault", R"({"database_mounts": {"database": {"roles": {"app":
      {"default_ttl": 2, "max_ttl": 2}}}},
      "policies": {"app": {"database/creds/app": ["read"]}}, )" +
                                     approle_seed(3600, 0, R"(["app"])") + "}");
  if (vault.port == 0) return;
  Daemon d;
  d.start(vault, kUserTemplate, "revoke_superseded: true");
  REQUIRE(eventually([&] { return requests(vault, "^/v1/database/creds/app$", "GET").size() >= 3; },
                     10s));
  INFO(d.log());
  CHECK(count_lines(d.log(), R"(vault: the token may not revoke leases \(no update capability on )"
                             R"(sys/leases/revoke\); revoke_superseded is off for this run)") == 1);
  CHECK(requests(vault, "^/v1/sys/leases/revoke$", "PUT").size() == 1);
  CHECK(requests(vault, "^/v1/auth/approle/login$", "POST").size() == 1);
  d.stop();
}

TEST_CASE("vault lifecycle: a new token file re-parents the leases before the old token is revoked",
          "[vault_lifecycle]") {
  const std::string first = "hvs.CAESIFirstToken13aaQ1";
  const std::string second = "hvs.CAESISecondToken13bbW2";
  EmulatorProcess vault("vault", R"({"database_mounts": {"database": {"roles": {"app":
      {"default_ttl": 60, "max_ttl": 120}}}}, "lease_reap_delay_s": 0,
      "policies": {"app": {"database/creds/app": ["read"]}},
      "tokens": [{"id": ")" + first + R"(", "policies": ["app"], "ttl": 3600},
                 {"id": ")" + second +
                                     R"(", "policies": ["app"], "ttl": 3600}]})");
  if (vault.port == 0) return;
  Daemon d;
  spit(d.dir.path / "token", first + "\n");
  d.start(vault, kUserTemplate, "token_file: " + (d.dir.path / "token").string(), "-");
  REQUIRE(eventually([&] { return fs::exists(d.dest()); }, 10s));
  std::string u1 = slurp(d.dest());
  spit(d.dir.path / "token.new", second + "\n");
  fs::rename(d.dir.path / "token.new", d.dir.path / "token");
  INFO(d.log());
  REQUIRE(eventually([&] { return slurp(d.dest()) != u1; }, 5s));
  seed(vault, R"({"revoke_tokens": [")" + first + R"("]})");  // Agent's old token dies
  std::this_thread::sleep_for(300ms);
  INFO(d.log());
  CHECK(live_users(vault).count(slurp(d.dest())) == 1);
  CHECK(
      count_lines(
          d.log(),
          R"(vault\.read\(database/creds/app\): fetching database/creds/app/…#[0-9a-f]{6} anew with the current token: parent token expires in \d+s)") ==
      1);
  d.stop();
}

TEST_CASE("vault lifecycle: a stored lease made by another token is fetched anew at start",
          "[vault_lifecycle]") {
  EmulatorProcess vault("vault", R"({"database_mounts": {"database": {"roles": {"app":
      {"default_ttl": 60, "max_ttl": 120}}}},
      "policies": {"app": {"database/creds/app": ["read"]}},
      "tokens": [{"id": "hvs.OneToken13Cc", "policies": ["app"], "ttl": 3600},
                 {"id": "hvs.TwoToken13Dd", "policies": ["app"], "ttl": 3600}]})");
  if (vault.port == 0) return;
  TempDir dir;
  spit(dir.path / "t.tmpl", kUserTemplate);
  spit(dir.path / "templet.yaml",
       "state_dir: " + (dir.path / "state").string() +
           "\ntemplates:\n  - source: " + (dir.path / "t.tmpl").string() +
           "\n    destination: " + (dir.path / "dest").string() + "\n");
  auto once = [&](const std::string& token) {
    TempletProcess t({"run", "-c", (dir.path / "templet.yaml").string(), "--once"},
                     {{"VAULT_ADDR", vault.url()}, {"VAULT_TOKEN", token}}, dir.path);
    REQUIRE(t.wait(20s) == 0);
    return t.stderr_text();
  };
  once("hvs.OneToken13Cc");
  std::string u1 = slurp(dir.path / "dest");
  std::string same = once("hvs.OneToken13Cc");
  CHECK(slurp(dir.path / "dest") == u1);  // same token: the stored lease is reused
  std::string log = once("hvs.TwoToken13Dd");
  INFO(log);
  CHECK(slurp(dir.path / "dest") != u1);
  CHECK(
      count_lines(
          log,
          R"(vault\.read\(database/creds/app\): fetching database/creds/app/…#[0-9a-f]{6} anew with the current token: stored lease, parent token expires in \d+s)") ==
      1);
  CHECK(requests(vault, "^/v1/database/creds/app$", "GET").size() == 2);
}

TEST_CASE("vault lifecycle: Vault Agent's cache answering with the superseded lease is detected",
          "[vault_lifecycle]") {
  EmulatorProcess vault("vault", R"({"database_mounts": {"database": {"roles": {"app":
      {"default_ttl": 2, "max_ttl": 4}}}}, "lease_reap_delay_s": 0, "agent_cache": true})");
  if (vault.port == 0) return;
  Daemon d;
  d.start(vault, kUserTemplate, "", "root");
  REQUIRE(eventually([&] { return fs::exists(d.dest()); }, 10s));
  std::string u1 = slurp(d.dest());
  REQUIRE(eventually([&] { return slurp(d.dest()) != u1; }, 8s));
  INFO(d.log());
  CHECK(
      count_lines(
          d.log(),
          R"(vault\.read\(database/creds/app\): a cache answered with database/creds/app/…#[0-9a-f]{6} again \(Vault Agent's cache\?\): \d+s left by sys/leases/lookup, not the 2s it says; asking again in \d+s)") >=
      1);
  d.stop();
}

TEST_CASE("vault lifecycle: a static role's file holds the new password within seconds",
          "[vault_lifecycle]") {
  EmulatorProcess vault("vault", R"({"rotation_tick_s": 1, "database_mounts": {"database":
      {"static_roles": {"svc": {"username": "svc_user", "rotation_period": 2}}}}})");
  if (vault.port == 0) return;
  Daemon d;
  d.start(vault, "{{ with secret \"database/static-creds/svc\" }}{{ .Data.password }}{{ end }}", "",
          "root");
  REQUIRE(eventually([&] { return fs::exists(d.dest()); }, 10s));
  int rotations = 0;
  std::string seen = slurp(d.dest());
  auto end = std::chrono::steady_clock::now() + 8s;
  while (std::chrono::steady_clock::now() < end && rotations < 2) {
    nlohmann::json state = call_json(vault, "GET", "/_emulator/state");
    std::string pw = state["static_roles"]["database/svc"]["password"];
    if (pw != seen) {
      auto at = std::chrono::steady_clock::now();
      CHECK(eventually([&] { return slurp(d.dest()) == pw; }, 5s));
      CHECK(std::chrono::steady_clock::now() - at < 3s);  // 1 s polls while ttl is 0
      seen = pw;
      ++rotations;
    }
    std::this_thread::sleep_for(50ms);
  }
  CHECK(rotations == 2);
  d.stop();
}

TEST_CASE("vault lifecycle: a standby's 307 is followed to the active node", "[vault_lifecycle]") {
  EmulatorProcess active("vault", R"({"kv": {"secret/app": {"password": "pw-Active-3kT"}}})");
  if (active.port == 0) return;
  EmulatorProcess standby("vault", R"({"standby_redirect": ")" + active.url() + R"("})");
  TempDir dir;
  spit(dir.path / "templet.yaml",
       "state_dir: " + (dir.path / "state").string() +
           "\ntemplates:\n  - contents: '{{ with secret \"secret/app\" }}{{ .Data.data.password "
           "}}{{ end }}'\n    destination: " +
           (dir.path / "dest").string() + "\n");
  TempletProcess t({"run", "-c", (dir.path / "templet.yaml").string(), "--once"},
                   {{"VAULT_ADDR", standby.url()}, {"VAULT_TOKEN", "root"}}, dir.path);
  REQUIRE(t.wait(20s) == 0);
  CHECK(slurp(dir.path / "dest") == "pw-Active-3kT");
  CHECK(count_lines(t.stderr_text(), "vault: GET " + standby.url() +
                                         "/v1/secret/data/app: status 307: following to GET " +
                                         active.url() + "/v1/secret/data/app") == 1);
  CHECK(t.stderr_text().find("pw-Active-3kT") == std::string::npos);
}

TEST_CASE("vault lifecycle: templet refresh and SIGUSR1 push a manual rotate-role",
          "[vault_lifecycle]") {
  EmulatorProcess vault("vault", R"({"database_mounts": {"database":
      {"static_roles": {"svc": {"username": "svc_user", "rotation_period": 3600}}}}})");
  if (vault.port == 0) return;
  Daemon d;
  d.start(vault, "{{ with secret \"database/static-creds/svc\" }}{{ .Data.password }}{{ end }}", "",
          "root");
  REQUIRE(eventually(
      [&] { return fs::exists(d.dest()) && fs::exists(d.dir.path / "state" / "templet.pid"); },
      10s));
  auto password = [&] {
    return call_json(vault, "GET", "/_emulator/state")["static_roles"]["database/svc"]["password"]
        .get<std::string>();
  };
  auto rotate = [&] {
    templet::HttpRequest req;
    req.method = "POST";
    req.url = vault.url() + "/v1/database/rotate-role/svc";
    req.headers.emplace_back("X-Vault-Token", "root");
    REQUIRE(templet::make_http_client()->send(req).status == 204);
  };
  auto refresh = [&](const std::string& target) {
    std::vector<std::string> args{"refresh"};
    if (!target.empty()) args.push_back(target);
    args.insert(args.end(), {"--state-dir", (d.dir.path / "state").string()});
    TempletProcess r(args, {}, d.dir.path);
    CHECK(r.wait(10s) == 0);
    return r.stdout_text();
  };
  rotate();
  CHECK(refresh("database/static-creds/svc") == "asked templet (pid " + std::to_string(d.t->pid) +
                                                    ") to refresh database/static-creds/svc\n");
  CHECK(eventually([&] { return slurp(d.dest()) == password(); }, 3s));
  rotate();
  refresh(d.dest().string());  // by destination
  CHECK(eventually([&] { return slurp(d.dest()) == password(); }, 3s));
  rotate();
  d.t->signal(SIGUSR1);  // everything
  CHECK(eventually([&] { return slurp(d.dest()) == password(); }, 3s));
  INFO(d.log());
  CHECK(count_lines(d.log(), "refresh: fetching 1 dependency anew for database/static-creds/svc") ==
        1);
  d.stop();
  CHECK_FALSE(fs::exists(d.dir.path / "state" / "templet.pid"));
  TempletProcess none({"refresh", "--state-dir", (d.dir.path / "state").string()}, {}, d.dir.path);
  CHECK(none.wait(10s) == 1);
  CHECK(none.stderr_text() == "templet: refresh: no running templet daemon for state_dir " +
                                  (d.dir.path / "state").string() + " (" +
                                  (d.dir.path / "state" / "templet.pid").string() +
                                  " is missing)\n");
}

TEST_CASE(
    "vault lifecycle: with a real PostgreSQL, a token's death drops its users and templet's "
    "file still logs in",
    "[vault_lifecycle]") {
  LocalPostgres pg;
  if (pg.bin_dir.empty()) {
    WARN("PostgreSQL server binaries not installed (Debian package postgresql); skipped");
    return;
  }
  REQUIRE(pg.error == "");
  nlohmann::json seed_json = {
      {"database_mounts",
       {{"database",
         {{"roles",
           {{"app", {{"default_ttl", 60}, {"max_ttl", 120}, {"postgres", pg.vault_conf()}}}}}}}}},
      {"lease_reap_delay_s", 0},
      {"policies", {{"app", {{"database/creds/app", {"read"}}}}}}};
  std::string seed_text = seed_json.dump();
  seed_text.pop_back();  // the AppRole below, 4 s tokens
  EmulatorProcess vault("vault", seed_text + ", " + approle_seed(4, 4, R"(["app"])") + "}");
  if (vault.port == 0) return;
  Daemon d;
  d.start(
      vault,
      "{{ with secret \"database/creds/app\" }}{{ .Data.username }} {{ .Data.password }}{{ end }}",
      "");
  REQUIRE(eventually([&] { return fs::exists(d.dest()); }, 10s));
  std::string first = slurp(d.dest());
  // The first token dies at 4 s and Vault drops its user; by then the file names the next one.
  REQUIRE(eventually(
      [&] { return call_json(vault, "GET", "/_emulator/state")["revoked_leases"].size() >= 1; },
      10s));
  std::string now = slurp(d.dest());
  INFO(d.log());
  CHECK(now != first);
  auto login = [&](const std::string& line) {
    auto space = line.find(' ');
    return LocalPostgres::capture(
               {pg.psql(), "-X", "-h", "127.0.0.1", "-p", std::to_string(pg.port), "-U",
                line.substr(0, space), "-d", "postgres", "-c", "SELECT 1"},
               {{"PGPASSWORD", line.substr(space + 1)}, {"PGCONNECT_TIMEOUT", "5"}})
        .first;
  };
  CHECK(login(now) == 0);
  CHECK(login(first) != 0);  // dropped with its token
  d.stop();
}

TEST_CASE("vault lifecycle: templet status shows when the token that owns each lease dies",
          "[vault_lifecycle][status]") {
  EmulatorProcess vault("vault", R"({"database_mounts": {"database": {"roles": {"app":
      {"default_ttl": 600, "max_ttl": 1200}}}},
      "policies": {"app": {"database/creds/app": ["read"]}}, )" +
                                     approle_seed(3600, 7200, R"(["app"])") + "}");
  if (vault.port == 0) return;
  Daemon d;
  d.start(vault, kUserTemplate, "");
  REQUIRE(eventually([&] { return fs::exists(d.dest()); }, 10s));
  REQUIRE(eventually([&] { return fs::exists(d.dir.path / "state" / "status.sock"); }, 5s));
  ShellRun js = run_shell(std::string(TEMPLET_BINARY) + " status --json --state-dir " +
                          (d.dir.path / "state").string());
  INFO(js.out << js.err);
  REQUIRE(js.status == 0);
  auto j = nlohmann::json::parse(js.out);
  REQUIRE(j["leases"].size() == 1);
  // The AppRole login's lease_duration (3600 s) is the token's life, not the lease's (600 s).
  double token_left = j["leases"][0]["token_expires_in_s"].get<double>();
  CHECK(token_left > 3580);
  CHECK(token_left <= 3600);
  CHECK(j["leases"][0]["expires_in_s"].get<double>() <= 600);
  d.stop();
}
