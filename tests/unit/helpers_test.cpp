// Specification tests for consul-template's helper functions and the sprig subset: each case is
// a call through the FunctionTable with exact expected output, type or Go error message (values
// checked against Go 1.23 where the standard library is the reference).
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "functions/helpers.hpp"
#include "functions/helpers_internal.hpp"

using namespace templet;

namespace {

const FunctionTable& table() {
  static const FunctionTable t = [] {
    FunctionTable t;
    register_helper_functions(t);
    return t;
  }();
  return t;
}

Value call(std::string_view name, std::vector<Value> args) {
  const Function* f = table().find(name);
  if (!f) throw std::runtime_error("no function " + std::string(name));
  CallContext ctx;
  return f->call(ctx, args);
}

std::string err(std::string_view name, std::vector<Value> args) {
  try {
    call(name, std::move(args));
  } catch (const FuncError& e) {
    return e.what();
  }
  return "<no error>";
}

Value S(std::string s) {
  return Value::string(std::move(s));
}
Value I(int64_t i) {
  return Value::integer(i);
}
Value I64(int64_t i) {
  return Value::integer(i, &types::int64);
}
Value U(uint64_t u) {
  return Value::uinteger(u);
}
Value F(double f) {
  return Value::floating(f);
}
Value B(bool b) {
  return Value::boolean(b);
}
Value N(std::string s) {
  return Value::string(std::move(s), &types::json_number);
}
Value L(std::vector<Value> v) {
  return Value::list(std::move(v));
}
Value LS(std::vector<std::string> v) {
  std::vector<Value> out;
  for (auto& s : v) out.push_back(S(s));
  return Value::list(std::move(out), &types::list_string);
}
Value M(std::vector<std::pair<std::string, Value>> e) {
  std::vector<std::pair<Value, Value>> out;
  for (auto& [k, v] : e) out.emplace_back(S(k), v);
  return Value::map(std::move(out), &types::map_any);
}
Value MAA(std::vector<std::pair<Value, Value>> e) {
  return Value::map(std::move(e), &types::map_any_any);
}

// "%v (%T)" of a result: enough to pin both value and Go type.
std::string vt(const Value& v) {
  return helpers::go_v(v) + " (" + helpers::go_type(v) + ")";
}
std::string str(const Value& v) {
  return v.as_string();
}

struct StrCase {
  const char* fn;
  std::vector<Value> args;
  std::string want;
};

void check_strings(const std::vector<StrCase>& cases) {
  for (const auto& c : cases) {
    INFO(c.fn << " case expecting " << c.want);
    CHECK(str(call(c.fn, c.args)) == c.want);
  }
}

struct ErrCase {
  const char* fn;
  std::vector<Value> args;
  std::string want;
};

void check_errors(const std::vector<ErrCase>& cases) {
  for (const auto& c : cases) {
    INFO(c.fn << " case expecting error " << c.want);
    CHECK(err(c.fn, c.args) == c.want);
  }
}

struct VtCase {
  const char* fn;
  std::vector<Value> args;
  std::string want;
};

void check_vt(const std::vector<VtCase>& cases) {
  for (const auto& c : cases) {
    INFO(c.fn << " case expecting " << c.want);
    CHECK(vt(call(c.fn, c.args)) == c.want);
  }
}

}  // namespace

TEST_CASE("base64 encode and decode", "[helpers]") {
  check_strings({
      {"base64Encode", {S("")}, ""},
      {"base64Encode", {S("a")}, "YQ=="},
      {"base64Encode", {S("ab")}, "YWI="},
      {"base64Encode", {S("abc")}, "YWJj"},
      {"base64Encode", {S("\xfb\xff")}, "+/8="},
      {"base64URLEncode", {S("\xfb\xff")}, "-_8="},
      {"base64Decode", {S("YWJj")}, "abc"},
      {"base64Decode", {S("YQ==")}, "a"},
      {"base64Decode", {S("YWJjZA==\n")}, "abcd"},
      {"base64Decode", {S("YW\nJj")}, "abc"},
      {"base64URLDecode", {S("-_8=")}, "\xfb\xff"},
      {"base64Decode", {S("")}, ""},
  });
  check_errors({
      {"base64Decode", {S("abc")}, "base64Decode: illegal base64 data at input byte 0"},
      {"base64Decode", {S("YW=j")}, "base64Decode: illegal base64 data at input byte 2"},
      {"base64Decode", {S("a===")}, "base64Decode: illegal base64 data at input byte 1"},
      {"base64Decode", {S("YWJjZA")}, "base64Decode: illegal base64 data at input byte 4"},
      {"base64Decode", {S("Y!Jj")}, "base64Decode: illegal base64 data at input byte 1"},
      {"base64Decode", {S("-_8=")}, "base64Decode: illegal base64 data at input byte 0"},
      {"base64URLDecode", {S("+/8=")}, "base64URLDecode: illegal base64 data at input byte 0"},
  });
}

