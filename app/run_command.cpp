#include "app/run_command.hpp"

#include <sys/resource.h>

#include <malloc.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <functional>
#include <iostream>
#include <mutex>
#include <thread>

#include "app/live_feed.hpp"
#include "app/metrics_exporter.hpp"
#include "app/process_exit.hpp"
#include "app/refresh_request.hpp"
#include "app/runner.hpp"
#include "app/sd_notify.hpp"
#include "app/status_board.hpp"
#include "app/status_socket.hpp"
#include "functions/values_file.hpp"
#include "hooks/influxdb.hpp"
#include "hooks/redash.hpp"
#include "sys/private_files.hpp"

namespace templet {

void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("templet");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
}

std::vector<std::unique_ptr<ApplyHook>> make_apply_hooks(const TemplateConfig& t,
                                                         const Config& config) {
  std::vector<std::unique_ptr<ApplyHook>> hooks;
  if (t.redash) hooks.push_back(make_redash_hook(*t.redash, *config.state_dir));
  if (t.influxdb)
    hooks.push_back(make_influxdb_hook(*t.influxdb, *t.destination, *config.state_dir));
  return hooks;
}

Config load_run_config(const std::vector<std::string>& config_paths,
                       const std::vector<std::string>& template_flags) {
  Config config = load_config(config_paths);
  for (const auto& flag : template_flags) {
    // SRC:DST[:COMMAND]; the command may itself contain colons.
    auto first = flag.find(':');
    if (first == std::string::npos)
      throw ConfigError("--template " + flag + ": expected SOURCE:DESTINATION[:COMMAND]");
    auto second = flag.find(':', first + 1);
    TemplateConfig t;
    t.origin = "--template " + flag;
    t.source = flag.substr(0, first);
    t.destination = flag.substr(
        first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
    if (second != std::string::npos) t.command = {"/bin/sh", "-c", flag.substr(second + 1)};
    config.templates.push_back(std::move(t));
  }
  finalize_config(config);
  if (config.templates.empty())
    throw ConfigError("no templates: give -c FILE with a templates list, or --template SRC:DST");
  return config;
}

namespace {

// Each watched dependency holds a connection (and the plain-http client an epoll, an eventfd
// and a timerfd), so a config with a few hundred keys needs more than the 1024 descriptors
// systemd and shells give by default. The hard limit is there for the taking; templet uses
// poll and epoll, never select, so high descriptor numbers are safe. Go programs such as
// consul-template do the same at start.
void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

std::atomic<int> g_stop{0};  // the signal that asked to stop
std::atomic<bool> g_reload{false};
// SIGUSR1 (`templet refresh`): set once the feed exists; called on the signal thread.
std::mutex g_refresh_mu;
std::function<void()> g_refresh;

// Signals are taken synchronously on one thread (sigwait), so the loop sees plain flags and a
// write in progress always finishes.
void start_signal_thread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    while (true) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (sig == SIGHUP) {
        g_reload = true;
      } else if (sig == SIGUSR1) {
        std::lock_guard<std::mutex> lock(g_refresh_mu);
        if (g_refresh) g_refresh();
      } else {
        g_stop = sig;
        sd_notify_send("STOPPING=1");
      }
    }
  }).detach();
}

}  // namespace

