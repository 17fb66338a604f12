// Vault client: KV v2 detection and the path shim, errors, namespace, token file, AppRole.
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <thread>

#include "functions/live/kv_path.hpp"
#include "functions/live/mask.hpp"
#include "functions/live/vault_client.hpp"
#include "live_fakes.hpp"

using namespace templet;
using namespace templet::live;
using templet::live::test::FakeHttp;
using templet::live::test::mounts_body;

namespace {

VaultSettings settings(const std::string& token = "s.tok") {
  VaultSettings s;
  s.address = "http://vault:8200";
  s.token = token;
  return s;
}

const char* kKv2Secret =
    R"({"request_id":"1","lease_id":"","renewable":false,"lease_duration":0,"data":{"data":{"password":"pw"},"metadata":{"version":3}},"wrap_info":null,"warnings":null,"auth":null})";

std::string temp_dir() {
  char tmpl[] = "/tmp/templet-live-XXXXXX";
  return std::string(::mkdtemp(tmpl));
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

}  // namespace

TEST_CASE("KV v2 path shim follows the reference table", "[live]") {
  CHECK(shim_kv2_path("secret/foo/bar", "secret/", "") == "secret/data/foo/bar");
  CHECK(shim_kv2_path("secret/data/foo/bar", "secret/", "") == "secret/data/foo/bar");
  CHECK(shim_kv2_path("secret/metadata/foo", "secret/", "") == "secret/metadata/foo");
  CHECK(shim_kv2_path("secret/datafoo/bar", "secret/", "") == "secret/data/datafoo/bar");
  CHECK(shim_kv2_path("secret", "secret/", "") == "secret/data");
  CHECK(shim_kv2_path("secret/", "secret/", "") == "secret/data");
  CHECK(shim_kv2_path("c/secret/foo", "a/b/c/secret/", "a/b") == "c/secret/data/foo");
  CHECK(shim_kv2_path("secret/foo", "secret/secret/", "secret/") == "secret/data/foo");
  CHECK(shim_kv2_path("secret/subkeys/foo", "secret/", "") == "secret/subkeys/foo");
}

TEST_CASE("KV v2 list shim goes to metadata", "[live]") {
  CHECK(shim_kv2_list_path("secret", "secret/", "") == "secret/metadata");
  CHECK(shim_kv2_list_path("secret/x", "secret/", "") == "secret/metadata/x");
  CHECK(shim_kv2_list_path("secret/metadata/x", "secret/", "") == "secret/metadata/x");
}

TEST_CASE("lease ids and tokens are masked", "[live]") {
  std::string id = "database/creds/ro/AbCdEfGhIjKlMnOpQrStUvWx";
  std::string m = mask_lease_id(id);
  CHECK(m.rfind("database/creds/ro/…#", 0) == 0);
  CHECK(m.find("AbCd") == std::string::npos);
  CHECK(mask_token("s.secret").find("secret") == std::string::npos);
  CHECK(mask_token("s.secret").size() == std::string("token#").size() + 6);
}

TEST_CASE("Vault KV v2 is detected once per mount and reads are shimmed", "[live]") {
  FakeHttp http;
  FakeClock clock;
  http.on("GET", "/v1/sys/internal/ui/mounts/secret/foo", 200, mounts_body("secret/", "kv", "2"));
  http.on("GET", "/v1/secret/data/foo", 200, kKv2Secret);
  http.on("GET", "/v1/secret/data/other", 200, kKv2Secret);
  VaultClient vault(settings(), http.pool(), clock);

  Response r = vault.read(parse_vault_read("secret/foo"));
  CHECK(r.status == 200);
  CHECK(r.body == kKv2Secret);
  vault.read(parse_vault_read("/secret/other/"));
  CHECK(http.calls_to("GET", "/v1/sys/internal/ui/mounts/secret/foo").size() == 1);
  CHECK(http.calls_to("GET", "/v1/sys/internal/ui/mounts/secret/other").empty());
  auto reads = http.calls_to("GET", "/v1/secret/data/other");
  REQUIRE(reads.size() == 1);
  CHECK(reads[0].header("X-Vault-Token") == "s.tok");
  CHECK(reads[0].header("X-Vault-Request") == "true");
  CHECK(reads[0].header("X-Vault-Namespace").empty());

  // ?version=N travels as a query parameter on the shimmed path.
  http.on("GET", "/v1/secret/data/foo", 200, kKv2Secret);
  http.reset_calls();
  vault.read(parse_vault_read("secret/foo?version=2"));
  REQUIRE(http.calls().size() == 1);
  CHECK(http.calls()[0].target == "/v1/secret/data/foo?version=2");
}

TEST_CASE("Vault mounts: 403 means the raw path, 404 means KV v1 for that query only", "[live]") {
  FakeClock clock;
  {
    FakeHttp http;
    http.on("GET", "/v1/sys/internal/ui/mounts/secret/foo", 403,
            R"({"errors":["preflight capability check returned 403"]})");
    http.on("GET", "/v1/secret/foo", 200, R"({"data":{"a":"b"}})");
    VaultClient vault(settings(), http.pool(), clock);
    CHECK(vault.read(parse_vault_read("secret/foo")).status == 200);
    vault.read(parse_vault_read("secret/foo"));
    CHECK(http.calls_to("GET", "/v1/secret/foo").size() == 2);
    CHECK(http.calls_to("GET", "/v1/sys/internal/ui/mounts/secret/foo").size() == 1);
  }
  {
    FakeHttp http;
    http.on("GET", "/v1/sys/internal/ui/mounts/kv/a", 404, R"({"errors":[]})");
    http.on("GET", "/v1/kv/a", 404, R"({"errors":[]})");
    http.on("GET", "/v1/kv/b", 200, R"({"data":{}})");
    http.on("GET", "/v1/sys/internal/ui/mounts/kv/b", 404, R"({"errors":[]})");
    http.on("GET", "/v1/sys/internal/ui/mounts/secret/c", 200,
            test::mounts_body("secret/", "kv", "2"));
    http.on("GET", "/v1/secret/data/c", 200, R"({"data":{"data":{}}})");
    VaultClient vault(settings(), http.pool(), clock);
    Response r = vault.read(parse_vault_read("kv/a"));
    CHECK(r.status == 404);  // an answer: the data function says "no secret exists"
    vault.read(parse_vault_read("kv/a"));
    vault.read(parse_vault_read("kv/b"));
    // consul-template decides per query: one 404 makes that query v1, not the whole process.
    CHECK(http.calls_to("GET", "/v1/sys/internal/ui/mounts/kv/a").size() == 1);
    CHECK(http.calls_to("GET", "/v1/sys/internal/ui/mounts/kv/b").size() == 1);
    CHECK(vault.read(parse_vault_read("secret/c")).status == 200);
    CHECK(http.calls_to("GET", "/v1/secret/data/c").size() == 1);
  }
  {
    FakeHttp http;  // a sealed Vault is an error to retry, not a v1 verdict
    http.on("GET", "/v1/sys/internal/ui/mounts/secret/foo", 503,
            R"({"errors":["Vault is sealed"]})");
    VaultClient vault(settings(), http.pool(), clock);
    CHECK_THROWS_WITH(
        vault.read(parse_vault_read("secret/foo")),
        "vault: GET http://vault:8200/v1/sys/internal/ui/mounts/secret/foo: status 503: Vault is "
        "sealed");
  }
}

TEST_CASE("Vault writes wrap KV v2 bodies and lists go to metadata", "[live]") {
  FakeHttp http;
  FakeClock clock;
  http.on("GET", "/v1/sys/internal/ui/mounts/secret/app", 200, mounts_body("secret/", "kv", "2"));
  http.on("GET", "/v1/sys/internal/ui/mounts/secret", 200, mounts_body("secret/", "kv", "2"));
  http.on("PUT", "/v1/secret/data/app", 200, R"({"data":{"version":1}})");
  http.on("LIST", "/v1/secret/metadata", 200, R"({"data":{"keys":["a","b/"]}})");
  VaultClient vault(settings(), http.pool(), clock);
  vault.write(parse_vault_write("secret/app", {"user=bob", "pass=x"}));
  auto puts = http.calls_to("PUT", "/v1/secret/data/app");
  REQUIRE(puts.size() == 1);
  CHECK(puts[0].body == R"({"data":{"pass":"x","user":"bob"}})");
  CHECK(vault.list(parse_vault_list("secret/")).body == R"({"data":{"keys":["a","b/"]}})");
  CHECK(http.calls_to("LIST", "/v1/secret/metadata").size() == 1);
}

TEST_CASE("Vault errors name the server, method, path, status and message, never the token",
          "[live]") {
  FakeHttp http;
  FakeClock clock;
  http.on("GET", "/v1/sys/internal/ui/mounts/db/creds/ro", 200, mounts_body("db/", "database", ""));
  http.on("GET", "/v1/db/creds/ro", 403,
          R"({"errors":["1 error occurred:\n\t* permission denied\n\n"]})");
  VaultClient vault(settings("s.very-secret"), http.pool(), clock);
  try {
    vault.read(parse_vault_read("db/creds/ro"));
    FAIL("no error");
  } catch (const VaultError& e) {
    CHECK(std::string(e.what()) ==
          "vault: GET http://vault:8200/v1/db/creds/ro: status 403: permission denied");
    CHECK(e.status == 403);
    CHECK_FALSE(e.retryable());
  }
}

TEST_CASE("Vault namespace header and no token at all", "[live]") {
  FakeHttp http;
  FakeClock clock;
  VaultSettings s = settings("");
  s.namespace_ = "team-a/";
  http.on("GET", "/v1/sys/internal/ui/mounts/kv/x", 404, R"({"errors":[]})");
  http.on("GET", "/v1/kv/x", 200, R"({"data":{}})");
  VaultClient vault(s, http.pool(), clock);
  vault.read(parse_vault_read("kv/x"));
  auto c = http.calls_to("GET", "/v1/kv/x");
  REQUIRE(c.size() == 1);
  CHECK(c[0].header("X-Vault-Namespace") == "team-a/");
  CHECK(c[0].header("X-Vault-Token").empty());
  CHECK_FALSE(vault.token_needs_upkeep());
}

TEST_CASE("Vault token file is re-read when it changes", "[live]") {
  FakeHttp http;
  FakeClock clock;
  std::string dir = temp_dir();
  std::string file = dir + "/token";
  VaultSettings s = settings("ignored");
  s.token_file = file;
  http.on("GET", "/v1/sys/internal/ui/mounts/kv/x", 404, R"({"errors":[]})");
  http.on("GET", "/v1/kv/x", 200, R"({"data":{}})");
  VaultClient vault(s, http.pool(), clock);
  vault.read(parse_vault_read("kv/x"));  // no file yet: no token, looked at again next time
  write_file(file, "s.one\n");
  vault.read(parse_vault_read("kv/x"));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  write_file(file, "s.two-longer\n");
  vault.read(parse_vault_read("kv/x"));
  auto c = http.calls_to("GET", "/v1/kv/x");
  REQUIRE(c.size() == 3);
  CHECK(c[0].header("X-Vault-Token").empty());
  CHECK(c[1].header("X-Vault-Token") == "s.one");
  CHECK(c[2].header("X-Vault-Token") == "s.two-longer");
  std::remove(file.c_str());
  ::rmdir(dir.c_str());
}

TEST_CASE("AppRole logs in, and logs in again after a 403", "[live]") {
  FakeHttp http;
  FakeClock clock;
  std::string dir = temp_dir();
  write_file(dir + "/role", "role-1\n");
  write_file(dir + "/secret", "sid-1\n");
  VaultSettings s = settings("");
  s.role_id_file = dir + "/role";
  s.secret_id_file = dir + "/secret";
  http.on(
      "POST", "/v1/auth/approle/login", 200,
      R"({"lease_id":"","lease_duration":0,"data":null,"auth":{"client_token":"s.first","lease_duration":3600,"renewable":true}})");
  http.on(
      "POST", "/v1/auth/approle/login", 200,
      R"({"lease_id":"","lease_duration":0,"data":null,"auth":{"client_token":"s.second","lease_duration":3600,"renewable":true}})");
  http.on("GET", "/v1/sys/internal/ui/mounts/kv/x", 404, R"({"errors":[]})");
  http.on("GET", "/v1/kv/x", 200, R"({"data":{"n":1}})");
  http.on("GET", "/v1/kv/x", 403, R"({"errors":["permission denied"]})");
  http.on("GET", "/v1/kv/x", 200, R"({"data":{"n":2}})");
  VaultClient vault(s, http.pool(), clock);
  CHECK(vault.read(parse_vault_read("kv/x")).body == R"({"data":{"n":1}})");
  CHECK(vault.read(parse_vault_read("kv/x")).body == R"({"data":{"n":2}})");
  auto logins = http.calls_to("POST", "/v1/auth/approle/login");
  REQUIRE(logins.size() == 2);
  CHECK(logins[0].body == R"({"role_id":"role-1","secret_id":"sid-1"})");
  CHECK(logins[0].header("X-Vault-Token").empty());
  auto reads = http.calls_to("GET", "/v1/kv/x");
  REQUIRE(reads.size() == 3);
  CHECK(reads[0].header("X-Vault-Token") == "s.first");
  CHECK(reads[1].header("X-Vault-Token") == "s.first");
  CHECK(reads[2].header("X-Vault-Token") == "s.second");

  // An expired login token is replaced before use, without waiting for a 403.
  http.on("POST", "/v1/auth/approle/login", 200,
          R"({"auth":{"client_token":"s.third","lease_duration":3600,"renewable":true}})");
  clock.advance(std::chrono::seconds(3601));
  vault.read(parse_vault_read("kv/x"));
  CHECK(http.calls_to("GET", "/v1/kv/x").back().header("X-Vault-Token") == "s.third");
}

TEST_CASE("Token upkeep renews a renewable token on its TTL", "[live]") {
  FakeHttp http;
  FakeClock clock;
  http.on("PUT", "/v1/auth/token/renew-self", 200,
          R"({"auth":{"client_token":"s.tok","lease_duration":3600,"renewable":true}})");
  VaultClient vault(settings(), http.pool(), clock);
  REQUIRE(vault.token_needs_upkeep());
  auto next = vault.maintain_token([] { return 0.0; });
  REQUIRE(next);
  // 2/3 * 3600 + 1/3 * (10 % of 3600) = 2400 + 120 s
  CHECK(*next - clock.now() == std::chrono::seconds(2520));
  CHECK(http.calls_to("PUT", "/v1/auth/token/renew-self")[0].body == "{}");
  vault.maintain_token([] { return 0.0; });
  CHECK(http.calls_to("PUT", "/v1/auth/token/renew-self")[1].body == R"({"increment":3600})");

  // A root token cannot be renewed: upkeep stops quietly.
  FakeHttp root_http;
  root_http.on("PUT", "/v1/auth/token/renew-self", 400, R"({"errors":["invalid lease ID"]})");
  VaultClient root(settings("root"), root_http.pool(), clock);
  CHECK_FALSE(root.maintain_token([] { return 0.0; }));
}

TEST_CASE("Lease renew reports capping, revoke sends the lease id", "[live]") {
  FakeHttp http;
  FakeClock clock;
  http.on(
      "PUT", "/v1/sys/leases/renew", 200,
      R"({"lease_id":"db/creds/ro/abc","renewable":true,"lease_duration":3600,"data":null,"warnings":null})");
  http.on(
      "PUT", "/v1/sys/leases/renew", 200,
      R"({"lease_id":"db/creds/ro/abc","renewable":true,"lease_duration":599,"data":null,"warnings":["TTL of \"1h\" exceeded the effective max_ttl of \"9m59s\"; TTL value is capped accordingly"]})");
  http.on("PUT", "/v1/sys/leases/revoke", 204, "");
  VaultClient vault(settings(), http.pool(), clock);
  RenewResult a = vault.renew_lease("db/creds/ro/abc", 3600);
  CHECK(a.lease_seconds == 3600);
  CHECK_FALSE(a.capped);
  RenewResult b = vault.renew_lease("db/creds/ro/abc", 3600);
  CHECK(b.lease_seconds == 599);
  CHECK(b.capped);
  CHECK(http.calls_to("PUT", "/v1/sys/leases/renew")[0].body ==
        R"({"increment":3600,"lease_id":"db/creds/ro/abc"})");
  vault.revoke_lease("db/creds/ro/abc");
  CHECK(http.calls_to("PUT", "/v1/sys/leases/revoke")[0].body ==
        R"({"lease_id":"db/creds/ro/abc"})");
}

