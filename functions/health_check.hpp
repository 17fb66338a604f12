// consul/api's HealthCheck and HealthCheckDefinition (api/health.go of the consul/api that
// consul-template v0.42 pins) as templates reach them through `.Checks`: every field in
// declaration order with its zero value, the json tags (omitempty, "-") and the Definition's
// MarshalJSON, so that printing and toJSON give what consul-template gives.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "renderer/value.hpp"

namespace templet::dtypes {

// api.HealthChecks of a /v1/health/service entry's Checks array (nil when absent).
Value checks_value(const nlohmann::json& checks);

// Go's time.ParseDuration ("1m30s", "1.5h", "300ms"); false on a malformed text.
bool parse_go_duration(std::string_view s, int64_t& nanos);
// Go's time.Duration.String().
std::string format_go_duration(int64_t nanos);

}  // namespace templet::dtypes
