#include "app/runner.hpp"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "app/sd_notify.hpp"
#include "app/status_board.hpp"
#include "functions/live/retry.hpp"
#include "functions/render.hpp"
#include "hooks/command.hpp"
#include "renderer/diff.hpp"
#include "renderer/file_writer.hpp"

namespace templet {

using Clock = std::chrono::steady_clock;

std::set<std::string> StaticFeed::wait_for_change(Clock::time_point deadline) {
  // Nothing ever changes; sleep in short slices so stop requests are seen.
  auto slice = std::min(deadline, Clock::now() + std::chrono::milliseconds(200));
  std::this_thread::sleep_until(slice);
  return {};
}

namespace {

// "SIGTERM".
std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

std::vector<std::string> diff_secrets(const std::set<std::string>& before,
                                      const std::set<std::string>& after) {
  std::set<std::string> all = before;
  all.insert(after.begin(), after.end());
  return std::vector<std::string>(all.begin(), all.end());
}

std::vector<std::string> sorted_secrets(const std::set<std::string>& s) {
  return std::vector<std::string>(s.begin(), s.end());
}

// One configured template and what the loop knows about it.
struct Slot {
  // Into Loop::config_, which outlives the slots (reload() replaces both): a copy per slot
  // would be a second one of every template's configuration.
  const TemplateConfig* cfg = nullptr;
  std::shared_ptr<const FunctionTable> funcs;  // shared by the templates with its denylist
  std::unique_ptr<Template> tmpl;
  std::string parse_error;
  std::set<std::string> deps;  // identities used by the last render
  // The answer versions its file holds (see Holding), and those of a write in the current pass,
  // which count once its command and apply hooks have succeeded too.
  std::optional<AnswerVersions> on_disk;
  std::optional<AnswerVersions> written_now;
  bool command_failed = false;  // its command failed in the current pass
  std::vector<Dependency> missing;
  std::set<std::string> awaiting;  // identities of `missing` whose answers have not come yet
  bool dirty = true;               // must be rendered in the next pass
  bool complete = false;           // last render had all its data
  bool written = false;            // its output is in place (or would be, in a dry run)
  bool failed = false;             // last render/write/hook failed
  std::string last_error;
  std::set<std::string> secrets;  // secrets of the last output, for masking
  // Secrets of what the destination holds (the last write): a diff masks both sides with them,
  // since a rotated-away value on a line that changed otherwise too is not found by position.
  std::set<std::string> written_secrets;
  // Quiescence (wait {min, max}): render no sooner than `due`, no later than `deadline`.
  std::optional<Clock::time_point> due, deadline;
  bool first_pass = true;      // hooks run on the first complete pass after start
  bool apply_pending = false;  // the last apply failed: try again
  bool takeover = false;       // this node just gained a target's lock: apply from the server
  bool reconcile = false;      // reconcile_interval passed: re-plan against the live server
  std::set<std::string> drift_logged;  // drift lines already logged (each is logged once)
  int retries = 0;                     // consecutive failed writes or applies (the retry backoff)
  // apply.influxdb.secrets parsed (key -> template), rendered with the file's data; their last
  // values and those the last good apply sent: a changed value alone runs the hooks again.
  std::map<std::string, std::unique_ptr<Template>> hook_tmpls;
  std::map<std::string, std::string> hook_values, applied_hook_values;
};

class Loop {
 public:
  Loop(Config config, DataFeed& feed, const RunOptions& options)
      : config_(std::move(config)), feed_(feed), opt_(options) {}

