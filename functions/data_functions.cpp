// consul-template's data functions (template/funcs.go): each parses its argument into a
// Dependency, records it as used, and answers from the render's DataSource, or records it as
// missing and returns the placeholder of reference §2.1.
#include <chrono>
#include <cstdlib>

#include "functions/data_types.hpp"
#include "functions/data_types_connect.hpp"
#include "functions/dependency.hpp"
#include "functions/helpers_internal.hpp"
#include "functions/pem_bundle.hpp"
#include "functions/render_state.hpp"
#include "functions/sockaddr.hpp"

namespace templet {

namespace {

using Args = std::span<const Value>;
using helpers::go_quote;
using helpers::trim_space;

// How people will see the call in "missing data" messages: `key "redash/x"`.
std::string describe(const char* fn, Args args) {
  std::string s = fn;
  if (!args.empty()) s += " " + go_quote(args[0].as_string());
  return s;
}

// Wraps a function body so that argument and fetch errors become template errors.
template <typename F>
NativeFunc guarded(F body) {
  return [body = std::move(body)](CallContext& ctx, Args args) -> Value {
    try {
      return body(RenderState::of(ctx), args);
    } catch (const DependencyError& e) {
      throw FuncError(e.what());
    } catch (const FetchError& e) {
      throw FuncError(e.what());
    }
  };
}

Dependency with_call(Dependency d, const char* fn, Args args) {
  d.call = describe(fn, args);
  return d;
}

std::string join(Args args, const char* sep) {
  std::string s;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i) s += sep;
    s += args[i].as_string();
  }
  return s;
}

// The body of an answer as JSON; FetchError names the dependency.
nlohmann::json body_json(const Dependency& d, const Response& r) {
  try {
    return dtypes::parse_json(r.body);
  } catch (const FetchError& e) {
    throw FetchError(d.id + ": " + e.what());
  }
}

Value key_fn(RenderState& st, Args a) {
  const std::string& s = a[0].as_string();
  if (s.empty()) return Value::string("");
  Dependency d = with_call(parse_kv_block(s), "key", a);
  auto r = st.lookup(d);
  // A blocking query treats "no such key" as no answer yet.
  if (r && r->status != 404) return Value::string(dtypes::kv_value(body_json(d, *r)));
  st.missing(d);
  return Value::string("");
}

Value key_exists_fn(RenderState& st, Args a) {
  const std::string& s = a[0].as_string();
  if (s.empty()) return Value::boolean(false);
  Dependency d = with_call(parse_kv_get(s), "keyExists", a);
  if (auto r = st.lookup(d)) {
    if (r->status == 404) return Value::boolean(false);
    auto j = body_json(d, *r);
    return Value::boolean(j.is_array() && !j.empty());
  }
  st.missing(d);
  return Value::boolean(false);
}

Value key_or_default_fn(RenderState& st, Args a) {
  const std::string& s = a[0].as_string();
  const Value& def = a[1];
  if (s.empty()) return def;
  Dependency d = with_call(parse_kv_get(s), "keyOrDefault", a);
  if (auto r = st.lookup(d)) {
    if (r->status == 404) return def;
    std::string v = dtypes::kv_value(body_json(d, *r));
    return v.empty() ? def : Value::string(std::move(v));
  }
  st.missing(d);
  return def;
}

// ls, safeLs, tree, safeTree. `top_level` keeps only keys without `/` (ls); otherwise folder
// keys (ending in `/`) are dropped (tree). `safe`: an empty result counts as missing.
Value list_fn(RenderState& st, Args a, const char* fn, bool top_level, bool safe) {
  const std::string& s = a[0].as_string();
  Value empty = Value::list({}, dtypes::key_pair_list());
  if (s.empty()) return empty;
  Dependency d = with_call(parse_kv_list(s), fn, a);
  if (auto r = st.lookup(d)) {
    std::vector<Value> kept;
    if (r->status != 404) {
      Value all = dtypes::key_pairs(body_json(d, *r), d.target);
      for (const auto& p : all.as_list()) {
        const std::string& key = p.as_fields()[1].as_string();
        bool keep = top_level ? !key.empty() && key.find('/') == std::string::npos
                              : !key.empty() && key.back() != '/';
        if (keep) kept.push_back(p);
      }
    }
    if (!kept.empty() || !safe) return Value::list(std::move(kept), dtypes::key_pair_list());
  }
  st.missing(d);
  return empty;
}

