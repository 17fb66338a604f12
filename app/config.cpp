#include "app/config.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

extern char** environ;

namespace templet {

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// Reads one YAML mapping, checking every key against the known ones.
class Block {
 public:
  Block(const YAML::Node& node, std::string file, std::string where)
      : node_(node), file_(std::move(file)), where_(std::move(where)) {
    if (!node_.IsMap()) fail(node_, where_ + " must be a mapping");
  }

  [[noreturn]] void fail(const YAML::Node& at, const std::string& msg) const {
    throw ConfigError(file_ + ":" + std::to_string(at.Mark().line + 1) + ": " + msg);
  }

  // Declares the keys this block knows; errors on others, suggesting the closest.
  void check_keys(std::initializer_list<const char*> known) const {
    for (const auto& kv : node_) {
      std::string key = kv.first.Scalar();
      bool found = false;
      std::string best;
      size_t best_d = 3;
      for (const char* k : known) {
        if (key == k) found = true;
        size_t d = edit_distance(key, k);
        if (d < best_d) {
          best_d = d;
          best = k;
        }
      }
      if (!found) {
        std::string msg = "unknown key \"" + key + "\" in " + where_;
        if (!best.empty()) msg += " (did you mean \"" + best + "\"?)";
        fail(kv.first, msg);
      }
    }
  }

  YAML::Node get(const char* key) const { return node_[key]; }

  void str(const char* key, std::optional<std::string>& out) const {
    if (auto n = node_[key]) {
      if (n.IsNull()) return;
      if (!n.IsScalar()) fail(n, where_ + "." + key + " must be a string");
      out = n.Scalar();
    }
  }
  void boolean(const char* key, std::optional<bool>& out) const {
    if (auto n = node_[key]) {
      if (n.IsNull()) return;
      const std::string& s = n.IsScalar() ? n.Scalar() : "";
      if (s == "true" || s == "True" || s == "yes")
        out = true;
      else if (s == "false" || s == "False" || s == "no")
        out = false;
      else
        fail(n, where_ + "." + key + " must be true or false, not \"" + s + "\"");
    }
  }
  void integer(const char* key, std::optional<int>& out) const {
    if (auto n = node_[key]) {
      if (n.IsNull()) return;
      int v = 0;
      const std::string& s = n.Scalar();
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (!n.IsScalar() || r.ec != std::errc() || r.ptr != s.data() + s.size())
        fail(n, where_ + "." + key + " must be an integer, not \"" + s + "\"");
      out = v;
    }
  }
  void number(const char* key, std::optional<double>& out) const {
    if (auto n = node_[key]) {
      if (n.IsNull()) return;
      double v = 0;
      const std::string& s = n.Scalar();
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (!n.IsScalar() || r.ec != std::errc() || r.ptr != s.data() + s.size())
        fail(n, where_ + "." + key + " must be a number, not \"" + s + "\"");
      out = v;
    }
  }
  void duration(const char* key, std::optional<Duration>& out) const {
    if (auto n = node_[key]) {
      if (n.IsNull()) return;
      if (!n.IsScalar()) fail(n, where_ + "." + key + " must be a duration");
      try {
        out = parse_duration(n.Scalar());
      } catch (const DurationError& e) {
        fail(n, where_ + "." + key + ": " + e.what());
      }
    }
  }
  void perms(const char* key, std::optional<mode_t>& out) const {
    if (auto n = node_[key]) {
      if (n.IsNull()) return;
      const std::string& s = n.Scalar();
      unsigned v = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), v, 8);
      if (!n.IsScalar() || s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() ||
          v > 07777)
        fail(n, where_ + "." + key + " must be an octal mode such as \"0600\", not \"" + s + "\"");
      out = static_cast<mode_t>(v);
    }
  }
  void strings(const char* key, std::vector<std::string>& out) const {
    if (auto n = node_[key]) {
      if (n.IsNull()) return;
      if (!n.IsSequence()) fail(n, where_ + "." + key + " must be a list of strings");
      out.clear();
      for (const auto& x : n) {
        if (!x.IsScalar()) fail(x, where_ + "." + key + " must be a list of strings");
        out.push_back(x.Scalar());
      }
    }
  }
  // A command: an argv list, or a string run through /bin/sh -c.
  void command(const char* key, std::vector<std::string>& out) const {
    if (auto n = node_[key]) {
      if (n.IsNull()) return;
      if (n.IsScalar()) {
        out = {"/bin/sh", "-c", n.Scalar()};
        return;
      }
      strings(key, out);
    }
  }
  Block sub(const char* key) const { return Block(node_[key], file_, where_ + "." + key); }
  const std::string& file() const { return file_; }
  bool has(const char* key) const { return node_[key] && !node_[key].IsNull(); }

 private:
  YAML::Node node_;
  std::string file_;
  std::string where_;
};