TEST_CASE("in and contains follow Go's type rules", "[helpers]") {
  Value nums = L({F(1), F(2)});
  Value ints = L({I(1), I64(2)});
  struct C {
    const char* fn;
    Value a, b;
    bool want;
  };
  std::vector<C> cases = {
      {"in", nums, F(2), true},
      {"in", nums, I(2), false},  // an int never matches a float64
      {"in", ints, I(2), true},   // int vs int64: both ints
      {"in", ints, F(1), false},
      {"in", LS({"a", "b"}), S("b"), true},
      {"in", LS({"a", "b"}), S("c"), false},
      {"in", L({N("1")}), S("1"), false},  // json.Number is not string
      {"in", S("abcdef"), S("cde"), true},
      {"in", S("abcdef"), S("x"), false},
      {"in", S("abc"), N("b"), false},
      {"in", M({{"a", I(1)}}), S("a"), false},
      {"in", Value::nil(), S("a"), false},
      {"in", L({U(1)}), U(1), false},  // uint elements never match
      {"contains", S("b"), LS({"a", "b"}), true},
      {"contains", S("cd"), S("abcd"), true},
      {"contains", I(3), nums, false},
  };
  for (const auto& c : cases) {
    INFO(c.fn << " " << vt(c.a) << " " << vt(c.b));
    CHECK(call(c.fn, {c.a, c.b}).as_bool() == c.want);
  }
  CHECK(err("in", {S("abc"), Value::nil()}) == "reflect: call of reflect.Value.Type on zero Value");
}

TEST_CASE("containsAll/Any/None/NotAll", "[helpers]") {
  Value hay = LS({"a", "b", "c"});
  struct C {
    std::vector<Value> needles;
    bool all, any, none, notall;
  };
  std::vector<C> cases = {
      {{}, true, false, true, false},
      {{S("a"), S("b")}, true, true, false, false},
      {{S("a"), S("z")}, false, true, false, true},
      {{S("y"), S("z")}, false, false, true, true},
  };
  for (const auto& c : cases) {
    Value n = L(c.needles);
    CHECK(call("containsAll", {n, hay}).as_bool() == c.all);
    CHECK(call("containsAny", {n, hay}).as_bool() == c.any);
    CHECK(call("containsNone", {n, hay}).as_bool() == c.none);
    CHECK(call("containsNotAll", {n, hay}).as_bool() == c.notall);
  }
  CHECK(table().find("containsAll")->params[0] == &types::list_any);
}

TEST_CASE("explode and explodeMap", "[helpers]") {
  Type kp;
  kp.kind = Kind::Struct;
  kp.name = "*dependency.KeyPair";
  kp.pointer = true;
  kp.fields = {"Path", "Key", "Value"};
  auto pair = [&](std::string k, std::string v) {
    return Value::structure(&kp, {S("p/" + k), S(k), S(v)});
  };
  Value out = call("explode", {L({pair("a/b", "1"), pair("a/c/d", "2"), pair("e", "3"),
                                  pair("foo/", "x"), pair("", "y")})});
  CHECK(vt(out) == "map[a:map[b:1 c:map[d:2]] e:3 foo:map[]] (map[string]interface {})");
  CHECK(err("explode", {L({pair("a", "1"), pair("a/b", "2")})}) ==
        "explode: not a map: \"a/b\": \"a\" already has value \"1\"");
  CHECK(err("explode", {L({pair("a/b", "1"), pair("a/b/c", "2")})}) ==
        "explode: not a map: \"a/b/c\": \"b\" already has value \"1\"");
  CHECK(vt(call("explode", {Value::nil()})) == "map[] (map[string]interface {})");

  Value flat = M({{"x/y", I(1)}, {"x/z", S("s")}, {"w", B(true)}});
  CHECK(vt(call("explodeMap", {flat})) == "map[w:true x:map[y:1 z:s]] (map[string]interface {})");
  CHECK(err("explodeMap", {M({{"a", I(1)}, {"a/b", I(2)}})}) ==
        "explodeMap: not a map: \"a/b\": \"a\" already has value '\\x01'");
}

TEST_CASE("mergeMap and mergeMapWithOverride", "[helpers]") {
  Value base = M({{"a", S("base")}, {"empty", S("")}, {"n", M({{"x", I(1)}})}});
  Value piped = M({{"a", S("piped")},
                   {"b", S("new")},
                   {"empty", S("filled")},
                   {"n", M({{"x", I(2)}, {"y", I(3)}})},
                   {"nil", Value::nil()}});
  CHECK(vt(call("mergeMap", {base, piped})) ==
        "map[a:base b:new empty:filled n:map[x:1 y:3]] (map[string]interface {})");
  CHECK(vt(call("mergeMapWithOverride", {base, piped})) ==
        "map[a:piped b:new empty:filled n:map[x:2 y:3] nil:<nil>] (map[string]interface {})");
  CHECK(table().find("mergeMap")->variadic);
}

TEST_CASE("indent", "[helpers]") {
  check_strings({
      {"indent", {I(2), S("a\nb")}, "  a\n  b"},
      {"indent", {I(2), S("a\n\nb\n")}, "  a\n\n  b\n"},
      {"indent", {I(1), S("a\r\nb")}, " a\r\n b"},
      {"indent", {I(0), S("a\nb")}, "a\nb"},
      {"indent", {I(3), S("")}, ""},
  });
  CHECK(err("indent", {I(-1), S("a")}) == "indent value must be a positive integer");
}

TEST_CASE("loop", "[helpers]") {
  check_vt({
      {"loop", {I(3)}, "[0 1 2] (<-chan int64)"},
      {"loop", {I(2), I(5)}, "[2 3 4] (<-chan int64)"},
      {"loop", {S("2"), U(4)}, "[2 3] (<-chan int64)"},
      {"loop", {I(5), I(2)}, "[] (<-chan int64)"},
      {"loop", {S("")}, "[] (<-chan int64)"},
  });
  check_errors({
      {"loop", {}, "loop: wrong number of arguments, expected 1 or 2, but got 0"},
      {"loop", {I(1), I(2), I(3)}, "loop: wrong number of arguments, expected 1 or 2, but got 3"},
      {"loop", {F(1.5)}, "loop: bad argument type: float64"},
      {"loop", {S("x")}, "parseInt: strconv.ParseInt: parsing \"x\": invalid syntax"},
  });
  CHECK(call("loop", {I(2)}).as_list()[1].type() == &types::int64);
}

