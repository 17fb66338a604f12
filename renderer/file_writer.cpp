#include "renderer/file_writer.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <system_error>
#include <utility>

namespace templet {

namespace {

int sys_open(const char* path, int flags, mode_t mode) {
  return ::open(path, flags, mode);
}

// "No space left on device (ENOSPC)": the text people read, and the name they search for.
std::string describe_errno(int err) {
  std::string text = std::generic_category().message(err);
  if (const char* name = ::strerrorname_np(err)) text += std::string(" (") + name + ")";
  return text;
}

[[noreturn]] void fail(const std::string& operation, const std::string& path, int err) {
  throw WriteError(operation + " " + path + ": " + describe_errno(err), err);
}

constexpr const char kTempMarker[] = ".templet-";
constexpr size_t kTempSuffixLength = 6;
constexpr size_t kMaxTempBase = 200;  // keeps ".<base>.templet-XXXXXX" within NAME_MAX
constexpr const char kTempChars[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

// The start of the temporary names for a file named `base`: ".<base>.templet-".
std::string temp_prefix(std::string base) {
  if (base.size() > kMaxTempBase) base.resize(kMaxTempBase);
  return "." + base + kTempMarker;
}

// True when `name` is `prefix` followed by exactly the random suffix TempFile gives.
bool is_temp_name(const std::string& name, const std::string& prefix) {
  if (name.size() != prefix.size() + kTempSuffixLength || !name.starts_with(prefix)) return false;
  for (size_t i = prefix.size(); i < name.size(); ++i)
    if (std::strchr(kTempChars, name[i]) == nullptr || name[i] == '\0') return false;
  return true;
}

// "dir/name" -> ("dir", "name"); "name" -> (".", "name"); "/name" -> ("/", "name").
std::pair<std::string, std::string> split_path(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

// Follows symlinks at the end of `path` to the file they finally name (which may not exist yet).
std::string resolve_symlinks(const std::string& path) {
  std::string current = path;
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st;
    // If this fails (missing file, unreadable directory), opening it will report why.
    if (::lstat(current.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return current;
    std::string target(256, '\0');
    for (;;) {
      ssize_t n = ::readlink(current.c_str(), target.data(), target.size());
      if (n < 0) fail("readlink", current, errno);
      if (static_cast<size_t>(n) < target.size()) {
        target.resize(static_cast<size_t>(n));
        break;
      }
      target.resize(target.size() * 2);
    }
    current = target.starts_with('/') ? target : split_path(current).first + "/" + target;
  }
  fail("open", path, ELOOP);
}

// Closes a descriptor on scope exit unless released.
class Fd {
 public:
  Fd(const FileSystemOps& ops, int fd) : ops_(ops), fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ops_.close(fd_);
  }
  int get() const { return fd_; }
  void reset(int fd) {
    close();
    fd_ = fd;
  }
  // Closes now, reporting the error (NFS reports failed writes here).
  int close() {
    int fd = std::exchange(fd_, -1);
    return fd >= 0 ? ops_.close(fd) : 0;
  }

 private:
  const FileSystemOps& ops_;
  int fd_;
};

struct Existing {
  bool exists = false;
  std::string contents;
  struct stat st {};
};

// Reads the destination; `fd` is left open on it (for a later fchmod) when it exists.
Existing read_existing(const FileSystemOps& ops, const std::string& path, int& fd) {
  Existing ex;
  fd = ops.open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
  if (fd < 0) {
    if (errno == ENOENT) return ex;
    fail("open", path, errno);
  }
  if (::fstat(fd, &ex.st) != 0) fail("stat", path, errno);
  if (S_ISDIR(ex.st.st_mode)) fail("open", path, EISDIR);
  if (!S_ISREG(ex.st.st_mode)) {
    throw WriteError("open " + path + ": not a regular file", EINVAL);
  }
  ex.exists = true;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("read", path, errno);
    }
    if (n == 0) break;
    ex.contents.append(buf, static_cast<size_t>(n));
  }
  return ex;
}

// Writes all of `data`, resuming after partial writes and signals.
void write_all(const FileSystemOps& ops, int fd, std::string_view data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ops.write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write", path, errno);
    }
    if (n == 0) fail("write", path, EIO);
    done += static_cast<size_t>(n);
  }
}

