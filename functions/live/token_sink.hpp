// vault.auth.sink.token_file: the token templet logged in with, for other local programs (as
// Vault Agent's file sink gives it). Off by default; the file is 0600 and replaced atomically,
// so a reader sees the old token or the new one, never a torn one.
#pragma once

#include <string>

namespace templet::live {

// Writes `token` to `path` (nothing when `path` is empty). A failure is logged, not thrown: the
// login itself succeeded, and templet's own use of the token does not depend on the sink.
void write_token_sink(const std::string& path, const std::string& token);

}  // namespace templet::live
