// Private directories and files for state (see private_files.hpp).
#include "sys/private_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace templet {

namespace {
std::runtime_error failure(const std::string& what, const std::string& path, int err) {
  return std::runtime_error("cannot " + what + " " + path + ": " + std::strerror(err));
}
}  // namespace

void ensure_private_dir(const std::string& dir, bool force) {
  std::filesystem::path parent = std::filesystem::path(dir).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) throw std::runtime_error("cannot create " + parent.string() + ": " + ec.message());
  if (::mkdir(dir.c_str(), 0700) == 0) {
    // mkdir applied the umask; 0700 is wanted exactly.
    if (::chmod(dir.c_str(), 0700) != 0) throw failure("chmod", dir, errno);
    return;
  }
  if (errno != EEXIST) throw failure("create", dir, errno);
  if (force && ::chmod(dir.c_str(), 0700) != 0) throw failure("chmod", dir, errno);
}

void write_private_file(const std::string& path, const std::string& text) {
  static std::atomic<unsigned> counter{0};
  const std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) throw failure("create", tmp, errno);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw failure("write", tmp, err);
    }
    done += static_cast<size_t>(n);
  }
  ::fchmod(fd, 0600);  // whatever the umask did
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw failure("write", tmp, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw failure("replace", path, err);
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

std::string open_state_dir_warning(const std::string& state_dir) {
  struct stat st {};
  if (state_dir.empty() || ::stat(state_dir.c_str(), &st) != 0) return "";
  if ((st.st_mode & 077) == 0) return "";
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
  return "state_dir " + state_dir + " has mode " + mode +
         "; templet keeps its secrets in 0700 subdirectories and leaves this mode alone, but "
         "chmod 0700 it if it is templet's alone";
}

}  // namespace templet