int run_run_command(const RunCommandOptions& o) {
  // One malloc arena for the whole process. glibc gives each thread its own arena (up to 8 per
  // core); the daemon's threads mostly sleep in blocking queries, so per-thread arenas buy no
  // speed and each keeps its own free pages resident.
  mallopt(M_ARENA_MAX, 1);
  raise_open_file_limit();
  // Block the signals before any thread starts, so every thread inherits the mask.
  start_signal_thread();
  Config config;
  try {
    config = load_run_config(o.config_paths, o.template_flags);
  } catch (const ConfigError& e) {
    std::cerr << "templet: " << e.what() << "\n";
    return 2;
  }
  setup_logging(o.log_level.empty() ? *config.log_level : o.log_level);

  RunOptions ro;
  ro.once = o.once;
  ro.dry_run = o.dry_run;
  if (!o.timeout.empty()) {
    try {
      ro.timeout = parse_duration(o.timeout);
    } catch (const DurationError& e) {
      std::cerr << "templet: --timeout: " << e.what() << "\n";
      return 2;
    }
  }
  ro.stop_requested = &g_stop;
  ro.reload_requested = &g_reload;
  ro.reload_config = [o] { return load_run_config(o.config_paths, o.template_flags); };
  ro.make_hooks = [&config](const TemplateConfig& t) { return make_apply_hooks(t, config); };

  std::unique_ptr<DataFeed> feed;
  // The daemon's health (status socket, metrics, systemd STATUS=); its live part is read from
  // the live data source, which outlives every reader below.
  StatusBoard board;
  ro.status = &board;
  std::unique_ptr<live::Fleet> fleet;
  if (!o.values_path.empty()) {
    try {
      auto values = std::make_shared<ValuesFile>(ValuesFile::load(o.values_path));
      ro.env = [values](std::string_view name) { return values->env(name); };
      feed = std::make_unique<StaticFeed>(values);
      ro.offline = true;
    } catch (const std::exception& e) {
      std::cerr << "templet: " << e.what() << "\n";
      return 2;
    }
  } else {
    if (std::string w = open_state_dir_warning(*config.state_dir); !w.empty())
      spdlog::warn("{}", w);
    try {
      auto source = live::LiveDataSource::from_config({config.vault, config.consul, config.retry,
                                                       config.block_query_wait, config.state_dir,
                                                       config.influxdb});
      board.set_live([src = source.get()] {
        return LiveView{src->dependency_states(), src->lease_states()};
      });
      // The fleet's locks share the watchers' Consul client and connections.
      // In a dry run (`templet plan`) the fleet only says who applies each target.
      if (config.fleet.mode == "leader") {
        fleet = std::make_unique<live::Fleet>(
            live::FleetSettings::from(config.fleet, config.block_query_wait),
            source->consul_client());
        ro.fleet = fleet.get();
      }
      feed = std::make_unique<LiveFeed>(std::move(source));
    } catch (const std::exception& e) {
      std::cerr << "templet: " << e.what() << "\n";
      return 2;
    }
  }
  SdHeartbeat heartbeat;
  ro.heartbeat = [&] { heartbeat.tick(board.summary()); };
  std::unique_ptr<StatusSocket> status_socket;
  std::unique_ptr<MetricsExporter> metrics;
  if (!o.once && !o.dry_run) {
    // Without its socket the daemon still does its job (`templet status` then says it is not
    // running): a state_dir it cannot create, as for a user running a values file, is no reason
    // to refuse to start. A metrics listener that cannot listen is a configuration error.
    try {
      ensure_private_dir(*config.state_dir, false);
      status_socket = std::make_unique<StatusSocket>(
          status_socket_path(*config.state_dir),
          [&board] { return board.status_json(std::chrono::system_clock::now()).dump() + "\n"; });
    } catch (const std::exception& e) {
      spdlog::warn("templet status will not reach this daemon: {}", e.what());
    }
    try {
      metrics = std::make_unique<MetricsExporter>(config.metrics, board);
    } catch (const std::exception& e) {
      std::cerr << "templet: metrics: " << e.what() << "\n";
      return 2;
    }
  }
  const bool daemon = !o.once && !o.dry_run && o.values_path.empty();
  if (daemon) {
    try {
      write_pid_file(*config.state_dir);
    } catch (const std::exception& e) {
      spdlog::warn("templet refresh will not find this daemon: {}", e.what());
    }
    std::lock_guard<std::mutex> lock(g_refresh_mu);
    DataFeed* f = feed.get();
    std::string state_dir = *config.state_dir;
    g_refresh = [f, state_dir] { f->refresh(take_refresh_request(state_dir)); };
  }
  // The loop takes the templates: at thousands of them, a copy kept here would be held for
  // nothing (make_hooks reads only the rest).
  std::vector<TemplateConfig> templates;
  std::swap(templates, config.templates);
  Config for_loop = config;
  for_loop.templates = std::move(templates);
  int status = run_templates(std::move(for_loop), *feed, ro);
  // Locks first: a clean stop hands each target to another node at once.
  if (fleet) fleet->stop();
  {
    std::lock_guard<std::mutex> lock(g_refresh_mu);
    g_refresh = nullptr;
  }
  if (daemon) remove_pid_file(*config.state_dir);
  metrics.reset();
  status_socket.reset();
  board.set_live(nullptr);
  feed->stop();
  feed.reset();
  // A watcher thread let go inside a request may wake up while static destructors run.
  if (live::LiveDataSource::threads_let_go() || live::Fleet::threads_let_go())
    exit_without_destructors(status);
  return status;
}

}  // namespace templet