  int run() {
    load_templates();
    if (!opt_.dry_run) remove_stale_temp_files_of_templates();
    auto started = Clock::now();
    auto last_warning = started;
    bool announced_ready = false;
    while (true) {
      if (stop_requested()) {
        // Signals are only looked at here, between passes: the last write was finished.
        spdlog::info("stopping on {}", signal_name(opt_.stop_requested->load()));
        // --once stopped before every template was rendered did not do its job: exiting 0
        // would tell a boot script the files are in place. Name what is missing, exit 3.
        if (opt_.once && !all_rendered()) {
          report_missing(true);
          return 3;
        }
        break;
      }
      if (opt_.reload_requested && opt_.reload_requested->exchange(false)) reload();

      take_fleet_events();
      mark_reconcile_due();
      run_pass();

      bool all_done = all_rendered();
      if (all_done && !announced_ready) {
        announced_ready = true;
        sd_notify_send("READY=1\nSTATUS=all templates rendered");
      }
      if (opt_.heartbeat) opt_.heartbeat();
      if (opt_.once && all_done) break;

      auto now = Clock::now();
      if (opt_.once && opt_.timeout.count() > 0 && now - started >= opt_.timeout) {
        report_missing(true);
        return 3;
      }
      if (now - last_warning >= opt_.pending_warning_interval) {
        last_warning = now;
        report_missing(false);
      }

      // Wakes at least each second: a gained lock (take_fleet_events) is applied within one.
      auto deadline = now + std::chrono::seconds(1);
      for (const auto& s : slots_)
        if (s.due && *s.due < deadline) deadline = *s.due;
      if (opt_.once && opt_.timeout.count() > 0)
        deadline = std::min(deadline, started + opt_.timeout);
      for (const auto& id : feed_.wait_for_change(deadline)) mark_changed(id);
    }
    int status = 0;
    for (const auto& s : slots_)
      if (s.failed || !s.parse_error.empty()) status = 1;
    return opt_.once ? status : 0;
  }

 private:
  bool stop_requested() const { return opt_.stop_requested && opt_.stop_requested->load() != 0; }

  // Every template was written, or failed for good: nothing is still waiting for data.
  bool all_rendered() const {
    for (const auto& s : slots_)
      if (!s.written && !s.failed && s.parse_error.empty()) return false;
    return true;
  }

  void load_templates() {
    slots_.clear();
    readers_.clear();
    // A function table is ~20 kB and holds no per-template state: templates with the same
    // denylist share one instead of each building its own.
    std::map<std::vector<std::string>, std::shared_ptr<const FunctionTable>> tables;
    for (const auto& cfg : config_.templates) {
      Slot s;
      s.cfg = &cfg;
      auto& table = tables[cfg.function_denylist];
      if (!table) {
        FunctionOptions fo;
        fo.denylist = cfg.function_denylist;
        table = std::make_shared<const FunctionTable>(consul_template_functions(fo));
      }
      s.funcs = table;
      std::string text;
      if (cfg.contents) {
        text = *cfg.contents;
      } else {
        std::ifstream in(*cfg.source, std::ios::binary);
        if (!in) {
          s.parse_error = *cfg.source + ": cannot read template: " + std::strerror(errno);
        } else {
          std::stringstream ss;
          ss << in.rdbuf();
          text = ss.str();
        }
      }
      if (s.parse_error.empty()) {
        try {
          TemplateOptions to;
          to.name = cfg.display_name();
          to.left_delim = *cfg.left_delimiter;
          to.right_delim = *cfg.right_delimiter;
          to.missing_key = *cfg.error_on_missing_key ? MissingKey::Error : MissingKey::Zero;
          to.funcs = s.funcs.get();
          s.tmpl = std::make_unique<Template>(text, to);
          if (cfg.influxdb && cfg.influxdb->secrets)
            for (const auto& [key, secret_text] : *cfg.influxdb->secrets) {
              to.name = cfg.display_name() + " apply.influxdb.secrets." + key;
              s.hook_tmpls[key] = std::make_unique<Template>(secret_text, to);
            }
        } catch (const ParseError& e) {
          s.parse_error = e.what();
        }
      }
      if (!s.parse_error.empty()) spdlog::error("{}", s.parse_error);
      slots_.push_back(std::move(s));
    }
    if (opt_.status) {
      std::vector<std::pair<std::string, std::string>> names;
      for (const auto& s : slots_) names.emplace_back(s.cfg->display_name(), *s.cfg->destination);
      opt_.status->set_templates(names);
      for (auto& s : slots_)
        if (!s.parse_error.empty())
          opt_.status->failed(*s.cfg->destination, TemplateFailure::Render, s.parse_error);
    }
  }

