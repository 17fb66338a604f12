// The fault matrix for Vault and Consul (project issue 8, item 1): the built `templet run` binary,
// as a daemon and with --once, against the emulators' fault injection. Every cell checks
//   (a) the destination is never truncated or half-written: a thread reads it continuously while
//       the fault lasts, and every read finds it absent (not yet created) or holding one of the
//       complete contents the cell expects;
//   (b) templet converges once the fault clears: the file ends with the fresh content;
//   (c) one log line names the fault exactly (server, request without its query string, status
//       and the server's own message, or how the connection failed), retries are paced by the
//       configured backoff rather than spinning, and no secret appears in what templet printed.
// One TEST_CASE per cell so that ctest runs them in parallel. See docs/reliability.md.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <functional>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include "tests/unit/test_support.hpp"

using namespace templet;
using namespace templet::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string regex_escape(const std::string& s) {
  static const std::string special = R"(\^$.|?*+()[]{}/)";
  std::string out;
  for (char c : s) {
    if (special.find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

// Log lines (spdlog: "TIMESTAMP LEVEL MESSAGE") at `level` whose message matches `pattern` in
// full.
std::vector<std::string> log_lines(const std::string& log, const std::string& level,
                                   const std::string& pattern) {
  std::regex line_rx("^\\S+ " + level + " (" + pattern + ")$");
  std::vector<std::string> out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line))
    if (std::regex_match(line, line_rx)) out.push_back(line);
  return out;
}

// The retry suffix the watchers log after each failed attempt.
const std::string kRetry = R"( \(retry \d+ in \d+ms\))";

// Milliseconds since midnight of a log line's timestamp ("2026-01-02T10:11:12.345 ...").
long long log_time_ms(const std::string& line) {
  int h = 0, m = 0, s = 0, ms = 0;
  std::sscanf(line.c_str() + 11, "%d:%d:%d.%d", &h, &m, &s, &ms);
  return ((h * 60LL + m) * 60 + s) * 1000 + ms;
}

// (c), the pacing: consecutive retry lines are at least `min_gap_ms` apart, so a fault cannot
// flood the log. The configured backoff is 100 ms, jittered down by at most a quarter; a request
// that timed out adds its timeout, since the backoff counts from when the failure came.
void check_paced(const std::vector<std::string>& lines, long long min_gap_ms = 50) {
  for (size_t i = 1; i < lines.size(); ++i) {
    INFO(lines[i - 1] << "\n" << lines[i]);
    CHECK(log_time_ms(lines[i]) - log_time_ms(lines[i - 1]) >= min_gap_ms);
  }
}

// Every string in `secrets` is absent from what templet printed.
void check_no_secrets(const TempletProcess& t, const std::set<std::string>& secrets) {
  std::string printed = t.stdout_text() + t.stderr_text();
  int leaked = 0;
  for (const auto& s : secrets)
    if (!s.empty() && printed.find(s) != std::string::npos) ++leaked;
  CHECK(leaked == 0);
}

// Tokens, lease ids and passwords the Vault emulator holds now.
std::set<std::string> vault_secrets(const EmulatorProcess& vault) {
  std::set<std::string> out;
  nlohmann::json state = call_json(vault, "GET", "/_emulator/state");
  for (auto& [id, tok] : state["tokens"].items())
    if (id != "root") out.insert(id);
  for (auto& [id, lease] : state["leases"].items()) {
    out.insert(id);
    out.insert(lease.value("password", ""));
  }
  return out;
}

// A Vault API call with the root token (what an operator would do).
templet::HttpResponse vault_api(const EmulatorProcess& vault, const std::string& method,
                                const std::string& path, const std::string& body) {
  templet::HttpRequest req;
  req.method = method;
  req.url = vault.url() + path;
  req.body = body;
  req.headers.emplace_back("X-Vault-Token", "root");
  return templet::make_http_client()->send(req);
}

void seed(const EmulatorProcess& e, const std::string& json) {
  REQUIRE(call(e, "POST", "/_emulator/seed", json).status == 200);
}

void arm_fault(const EmulatorProcess& e, const std::string& spec) {
  REQUIRE(call(e, "POST", "/_emulator/fault", spec).status == 200);
}

void clear_faults(const EmulatorProcess& e) {
  REQUIRE(call(e, "POST", "/_emulator/clear_faults").status == 200);
}

// A port nothing listens on right now (bound, read, released).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// One cell: `templet run` on one template rendered to DIR/dest with fast retries, the
// destination sampled from before the fault on, the fault awaited in the log, convergence
// awaited, then the checks every cell shares.
class Cell {
 public:
  explicit Cell(const std::string& tmpl, const std::string& extra = "") {
    spit(dir_.path / "t.tmpl", tmpl);
    spit(dir_.path / "templet.yaml",
         "state_dir: " + (dir_.path / "state").string() +
             "\nretry: {backoff: 100ms, max_backoff: 400ms}\n" + extra +
             "\ntemplates:\n  - source: " + (dir_.path / "t.tmpl").string() +
             "\n    destination: " + dest().string() + "\n");
  }
  fs::path dir() const { return dir_.path; }
  fs::path dest() const { return dir_.path / "dest"; }
  TempletProcess& templet() { return *t_; }
  std::string log() const { return t_->stderr_text(); }

  // --once, started with the sampler already running: the file does not exist yet.
  void start_once(const std::map<std::string, std::string>& env) {
    once_ = true;
    sampler_.emplace(dest());
    t_.emplace(std::vector<std::string>{"run", "-c", (dir_.path / "templet.yaml").string(),
                                        "--once", "--timeout", "30s"},
               env, dir_.path);
  }
  // The daemon; the sampler starts once the file holds `first` (empty: whatever comes first).
  void start_daemon(const std::map<std::string, std::string>& env, const std::string& first = "") {
    t_.emplace(std::vector<std::string>{"run", "-c", (dir_.path / "templet.yaml").string()}, env,
               dir_.path);
    REQUIRE(eventually([&] { return first.empty() ? fs::exists(dest()) : slurp(dest()) == first; },
                       10s));
    current_ = slurp(dest());
    valid_.insert(current_);
    sampler_.emplace(dest());
  }
  // At least `n` log lines at `level` match `pattern` in full; meanwhile the destination stays
  // as it was (absent for --once, still the last content for the daemon) unless the logged
  // event is a recovery that rewrites it at once (`held` false).
  std::vector<std::string> await_fault(const std::string& level, const std::string& pattern,
                                       size_t n = 2, std::chrono::milliseconds limit = 6s,
                                       bool held = true) {
    std::vector<std::string> lines;
    eventually(
        [&] {
          lines = log_lines(log(), level, pattern);
          return lines.size() >= n;
        },
        limit);
    INFO(log());
    REQUIRE(lines.size() >= n);
    if (!held) return lines;
    if (once_) {
      CHECK(t_->wait(0ms) == -1);  // still trying
      CHECK_FALSE(fs::exists(dest()));
    } else {
      CHECK(slurp(dest()) == current_);
    }
    return lines;
  }
  // The fault is over: the file ends holding `fresh` (--once: after templet exits 0).
  void expect_converged(const std::string& fresh, std::chrono::milliseconds limit = 5s) {
    INFO(log());
    if (once_) {
      REQUIRE(t_->wait(limit + 5s) == 0);
      CHECK(slurp(dest()) == fresh);
    } else {
      CHECK(eventually([&] { return slurp(dest()) == fresh; }, limit));
    }
    current_ = fresh;
    valid_.insert(fresh);
  }
  // (a) over the whole cell, the daemon's clean stop, and no secret in templet's output.
  void finish(const std::set<std::string>& secrets = {}) {
    check_never_torn(*sampler_, one_of(valid_));
    if (!once_) {
      t_->signal(SIGTERM);
      CHECK(t_->wait(10s) == 0);
    }
    check_no_secrets(*t_, secrets);
  }

 private:
  TempDir dir_;
  bool once_ = false;
  std::optional<DestinationSampler> sampler_;
  std::optional<TempletProcess> t_;
  std::string current_;
  std::set<std::string> valid_;
};

// A KV v2 secret (mount `secret/`) and a template printing its password.
const char* kPasswordTemplate =
    "{{ with secret \"secret/app\" }}pw={{ .Data.data.password }}{{ end }}\nend\n";
std::string kv_seed(const std::string& password) {
  return R"({"kv": {"secret/app": {"password": ")" + password + R"("}}})";
}
std::string password_file(const std::string& password) {
  return "pw=" + password + "\nend\n";
}

const char* kHostTemplate = "host={{ key \"app/host\" }}\nend\n";
std::string host_file(const std::string& host) {
  return "host=" + host + "\nend\n";
}

// The start of the log line a failed read of secret/app gets, up to the failure.
std::string vault_read_failed(const EmulatorProcess& vault, const std::string& path) {
  return regex_escape("vault.read(secret/app): vault: GET " + vault.url() + path + ": ");
}
std::string consul_read_failed(const EmulatorProcess& consul) {
  return regex_escape("kv.block(app/host): consul: GET " + consul.url() + "/v1/kv/app/host: ");
}

}  // namespace