Value secret_fn(RenderState& st, Args a) {
  if (a.empty()) return Value();
  std::vector<std::string> rest;
  for (size_t i = 1; i < a.size(); ++i) rest.push_back(a[i].as_string());
  // Any extra argument, even "", makes it a write.
  Dependency d = with_call(
      rest.empty() ? parse_vault_read(a[0].as_string()) : parse_vault_write(a[0].as_string(), rest),
      "secret", a);
  if (auto r = st.lookup(d)) {
    auto none = [&d] { return FetchError(d.id + ": no secret exists at " + d.target); };
    if (r->body.find_first_not_of(" \t\r\n") == std::string::npos) throw none();
    Value s;
    try {
      s = dtypes::vault_secret(r->body);
    } catch (const FetchError& e) {
      if (r->status == 404) throw none();
      throw FetchError(d.id + ": " + e.what());
    }
    // vault/api's Read keeps a 404 that carries data or warnings (KV v2 answers a deleted or
    // destroyed version so, with its metadata); consul-template then calls a version whose
    // deletion_time has passed "no secret exists" (dependency/vault_read.go, deletedKVv2).
    if (r->status == 404 && !dtypes::secret_has_data_or_warnings(s)) throw none();
    if (dtypes::secret_deleted_kv2(s, std::chrono::system_clock::now())) throw none();
    st.add_secrets(s);
    return s;
  }
  st.missing(d);
  return Value();  // nil: `with` skips, `.Data.x` prints <no value>
}

// pkiCert: a certificate issued through pki/issue/ROLE (a Vault write of the k=v arguments), or
// the one the destination holds while it is good: the watcher decides which (reading the file
// is fetching, not rendering); the answer is PEM text either way (data_source.hpp). nil while
// missing, as in consul-template.
Value pki_cert_fn(RenderState& st, Args a) {
  if (a.empty()) return Value();
  std::vector<std::string> rest;
  for (size_t i = 1; i < a.size(); ++i) rest.push_back(a[i].as_string());
  Dependency d = with_call(parse_vault_pki(a[0].as_string(), rest, st.destination()), "pkiCert", a);
  if (auto r = st.lookup(d)) {
    pki::PemBundle pems;
    try {
      pems = pki::parse_pems(r->body);
    } catch (const x509::CertError& e) {
      throw FetchError(d.id + ": " + e.what());
    }
    Value v = dtypes::pem_encoded_value(pems);
    st.add_secrets(v);
    return v;
  }
  st.missing(d);
  return Value();
}

Value secrets_fn(RenderState& st, Args a) {
  const std::string& s = a[0].as_string();
  if (s.empty()) return Value::typed_nil(&types::list_string);
  Dependency d = with_call(parse_vault_list(s), "secrets", a);
  if (auto r = st.lookup(d)) {
    if (r->status == 404) return Value::typed_nil(&types::list_string);
    body_json(d, *r);  // reports a malformed body with the dependency's name
    return dtypes::vault_list_keys(r->body);
  }
  st.missing(d);
  return Value::typed_nil(&types::list_string);
}

Value service_fn(RenderState& st, Args a) {
  Value empty = Value::list({}, dtypes::health_service_list());
  if (a.empty() || a[0].as_string().empty()) return empty;
  Dependency d = with_call(parse_health_service(join(a, "|")), "service", a);
  if (auto r = st.lookup(d)) return dtypes::health_services(body_json(d, *r), d);
  st.missing(d);
  return empty;
}

Value services_fn(RenderState& st, Args a) {
  Dependency d = with_call(parse_catalog_services(join(a, "")), "services", a);
  if (auto r = st.lookup(d)) return dtypes::catalog_snippets(body_json(d, *r));
  st.missing(d);
  return Value::list({}, dtypes::catalog_snippet_list());
}

Value node_fn(RenderState& st, Args a) {
  Dependency d = with_call(parse_catalog_node(join(a, "")), "node", a);
  if (auto r = st.lookup(d)) {
    if (r->status == 404) return dtypes::catalog_node_value(nlohmann::json());
    return dtypes::catalog_node_value(body_json(d, *r));
  }
  st.missing(d);
  return Value();
}

Value nodes_fn(RenderState& st, Args a) {
  Dependency d = with_call(parse_catalog_nodes(join(a, "")), "nodes", a);
  if (auto r = st.lookup(d)) return dtypes::catalog_nodes(body_json(d, *r), d.near.empty());
  st.missing(d);
  return Value::list({}, dtypes::node_list());
}