TEST_CASE("join, split and splitToMap", "[helpers]") {
  check_strings({
      {"join", {S(","), LS({"a", "b", "c"})}, "a,b,c"},
      {"join", {S(","), LS({})}, ""},
      {"join", {S(""), LS({"a", "b"})}, "ab"},
  });
  check_vt({
      {"split", {S(","), S("  a,b ,c  ")}, "[a b  c] ([]string)"},
      {"split", {S(","), S("a,,b")}, "[a  b] ([]string)"},
      {"split", {S(","), S("   ")}, "[] ([]string)"},
      {"split", {S(""), S("héj")}, "[h é j] ([]string)"},
      {"splitToMap",
       {S(","), S("="), S(" a=1,b=2,c,a=3,d=x=y ")},
       "map[a:3 b:2 d:x=y] (map[string]string)"},
      {"splitToMap", {S(","), S("="), S("")}, "map[] (map[string]string)"},
  });
  CHECK(call("split", {S(","), S("")}).as_list().empty());
  CHECK(table().find("join")->params[1] == &types::list_string);
}

TEST_CASE("trim family, replaceAll and case mapping", "[helpers]") {
  check_strings({
      {"trim", {S("xy"), S("xxhixyx")}, "hi"},
      {"trim", {S("é"), S("ééaé")}, "a"},
      {"trimPrefix", {S("ab"), S("abc")}, "c"},
      {"trimPrefix", {S("x"), S("abc")}, "abc"},
      {"trimSuffix", {S("bc"), S("abc")}, "a"},
      {"trimSuffix", {S("x"), S("abc")}, "abc"},
      {"trimSpace", {S("\xc2\xa0 hi \t\n\xe3\x80\x80")}, "hi"},
      {"trimSpace", {S("  ")}, ""},
      {"replaceAll", {S("a"), S("b"), S("banana")}, "bbnbnb"},
      {"replaceAll", {S(""), S("-"), S("aaa")}, "-a-a-a-"},
      {"toUpper", {S("héllo ß ÿ straße")}, "HÉLLO ß Ÿ STRAßE"},
      {"toLower", {S("HÉLLO ΣΑΣ")}, "héllo σασ"},
      {"toLower", {S("ÀÉÎ")}, "àéî"},
      {"toTitle", {S("hello world")}, "Hello World"},
      {"toTitle", {S("hELLO wORLD")}, "HELLO WORLD"},
      {"toTitle", {S("sentence…and")}, "Sentence…And"},
      {"toTitle", {S("🚀rocket")}, "🚀Rocket"},
      {"toTitle", {S("don't stop-now")}, "Don't Stop-Now"},
  });
}

TEST_CASE("parseBool, parseInt, parseUint, parseFloat", "[helpers]") {
  check_vt({
      {"parseBool", {S("")}, "false (bool)"},
      {"parseBool", {S("T")}, "true (bool)"},
      {"parseBool", {S("1")}, "true (bool)"},
      {"parseBool", {S("FALSE")}, "false (bool)"},
      {"parseInt", {S("")}, "0 (int64)"},
      {"parseInt", {S("-42")}, "-42 (int64)"},
      {"parseInt", {S("+5")}, "5 (int64)"},
      {"parseInt", {S("9223372036854775807")}, "9223372036854775807 (int64)"},
      {"parseInt", {S("-9223372036854775808")}, "-9223372036854775808 (int64)"},
      {"parseUint", {S("18446744073709551615")}, "18446744073709551615 (uint64)"},
      {"parseUint", {S("")}, "0 (uint64)"},
      {"parseFloat", {S("1.0")}, "1 (float64)"},
      {"parseFloat", {S("")}, "0 (float64)"},
      {"parseFloat", {S("1e6")}, "1e+06 (float64)"},
      {"parseFloat", {S(".5")}, "0.5 (float64)"},
      {"parseFloat", {S("1_000.5")}, "1000.5 (float64)"},
      {"parseFloat", {S("-Inf")}, "-Inf (float64)"},
      {"parseFloat", {S("0x1p-2")}, "0.25 (float64)"},
  });
  check_errors({
      {"parseBool", {S("x")}, "parseBool: strconv.ParseBool: parsing \"x\": invalid syntax"},
      {"parseBool", {S("yes")}, "parseBool: strconv.ParseBool: parsing \"yes\": invalid syntax"},
      {"parseInt", {S("abc")}, "parseInt: strconv.ParseInt: parsing \"abc\": invalid syntax"},
      {"parseInt", {S(" 1")}, "parseInt: strconv.ParseInt: parsing \" 1\": invalid syntax"},
      {"parseInt", {S("1.5")}, "parseInt: strconv.ParseInt: parsing \"1.5\": invalid syntax"},
      {"parseInt", {S("0x10")}, "parseInt: strconv.ParseInt: parsing \"0x10\": invalid syntax"},
      {"parseInt",
       {S("99999999999999999999")},
       "parseInt: strconv.ParseInt: parsing \"99999999999999999999\": value out of range"},
      {"parseInt",
       {S("9223372036854775808")},
       "parseInt: strconv.ParseInt: parsing \"9223372036854775808\": value out of range"},
      {"parseUint", {S("-1")}, "parseUint: strconv.ParseUint: parsing \"-1\": invalid syntax"},
      {"parseUint", {S("+5")}, "parseUint: strconv.ParseUint: parsing \"+5\": invalid syntax"},
      {"parseUint",
       {S("99999999999999999999")},
       "parseUint: strconv.ParseUint: parsing \"99999999999999999999\": value out of range"},
      {"parseFloat", {S("abc")}, "parseFloat: strconv.ParseFloat: parsing \"abc\": invalid syntax"},
      {"parseFloat",
       {S("0x10")},
       "parseFloat: strconv.ParseFloat: parsing \"0x10\": invalid syntax"},
      {"parseFloat",
       {S("1e400")},
       "parseFloat: strconv.ParseFloat: parsing \"1e400\": value out of range"},
      {"parseFloat",
       {S("1__0")},
       "parseFloat: strconv.ParseFloat: parsing \"1__0\": invalid syntax"},
  });
}