// ---- Vault ----------------------------------------------------------------------------------

TEST_CASE("faults: Vault unreachable at boot then listening (--once)", "[faults]") {
  if (::access("/usr/bin/python3", X_OK) != 0) return;
  const int port = free_port();
  const std::string vault_url = "http://127.0.0.1:" + std::to_string(port);
  Cell cell(kPasswordTemplate);
  cell.start_once({{"VAULT_ADDR", vault_url}, {"VAULT_TOKEN", "root"}});
  auto refused = cell.await_fault(
      "warning", regex_escape("vault.read(secret/app): vault: GET " + vault_url +
                              "/v1/sys/internal/ui/mounts/secret/app: connection refused") +
                     kRetry);
  EmulatorProcess vault("vault", kv_seed("pw-Boot-3x9QeLw2"), port);
  REQUIRE(vault.port == port);
  cell.expect_converged(password_file("pw-Boot-3x9QeLw2"));
  check_paced(refused);
  cell.finish({"pw-Boot-3x9QeLw2"});
}

TEST_CASE("faults: Vault connection dropped mid-run then answering (daemon)", "[faults]") {
  VaultAndConsul s(kv_seed("pw-One-a8KdP0q"));
  SKIP_WITHOUT_EMULATORS(s);
  Cell cell(kPasswordTemplate, "vault: {default_lease_duration: 1s}");
  cell.start_daemon(s.env(), password_file("pw-One-a8KdP0q"));
  arm_fault(s.vault, R"({"path_regex": "^/v1/secret/data/app$", "drop_connection": true})");
  seed(s.vault, kv_seed("pw-Two-Zr71mQx"));
  auto dropped = cell.await_fault(
      "warning", vault_read_failed(s.vault, "/v1/secret/data/app") +
                     "(connection reset|connection closed without an answer)" + kRetry);
  clear_faults(s.vault);
  cell.expect_converged(password_file("pw-Two-Zr71mQx"));
  check_paced(dropped);
  cell.finish({"pw-One-a8KdP0q", "pw-Two-Zr71mQx"});
}

