// The daemon's end of `templet status`: a unix socket in state_dir (mode 0600, so only its owner,
// root on a server, may read it) that answers every connection with the status document and
// closes it. A thread of its own (net/accept_loop); the run loop is never waited for.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "net/accept_loop.hpp"

namespace templet {

// `<state_dir>/status.sock`.
std::string status_socket_path(const std::string& state_dir);

class StatusSocket {
 public:
  // Binds `path` (a stale socket file there is replaced) and serves `document()` on each
  // connection. Throws std::runtime_error naming the path when it cannot bind.
  StatusSocket(std::string path, std::function<std::string()> document);
  ~StatusSocket();  // stops serving and removes the socket file
  StatusSocket(const StatusSocket&) = delete;
  StatusSocket& operator=(const StatusSocket&) = delete;

 private:
  void serve(int client);
  std::string path_;
  std::function<std::string()> document_;
  std::unique_ptr<AcceptLoop> loop_;
};

// Reads the document from a daemon's socket; nullopt when none answers (errno says why).
std::optional<std::string> read_status_socket(const std::string& path);

}  // namespace templet