  // A templet killed during a write (SIGKILL, power loss) left its temporary file next to the
  // destination; nothing else would ever remove it.
  void remove_stale_temp_files_of_templates() {
    for (const auto& s : slots_) {
      try {
        for (const auto& path : remove_stale_temp_files(*s.cfg->destination))
          spdlog::warn("removed {}: a temporary file left by an interrupted write of {}", path,
                       *s.cfg->destination);
      } catch (const WriteError& e) {
        spdlog::warn("cannot look for stale temporary files: {}", e.what());
      }
    }
  }

  void reload() {
    spdlog::info("reloading configuration and templates");
    if (opt_.reload_config) {
      try {
        config_ = opt_.reload_config();
      } catch (const std::exception& e) {
        spdlog::error("reload failed, keeping the running configuration: {}", e.what());
        return;
      }
    }
    load_templates();
  }

  void mark_changed(const std::string& id) {
    auto readers = readers_.find(id);
    if (readers == readers_.end()) return;
    auto now = Clock::now();
    for (Slot* s : readers->second) {
      // An incomplete render waits for everything it found missing: rendering it again at each
      // arrival would cost a render per dependency during the first pass. Any other change
      // counts at once, since it may change which dependencies the template needs.
      if (s->awaiting.erase(id) && !s->awaiting.empty()) continue;
      auto min = *s->cfg->wait.min;
      if (opt_.once || min.count() == 0 || !s->written) {
        s->dirty = true;
        continue;
      }
      // Quiescence: each change pushes the render back to now+min, never past first+max.
      if (!s->deadline) s->deadline = now + *s->cfg->wait.max;
      s->due = std::min(now + min, *s->deadline);
    }
  }

  // Keeps readers_ (identity -> the templates whose last render used it) in step with a slot's
  // newest render, so that a change costs the templates it touches, not a scan of all of them.
  void set_deps(Slot& s, std::set<std::string> deps) {
    for (const auto& id : s.deps) {
      if (deps.count(id)) continue;
      auto& readers = readers_[id];
      readers.erase(std::remove(readers.begin(), readers.end(), &s), readers.end());
      if (readers.empty()) readers_.erase(id);
    }
    for (const auto& id : deps)
      if (!s.deps.count(id)) readers_[id].push_back(&s);
    s.deps = std::move(deps);
  }

  void run_pass() {
    auto now = Clock::now();
    std::vector<Slot*> changed;
    bool rendered = false;
    for (auto& s : slots_) {
      if (!s.parse_error.empty()) continue;
      if (s.due && *s.due <= now) {
        s.due.reset();
        s.deadline.reset();
        s.dirty = true;
      }
      if (!s.dirty) continue;
      s.dirty = false;
      rendered = true;
      if (render_and_write(s)) changed.push_back(&s);
    }
    run_commands(changed);
    if (rendered) {
      report_holdings();
      // A pass allocates and frees the outputs, diffs and render scratch; give the freed pages
      // back now rather than keep them for a next pass that may come hours later.
      malloc_trim(0);
    }
  }

  // Only now, with every file of the pass written and the commands run, may the leases the new
  // data superseded be revoked, and only those no file holds any more: a secret shared by several
  // templates is replaced once all of them hold the new credentials, and a template that failed
  // keeps the lease its last good file was written with.
  void report_holdings() {
    std::vector<Holding> holdings;
    for (auto& s : slots_) {
      if (s.written_now) {
        // A file whose command or apply failed may not be in use yet: the service can still
        // run with what the file held before.
        if (!s.command_failed && !s.apply_pending) s.on_disk = std::move(s.written_now);
        s.written_now.reset();
      }
      s.command_failed = false;
      holdings.push_back(Holding{s.deps, s.on_disk, s.cfg->destination.value_or("")});
      if (opt_.status)
        opt_.status->holds(*s.cfg->destination, s.on_disk.value_or(AnswerVersions{}));
    }
    feed_.holdings(holdings);
  }

