// Masking secrets in error messages. Go's errors quote the value they failed on: strconv's
// `parsing "hunter2": invalid syntax` (strconv.Quote), regexp's `missing closing ): `(hunter``
// (raw), encoding/json's escapes. A message is masked for each secret in each of those forms, so
// a password with a quote or a non-ASCII letter is hidden as well as a plain one.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "renderer/value.hpp"

namespace templet {

// `text` with every secret of `secrets`, raw, as strconv.Quote writes it and as encoding/json
// escapes it (with and without HTML escapes), replaced by kSecretMask.
std::string mask_error_text(std::string_view text, const std::set<std::string>& secrets);

// Adds the text of every secret-derived string in `v` (walking lists, map values and structs) to
// `out`. Map keys are names a template spells out (`.Data.password`), not secrets.
void collect_strings(const Value& v, std::set<std::string>& out);

}  // namespace templet
