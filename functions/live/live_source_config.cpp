// LiveDataSource::from_config (see live_data_source.hpp): the clients, transports and watch
// settings a config file's vault, consul, retry and influxdb sections ask for.
#include <spdlog/spdlog.h>

#include "functions/live/live_data_source.hpp"

namespace templet::live {

namespace {

// Verification is on unless the config turns it off; then anyone between templet and the
// server can read the tokens and secrets, so it is said once, at start-up, naming the server.
void warn_tls_off(const char* service, const std::string& address) {
  spdlog::warn("{}: TLS certificate verification is off for {} (ssl.verify: false)", service,
               address);
}

}  // namespace

std::unique_ptr<LiveDataSource> LiveDataSource::from_config(const LiveSourceConfig& c) {
  WatchContext ctx;
  if (c.vault.address && !c.vault.address->empty()) {
    TlsOptions tls;
    if (c.vault.ssl.ca_cert) tls.ca_cert = *c.vault.ssl.ca_cert;
    tls.verify = c.vault.ssl.verify.value_or(true);
    auto settings = VaultSettings::from(c.vault);
    if (settings.auth.method == "cert") {
      tls.client_cert = settings.auth.client_cert;
      tls.client_key = settings.auth.client_key;
    }
    if (!tls.verify) warn_tls_off("vault", settings.address);
    auto pool = std::make_shared<HttpPool>([tls] { return make_http_client(tls); });
    ctx.vault = std::make_shared<VaultClient>(settings, pool, *ctx.clock);
  }
  {
    TlsOptions tls;
    if (c.consul.ssl.ca_cert) tls.ca_cert = *c.consul.ssl.ca_cert;
    tls.verify = c.consul.ssl.verify.value_or(true);
    auto settings = ConsulSettings::from(c.consul, c.block_query_wait);
    if (!tls.verify) warn_tls_off("consul", settings.address);
    // Blocking queries over plain http wait on one event loop instead of a thread each.
    auto pool = std::make_shared<HttpPool>([tls] { return make_http_client(tls); },
                                           std::make_shared<AsyncHttpClient>());
    ctx.consul = std::make_shared<ConsulClient>(settings, pool);
  }
  if (auto influx = InfluxPollerSettings::from(c.influxdb))
    ctx.influx = std::make_shared<InfluxBucketsClient>(*influx, make_http_client());
  ctx.let_go_of_reads = true;  // everything a watcher touches is owned by ctx (or static)
  if (c.state_dir && !c.state_dir->empty()) ctx.leases = std::make_shared<LeaseStore>(*c.state_dir);
  ctx.vault_retry = RetryPolicy::from(c.retry);
  ctx.consul_retry = RetryPolicy::from(c.retry);
  if (c.vault.default_lease_duration) ctx.timing.default_lease = *c.vault.default_lease_duration;
  if (c.vault.lease_renewal_threshold) ctx.timing.threshold = *c.vault.lease_renewal_threshold;
  ctx.revoke_superseded = c.vault.revoke_superseded.value_or(false);
  if (c.vault.max_connections) ctx.vault_connections = *c.vault.max_connections;
  if (c.consul.max_connections) ctx.consul_connections = *c.consul.max_connections;
  return std::make_unique<LiveDataSource>(std::move(ctx));
}

}  // namespace templet::live