  // Renders one template and writes it when complete. True when its file changed (or would).
  bool render_and_write(Slot& s) {
    RenderEnv env;
    env.env = opt_.env;
    if (s.cfg->sandbox_path) env.sandbox_path = *s.cfg->sandbox_path;
    env.dry_run = opt_.dry_run;
    env.offline_files = opt_.offline;
    env.destination = s.cfg->destination.value_or("");
    RenderResult r;
    std::map<std::string, std::string> hook_values;
    try {
      r = render(*s.tmpl, feed_, env);
      // The hook's secrets come from the same data, watched and waited for like the file's.
      std::set<std::string> ids;
      for (const auto& d : r.used) ids.insert(d.id);
      for (const auto& [key, t] : s.hook_tmpls) {
        RenderResult h = render(*t, feed_, env);
        for (const auto& d : h.used)
          if (ids.insert(d.id).second) r.used.push_back(d);
        r.missing.insert(r.missing.end(), h.missing.begin(), h.missing.end());
        r.complete = r.complete && h.complete;
        hook_values[key] = h.output;
      }
    } catch (const ExecError& e) {
      fail(s, mask_secrets(e.what(), sorted_secrets(s.secrets)), TemplateFailure::Render);
      return false;
    }
    std::set<std::string> deps;
    for (const auto& d : r.used) deps.insert(d.id);
    set_deps(s, std::move(deps));
    feed_.watch(r.used);
    s.awaiting.clear();
    for (const auto& d : r.missing) s.awaiting.insert(d.id);
    // Moved, not copied: a copy into the vector the first pass filled keeps its capacity, a
    // Dependency (~0.5 kB) per key the template waited for, long after it stopped waiting.
    s.missing = std::move(r.missing);
    s.complete = r.complete;
    if (!r.complete) return false;
    s.secrets = r.secrets;
    // Every value of the hook's secrets is masked wherever it could show, whatever its source.
    for (const auto& [key, value] : hook_values)
      if (!value.empty()) s.secrets.insert(value);
    s.hook_values = std::move(hook_values);
    const std::string& dest = *s.cfg->destination;
    if (opt_.status && !opt_.dry_run) opt_.status->rendered(dest);
    if (!*s.cfg->allow_no_value && r.output.find("<no value>") != std::string::npos) {
      fail(s,
           s.cfg->display_name() + ": rendered output for " + dest +
               " contains \"<no value>\"; not written (set allow_no_value: true to allow it)",
           TemplateFailure::Render);
      return false;
    }
    WriteRequest req;
    req.path = dest;
    req.contents = r.output;
    req.perms = s.cfg->perms;
    // Files holding secrets are private unless the config says otherwise.
    if (!req.perms && !r.secrets.empty()) req.perms = 0600;
    req.backup = *s.cfg->backup;
    req.create_dest_dirs = *s.cfg->create_dest_dirs;
    req.dry_run = opt_.dry_run;
    if (!s.cfg->check.empty())
      req.check = [&](const std::string& staged) { return run_check(s, staged); };
    WriteResult w;
    try {
      w = write_file(req);
    } catch (const CheckError& e) {
      // As a failed write: the old file stays, and so does the lease it was written with.
      fail(s, s.cfg->display_name() + ": " + e.what(), TemplateFailure::Check);
      retry_later(s);
      return false;
    } catch (const WriteError& e) {
      // The destination keeps its last contents; a full disk or a read-only mount is retried.
      fail(s, s.cfg->display_name() + ": " + e.what(), TemplateFailure::Write);
      retry_later(s);
      return false;
    }
    bool changed = opt_.dry_run ? w.would_write : w.changed;
    std::string diff = unified_diff(w.old_contents, r.output, dest, dest,
                                    diff_secrets(s.written_secrets, r.secrets));
    if (opt_.dry_run) {
      std::ostream& out = opt_.out ? *opt_.out : std::cout;
      for (const auto& line : r.not_done) out << "dry run: " << line << "\n";
      out << "> " << dest << "\n" << diff;
      out.flush();
    } else if (changed) {
      spdlog::info("{}: wrote {}\n{}", s.cfg->display_name(), dest, diff);
      if (opt_.status) opt_.status->written(dest);
    }
    s.written = true;
    if (!opt_.dry_run) s.written_secrets = r.secrets;
    s.failed = false;
    if (!s.apply_pending) succeeded(s);
    bool run_hooks = changed || (s.first_pass && *s.cfg->run_on_start);
    // Apply hooks also run on the first pass, so a freshly started server is brought in line.
    if (changed || s.first_pass || s.apply_pending || s.takeover || s.reconcile ||
        s.hook_values != s.applied_hook_values)
      run_apply_hooks(s, r.output, changed);
    s.first_pass = false;
    s.takeover = false;
    s.reconcile = false;
    // A dry run writes nothing: the files hold what they held.
    if (!opt_.dry_run) s.written_now = feed_.versions(r.used);
    return run_hooks;
  }

