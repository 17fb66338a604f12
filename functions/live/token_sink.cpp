// The token sink (see token_sink.hpp).
#include "functions/live/token_sink.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "functions/live/mask.hpp"
#include "sys/private_files.hpp"

namespace templet::live {

void write_token_sink(const std::string& path, const std::string& token) {
  if (path.empty()) return;
  try {
    write_private_file(path, token);
    spdlog::info("vault: wrote {} to the token sink {}", mask_token(token), path);
  } catch (const std::runtime_error& e) {
    spdlog::warn("vault: token sink: {}", e.what());
  }
}

}  // namespace templet::live