TEST_CASE("faults: Vault sealed 503 mid-run then unsealed (daemon)", "[faults]") {
  VaultAndConsul s(kv_seed("pw-One-Hk2sW9e"));
  SKIP_WITHOUT_EMULATORS(s);
  Cell cell(kPasswordTemplate, "vault: {default_lease_duration: 1s}");
  cell.start_daemon(s.env(), password_file("pw-One-Hk2sW9e"));
  // Sealed, with new data behind the seal. Vault answers ErrSealed with 503
  // {"errors":["Vault is sealed"]}.
  seed(s.vault, R"({"sealed": true, "kv": {"secret/app": {"password": "pw-Two-Lm3vX8r"}}})");
  auto sealed = cell.await_fault("warning", vault_read_failed(s.vault, "/v1/secret/data/app") +
                                                "status 503: Vault is sealed" + kRetry);
  seed(s.vault, R"({"sealed": false})");
  cell.expect_converged(password_file("pw-Two-Lm3vX8r"));
  check_paced(sealed);
  cell.finish({"pw-One-Hk2sW9e", "pw-Two-Lm3vX8r"});
}

TEST_CASE("faults: Vault rate limited 429 at boot then answering (--once)", "[faults]") {
  VaultAndConsul s(kv_seed("pw-Old-Qa4nB7t"));
  SKIP_WITHOUT_EMULATORS(s);
  // Vault's rate limit quota answer (http/util.go): 429 naming the request path, and when to
  // come back. The cell's backoff is 100 ms; the server's 1 s wins.
  arm_fault(s.vault, R"({"path_regex": "^/v1/secret/data/app$", "status": 429,
      "headers": {"Retry-After": "1"},
      "body": "{\"errors\":[\"request path \\\"secret/data/app\\\": rate limit quota exceeded\"]}"})");
  Cell cell(kPasswordTemplate);
  cell.start_once(s.env());
  auto limited = cell.await_fault(
      "warning", vault_read_failed(s.vault, "/v1/secret/data/app") +
                     regex_escape("status 429: request path \"secret/data/app\": rate limit "
                                  "quota exceeded") +
                     R"( \(retry \d+ in 1000ms, as its Retry-After asks\))");
  // Two refused tries (await_fault waits for both), paced by the server's word and not by the
  // 100 ms backoff.
  seed(s.vault, kv_seed("pw-New-Wc5yJ2u"));
  clear_faults(s.vault);
  cell.expect_converged(password_file("pw-New-Wc5yJ2u"));
  check_paced(limited, 950);
  cell.finish({"pw-Old-Qa4nB7t", "pw-New-Wc5yJ2u"});
}

