#include "sys/duration.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace templet {

Duration parse_duration(const std::string& text) {
  if (text.empty()) throw DurationError("invalid duration \"\"");
  // A bare number is seconds (consul-template accepts integers for durations).
  // Go's durations are int64 nanoseconds: anything longer (about 292 years) is invalid, as in
  // time.ParseDuration, instead of overflowing the conversion to milliseconds.
  constexpr double kMaxMs = 9223372036854.775807;
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t secs = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), secs);
    if (r.ec != std::errc() || static_cast<double>(secs) * 1000 > kMaxMs)
      throw DurationError("invalid duration \"" + text + "\"");
    return std::chrono::seconds(secs);
  }
  double total_ms = 0;
  size_t i = 0;
  bool neg = false;
  if (text[0] == '-' || text[0] == '+') {
    neg = text[0] == '-';
    ++i;
  }
  if (text.substr(i) == "0") return Duration(0);
  if (i >= text.size()) throw DurationError("invalid duration \"" + text + "\"");
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
    if (start == i) throw DurationError("invalid duration \"" + text + "\"");
    double num = 0;
    auto r = std::from_chars(text.data() + start, text.data() + i, num);
    if (r.ec != std::errc()) throw DurationError("invalid duration \"" + text + "\"");
    size_t ustart = i;
    while (i < text.size() && !((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
    std::string unit = text.substr(ustart, i - ustart);
    double scale;
    if (unit == "ns")
      scale = 1e-6;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
      scale = 1e-3;
    else if (unit == "ms")
      scale = 1;
    else if (unit == "s")
      scale = 1000;
    else if (unit == "m")
      scale = 60000;
    else if (unit == "h")
      scale = 3600000;
    else if (unit.empty())
      throw DurationError("missing unit in duration \"" + text + "\"");
    else
      throw DurationError("unknown unit \"" + unit + "\" in duration \"" + text + "\"");
    total_ms += num * scale;
    if (total_ms > kMaxMs) throw DurationError("invalid duration \"" + text + "\"");
  }
  return Duration(static_cast<int64_t>(std::llround(neg ? -total_ms : total_ms)));
}

std::string format_duration(Duration d) {
  auto ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  if (ms < 1000) return out + std::to_string(ms) + "ms";
  int64_t h = ms / 3600000, m = (ms / 60000) % 60, s = (ms / 1000) % 60, rest = ms % 1000;
  if (h) out += std::to_string(h) + "h";
  if (h || m) out += std::to_string(m) + "m";
  out += std::to_string(s);
  if (rest) {
    char buf[8];
    std::snprintf(buf, sizeof buf, ".%03lld", static_cast<long long>(rest));
    std::string frac = buf;
    while (frac.back() == '0') frac.pop_back();
    out += frac;
  }
  return out + "s";
}

}  // namespace templet