void parse_ssl(const Block& b, SslConfig& ssl) {
  b.check_keys({"ca_cert", "verify"});
  b.str("ca_cert", ssl.ca_cert);
  b.boolean("verify", ssl.verify);
}

// vault.auth (issue #16): one block for how templet logs in; see VaultAuthConfig.
void parse_vault_auth(const Block& auth, VaultConfig& v) {
  VaultAuthConfig& a = v.auth;
  auth.check_keys({"method", "mount", "role", "approle", "aws", "gcp", "azure", "kubernetes", "jwt",
                   "cert", "sink"});
  auth.str("method", a.method);
  static const std::set<std::string> methods = {"token", "approle",    "aws", "gcp",
                                                "azure", "kubernetes", "jwt", "cert"};
  if (a.method && !methods.count(*a.method))
    auth.fail(auth.get("method"),
              "vault.auth.method must be one of token, approle, aws, gcp, azure, kubernetes, jwt, "
              "cert, not \"" +
                  *a.method + "\"");
  auth.str("mount", a.mount);
  auth.str("role", a.role);
  if (auth.has("approle")) {
    Block ar = auth.sub("approle");
    ar.check_keys({"role_id_file", "secret_id_file"});
    ar.str("role_id_file", v.approle_role_id_file);
    ar.str("secret_id_file", v.approle_secret_id_file);
  }
  if (auth.has("aws")) {
    Block b = auth.sub("aws");
    b.check_keys({"type", "region", "header_value", "sts_endpoint", "metadata_endpoint"});
    b.str("type", a.aws.type);
    if (a.aws.type && *a.aws.type != "iam")
      b.fail(b.get("type"), "vault.auth.aws.type must be \"iam\" (ec2 is not supported)");
    b.str("region", a.aws.region);
    b.str("header_value", a.aws.header_value);
    b.str("sts_endpoint", a.aws.sts_endpoint);
    b.str("metadata_endpoint", a.aws.metadata_endpoint);
  }
  if (auth.has("gcp")) {
    Block b = auth.sub("gcp");
    b.check_keys({"type", "service_account", "metadata_endpoint"});
    b.str("type", a.gcp.type);
    if (a.gcp.type && *a.gcp.type != "gce")
      b.fail(b.get("type"), "vault.auth.gcp.type must be \"gce\"");
    b.str("service_account", a.gcp.service_account);
    b.str("metadata_endpoint", a.gcp.metadata_endpoint);
  }
  if (auth.has("azure")) {
    Block b = auth.sub("azure");
    b.check_keys({"resource", "client_id", "metadata_endpoint"});
    b.str("resource", a.azure.resource);
    b.str("client_id", a.azure.client_id);
    b.str("metadata_endpoint", a.azure.metadata_endpoint);
  }
  if (auth.has("kubernetes")) {
    Block b = auth.sub("kubernetes");
    b.check_keys({"token_path"});
    b.str("token_path", a.jwt_path);
  }
  if (auth.has("jwt")) {
    Block b = auth.sub("jwt");
    b.check_keys({"path"});
    b.str("path", a.jwt_path);
  }
  if (auth.has("cert")) {
    Block b = auth.sub("cert");
    b.check_keys({"client_cert", "client_key"});
    b.str("client_cert", a.cert.client_cert);
    b.str("client_key", a.cert.client_key);
  }
  if (auth.has("sink")) {
    Block b = auth.sub("sink");
    b.check_keys({"token_file"});
    b.str("token_file", a.sink_file);
  }
}

void parse_wait(const Block& b, WaitConfig& w) {
  b.check_keys({"min", "max"});
  b.duration("min", w.min);
  b.duration("max", w.max);
}

// `apply.influxdb.secrets`: key -> template text.
void parse_influx_secrets(const Block& i, InfluxApplyConfig& ic) {
  YAML::Node n = i.get("secrets");
  if (!n || n.IsNull()) return;
  if (!n.IsMap()) i.fail(n, "apply.influxdb.secrets must be a mapping of key to template text");
  std::map<std::string, std::string> out;
  for (const auto& kv : n) {
    if (!kv.second.IsScalar())
      i.fail(kv.second, "apply.influxdb.secrets." + kv.first.Scalar() + " must be a string");
    if (kv.first.Scalar().empty()) i.fail(kv.first, "apply.influxdb.secrets: empty key");
    out[kv.first.Scalar()] = kv.second.Scalar();
  }
  ic.secrets = out;
}