// consul-template's datacenters([ignoreFailing]): the names, sorted; [] while missing.
Value datacenters_fn(RenderState& st, Args a) {
  if (a.size() > 1)
    throw FuncError("datacenters: wrong number of arguments, expected 0 or 1, but got " +
                    std::to_string(a.size()));
  Dependency d = parse_catalog_datacenters(!a.empty() && a[0].as_bool());
  d.call =
      a.empty() ? "datacenters" : std::string("datacenters ") + (a[0].as_bool() ? "true" : "false");
  std::vector<Value> names;
  if (auto r = st.lookup(d)) {
    nlohmann::json j = body_json(d, *r);
    std::vector<std::string> dcs;
    if (j.is_array())
      for (const auto& x : j)
        if (x.is_string()) dcs.push_back(x.get<std::string>());
    std::sort(dcs.begin(), dcs.end());
    for (auto& s : dcs) names.push_back(Value::string(std::move(s)));
  } else {
    st.missing(d);
  }
  return Value::list(std::move(names), &types::list_string);
}

// consul-template's connect: `service`'s grammar over /v1/health/connect.
Value connect_fn(RenderState& st, Args a) {
  Value empty = Value::list({}, dtypes::health_service_list());
  if (a.empty() || a[0].as_string().empty()) return empty;
  Dependency d = with_call(parse_health_connect(join(a, "|")), "connect", a);
  if (auto r = st.lookup(d)) return dtypes::health_services(body_json(d, *r), d);
  st.missing(d);
  return empty;
}

// caRoots ignores its arguments; missing is a nil []*api.CARoot.
Value ca_roots_fn(RenderState& st, Args) {
  Dependency d = parse_connect_ca_roots();
  d.call = "caRoots";
  if (auto r = st.lookup(d)) return dtypes::ca_roots(body_json(d, *r));
  st.missing(d);
  return Value::typed_nil(dtypes::ca_root_list());
}

// caLeaf "service": the *api.LeafCert, or nil (no argument, or missing).
Value ca_leaf_fn(RenderState& st, Args a) {
  if (a.empty() || a[0].as_string().empty()) return Value();
  Dependency d = with_call(parse_connect_leaf(a[0].as_string()), "caLeaf", a);
  if (auto r = st.lookup(d)) {
    Value leaf;
    try {
      leaf = dtypes::leaf_cert_value(body_json(d, *r));
    } catch (const FetchError& e) {
      throw FetchError(d.id + ": " + e.what());
    }
    st.add_secrets(leaf);
    return leaf;
  }
  st.missing(d);
  return Value();
}

// Consul CE has no /v1/partitions: its catch-all answers 404 (agent/http.go Index), which
// consul/api reports as below and consul-template names an enterprise feature.
Value partitions_fn(RenderState& st, Args) {
  Dependency d = parse_partitions();
  d.call = "partitions";
  if (auto r = st.lookup(d)) {
    if (r->status == 404) {
      std::string why = std::string(trim_space(r->body));
      throw FetchError(d.id + ": Partitions are an enterprise feature: Unexpected response code: " +
                       "404 (" + why + ")");
    }
    return dtypes::partitions(body_json(d, *r));
  }
  st.missing(d);
  return Value::list({}, dtypes::partition_list());
}

Value peerings_fn(RenderState& st, Args a) {
  Dependency d = with_call(parse_peerings(join(a, "")), "peerings", a);
  if (auto r = st.lookup(d)) return dtypes::peerings(body_json(d, *r));
  st.missing(d);
  return Value::list({}, dtypes::peering_list());
}

Value exported_services_fn(RenderState& st, Args a) {
  if (a.size() > 1) throw FuncError("exportedServices: wrong number of arguments, expected 0 or 1");
  Dependency d = with_call(parse_exported_services(join(a, "")), "exportedServices", a);
  if (auto r = st.lookup(d)) return dtypes::exported_services(body_json(d, *r));
  st.missing(d);
  return Value::list({}, dtypes::exported_service_list());
}

Value imported_services_fn(RenderState& st, Args a) {
  if (a[0].as_string().empty()) throw FuncError("importedServices: partition name is required");
  Dependency d = with_call(parse_imported_services(a[0].as_string()), "importedServices", a);
  if (auto r = st.lookup(d)) return dtypes::imported_services(body_json(d, *r));
  st.missing(d);
  return Value::list({}, dtypes::imported_service_list());
}

