// `templet preview`: render one template to stdout, writing nothing and running nothing.
#pragma once

#include <string>
#include <vector>

#include "functions/render.hpp"

namespace templet {

struct PreviewOptions {
  std::string template_path;
  std::string data_path;    // bound to dot when set
  std::string values_path;  // all outside data (env, Consul, Vault) when set
  std::string left_delim = "{{";
  std::string right_delim = "}}";
  bool error_on_missing_key = false;
  std::vector<std::string> function_denylist;  // globs
  std::string sandbox_path;                    // limits `file`
  std::string diff_path;      // --diff DEST: print a unified diff against DEST instead
  bool show_secrets = false;  // print secrets unmasked (--diff masks them)
};

// One preview render. `status` is the exit status: 0 rendered, 1 template error, 2 usage error
// (unreadable template, bad values or data file), 3 data missing. Errors are already printed on
// stderr (for 3, one `templet: missing data: CALL` line per missing dependency); the output is
// not printed.
struct PreviewRender {
  int status = 0;
  RenderResult result;  // output, and the secrets it holds (for masking)
};
PreviewRender render_preview(const PreviewOptions& options);

// Renders and prints the output on stdout; returns the exit status. Nothing reaches stdout when
// anything fails.
int run_preview(const PreviewOptions& options);

// `templet validate`: parse each template, report errors; 0 when all parse.
// Parses each template; with config files, also loads them and warns about settings that cannot
// work (a docker exec manage.py command that does not pass the options' variables).
int run_validate(const std::vector<std::string>& paths,
                 const std::vector<std::string>& config_paths = {});

}  // namespace templet