// `apply.influxdb.buckets`: [{name, retention}], names as the server would take them.
void parse_influx_buckets(const Block& i, InfluxApplyConfig& ic) {
  YAML::Node n = i.get("buckets");
  if (!n || n.IsNull()) return;
  if (!n.IsSequence()) i.fail(n, "apply.influxdb.buckets must be a list of {name, retention}");
  std::vector<InfluxBucketSpec> out;
  for (const auto& x : n) {
    Block b(x, i.file(), "apply.influxdb.buckets[]");
    b.check_keys({"name", "retention"});
    std::optional<std::string> name;
    std::optional<Duration> retention;
    b.str("name", name);
    b.duration("retention", retention);
    if (!name || name->empty()) b.fail(x, "apply.influxdb.buckets[] needs a name");
    // tenant/service_bucket.go validBucketName: refused here rather than by the server.
    if ((*name)[0] == '_')
      b.fail(b.get("name"),
             "bucket name " + *name + " starts with \"_\" (reserved for system buckets)");
    if (name->find('"') != std::string::npos)
      b.fail(b.get("name"), "bucket name " + *name + " holds a quotation mark");
    if (retention && (retention->count() < 0 || retention->count() % 1000 != 0))
      b.fail(b.get("retention"), "apply.influxdb.buckets[].retention must be whole seconds");
    out.push_back({*name, retention.value_or(Duration(0))});
  }
  ic.buckets = out;
}

// `apply.influxdb.dbrp`: {buckets: all | [names], default_rp: autogen}.
void parse_influx_dbrp(const Block& i, InfluxApplyConfig& ic) {
  if (!i.has("dbrp")) return;
  Block d = i.sub("dbrp");
  d.check_keys({"buckets", "default_rp"});
  InfluxDbrpSpec spec;
  YAML::Node b = d.get("buckets");
  if (b && b.IsScalar() && b.Scalar() == "all")
    spec.all = true;
  else if (b && b.IsSequence())
    d.strings("buckets", spec.names);
  else
    d.fail(b ? b : i.get("dbrp"), "apply.influxdb.dbrp.buckets must be \"all\" or a list of names");
  std::optional<std::string> rp;
  d.str("default_rp", rp);
  if (rp) spec.default_rp = *rp;
  ic.dbrp = spec;
}

void parse_fleet(const Block& b, FleetConfig& f) {
  b.check_keys({"mode", "lock_prefix", "session_ttl", "lock_delay", "node_name"});
  b.str("mode", f.mode);
  if (f.mode && *f.mode != "single" && *f.mode != "leader")
    b.fail(b.get("mode"), "fleet.mode must be single or leader, not \"" + *f.mode + "\"");
  b.str("lock_prefix", f.lock_prefix);
  if (f.lock_prefix && (f.lock_prefix->empty() || f.lock_prefix->front() == '/'))
    b.fail(b.get("lock_prefix"), "fleet.lock_prefix must be a Consul key without a leading /");
  b.duration("session_ttl", f.session_ttl);
  if (f.session_ttl && (f.session_ttl->count() <= 0 || *f.session_ttl > std::chrono::hours(24)))
    b.fail(b.get("session_ttl"), "fleet.session_ttl must be between 1ms and 24h");
  b.duration("lock_delay", f.lock_delay);
  // Consul caps a lock-delay at 60s; a longer one would only hide the cap.
  if (f.lock_delay && (f.lock_delay->count() < 0 || *f.lock_delay > std::chrono::seconds(60)))
    b.fail(b.get("lock_delay"), "fleet.lock_delay must be between 0s and 60s");
  b.str("node_name", f.node_name);
}

