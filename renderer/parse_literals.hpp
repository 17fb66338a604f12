// Go's literal syntax as text/template/parse reads it: integers and floats with base prefixes
// and underscores (strconv.ParseInt/ParseUint/ParseFloat), quoted strings and
// characters (strconv.Unquote/UnquoteChar), and complex numbers (fmt.Sscan). Used by the parser
// and by the helpers' strconv calls; edge cases follow Go 1.23.
#pragma once

#include <complex>
#include <cstdint>
#include <string>
#include <string_view>

namespace templet::golang {

enum class NumStatus { Ok, Syntax, Range };

// Go's underscoreOK: underscores only between digits or after a base prefix (0b, 0o, 0x).
bool underscore_ok(std::string_view s);

// strconv.ParseUint(s, base, 64) and ParseInt(s, base, 64): base 0 reads a prefix (0b, 0o, 0x or
// 0) and allows underscores, as the parser and the helpers' base-0 calls need; else 2 to 36.
NumStatus parse_uint(std::string_view s, int base, uint64_t* out);
NumStatus parse_int(std::string_view s, int base, int64_t* out);
NumStatus parse_float(std::string_view s, double* out);  // strconv.ParseFloat(s, 64)
bool fits_int64(double f);                               // a whole number within int64
bool fits_uint64(double f);                              // a whole number within uint64

// strconv.UnquoteChar: decodes one character or escape at s[*i]. False on a syntax error.
bool unquote_char(std::string_view s, size_t* i, char quote, int32_t* value, bool* multibyte);
// strconv.Unquote for "..." and `...` tokens.
bool unquote(std::string_view in, std::string* out);

// fmt.Sscan of a complex128, as newNumber uses for itemComplex. Returns an error message or "".
std::string scan_complex(std::string_view s, std::complex<double>* out);

}  // namespace templet::golang
