// Configuration: parsing, merging, defaults, environment, and errors naming FILE:LINE.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "app/config.hpp"
#include "functions/live/auth/login_method.hpp"

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
  max_connections: 4
consul: {address: "https://consul:8501", token_file: /t, timeout: 3s, max_connections: 16}
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
  CHECK(*c.vault.max_connections == 4);
  CHECK(*c.consul.address == "https://consul:8501");
  CHECK(*c.consul.timeout == 3000ms);
  CHECK(*c.consul.max_connections == 16);
  CHECK(*c.block_query_wait == 300000ms);
  CHECK(*c.wait.min == 2000ms);
  CHECK(*c.retry.attempts == 5);
  CHECK(*c.state_dir == "/tmp/state");
  REQUIRE(c.templates.size() == 2);
  const auto& a = c.templates[0];
  CHECK(a.origin == "t.yaml:18");
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
  CHECK(*a.redash->test_after_apply);  // verify: test_on_change unless told otherwise
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
  CHECK(*c.vault.max_connections == 8);
  CHECK(*c.consul.max_connections == 8);
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
           Case{"vault: {max_connections: 0}\n",
                "bad.yaml:1: vault.max_connections must be at least 1"},
           Case{"consul:\n  max_connections: -2\n",
                "bad.yaml:2: consul.max_connections must be at least 1"},
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

