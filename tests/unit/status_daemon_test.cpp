// A daemon against the emulators, read only as an operator would (issue 20): `templet status`
// (table and --json), its metrics textfile, /metrics and /health, and systemd's notifications.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <regex>
#include <thread>

#include "net/http_client.hpp"
#include "tests/unit/test_support.hpp"

using namespace templet;
using namespace templet::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string kUserAndN =
    R"({{ with secret "database/creds/readonly" }}{{ .Data.username }}{{ end }} n={{ key "app/n" | parseInt }})";

// The value of the sample `series` (name and labels, exactly) in an exposition; NaN if absent.
double sample(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  for (std::string l; std::getline(in, l);)
    if (l.rfind(series + " ", 0) == 0) return std::stod(l.substr(series.size() + 1));
  return std::nan("");
}

HttpResponse get(int port, const std::string& path) {
  HttpRequest req;
  req.method = "GET";
  req.url = "http://127.0.0.1:" + std::to_string(port) + path;
  return make_http_client({"", true, "", ""})->send(req);
}

int listener_port(const TempletProcess& t) {
  std::smatch m;
  std::string err = t.stderr_text();
  if (!std::regex_search(err, m, std::regex("metrics: serving .* \\(port ([0-9]+)\\)"))) return 0;
  return std::stoi(m[1]);
}

}  // namespace

TEST_CASE("status daemon: status, textfile and /metrics agree with the emulators",
          "[status][daemon]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  fs::path prom = p / "textfile" / "templet.prom";
  std::string cfg = (p / "templet.yaml").string();
  spit(cfg, config_yaml(p, {{kUserAndN, p / "a"}, {R"(host={{ key "app/host" }})", p / "b"}},
                        "metrics: {textfile: " + prom.string() + ", listen: \"127.0.0.1:0\"}\n"));
  TempletProcess t({"run", "-c", cfg}, s.env(), p);
  REQUIRE(eventually([&] { return fs::exists(p / "a") && fs::exists(p / "b"); }, 10s));
  fs::path sock = p / "state" / "status.sock";
  REQUIRE(eventually([&] { return fs::exists(sock); }, 5s));
  CHECK((mode_of(sock) & 0777) == 0600);
  int port = listener_port(t);
  REQUIRE(port != 0);

  // Healthy: exit 0; the lease expiry agrees with the emulator's lease table.
  ShellRun js = run_shell(std::string(TEMPLET_BINARY) + " status --json -c " + cfg);
  REQUIRE(js.status == 0);
  auto j = nlohmann::json::parse(js.out);
  CHECK(j["healthy"] == true);
  auto leases = s.leases_by_user();
  std::string user = slurp(p / "a").substr(0, slurp(p / "a").find(' '));
  REQUIRE(leases.count(user) == 1);
  double expire_time = leases[user]["expire_time"].get<double>();
  REQUIRE(j["leases"].size() == 1);
  CHECK(j["leases"][0]["dependency"] == "vault.read(database/creds/readonly)");
  CHECK(j["leases"][0]["renewable"] == true);
  CHECK(j["leases"][0]["token_expires_in_s"].is_null());
  CHECK(std::fabs(j["leases"][0]["expires_in_s"].get<double>() -
                  leases[user]["ttl"].get<double>()) < 2);
  CHECK(j["leases"][0]["lease"].get<std::string>().rfind("database/creds/readonly/…#", 0) == 0);
  CHECK(js.out.find(user) == std::string::npos);  // the Vault username is a secret
  REQUIRE(j["templates"].size() == 2);
  CHECK(j["templates"][0]["destination"] == (p / "a").string());
  CHECK(j["templates"][0]["state"] == "ok");
  CHECK(j["templates"][0]["last_error"].is_null());
  const std::string series =
      "templet_lease_expiry_timestamp_seconds{dependency=\"vault.read(database/creds/readonly)\"}";
  REQUIRE(eventually([&] { return fs::exists(prom); }, 5s));
  CHECK(std::fabs(sample(slurp(prom), series) - expire_time) < 2);
  CHECK(std::fabs(sample(get(port, "/metrics").body, series) - expire_time) < 2);
  const std::string consumer =
      "templet_consumer_credential_expiry_timestamp_seconds{destination=\"" + (p / "a").string() +
      "\"}";
  CHECK(eventually([&] { return std::fabs(sample(slurp(prom), consumer) - expire_time) < 2; }, 3s));
  CHECK(get(port, "/health").status == 200);
  ShellRun table = run_shell(std::string(TEMPLET_BINARY) + " status -c " + cfg);
  CHECK(table.status == 0);
  CHECK(table.out.rfind("templet " TEMPLET_VERSION ": healthy\n", 0) == 0);

  // A failing template: degraded everywhere, counted in both expositions.
  s.put_key("app/n", "not-a-number");
  const std::string failures =
      "templet_render_failures_total{template=\"" + (p / "a").string() + "\"}";
  CHECK(eventually([&] { return sample(slurp(prom), failures) == 1; }, 5s));
  CHECK(sample(get(port, "/metrics").body, failures) == 1);
  CHECK(get(port, "/health").status == 503);
  js = run_shell(std::string(TEMPLET_BINARY) + " status --json --state-dir " +
                 (p / "state").string());
  CHECK(js.status == 1);
  j = nlohmann::json::parse(js.out);
  CHECK(j["healthy"] == false);
  CHECK(j["templates"][0]["state"] == "failing");
  CHECK(j["templates"][0]["last_error"].get<std::string>().find("parseInt") != std::string::npos);
  CHECK(j["templates"][1]["state"] == "ok");
  CHECK(slurp(p / "a").find(" n=5") != std::string::npos);  // the last good file stays

  t.signal(SIGTERM);
  CHECK(t.wait(10s) == 0);
  CHECK_FALSE(fs::exists(sock));
  ShellRun gone = run_shell(std::string(TEMPLET_BINARY) + " status -c " + cfg);
  CHECK(gone.status == 3);
  CHECK(gone.err ==
        "templet: no daemon answers on " + sock.string() + ": No such file or directory\n");
}

