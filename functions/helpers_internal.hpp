// Shared plumbing for the helper-function modules: registration with taint propagation, and the
// small pieces of Go's fmt/strconv behaviour (float formatting, %q, %v) that results and error
// messages need to match byte for byte.
#pragma once

#include <ctime>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "functions/helpers.hpp"

namespace templet::helpers {

using Args = std::span<const Value>;
using Body = std::function<Value(Args)>;

// Registers `name`; any tainted argument taints a string or container result.
void define(FunctionTable& t, std::string name, std::vector<const Type*> params, Body body,
            bool variadic = false);

// Module registration (one per file).
void register_strings(FunctionTable& t);
void register_encoding(FunctionTable& t);
void register_yaml(FunctionTable& t);
void register_toml(FunctionTable& t);
void register_math(FunctionTable& t);
void register_collections(FunctionTable& t);
void register_sprig(FunctionTable& t);
void register_grouping(FunctionTable& t);  // byKey, byTag, byPort, byMeta
void register_runtime(FunctionTable& t);   // executeTemplate, timestamp
void register_spew(FunctionTable& t);      // spew_dump, spew_sdump, spew_printf, spew_sprintf

// Go's time.Format of a UTC time (runtime_functions.cpp).
std::string go_time_format(std::string_view layout, const std::tm& t, long nanos);

// Go strconv.FormatFloat(f, fmt, -1, 64) for fmt in 'g', 'f', 'e'.
std::string format_float(double f, char fmt);
// encoding/json's float text.
std::string json_float(double f);
// strconv.Quote.
std::string go_quote(std::string_view s);
// fmt's %q of an arbitrary value (strings quoted, ints as rune literals, others %!q(T=v)).
std::string go_q(const Value& v);
// fmt's %v of a value.
std::string go_v(const Value& v);
// fmt's %T of a value.
std::string go_type(const Value& v);

// strconv.ParseInt/ParseUint with base 10 (or 0: prefixes and underscores) and bit size 64.
// On failure, returns false and sets `err` to strconv's message ("strconv.ParseInt: parsing ...").
bool parse_int(std::string_view s, int base, int64_t& out, std::string& err);
bool parse_uint(std::string_view s, int base, uint64_t& out, std::string& err);
bool parse_float(std::string_view s, double& out, std::string& err);

// JSON encoding as encoding/json does it; throws FuncError with Go's message (without prefix).
std::string to_json(const Value& v, bool escape_html, bool pretty);
// json.Unmarshal into interface{}; throws FuncError with Go's message.
Value parse_json(std::string_view s);

// Go regexp (functions/go_regexp, RE2) for Sprig: byte spans of the leftmost-first matches (at most
// n, n < 0 for all, Go's rule for empty matches), and ReplaceAllString (or
// ReplaceAllLiteralString). Both throw FuncError("error parsing regexp: ...") for a bad pattern.
std::vector<std::pair<size_t, size_t>> regex_find_all(const std::string& pattern,
                                                      const std::string& s, int64_t n);
std::string regex_replace(const std::string& pattern, const std::string& src,
                          const std::string& repl, bool literal);

// Standard base64 with padding (encoding.cpp), for sprig's b64enc/b64dec.
std::string base64_std_encode(std::string_view s);
bool base64_std_decode(std::string_view s, std::string& out, size_t& err_at);

// Go strings.TrimSpace.
std::string_view trim_space(std::string_view s);
// Go strings.Split.
std::vector<std::string> split(std::string_view s, std::string_view sep);
// Go strings.Replace(s, old, new, -1).
std::string replace_all(std::string_view s, std::string_view from, std::string_view to);

// Go strings.ToUpper / strings.ToLower (simple Unicode case mapping for Latin, Greek, Cyrillic).
std::string to_upper(std::string_view s);
std::string to_lower(std::string_view s);

// Decodes one UTF-8 rune at s[i]; returns U+FFFD with width 1 for invalid bytes.
char32_t decode_rune(std::string_view s, size_t i, size_t& width);
void append_utf8(std::string& out, char32_t r);

}  // namespace templet::helpers
