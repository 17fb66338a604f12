#include "app/preview.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "app/config.hpp"
#include "app/data_document.hpp"
#include "functions/values_file.hpp"
#include "hooks/redash_manage.hpp"
#include "renderer/diff.hpp"
#include "renderer/template.hpp"

namespace templet {

namespace {

bool read_file(const std::string& path, std::string& out) {
  if (read_whole_file(path, out)) return true;
  std::cerr << "templet: " << path << ": " << std::strerror(errno) << "\n";
  return false;
}

}  // namespace

PreviewRender render_preview(const PreviewOptions& options) {
  PreviewRender pr;
  std::string text;
  if (!read_file(options.template_path, text)) {
    pr.status = 2;
    return pr;
  }
  // The data lives until the process exits: freeing a large document value by value costs
  // more than the render, and exit reclaims it at once. (A global, so leak checkers see it as
  // reachable.)
  static Value* kept_data = new Value();
  Value& dot = *kept_data;
  if (!options.data_path.empty()) {
    try {
      dot = load_data_document(options.data_path);
      // A document that is just `null` decodes to a nil interface{}, which Go's Execute takes
      // as no data at all (reflect.ValueOf(nil) is the invalid Value): `.foo` is <no value>.
      if (dot.kind() == Kind::Nil) dot = Value();
    } catch (const DataError& e) {
      std::cerr << "templet: " << e.what() << "\n";
      pr.status = 2;
      return pr;
    }
  }
  // Without a values file there is no live client yet: every dependency stays missing.
  std::optional<ValuesFile> values;
  EmptyDataSource no_data;
  RenderEnv env;
  env.sandbox_path = options.sandbox_path;
  if (!options.values_path.empty()) {
    try {
      values = ValuesFile::load(options.values_path);
    } catch (const ValuesError& e) {
      std::cerr << "templet: " << e.what() << "\n";
      pr.status = 2;
      return pr;
    }
    env = values->render_env(options.sandbox_path);
  }
  env.dry_run = true;  // a preview writes nothing and runs nothing
  const DataSource& source = values ? static_cast<const DataSource&>(*values) : no_data;
  FunctionOptions fo;
  fo.denylist = options.function_denylist;
  FunctionTable funcs = consul_template_functions(fo);
  try {
    TemplateOptions to;
    to.name = options.template_path;
    to.left_delim = options.left_delim;
    to.right_delim = options.right_delim;
    // consul-template runs with missingkey=zero; a preview of plain data (--data without
    // --values) is Go's text/template with its default, so it matches Go byte for byte.
    to.missing_key = options.error_on_missing_key ? MissingKey::Error
                     : (!options.data_path.empty() && options.values_path.empty())
                         ? MissingKey::Default
                         : MissingKey::Zero;
    to.funcs = &funcs;
    Template tmpl(text, to);
    pr.result = render(tmpl, source, env, dot);
  } catch (const ParseError& e) {
    std::cerr << e.what() << "\n";
    pr.status = 1;
    return pr;
  } catch (const ExecError& e) {
    std::cerr << e.what() << "\n";
    pr.status = 1;
    return pr;
  }
  for (const auto& line : pr.result.not_done) std::cerr << "templet: preview: " << line << "\n";
  if (!pr.result.complete) {
    for (const auto& d : pr.result.missing)
      std::cerr << "templet: missing data: " << d.call << "\n";
    pr.status = 3;
  }
  return pr;
}

int run_preview(const PreviewOptions& options) {
  PreviewRender pr = render_preview(options);
  if (pr.status != 0) return pr.status;
  std::string diff;
  if (!options.diff_path.empty()) {
    std::string old;
    if (!read_whole_file(options.diff_path, old) && errno != ENOENT) {
      std::cerr << "templet: " << options.diff_path << ": " << std::strerror(errno) << "\n";
      return 2;
    }
    std::vector<std::string> secrets;
    if (!options.show_secrets) secrets.assign(pr.result.secrets.begin(), pr.result.secrets.end());
    diff = unified_diff(old, pr.result.output, options.diff_path, options.diff_path, secrets);
  }
  const std::string& out = options.diff_path.empty() ? pr.result.output : diff;
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
    std::cerr << "templet: writing output: " << std::strerror(errno) << "\n";
    return 1;
  }
  return 0;
}

int run_validate(const std::vector<std::string>& paths,
                 const std::vector<std::string>& config_paths) {
  int status = 0;
  if (!config_paths.empty()) {
    try {
      Config config = load_config(config_paths);
      for (const auto& t : config.templates) {
        if (!t.redash || t.redash->mode.value_or("api") != "manage_py") continue;
        if (std::string why = docker_exec_env_problem(t.redash->command); !why.empty())
          std::cerr << "templet: warning: " << t.origin << ": apply.redash: " << why << "\n";
      }
      std::cout << "config: ok\n";
    } catch (const std::exception& e) {
      std::cerr << "templet: " << e.what() << "\n";
      status = 2;
    }
  }
  for (const auto& path : paths) {
    std::string text;
    if (!read_file(path, text)) {
      status = 2;
      continue;
    }
    try {
      FunctionTable funcs = consul_template_functions();
      TemplateOptions to;
      to.name = path;
      to.funcs = &funcs;
      Template tmpl(text, to);
      std::cout << path << ": ok\n";
    } catch (const ParseError& e) {
      std::cerr << e.what() << "\n";
      if (status == 0) status = 1;
    }
  }
  return status;
}

}  // namespace templet
