// This machine's interface addresses, for consul-template's `sockaddr` (functions/sockaddr.hpp
// describes the JSON shape): getifaddrs(3) for names, flags and addresses, SIOCGIFMTU for the
// MTU, and the default route's interface from /proc/net/route (go-sockaddr asks `ip route` on
// Linux; both read the kernel's main table). Interfaces come in index order, each one's IPv4
// addresses before its IPv6 ones, as Go's net.Interfaces and Interface.Addrs give them.
#pragma once

#include <nlohmann/json.hpp>

namespace templet {

nlohmann::json read_interfaces();

}  // namespace templet
