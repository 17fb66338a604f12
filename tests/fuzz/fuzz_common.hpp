// Shared by the libFuzzer targets: splitting one input into parts, and touching a Value the way
// a template would (printing it walks every element, so a malformed Value shows up under ASan).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "renderer/gofmt.hpp"
#include "renderer/value.hpp"

namespace templet::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The input up to its first NUL byte, and what follows it (empty without one).
inline std::pair<std::string_view, std::string_view> split_nul(std::string_view in) {
  size_t nul = in.find('\0');
  if (nul == std::string_view::npos) return {in, {}};
  return {in.substr(0, nul), in.substr(nul + 1)};
}

inline void touch(const Value& v) {
  std::string s;
  gofmt::print_value(s, v);
}

}  // namespace templet::fuzz
