// Go's unicode/utf8 and strconv quoting pieces that fmt's printer shares with strconv's own
// functions (gostrconv.cpp); the public strconv entry points are in gofmt.hpp. Internal to the
// renderer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace templet::gofmt {

inline constexpr char32_t kRuneError = 0xFFFD;
inline constexpr char32_t kMaxRune = 0x10FFFF;
inline constexpr std::string_view kNilAngle = "<nil>";
inline constexpr std::string_view kLowerHex = "0123456789abcdefx";
inline constexpr std::string_view kUpperHex = "0123456789ABCDEFX";
// The address templet shows where Go would print a real pointer (see gofmt.hpp).
inline constexpr uint64_t kFakeAddress = 0xc000010000;

// One step of Go's UTF-8 decoding (utf8.DecodeRuneInString): an invalid or truncated sequence
// decodes as U+FFFD of width 1.
struct Decoded {
  char32_t r;
  size_t width;
};
Decoded decode_rune(std::string_view s, size_t i);

bool valid_rune(char32_t r);
// utf8.AppendRune: invalid runes are written as U+FFFD.
void append_rune(std::string& out, char32_t r);
// utf8.RuneCountInString.
size_t rune_count(std::string_view s);
// strconv's quoting of a string or a rune with `quote_char`; ascii_only escapes every non-ASCII
// rune (%+q).
void quote_with(std::string& out, std::string_view s, char quote_char, bool ascii_only);
void quote_rune_with(std::string& out, char32_t r, bool ascii_only);
// strconv.CanBackquote.
bool can_backquote(std::string_view s);

}  // namespace templet::gofmt
