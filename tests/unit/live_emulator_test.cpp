// The live clients against the Python emulators (tests/emulators) over real HTTP:
// KV v2 detection, dynamic credentials with renew, and a Consul blocking query that times out.
// Skipped when python3 or the emulators are absent.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "functions/live/consul_client.hpp"
#include "functions/live/vault_client.hpp"
#include "functions/live/watcher.hpp"
#include "tests/unit/emulator_process.hpp"

using namespace templet;
using namespace templet::live;
using namespace std::chrono_literals;

namespace {

using Emulator = templet::testing::EmulatorProcess;

std::shared_ptr<HttpPool> http_pool() {
  return std::make_shared<HttpPool>([] { return make_http_client(); });
}

}  // namespace

TEST_CASE("live clients against the Vault and Consul emulators", "[live][emulator]") {
  Emulator vault_emu("vault");
  Emulator consul_emu("consul");
  if (vault_emu.port == 0 || consul_emu.port == 0) {
    WARN("emulators not available; skipped");
    return;
  }
  VaultSettings vs;
  vs.address = vault_emu.url();
  vs.token = "root";
  VaultClient vault(vs, http_pool(), system_clock());

  // KV v2: write through the shim, read back.
  Response w = vault.write(parse_vault_write("secret/app/live", {"user=bob"}));
  CHECK(w.status == 200);
  Response r = vault.read(parse_vault_read("secret/app/live"));
  REQUIRE(r.status == 200);
  auto j = nlohmann::json::parse(r.body);
  CHECK(j["data"]["data"]["user"] == "bob");
  CHECK(vault.read(parse_vault_read("secret/app/nothing")).status == 404);

  // Dynamic credentials: a lease that renews.
  Response c = vault.read(parse_vault_read("database/creds/app"));
  REQUIRE(c.status == 200);
  auto cj = nlohmann::json::parse(c.body);
  std::string lease = cj["lease_id"];
  CHECK(lease.rfind("database/creds/app/", 0) == 0);
  RenewResult rr = vault.renew_lease(lease, 3600);
  CHECK(rr.lease_seconds == 3600);
  CHECK_FALSE(rr.capped);
  vault.revoke_lease(lease);
  CHECK_THROWS_AS(vault.renew_lease(lease, 3600), VaultError);

  // Consul: a missing key is an absent answer; a blocking query on it times out unchanged.
  ConsulSettings cs;
  cs.address = consul_emu.url();
  cs.wait = 1000ms;
  ConsulClient consul(cs, http_pool());
  ConsulAnswer a = consul.query(parse_kv_get("live/missing"), 0);
  CHECK(a.response.status == 404);
  CHECK(a.index >= 1);
  auto start = std::chrono::steady_clock::now();
  ConsulAnswer b = consul.query(parse_kv_get("live/missing"), a.index);
  CHECK(b.response.status == 404);
  CHECK(std::chrono::steady_clock::now() - start >= 900ms);
}
