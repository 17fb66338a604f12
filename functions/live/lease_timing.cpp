// The lease arithmetic (see lease_timing.hpp).
//
// Vault numbers arrive as JSON integers, but a template-written `ttl` field may be a string or a
// float; numbers are read leniently and a non-number counts as absent.
#include "functions/live/lease_timing.hpp"

#include <cmath>
#include <optional>
#include <string>

#include "functions/data_source.hpp"
#include "sys/number_cast.hpp"

namespace templet::live {

namespace {

std::optional<double> number(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if (it->is_number()) return it->get<double>();
  if (it->is_string()) {
    try {
      size_t used = 0;
      double v = std::stod(it->get<std::string>(), &used);
      if (used == it->get<std::string>().size()) return v;
    } catch (const std::exception&) {
    }
  }
  return std::nullopt;
}

std::string string_field(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

Ms seconds(double s) {
  return Ms(saturate_int64(std::round(s * 1000.0)));
}

}  // namespace

Ms renew_grace(Ms duration, double u) {
  return Ms(static_cast<long long>(static_cast<double>(duration.count()) * (0.1 + 0.1 * u)));
}

Ms renew_sleep(Ms remaining, Ms grace) {
  return remaining * 2 / 3 + grace / 3;
}

bool renewal_exhausted(Ms remaining, Ms grace) {
  return remaining <= grace * 4;
}

long long declared_lease_seconds(const nlohmann::json& secret) {
  long long base = saturate_int64(number(secret, "lease_duration").value_or(0));
  if (secret.is_object() && secret.contains("auth") && secret["auth"].is_object()) {
    long long a = saturate_int64(number(secret["auth"], "lease_duration").value_or(0));
    if (a > 0) base = a;
  }
  return base;
}

bool renewable_lease(const nlohmann::json& secret) {
  if (!secret.is_object()) return false;
  auto r = secret.find("renewable");
  return r != secret.end() && r->is_boolean() && r->get<bool>() &&
         !string_field(secret, "lease_id").empty();
}

Ms nonrenewable_wait(const nlohmann::json& secret, TimePoint now, const LeaseTiming& timing,
                     double u) {
  Ms base = seconds(static_cast<double>(declared_lease_seconds(secret)));
  const bool no_lease = string_field(secret, "lease_id").empty();
  const nlohmann::json empty = nlohmann::json::object();
  const nlohmann::json& data =
      secret.is_object() && secret.contains("data") && secret["data"].is_object() ? secret["data"]
                                                                                  : empty;
  bool rotating = false;
  if (no_lease && data.contains("certificate")) {
    if (auto exp = number(data, "expiration")) {
      double left = *exp - std::chrono::duration<double>(now.time_since_epoch()).count();
      base = seconds(left);
    }
  }
  if (no_lease && data.contains("secret_id")) {
    if (auto ttl = number(data, "secret_id_ttl"); ttl && *ttl > 0) base = seconds(*ttl + 1);
  }
  if (no_lease && (data.contains("rotation_period") || data.contains("rotation_schedule"))) {
    // A database static role (path_creds_create.go): `ttl` is the time to the next rotation,
    // truncated to seconds, so re-read just after it (never before). At 0 Vault has not rotated
    // yet (its queue ticks every 5 s, rotation.go): look again each second.
    double ttl = number(data, "ttl").value_or(0);
    if (ttl <= 0) return Ms(1000);
    base = seconds(ttl + 1 + 0.5 * u);
    rotating = true;
  }
  if (base.count() <= 0) base = timing.default_lease;
  if (rotating) return base;
  double f = timing.threshold + (u * 0.1 - 0.05);
  if (f <= 0 || f >= 1) f = timing.threshold;
  return Ms(static_cast<long long>(static_cast<double>(base.count()) * f));
}

}  // namespace templet::live