TEST_CASE("parseJSON", "[helpers]") {
  check_vt({
      {"parseJSON", {S("")}, "map[] (map[string]interface {})"},
      {"parseJSON", {S("[1,2]")}, "[1 2] ([]interface {})"},
      {"parseJSON", {S("10000000")}, "1e+07 (float64)"},
      {"parseJSON",
       {S(R"({"b":[true,null],"a":{"x":"y"}})")},
       "map[a:map[x:y] b:[true <nil>]] (map[string]interface {})"},
      {"parseJSON", {S(R"("\u00e9\ud83d\ude80\n")")}, "é🚀\n (string)"},
      {"parseJSON", {S(" null ")}, "<nil> (<nil>)"},
      {"parseJSON", {S(R"({"a":1,"a":2})")}, "map[a:2] (map[string]interface {})"},
      {"parseJSON", {S("-0.5e1")}, "-5 (float64)"},
      // Accepted by json.Unmarshal, rejected by strict parsers: bytes that are not UTF-8 and a
      // lone surrogate escape both become U+FFFD.
      {"parseJSON", {S("\"a\xff b\"")}, "a\uFFFD b (string)"},
      {"parseJSON", {S(R"("\ud800x")")}, "\uFFFDx (string)"},
  });
  check_errors({
      {"parseJSON", {S(" ")}, "unexpected end of JSON input"},
      {"parseJSON", {S("x")}, "invalid character 'x' looking for beginning of value"},
      {"parseJSON", {S("{")}, "unexpected end of JSON input"},
      {"parseJSON", {S("{\"a\" 1}")}, "invalid character '1' after object key"},
      {"parseJSON",
       {S("{\"a\":1,}")},
       "invalid character '}' looking for beginning of object key string"},
      {"parseJSON", {S("[1,]")}, "invalid character ']' looking for beginning of value"},
      {"parseJSON", {S("[1 2]")}, "invalid character '2' after array element"},
      {"parseJSON", {S("{\"a\":1 \"b\"}")}, "invalid character '\"' after object key:value pair"},
      {"parseJSON", {S("tru")}, "invalid character ' ' in literal true (expecting 'e')"},
      {"parseJSON", {S("trux")}, "invalid character 'x' in literal true (expecting 'e')"},
      {"parseJSON", {S("nul")}, "invalid character ' ' in literal null (expecting 'l')"},
      {"parseJSON", {S("\"a\nb\"")}, "invalid character '\\n' in string literal"},
      {"parseJSON", {S("\"\\q\"")}, "invalid character 'q' in string escape code"},
      {"parseJSON",
       {S("\"\\u12g4\"")},
       "invalid character 'g' in \\u hexadecimal character escape"},
      {"parseJSON", {S("-")}, "invalid character ' ' in numeric literal"},
      {"parseJSON", {S("-x")}, "invalid character 'x' in numeric literal"},
      {"parseJSON", {S("1.")}, "invalid character ' ' after decimal point in numeric literal"},
      {"parseJSON", {S("1ex")}, "invalid character 'x' in exponent of numeric literal"},
      {"parseJSON", {S("01")}, "invalid character '1' after top-level value"},
      {"parseJSON",
       {S("{1:2}")},
       "invalid character '1' looking for beginning of object key string"},
      {"parseJSON",
       {S("1e400")},
       "json: cannot unmarshal number 1e400 into Go value of type float64"},
      {"parseJSON", {S("\"abc")}, "unexpected end of JSON input"},
      {"parseJSON", {S("'a'")}, "invalid character '\\'' looking for beginning of value"},
      {"parseJSON", {S("\x01")}, "invalid character '\\x01' looking for beginning of value"},
      {"parseJSON", {S("é")}, "invalid character 'Ã' looking for beginning of value"},
  });
}

