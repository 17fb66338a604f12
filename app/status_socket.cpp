#include "app/status_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace templet {

namespace {

bool make_address(const std::string& path, sockaddr_un& addr) {
  addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.data(), path.size());
  return true;
}

void set_timeout(int fd, int option, int seconds) {
  timeval tv{seconds, 0};
  setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

[[noreturn]] void bind_failed(const std::string& path, const std::string& why) {
  throw std::runtime_error("status socket " + path + ": " + why);
}

}  // namespace

std::string status_socket_path(const std::string& state_dir) {
  return state_dir + "/status.sock";
}

StatusSocket::StatusSocket(std::string path, std::function<std::string()> document)
    : path_(std::move(path)), document_(std::move(document)) {
  sockaddr_un addr;
  if (!make_address(path_, addr)) bind_failed(path_, "path too long for a unix socket");
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) bind_failed(path_, std::strerror(errno));
  // A daemon that died left its socket behind; nobody answers on it any more.
  struct stat st;
  if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path_.c_str());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::chmod(path_.c_str(), 0600) != 0 || ::listen(fd, 16) != 0) {
    std::string why = std::strerror(errno);
    ::close(fd);
    bind_failed(path_, why);
  }
  try {
    loop_ = std::make_unique<AcceptLoop>(fd, [this](int c) { serve(c); });
  } catch (const std::runtime_error& e) {
    ::unlink(path_.c_str());
    bind_failed(path_, e.what());
  }
}

StatusSocket::~StatusSocket() {
  loop_.reset();
  ::unlink(path_.c_str());
}

void StatusSocket::serve(int client) {
  std::string doc = document_();
  size_t done = 0;
  while (done < doc.size()) {
    ssize_t n = ::send(client, doc.data() + done, doc.size() - done, MSG_NOSIGNAL);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
}

std::optional<std::string> read_status_socket(const std::string& path) {
  sockaddr_un addr;
  if (!make_address(path, addr)) {
    errno = ENAMETOOLONG;
    return std::nullopt;
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd);
    errno = err;
    return std::nullopt;
  }
  set_timeout(fd, SO_RCVTIMEO, 5);
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      errno = err;
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace templet
