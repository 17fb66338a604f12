// Go's fmt and strconv formatting over templet Values, byte for byte as Go 1.23 prints them.
//
// Templates reach fmt through the builtins print (fmt.Sprint), println (fmt.Sprintln) and printf
// (fmt.Sprintf), and through {{.}} which prints a value with fmt's %v. Everything appends to a
// caller-owned buffer so the executor can write straight into its output.
//
// Known deviations from Go, all about addresses Go prints and we cannot reproduce:
//  - A non-nil pointer (a *T struct, a list, map or func) printed with %p, or a func printed with
//    %v, shows the fixed address 0xc000010000.
//  - Go prints a non-nil *T struct as &{...} only at the top level of an operand; nested inside a
//    container or struct it formats the pointer: %!q(*T=&{...}) for %q, %s and the other verbs a
//    pointer does not take (as Go), the address for %v and %#v, where templet prints &{...}
//    (&T{...} under %#v), which is deterministic, and the fixed address for %d, %x...
//  - Of a struct type's methods only a String() (Type::stringer, fmt.Stringer) is consulted;
//    error and GoStringer methods are not.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "renderer/value.hpp"

namespace templet::gofmt {

// fmt.Sprint: operands' %v, with a space between two operands when neither is a string.
// An invalid Value counts as a nil interface and prints <nil>.
void sprint(std::string& out, std::span<const Value> args);

// fmt.Sprintln: operands' %v separated by spaces, then a newline.
void sprintln(std::string& out, std::span<const Value> args);

// fmt.Sprintf, with all of fmt's verbs, flags, width/precision (including *), argument indexes
// and error markers (%!d(string=x), %!d(MISSING), %!(EXTRA ...), %!(NOVERB), %!v(BADINDEX)...).
void sprintf(std::string& out, std::string_view format, std::span<const Value> args);

// What text/template's {{.}} prints for a valid value: fmt.Fprint of the value after
// text/template's indirection, so a non-nil *T struct prints {...}, not &{...}. A nil pointer
// prints <nil>. (The executor handles an invalid value, <no value>, itself; here it is <nil>.)
void print_value(std::string& out, const Value& v);

// strconv.AppendFloat: verb is one of b e E f g G x X; prec -1 is the shortest representation
// that round-trips; bitsize is 32 or 64.
void format_float(std::string& out, double f, char verb, int prec, int bitsize = 64);

// strconv.AppendQuote: a double-quoted Go string literal (%q of a string).
void quote(std::string& out, std::string_view s);

// encoding/json's float64 encoding: shortest decimal for 1e-6 <= |f| < 1e21 (and 0), otherwise
// shortest exponent form with a one-digit negative exponent unpadded (1e-7, 1e+21).
void json_float(std::string& out, double f);

// strconv.IsPrint.
bool is_print(char32_t r);

}  // namespace templet::gofmt
