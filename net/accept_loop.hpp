// One thread that accepts connections on a listening socket and hands each to a callback, until
// it is destroyed. What the daemon's small local servers (the status socket, the metrics
// listener) share: they answer one request per connection and close it, and stopping must never
// wait on a client.
#pragma once

#include <functional>
#include <thread>

namespace templet {

class AcceptLoop {
 public:
  // Takes ownership of `listen_fd` (bound and listening). `serve` gets each accepted connection,
  // already with a 2 s send timeout so a client that stops reading cannot hold the thread; the
  // loop closes it afterwards. Throws std::runtime_error when the wake-up pipe cannot be made.
  AcceptLoop(int listen_fd, std::function<void(int client_fd)> serve);
  // Wakes the thread, joins it, and closes the listening socket.
  ~AcceptLoop();
  AcceptLoop(const AcceptLoop&) = delete;
  AcceptLoop& operator=(const AcceptLoop&) = delete;

 private:
  void run();
  int fd_;
  std::function<void(int)> serve_;
  int wake_[2] = {-1, -1};
  std::thread thread_;
};

}  // namespace templet