TemplateConfig parse_template(const Block& b, const std::string& origin) {
  TemplateConfig t;
  t.origin = origin;
  b.check_keys({"source", "contents", "destination", "perms", "backup", "create_dest_dirs",
                "error_on_missing_key", "allow_no_value", "left_delimiter", "right_delimiter",
                "function_denylist", "function_blacklist", "sandbox_path", "wait", "command",
                "command_timeout", "check", "run_on_start", "apply"});
  b.str("source", t.source);
  b.str("contents", t.contents);
  b.str("destination", t.destination);
  b.perms("perms", t.perms);
  b.boolean("backup", t.backup);
  b.boolean("create_dest_dirs", t.create_dest_dirs);
  b.boolean("error_on_missing_key", t.error_on_missing_key);
  b.boolean("allow_no_value", t.allow_no_value);
  b.str("left_delimiter", t.left_delimiter);
  b.str("right_delimiter", t.right_delimiter);
  b.strings("function_denylist", t.function_denylist);
  std::vector<std::string> legacy;
  b.strings("function_blacklist", legacy);  // consul-template's deprecated name, merged in
  t.function_denylist.insert(t.function_denylist.end(), legacy.begin(), legacy.end());
  b.str("sandbox_path", t.sandbox_path);
  if (b.has("wait")) parse_wait(b.sub("wait"), t.wait);
  b.command("command", t.command);
  b.duration("command_timeout", t.command_timeout);
  b.command("check", t.check);
  b.boolean("run_on_start", t.run_on_start);
  if (b.has("apply")) {
    Block apply = b.sub("apply");
    apply.check_keys({"redash", "influxdb"});
    if (apply.has("redash")) {
      Block r = apply.sub("redash");
      r.check_keys({"url", "api_key_env", "api_key_file", "list_key", "mode", "command",
                    "create_missing", "prune", "test_after_apply", "verify", "ready_timeout",
                    "request_timeout", "manage_py", "forwarded_proto"});
      RedashApplyConfig rc;
      r.str("url", rc.url);
      r.str("api_key_env", rc.api_key_env);
      r.str("api_key_file", rc.api_key_file);
      r.str("list_key", rc.list_key);
      r.str("mode", rc.mode);
      if (rc.mode && *rc.mode != "api" && *rc.mode != "manage_py")
        r.fail(r.get("mode"), "apply.redash.mode must be \"api\" or \"manage_py\"");
      r.strings("command", rc.command);
      if (r.has("manage_py")) {
        Block m = r.sub("manage_py");
        m.check_keys({"container", "command"});
        m.str("container", rc.container);
        m.strings("command", rc.command);
        if (rc.container && !rc.command.empty())
          m.fail(m.get("container"), "apply.redash.manage_py takes container or command, not both");
        if (!rc.mode) rc.mode = "manage_py";
      }
      r.str("forwarded_proto", rc.forwarded_proto);
      if (rc.forwarded_proto && *rc.forwarded_proto != "https" && *rc.forwarded_proto != "http")
        r.fail(r.get("forwarded_proto"),
               "apply.redash.forwarded_proto must be \"https\" or \"http\"");
      r.boolean("create_missing", rc.create_missing);
      r.boolean("prune", rc.prune);
      r.boolean("test_after_apply", rc.test_after_apply);
      // Issue 20's name for it: what verifies a changed datasource.
      std::optional<std::string> verify;
      r.str("verify", verify);
      if (verify && *verify != "test_on_change" && *verify != "off")
        r.fail(r.get("verify"), "apply.redash.verify must be \"test_on_change\" or \"off\"");
      if (verify) rc.test_after_apply = *verify == "test_on_change";
      r.duration("ready_timeout", rc.ready_timeout);
      r.duration("request_timeout", rc.request_timeout);
      t.redash = rc;
    }
    if (apply.has("influxdb")) {
      Block i = apply.sub("influxdb");
      i.check_keys({"url", "org", "org_id", "token_env", "token_file", "status", "prune",
                    "ready_timeout", "secrets", "buckets", "dbrp", "verify"});
      InfluxApplyConfig ic;
      i.str("url", ic.url);
      i.str("org", ic.org);
      i.str("org_id", ic.org_id);
      i.str("token_env", ic.token_env);
      i.str("token_file", ic.token_file);
      i.str("status", ic.status);
      if (ic.status && *ic.status != "active" && *ic.status != "inactive")
        i.fail(i.get("status"), "apply.influxdb.status must be \"active\" or \"inactive\"");
      i.boolean("prune", ic.prune);
      i.duration("ready_timeout", ic.ready_timeout);
      parse_influx_secrets(i, ic);
      parse_influx_buckets(i, ic);
      parse_influx_dbrp(i, ic);
      i.str("verify", ic.verify);
      if (ic.verify && *ic.verify != "run_on_change" && *ic.verify != "off")
        i.fail(i.get("verify"), "apply.influxdb.verify must be \"run_on_change\" or \"off\"");
      t.influxdb = ic;
    }
  }
  return t;
}

