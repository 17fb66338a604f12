#include "app/preview.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/data_document.hpp"
#include "renderer/template.hpp"

namespace templet {

namespace {

bool read_file(const std::string& path, std::string& out) {
  if (read_whole_file(path, out)) return true;
  std::cerr << "templet: " << path << ": " << std::strerror(errno) << "\n";
  return false;
}

}  // namespace

int run_preview(const PreviewOptions& options) {
  std::string text;
  if (!read_file(options.template_path, text)) return 2;
  // The data lives until the process exits: freeing a large document value by value costs
  // more than the render, and exit reclaims it at once. (A global, so leak checkers see it as
  // reachable.)
  static Value* kept_data = new Value();
  Value& dot = *kept_data;
  if (!options.data_path.empty()) {
    try {
      dot = load_data_document(options.data_path);
    } catch (const DataError& e) {
      std::cerr << "templet: " << e.what() << "\n";
      return 2;
    }
  }
  std::string out;
  try {
    TemplateOptions to;
    to.name = options.template_path;
    to.left_delim = options.left_delim;
    to.right_delim = options.right_delim;
    to.missing_key = options.error_on_missing_key ? MissingKey::Error : MissingKey::Default;
    Template tmpl(text, to);
    CallContext ctx;
    tmpl.execute(out, dot, ctx);
  } catch (const ParseError& e) {
    std::cerr << e.what() << "\n";
    return 1;
  } catch (const ExecError& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
    std::cerr << "templet: writing output: " << std::strerror(errno) << "\n";
    return 1;
  }
  return 0;
}

int run_validate(const std::vector<std::string>& paths) {
  int status = 0;
  for (const auto& path : paths) {
    std::string text;
    if (!read_file(path, text)) {
      status = 2;
      continue;
    }
    try {
      TemplateOptions to;
      to.name = path;
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
