// Configuration: parsing, merging, defaults, environment, and errors naming FILE:LINE.
#include <catch2/catch.hpp>

#include "app/config.hpp"

using namespace templet;
using namespace std::chrono_literals;

TEST_CASE("durations parse like Go's time.ParseDuration, bare numbers are seconds", "[config]") {
  struct Case {
    const char* text;
    Duration want;
  };
  for (auto c :
       {Case{"250ms", 250ms}, Case{"2s", 2000ms}, Case{"1m30s", 90000ms}, Case{"1h", 3600000ms},
        Case{"1.5s", 1500ms}, Case{"0", 0ms}, Case{"30", 30000ms}, Case{"2h45m", 9900000ms}}) {
    INFO(c.text);
    CHECK(parse_duration(c.text) == c.want);
  }
  CHECK_THROWS_WITH(parse_duration("5x"), "unknown unit \"x\" in duration \"5x\"");
  CHECK_THROWS_WITH(parse_duration("1.5"), "missing unit in duration \"1.5\"");
  CHECK_THROWS_WITH(parse_duration(""), "invalid duration \"\"");
}

TEST_CASE("durations format compactly", "[config]") {
  CHECK(format_duration(0ms) == "0s");
  CHECK(format_duration(250ms) == "250ms");
  CHECK(format_duration(90000ms) == "1m30s");
  CHECK(format_duration(3600000ms) == "1h0m0s");
  CHECK(format_duration(1500ms) == "1.5s");
}

TEST_CASE("a full config parses into typed fields", "[config]") {
  Config c = parse_config(R"(
vault:
  address: 127.0.0.1:8200
  namespace: ns1
  ssl: {ca_cert: /etc/ca.pem, verify: false}
  auth: {approle: {role_id_file: /r, secret_id_file: /s}}
  default_lease_duration: 10m
  lease_renewal_threshold: 0.8
  revoke_superseded: true
  timeout: 20s
consul: {address: "https://consul:8501", token_file: /t, timeout: 3s}
wait: {min: 2s, max: 10s}
retry: {attempts: 5, backoff: 100ms, max_backoff: 30s}
block_query_wait: 5m
state_dir: /tmp/state
templates:
  - source: /a.tmpl
    destination: /etc/a.yaml
    perms: "0600"
    command: systemctl reload x
    apply:
      redash: {url: "redash:5000", mode: api, prune: true, request_timeout: 10s}
  - contents: "{{ key \"x\" }}"
    destination: /etc/b
    command: [systemctl, reload, y]
    function_denylist: ["plugin", "sprig_*"]
)",
                          "t.yaml");
  std::map<std::string, std::string> env;
  finalize_config(c, &env);
  CHECK(*c.vault.address == "http://127.0.0.1:8200");
  CHECK(*c.vault.namespace_ == "ns1");
  CHECK(*c.vault.ssl.ca_cert == "/etc/ca.pem");
  CHECK(*c.vault.ssl.verify == false);
  CHECK(*c.vault.approle_role_id_file == "/r");
  CHECK(*c.vault.default_lease_duration == 600000ms);
  CHECK(*c.vault.lease_renewal_threshold == 0.8);
  CHECK(*c.vault.revoke_superseded);
  CHECK(*c.vault.timeout == 20000ms);
  CHECK(*c.consul.address == "https://consul:8501");
  CHECK(*c.consul.timeout == 3000ms);
  CHECK(*c.block_query_wait == 300000ms);
  CHECK(*c.wait.min == 2000ms);
  CHECK(*c.retry.attempts == 5);
  CHECK(*c.state_dir == "/tmp/state");
  REQUIRE(c.templates.size() == 2);
  const auto& a = c.templates[0];
  CHECK(a.origin == "t.yaml:17");
  CHECK(*a.perms == 0600);
  CHECK(a.command == std::vector<std::string>{"/bin/sh", "-c", "systemctl reload x"});
  REQUIRE(a.redash);
  CHECK(*a.redash->url == "http://redash:5000");
  CHECK(*a.redash->api_key_env == "REDASH_API_KEY");
  CHECK(*a.redash->list_key == "managed_datasources");
  CHECK(*a.redash->prune);
  CHECK(*a.redash->create_missing);
  CHECK(*a.redash->ready_timeout == 120000ms);
  CHECK(*a.redash->request_timeout == 10000ms);
  const auto& b = c.templates[1];
  CHECK(b.display_name() == "(dynamic)");
  CHECK(b.command == std::vector<std::string>{"systemctl", "reload", "y"});
  CHECK(b.function_denylist == std::vector<std::string>{"plugin", "sprig_*"});
  CHECK(*b.left_delimiter == "{{");
  CHECK(*b.command_timeout == 30000ms);
}

