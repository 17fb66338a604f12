// The live side of influxdbBuckets: an InfluxDB client that lists an org's buckets, and the
// watcher step that polls it every `influxdb.poll_interval` (InfluxDB has no blocking queries).
// An answer that differs from the last one wakes the run loop like any Consul or Vault change,
// so a bucket that appears or disappears re-renders the templates ranging over the list; a
// failed poll is retried per the `retry` policy, the last good list kept meanwhile.
//
// The org named by the top-level `influxdb.org` is used by its `org_id` when one is given, so
// a token without read:orgs works; other orgs are resolved by name.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "functions/data_source.hpp"
#include "functions/live/clock.hpp"
#include "functions/live/live_config.hpp"
#include "net/http_client.hpp"
#include "net/influxdb_api.hpp"

namespace templet::live {

struct InfluxPollerSettings {
  std::string url;
  std::string org, org_id;  // org_id is used for `org`
  std::string token, token_error;
  Ms poll_interval{60000};
  // Finalized settings: null when no url is configured.
  static std::optional<InfluxPollerSettings> from(const InfluxServerConfig& c);
};

class InfluxBucketsClient {
 public:
  InfluxBucketsClient(InfluxPollerSettings settings, std::shared_ptr<HttpClient> http);
  // `{"buckets": [...]}`: every page of GET /api/v2/buckets?orgID= for `org`. Throws
  // FetchError (the token masked) when the server cannot be read.
  Response buckets(const std::string& org);
  Ms poll_interval() const { return settings_.poll_interval; }

 private:
  InfluxPollerSettings settings_;
  std::mutex mu_;  // one request at a time: watchers of several orgs share the client
  InfluxApi api_;
};

}  // namespace templet::live