TEST_CASE("Vault 307 from a standby is followed with the same request and token", "[live]") {
  FakeHttp http;
  FakeClock clock;
  http.on("GET", "/v1/sys/internal/ui/mounts/kv/x", 404, R"({"errors":[]})");
  http.on("GET", "/v1/kv/x", 307, "", {{"location", "http://vault:8200/v1/active/kv/x"}});
  http.on("GET", "/v1/active/kv/x", 200, R"({"data":{"n":1}})");
  VaultClient vault(settings(), http.pool(), clock);
  CHECK(vault.read(parse_vault_read("kv/x")).body == R"({"data":{"n":1}})");
  auto again = http.calls_to("GET", "/v1/active/kv/x");
  REQUIRE(again.size() == 1);
  CHECK(again[0].header("X-Vault-Token") == "s.tok");

  // A loop of redirects ends after 3 hops; https never goes down to http.
  http.on("GET", "/v1/sys/internal/ui/mounts/kv/loop", 404, R"({"errors":[]})");
  http.on("GET", "/v1/kv/loop", 308, "", {{"location", "/v1/kv/loop"}});
  CHECK_THROWS_WITH(vault.read(parse_vault_read("kv/loop")),
                    "vault: GET http://vault:8200/v1/kv/loop: more than 3 redirects (last to GET "
                    "http://vault:8200/v1/kv/loop)");
  CHECK(http.calls_to("GET", "/v1/kv/loop").size() == 4);
  VaultSettings tls = settings();
  tls.address = "https://vault:8200";
  VaultClient secure(tls, http.pool(), clock);
  http.on("GET", "/v1/kv/x", 307, "", {{"location", "http://vault:8200/v1/active/kv/x"}});
  CHECK_THROWS_WITH(secure.read(parse_vault_read("kv/x")),
                    "vault: GET https://vault:8200/v1/kv/x: redirect would cause protocol "
                    "downgrade to GET http://vault:8200/v1/active/kv/x");
}