  // The template's `check` on the staged file; the reason it refused, or nullopt.
  std::optional<std::string> run_check(const Slot& s, const std::string& staged) {
    auto argv = s.cfg->check;
    argv.push_back(staged);
    // A check must be waited for: command_timeout 0 (do not wait) means the default here.
    auto timeout = *s.cfg->command_timeout;
    if (timeout.count() == 0) timeout = std::chrono::seconds(30);
    auto res = run_command(argv, timeout, {{"TEMPLET_STAGED", staged}});
    std::string what = "check " + describe_command(s.cfg->check) + " refused the new contents of " +
                       *s.cfg->destination + ": ";
    std::string out = mask_secrets(res.output, sorted_secrets(s.secrets));
    while (out.ends_with('\n')) out.pop_back();
    if (!res.started) return what + "could not start: " + res.error;
    if (res.timed_out)
      return what + "timed out after " + format_duration(timeout) + "; output: " + out;
    if (res.exit_code != 0)
      return what + "exited with status " + std::to_string(res.exit_code) + "; output: " + out;
    return std::nullopt;
  }

  void run_apply_hooks(Slot& s, const std::string& output, bool file_changed) {
    if (!s.cfg->redash && !s.cfg->influxdb) return;
    const std::string& dest = *s.cfg->destination;
    auto secrets = sorted_secrets(s.secrets);
    std::ostream& out = opt_.out ? *opt_.out : std::cout;
    if (opt_.offline) {
      if (opt_.dry_run) out << "  (apply hooks of " << dest << " are not run with --values)\n";
      return;
    }
    if (!opt_.make_hooks) return;
    std::string failures;
    auto targets = fleet_targets(*s.cfg);
    auto hooks = opt_.make_hooks(*s.cfg);
    for (size_t i = 0; i < hooks.size(); ++i) {
      auto& hook = hooks[i];
      hook->set_rendered_secrets(secrets);
      if (!s.hook_tmpls.empty()) hook->set_rendered_values(s.hook_values);
      // Who applies this target: asked before planning, so a new leader plans from the server.
      std::optional<live::FleetDecision> decision;
      if (opt_.fleet && opt_.fleet->leader_mode() && !opt_.dry_run && i < targets.size()) {
        decision = opt_.fleet->decide(targets[i]);
        // A follower does not reconcile: the applier does.
        if (!decision->apply && s.reconcile) continue;
        if (decision->apply && (decision->took_from || s.takeover)) {
          hook->set_plan_basis(PlanBasis::Server);
          if (decision->took_from && !decision->took_from->empty())
            spdlog::info("leader: took {} from {}", targets[i].describe(), *decision->took_from);
        }
      }
      if (s.reconcile && !(decision && (decision->took_from || s.takeover)))
        hook->set_plan_basis(PlanBasis::Verify);
      Plan plan = hook->plan(output, dest);
      std::string plan_text = mask_secrets(format_plan(plan), secrets);
      if (opt_.status && !opt_.dry_run) {
        opt_.status->planned(plan.hook + " " + plan.target, summarize(plan, secrets));
        if (decision)
          opt_.status->leader(plan.hook + " " + plan.target, decision->holder, decision->apply);
      }
      if (opt_.dry_run) {
        out << plan_text;
        if (opt_.fleet && opt_.fleet->leader_mode() && i < targets.size())
          out << "  " << fleet_holder_line(targets[i]) << "\n";
        // As `templet apply ... --plan` does: a plan that would refuse an entry fails the run.
        if (!plan.ok())
          fail(s, plan.hook + " plan for " + dest + " would not apply cleanly",
               TemplateFailure::Apply);
        continue;
      }
      if (decision && !decision->apply) {
        spdlog::info("{}", plan_text);
        spdlog::info("follower: {} is applied by node {}", targets[i].describe(),
                     decision->holder.empty() ? "(none yet)" : decision->holder);
        continue;
      }
      if (s.reconcile) {
        log_drift(s, plan);
        if (!has_changes(plan)) continue;
      }
      spdlog::info("{}", plan_text);
      ApplyResult result = hook->apply(plan);
      // What went well is news once; what failed is logged once per distinct failure, so a
      // retry that fails the same way adds nothing to the log.
      ApplyResult done = result, failed = result;
      done.error.clear();
      std::erase_if(done.entries, [](const ApplyEntry& e) { return !applied(e); });
      std::erase_if(failed.entries, [](const ApplyEntry& e) { return applied(e); });
      if (!done.entries.empty())
        spdlog::info("{} apply for {}:\n{}", plan.hook, dest,
                     mask_secrets(format_result(done), secrets));
      if (!result.ok())
        failures += plan.hook + " apply for " + dest + " failed:\n" +
                    mask_secrets(format_result(failed), secrets);
      if (opt_.status)
        report_apply(plan, result, dest, !file_changed && !s.first_pass && !s.apply_pending,
                     secrets);
    }
    if (opt_.dry_run) return;
    s.apply_pending = !failures.empty();
    if (!s.apply_pending) s.applied_hook_values = s.hook_values;
    if (!s.apply_pending) {
      succeeded(s);
      return;
    }
    // The file stays written; the apply is tried again after a backoff and on the next change.
    while (failures.ends_with('\n')) failures.pop_back();
    fail(s, failures, TemplateFailure::Apply);
    retry_later(s);
  }

