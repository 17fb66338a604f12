// Writing a rendered file where a service reads it: atomically, durably, and only when it changed.
//
// A reader of the destination sees either the old contents or the new, never a truncated or
// half-written file: the new contents go to a temporary file in the destination's directory
// (`.<name>.templet-XXXXXX`, created 0600 with O_EXCL and flock'ed while written), are fsync'ed,
// given their final mode and owner, and renamed over the destination; the directory is then
// fsync'ed so the rename survives a crash. On any failure the temporary file is removed and the
// destination is left as it was. Only a process killed outright (SIGKILL, power loss) leaves its
// temporary behind; remove_stale_temp_files() clears those at the next start.
//
// Details:
//  - Unchanged contents are not rewritten (mtime and inode stay; watchers are not woken), but a
//    requested mode that differs is still applied.
//  - Mode: `perms` if given, else the existing file's mode, else 0644. The existing file's owner
//    and group are kept (fchown; EPERM, as for an unprivileged user, is ignored).
//  - A destination that is a symlink is followed and its final target written, so setups that
//    link configuration into place keep their link (replacing the link by a file would detach
//    the service from where the link pointed).
//  - `backup` keeps the previous contents in `<path>.bak`, written atomically the same way,
//    before the destination is replaced.
//  - If the rename fails with EBUSY or EXDEV, the destination is a mount point (a file
//    bind-mounted into a container) that cannot be replaced; it is then rewritten in place:
//    written over from the start, truncated to the new length, fsync'ed. That path is not atomic
//    (a reader can see a mix while it runs); if the write fails the old contents are put back.
//  - `check`, when given, is called with the path of the staged temporary file (complete, with
//    its final mode and owner) before it replaces the destination or the backup is taken. If it
//    returns an error the temporary is removed, destination and backup stay as they were, and
//    CheckError (a WriteError) carries the message (confd's check_cmd).
//  - Errors are WriteError("<operation> <path>: <strerror> (<errno name>)"), naming the
//    destination's path (never the temporary's random name), e.g.
//    "write /etc/app/app.conf: No space left on device (ENOSPC)".
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace templet {

// The system calls the writer makes, as a seam for tests (to inject ENOSPC, EXDEV...). Each has
// the contract of the syscall it is named after: -1 and errno on failure.
struct FileSystemOps {
  int (*open)(const char* path, int flags, mode_t mode);
  ssize_t (*write)(int fd, const void* buf, size_t count);
  int (*fsync)(int fd);
  int (*close)(int fd);
  int (*rename)(const char* from, const char* to);
  int (*unlink)(const char* path);
  int (*fchmod)(int fd, mode_t mode);
  int (*fchown)(int fd, uid_t uid, gid_t gid);
  int (*ftruncate)(int fd, off_t length);
  int (*mkdir)(const char* path, mode_t mode);
};

// The real system calls.
const FileSystemOps& system_file_ops();

struct WriteRequest {
  std::string path;
  std::string_view contents;
  std::optional<mode_t> perms;  // permission bits (07777); nullopt keeps the existing or 0644
  bool backup = false;
  bool create_dest_dirs = true;  // create missing parent directories (0755, less umask)
  bool dry_run = false;          // write nothing; report what would happen
  // Vets the staged file (its path) before it is put in place; returns the error, or nullopt.
  std::function<std::optional<std::string>(const std::string& staged)> check;
  const FileSystemOps* ops = nullptr;  // nullptr: system_file_ops()
};

struct WriteResult {
  bool changed = false;      // the contents on disk were replaced
  bool would_write = false;  // the contents differ (or the file is missing); set in dry runs too
  std::string old_contents;  // what the destination held ("" if it did not exist)
  bool existed = false;      // the destination existed
};

class WriteError : public std::runtime_error {
 public:
  WriteError(const std::string& message, int error_number)
      : std::runtime_error(message), errno_(error_number) {}
  int error_number() const { return errno_; }  // the errno behind the failure

 private:
  int errno_;
};

// The staged contents were refused by the request's `check`; nothing was replaced.
class CheckError : public WriteError {
 public:
  explicit CheckError(const std::string& message) : WriteError(message, 0) {}
};

WriteResult write_file(const WriteRequest& request);

// Removes the temporary files a killed writer left next to `destination` (followed through
// symlinks, as write_file does) and returns their paths. Only names of write_file's exact pattern
// for this destination or its backup (`.<name>.templet-` + 6 letters or digits) that are regular
// files and not locked by a live writer are removed; nothing else in the directory is touched. A
// missing directory removes nothing; an unreadable one throws WriteError.
std::vector<std::string> remove_stale_temp_files(const std::string& destination);

}  // namespace templet