TEST_CASE("toJSON family", "[helpers]") {
  Value v = M({{"b", L({I(1), S("<&>"), Value::nil(), B(true), N("1.50")})},
               {"a", Value::map({}, &types::map_string)},
               {"c", LS({})},
               {"d", Value::typed_nil(&types::list_any)}});
  check_strings({
      {"toJSON", {v}, R"({"a":{},"b":[1,"\u003c\u0026\u003e",null,true,1.50],"c":[],"d":null})"},
      {"toUnescapedJSON", {v}, R"({"a":{},"b":[1,"<&>",null,true,1.50],"c":[],"d":null})"},
      {"toJSON",
       {S("\xe2\x80\xa8\x01\x7f\t\"\\é\xff\b\f")},
       R"("\u2028\u0001)"
       "\x7f"
       R"(\t\"\\é\ufffd\b\f")"},
      {"toJSON",
       {L({F(1e21), F(1e20), F(1e-7), F(0.000001), F(123456789), F(1.5), F(0)})},
       "[1e+21,100000000000000000000,1e-7,0.000001,123456789,1.5,0]"},
      {"toJSON", {F(-0.0)}, "-0"},
      {"toJSON", {Value::nil()}, "null"},
      {"toJSON", {U(18446744073709551615u)}, "18446744073709551615"},
      {"toJSONPretty",
       {M({{"b", L({I(1), M({})})}, {"a", M({{"x", L({})}})}})},
       "{\n  \"a\": {\n    \"x\": []\n  },\n  \"b\": [\n    1,\n    {}\n  ]\n}"},
      {"toUnescapedJSONPretty", {M({{"k", S("<v>")}})}, "{\n  \"k\": \"<v>\"\n}"},
      {"toJSONPretty", {M({{"k", S("<v>")}})}, "{\n  \"k\": \"\\u003cv\\u003e\"\n}"},
  });
  check_errors({
      {"toJSON",
       {MAA({{S("a"), I(1)}})},
       "toJSON: json: unsupported type: map[interface {}]interface {}"},
      {"toJSONPretty",
       {M({{"a", MAA({})}})},
       "toJSONPretty: json: unsupported type: map[interface {}]interface {}"},
      {"toJSON", {F(NAN)}, "toJSON: json: unsupported value: NaN"},
      {"toUnescapedJSON", {F(INFINITY)}, "toUnescapedJSON: json: unsupported value: +Inf"},
  });
  // parseYAML | toJSON fails, as issue reports say.
  CHECK(err("toJSON", {call("parseYAML", {S("a: 1")})}) ==
        "toJSON: json: unsupported type: map[interface {}]interface {}");
}

TEST_CASE("parseYAML", "[helpers]") {
  check_vt({
      {"parseYAML", {S("")}, "map[] (map[string]interface {})"},
      {"parseYAML", {S("a: 1")}, "map[a:1] (map[interface {}]interface {})"},
      {"parseYAML",
       {S("[yes, no, on, off, y, true, ~, null, 1.5, '1', 0x1F, 0777, 1_000]")},
       "[true false true false true true <nil> <nil> 1.5 1 31 511 1000] ([]interface {})"},
      {"parseYAML",
       {S("- .inf\n- -.Inf\n- 2001-12-14\n- \"yes\"\n- 1e3\n- +12")},
       "[+Inf -Inf 2001-12-14 yes 1000 12] ([]interface {})"},
      {"parseYAML",
       {S("a:\n  b: [1, x]\n  c: |\n    text\n")},
       "map[a:map[b:[1 x] c:text\n]] (map[interface {}]interface {})"},
      {"parseYAML", {S("just text")}, "just text (string)"},
      {"parseYAML", {S("18446744073709551615")}, "18446744073709551615 (uint64)"},
  });
  CHECK(call("parseYAML", {S("a: 1")}).as_map()[0].second.type() == &types::int_);
  Value nested = call("parseYAML", {S("a:\n  b: 1")});
  CHECK(nested.as_map()[0].second.type() == &types::map_any_any);
  CHECK(err("parseYAML", {S("a: [1, 2")}).rfind("yaml: line ", 0) == 0);
}

TEST_CASE("toYAML follows yaml.v2", "[helpers]") {
  check_strings({
      {"toYAML", {M({{"b", L({I(1), I(2)})}, {"a", S("x")}})}, "a: x\nb:\n- 1\n- 2"},
      {"toYAML", {M({{"a", M({{"b", M({{"c", B(true)}})}})}})}, "a:\n  b:\n    c: true"},
      {"toYAML",
       {M({{"s", L({M({{"x", I(1)}, {"y", I(2)}}), L({I(1), I(2)})})}})},
       "s:\n- x: 1\n  \"y\": 2\n- - 1\n  - 2"},
      {"toYAML",
       {M({{"e", M({})}, {"l", L({})}, {"n", Value::nil()}})},
       "e: {}\nl: []\n\"n\": null"},
      {"toYAML",
       {M({{"q1", S("1234")},
           {"q2", S("yes")},
           {"q3", S("")},
           {"q4", S("1.5")},
           {"q5", S("null")},
           {"q6", S("2001-12-14")},
           {"q7", S("1:20")},
           {"q8", S("0x1F")}})},
       "q1: \"1234\"\nq2: \"yes\"\nq3: \"\"\nq4: \"1.5\"\nq5: \"null\"\nq6: \"2001-12-14\"\n"
       "q7: \"1:20\"\nq8: \"0x1F\""},
      {"toYAML",
       {M({{"p1", S("- a")},
           {"p2", S("a: b")},
           {"p3", S("#x")},
           {"p4", S(" lead")},
           {"p5", S("it's")},
           {"p6", S("a #b")},
           {"p7", S("*star")},
           {"p8", S("plain text")}})},
       "p1: '- a'\np2: 'a: b'\np3: '#x'\np4: ' lead'\np5: it's\np6: 'a #b'\np7: '*star'\n"
       "p8: plain text"},
      {"toYAML", {M({{"t", S("a\tb")}, {"u", S("é")}})}, "t: \"a\\tb\"\nu: é"},
      {"toYAML", {M({{"m", S("line1\nline2")}})}, "m: |-\n  line1\n  line2"},
      {"toYAML", {M({{"m", S("line1\nline2\n")}, {"z", I(1)}})}, "m: |\n  line1\n  line2\nz: 1"},
      {"toYAML", {M({{"m", S("trailing \nspace")}})}, "m: \"trailing \\nspace\""},
      {"toYAML", {M({{"n", L({S("a\nb")})}})}, "\"n\":\n- |-\n  a\n  b"},
      {"toYAML", {M({{"n", S("n")}, {"y", S("Y")}})}, "\"n\": \"n\"\n\"y\": \"Y\""},
      {"toYAML",
       {M({{"f", F(1)}, {"g", F(1e6)}, {"h", F(0.5)}, {"i", F(INFINITY)}})},
       "f: 1\ng: 1e+06\nh: 0.5\ni: .inf"},
      {"toYAML", {M({{"j", N("12")}, {"k", N("1.50")}})}, "j: 12\nk: 1.5"},
      {"toYAML", {S("top")}, "top"},
      {"toYAML", {S("a\nb")}, "|-\n  a\n  b"},
      {"toYAML", {Value::nil()}, "null"},
      {"toYAML", {L({I(1), S("x")})}, "- 1\n- x"},
      {"toYAML",
       {M({{"a10", I(1)}, {"a9", I(2)}, {"a1b", I(3)}, {"B", I(4)}})},
       "B: 4\na1b: 3\na9: 2\na10: 1"},
      {"toYAML",
       {MAA({{I(10), S("x")}, {I(2), S("y")}, {S("k"), S("z")}})},
       "2: \"y\"\n10: x\nk: z"},
  });
  // Long plain scalars fold at spaces past column 80, continuing two spaces deeper.
  std::string words;
  for (int i = 0; i < 20; ++i) words += (i ? " " : "") + std::string("word") + std::to_string(i);
  CHECK(str(call("toYAML", {M({{"k", S(words)}})})) ==
        "k: word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12\n"
        "  word13 word14 word15 word16 word17 word18 word19");
  // parseYAML -> toYAML round trip.
  CHECK(str(call("toYAML", {call("parseYAML", {S("b: [1, yes]\na: {c: d}")})})) ==
        "a:\n  c: d\nb:\n- 1\n- true");
}

