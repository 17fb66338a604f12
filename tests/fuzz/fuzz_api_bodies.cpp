// Vault and Consul response bodies: every converter in functions/data_types.hpp over the same
// bytes, as the live clients would call them on what a server (or something posing as one) sent.
#include <cstdint>

#include "functions/data_source.hpp"
#include "functions/data_types.hpp"
#include "functions/dependency.hpp"
#include "fuzz_common.hpp"

using namespace templet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto text = fuzz::as_text(data, size);
  auto guard = [](auto&& f) {
    try {
      f();
    } catch (const FetchError&) {
    }
  };
  guard([&] { fuzz::touch(dtypes::vault_secret(text)); });
  guard([&] { fuzz::touch(dtypes::vault_list_keys(text)); });
  guard([&] { fuzz::touch(dtypes::json_to_value(text, true)); });
  guard([&] {
    const nlohmann::json body = dtypes::parse_json(text);
    static const Dependency any = parse_health_service("web|any");
    static const Dependency passing = parse_health_service("web");
    static const Dependency near = parse_health_service("web~_agent");
    guard([&] { fuzz::touch(dtypes::key_pairs(body, "app")); });
    guard([&] { (void)dtypes::kv_value(body); });
    guard([&] { fuzz::touch(dtypes::health_services(body, any)); });
    guard([&] { fuzz::touch(dtypes::health_services(body, passing)); });
    guard([&] { fuzz::touch(dtypes::health_services(body, near)); });
    guard([&] { (void)dtypes::aggregated_status(body); });
    guard([&] { fuzz::touch(dtypes::catalog_snippets(body)); });
    guard([&] { fuzz::touch(dtypes::catalog_node_value(body)); });
    guard([&] { fuzz::touch(dtypes::catalog_nodes(body, true)); });
    guard([&] { fuzz::touch(dtypes::catalog_nodes(body, false)); });
  });
  return 0;
}
