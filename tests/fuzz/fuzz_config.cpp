// The configuration file: parse_config, then finalize_config with an empty environment
// (defaults and validation).
#include <cstdint>
#include <map>
#include <string>

#include "app/config.hpp"
#include "fuzz_common.hpp"

using namespace templet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string yaml(fuzz::as_text(data, size));
  try {
    Config c = parse_config(yaml, "fuzz.yaml");
    const std::map<std::string, std::string> env;
    finalize_config(c, &env);
  } catch (const ConfigError&) {
  }
  return 0;
}