TEST_CASE("status daemon: WATCHDOG=1 pings and STATUS= come from the loop", "[status][daemon]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  std::string path = (p / "notify").string();
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  timeval tv{0, 100000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string cfg = (p / "templet.yaml").string();
  spit(cfg, config_yaml(p, {{R"(host={{ key "app/host" }})", p / "b"},
                            {R"(n={{ key "app/n" | parseInt }})", p / "n"}}));
  auto env = s.env();
  env["NOTIFY_SOCKET"] = path;
  env["WATCHDOG_USEC"] = "400000";  // a ping due every 100 ms
  TempletProcess t({"run", "-c", cfg}, env, p);
  std::vector<std::string> got;
  auto receive_for = [&](std::chrono::milliseconds span) {
    auto end = std::chrono::steady_clock::now() + span;
    while (std::chrono::steady_clock::now() < end) {
      char buf[512];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) got.emplace_back(buf, static_cast<size_t>(n));
    }
  };
  receive_for(1500ms);
  auto count = [&](const std::string& what) {
    size_t c = 0;
    for (const auto& m : got) c += m.find(what) != std::string::npos;
    return c;
  };
  CHECK(count("READY=1") == 1);
  CHECK(count("WATCHDOG=1") >= 4);
  CHECK(count("STATUS=2 templates ok") == 1);
  got.clear();
  s.put_key("app/n", "x");
  receive_for(1500ms);
  CHECK(count("STATUS=1 template ok, 1 failing: " + (p / "n").string() + " (template: ") == 1);
  CHECK(count("WATCHDOG=1") >= 4);
  t.signal(SIGTERM);
  CHECK(t.wait(10s) == 0);
  ::close(fd);
}

TEST_CASE("status daemon: a metrics listener that cannot listen is a configuration error",
          "[status][daemon]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  std::string taken = "127.0.0.1:" + std::to_string(s.consul.port);  // the emulator has it
  std::string cfg = (d.path / "templet.yaml").string();
  spit(cfg, config_yaml(d.path, {{"x", d.path / "x"}}, "metrics: {listen: \"" + taken + "\"}\n"));
  TempletProcess t({"run", "-c", cfg}, s.env(), d.path);
  CHECK(t.wait(10s) == 2);
  CHECK(t.stderr_text() == "templet: metrics: listen " + taken + ": Address already in use\n");
}
