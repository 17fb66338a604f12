// Inputs the fuzz targets (tests/fuzz) found or were pointed at, each with the exact outcome:
// pathological templates and documents must end in an error, never a crash or a hang. Where Go
// has an answer (text/template, fmt) the expectation is Go 1.23's.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "app/config.hpp"
#include "functions/data_types.hpp"
#include "functions/dependency.hpp"
#include "functions/values_file.hpp"
#include "renderer/exec.hpp"
#include "renderer/parser.hpp"
#include "renderer/template.hpp"
#include "sys/number_cast.hpp"

using namespace templet;

namespace {

struct Outcome {
  std::string out;
  std::string error;  // empty when it rendered
};

Outcome run(const std::string& text, TemplateOptions opts = {}) {
  if (opts.name.empty()) opts.name = "t";
  Outcome r;
  try {
    Template t(text, opts);
    CallContext ctx;
    t.execute(r.out, Value(), ctx);
  } catch (const ParseError& e) {
    r.error = e.what();
  } catch (const ExecError& e) {
    r.error = e.what();
  }
  return r;
}

std::string repeat(const std::string& s, int n) {
  std::string r;
  for (int i = 0; i < n; ++i) r += s;
  return r;
}

}  // namespace

TEST_CASE("fuzz: deep nesting is a parse error, not a stack overflow", "[fuzz]") {
  // Go parses any depth (its stacks grow); about 3000 levels overflowed an 8 MiB C++ stack.
  auto parens = [](int n) { return "{{" + repeat("(", n) + "1" + repeat(")", n) + "}}"; };
  CHECK(run(parens(900)).out == "1");
  CHECK(run(parens(100000)).error == "template: t:1:1001: exceeded maximum nesting depth (1000)");
  auto ifs = [](int n) { return repeat("{{if 1}}", n) + "x" + repeat("{{end}}", n); };
  CHECK(run(ifs(900)).out == "x");
  CHECK(run(ifs(100000)).error == "template: t:1:8002: exceeded maximum nesting depth (1000)");
}

TEST_CASE("fuzz: endless {{template}} recursion stops at Go's depth", "[fuzz]") {
  // Go 1.23: the same message and location, no output.
  Outcome r = run(R"({{define "a"}}{{template "a"}}{{end}}{{template "a"}})");
  CHECK(
      r.error ==
      R"(template: t:1:25: executing "a" at <{{template "a"}}>: exceeded maximum template depth (100000))");
  CHECK(r.out.empty());
}

TEST_CASE("fuzz: printf widths and precisions past 10^6 are Go's errors", "[fuzz]") {
  // Go's fmt: a number too large to be a width ends the verb (NOVERB); from an argument it is
  // BADWIDTH / BADPREC. Nothing is padded to a billion bytes.
  CHECK(run(R"({{printf "%999999999d" 1}})").out == "%!(NOVERB)%!(EXTRA int=1)");
  CHECK(run(R"({{printf "%*d" 999999999 1}})").out == "%!(BADWIDTH)1");
  CHECK(run(R"({{printf "%.*f" 999999999 1.5}})").out == "%!(BADPREC)1.500000");
  CHECK(run(R"({{printf "%.99999999f" 1.5}})").out == "%!(NOVERB)%!(EXTRA float64=1.5)");
  CHECK(run(R"({{printf "%[99999999999]d" 1}})").out == "%!d(BADINDEX)");
  CHECK(run(R"({{printf "%9999999d|" 1}})").out.size() == 10000000);  // Go pads this one
}

TEST_CASE("fuzz: output is bounded", "[fuzz]") {
  CHECK(ExecOptions{}.max_output == size_t{64} << 20);
  TemplateOptions opts;
  opts.max_output = 10;
  Outcome r = run("{{range 100}}abc{{end}}", opts);
  CHECK(r.error == R"(template: t:1:13: executing "t" at <abc>: output exceeds 10 bytes)");
  CHECK(r.out == "abcabcabcabc");
  r = run(R"({{range 100}}{{print "abcd"}}{{end}})", opts);
  CHECK(r.error ==
        R"(template: t:1:15: executing "t" at <{{print "abcd"}}>: output exceeds 10 bytes)");
  CHECK(r.out == "abcdabcdabcd");
  // The default bound: a range printing 10 bytes 7 million times stops past 64 MiB.
  r = run("{{range 7000000}}0123456789{{end}}");
  CHECK(r.error ==
        R"(template: t:1:17: executing "t" at <0123456789>: output exceeds 67108864 bytes)");
  CHECK(r.out.size() == 67108870);
}

TEST_CASE("fuzz: the step bound stops loops that print nothing", "[fuzz]") {
  CHECK(ExecOptions{}.max_steps == 0);  // unbounded unless asked, as in Go
  TemplateOptions opts;
  opts.max_steps = 1000;
  Outcome r = run("{{range 1000000000}}{{end}}", opts);
  CHECK(r.error == R"(template: t:1:8: executing "t" at <{{range 1000000000}}...>: )"
                   "execution exceeds 1000 steps");
}