TEST_CASE("faults: AppRole token expired mid-run so templet logs in again (daemon)", "[faults]") {
  const std::string role_id = "role-id-7d1f0c2e-Hq83";
  const std::string secret_id = "secret-id-91ab4e77-Tz0v";
  VaultAndConsul s(R"({"kv": {"secret/app": {"password": "pw-One-Ux6rD1k"}},
      "policies": {"app": {"secret/data/app": ["read"]}},
      "approle": {"roles": {"templet": {"role_id": ")" +
                   role_id + R"(", "secret_ids": [")" + secret_id + R"("],
          "token_ttl": 60, "token_policies": ["app"]}}}})");
  SKIP_WITHOUT_EMULATORS(s);
  TempDir files;
  spit(files.path / "role_id", role_id + "\n");
  spit(files.path / "secret_id", secret_id + "\n");
  Cell cell(kPasswordTemplate,
            "vault: {default_lease_duration: 1s, auth: {approle: {role_id_file: " +
                (files.path / "role_id").string() +
                ", secret_id_file: " + (files.path / "secret_id").string() + "}}}");
  cell.start_daemon({{"VAULT_ADDR", s.vault.url()}}, password_file("pw-One-Ux6rD1k"));
  const std::string login =
      R"(vault: AppRole login succeeded: token#[0-9a-f]{6} \(ttl 60s, renewable true\))";
  CHECK(log_lines(cell.log(), "info", login).size() == 1);  // one login at start, not one each
  auto secrets = vault_secrets(s.vault);

  // Two minutes pass on Vault's clock (a suspended machine wakes up): the 60 s token is dead.
  seed(s.vault, R"({"time_offset_s": 120, "kv": {"secret/app": {"password": "pw-Two-Gb8eN4s"}}})");
  cell.await_fault("warning",
                   regex_escape("vault: GET " + s.vault.url() +
                                "/v1/secret/data/app: status 403: permission denied with ") +
                       R"(token#[0-9a-f]{6}; logging in again)",
                   1);
  cell.expect_converged(password_file("pw-Two-Gb8eN4s"));
  CHECK(log_lines(cell.log(), "info", login).size() == 2);
  CHECK(requests(s.vault, "^/v1/auth/approle/login$", "POST").size() == 2);
  // The request was repeated with the new token at once: no failed fetch to retry.
  CHECK(log_lines(cell.log(), "warning", R"(vault\.read\(secret/app\): .*)").empty());
  for (const auto& x : vault_secrets(s.vault)) secrets.insert(x);
  secrets.insert({secret_id, "pw-One-Ux6rD1k", "pw-Two-Gb8eN4s"});
  CHECK(secrets.size() >= 5);  // both login tokens are among them
  cell.finish(secrets);
}

