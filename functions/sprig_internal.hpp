// What the sprig_* modules share: Sprig's forgiving conversions (strval, strslice, spf13/cast's
// ToInt64/ToFloat64), its notion of empty, reflect's kind names for its error texts, and the
// registration of each family (sprig.cpp, sprig_strings.cpp, sprig_lists.cpp, sprig_math.cpp,
// sprig_text.cpp, sprig_url.cpp, sprig_semver.cpp, sprig_case.cpp,
// sprig_crypto.cpp).
#pragma once

#include <string>
#include <vector>

#include "functions/helpers_internal.hpp"

namespace templet::helpers::sprig {

// Strings as they are, everything else as fmt's %v.
std::string strval(const Value& v);
// A list's non-nil elements as strval; a nil argument is empty, anything else one element.
std::vector<std::string> strslice(const Value& v);
Value string_list(const std::vector<std::string>& items);
// reflect-based emptiness: nil, zero numbers, false, and empty strings/lists/maps.
bool empty(const Value& v);
int64_t to_int64(const Value& v);
double to_float64(const Value& v);
// reflect.Kind's String() of the value ("int", "slice", "map", "ptr", "invalid", ...).
std::string kind_name(const Value& v);
// What a Go runtime panic reads as once text/template recovers it.
constexpr const char* kNilDeref =
    "runtime error: invalid memory address or nil pointer dereference";
// Go's reflect.DeepEqual on template values.
bool deep_equal(const Value& a, const Value& b);

void register_strings(FunctionTable& t);
void register_lists(FunctionTable& t);
void register_math(FunctionTable& t);
void register_text(FunctionTable& t);    // regex, durations
void register_url(FunctionTable& t);     // urlParse, urlJoin
void register_semver(FunctionTable& t);  // semverCompare
void register_case(FunctionTable& t);    // camelcase, snakecase, kebabcase
void register_crypto(FunctionTable& t);  // derivePassword, encryptAES, decryptAES

}  // namespace templet::helpers::sprig