TEST_CASE("fuzz: durations too long for Go's int64 nanoseconds are invalid", "[fuzz]") {
  // Was signed overflow converting seconds to milliseconds (UBSan), or std::out_of_range from
  // std::stoll escaping parse_config.
  auto error = [](const std::string& d) {
    try {
      parse_duration(d);
    } catch (const DurationError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  CHECK(error("2888888888888888888") == R"(invalid duration "2888888888888888888")");
  CHECK(error("99999999999999999999999") == R"(invalid duration "99999999999999999999999")");
  CHECK(error("3000000h") == R"(invalid duration "3000000h")");
  CHECK(parse_duration("9223372036") == std::chrono::seconds(9223372036));
  CHECK(parse_duration("2562047h") == std::chrono::hours(2562047));
  std::string err;
  try {
    parse_config("wait: {min: 2888888888888888888, max: 10s}\n", "c.yaml");
  } catch (const ConfigError& e) {
    err = e.what();
  }
  CHECK(err == R"(c.yaml:1: config.wait.min: invalid duration "2888888888888888888")");
}

TEST_CASE("fuzz: a values file with invalid UTF-8 is an error", "[fuzz]") {
  // Was an uncaught nlohmann::json type_error (316) while turning the scalar into a JSON body.
  std::string err;
  try {
    ValuesFile::parse("consul:\n  kv:\n    a: \"x\xdc y\"\n", "v.yaml");
  } catch (const ValuesError& e) {
    err = e.what();
  }
  CHECK(err == "v.yaml:3:10: invalid UTF-8");
  // U+FFFD itself, written out, is fine.
  CHECK_NOTHROW(ValuesFile::parse("env: {A: \"\xef\xbf\xbd\"}\n", "v.yaml"));
}

TEST_CASE("fuzz: API-shaped service instances with odd member types", "[fuzz]") {
  // Was an uncaught nlohmann::json type_error (302) building the catalog: Service.ID a number.
  ValuesFile v = ValuesFile::parse(
      "consul:\n  services:\n    web:\n"
      "      - Node: {Node: n1, Address: 10.0.0.1}\n"
      "        Service: {ID: 0, Tags: [x]}\n"
      "        Checks: [{Status: passing, CheckID: serfHealth}]\n"
      "      - {Node: n2, Service: {ID: w2}}\n",
      "v.yaml");
  auto node = v.fetch(parse_catalog_node("n1"));
  REQUIRE(node);
  CHECK(node->body ==
        R"({"Node":{"Address":"10.0.0.1","Node":"n1"},"Services":{"web":{"ID":0,"Tags":["x"]}}})");
  auto nodes = v.fetch(parse_catalog_nodes(""));
  REQUIRE(nodes);
  CHECK(nodes->body == R"([{"Address":"10.0.0.1","Node":"n1"},{}])");
}

TEST_CASE("fuzz: bytes yaml-cpp decodes to invalid UTF-8 do not escape as json errors", "[fuzz]") {
  // Valid UTF-8 text for which yaml-cpp handed back a lone 0x85 byte, and nlohmann's dump threw
  // type_error 316 out of ValuesFile::parse. Strings now go to JSON with U+FFFD in their place.
  const std::string path = std::string(TEMPLET_SOURCE_DIR) +
                           "/tests/fuzz/corpus/fuzz_values_file/regression-yaml-escape";
  std::string err = "(no error)";
  try {
    ValuesFile::load(path);
  } catch (const ValuesError& e) {
    err = e.what();
  }
  // yaml-cpp reads line 18's "NodeAddress" key as "\x85odeAddress".
  CHECK(err == path + ":18:19: unknown service instance field \"\xef\xbf\xbdodeAddress\"");
}

TEST_CASE("fuzz: JSON floats too big for an integer field read as Go's zero", "[fuzz]") {
  // Was undefined behaviour (UBSan: 1.55556e+108 is outside the range of unsigned long) in
  // fuzz_api_bodies: a Consul KV answer whose ModifyIndex was a huge float. Go's encoding/json
  // refuses to put a float, or a negative number into a uint64, and leaves the field zero.
  const auto body = nlohmann::json::parse(
      R"([{"Key":"app/a","CreateIndex":1.5e108,"ModifyIndex":-3,"LockIndex":2.0,"Flags":7.5,)"
      R"("Value":null}])");
  Template t("{{range .}}{{.CreateIndex}} {{.ModifyIndex}} {{.LockIndex}} {{.Flags}}{{end}}",
             TemplateOptions{.name = "t"});
  std::string out;
  CallContext ctx;
  t.execute(out, dtypes::key_pairs(body, "app"), ctx);
  CHECK(out == "0 0 2 0");
}

TEST_CASE("fuzz: JSON numbers convert to integers only where they fit", "[fuzz]") {
  using nlohmann::json;
  CHECK(json_exact_int64(json(9223372036854775807LL)) == INT64_MAX);
  CHECK(json_exact_int64(json(9223372036854775808ULL)) == std::nullopt);
  CHECK(json_exact_int64(json::parse("9.2233720368547758e18")) == std::nullopt);  // 2^63
  CHECK(json_exact_int64(json::parse("-9.2233720368547758e18")) == INT64_MIN);
  CHECK(json_exact_int64(json::parse("3.0")) == 3);
  CHECK(json_exact_int64(json::parse("3.5")) == std::nullopt);
  CHECK(json_exact_int64(json("3")) == std::nullopt);
  CHECK(json_exact_uint64(json(-1)) == std::nullopt);
  CHECK(json_exact_uint64(json::parse("1.8446744073709552e19")) == std::nullopt);  // 2^64
  CHECK(json_exact_uint64(json(18446744073709551615ULL)) == UINT64_MAX);
  CHECK(saturate_int64(1e300) == INT64_MAX);
  CHECK(saturate_int64(-1e300) == INT64_MIN);
  CHECK(saturate_int64(std::nan("")) == 0);
  CHECK(saturate_int64(-2.9) == -2);
}
