// YAML 1.2 core-schema typing of a scalar node, shared by every reader of YAML documents (the
// values file, --data documents, the Redash datasources input) so that `port: 5432` is a number
// and `port: "5432"` a string everywhere, as Go's yaml.v3 types them for consul-template.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string_view>

namespace templet {

struct YamlScalar {
  enum class Kind { Null, Bool, Int, Float, String };
  Kind kind = Kind::String;
  bool boolean = false;
  int64_t integer = 0;
  double floating = 0;  // may be ±inf or NaN (.inf, .nan)
};

// A quoted scalar is always a string; a plain one is null, bool, int (decimal, 0x hex, 0o
// octal, within int64), float (decimal or exponent form, .inf, .nan) or else a string.
YamlScalar resolve_yaml_scalar(const YAML::Node& scalar);
YamlScalar resolve_plain_yaml_scalar(std::string_view text);

}  // namespace templet
