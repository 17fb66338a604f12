// `templet preview`: render one template to stdout, writing nothing and running nothing.
#pragma once

#include <string>
#include <vector>

namespace templet {

struct PreviewOptions {
  std::string template_path;
  std::string data_path;  // bound to dot when set
  std::string left_delim = "{{";
  std::string right_delim = "}}";
  bool error_on_missing_key = false;
};

// Returns the process exit status (0 ok, 1 render error, 2 usage error); output on stdout,
// errors on stderr, and nothing on stdout when anything fails.
int run_preview(const PreviewOptions& options);

// `templet validate`: parse each template, report errors; 0 when all parse.
int run_validate(const std::vector<std::string>& paths);

}  // namespace templet
