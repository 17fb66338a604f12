// The values file: ValuesFile::parse, then one query of each kind against what it parsed.
#include <cstdint>
#include <string>

#include "functions/dependency.hpp"
#include "functions/values_file.hpp"
#include "fuzz_common.hpp"

using namespace templet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    ValuesFile v = ValuesFile::parse(fuzz::as_text(data, size), "fuzz-values.yaml");
    static const Dependency deps[] = {
        parse_kv_get("a/b"),
        parse_kv_block("a"),
        parse_kv_list("a"),
        parse_health_service("web"),
        parse_health_service("web|any"),
        parse_catalog_services(""),
        parse_catalog_node("n1"),
        parse_catalog_nodes(""),
        parse_vault_read("secret/x"),
        parse_vault_list("secret/"),
        parse_vault_write("secret/w", {"a=1"}),
    };
    for (const auto& d : deps) {
      try {
        (void)v.fetch(d);
      } catch (const FetchError&) {
      }
    }
    (void)v.env("HOME");
  } catch (const ValuesError&) {
  }
  return 0;
}
