// Helpers that depend on the running execution, the clock or the file system: executeTemplate
// (another template of the same set, rendered to a string), timestamp (now, in UTC, in Go's
// layout language) and writeToFile (a side file written at execution time).
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>

#include <algorithm>
#include <charconv>

#include "functions/error_mask.hpp"
#include "functions/helpers_internal.hpp"
#include "functions/render_state.hpp"
#include "sys/process_io.hpp"

namespace templet::helpers {

namespace {

const char* const kMonths[] = {"January",   "February", "March",    "April",
                               "May",       "June",     "July",     "August",
                               "September", "October",  "November", "December"};
const char* const kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                             "Thursday", "Friday", "Saturday"};

std::string pad(int v, int width, char fill = '0') {
  std::string s = std::to_string(v);
  while (static_cast<int>(s.size()) < width) s.insert(s.begin(), fill);
  return s;
}

bool starts(std::string_view s, size_t i, std::string_view token) {
  return s.compare(i, token.size(), token) == 0;
}

[[noreturn]] void write_fail(const std::string& what) {
  throw FuncError("writeToFile: " + what + ": " + std::strerror(errno));
}

unsigned parse_perms(const std::string& perms) {
  unsigned mode = 0;
  auto r = std::from_chars(perms.data(), perms.data() + perms.size(), mode, 8);
  if (perms.empty() || r.ec != std::errc() || r.ptr != perms.data() + perms.size())
    throw FuncError("writeToFile: invalid permissions \"" + perms + "\"");
  return mode;
}

// The render, when it is a preview or a dry run: then functions that act on the machine only
// say what they would do (nothing may change on disk, nothing may run).
RenderState* dry_run_state(CallContext& ctx) {
  if (ctx.user == nullptr) return nullptr;
  RenderState& st = *static_cast<RenderState*>(ctx.user);
  return st.dry_run() ? &st : nullptr;
}

// Records `what` as not done, with secrets (known to the render or among `args`) masked.
void not_done(RenderState& st, const std::string& what, std::span<const Value> args) {
  std::set<std::string> extra;
  for (const Value& a : args) collect_strings(a, extra);
  st.not_done.push_back(st.mask(what, extra));
}

// consul-template's writeToFile: refuses symlinks (final component or parent), creates parent
// directories, opens with O_NOFOLLOW, then chowns (when asked) and chmods the open file.
void write_to_file(const std::string& path, const std::string& user, const std::string& group,
                   const std::string& perms, const std::string& flags, const std::string& content) {
  unsigned mode = parse_perms(perms);
  std::filesystem::path p(path);
  struct stat st;
  if (lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
    throw FuncError("writeToFile: " + path + " is a symlink");
  auto parent = p.parent_path();
  if (!parent.empty()) {
    if (lstat(parent.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
      throw FuncError("writeToFile: parent directory of " + path + " is a symlink");
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) throw FuncError("writeToFile: " + parent.string() + ": " + ec.message());
  }
  bool append = flags.find("append") != std::string::npos;
  int fd = open(path.c_str(),
                O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (append ? O_APPEND : O_TRUNC),
                static_cast<mode_t>(mode));
  if (fd < 0) write_fail(path);
  std::string data = content;
  if (flags.find("newline") != std::string::npos) data += '\n';
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      write_fail(path);
    }
    done += static_cast<size_t>(n);
  }
  auto lookup_id = [](const std::string& name, bool is_user) -> long {
    if (name.empty()) return -1;
    if (std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::stol(name);
    if (is_user) {
      if (struct passwd* pw = getpwnam(name.c_str())) return static_cast<long>(pw->pw_uid);
    } else if (struct group* gr = getgrnam(name.c_str())) {
      return static_cast<long>(gr->gr_gid);
    }
    throw FuncError(std::string("writeToFile: unknown ") + (is_user ? "user " : "group ") + name);
  };
  long uid = -1, gid = -1;
  try {
    uid = lookup_id(user, true);
    gid = lookup_id(group, false);
  } catch (...) {
    close(fd);
    throw;
  }
  if ((uid >= 0 || gid >= 0) && fchown(fd, static_cast<uid_t>(uid), static_cast<gid_t>(gid)) != 0) {
    close(fd);
    write_fail(path);
  }
  if (fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    close(fd);
    write_fail(path);
  }
  if (close(fd) != 0) write_fail(path);
}

}  // namespace

// Go's time.Format for a UTC time, covering the layout elements Go documents (reference time
// Mon Jan 2 15:04:05 MST 2006). Zones print as UTC: "Z", "+00:00", "UTC".
std::string go_time_format(std::string_view layout, const std::tm& t, long nanos) {
  std::string out;
  for (size_t i = 0; i < layout.size();) {
    auto take = [&](std::string_view token, const std::string& text) {
      if (!starts(layout, i, token)) return false;
      out += text;
      i += token.size();
      return true;
    };
    if (take("January", kMonths[t.tm_mon]) || take("Jan", std::string(kMonths[t.tm_mon], 3)) ||
        take("Monday", kDays[t.tm_wday]) || take("Mon", std::string(kDays[t.tm_wday], 3)) ||
        take("MST", "UTC") || take("2006", pad(t.tm_year + 1900, 4)) || take("Z07:00", "Z") ||
        take("Z0700", "Z") || take("Z07", "Z") || take("-07:00", "+00:00") ||
        take("-0700", "+0000") || take("-07", "+00") || take("002", pad(t.tm_yday + 1, 3)) ||
        take("01", pad(t.tm_mon + 1, 2)) || take("02", pad(t.tm_mday, 2)) ||
        take("_2", pad(t.tm_mday, 2, ' ')) || take("06", pad((t.tm_year + 1900) % 100, 2)) ||
        take("15", pad(t.tm_hour, 2)) ||
        take("03", pad(t.tm_hour % 12 == 0 ? 12 : t.tm_hour % 12, 2)) ||
        take("04", pad(t.tm_min, 2)) || take("05", pad(t.tm_sec, 2)) ||
        take("PM", t.tm_hour >= 12 ? "PM" : "AM") || take("pm", t.tm_hour >= 12 ? "pm" : "am"))
      continue;
    if ((layout[i] == '.' || layout[i] == ',') && i + 1 < layout.size() &&
        (layout[i + 1] == '0' || layout[i + 1] == '9')) {
      char digit = layout[i + 1];
      size_t j = i + 1;
      while (j < layout.size() && layout[j] == digit) ++j;
      bool number_follows = j < layout.size() && layout[j] >= '0' && layout[j] <= '9';
      if (!number_follows) {
        std::string frac = pad(static_cast<int>(nanos), 9).substr(0, j - i - 1);
        if (digit == '9') {
          while (!frac.empty() && frac.back() == '0') frac.pop_back();
          if (!frac.empty()) out += layout[i] + frac;
        } else {
          out += layout[i] + frac;
        }
        i = j;
        continue;
      }
    }
    if (take("1", std::to_string(t.tm_mon + 1)) || take("2", std::to_string(t.tm_mday)) ||
        take("3", std::to_string(t.tm_hour % 12 == 0 ? 12 : t.tm_hour % 12)) ||
        take("4", std::to_string(t.tm_min)) || take("5", std::to_string(t.tm_sec)))
      continue;
    out += layout[i++];
  }
  return out;
}

void register_runtime(FunctionTable& table) {
  // plugin: runs an external program (no shell). Arguments are TrimSpace'd and empty ones
  // dropped; the piped value arrives last. Its stdout, TrimSpace'd, is the result.
  // plugin: runs an external program (no shell). Arguments are TrimSpace'd and empty ones
  // dropped; the piped value arrives last. Its stdout, TrimSpace'd, is the result. A preview
  // or dry run does not run it (the program may write anywhere): its output is taken as "".
  Function plugin;
  plugin.name = "plugin";
  plugin.params = {&types::string, &types::string};
  plugin.variadic = true;
  plugin.call = [](CallContext& ctx, std::span<const Value> a) -> Value {
    std::vector<std::string> argv{a[0].as_string()};
    for (size_t i = 1; i < a.size(); ++i) {
      std::string arg(trim_space(a[i].as_string()));
      if (!arg.empty()) argv.push_back(std::move(arg));
    }
    bool tainted = std::any_of(a.begin(), a.end(), [](const Value& v) { return v.tainted(); });
    if (RenderState* st = dry_run_state(ctx)) {
      std::string cmd;
      for (const auto& arg : argv) cmd += (cmd.empty() ? "" : " ") + go_quote(arg);
      not_done(*st, "plugin: would run " + cmd + " (not run; its output is taken as \"\")", a);
      return Value::string("");
    }
    ProcessResult r = run_process(argv, "", std::chrono::seconds(30));
    if (!r.started) throw FuncError("exec " + argv[0] + ": " + r.error);
    if (r.timed_out) throw FuncError(argv[0] + ": did not finish in 30s");
    if (r.exit_code != 0)
      throw FuncError("exec \"" + argv[0] + "\": exit status " + std::to_string(r.exit_code) +
                      "\n\nstdout:\n\n" + r.out + "\n\nstderr:\n\n" + r.err);
    Value out = Value::string(std::string(trim_space(r.out)));
    return tainted ? out.with_taint() : out;
  };
  table.add(std::move(plugin));

  Function write;
  write.name = "writeToFile";
  write.params = {&types::string, &types::string, &types::string, &types::string, &types::string};
  write.variadic = true;
  write.call = [](CallContext& ctx, std::span<const Value> a) -> Value {
    if (a.size() != 5 && a.size() != 6)
      throw FuncError("writeToFile: wrong number of arguments, expected 5 or 6");
    std::string flags = a.size() == 6 ? a[4].as_string() : "";
    const std::string& path = a[0].as_string();
    const std::string& content = a.back().as_string();
    if (RenderState* st = dry_run_state(ctx)) {
      parse_perms(a[3].as_string());
      std::string how = "perms " + a[3].as_string();
      if (!a[1].as_string().empty()) how += ", user " + a[1].as_string();
      if (!a[2].as_string().empty()) how += ", group " + a[2].as_string();
      if (!flags.empty()) how += ", flags " + flags;
      not_done(*st,
               "writeToFile: would write " + path + " (" + how + ", not written): " +
                   go_quote(flags.find("newline") != std::string::npos ? content + "\n" : content),
               a);
      return Value::string("");
    }
    write_to_file(path, a[1].as_string(), a[2].as_string(), a[3].as_string(), flags, content);
    return Value::string("");
  };
  table.add(std::move(write));

  Function exec;
  exec.name = "executeTemplate";
  exec.params = {&types::string, nullptr};
  exec.variadic = true;
  exec.call = [](CallContext& ctx, std::span<const Value> a) -> Value {
    if (a.size() > 2)
      throw FuncError("executeTemplate: wrong number of arguments, expected 1 or 2, got " +
                      std::to_string(a.size()));
    if (!ctx.execute_template) throw FuncError("executeTemplate: no template is executing");
    Value dot = a.size() == 2 && a[1].kind() != Kind::Nil ? a[1] : Value();
    std::string out = ctx.execute_template(a[0].as_string(), dot);
    bool tainted = a.size() == 2 && a[1].tainted();
    return tainted ? Value::tainted_string(std::move(out)) : Value::string(std::move(out));
  };
  table.add(std::move(exec));

  define(
      table, "timestamp", {&types::string},
      [](Args a) {
        if (a.size() > 1) throw FuncError("timestamp: wrong number of arguments, expected 0 or 1");
        auto now = std::chrono::system_clock::now();
        auto secs = std::chrono::system_clock::to_time_t(now);
        long nanos = static_cast<long>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() %
            1000000000);
        std::tm tm{};
        gmtime_r(&secs, &tm);
        if (a.empty()) return Value::string(go_time_format("2006-01-02T15:04:05Z07:00", tm, 0));
        if (a[0].as_string() == "unix") return Value::string(std::to_string(secs));
        return Value::string(go_time_format(a[0].as_string(), tm, nanos));
      },
      true);
}

}  // namespace templet::helpers