// Creates `dir` and its missing parents with mode 0755 (less umask).
void make_dirs(const FileSystemOps& ops, const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) return;  // if it is not a directory, open will say so
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    if (dir[pos - 1] == '/') continue;  // "a//b"
    std::string prefix = dir.substr(0, pos);
    if (ops.mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) fail("mkdir", prefix, errno);
  }
}

// A uniquely named temporary file next to the destination, removed unless committed. It is
// flock'ed while it exists, which tells remove_stale_temp_files that its writer is alive.
class TempFile {
 public:
  TempFile(const FileSystemOps& ops, const std::string& dest) : ops_(ops), fd_(ops, -1) {
    auto [dir, base] = split_path(dest);
    const std::string prefix = dir + "/" + temp_prefix(base);
    thread_local std::mt19937_64 rng{std::random_device{}()};
    for (int attempt = 0; attempt < 100; ++attempt) {
      std::string name = prefix;
      for (size_t i = 0; i < kTempSuffixLength; ++i)
        name += kTempChars[rng() % (sizeof kTempChars - 1)];
      int fd = ops.open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0) {
        if (errno != EEXIST) fail("open", dest, errno);
        continue;
      }
      // Between open and flock a cleaner starting up may have taken the file for a dead
      // writer's and unlinked it: then the name is gone (no links left), so take another.
      struct stat st {};
      if (::flock(fd, LOCK_EX) != 0 || ::fstat(fd, &st) != 0 || st.st_nlink == 0) {
        ops.close(fd);
        continue;
      }
      path_ = std::move(name);
      fd_.reset(fd);
      return;
    }
    fail("open", dest, EEXIST);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    fd_.close();
    if (!committed_) ops_.unlink(path_.c_str());
  }
  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  int close() { return fd_.close(); }
  void committed() { committed_ = true; }

 private:
  const FileSystemOps& ops_;
  Fd fd_;
  std::string path_;
  bool committed_ = false;
};

void fsync_dir(const FileSystemOps& ops, const std::string& dir) {
  // Best effort: the new file is already in place; some file systems cannot sync directories.
  int fd = ops.open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) return;
  ops.fsync(fd);
  ops.close(fd);
}

struct Owner {
  uid_t uid;
  gid_t gid;
};

// Rewrites `dest` in place, for a destination that cannot be replaced by rename (a bind mount).
// Writes over the old bytes and then truncates, so a same-size or larger file is never seen
// empty; if writing fails, puts the old contents back as well as it can.
void rewrite_in_place(const FileSystemOps& ops, const std::string& dest, std::string_view contents,
                      std::string_view old_contents, std::optional<mode_t> perms) {
  Fd fd(ops, ops.open(dest.c_str(), O_WRONLY | O_CLOEXEC, 0));
  if (fd.get() < 0) fail("open", dest, errno);
  try {
    write_all(ops, fd.get(), contents, dest);
    if (ops.ftruncate(fd.get(), static_cast<off_t>(contents.size())) != 0) {
      fail("truncate", dest, errno);
    }
  } catch (const WriteError&) {
    if (::lseek(fd.get(), 0, SEEK_SET) == 0) {
      try {
        write_all(ops, fd.get(), old_contents, dest);
        ops.ftruncate(fd.get(), static_cast<off_t>(old_contents.size()));
      } catch (const WriteError&) {
      }
    }
    throw;
  }
  if (perms && ops.fchmod(fd.get(), *perms) != 0) fail("chmod", dest, errno);
  if (ops.fsync(fd.get()) != 0) fail("fsync", dest, errno);
  if (fd.close() != 0) fail("close", dest, errno);
}

// Writes `contents` to a temporary file next to `dest` with its final owner and mode, durably:
// it is then only a rename away from replacing `dest`.
void stage(const FileSystemOps& ops, TempFile& tmp, const std::string& dest,
           std::string_view contents, mode_t mode, std::optional<Owner> owner) {
  write_all(ops, tmp.fd(), contents, dest);
  // Owner before mode: changing the owner clears set-user-ID and set-group-ID bits.
  if (owner && ops.fchown(tmp.fd(), owner->uid, owner->gid) != 0 && errno != EPERM) {
    fail("chown", dest, errno);
  }
  if (ops.fchmod(tmp.fd(), mode) != 0) fail("chmod", dest, errno);
  if (ops.fsync(tmp.fd()) != 0) fail("fsync", dest, errno);
  if (tmp.close() != 0) fail("close", dest, errno);
}