template <typename T>
void over(std::optional<T>& base, const std::optional<T>& v) {
  if (v) base = v;
}

void merge_ssl(SslConfig& a, const SslConfig& b) {
  over(a.ca_cert, b.ca_cert);
  over(a.verify, b.verify);
}

void merge_vault_auth(VaultAuthConfig& a, const VaultAuthConfig& b) {
  over(a.method, b.method);
  over(a.mount, b.mount);
  over(a.role, b.role);
  over(a.aws.type, b.aws.type);
  over(a.aws.region, b.aws.region);
  over(a.aws.header_value, b.aws.header_value);
  over(a.aws.sts_endpoint, b.aws.sts_endpoint);
  over(a.aws.metadata_endpoint, b.aws.metadata_endpoint);
  over(a.gcp.type, b.gcp.type);
  over(a.gcp.service_account, b.gcp.service_account);
  over(a.gcp.metadata_endpoint, b.gcp.metadata_endpoint);
  over(a.azure.resource, b.azure.resource);
  over(a.azure.client_id, b.azure.client_id);
  over(a.azure.metadata_endpoint, b.azure.metadata_endpoint);
  over(a.jwt_path, b.jwt_path);
  over(a.cert.client_cert, b.cert.client_cert);
  over(a.cert.client_key, b.cert.client_key);
  over(a.sink_file, b.sink_file);
}

std::map<std::string, std::string> process_env() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

}  // namespace

