// The top-level `metrics:` section (read by app/config, used by app/metrics_exporter).
#pragma once

#include <optional>
#include <string>

namespace templet {

struct MetricsConfig {
  // node_exporter textfile, e.g. /var/lib/node_exporter/textfile_collector/templet.prom
  std::optional<std::string> textfile;
  std::optional<std::string> listen;  // "127.0.0.1:9410": /metrics and /health
};

}  // namespace templet
