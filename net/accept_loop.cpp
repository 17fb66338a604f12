#include "net/accept_loop.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace templet {

AcceptLoop::AcceptLoop(int listen_fd, std::function<void(int)> serve)
    : fd_(listen_fd), serve_(std::move(serve)) {
  if (::pipe2(wake_, O_CLOEXEC) != 0) {
    std::string why = std::strerror(errno);
    ::close(fd_);
    throw std::runtime_error(why);
  }
  thread_ = std::thread([this] { run(); });
}

AcceptLoop::~AcceptLoop() {
  char c = 0;
  if (::write(wake_[1], &c, 1) < 0) {
    // An empty pipe takes one byte; nothing else can be done here.
  }
  if (thread_.joinable()) thread_.join();
  ::close(fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void AcceptLoop::run() {
  for (;;) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    timeval tv{2, 0};
    ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    serve_(c);
    ::close(c);
  }
}

}  // namespace templet
