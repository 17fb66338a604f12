// The manage.py backend (see redash_manage.hpp).
#include "hooks/redash_manage.hpp"

#include <algorithm>
#include <map>
#include <sstream>

#include "hooks/command.hpp"
#include "renderer/diff.hpp"
#include "sys/process_io.hpp"

namespace templet {

namespace {

using json = nlohmann::json;

// Options hold passwords, and a process's argv is readable by every local user, so they go
// through the environment: manage.py is a Flask CLI, whose click options also read
// FLASK_<GROUP>_<COMMAND>_<OPTION> (Flask sets auto_envvar_prefix "FLASK").
const char* kNewOptionsVar = "FLASK_DS_NEW_OPTIONS";
const char* kEditOptionsVar = "FLASK_DS_EDIT_OPTIONS";
const char* kEnvHint =
    "manage.py reads the options from FLASK_DS_NEW_OPTIONS and FLASK_DS_EDIT_OPTIONS; pass them "
    "through to it (docker exec -e FLASK_DS_NEW_OPTIONS -e FLASK_DS_EDIT_OPTIONS ...)";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

bool blank(const std::string& line) {
  return line.find_first_not_of(" \t") == std::string::npos;
}

// Python logging as Redash formats it: "[time][PID:n][LEVEL][logger] message".
bool log_line(const std::string& line) {
  return line.starts_with("[") && line.find("][PID:") != std::string::npos;
}

bool says_why(const std::string& line) {
  return line.starts_with("Error:") || line.starts_with("Failure:") ||
         line.starts_with("Couldn't find") || line.starts_with("Aborted!");
}

// What manage.py prints on its way, never the cause: progress lines, and `ds new`'s options.
bool progress(const std::string& line) {
  return line.starts_with("Updating ") || line.starts_with("Creating ") ||
         line.starts_with("Testing connection") || line.starts_with("Deleting data source") ||
         line.starts_with("Id: ") || line == "OJNK" || line == "Success";
}

class ManageBackend : public RedashBackend {
 public:
  explicit ManageBackend(RedashManageSettings s) : s_(std::move(s)) {}

  std::string target() const override {
    return s_.target.empty() ? describe_command(s_.command) : s_.target;
  }

  void set_secrets(std::vector<std::string> secrets) override { secrets_ = std::move(secrets); }

  std::vector<RemoteDatasource> list() override {
    ProcessResult r = run({"ds", "list"}, "ds list", true);
    cache_.clear();
    std::vector<RemoteDatasource> out;
    for (auto& d : parse_ds_list(r.out)) {
      out.push_back({d.id, d.name, d.type});
      cache_[d.id] = std::move(d.options);
    }
    return out;
  }

  std::optional<json> schemas() override { return std::nullopt; }

  std::optional<std::vector<std::string>> type_names() override {
    ProcessResult r = run({"ds", "list_types"}, "ds list_types", false);
    auto names = parse_ds_list_types(r.out);
    if (names.empty()) throw RedashError("manage.py ds list_types printed no query runner types");
    return names;
  }

  json options(const RemoteDatasource& ds) override {
    auto it = cache_.find(ds.id);
    if (it == cache_.end())
      throw RedashError("manage.py ds list gave no options for id " + std::to_string(ds.id));
    return it->second;
  }

  int64_t create(const std::string& name, const std::string& type, const json& options) override {
    // Without the options manage.py prompts for each one and, with no input, aborts.
    ProcessResult r = run({"ds", "new", name, "--type", type}, "ds new \"" + name + "\"", false,
                          {{kNewOptionsVar, options.dump()}});
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("Id: ", 0) == 0) return std::stoll(line.substr(4));
    throw RedashError("manage.py ds new \"" + name + "\" printed no id");
  }

  void update(const RemoteDatasource& ds, const std::string& type, const json& options) override {
    ProcessResult r = run({"ds", "edit", ds.name, "--type", type}, "ds edit \"" + ds.name + "\"",
                          false, {{kEditOptionsVar, options.dump()}});
    // `ds edit` exits 0 when no datasource has the name.
    if (r.out.find("Couldn't find data source named") != std::string::npos)
      throw RedashError("manage.py ds edit \"" + ds.name + "\": no datasource has that name");
    // Without the options `ds edit` changes nothing and still exits 0: look.
    list();
    auto now = cache_.find(ds.id);
    if (now == cache_.end() || now->second != options)
      throw RedashError("manage.py ds edit \"" + ds.name + "\" left the options unchanged; " +
                        kEnvHint);
  }

  void remove(const RemoteDatasource& ds) override {
    run({"ds", "delete", ds.name}, "ds delete \"" + ds.name + "\"", false);
  }

  RedashTestResult test(const RemoteDatasource& ds) override {
    RedashTestResult t;
    ProcessResult r = run_raw({"ds", "test", ds.name});
    t.ok =
        r.started && !r.timed_out && r.exit_code == 0 && r.out.find("Success") != std::string::npos;
    t.message = masked(t.ok ? std::string("Success") : manage_failure_reason(r.out, r.err));
    return t;
  }

 private:
  ProcessResult run_raw(const std::vector<std::string>& args,
                        const std::map<std::string, std::string>& env = {}) {
    std::vector<std::string> argv = s_.command;
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, "", s_.timeout, env);
  }