TEST_CASE("apply.redash: manage_py container, forwarded_proto, url optional through manage.py",
          "[config][redash]") {
  std::map<std::string, std::string> env;
  Config c = parse_config(
      "templates:\n  - source: a\n    destination: b\n    apply:\n      redash:\n"
      "        manage_py: {container: redash-server}\n"
      "  - source: a\n    destination: c\n    apply:\n      redash:\n"
      "        url: http://127.0.0.1:5000\n        forwarded_proto: https\n",
      "f.yaml");
  finalize_config(c, &env);
  REQUIRE(c.templates[0].redash);
  CHECK(c.templates[0].redash->mode == "manage_py");
  CHECK(c.templates[0].redash->container == "redash-server");
  CHECK_FALSE(c.templates[0].redash->url);
  CHECK(c.templates[1].redash->forwarded_proto == "https");
  auto fails = [&](const char* yaml) {
    try {
      Config bad = parse_config(yaml, "f.yaml");
      finalize_config(bad, &env);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(
      fails("templates:\n  - {source: a, destination: c, apply: {redash: {mode: manage_py}}}\n") ==
      "f.yaml:2: apply.redash mode manage_py needs manage_py: {container: NAME} or a command");
  CHECK(fails("templates:\n  - {source: a, destination: c, apply: {redash: {url: x, "
              "forwarded_proto: ftp}}}\n")
            .find("apply.redash.forwarded_proto must be \"https\" or \"http\"") !=
        std::string::npos);
}

TEST_CASE("apply.redash.verify: test_on_change by default, off or test_after_apply: false",
          "[config][redash]") {
  std::map<std::string, std::string> env;
  auto verifies = [&](const std::string& extra) {
    Config c = parse_config(
        "templates:\n  - {source: a, destination: b, apply: {redash: {url: "
        "http://r" +
            extra + "}}}\n",
        "f.yaml");
    finalize_config(c, &env);
    return *c.templates[0].redash->test_after_apply;
  };
  CHECK(verifies(""));
  CHECK(verifies(", verify: test_on_change"));
  CHECK_FALSE(verifies(", verify: off"));
  CHECK_FALSE(verifies(", test_after_apply: false"));
  CHECK(verifies(", test_after_apply: true"));
}

TEST_CASE(
    "apply.influxdb: secrets, buckets and dbrp, with the top-level influxdb block as defaults",
    "[config][influxdb]") {
  std::map<std::string, std::string> env;
  Config c = parse_config(
      "influxdb: {url: 'influx:8086', org: ops, token_file: /run/influx.token, "
      "poll_interval: 30s}\n"
      "templates:\n"
      "  - source: a\n"
      "    destination: b\n"
      "    apply:\n"
      "      influxdb:\n"
      "        secrets: {SLACK_WEBHOOK: '{{ with secret \"kv/s\" }}{{ .Data.url }}{{ end }}'}\n"
      "        buckets: [{name: multiapp_, retention: 720h}, {name: forever}]\n"
      "        dbrp: {buckets: all}\n"
      "  - source: c\n"
      "    destination: d\n"
      "    apply:\n"
      "      influxdb: {org_id: 0123456789abcdef, token_env: OTHER, status: inactive,\n"
      "                 dbrp: {buckets: [a, b], default_rp: weekly}}\n",
      "f.yaml");
  finalize_config(c, &env);
  CHECK(*c.influxdb.poll_interval == std::chrono::seconds(30));
  const auto& a = *c.templates[0].influxdb;
  CHECK(*a.url == "http://influx:8086");
  CHECK(*a.org == "ops");
  CHECK_FALSE(a.org_id);
  CHECK(*a.token_file == "/run/influx.token");
  CHECK_FALSE(a.status);  // unset: existing tasks keep their status
  CHECK(*a.secrets == std::map<std::string, std::string>{
                          {"SLACK_WEBHOOK", "{{ with secret \"kv/s\" }}{{ .Data.url }}{{ end }}"}});
  REQUIRE(a.buckets->size() == 2);
  CHECK((*a.buckets)[0].name == "multiapp_");
  CHECK((*a.buckets)[0].retention == std::chrono::hours(720));
  CHECK((*a.buckets)[1].retention == Duration(0));
  CHECK(a.dbrp->all);
  CHECK(a.dbrp->default_rp == "autogen");
  const auto& b = *c.templates[1].influxdb;
  CHECK(*b.url == "http://influx:8086");
  CHECK_FALSE(b.org);  // org and org_id go as a pair: the target's org_id alone
  CHECK(*b.org_id == "0123456789abcdef");
  CHECK(*b.token_env == "OTHER");
  CHECK_FALSE(b.token_file);
  CHECK(*b.status == "inactive");
  CHECK(b.dbrp->names == std::vector<std::string>{"a", "b"});
  CHECK(b.dbrp->default_rp == "weekly");

  Config dflt = parse_config("templates: []\n", "f.yaml");
  finalize_config(dflt, &env);
  CHECK(*dflt.influxdb.poll_interval == std::chrono::minutes(1));
  CHECK(*dflt.influxdb.token_env == "INFLUXDB_TOKEN");

  struct Case {
    const char* yaml;
    const char* error;
  };
  const std::string pre =
      "templates:\n  - source: a\n    destination: b\n    apply:\n"
      "      influxdb:\n";
  for (auto cs : {
           Case{"        buckets: [{name: _x}]\n",
                "bad.yaml:6: bucket name _x starts with \"_\" (reserved for system buckets)"},
           Case{"        buckets: [{retention: 1h}]\n",
                "bad.yaml:6: apply.influxdb.buckets[] needs a name"},
           Case{"        buckets: [{name: x, retention: 1500ms}]\n",
                "bad.yaml:6: apply.influxdb.buckets[].retention must be whole seconds"},
           Case{"        dbrp: {buckets: some}\n",
                "bad.yaml:6: apply.influxdb.dbrp.buckets must be \"all\" or a list of names"},
           Case{"        secrets: [a]\n",
                "bad.yaml:6: apply.influxdb.secrets must be a mapping of key to template text"},
           Case{"        secrets: {K: [1]}\n",
                "bad.yaml:6: apply.influxdb.secrets.K must be a string"},
       }) {
    INFO(cs.yaml);
    try {
      parse_config(pre + cs.yaml, "bad.yaml");
      FAIL("no error");
    } catch (const ConfigError& e) {
      CHECK(std::string(e.what()) == cs.error);
    }
  }
  try {
    parse_config("influxdb: {poll_interval: 0s}\n", "bad.yaml");
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()) == "bad.yaml:1: influxdb.poll_interval must be positive");
  }
}