Config parse_config(const std::string& yaml, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw ConfigError(file + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  Config c;
  if (root.IsNull()) return c;
  Block top(root, file, "config");
  top.check_keys({"vault", "consul", "influxdb", "wait", "retry", "block_query_wait", "state_dir",
                  "log_level", "metrics", "fleet", "reconcile_interval", "templates", "template"});
  if (top.has("influxdb")) {
    Block i = top.sub("influxdb");
    i.check_keys({"url", "org", "org_id", "token_env", "token_file", "poll_interval"});
    i.str("url", c.influxdb.url);
    i.str("org", c.influxdb.org);
    i.str("org_id", c.influxdb.org_id);
    i.str("token_env", c.influxdb.token_env);
    i.str("token_file", c.influxdb.token_file);
    i.duration("poll_interval", c.influxdb.poll_interval);
    if (c.influxdb.poll_interval && c.influxdb.poll_interval->count() <= 0)
      i.fail(i.get("poll_interval"), "influxdb.poll_interval must be positive");
  }
  if (top.has("vault")) {
    Block v = top.sub("vault");
    v.check_keys({"address", "token", "token_file", "namespace", "renew_token", "ssl", "auth",
                  "default_lease_duration", "lease_renewal_threshold", "revoke_superseded",
                  "timeout", "max_connections"});
    v.str("address", c.vault.address);
    v.str("token", c.vault.token);
    v.str("token_file", c.vault.token_file);
    v.str("namespace", c.vault.namespace_);
    v.boolean("renew_token", c.vault.renew_token);
    if (v.has("ssl")) parse_ssl(v.sub("ssl"), c.vault.ssl);
    if (v.has("auth")) parse_vault_auth(v.sub("auth"), c.vault);
    v.duration("default_lease_duration", c.vault.default_lease_duration);
    v.number("lease_renewal_threshold", c.vault.lease_renewal_threshold);
    if (c.vault.lease_renewal_threshold &&
        (*c.vault.lease_renewal_threshold <= 0 || *c.vault.lease_renewal_threshold >= 1))
      v.fail(v.get("lease_renewal_threshold"),
             "vault.lease_renewal_threshold must be between 0 and 1");
    v.boolean("revoke_superseded", c.vault.revoke_superseded);
    v.duration("timeout", c.vault.timeout);
    if (c.vault.timeout && c.vault.timeout->count() <= 0)
      v.fail(v.get("timeout"), "vault.timeout must be positive");
    v.integer("max_connections", c.vault.max_connections);
    if (c.vault.max_connections && *c.vault.max_connections < 1)
      v.fail(v.get("max_connections"), "vault.max_connections must be at least 1");
  }
  if (top.has("consul")) {
    Block k = top.sub("consul");
    k.check_keys({"address", "token", "token_file", "ssl", "timeout", "max_connections"});
    k.str("address", c.consul.address);
    k.str("token", c.consul.token);
    k.str("token_file", c.consul.token_file);
    if (k.has("ssl")) parse_ssl(k.sub("ssl"), c.consul.ssl);
    k.duration("timeout", c.consul.timeout);
    if (c.consul.timeout && c.consul.timeout->count() <= 0)
      k.fail(k.get("timeout"), "consul.timeout must be positive");
    k.integer("max_connections", c.consul.max_connections);
    if (c.consul.max_connections && *c.consul.max_connections < 1)
      k.fail(k.get("max_connections"), "consul.max_connections must be at least 1");
  }
  if (top.has("wait")) parse_wait(top.sub("wait"), c.wait);
  if (top.has("retry")) {
    Block r = top.sub("retry");
    r.check_keys({"attempts", "backoff", "max_backoff"});
    r.integer("attempts", c.retry.attempts);
    r.duration("backoff", c.retry.backoff);
    r.duration("max_backoff", c.retry.max_backoff);
  }
  top.duration("block_query_wait", c.block_query_wait);
  // Consul caps a blocking wait at 10m; a longer one would only hide the cap.
  if (c.block_query_wait &&
      (c.block_query_wait->count() <= 0 || *c.block_query_wait > std::chrono::minutes(10)))
    top.fail(top.get("block_query_wait"), "block_query_wait must be between 1ms and 10m");
  top.str("state_dir", c.state_dir);
  top.str("log_level", c.log_level);
  if (top.has("metrics")) {
    Block m = top.sub("metrics");
    m.check_keys({"textfile", "listen"});
    m.str("textfile", c.metrics.textfile);
    m.str("listen", c.metrics.listen);
    if (c.metrics.listen && c.metrics.listen->find(':') == std::string::npos)
      m.fail(m.get("listen"), "metrics.listen must be HOST:PORT, such as 127.0.0.1:9410");
  }
  if (top.has("fleet")) parse_fleet(top.sub("fleet"), c.fleet);
  top.duration("reconcile_interval", c.reconcile_interval);
  if (c.reconcile_interval && c.reconcile_interval->count() < 0)
    top.fail(top.get("reconcile_interval"), "reconcile_interval must not be negative");
  for (const char* key : {"templates", "template"}) {
    YAML::Node list = root[key];
    if (!list || list.IsNull()) continue;
    if (!list.IsSequence()) top.fail(list, std::string(key) + " must be a list");
    for (const auto& entry : list) {
      std::string origin = file + ":" + std::to_string(entry.Mark().line + 1);
      c.templates.push_back(parse_template(Block(entry, file, "template"), origin));
    }
  }
  return c;
}

void merge_config(Config& a, const Config& b) {
  over(a.vault.address, b.vault.address);
  over(a.vault.token, b.vault.token);
  over(a.vault.token_file, b.vault.token_file);
  over(a.vault.namespace_, b.vault.namespace_);
  over(a.vault.renew_token, b.vault.renew_token);
  merge_ssl(a.vault.ssl, b.vault.ssl);
  over(a.vault.approle_role_id_file, b.vault.approle_role_id_file);
  over(a.vault.approle_secret_id_file, b.vault.approle_secret_id_file);
  merge_vault_auth(a.vault.auth, b.vault.auth);
  over(a.vault.default_lease_duration, b.vault.default_lease_duration);
  over(a.vault.lease_renewal_threshold, b.vault.lease_renewal_threshold);
  over(a.vault.revoke_superseded, b.vault.revoke_superseded);
  over(a.vault.timeout, b.vault.timeout);
  over(a.vault.max_connections, b.vault.max_connections);
  over(a.consul.address, b.consul.address);
  over(a.consul.token, b.consul.token);
  over(a.consul.token_file, b.consul.token_file);
  merge_ssl(a.consul.ssl, b.consul.ssl);
  over(a.consul.timeout, b.consul.timeout);
  over(a.consul.max_connections, b.consul.max_connections);
  over(a.influxdb.url, b.influxdb.url);
  over(a.influxdb.org, b.influxdb.org);
  over(a.influxdb.org_id, b.influxdb.org_id);
  over(a.influxdb.token_env, b.influxdb.token_env);
  over(a.influxdb.token_file, b.influxdb.token_file);
  over(a.influxdb.poll_interval, b.influxdb.poll_interval);
  over(a.wait.min, b.wait.min);
  over(a.wait.max, b.wait.max);
  over(a.retry.attempts, b.retry.attempts);
  over(a.retry.backoff, b.retry.backoff);
  over(a.retry.max_backoff, b.retry.max_backoff);
  over(a.block_query_wait, b.block_query_wait);
  over(a.state_dir, b.state_dir);
  over(a.log_level, b.log_level);
  over(a.metrics.textfile, b.metrics.textfile);
  over(a.metrics.listen, b.metrics.listen);
  over(a.fleet.mode, b.fleet.mode);
  over(a.fleet.lock_prefix, b.fleet.lock_prefix);
  over(a.fleet.session_ttl, b.fleet.session_ttl);
  over(a.fleet.lock_delay, b.fleet.lock_delay);
  over(a.fleet.node_name, b.fleet.node_name);
  over(a.reconcile_interval, b.reconcile_interval);
  a.templates.insert(a.templates.end(), b.templates.begin(), b.templates.end());
}

Config load_config(const std::vector<std::string>& paths) {
  Config result;
  std::function<void(const std::string&)> load_one = [&](const std::string& path) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) throw ConfigError(path + ": " + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) {
      std::vector<std::string> names;
      if (DIR* d = opendir(path.c_str())) {
        while (auto* e = readdir(d)) {
          std::string n = e->d_name;
          auto ends = [&](const char* s) {
            std::string suf = s;
            return n.size() > suf.size() && n.compare(n.size() - suf.size(), suf.size(), suf) == 0;
          };
          if (ends(".yaml") || ends(".yml") || ends(".json")) names.push_back(n);
        }
        closedir(d);
      }
      std::sort(names.begin(), names.end());
      for (const auto& n : names) load_one(path + "/" + n);
      return;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path + ": " + std::strerror(errno));
    std::stringstream ss;
    ss << in.rdbuf();
    merge_config(result, parse_config(ss.str(), path));
  };
  for (const auto& p : paths) load_one(p);
  return result;
}

