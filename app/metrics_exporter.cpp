#include "app/metrics_exporter.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "net/tiny_http_server.hpp"
#include "renderer/file_writer.hpp"

namespace templet {

namespace {

constexpr auto kSlice = std::chrono::seconds(1);
constexpr auto kRefresh = std::chrono::seconds(10);

}  // namespace

MetricsExporter::MetricsExporter(const MetricsConfig& config, const StatusBoard& board)
    : config_(config), board_(board) {
  if (config_.listen) {
    server_ = std::make_unique<TinyHttpServer>(*config_.listen, [this](const std::string& path) {
      TinyHttpResponse r;
      if (path == "/metrics") {
        r.content_type = "text/plain; version=0.0.4; charset=utf-8";
        r.body = board_.metrics_text(std::chrono::system_clock::now());
      } else if (path == "/health") {
        bool ok = board_.healthy();
        r.status = ok ? 200 : 503;
        r.body = ok ? "healthy\n" : "degraded\n";
      } else {
        r.status = 404;
        r.body = "not found: try /metrics or /health\n";
      }
      return r;
    });
    spdlog::info("metrics: serving /metrics and /health on {} (port {})", *config_.listen,
                 server_->port());
  }
  if (config_.textfile) {
    write_textfile();
    thread_ = std::thread([this] { textfile_loop(); });
  }
}

MetricsExporter::~MetricsExporter() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

int MetricsExporter::port() const {
  return server_ ? server_->port() : 0;
}

void MetricsExporter::write_textfile() {
  std::string text = board_.metrics_text(std::chrono::system_clock::now());
  WriteRequest req;
  req.path = *config_.textfile;
  req.contents = text;
  req.perms = 0644;  // node_exporter runs as its own user
  std::string error;
  try {
    // Unchanged metrics are not rewritten, but the mtime still says the daemon is alive.
    if (!write_file(req).changed && ::utimensat(AT_FDCWD, req.path.c_str(), nullptr, 0) != 0)
      error = "touch " + req.path + ": " + std::strerror(errno);
  } catch (const WriteError& e) {
    error = e.what();
  }
  if (!error.empty() && error != last_error_) spdlog::warn("metrics textfile: {}", error);
  last_error_ = error;
}

void MetricsExporter::textfile_loop() {
  auto last_write = std::chrono::steady_clock::now();
  std::string last = board_.metrics_text(std::chrono::system_clock::now());
  std::uint64_t seen = board_.generation();
  while (!stop_) {
    seen =
        board_.wait_for_change(seen, std::chrono::duration_cast<std::chrono::milliseconds>(kSlice));
    if (stop_) break;
    // Leases renew without the board hearing of it: the text is compared, not just the board.
    std::string now_text = board_.metrics_text(std::chrono::system_clock::now());
    auto now = std::chrono::steady_clock::now();
    if (now_text == last && now - last_write < kRefresh) continue;
    write_textfile();
    last = std::move(now_text);
    last_write = now;
  }
  write_textfile();
}

}  // namespace templet
