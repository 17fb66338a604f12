// Go's fmt as templates use it, checked against Go itself: every expected string in the
// gofmt_sprintf_*_test.cpp tables was produced by Go 1.23's fmt for the same operands (a
// throwaway Go program printed the rows). This header holds what the tables share: the operand
// specs the Go program used ("kind:text", or a named composite such as "ST" or "MS"), the row
// type, and the check that prints every mismatch at once.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "renderer/gofmt.hpp"

namespace templet::testing::gofmt_rows {

using templet::Kind;
using templet::Type;
using templet::Value;
namespace types = templet::types;

inline Type make_type(Kind k, std::string name, const Type* elem = nullptr,
                      std::vector<std::string> fields = {}, bool pointer = false) {
  Type t;
  t.kind = k;
  t.name = std::move(name);
  t.elem = elem;
  t.fields = std::move(fields);
  t.pointer = pointer;
  return t;
}

// Go: type T struct { Name string; Count int; Any interface{} }; type U struct { A int }
inline const Type kT = make_type(Kind::Struct, "main.T", nullptr, {"Name", "Count", "Any"});
inline const Type kPT = make_type(Kind::Struct, "*main.T", nullptr, {"Name", "Count", "Any"}, true);
inline const Type kU = make_type(Kind::Struct, "main.U", nullptr, {"A"});
inline const Type kBytes = make_type(Kind::List, "[]uint8", &types::uint8);

inline Value S(std::string s) {
  return Value::string(std::move(s));
}
inline Value I(int64_t i) {
  return Value::integer(i);
}
inline Value F(double f) {
  return Value::floating(f);
}
inline Value L(std::vector<Value> items) {
  return Value::list(std::move(items));
}
inline Value M(std::vector<std::pair<Value, Value>> e) {
  return Value::map(std::move(e));
}

inline Value t_struct(const Type* t, std::string name, int64_t count, Value any) {
  return Value::structure(t, {S(std::move(name)), I(count), std::move(any)});
}

// Builds an operand from the spec the Go program used: "kind:text" or a named composite.
inline Value arg(std::string_view spec) {
  if (spec == "nil") return Value::nil();
  if (spec == "L1") return L({I(1), S("a"), Value::nil(), F(2.5), Value::boolean(true)});
  if (spec == "LE") return L({});
  if (spec == "LS") return Value::list({S("a"), S("b c")}, &types::list_string);
  if (spec == "LI") return Value::list({I(1), I(-2), I(300)}, &types::list_int);
  if (spec == "NLS") return Value::typed_nil(&types::list_string);
  if (spec == "M1")
    return M(
        {{S("a"), I(1)}, {S("b"), S("x")}, {S("c"), Value::nil()}, {S("d"), L({I(1), S("y")})}});
  if (spec == "MS") return Value::map({{S("k"), S("v")}, {S("a"), S("b")}}, &types::map_string);
  if (spec == "NM") return Value::typed_nil(&types::map_any);
  if (spec == "MAA") return Value::map({{S("k"), I(1)}}, &types::map_any_any);
  if (spec == "ST") return t_struct(&kT, "n", 3, Value::nil());
  if (spec == "ST2") return t_struct(&kT, "x y", -1, L({F(1.5), S("z")}));
  if (spec == "PST") return t_struct(&kPT, "p", 1, S("s"));
  if (spec == "NPST") return Value::typed_nil(&kPT);
  if (spec == "BY") {
    return Value::list({Value::uinteger('h', &types::uint8), Value::uinteger('i', &types::uint8),
                        Value::uinteger(1, &types::uint8)},
                       &kBytes);
  }
  if (spec == "LL") {
    return L(
        {L({I(1), I(2)}), M({{S("z"), Value::nil()}}), Value::list({S("q")}, &types::list_string)});
  }
  if (spec == "LN") return L({Value::string("12.50", &types::json_number), S("s")});
  if (spec == "LU") {
    return L({Value::structure(&kU, {I(1)}), t_struct(&kT, "t", 0, Value::nil())});
  }
  const size_t colon = spec.find(':');
  REQUIRE(colon != std::string_view::npos);
  const std::string kind(spec.substr(0, colon));
  const std::string text(spec.substr(colon + 1));
  if (kind == "i") return Value::integer(std::strtoll(text.c_str(), nullptr, 10));
  if (kind == "i64") return Value::integer(std::strtoll(text.c_str(), nullptr, 10), &types::int64);
  if (kind == "i32") return Value::integer(std::strtoll(text.c_str(), nullptr, 10), &types::int32);
  if (kind == "u") return Value::uinteger(std::strtoull(text.c_str(), nullptr, 10), &types::uint);
  if (kind == "u8") return Value::uinteger(std::strtoull(text.c_str(), nullptr, 10), &types::uint8);
  if (kind == "u64") return Value::uinteger(std::strtoull(text.c_str(), nullptr, 10));
  if (kind == "f") return F(std::strtod(text.c_str(), nullptr));
  if (kind == "c") {
    const size_t comma = text.find(',');
    return Value::complex({std::strtod(text.substr(0, comma).c_str(), nullptr),
                           std::strtod(text.substr(comma + 1).c_str(), nullptr)});
  }
  if (kind == "s") return S(text);
  if (kind == "n") return Value::string(text, &types::json_number);
  if (kind == "b") return Value::boolean(text == "true");
  FAIL("unknown operand spec " << spec);
  return Value();
}

struct Row {
  char mode;  // f: Sprintf, s: Sprint, l: Sprintln
  std::string_view format;
  std::vector<std::string_view> args;
  std::string_view want;
};

// The row printed by templet, after a prefix that must survive (output is appended).
inline std::string run(const Row& r) {
  std::vector<Value> args;
  for (auto a : r.args) args.push_back(arg(a));
  std::string out = "prefix:";  // output is appended, never replaced
  switch (r.mode) {
    case 'f':
      gofmt::sprintf(out, r.format, args);
      break;
    case 's':
      gofmt::sprint(out, args);
      break;
    default:
      gofmt::sprintln(out, args);
      break;
  }
  REQUIRE(out.substr(0, 7) == "prefix:");
  return out.substr(7);
}

// Every row printed by templet; one failure lists each row that differs, with Go's output.
template <std::size_t N>
void check_against_go(const Row (&rows)[N]) {
  size_t failures = 0;
  std::string report;
  for (const Row& r : rows) {
    const std::string got = run(r);
    if (got != r.want) {
      ++failures;
      std::string args;
      for (auto a : r.args) (args += std::string(a)) += " ";
      report += std::string(1, r.mode) + " format=[" + std::string(r.format) + "] args=[" + args +
                "]\n  want=[" + std::string(r.want) + "]\n   got=[" + got + "]\n";
    }
  }
  INFO(report);
  CHECK(failures == 0);
}

}  // namespace templet::testing::gofmt_rows