TEST_CASE("toTOML follows BurntSushi/toml", "[helpers]") {
  check_strings({
      {"toTOML",
       {M({{"name", S("x")},
           {"n", F(1)},
           {"tbl", M({{"k", S("v")}, {"sub", M({{"z", B(true)}})}})},
           {"arr", L({I(1), I(2)})}})},
       "arr = [1, 2]\nn = 1.0\nname = \"x\"\n\n[tbl]\n  k = \"v\"\n  [tbl.sub]\n    z = true"},
      {"toTOML",
       {call("parseJSON", {S(R"({"a":1,"b":2.5,"c":10000000})")})},
       "a = 1.0\nb = 2.5\nc = 10000000.0"},
      {"toTOML",
       {M({{"srv", L({M({{"h", S("a")}}), M({{"h", S("b")}})})}, {"t", S("q\"\n")}})},
       "t = \"q\\\"\\n\"\n\n[[srv]]\n  h = \"a\"\n\n[[srv]]\n  h = \"b\""},
      {"toTOML",
       {M({{"a b", I(1)}, {"skip", Value::nil()}, {"m", L({I(1), M({{"x", I(2)}})})}})},
       "\"a b\" = 1\nm = [1, {x = 2}]"},
      {"toTOML", {M({{"n", N("7")}, {"f", N("1.50")}})}, "f = 1.5\nn = 7"},
      {"toTOML", {M({})}, ""},
  });
  check_errors({
      {"toTOML",
       {MAA({{S("a"), I(1)}})},
       "toTOML: toml: cannot encode a map with non-string key type"},
      {"toTOML",
       {M({{"a", L({I(1), Value::nil()})}})},
       "toTOML: toml: cannot encode array with nil element"},
  });
}

TEST_CASE("regexMatch and regexReplaceAll", "[helpers]") {
  CHECK(call("regexMatch", {S("^a.c$"), S("abc")}).as_bool());
  CHECK(call("regexMatch", {S("b"), S("abc")}).as_bool());  // unanchored
  CHECK_FALSE(call("regexMatch", {S("^b"), S("abc")}).as_bool());
  CHECK(call("regexMatch", {S("(?i)ABC"), S("xabcx")}).as_bool());
  CHECK(call("regexMatch", {S("(?P<x>a)b"), S("ab")}).as_bool());
  CHECK(call("regexMatch", {S("\\Aab\\z"), S("ab")}).as_bool());
  check_strings({
      {"regexReplaceAll", {S("a*"), S("X"), S("baaac")}, "XbXcX"},
      {"regexReplaceAll",
       {S("(\\w+)@(\\w+)"), S("$2 at $1"), S("joe@example bob@test")},
       "example at joe test at bob"},
      {"regexReplaceAll", {S("(\\w+)@(\\w+)"), S("${2}x"), S("joe@example")}, "examplex"},
      {"regexReplaceAll", {S("(\\w+)@(\\w+)"), S("$2x"), S("joe@example")}, ""},
      {"regexReplaceAll", {S("(?P<user>\\w+)@"), S("${user}!"), S("joe@example")}, "joe!example"},
      {"regexReplaceAll", {S("o"), S("$$"), S("foo")}, "f$$"},
      {"regexReplaceAll", {S("(?i)HELLO"), S("bye"), S("Hello hello")}, "bye bye"},
      {"regexReplaceAll", {S("x*"), S("-"), S("abc")}, "-a-b-c-"},
      {"regexReplaceAll", {S("[0-9]+"), S("<$0>"), S("a1b22c333")}, "a<1>b<22>c<333>"},
      {"regexReplaceAll", {S("b"), S("$"), S("abc")}, "a$c"},
      {"regexReplaceAll", {S("b"), S("${"), S("abc")}, "a${c"},
  });
  CHECK(err("regexMatch", {S("(a"), S("a")}).rfind("error parsing regexp: ", 0) == 0);
}

