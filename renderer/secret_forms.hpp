// The encoded forms a secret takes when something prints it inside a larger text: as a JSON or
// Go-quoted string, as a Python repr, in a URL, in a single-quoted YAML scalar. A mask that looks
// only for the raw bytes misses `"password": "a\"b"` in a log line, so mask_secrets (diff.hpp)
// looks for every form listed here.
#pragma once

#include <string>
#include <vector>

namespace templet {

// `secret` itself first, then each distinct encoded form that differs from it. Forms are the
// string's inner text, without the surrounding quotes:
//   JSON (control characters as \uXXXX, or \n \t ...; UTF-8 kept, and also as \uXXXX escapes
//   the way Python's json.dumps(ensure_ascii=True) writes them), Go strconv.Quote (\xNN),
//   Python repr (\\ \' \n, UTF-8 kept), percent-encoding (upper and lower hex digits, and
//   form-encoding's + for a space), YAML single-quoted ('' for ').
std::vector<std::string> secret_forms(const std::string& secret);

}  // namespace templet