  // Runs one subcommand; `what` names it in errors (never with options). Failure to start
  // the list means Redash cannot be reached at all.
  ProcessResult run(const std::vector<std::string>& args, const std::string& what, bool is_list,
                    const std::map<std::string, std::string>& env = {}) {
    ProcessResult r = run_raw(args, env);
    std::string problem;
    if (!r.started)
      problem = "cannot start " + (s_.command.empty() ? std::string("manage.py") : s_.command[0]) +
                ": " + r.error;
    else if (r.timed_out)
      problem = "timed out";
    else if (r.exit_code != 0)
      problem = "exit " + std::to_string(r.exit_code) + ": " +
                manage_failure_reason(is_list ? "" : r.out, r.err);
    if (problem.empty()) return r;
    // `ds list` output holds every secret in Redash; never quote it.
    if (is_list) throw RedashUnavailable("manage.py ds list failed (" + masked(problem) + ")");
    std::string hint =
        r.out.find("Aborted!") != std::string::npos || r.err.find("Aborted!") != std::string::npos
            ? std::string("; ") + kEnvHint
            : "";
    throw RedashError("manage.py " + what + " failed (" + masked(problem) + ")" + hint);
  }

  std::string masked(const std::string& s) const { return mask_secrets(s, secrets_); }

  RedashManageSettings s_;
  std::vector<std::string> secrets_;
  std::map<int64_t, json> cache_;
};

}  // namespace

std::unique_ptr<RedashBackend> make_redash_manage_backend(RedashManageSettings settings) {
  return std::make_unique<ManageBackend>(std::move(settings));
}

std::string manage_failure_reason(const std::string& out, const std::string& err) {
  const std::vector<std::string> e = lines_of(err), o = lines_of(out);
  // A traceback's cause is its exception line: the first unindented line after the frames (a
  // jsonschema message continues over lines that say less).
  for (size_t i = e.size(); i-- > 0;) {
    if (e[i] != "Traceback (most recent call last):") continue;
    for (size_t k = i + 1; k < e.size(); ++k)
      if (!blank(e[k]) && e[k][0] != ' ' && e[k][0] != '\t') return e[k];
    break;
  }
  std::string fallback;
  for (const auto* lines : {&o, &e}) {
    std::string why;
    bool after_creating = false;
    for (const std::string& line : *lines) {
      // The line after "Creating ... with options:" is the options, secrets and all.
      const bool options_line = after_creating;
      after_creating = line.starts_with("Creating ");
      if (options_line || blank(line) || log_line(line) || progress(line)) continue;
      if (says_why(line)) why = line;
      fallback = line;
    }
    if (!why.empty()) return why;
  }
  return fallback.empty() ? "no message" : fallback;
}

std::vector<std::string> parse_ds_list_types(const std::string& output) {
  std::vector<std::string> out;
  bool in_list = false;
  for (const std::string& line : lines_of(output)) {
    if (line == "Enabled Query Runners:") {
      in_list = true;
    } else if (line.starts_with("Total of ")) {
      in_list = false;
    } else if (in_list && !blank(line)) {
      out.push_back(line);
    }
  }
  return out;
}

std::vector<std::string> docker_exec_manage_py(const std::string& container) {
  return {"docker", "exec",          "-i",      "-e",      kNewOptionsVar,
          "-e",     kEditOptionsVar, container, "python3", "manage.py"};
}

std::string docker_exec_env_problem(const std::vector<std::string>& command) {
  std::vector<std::string> base;
  for (const auto& a : command) base.push_back(a.substr(a.rfind('/') + 1));
  auto docker = std::find_if(base.begin(), base.end(),
                             [](const std::string& a) { return a == "docker" || a == "podman"; });
  if (docker == base.end() || docker + 1 == base.end() || *(docker + 1) != "exec") return "";
  std::vector<std::string> missing;
  for (const char* var : {kNewOptionsVar, kEditOptionsVar}) {
    bool passed = false;
    for (size_t i = 0; i < command.size(); ++i) {
      const std::string& a = command[i];
      const bool flag = a == "-e" || a == "--env";
      if ((flag && i + 1 < command.size() && command[i + 1] == var) ||
          a == "-e" + std::string(var) || a == "--env=" + std::string(var))
        passed = true;
    }
    if (!passed) missing.push_back(std::string("-e ") + var);
  }
  if (missing.empty()) return "";
  std::string m;
  for (const auto& x : missing) m += (m.empty() ? "" : " ") + x;
  return "the manage.py command runs docker exec without " + m +
         ": docker exec does not pass the environment on, so manage.py never sees the options "
         "(use manage_py: {container: NAME}, or add the flags)";
}

std::vector<ManagedDatasource> parse_ds_list(const std::string& output) {
  std::vector<ManagedDatasource> out;
  std::istringstream in(output);
  std::string line;
  ManagedDatasource cur;
  bool open = false;
  auto flush = [&] {
    if (open) out.push_back(std::move(cur));
    cur = ManagedDatasource();
    open = false;
  };
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("Id: ", 0) == 0) {
      flush();
      open = true;
      try {
        cur.id = std::stoll(line.substr(4));
      } catch (const std::exception&) {
        open = false;
      }
    } else if (line.rfind("Name: ", 0) == 0) {
      cur.name = line.substr(6);
    } else if (line.rfind("Type: ", 0) == 0) {
      cur.type = line.substr(6);
    } else if (line.rfind("Options: ", 0) == 0) {
      cur.options = json::parse(line.substr(9), nullptr, false);
      if (cur.options.is_discarded() || !cur.options.is_object()) cur.options = json::object();
    }
  }
  flush();
  return out;
}

}  // namespace templet