TEST_CASE("defaults follow consul-template, except retry never gives up", "[config]") {
  Config c = parse_config("templates: [{source: a, destination: b}]", "d.yaml");
  std::map<std::string, std::string> env;
  finalize_config(c, &env);
  CHECK(!c.vault.address);
  CHECK(*c.consul.address == "http://127.0.0.1:8500");
  CHECK(*c.vault.default_lease_duration == 300000ms);
  CHECK(*c.vault.lease_renewal_threshold == 0.9);
  CHECK(*c.retry.attempts == 0);
  CHECK(*c.retry.backoff == 250ms);
  CHECK(*c.retry.max_backoff == 60000ms);
  // Vault's Go client allows a request 60 s; Consul gets its blocking wait plus 10 s.
  CHECK(*c.vault.timeout == 60000ms);
  CHECK(*c.consul.timeout == 10000ms);
  CHECK(*c.block_query_wait == 60000ms);
  CHECK(*c.state_dir == "/var/lib/templet");
  CHECK(*c.wait.min == 0ms);
  CHECK(*c.templates[0].create_dest_dirs);
  CHECK_FALSE(*c.templates[0].allow_no_value);
}

TEST_CASE("templates inherit the global wait unless they set their own", "[config]") {
  Config c = parse_config(
      "wait: {min: 2s, max: 10s}\ntemplates:\n  - {source: a, destination: b}\n"
      "  - {source: c, destination: d, wait: {min: 1s}}\n",
      "w.yaml");
  std::map<std::string, std::string> env;
  finalize_config(c, &env);
  CHECK(*c.templates[0].wait.min == 2000ms);
  CHECK(*c.templates[0].wait.max == 10000ms);
  CHECK(*c.templates[1].wait.min == 1000ms);
  CHECK(*c.templates[1].wait.max == 4000ms);
}

TEST_CASE("the environment fills what the config leaves unset, and the config wins", "[config]") {
  std::map<std::string, std::string> env{{"VAULT_ADDR", "http://env-vault:8200"},
                                         {"VAULT_TOKEN", "env-token"},
                                         {"CONSUL_HTTP_ADDR", "env-consul:8500"}};
  Config c = parse_config("vault: {address: 'cfg-vault:8200'}", "e.yaml");
  finalize_config(c, &env);
  CHECK(*c.vault.address == "http://cfg-vault:8200");
  CHECK(*c.vault.token == "env-token");
  CHECK(*c.consul.address == "http://env-consul:8500");
}

TEST_CASE("later files win for settings and templates accumulate", "[config]") {
  Config a = parse_config(
      "log_level: debug\nwait: {min: 1s}\nconsul: {timeout: 2s}\nvault: {timeout: 4s}\n"
      "templates: [{source: a, destination: b}]",
      "a.yaml");
  Config b = parse_config(
      "wait: {min: 3s}\nvault: {timeout: 5s}\nblock_query_wait: 3s\n"
      "templates: [{source: c, destination: d}]",
      "b.yaml");
  merge_config(a, b);
  CHECK(*a.log_level == "debug");
  CHECK(*a.consul.timeout == 2000ms);
  CHECK(*a.vault.timeout == 5000ms);
  CHECK(*a.block_query_wait == 3000ms);
  CHECK(*a.wait.min == 3000ms);
  REQUIRE(a.templates.size() == 2);
  CHECK(*a.templates[1].source == "c");
}

