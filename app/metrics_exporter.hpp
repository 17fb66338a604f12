// Prometheus metrics of a running daemon, from the StatusBoard: a textfile for node_exporter's
// textfile collector (rewritten atomically whenever the metrics change, checked every second,
// and at least every 10 s, so its mtime says the daemon is alive) and an optional listener
// serving the same text on /metrics and the daemon's health on /health (200 healthy, 503 not).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "app/metrics_config.hpp"
#include "app/status_board.hpp"

namespace templet {

class TinyHttpServer;

class MetricsExporter {
 public:
  // Starts what `config` asks for. Throws std::runtime_error when the listener cannot listen.
  MetricsExporter(const MetricsConfig& config, const StatusBoard& board);
  ~MetricsExporter();  // stops both, after a last textfile write
  MetricsExporter(const MetricsExporter&) = delete;
  MetricsExporter& operator=(const MetricsExporter&) = delete;
  int port() const;  // the listener's port (0: none)

 private:
  void write_textfile();
  void textfile_loop();
  MetricsConfig config_;
  const StatusBoard& board_;
  std::unique_ptr<TinyHttpServer> server_;
  std::atomic<bool> stop_{false};
  std::string last_error_;
  std::thread thread_;
};

}  // namespace templet