TEST_CASE("vault.auth: the method, its mount and role, and per-method settings", "[config]") {
  Config c = parse_config(R"(
vault:
  auth:
    method: aws
    role: redash
    aws: {type: iam, region: eu-west-1, header_value: vault.example.com,
          metadata_endpoint: "http://127.0.0.1:1338"}
    sink: {token_file: /run/templet/token}
)",
                          "t.yaml");
  Config later = parse_config("vault: {auth: {mount: aws-prod}}\n", "u.yaml");
  merge_config(c, later);
  const VaultAuthConfig& a = c.vault.auth;
  CHECK(*a.method == "aws");
  CHECK(*a.mount == "aws-prod");  // the later file wins, the rest stays
  CHECK(*a.role == "redash");
  CHECK(*a.aws.region == "eu-west-1");
  CHECK(*a.aws.header_value == "vault.example.com");
  CHECK(*a.aws.metadata_endpoint == "http://127.0.0.1:1338");
  CHECK(*a.sink_file == "/run/templet/token");

  auto settings = [](const std::string& yaml, std::map<std::string, std::string> env = {}) {
    Config k = parse_config(yaml, "k.yaml");
    return live::auth::AuthSettings::from(k.vault, [env](const char* n) -> const char* {
      auto it = env.find(n);
      return it == env.end() ? nullptr : it->second.c_str();
    });
  };
  auto k8s = settings("vault: {auth: {method: kubernetes, role: r}}\n");
  CHECK(k8s.mount == "kubernetes");  // the method's name by default
  CHECK(k8s.jwt_path == "/var/run/secrets/kubernetes.io/serviceaccount/token");
  auto aws = settings("vault: {auth: {method: aws}}\n",
                      {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9/"}});
  CHECK(aws.aws_imds_endpoint == "http://127.0.0.1:9");
  CHECK(aws.aws_region == "us-east-1");
  CHECK(settings("vault: {auth: {method: gcp}}\n", {{"GCE_METADATA_HOST", "127.0.0.1:8"}})
            .gcp_metadata_endpoint == "http://127.0.0.1:8");
  // The older form still means AppRole.
  auto old = settings("vault: {auth: {approle: {role_id_file: /r, secret_id_file: /s}}}\n");
  CHECK(old.method == "approle");
  CHECK(old.mount == "approle");
  CHECK(old.role_id_file == "/r");
}

TEST_CASE("vault.auth errors name the file and line", "[config]") {
  struct Case {
    const char* yaml;
    const char* error;
  };
  for (auto c : {
           Case{"vault:\n  auth:\n    method: aws\n    aws: {regoin: x}\n",
                "bad.yaml:4: unknown key \"regoin\" in config.vault.auth.aws (did you mean "
                "\"region\"?)"},
           Case{"vault:\n  auth:\n    method: ldap\n",
                "bad.yaml:3: vault.auth.method must be one of token, approle, aws, gcp, azure, "
                "kubernetes, jwt, cert, not \"ldap\""},
           Case{"vault:\n  auth: {aws: {type: ec2}}\n",
                "bad.yaml:2: vault.auth.aws.type must be \"iam\" (ec2 is not supported)"},
           Case{"vault:\n  auth:\n    rol: x\n",
                "bad.yaml:3: unknown key \"rol\" in config.vault.auth (did you mean \"role\"?)"},
       }) {
    INFO(c.yaml);
    try {
      parse_config(c.yaml, "bad.yaml");
      FAIL("no error");
    } catch (const ConfigError& e) {
      CHECK(std::string(e.what()) == c.error);
    }
  }
}

TEST_CASE("the shipped machine-login examples parse", "[config]") {
  for (const char* name : {"ec2-aws-iam.yaml", "gce.yaml"}) {
    INFO(name);
    std::ifstream in(std::string(TEMPLET_SOURCE_DIR) + "/examples/" + name);
    std::stringstream ss;
    ss << in.rdbuf();
    Config c = parse_config(ss.str(), name);
    CHECK(*c.vault.auth.role == "redash");
    CHECK(*c.vault.address == "https://vault.example.com:8200");
  }
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