TEST_CASE("config errors name the file and line", "[config]") {
  struct Case {
    const char* yaml;
    const char* error;
  };
  for (auto c : {
           Case{"vault:\n  adress: x\n",
                "bad.yaml:2: unknown key \"adress\" in config.vault (did you mean \"address\"?)"},
           Case{"templates:\n  - source: a\n    destination: b\n    perms: rw\n",
                "bad.yaml:4: template.perms must be an octal mode such as \"0600\", not \"rw\""},
           Case{"wait:\n  min: soon\n", "bad.yaml:2: config.wait.min: invalid duration \"soon\""},
           Case{"retry: {attempts: many}\n",
                "bad.yaml:1: config.retry.attempts must be an integer, not \"many\""},
           Case{"templates:\n  - source: a\n    backup: maybe\n    destination: b\n",
                "bad.yaml:3: template.backup must be true or false, not \"maybe\""},
           Case{"vault: [1, 2]\n", "bad.yaml:1: config.vault must be a mapping"},
           Case{"templates:\n  - {source: a, destination: b, apply: {redash: {mode: cli}}}\n",
                "bad.yaml:2: apply.redash.mode must be \"api\" or \"manage_py\""},
           Case{"vault: {timeout: 0s}\n", "bad.yaml:1: vault.timeout must be positive"},
           Case{"consul:\n  timeout: -1s\n", "bad.yaml:2: consul.timeout must be positive"},
           Case{"block_query_wait: 11m\n",
                "bad.yaml:1: block_query_wait must be between 1ms and 10m"},
           Case{"vault: {address: [}\n", "bad.yaml:1: unknown"},
       }) {
    INFO(c.yaml);
    try {
      parse_config(c.yaml, "bad.yaml");
      FAIL("no error");
    } catch (const ConfigError& e) {
      std::string what = e.what();
      if (std::string(c.error).ends_with(": unknown"))
        CHECK(what.rfind("bad.yaml:1:", 0) == 0);
      else
        CHECK(what == c.error);
    }
  }
}

TEST_CASE("finalize rejects incomplete templates and hooks", "[config]") {
  std::map<std::string, std::string> env;
  auto fails = [&](const char* yaml) {
    Config c = parse_config(yaml, "f.yaml");
    try {
      finalize_config(c, &env);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(fails("templates:\n  - source: a\n") == "f.yaml:2: template has no destination");
  CHECK(fails("templates:\n  - {source: a, contents: b, destination: c}\n") ==
        "f.yaml:2: template needs exactly one of source and contents");
  CHECK(fails("templates:\n  - {source: a, destination: c, apply: {influxdb: {url: x}}}\n") ==
        "f.yaml:2: apply.influxdb needs org or org_id (or INFLUXDB_ORG)");
  CHECK(fails("templates:\n  - {source: a, destination: c, apply: {redash: {}}}\n") ==
        "f.yaml:2: apply.redash needs a url (or REDASH_URL)");
}

TEST_CASE("fleet: defaults to single, and leader settings parse, merge and are checked",
          "[config]") {
  Config c = parse_config("templates: [{source: a, destination: b}]", "d.yaml");
  std::map<std::string, std::string> env;
  finalize_config(c, &env);
  CHECK(*c.fleet.mode == "single");
  CHECK(*c.fleet.lock_prefix == "templet/leader");
  CHECK(*c.fleet.session_ttl == 15000ms);
  CHECK(*c.fleet.lock_delay == 15000ms);
  CHECK(!c.fleet.node_name);
  CHECK(*c.reconcile_interval == 300000ms);

  Config l = parse_config(
      "fleet: {mode: leader, lock_prefix: ops/templet, session_ttl: 10s, lock_delay: 5s,\n"
      "        node_name: web-2}\nreconcile_interval: 0\n",
      "f.yaml");
  merge_config(c, l);
  CHECK(*c.fleet.mode == "leader");
  CHECK(*c.fleet.lock_prefix == "ops/templet");
  CHECK(*c.fleet.session_ttl == 10000ms);
  CHECK(*c.fleet.lock_delay == 5000ms);
  CHECK(*c.fleet.node_name == "web-2");
  CHECK(*c.reconcile_interval == 0ms);

  CHECK_THROWS_WITH(parse_config("fleet: {mode: dedup}", "f.yaml"),
                    "f.yaml:1: fleet.mode must be single or leader, not \"dedup\"");
  CHECK_THROWS_WITH(parse_config("fleet:\n  lock_delay: 90s\n", "f.yaml"),
                    "f.yaml:2: fleet.lock_delay must be between 0s and 60s");
  CHECK_THROWS_WITH(parse_config("fleet: {lock_prefix: /templet}", "f.yaml"),
                    "f.yaml:1: fleet.lock_prefix must be a Consul key without a leading /");
  CHECK_THROWS_WITH(
      parse_config("fleet: {session_tll: 10s}", "f.yaml"),
      "f.yaml:1: unknown key \"session_tll\" in config.fleet (did you mean \"session_ttl\"?)");
  CHECK_THROWS_WITH(parse_config("reconcile_interval: -1s", "f.yaml"),
                    "f.yaml:1: reconcile_interval must not be negative");
}
