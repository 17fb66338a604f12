// The sprig_* and spew_* behaviour the Go-produced corpus (tests/corpus/sprig_*) cannot pin:
// results that are random or clock-bound in Go too (shuffle, randInt, ago), what spew_dump and
// spew_printf write to stderr, and that secrets stay masked there.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "functions/helpers.hpp"
#include "renderer/function.hpp"

using namespace templet;

namespace {

Value call(std::string_view name, std::vector<Value> args) {
  static const FunctionTable t = [] {
    FunctionTable t;
    register_helper_functions(t);
    return t;
  }();
  const Function* f = t.find(name);
  if (!f) throw std::runtime_error("no function " + std::string(name));
  CallContext ctx;
  return f->call(ctx, args);
}

// What a call writes to std::cerr.
std::string stderr_of(std::string_view name, std::vector<Value> args, Value* result = nullptr) {
  std::ostringstream captured;
  auto* old = std::cerr.rdbuf(captured.rdbuf());
  Value out;
  try {
    out = call(name, std::move(args));
  } catch (...) {
    std::cerr.rdbuf(old);
    throw;
  }
  std::cerr.rdbuf(old);
  if (result) *result = out;
  return captured.str();
}

}  // namespace

TEST_CASE("sprig_shuffle returns a permutation of the runes", "[sprig]") {
  const std::string in = "abcdefghijé";
  std::string out = call("sprig_shuffle", {Value::string(in)}).as_string();
  REQUIRE(out.size() == in.size());
  CHECK(out.find("é") != std::string::npos);
  std::string a = in, b = out;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  CHECK(a == b);
}

TEST_CASE("sprig_randInt stays at least min and below max and rejects an empty range", "[sprig]") {
  for (int i = 0; i < 200; ++i) {
    int64_t v = call("sprig_randInt", {Value::integer(3), Value::integer(6)}).as_int();
    CHECK(v >= 3);
    CHECK(v < 6);
  }
  CHECK_THROWS_WITH(call("sprig_randInt", {Value::integer(5), Value::integer(5)}),
                    "invalid argument to Intn");
}

TEST_CASE("spew_dump and spew_printf write to stderr and render nothing", "[sprig][spew]") {
  Value result;
  CHECK(stderr_of("spew_dump", {Value::integer(5, &types::int64), Value::string("ab")}, &result) ==
        "(int64) 5\n(string) (len=2) \"ab\"\n");
  CHECK(result.as_string().empty());
  CHECK(stderr_of("spew_printf", {Value::string("%d-%s"), Value::integer(1), Value::string("x")},
                  &result) == "1-x");
  CHECK(result.as_string().empty());
}

TEST_CASE("spew_dump of a secret writes only the mask to stderr", "[sprig][spew][taint]") {
  Value secret = Value::tainted_string("hunter2xyz");
  std::string err = stderr_of("spew_dump", {secret});
  CHECK(err == "********\n");
  CHECK(err.find("hunter2xyz") == std::string::npos);
  CHECK(stderr_of("spew_printf", {Value::string("%s"), secret}) == "********\n");
  CHECK(call("spew_sdump", {secret}).tainted());
  CHECK(call("spew_sprintf", {Value::string("%v"), secret}).tainted());
}

TEST_CASE("sprig_ago is the time since a Unix timestamp, to the second", "[sprig]") {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::string ago = call("sprig_ago", {Value::integer(now - 90, &types::int64)}).as_string();
  CHECK((ago == "1m30s" || ago == "1m31s"));
  CHECK(call("sprig_ago", {Value::string("not a time")}).as_string() == "0s");
  std::string future = call("sprig_ago", {Value::integer(now + 3600)}).as_string();
  CHECK((future == "-1h0m0s" || future == "-59m59s"));
}

TEST_CASE("sprig_int64 of a float out of int64's range is Go's amd64 MinInt64", "[sprig]") {
  // Go 1.19 on amd64: int64(1e300), int64(-1e300) and int64(NaN) are all -9223372036854775808;
  // the C++ cast was undefined behaviour.
  CHECK(call("sprig_int64", {Value::floating(1e300)}).as_int() == INT64_MIN);
  CHECK(call("sprig_int64", {Value::floating(-1e300)}).as_int() == INT64_MIN);
  CHECK(call("sprig_int64", {Value::floating(std::nan(""))}).as_int() == INT64_MIN);
  CHECK(call("sprig_int64", {Value::floating(-2.9)}).as_int() == -2);
}