// Renames the staged `tmp` over `dest`. `in_place_fallback` carries what rewriting in place
// needs when `dest` turns out to be a mount point.
void commit(const FileSystemOps& ops, TempFile& tmp, const std::string& dest,
            std::string_view contents, bool in_place_fallback, std::string_view old_contents,
            std::optional<mode_t> perms) {
  if (ops.rename(tmp.path().c_str(), dest.c_str()) != 0) {
    int err = errno;
    if (!in_place_fallback || (err != EBUSY && err != EXDEV)) fail("rename", dest, err);
    rewrite_in_place(ops, dest, contents, old_contents, perms);
    return;  // the temporary file is removed by its destructor
  }
  tmp.committed();
  fsync_dir(ops, split_path(dest).first);
}

// Replaces `dest` by a file holding `contents`, atomically.
void replace_file(const FileSystemOps& ops, const std::string& dest, std::string_view contents,
                  mode_t mode, std::optional<Owner> owner) {
  TempFile tmp(ops, dest);
  stage(ops, tmp, dest, contents, mode, owner);
  commit(ops, tmp, dest, contents, false, {}, {});
}

}  // namespace

std::vector<std::string> remove_stale_temp_files(const std::string& destination) {
  std::vector<std::string> removed;
  if (destination.empty()) return removed;
  const std::string dest = resolve_symlinks(destination);
  auto [dir, base] = split_path(dest);
  // The destination's own temporaries and those of its backup.
  const std::string prefixes[] = {temp_prefix(base), temp_prefix(base + ".bak")};
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return removed;  // nothing was ever written there
    fail("open", dir, errno);
  }
  std::vector<std::string> candidates;
  while (const dirent* e = ::readdir(d))
    for (const auto& prefix : prefixes)
      if (is_temp_name(e->d_name, prefix)) candidates.push_back(dir + "/" + e->d_name);
  ::closedir(d);
  for (const auto& path : candidates) {
    // O_NOFOLLOW: a symlink is never ours, and must not lead the unlink elsewhere.
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) continue;  // gone already, or not ours to read
    struct stat st {};
    // A live writer holds the lock; only an unlocked regular file was left by a dead one. The
    // lock is held across the unlink so a writer that opened the name meanwhile sees it gone.
    bool stale = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink > 0 &&
                 ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    if (stale && ::unlink(path.c_str()) == 0) removed.push_back(path);
    ::close(fd);
  }
  return removed;
}

const FileSystemOps& system_file_ops() {
  static const FileSystemOps ops{sys_open, ::write,  ::fsync,  ::close,     ::rename,
                                 ::unlink, ::fchmod, ::fchown, ::ftruncate, ::mkdir};
  return ops;
}

WriteResult write_file(const WriteRequest& request) {
  const FileSystemOps& ops = request.ops != nullptr ? *request.ops : system_file_ops();
  if (request.path.empty()) fail("open", request.path, ENOENT);
  const std::string dest = resolve_symlinks(request.path);
  if (dest.ends_with('/')) fail("open", dest, EISDIR);

  int existing_fd = -1;
  Existing ex = read_existing(ops, dest, existing_fd);
  Fd existing(ops, existing_fd);

  WriteResult result;
  result.existed = ex.exists;
  result.would_write = !ex.exists || ex.contents != request.contents;
  result.old_contents = std::move(ex.contents);
  if (request.dry_run) return result;

  const mode_t old_mode = ex.st.st_mode & 07777;
  if (!result.would_write) {
    if (request.perms && *request.perms != old_mode &&
        ops.fchmod(existing.get(), *request.perms) != 0) {
      fail("chmod", dest, errno);
    }
    return result;
  }
  existing.close();

  if (request.create_dest_dirs) make_dirs(ops, split_path(dest).first);
  std::optional<Owner> owner;
  if (ex.exists) owner = Owner{ex.st.st_uid, ex.st.st_gid};
  const mode_t mode = request.perms.value_or(ex.exists ? old_mode : 0644);
  TempFile tmp(ops, dest);
  stage(ops, tmp, dest, request.contents, mode, owner);
  // Checked before the backup is taken: refused contents leave both files as they were.
  if (request.check) {
    if (auto error = request.check(tmp.path())) throw CheckError(*error);
  }
  if (request.backup && ex.exists) {
    replace_file(ops, dest + ".bak", result.old_contents, old_mode, owner);
  }
  commit(ops, tmp, dest, request.contents, ex.exists, result.old_contents, request.perms);
  result.changed = true;
  return result;
}

}  // namespace templet
