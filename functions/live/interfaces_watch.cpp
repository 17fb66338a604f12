// The watcher of `sockaddr.interfaces`: this machine's addresses, read again every 30 s.
// consul-template reads them at each render; polling them makes an address change re-render
// (the data source passes on only a changed answer).
#include "functions/live/watcher.hpp"
#include "sys/ifaddrs.hpp"

namespace templet::live {

// A Watcher step (declared in watcher.hpp).
TimePoint Watcher::interfaces_step(TimePoint now) {
  (void)now;
  sink_.put(dep_.id, Response{200, read_interfaces().dump()});
  return ctx_.clock->now() + std::chrono::seconds(30);
}

}  // namespace templet::live
