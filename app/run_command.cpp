#include "app/run_command.hpp"

#include <sys/resource.h>

#include <malloc.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "app/live_feed.hpp"
#include "app/process_exit.hpp"
#include "app/runner.hpp"
#include "app/sd_notify.hpp"
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
  if (t.influxdb) hooks.push_back(make_influxdb_hook(*t.influxdb, *t.destination));
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

// Signals are taken synchronously on one thread (sigwait), so the loop sees plain flags and a
// write in progress always finishes.
void start_signal_thread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    while (true) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (sig == SIGHUP) {
        g_reload = true;
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
      auto source = live::LiveDataSource::from_config(
          {config.vault, config.consul, config.retry, config.block_query_wait, config.state_dir});
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
  int status = run_templates(config, *feed, ro);
  // Locks first: a clean stop hands each target to another node at once.
  if (fleet) fleet->stop();
  feed->stop();
  feed.reset();
  // A watcher thread let go inside a request may wake up while static destructors run.
  if (live::LiveDataSource::threads_let_go() || live::Fleet::threads_let_go())
    exit_without_destructors(status);
  return status;
}

}  // namespace templet