TEST_CASE("faults: token file token expired mid-run then replaced (daemon)", "[faults]") {
  const std::string first = "hvs.CAESIFirstTokenExpires0a9Fq2";
  const std::string second = "hvs.CAESISecondTokenFresh7Lp3Xw8";
  VaultAndConsul s(R"({"kv": {"secret/app": {"password": "pw-One-Rf5tY7u"}},
      "policies": {"app": {"secret/data/app": ["read"]}},
      "tokens": [{"id": ")" +
                   first + R"(", "policies": ["app"], "ttl": 3600},
                 {"id": ")" +
                   second + R"(", "policies": ["app"], "ttl": 86400}]})");
  SKIP_WITHOUT_EMULATORS(s);
  TempDir files;
  const fs::path token_file = files.path / "token";
  spit(token_file, first + "\n");
  Cell cell(kPasswordTemplate,
            "vault: {default_lease_duration: 1s, token_file: " + token_file.string() + "}");
  cell.start_daemon({{"VAULT_ADDR", s.vault.url()}}, password_file("pw-One-Rf5tY7u"));

  // Two hours pass on Vault's clock: the first token expires, and the agent is late.
  seed(s.vault, R"({"time_offset_s": 7200, "kv": {"secret/app": {"password": "pw-Two-Ve9cM3h"}}})");
  auto denied = cell.await_fault("warning", vault_read_failed(s.vault, "/v1/secret/data/app") +
                                                "status 403: permission denied" + kRetry);
  // The agent writes the new token the way agents do: a new file renamed over the old one.
  spit(files.path / "token.new", second + "\n");
  fs::rename(files.path / "token.new", token_file);
  cell.expect_converged(password_file("pw-Two-Ve9cM3h"));
  CHECK(log_lines(cell.log(), "info",
                  regex_escape("vault: token file " + token_file.string() + " changed; using ") +
                      "token#[0-9a-f]{6}")
            .size() == 1);
  check_paced(denied);
  cell.finish({first, second, "pw-One-Rf5tY7u", "pw-Two-Ve9cM3h"});
}

TEST_CASE(
    "faults: lease revoked early so renewal is refused and new credentials are written "
    "(daemon)",
    "[faults]") {
  VaultAndConsul s(R"({"database_mounts": {"database": {"roles": {
      "r4": {"default_ttl": 4, "max_ttl": 600}}}}})");
  SKIP_WITHOUT_EMULATORS(s);
  Cell cell(
      "{{ with secret \"database/creds/r4\" }}user={{ .Data.username }}\npass={{ .Data.password "
      "}}{{ end }}\nend\n");
  auto creds_file = [](const nlohmann::json& lease) {
    return "user=" + lease["username"].get<std::string>() +
           "\npass=" + lease["password"].get<std::string>() + "\nend\n";
  };
  cell.start_daemon(s.env());
  auto leases = s.leases_by_user();
  REQUIRE(leases.size() == 1);
  const nlohmann::json first = leases.begin()->second;
  REQUIRE(slurp(cell.dest()) == creds_file(first));
  auto secrets = vault_secrets(s.vault);

  // An operator revokes the lease (a leaked credential): Vault forgets it at once, and the next
  // renewal, a few seconds later, is refused.
  REQUIRE(vault_api(s.vault, "PUT", "/v1/sys/leases/revoke",
                    R"({"lease_id": ")" + first["lease_id"].get<std::string>() + R"("})")
              .status == 204);
  cell.await_fault(
      "warning",
      R"(vault\.read\(database/creds/r4\): renewal of database/creds/r4/…#[0-9a-f]{6} refused \()" +
          regex_escape("vault: PUT " + s.vault.url() +
                       "/v1/sys/leases/renew: status 400: lease not found") +
          R"(\); fetching new credentials \(\d+s left\))",
      1, 8s, false);  // the new credentials can be written right after this line
  nlohmann::json second;
  REQUIRE(eventually(
      [&] {
        auto now = s.leases_by_user();
        if (now.size() != 1 || now.count(first["username"].get<std::string>())) return false;
        second = now.begin()->second;
        return true;
      },
      5s));
  cell.expect_converged(creds_file(second));
  CHECK(s.creds_reads("r4") == 2);  // fetched once more, at once
  for (const auto& x : vault_secrets(s.vault)) secrets.insert(x);
  cell.finish(secrets);
}

// ---- Consul ---------------------------------------------------------------------------------

