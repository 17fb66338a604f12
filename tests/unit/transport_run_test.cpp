// Which HTTP transport templet uses, seen from outside through the CLI: a daemon that talks plain
// http to local agents never maps libcurl or a TLS library (the idle-memory figure in
// bench/README.md rests on it), and Vault over https goes through libcurl, trusting the CA the
// config names. Skipped when python3, the emulators or the openssl command are absent.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "tests/unit/test_support.hpp"

using namespace templet::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// The shared objects process `pid` has mapped, by file name, one per line.
std::string mapped_libraries(pid_t pid) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::set<std::string> names;
  for (std::string line; std::getline(maps, line);) {
    auto slash = line.rfind('/');
    if (slash != std::string::npos && line.find(".so", slash) != std::string::npos)
      names.insert(line.substr(slash + 1));
  }
  std::string out;
  for (const auto& n : names) out += n + "\n";
  return out;
}

// A self-signed certificate for 127.0.0.1, made with the openssl command.
struct SelfSignedCertificate {
  TempDir dir;
  std::string cert = (dir.path / "cert.pem").string();
  std::string key = (dir.path / "key.pem").string();
  bool made = run_shell(
                  "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                  "-nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
                  "-keyout " +
                  key + " -out " + cert)
                  .status == 0;
};

const std::string kUserTemplate =
    R"({{ with secret "database/creds/readonly" }}{{ .Data.username }}{{ end }} {{ key "app/host" }})";

}  // namespace

TEST_CASE("run daemon over plain http maps neither libcurl nor a TLS library", "[transport]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  spit(p / "templet.yaml", config_yaml(p, {{kUserTemplate, p / "out"}}));
  TempletProcess t({"run", "-c", (p / "templet.yaml").string()}, s.env(), p);
  REQUIRE(eventually([&] { return slurp(p / "out").size() > 0; }, 10s));
  std::string libraries = mapped_libraries(t.pid);
  INFO(libraries);
  CHECK(libraries.find("libstdc++") != std::string::npos);  // the listing works
  for (const char* absent : {"libcurl", "libssl", "libcrypto", "libgnutls", "libgssapi"})
    CHECK(libraries.find(absent) == std::string::npos);
  t.signal(SIGTERM);
  CHECK(t.wait(10s) == 0);
}

TEST_CASE("run --once with Vault over https trusts the CA the config names", "[transport]") {
  SelfSignedCertificate ca;
  if (!ca.made) {
    WARN("the openssl command is not available; skipped");
    return;
  }
  EmulatorProcess vault("vault", VaultAndConsul::kVaultSeed, 0, artifacts_dir(), {ca.cert, ca.key});
  EmulatorProcess consul("consul", VaultAndConsul::kConsulSeed);
  if (vault.port == 0 || consul.port == 0) {
    WARN("emulators not available; skipped");
    return;
  }
  REQUIRE(vault.url().rfind("https://", 0) == 0);
  TempDir d;
  auto p = d.path;
  std::map<std::string, std::string> env = {
      {"VAULT_ADDR", vault.url()},
      {"VAULT_TOKEN", "root"},
      {"CONSUL_HTTP_ADDR", "127.0.0.1:" + std::to_string(consul.port)}};
  auto config = [&](const std::string& vault_block) {
    spit(p / "templet.yaml", config_yaml(p, {{kUserTemplate, p / "out"}}, vault_block));
    return std::vector<std::string>{"run", "--once", "--timeout",
                                    "3s",  "-c",     (p / "templet.yaml").string()};
  };

  SECTION("with ssl.ca_cert the secret is read and written") {
    TempletProcess t(config("vault:\n  ssl: {ca_cert: " + ca.cert + "}\n"), env, p);
    CHECK(t.wait(20s) == 0);
    auto leases = requests(vault, "^/v1/database/creds/readonly$", "GET");
    CHECK(leases.size() == 1);
    std::string out = slurp(p / "out");
    CHECK(out.rfind("v-", 0) == 0);
    CHECK(out.substr(out.find(' ')) == " db.internal");
  }
  SECTION("without it the certificate is refused and the failure named") {
    TempletProcess t(config(""), env, p);
    REQUIRE(t.wait(20s) != -1);
    INFO(t.stderr_text());
    CHECK(t.status == 3);
    CHECK_FALSE(fs::exists(p / "out"));
    CHECK(t.stderr_text().find("SSL certificate problem: self-signed certificate") !=
          std::string::npos);
  }
}
