#include "sys/number_cast.hpp"

#include <cmath>

namespace templet {

namespace {

// 2^63 and 2^64 are exact doubles; every double below them converts without overflow.
constexpr double kTwo63 = 9223372036854775808.0;
constexpr double kTwo64 = 18446744073709551616.0;

}  // namespace

std::optional<int64_t> json_exact_int64(const nlohmann::json& v) {
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  if (!v.is_number_float()) return std::nullopt;
  const double d = v.get<double>();
  if (!std::isfinite(d) || d != std::trunc(d) || d < -kTwo63 || d >= kTwo63) return std::nullopt;
  return static_cast<int64_t>(d);
}

std::optional<uint64_t> json_exact_uint64(const nlohmann::json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    if (i < 0) return std::nullopt;
    return static_cast<uint64_t>(i);
  }
  if (!v.is_number_float()) return std::nullopt;
  const double d = v.get<double>();
  if (!std::isfinite(d) || d != std::trunc(d) || d < 0 || d >= kTwo64) return std::nullopt;
  return static_cast<uint64_t>(d);
}

int64_t saturate_int64(double d) {
  if (std::isnan(d)) return 0;
  if (d >= kTwo63) return INT64_MAX;
  if (d < -kTwo63) return INT64_MIN;
  return static_cast<int64_t>(d);
}

int64_t go_int64_of_float(double d) {
  if (!(d >= -kTwo63 && d < kTwo63)) return INT64_MIN;
  return static_cast<int64_t>(d);
}

}  // namespace templet