TEST_CASE("digests", "[helpers]") {
  std::string a200(200, 'a');
  check_strings({
      {"sha256Hex", {S("")}, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"sha256Hex", {S("abc")}, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"sha256Hex",
       {S("hello world")},
       "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"},
      {"sha256Hex", {S(a200)}, "c2a908d98f5df987ade41b5fce213067efbcc21ef2240212a41e54b5e7c28ae5"},
      {"md5sum", {S("")}, "d41d8cd98f00b204e9800998ecf8427e"},
      {"md5sum", {S("abc")}, "900150983cd24fb0d6963f7d28e17f72"},
      {"md5sum", {S("hello world")}, "5eb63bbbe01eeed093cb22bb8f5acdc3"},
      {"md5sum", {S(a200)}, "887f30b43b2867f4a9accceee7d16e6c"},
      // message first, key last (a piped value is the key)
      {"hmacSHA256Hex",
       {S("The quick brown fox jumps over the lazy dog"), S("key")},
       "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"},
      {"hmacSHA256Hex",
       {S("The quick brown fox jumps over the lazy dog"), S(std::string(100, 'k'))},
       "d545ebc800857f4b734cbdc38712fe226d36a8ac3469cad63650e5bc872cd76d"},
  });
  // RFC 4231 test case 2.
  CHECK(str(call("hmacSHA256Hex", {S("what do ya want for nothing?"), S("Jefe")})) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("arithmetic: a OP b with a the last argument", "[helpers]") {
  check_vt({
      {"add", {I(2), I(3)}, "5 (int64)"},
      {"subtract", {I(2), I(5)}, "3 (int64)"},
      {"multiply", {I(4), I(3)}, "12 (int64)"},
      {"divide", {I(2), I(10)}, "5 (int64)"},
      {"divide", {I(3), I(10)}, "3 (int64)"},
      {"modulo", {I(3), I(10)}, "1 (int64)"},
      {"add", {F(1.5), I(1)}, "2.5 (float64)"},
      {"divide", {F(4), F(10)}, "2.5 (float64)"},
      {"divide", {I(0), F(1)}, "+Inf (float64)"},
      {"add", {U(1), U(2)}, "3 (uint64)"},
      {"subtract", {U(3), U(2)}, "18446744073709551615 (uint64)"},
      {"add", {U(1), I(2)}, "3 (int64)"},
      {"add", {I(1), U(2)}, "3 (int64)"},
      {"divide", {I(-1), I64(INT64_MIN)}, "-9223372036854775808 (int64)"},
      {"modulo", {I(-1), I64(INT64_MIN)}, "0 (int64)"},
      {"minimum", {I(2), I(5)}, "2 (int64)"},
      {"minimum", {F(2.5), I(5)}, "2.5 (float64)"},
      {"maximum", {F(2.5), I(5)}, "5 (int64)"},
      {"maximum", {U(7), I(5)}, "7 (uint64)"},
      {"minimum", {U(7), U(5)}, "5 (uint64)"},
  });
  check_errors({
      {"add", {S("2"), I(1)}, "add: unknown type for \"2\" (string)"},
      {"add", {I(1), S("2")}, "add: unknown type for \"2\" (string)"},
      {"subtract",
       {Value::nil(), I(1)},
       "subtract: unknown type for <invalid reflect.Value> (<nil>)"},
      {"multiply", {B(true), I(1)}, "multiply: unknown type for %!q(bool=true) (bool)"},
      {"modulo", {F(1.5), I(3)}, "modulo: unknown type for %!q(float64=1.5) (float64)"},
      {"modulo", {I(2), F(3)}, "modulo: unknown type for %!q(float64=3) (float64)"},
      {"divide", {I(0), I(1)}, "runtime error: integer divide by zero"},
      {"modulo", {U(0), U(1)}, "runtime error: integer divide by zero"},
      {"add", {L({I(1)}), I(1)}, "add: unknown type for ['\\x01'] ([]interface {})"},
      {"maximum", {N("1"), I(1)}, "maximum: unknown type for \"1\" (json.Number)"},
  });
}

TEST_CASE("sprig subset", "[helpers][sprig]") {
  check_vt({
      {"sprig_default", {S("d"), S("")}, "d (string)"},
      {"sprig_default", {S("d"), S("x")}, "x (string)"},
      {"sprig_default", {S("d"), I(0)}, "d (string)"},
      {"sprig_default", {S("d")}, "d (string)"},
      {"sprig_default", {S("d"), L({})}, "d (string)"},
      {"sprig_coalesce", {Value::nil(), S(""), I(0), S("x"), S("y")}, "x (string)"},
      {"sprig_coalesce", {S(""), I(0)}, "<nil> (<nil>)"},
      {"sprig_ternary", {S("yes"), S("no"), B(true)}, "yes (string)"},
      {"sprig_ternary", {S("yes"), S("no"), B(false)}, "no (string)"},
      {"sprig_list", {I(1), S("a")}, "[1 a] ([]interface {})"},
      {"sprig_dict",
       {S("b"), I(1), S("a"), I(2), I(3)},
       "map[3: a:2 b:1] (map[string]interface {})"},
      {"sprig_get", {M({{"a", I(1)}}), S("a")}, "1 (int)"},
      {"sprig_get", {M({{"a", I(1)}}), S("z")}, " (string)"},
      {"sprig_hasKey", {M({{"a", Value::nil()}}), S("a")}, "true (bool)"},
      {"sprig_hasKey", {M({}), S("a")}, "false (bool)"},
      {"sprig_keys", {M({{"b", I(1)}, {"a", I(2)}}), M({{"c", I(3)}})}, "[a b c] ([]string)"},
      {"sprig_quote", {S("a\"b"), I(1), Value::nil()}, "\"a\\\"b\" \"1\" (string)"},
      {"sprig_squote", {S("a"), F(1.5)}, "'a' '1.5' (string)"},
      {"sprig_upper", {S("abc")}, "ABC (string)"},
      {"sprig_lower", {S("ABC")}, "abc (string)"},
      {"sprig_trim", {S("  x  ")}, "x (string)"},
      {"sprig_indent", {I(2), S("a\nb")}, "  a\n  b (string)"},
      {"sprig_indent", {I(2), S("a\n")}, "  a\n   (string)"},
      {"sprig_nindent", {I(2), S("a")}, "\n  a (string)"},
      {"sprig_replace", {S("a"), S("o"), S("banana")}, "bonono (string)"},
      {"sprig_b64enc", {S("hi")}, "aGk= (string)"},
      {"sprig_b64dec", {S("aGk=")}, "hi (string)"},
      {"sprig_b64dec", {S("a")}, "illegal base64 data at input byte 0 (string)"},
      {"sprig_toJson", {M({{"a", S("<")}})}, "{\"a\":\"\\u003c\"} (string)"},
      {"sprig_toJson", {MAA({{S("a"), I(1)}})}, " (string)"},
      {"sprig_fromJson", {S("{\"a\":1}")}, "map[a:1] (map[string]interface {})"},
      {"sprig_fromJson", {S("{")}, "<nil> (<nil>)"},
      {"sprig_add", {I(1), S("2"), F(3.9), B(true)}, "7 (int64)"},
      {"sprig_add", {S("0x10"), S("3.0")}, "19 (int64)"},
      {"sprig_sub", {I(10), S("4")}, "6 (int64)"},
      {"sprig_sortAlpha", {L({S("b"), I(10), S("a"), Value::nil()})}, "[10 a b] ([]string)"},
      {"sprig_sortAlpha", {S("x")}, "[x] ([]string)"},
      {"sprig_contains", {S("ell"), S("hello")}, "true (bool)"},
      {"sprig_hasPrefix", {S("he"), S("hello")}, "true (bool)"},
      {"sprig_hasSuffix", {S("lo"), S("hello")}, "true (bool)"},
      {"sprig_hasSuffix", {S("he"), S("hello")}, "false (bool)"},
      {"sprig_join", {S("-"), L({S("a"), I(1), Value::nil()})}, "a-1 (string)"},
      {"sprig_join", {S("-"), LS({"x", "y"})}, "x-y (string)"},
      {"sprig_split", {S("$"), S("a$b$c")}, "map[_0:a _1:b _2:c] (map[string]string)"},
      {"sprig_splitList", {S(","), S("a,b")}, "[a b] ([]string)"},
      {"sprig_trimPrefix", {S("-"), S("-x")}, "x (string)"},
      {"sprig_repeat", {I(3), S("ab")}, "ababab (string)"},
  });
  CHECK(err("sprig_indent", {I(-1), S("a")}) == "strings: negative Repeat count");
  // sprig's argument order: the count comes first.
  CHECK(table().find("sprig_repeat")->params[0] == &types::int_);
  for (const char* name : {"sprig_default", "sprig_coalesce", "sprig_list", "sprig_dict",
                           "sprig_quote", "sprig_add", "sprig_keys"})
    CHECK(table().find(name)->variadic);
}

TEST_CASE("tainted arguments taint string and container results", "[helpers][taint]") {
  Value secret = Value::tainted_string("hunter2");
  CHECK(call("toUpper", {secret}).tainted());
  CHECK(call("base64Encode", {secret}).tainted());
  CHECK(call("split", {S("n"), secret}).tainted());
  CHECK(call("toJSON", {M({{"p", S("x")}}).with_taint()}).tainted());
  CHECK(call("sprig_list", {secret}).tainted());
  CHECK(call("sha256Hex", {secret}).tainted());
  CHECK_FALSE(call("toUpper", {S("plain")}).tainted());
  CHECK_FALSE(call("in", {secret, S("h")}).tainted());  // bools cannot carry taint
}

TEST_CASE("registered signatures", "[helpers]") {
  struct Sig {
    const char* name;
    std::vector<const Type*> params;
  };
  std::vector<Sig> sigs = {
      {"indent", {&types::int_, &types::string}},
      {"split", {&types::string, &types::string}},
      {"splitToMap", {&types::string, &types::string, &types::string}},
      {"explodeMap", {&types::map_any}},
      {"mergeMapWithOverride", {&types::map_any, &types::map_any}},
      {"parseJSON", {&types::string}},
      {"toJSON", {nullptr}},
      {"add", {nullptr, nullptr}},
      {"sprig_ternary", {nullptr, nullptr, &types::boolean}},
      {"sprig_get", {&types::map_any, &types::string}},
  };
  for (const auto& s : sigs) {
    INFO(s.name);
    const Function* f = table().find(s.name);
    REQUIRE(f);
    CHECK(f->params == s.params);
  }
  CHECK(table().find("loop")->variadic);
  CHECK(table().names().size() >= 80);
}