TEST_CASE("faults: Consul 500s at boot then answering (--once)", "[faults]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  arm_fault(s.consul, R"({"path_regex": "^/v1/kv/app/host$", "method": "GET", "status": 500,
                         "body": "rpc error making call: EOF"})");
  Cell cell(kHostTemplate);
  cell.start_once(s.env());
  auto failed = cell.await_fault(
      "warning", consul_read_failed(s.consul) + "status 500: rpc error making call: EOF" + kRetry);
  s.put_key("app/host", "db-fresh");
  clear_faults(s.consul);
  cell.expect_converged(host_file("db-fresh"));
  check_paced(failed);
  cell.finish();
}

TEST_CASE("faults: Consul leader lost mid-run then elected (daemon)", "[faults]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  Cell cell(kHostTemplate, "block_query_wait: 1s");
  cell.start_daemon(s.env(), host_file("db.internal"));
  // What Consul answers while its servers hold an election: 500 "No cluster leader".
  arm_fault(s.consul, R"({"path_regex": "^/v1/kv/app/host$", "method": "GET", "status": 500,
                         "body": "No cluster leader",
                         "headers": {"X-Consul-KnownLeader": "false"}})");
  auto lost = cell.await_fault(
      "warning", consul_read_failed(s.consul) + "status 500: No cluster leader" + kRetry);
  s.put_key("app/host", "db2");  // written during the election
  std::this_thread::sleep_for(300ms);
  CHECK(slurp(cell.dest()) == host_file("db.internal"));
  clear_faults(s.consul);
  cell.expect_converged(host_file("db2"));
  check_paced(lost);
  cell.finish();
}

TEST_CASE("faults: Consul index reset mid-run restarts blocking at index 0 (daemon)", "[faults]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  Cell cell(kHostTemplate, "block_query_wait: 1s");
  for (int i = 1; i <= 5; ++i) s.put_key("app/host", "db-" + std::to_string(i));
  cell.start_daemon(s.env(), host_file("db-5"));
  // A snapshot restore: older data, and every index back to 2.
  seed(s.consul, R"({"kv": {"app/host": "restored"}, "reset_index_to": 2})");
  cell.await_fault(
      "info",
      R"(kv\.block\(app/host\): consul index went backwards \(\d+ -> 2\); restarting at index 0)",
      1, 6s, false);  // the restart's first answer rewrites the file right after this line
  cell.expect_converged(host_file("restored"), 3s);
  // Blocking again from the new index: a write after the restore shows up at once, not after
  // the index climbs back past where it was.
  s.put_key("app/host", "after-restore");
  cell.expect_converged(host_file("after-restore"), 2s);
  cell.finish();
}

// ---- Slow servers ---------------------------------------------------------------------------

TEST_CASE("faults: slow Vault times out and is retried until it answers (daemon)", "[faults]") {
  VaultAndConsul s(kv_seed("pw-One-Np6gK2d"));
  SKIP_WITHOUT_EMULATORS(s);
  Cell cell(kPasswordTemplate, "vault: {default_lease_duration: 1s, timeout: 1s}");
  cell.start_daemon(s.env(), password_file("pw-One-Np6gK2d"));
  arm_fault(s.vault, R"({"path_regex": "^/v1/secret/data/app$", "delay_ms": 3000})");
  seed(s.vault, kv_seed("pw-Two-Bs1xH5j"));
  auto slow = cell.await_fault(
      "warning", vault_read_failed(s.vault, "/v1/secret/data/app") + "timed out after 1s" + kRetry,
      2, 8s);
  clear_faults(s.vault);
  cell.expect_converged(password_file("pw-Two-Bs1xH5j"));
  check_paced(slow, 1050);
  cell.finish({"pw-One-Np6gK2d", "pw-Two-Bs1xH5j"});
}

TEST_CASE("faults: slow Consul times out and is retried until it answers (--once)", "[faults]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  arm_fault(s.consul, R"({"path_regex": "^/v1/kv/app/host$", "method": "GET", "delay_ms": 3000})");
  Cell cell(kHostTemplate, "consul: {timeout: 1s}");
  cell.start_once(s.env());
  auto slow = cell.await_fault("warning",
                               consul_read_failed(s.consul) + "timed out after 1s" + kRetry, 2, 8s);
  s.put_key("app/host", "db-fresh");
  clear_faults(s.consul);
  cell.expect_converged(host_file("db-fresh"));
  check_paced(slow, 1050);
  cell.finish();
}
