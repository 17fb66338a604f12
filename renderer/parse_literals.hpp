// Go's literal syntax as text/template/parse reads it: integers and floats with base prefixes
// and underscores (strconv.ParseInt/ParseUint/ParseFloat with base 0), quoted strings and
// characters (strconv.Unquote/UnquoteChar), and complex numbers (fmt.Sscan). Internal to the
// parser; messages and edge cases follow Go 1.23.
#pragma once

#include <complex>
#include <cstdint>
#include <string>
#include <string_view>

namespace templet::golang {

enum class NumStatus { Ok, Syntax, Range };

// Go's underscoreOK: underscores only between digits or after a base prefix (0b, 0o, 0x).
bool underscore_ok(std::string_view s);

NumStatus parse_uint0(std::string_view s, uint64_t* out);  // strconv.ParseUint(s, 0, 64)
NumStatus parse_int0(std::string_view s, int64_t* out);    // strconv.ParseInt(s, 0, 64)
NumStatus parse_float(std::string_view s, double* out);    // strconv.ParseFloat(s, 64)
bool fits_int64(double f);                                 // a whole number within int64
bool fits_uint64(double f);                                // a whole number within uint64

// strconv.UnquoteChar: decodes one character or escape at s[*i]. False on a syntax error.
bool unquote_char(std::string_view s, size_t* i, char quote, int32_t* value, bool* multibyte);
// strconv.Unquote for "..." and `...` tokens.
bool unquote(std::string_view in, std::string* out);

// fmt.Sscan of a complex128, as newNumber uses for itemComplex. Returns an error message or "".
std::string scan_complex(std::string_view s, std::complex<double>* out);

}  // namespace templet::golang
