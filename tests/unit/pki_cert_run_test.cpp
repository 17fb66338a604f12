// pkiCert end to end: the built templet against the Vault emulator's PKI engine
// (tests/emulators/vault_pki.py). What templet writes is read back with openssl; the emulator's
// issue count says whether a certificate was issued or kept from the destination.
#include <catch2/catch.hpp>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/unit/test_support.hpp"

using namespace templet::testing;
namespace fs = std::filesystem;

namespace {

// `web`: Vault's defaults but EC keys (fast); `quick`: no notBefore backdating, so a short ttl
// reaches its renewal point (90 % of the lifetime) in seconds; `leased`: generate_lease.
const char* kSeed = R"({"pki_mounts": {"pki": {"common_name": "templet test CA", "roles": {
    "web": {"allowed_domains": ["example.com"], "allow_subdomains": true, "max_ttl": "1h",
            "key_type": "ec"},
    "quick": {"allow_any_name": true, "key_type": "ec", "not_before_duration": 0,
              "generate_lease": true}}}}})";

const std::string kTemplate =
    R"({{ with pkiCert "pki/issue/web" "common_name=app.example.com" "ttl=30m" }})"
    R"({{ .Cert }}{{ .Key }}{{ end }})";

bool have_openssl() {
  return ::access("/usr/bin/openssl", X_OK) == 0;
}

nlohmann::json pki_state(const EmulatorProcess& vault) {
  return call_json(vault, "GET", "/_emulator/state")["pki"]["pki/"];
}

// openssl's -enddate line for a Unix time.
std::string enddate(long long t) {
  std::time_t tt = static_cast<std::time_t>(t);
  char buf[64];
  std::strftime(buf, sizeof buf, "notAfter=%b %e %H:%M:%S %Y GMT\n", std::gmtime(&tt));
  return buf;
}

struct Run {
  int status;
  std::string err;
};

Run once(const EmulatorProcess& vault, const fs::path& config, const fs::path& dir) {
  TempletProcess t({"run", "-c", config.string(), "--once", "--timeout", "20s"},
                   {{"VAULT_ADDR", vault.url()}, {"VAULT_TOKEN", "root"}}, dir);
  int st = t.wait(30s);
  return {st, t.stderr_text()};
}

}  // namespace

TEST_CASE("pkiCert run: issues, keeps a good certificate, re-issues past its renewal point",
          "[pki][integration]") {
  EmulatorProcess vault("vault", kSeed);
  if (vault.port == 0 || !have_openssl()) return;
  TempDir dir;
  const fs::path dest = dir.path / "app.pem", config = dir.path / "templet.yaml";
  spit(config, config_yaml(dir.path, {{kTemplate, dest}}));

  // 1. Nothing at the destination: one certificate issued, cert and key written.
  Run first = once(vault, config, dir.path);
  REQUIRE(first.status == 0);
  nlohmann::json st = pki_state(vault);
  REQUIRE(st["issued"] == 1);
  const long long expiration = st["certificates"][0]["expiration"].get<long long>();
  ShellRun x509 = run_shell("openssl x509 -noout -subject -enddate -in " + dest.string());
  REQUIRE(x509.status == 0);
  CHECK(x509.out == "subject=CN = app.example.com\n" + enddate(expiration));
  CHECK(expiration - std::time(nullptr) > 1700);  // ttl=30m
  // The key written is the certificate's.
  ShellRun pub_of_key = run_shell("openssl pkey -pubout -in " + dest.string());
  ShellRun pub_of_cert = run_shell("openssl x509 -noout -pubkey -in " + dest.string());
  CHECK(pub_of_key.status == 0);
  CHECK(pub_of_key.out == pub_of_cert.out);
  CHECK(mode_of(dest) == 0600);  // rendered from Vault data
  const std::string written = slurp(dest);
  CHECK(first.err.find("BEGIN") == std::string::npos);  // the diff is masked

  // 2. The certificate there is good: kept, nothing issued, the file untouched.
  Run second = once(vault, config, dir.path);
  REQUIRE(second.status == 0);
  CHECK(pki_state(vault)["issued"] == 1);
  CHECK(slurp(dest) == written);
  CHECK(second.err.find("vault.pki(pki/issue/web->" + dest.string() +
                        "): keeping the certificate in " + dest.string()) != std::string::npos);

  // 3. A certificate valid for 100 s more but past 90 % of its lifetime: issued with the
  // emulator's clock 1700 s behind (ttl 30m, notBefore 30 s earlier still).
  call(vault, "POST", "/_emulator/seed", R"({"time_offset_s": -1700})");
  templet::HttpRequest issue;
  issue.method = "PUT";
  issue.url = vault.url() + "/v1/pki/issue/web";
  issue.headers = {{"X-Vault-Token", "root"}};
  issue.body = R"({"common_name": "app.example.com", "ttl": "30m"})";
  nlohmann::json old =
      nlohmann::json::parse(templet::make_http_client({"", true, "", ""})->send(issue).body);
  call(vault, "POST", "/_emulator/seed", R"({"time_offset_s": 0})");
  REQUIRE(old["data"].is_object());
  spit(dest, old["data"]["certificate"].get<std::string>() + "\n" +
                 old["data"]["private_key"].get<std::string>() + "\n");
  REQUIRE(pki_state(vault)["issued"] == 2);
  Run third = once(vault, config, dir.path);
  REQUIRE(third.status == 0);
  st = pki_state(vault);
  CHECK(st["issued"] == 3);
  ShellRun renewed = run_shell("openssl x509 -noout -subject -enddate -in " + dest.string());
  CHECK(renewed.out == "subject=CN = app.example.com\n" +
                           enddate(st["certificates"][2]["expiration"].get<long long>()));
}

TEST_CASE("pkiCert daemon: re-issues at the renewal point and never revokes the old lease",
          "[pki][integration]") {
  EmulatorProcess vault("vault", kSeed);
  if (vault.port == 0 || !have_openssl()) return;
  TempDir dir;
  const fs::path dest = dir.path / "quick.pem", config = dir.path / "templet.yaml";
  // A 3 s certificate (no backdating): renewal due 2.7 s after it was issued. The role gives
  // each one a lease, which revoke_superseded must leave alone: revoking it revokes the
  // certificate.
  spit(config,
       config_yaml(dir.path,
                   {{R"({{ with pkiCert "pki/issue/quick" "common_name=q.internal" "ttl=3s" }})"
                     R"({{ .Cert }}{{ end }})",
                     dest}},
                   "vault:\n  revoke_superseded: true\n"));
  TempletProcess t({"run", "-c", config.string()},
                   {{"VAULT_ADDR", vault.url()}, {"VAULT_TOKEN", "root"}}, dir.path);
  REQUIRE(eventually([&] { return fs::exists(dest); }, 10s));
  const std::string first = slurp(dest);
  REQUIRE(eventually([&] { return pki_state(vault)["issued"] == 2; }, 10s));
  REQUIRE(eventually([&] { return fs::exists(dest) && slurp(dest) != first; }, 5s));
  t.signal(SIGTERM);
  CHECK(t.wait(10s) == 0);
  nlohmann::json st = pki_state(vault);
  CHECK(st["revoked"] == nlohmann::json::array());
  CHECK(requests(vault, "^/v1/sys/(leases/)?revoke", "PUT").empty());
  ShellRun x509 = run_shell("openssl x509 -noout -subject -in " + dest.string());
  CHECK(x509.out == "subject=CN = q.internal\n");
}
