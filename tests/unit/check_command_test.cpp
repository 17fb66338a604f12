// `templet check`: the configured tokens are asked, before boot, whether they may read what the
// templates read; the one path a policy denies is named and fails the command (issue 20, item 5).
#include <catch2/catch.hpp>

#include "tests/unit/test_support.hpp"

using namespace templet;
using namespace templet::testing;

TEST_CASE("check: names the Vault path and the Consul key the tokens may not read", "[deps]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  call(s.vault, "POST", "/_emulator/seed",
       R"({"policies": {"app": {"database/creds/readonly": ["read"], "secret/data/app": ["read"],
                                "sys/internal/ui/mounts/*": ["read"]}},
           "tokens": [{"id": "app-token", "policies": ["app"], "ttl": 600}]})");
  call(s.consul, "POST", "/_emulator/seed",
       R"({"acl": {"enabled": true, "default_policy": "deny", "tokens": {"consul-tok": {
           "AccessorID": "11111111-2222-3333-4444-555555555555",
           "rules": {"key_prefix": {"app/": "read"}}}}}})");
  TempDir d;
  std::string cfg = (d.path / "t.yaml").string();
  spit(cfg,
       config_yaml(d.path, {{R"({{ with secret "database/creds/readonly" }}{{ .Data.username }})"
                             R"({{ end }}{{ with secret "secret/app" }}{{ end }})"
                             R"({{ with secret "database/creds/short" }}{{ end }})"
                             R"({{ key "app/n" }}{{ key "other/x" }})"
                             R"({{ range service "web" }}{{ end }})",
                             d.path / "out"}}));
  std::string env =
      "VAULT_ADDR=" + s.vault.url() +
      " VAULT_TOKEN=app-token CONSUL_HTTP_ADDR=127.0.0.1:" + std::to_string(s.consul.port) +
      " CONSUL_HTTP_TOKEN=consul-tok ";
  auto r = run_shell("env " + env + TEMPLET_BINARY + " check -c " + cfg);
  INFO(r.err);
  CHECK(r.status == 1);
  CHECK(r.out ==
        "ok      vault.read(database/creds/readonly)      database/creds/readonly (read)\n"
        "ok      vault.read(secret/app)                   secret/data/app (read)\n"
        "DENIED  vault.read(database/creds/short)         database/creds/short (deny)\n"
        "ok      kv.block(app/n)\n"
        "DENIED  kv.block(other/x)                        consul: GET http://127.0.0.1:" +
            std::to_string(s.consul.port) +
            "/v1/kv/other/x: status 403: Permission denied: token with AccessorID "
            "'11111111-2222-3333-4444-555555555555' lacks permission 'key:read' on \"other/x\"\n"
            "skip    health.service(web|passing)              not checked: Consul filters, never "
            "refuses\n");
  CHECK(s.creds_reads("readonly") == 0);  // asking mints no credentials
}
