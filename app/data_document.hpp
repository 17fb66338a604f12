// Loading a JSON or YAML document as template data, with the Go decoding rules the reference
// uses: objects become map[string]interface {}, arrays []interface {}, integers int64 when they
// fit and other numbers float64, null an interface holding nil.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "renderer/value.hpp"

namespace templet {

struct DataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Errors name the file, line and column: "FILE:LINE:COL: message".
Value parse_json_document(std::string_view text, const std::string& file);
Value parse_yaml_document(std::string_view text, const std::string& file);
// Reads a whole file into `out` with one allocation when its size is known; false on error
// (errno says why).
bool read_whole_file(const std::string& path, std::string& out);
// JSON when the file ends in .json or its first non-blank character is { or [; YAML otherwise.
Value load_data_document(const std::string& path);

}  // namespace templet
