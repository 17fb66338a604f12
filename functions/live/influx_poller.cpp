// influxdbBuckets' poller (see influx_poller.hpp).
#include "functions/live/influx_poller.hpp"

#include <nlohmann/json.hpp>

#include "functions/live/watcher.hpp"
#include "net/address.hpp"

namespace templet::live {

namespace {
constexpr int kBucketPage = 100;  // the server's maximum (paging.go MaxPageSize)
}

std::optional<InfluxPollerSettings> InfluxPollerSettings::from(const InfluxServerConfig& c) {
  if (!c.url || c.url->empty()) return std::nullopt;
  InfluxPollerSettings s;
  s.url = normalize_address(*c.url);
  s.org = c.org.value_or("");
  s.org_id = c.org_id.value_or("");
  s.token = read_influx_token(c.token_file, c.token_env, s.token_error);
  if (c.poll_interval) s.poll_interval = *c.poll_interval;
  return s;
}

InfluxBucketsClient::InfluxBucketsClient(InfluxPollerSettings settings,
                                         std::shared_ptr<HttpClient> http)
    : settings_(std::move(settings)),
      // No waiting inside a poll: the watcher's retry policy paces a server that is down.
      api_({settings_.url, settings_.token, Ms(0), Ms(0)}, std::move(http)) {}

Response InfluxBucketsClient::buckets(const std::string& org) {
  if (settings_.token.empty())
    throw FetchError(settings_.token_error.empty() ? "no InfluxDB token" : settings_.token_error);
  std::lock_guard<std::mutex> lock(mu_);
  try {
    std::string org_id = api_.resolve_org(org, org == settings_.org ? settings_.org_id : "");
    nlohmann::json all = nlohmann::json::array();
    for (auto& b :
         api_.list_all("/api/v2/buckets?orgID=" + url_escape(org_id), "buckets", kBucketPage))
      all.push_back(std::move(b));
    return Response{200, nlohmann::json{{"buckets", all}}.dump()};
  } catch (const InfluxApiError& e) {
    throw FetchError(e.what());
  } catch (const HttpTransportError& e) {
    throw FetchError(api_.mask(e.what()));
  }
}

// A Watcher step, defined beside the client it drives (declared in watcher.hpp).
TimePoint Watcher::influx_step(TimePoint now) {
  if (!ctx_.influx) {
    sink_.fail(dep_.id, dep_.id + ": InfluxDB is not configured (set influxdb.url)", true);
    return now + std::chrono::hours(24);
  }
  Response r;
  try {
    r = ctx_.influx->buckets(dep_.target);
  } catch (const FetchError& e) {
    return failed(e, ctx_.consul_retry);
  }
  failures_ = 0;
  sink_.put(dep_.id, r);
  return ctx_.clock->now() + ctx_.influx->poll_interval();
}

}  // namespace templet::live