  // "1 create, 2 unchanged", or why no plan could be made.
  static std::string summarize(const Plan& plan, const std::vector<std::string>& secrets) {
    if (!plan.error.empty()) return "no plan: " + mask_secrets(plan.error, secrets);
    static const char* names[] = {"create", "update", "unchanged", "delete", "refused"};
    int counts[5] = {};
    for (const auto& e : plan.entries) ++counts[static_cast<int>(e.action)];
    std::string out;
    for (int i = 0; i < 5; ++i)
      if (counts[i]) out += (out.empty() ? "" : ", ") + std::to_string(counts[i]) + " " + names[i];
    return out.empty() ? "nothing to do" : out;
  }

  // A target's verdict for status and metrics: failed when anything failed, else refused when an
  // entry was refused. Changes an `unprompted` apply (the file unchanged, not the first pass, not
  // a retry) had to make are drift: someone changed the server behind templet's back.
  void report_apply(const Plan& plan, const ApplyResult& result, const std::string& dest,
                    bool unprompted, const std::vector<std::string>& secrets) {
    ApplyVerdict verdict = ApplyVerdict::Ok;
    bool changed_server = false;
    std::optional<bool> verified;
    if (result.verified > 0) verified = result.verify_failures == 0;
    for (const auto& e : result.entries) {
      if (e.outcome == ApplyOutcome::Failed) verdict = ApplyVerdict::Failed;
      if (e.outcome == ApplyOutcome::Refused && verdict == ApplyVerdict::Ok)
        verdict = ApplyVerdict::Refused;
      if (e.outcome == ApplyOutcome::Created || e.outcome == ApplyOutcome::Updated ||
          e.outcome == ApplyOutcome::Deleted)
        changed_server = true;
    }
    if (!result.error.empty()) verdict = ApplyVerdict::Failed;
    ApplyResult failed = result;
    std::erase_if(failed.entries, [](const ApplyEntry& e) { return applied(e); });
    std::string error;
    if (!result.ok()) {
      // One line per failed entry, without the indentation of the log's format.
      std::istringstream lines(mask_secrets(format_result(failed), secrets));
      for (std::string l; std::getline(lines, l);) {
        l.erase(0, l.find_first_not_of(' '));
        if (!l.empty()) error += (error.empty() ? "" : "\n") + l;
      }
    }
    opt_.status->applied(plan.hook + " " + plan.target, dest, verdict, error,
                         changed_server && unprompted, verified);
  }

