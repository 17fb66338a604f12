// Template parse + execute with consul-template's whole function library.
//
// Input: template text, then optionally a NUL byte and a JSON document bound to dot. Data
// functions answer from a small fixed values file; `file` is denied (no reading the machine's
// files), as is sprig_derivePassword (see below), and `env` sees only the values file's env
// map. Execution is bounded: 1 MiB of output and a step budget, so that a template looping 10^7
// times with an empty body ends in an error instead of a libFuzzer timeout. The {{template}} depth
// limit stays Go's 100000.
#include <cstdint>
#include <string>

#include "app/data_document.hpp"
#include "functions/render.hpp"
#include "functions/values_file.hpp"
#include "fuzz_common.hpp"

using namespace templet;

namespace {

constexpr const char* kValues = R"(
env: {ENVIRONMENT: qa, EMPTY: ""}
consul:
  kv:
    app/db_host: pg.qa.internal
    app/json: '{"a": [1, 2.5, "x"], "b": {"c": null}}'
    app/nested/deep: "1"
  services:
    web:
      - {Node: n1, Address: 10.0.0.1, Port: 80, Tags: [b, a], ID: web-1}
      - {Node: n2, Address: 10.0.0.2, Port: 8080, Status: critical, ID: web-2}
vault:
  db/creds/ro:
    lease_id: db/creds/ro/abc
    lease_duration: 60
    renewable: true
    data: {username: u, password: p}
  secret/data/app:
    data: {data: {token: t0k3n, n: 12}, metadata: {version: 2}}
)";

struct Fixture {
  ValuesFile values = ValuesFile::parse(kValues, "fuzz-values.yaml");
  RenderEnv env = values.render_env();
  // sprig_derivePassword is denied too: each call is a 32 MiB scrypt, which a loop would turn
  // into timeouts rather than findings (its code is pinned by RFC 7914's vectors and the corpus).
  FunctionTable funcs =
      consul_template_functions(FunctionOptions{{"file", "sprig_derivePassword"}});
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Fixture& fx = fixture();
  auto [text, json] = fuzz::split_nul(fuzz::as_text(data, size));

  Value dot;
  if (!json.empty()) {
    try {
      dot = parse_json_document(json, "data.json");
    } catch (const DataError&) {
    }
  }

  TemplateOptions opts;
  opts.name = "fuzz.tmpl";
  opts.funcs = &fx.funcs;
  opts.max_output = size_t{1} << 20;
  opts.max_steps = 200000;
  try {
    Template tmpl(text, opts);
    RenderResult r = render(tmpl, fx.values, fx.env, dot);
    (void)r;
  } catch (const ParseError&) {
  } catch (const ExecError&) {
  }
  return 0;
}