void finalize_config(Config& c, const std::map<std::string, std::string>* env_in) {
  std::map<std::string, std::string> own;
  if (env_in == nullptr) {
    own = process_env();
    env_in = &own;
  }
  const auto& env = *env_in;
  auto from_env = [&](std::optional<std::string>& field, const char* var) {
    if (!field) {
      auto it = env.find(var);
      if (it != env.end() && !it->second.empty()) field = it->second;
    }
  };
  from_env(c.vault.address, "VAULT_ADDR");
  from_env(c.vault.token, "VAULT_TOKEN");
  from_env(c.vault.namespace_, "VAULT_NAMESPACE");
  from_env(c.vault.ssl.ca_cert, "VAULT_CACERT");
  from_env(c.consul.address, "CONSUL_HTTP_ADDR");
  from_env(c.consul.token, "CONSUL_HTTP_TOKEN");
  if (c.vault.address) c.vault.address = normalize_address(*c.vault.address);
  if (!c.consul.address) c.consul.address = "127.0.0.1:8500";
  c.consul.address = normalize_address(*c.consul.address);
  if (!c.vault.renew_token) c.vault.renew_token = true;
  if (!c.vault.ssl.verify) c.vault.ssl.verify = true;
  if (!c.consul.ssl.verify) c.consul.ssl.verify = true;
  if (!c.vault.default_lease_duration) c.vault.default_lease_duration = std::chrono::minutes(5);
  if (!c.vault.lease_renewal_threshold) c.vault.lease_renewal_threshold = 0.9;
  if (!c.vault.revoke_superseded) c.vault.revoke_superseded = false;
  if (!c.vault.timeout) c.vault.timeout = std::chrono::seconds(60);
  if (!c.consul.timeout) c.consul.timeout = std::chrono::seconds(10);
  if (!c.vault.max_connections) c.vault.max_connections = 8;
  if (!c.consul.max_connections) c.consul.max_connections = 8;
  from_env(c.influxdb.url, "INFLUXDB_URL");
  if (!c.influxdb.org && !c.influxdb.org_id) from_env(c.influxdb.org, "INFLUXDB_ORG");
  if (c.influxdb.url) c.influxdb.url = normalize_address(*c.influxdb.url);
  if (!c.influxdb.token_env && !c.influxdb.token_file) c.influxdb.token_env = "INFLUXDB_TOKEN";
  if (!c.influxdb.poll_interval) c.influxdb.poll_interval = std::chrono::minutes(1);
  if (!c.block_query_wait) c.block_query_wait = std::chrono::seconds(60);
  if (!c.wait.min) c.wait.min = Duration(0);
  if (!c.wait.max) c.wait.max = *c.wait.min * 4;
  if (!c.retry.attempts) c.retry.attempts = 0;
  if (!c.retry.backoff) c.retry.backoff = Duration(250);
  if (!c.retry.max_backoff) c.retry.max_backoff = std::chrono::minutes(1);
  if (!c.state_dir) c.state_dir = "/var/lib/templet";
  if (!c.log_level) c.log_level = "info";
  if (!c.fleet.mode) c.fleet.mode = "single";
  if (!c.fleet.lock_prefix) c.fleet.lock_prefix = "templet/leader";
  if (!c.fleet.session_ttl) c.fleet.session_ttl = std::chrono::seconds(15);
  if (!c.fleet.lock_delay) c.fleet.lock_delay = std::chrono::seconds(15);
  if (!c.reconcile_interval) c.reconcile_interval = std::chrono::minutes(5);

  for (auto& t : c.templates) {
    if (!t.destination) throw ConfigError(t.origin + ": template has no destination");
    if (t.source.has_value() == t.contents.has_value())
      throw ConfigError(t.origin + ": template needs exactly one of source and contents");
    if (!t.backup) t.backup = false;
    if (!t.create_dest_dirs) t.create_dest_dirs = true;
    if (!t.error_on_missing_key) t.error_on_missing_key = false;
    if (!t.allow_no_value) t.allow_no_value = false;
    if (!t.left_delimiter || t.left_delimiter->empty()) t.left_delimiter = "{{";
    if (!t.right_delimiter || t.right_delimiter->empty()) t.right_delimiter = "}}";
    // A template's own wait wins; without one it inherits the global wait.
    if (!t.wait.min && !t.wait.max) t.wait = c.wait;
    if (!t.wait.min) t.wait.min = Duration(0);
    if (!t.wait.max) t.wait.max = *t.wait.min * 4;
    if (!t.command_timeout) t.command_timeout = std::chrono::seconds(30);
    if (!t.run_on_start) t.run_on_start = false;
    if (t.redash) {
      auto& r = *t.redash;
      auto url_env = env.find("REDASH_URL");
      if (!r.url && url_env != env.end()) r.url = url_env->second;
      if (!r.mode) r.mode = "api";
      // Through manage.py the url is only a label and state key (the command is the default).
      if (!r.url && *r.mode == "api")
        throw ConfigError(t.origin + ": apply.redash needs a url (or REDASH_URL)");
      if (r.url) r.url = normalize_address(*r.url);
      if (!r.api_key_env) r.api_key_env = "REDASH_API_KEY";
      if (!r.list_key) r.list_key = "managed_datasources";
      if (*r.mode == "manage_py" && r.command.empty() && !r.container)
        throw ConfigError(t.origin +
                          ": apply.redash mode manage_py needs manage_py: {container: NAME} or a "
                          "command");
      if (!r.create_missing) r.create_missing = true;
      if (!r.prune) r.prune = false;
      if (!r.test_after_apply) r.test_after_apply = true;
      if (!r.ready_timeout) r.ready_timeout = std::chrono::minutes(2);
      if (!r.request_timeout) r.request_timeout = std::chrono::seconds(30);
    }
    if (t.influxdb) {
      auto& i = *t.influxdb;
      // The top-level influxdb block fills what the target leaves unset; org/org_id and
      // token_file/token_env go as pairs, since the first of each pair wins over the second.
      const auto& top = c.influxdb;
      if (!i.url) i.url = top.url;
      if (!i.org && !i.org_id) {
        i.org = top.org;
        i.org_id = top.org_id;
      }
      if (!i.token_env && !i.token_file) {
        i.token_env = top.token_env;
        i.token_file = top.token_file;
      }
      auto url_env = env.find("INFLUXDB_URL");
      if (!i.url && url_env != env.end()) i.url = url_env->second;
      if (!i.url) throw ConfigError(t.origin + ": apply.influxdb needs a url (or INFLUXDB_URL)");
      i.url = normalize_address(*i.url);
      auto org_env = env.find("INFLUXDB_ORG");
      if (!i.org && !i.org_id && org_env != env.end()) i.org = org_env->second;
      if (!i.org && !i.org_id)
        throw ConfigError(t.origin + ": apply.influxdb needs org or org_id (or INFLUXDB_ORG)");
      if (!i.token_env) i.token_env = "INFLUXDB_TOKEN";
      // status stays unset unless given: only an explicit status re-activates a paused task.
      if (!i.prune) i.prune = false;
      if (!i.ready_timeout) i.ready_timeout = std::chrono::minutes(2);
    }
  }
}

}  // namespace templet