  // The fleet targets of a template's hooks, in make_hooks' order (Redash, then InfluxDB).
  static std::vector<live::FleetTarget> fleet_targets(const TemplateConfig& cfg) {
    std::vector<live::FleetTarget> out;
    if (cfg.redash) out.push_back({"redash", cfg.redash->url.value_or(""), ""});
    if (cfg.influxdb)
      out.push_back({"influxdb", cfg.influxdb->url.value_or(""),
                     cfg.influxdb->org ? *cfg.influxdb->org : cfg.influxdb->org_id.value_or("")});
    return out;
  }

  // For `templet plan` in a fleet: who applies the target, read from Consul without locking.
  std::string fleet_holder_line(const live::FleetTarget& t) {
    try {
      std::string holder = opt_.fleet->current_holder(t);
      return "applied by " +
             (holder.empty() ? std::string("no node yet (the lock is free)") : "node " + holder);
    } catch (const std::exception& e) {
      return std::string("applied by: unknown (") + e.what() + ")";
    }
  }

  // Locks this node gained since the last pass: their templates apply at once, from the server.
  void take_fleet_events() {
    if (!opt_.fleet || opt_.dry_run) return;
    for (const auto& target : opt_.fleet->take_gained())
      for (auto& s : slots_)
        for (const auto& t : fleet_targets(*s.cfg))
          if (t.describe() == target && s.written) {
            s.takeover = true;
            s.dirty = true;
          }
  }

  void mark_reconcile_due() {
    auto every = config_.reconcile_interval.value_or(Duration(0));
    if (opt_.once || opt_.dry_run || opt_.offline || every.count() <= 0) return;
    auto now = Clock::now();
    if (!next_reconcile_) next_reconcile_ = now + every;
    if (now < *next_reconcile_) return;
    next_reconcile_ = now + every;
    for (auto& s : slots_)
      if ((s.cfg->redash || s.cfg->influxdb) && s.written && !s.apply_pending) {
        s.reconcile = true;
        s.dirty = true;
      }
  }

  static bool has_changes(const Plan& plan) {
    if (!plan.error.empty()) return true;
    for (const auto& e : plan.entries)
      if (e.action != PlanAction::Unchanged) return true;
    return false;
  }

  // One line per drifted field, each logged once until the drift is gone.
  void log_drift(Slot& s, const Plan& plan) {
    const char* what = plan.hook == "influxdb" ? "task" : "datasource";
    std::set<std::string> now;
    for (const auto& e : plan.entries) {
      std::vector<std::string> lines;
      if (e.action == PlanAction::Create) {
        lines.push_back(std::string("drift: ") + what + " \"" + e.name +
                        "\" is missing on the server");
      } else if (e.action == PlanAction::Update) {
        for (const auto& d : e.details) {
          std::string field = d.substr(0, d.find(':'));
          if (plan.hook == "redash") field = "options." + field;
          lines.push_back(std::string("drift: ") + what + " \"" + e.name + "\" " + field +
                          " changed on the server");
        }
        if (e.details.empty())
          lines.push_back(std::string("drift: ") + what + " \"" + e.name +
                          "\" changed on the server");
      }
      for (auto& l : lines) {
        if (!s.drift_logged.count(l)) spdlog::warn("{}", l);
        now.insert(l);
      }
    }
    s.drift_logged = std::move(now);
  }

  static bool applied(const ApplyEntry& e) {
    return e.outcome != ApplyOutcome::Failed && e.outcome != ApplyOutcome::Refused;
  }

