// Floats made integers without undefined behaviour. A JSON number, or a float a template computes,
// can be of any size, and casting one that does not fit an integer type is undefined in C++, so
// every such conversion of a number from a server, a file or a template goes through here.
#pragma once

#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

namespace templet {

// An integer, or a float with no fractional part inside int64's range; anything else is absent,
// as Go's encoding/json refuses to decode it into an int64.
std::optional<int64_t> json_exact_int64(const nlohmann::json& v);
// A non-negative integer, or such a float, that fits uint64 (Go's rule for a uint64 field).
std::optional<uint64_t> json_exact_uint64(const nlohmann::json& v);
// For seconds and counts where a clamp is the sane reading: NaN is 0, beyond range the limit.
int64_t saturate_int64(double d);
// Go's int64(f) on amd64, where templet's reference outputs come from: the truncated value, and
// for NaN or a value out of range the "integer indefinite" MinInt64 that CVTTSD2SQ yields.
int64_t go_int64_of_float(double d);

}  // namespace templet
