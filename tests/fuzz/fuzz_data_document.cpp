// Data documents (preview --data): the same bytes as JSON and as YAML, each result printed.
#include <cstdint>

#include "app/data_document.hpp"
#include "fuzz_common.hpp"

using namespace templet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto text = fuzz::as_text(data, size);
  try {
    fuzz::touch(parse_json_document(text, "data.json"));
  } catch (const DataError&) {
  }
  try {
    fuzz::touch(parse_yaml_document(text, "data.yaml"));
  } catch (const DataError&) {
  }
  return 0;
}
