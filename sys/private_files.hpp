// Where templet keeps state that holds secrets (state_dir): private directories and files.
//
// A state_dir templet creates is 0700 (missing parents get the usual mode). An existing one
// keeps its mode: it may be shared or mistyped (/var/lib, /tmp), and chmod-ing it could break
// other software. Secrets therefore never sit in state_dir itself but in subdirectories that are
// always made 0700 (leases/, redash/), in files that are always 0600.
#pragma once

#include <string>

namespace templet {

// Creates `dir` 0700 when missing; with `force`, also makes an existing one 0700. Throws
// std::runtime_error naming the directory when it cannot.
void ensure_private_dir(const std::string& dir, bool force);

// Replaces `path` atomically (a temporary `path.tmp.*` in the same directory, fsync, rename,
// fsync of the directory) with a 0600 file holding `text`, whatever the umask. Throws
// std::runtime_error naming the file when it cannot.
void write_private_file(const std::string& path, const std::string& text);

// A warning about an existing state_dir that group or others may enter, or "" (also when it is
// missing: templet will create it 0700).
std::string open_state_dir_warning(const std::string& state_dir);

}  // namespace templet