  // The daemon renders a template whose write or apply failed again after the `retry` backoff
  // (doubling up to max_backoff; given up after `attempts` unless 0), so a full disk, a read-only
  // mount or a server error heals without waiting for its data to change. --once reports instead.
  void retry_later(Slot& s) {
    if (opt_.once || opt_.dry_run) return;
    auto policy = live::RetryPolicy::from(config_.retry);
    if (policy.exhausted(s.retries + 1)) return;
    auto delay = policy.base_delay(s.retries++);
    auto at = Clock::now() + delay;
    if (!s.due || at < *s.due) s.due = at;
    spdlog::debug("{}: retrying {} in {}", s.cfg->display_name(), *s.cfg->destination,
                  format_duration(delay));
  }

  void succeeded(Slot& s) {
    if (opt_.status && !opt_.dry_run) opt_.status->succeeded(*s.cfg->destination);
    if (!s.last_error.empty())
      spdlog::info("{}: {}: recovered from the failure above", s.cfg->display_name(),
                   *s.cfg->destination);
    s.last_error.clear();
    s.retries = 0;
  }

  void fail(Slot& s, const std::string& message, TemplateFailure kind) {
    if (opt_.status && !opt_.dry_run) opt_.status->failed(*s.cfg->destination, kind, message);
    s.failed = true;
    if (message != s.last_error) spdlog::error("{}", message);
    s.last_error = message;
  }

  // A command shared by several templates runs once per pass, after all their files are written.
  void run_commands(const std::vector<Slot*>& changed) {
    std::vector<std::vector<std::string>> seen;
    for (Slot* s : changed) {
      const auto& argv = s->cfg->command;
      if (argv.empty()) continue;
      if (std::find(seen.begin(), seen.end(), argv) != seen.end()) continue;
      seen.push_back(argv);
      if (opt_.dry_run) {
        spdlog::info("dry run: would run {}", describe_command(argv));
        continue;
      }
      auto res = run_command(argv, *s->cfg->command_timeout);
      std::string what = describe_command(argv);
      std::string out = mask_secrets(res.output, sorted_secrets(s->secrets));
      if (!res.started) {
        fail(*s, "command " + what + " could not start: " + res.error, TemplateFailure::Command);
      } else if (res.timed_out) {
        fail(*s,
             "command " + what + " timed out after " + format_duration(*s->cfg->command_timeout) +
                 "; output: " + out,
             TemplateFailure::Command);
      } else if (res.exit_code != 0) {
        fail(*s,
             "command " + what + " exited with status " + std::to_string(res.exit_code) +
                 "; output: " + out,
             TemplateFailure::Command);
      } else {
        spdlog::info("command {} succeeded", what);
      }
      if (res.exit_code != 0 || res.timed_out || !res.started) {
        // Retried on the next change; the file stays written.
        for (Slot* other : changed) {
          if (other->cfg->command != argv) continue;
          other->failed = true;
          other->command_failed = true;
        }
      }
    }
  }

  void report_missing(bool final) {
    // The last error says why (Vault refused the login...): already masked, as logged.
    auto failures = final ? feed_.failures() : std::map<std::string, std::string>{};
    for (const auto& s : slots_) {
      if (s.complete || s.missing.empty()) continue;
      for (const auto& d : s.missing) {
        auto why = failures.find(d.id);
        if (final)
          std::cerr << "templet: " << s.cfg->display_name() << ": missing data: " << d.call
                    << (why == failures.end() ? "" : " (last error: " + why->second + ")") << "\n";
        else
          spdlog::warn("{}: still waiting for {}", s.cfg->display_name(), d.call);
      }
    }
  }

  Config config_;
  DataFeed& feed_;
  const RunOptions& opt_;
  std::vector<Slot> slots_;
  std::unordered_map<std::string, std::vector<Slot*>> readers_;
  std::optional<Clock::time_point> next_reconcile_;
};

}  // namespace

int run_templates(Config config, DataFeed& feed, const RunOptions& options) {
  Loop loop(std::move(config), feed, options);
  return loop.run();
}

}  // namespace templet