// consul-template's sockaddr: go-sockaddr's template `{{ ARGS }}` over the machine's addresses,
// which are data here (sockaddr.interfaces) so that preview can supply them.
Value sockaddr_fn(RenderState& st, Args a) {
  Dependency d = with_call(parse_interfaces(), "sockaddr", a);
  if (auto r = st.lookup(d))
    return Value::string(sockaddr_eval("{{ " + join(a, " ") + " }}", body_json(d, *r)));
  st.missing(d);
  return Value::string("");
}

Value file_fn(RenderState& st, Args a) {
  const std::string& s = a[0].as_string();
  if (s.empty()) return Value::string("");
  std::string path = resolve_file_path(trim_space(s), st.sandbox_path(), st.offline_files());
  Dependency d = with_call(parse_file(path), "file", a);
  if (auto r = st.lookup(d)) return Value::string(r->status == 404 ? "" : r->body);
  st.missing(d);
  return Value::string("");
}

void add(FunctionTable& t, const char* name, std::vector<const Type*> params, bool variadic,
         NativeFunc call) {
  Function f;
  f.name = name;
  f.params = std::move(params);
  f.variadic = variadic;
  f.call = std::move(call);
  t.add(std::move(f));
}

}  // namespace

void register_data_functions(FunctionTable& t) {
  const Type* str = &types::string;
  add(t, "key", {str}, false, guarded(key_fn));
  add(t, "keyExists", {str}, false, guarded(key_exists_fn));
  add(t, "keyOrDefault", {str, str}, false, guarded(key_or_default_fn));
  add(t, "ls", {str}, false,
      guarded([](RenderState& st, Args a) { return list_fn(st, a, "ls", true, false); }));
  add(t, "safeLs", {str}, false,
      guarded([](RenderState& st, Args a) { return list_fn(st, a, "safeLs", true, true); }));
  add(t, "tree", {str}, false,
      guarded([](RenderState& st, Args a) { return list_fn(st, a, "tree", false, false); }));
  add(t, "safeTree", {str}, false,
      guarded([](RenderState& st, Args a) { return list_fn(st, a, "safeTree", false, true); }));
  add(t, "secret", {str}, true, guarded(secret_fn));
  add(t, "secrets", {str}, false, guarded(secrets_fn));
  add(t, "pkiCert", {str}, true, guarded(pki_cert_fn));
  add(t, "service", {str}, true, guarded(service_fn));
  add(t, "services", {str}, true, guarded(services_fn));
  add(t, "node", {str}, true, guarded(node_fn));
  add(t, "nodes", {str}, true, guarded(nodes_fn));
  add(t, "datacenters", {&types::boolean}, true, guarded(datacenters_fn));
  add(t, "connect", {str}, true, guarded(connect_fn));
  add(t, "caRoots", {str}, true, guarded(ca_roots_fn));
  add(t, "caLeaf", {str}, true, guarded(ca_leaf_fn));
  add(t, "partitions", {}, false, guarded(partitions_fn));
  add(t, "peerings", {str}, true, guarded(peerings_fn));
  add(t, "exportedServices", {str}, true, guarded(exported_services_fn));
  add(t, "importedServices", {str}, false, guarded(imported_services_fn));
  add(t, "sockaddr", {str}, true, guarded(sockaddr_fn));
  add(t, "file", {str}, false, guarded(file_fn));
  add(t, "env", {str}, false, guarded([](RenderState& st, Args a) {
        return Value::string(st.getenv(a[0].as_string()).value_or(""));
      }));
  add(t, "mustEnv", {str}, false, guarded([](RenderState& st, Args a) {
        const std::string& name = a[0].as_string();
        std::string v = st.getenv(name).value_or("");
        if (v.empty()) throw FuncError("required environment variable " + name + " is empty");
        return Value::string(std::move(v));
      }));
  add(t, "envOrDefault", {str, str}, false, guarded([](RenderState& st, Args a) {
        auto v = st.getenv(a[0].as_string());
        return v ? Value::string(std::move(*v)) : a[1];
      }));
  add(t, "scratch", {}, false, [](CallContext& ctx, Args) {
    RenderState::of(ctx);  // one scratch per render: outside one there is none
    return Value::structure(scratch_type(), {});
  });
}

}  // namespace templet
