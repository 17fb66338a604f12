// The YAML 1.2 core schema as every YAML reader in templet types plain scalars.
#include "functions/yaml_scalar.hpp"

#include <catch2/catch.hpp>
#include <cmath>

using namespace templet;
using Kind = YamlScalar::Kind;

TEST_CASE("resolve_plain_yaml_scalar: core schema types", "[yaml]") {
  for (const char* s : {"", "~", "null", "Null", "NULL"})
    CHECK(resolve_plain_yaml_scalar(s).kind == Kind::Null);
  CHECK(resolve_plain_yaml_scalar("True").boolean);
  CHECK_FALSE(resolve_plain_yaml_scalar("FALSE").boolean);
  CHECK(resolve_plain_yaml_scalar("false").kind == Kind::Bool);
  CHECK(resolve_plain_yaml_scalar("yes").kind == Kind::String);  // YAML 1.1 only

  struct IntCase {
    const char* text;
    int64_t value;
  };
  for (auto [text, value] :
       {IntCase{"5432", 5432}, IntCase{"-7", -7}, IntCase{"+7", 7}, IntCase{"0x1F", 31},
        IntCase{"0o17", 15}, IntCase{"9223372036854775807", INT64_MAX},
        IntCase{"-9223372036854775808", INT64_MIN}}) {
    INFO(text);
    YamlScalar r = resolve_plain_yaml_scalar(text);
    CHECK(r.kind == Kind::Int);
    CHECK(r.integer == value);
  }
  struct FloatCase {
    const char* text;
    double value;
  };
  for (auto [text, value] :
       {FloatCase{"1.5", 1.5}, FloatCase{".5", 0.5}, FloatCase{"+1.5", 1.5}, FloatCase{"1.", 1.0},
        FloatCase{"-2e3", -2000.0}, FloatCase{"1E-2", 0.01}}) {
    INFO(text);
    YamlScalar r = resolve_plain_yaml_scalar(text);
    CHECK(r.kind == Kind::Float);
    CHECK(r.floating == value);
  }
  CHECK(std::isinf(resolve_plain_yaml_scalar("-.inf").floating));
  CHECK(resolve_plain_yaml_scalar("-.inf").floating < 0);
  CHECK(std::isnan(resolve_plain_yaml_scalar(".NaN").floating));
  // Not numbers in the core schema, or out of int64's range: strings.
  for (const char* s : {"0x-5", "0x", "0o8", "1_000", "9223372036854775808", "1e999", "inf", "nan",
                        ".", "e5", "1.2.3", "12abc", "0b101", "--1"}) {
    INFO(s);
    CHECK(resolve_plain_yaml_scalar(s).kind == Kind::String);
  }
}

TEST_CASE("resolve_yaml_scalar: a quoted scalar is always a string", "[yaml]") {
  YAML::Node doc = YAML::Load("{a: 5432, b: \"5432\", c: '5432', d: null, e: 'null'}");
  CHECK(resolve_yaml_scalar(doc["a"]).kind == Kind::Int);
  CHECK(resolve_yaml_scalar(doc["b"]).kind == Kind::String);
  CHECK(resolve_yaml_scalar(doc["c"]).kind == Kind::String);
  CHECK(resolve_yaml_scalar(doc["e"]).kind == Kind::String);
}