TEST_CASE("Vault 403 with a valid token is the policy: no login, one report per path", "[live]") {
  FakeHttp http;
  FakeClock clock;
  std::string dir = temp_dir();
  write_file(dir + "/role", "role-1\n");
  write_file(dir + "/secret", "sid-1\n");
  VaultSettings s = settings("");
  s.role_id_file = dir + "/role";
  s.secret_id_file = dir + "/secret";
  http.on(
      "POST", "/v1/auth/approle/login", 200,
      R"({"auth":{"client_token":"s.first","accessor":"acc1","lease_duration":3600,"renewable":true}})");
  http.on("GET", "/v1/sys/internal/ui/mounts/kv/x", 404, R"({"errors":[]})");
  http.on("GET", "/v1/kv/x", 403, R"({"errors":["1 error occurred:\n\t* permission denied\n\n"]})");
  http.on("GET", "/v1/auth/token/lookup-self", 200,
          R"({"data":{"accessor":"acc1","ttl":3500,"creation_ttl":3600}})");
  http.on("PUT", "/v1/sys/leases/revoke", 403, R"({"errors":["permission denied"]})");
  VaultClient vault(s, http.pool(), clock);
  for (int i = 0; i < 2; ++i) {
    try {
      vault.read(parse_vault_read("kv/x"));
      FAIL("no error");
    } catch (const VaultError& e) {
      CHECK(std::string(e.what()) ==
            "vault: GET http://vault:8200/v1/kv/x: status 403: permission denied (token ok)");
      CHECK(e.policy_denied);
    }
  }
  CHECK(http.calls_to("POST", "/v1/auth/approle/login").size() == 1);
  CHECK(http.calls_to("GET", "/v1/auth/token/lookup-self").size() == 2);
  CHECK(vault.known_identity().accessor == "acc1");
  // Revoke refused by the policy: off for the run, no second request, no login.
  CHECK_FALSE(vault.revoke_lease("db/creds/ro/1"));
  CHECK_FALSE(vault.revoke_lease("db/creds/ro/2"));
  CHECK(http.calls_to("PUT", "/v1/sys/leases/revoke").size() == 1);
  CHECK(http.calls_to("POST", "/v1/auth/approle/login").size() == 1);
}
