#include "app/sd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace templet {

bool sd_notify_send(const std::string& state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  size_t len = std::strlen(path);
  if (len >= sizeof(addr.sun_path)) return false;
  std::memcpy(addr.sun_path, path, len);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  socklen_t addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  ssize_t sent = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                        reinterpret_cast<sockaddr*>(&addr), addr_len);
  close(fd);
  return sent == static_cast<ssize_t>(state.size());
}

SdHeartbeat::SdHeartbeat() {
  const char* usec = std::getenv("WATCHDOG_USEC");
  const char* pid = std::getenv("WATCHDOG_PID");
  if (usec == nullptr) return;
  if (pid != nullptr && std::strtoll(pid, nullptr, 10) != static_cast<long long>(::getpid()))
    return;
  long long us = std::strtoll(usec, nullptr, 10);
  if (us > 0) watchdog_ = std::chrono::microseconds(us);
}

void SdHeartbeat::tick(const std::string& status) {
  std::string msg;
  auto now = std::chrono::steady_clock::now();
  if (watchdog_ && now - last_ping_ >= *watchdog_ / 4) {
    msg = "WATCHDOG=1";
    last_ping_ = now;
  }
  if (!status.empty() && status != last_status_) {
    msg += (msg.empty() ? "" : "\n") + std::string("STATUS=") + status;
    last_status_ = status;
  }
  if (!msg.empty()) sd_notify_send(msg);
}

}  // namespace templet
