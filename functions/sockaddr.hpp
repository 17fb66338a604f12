// consul-template's `sockaddr`: go-sockaddr's template language (template/template.go) over a
// list of the machine's interface addresses, evaluated as `{{ ARGS }}` with dot = every address.
//
// The addresses are data, not read here: the render asks its DataSource for the dependency
// `sockaddr.interfaces` (live: sys/ifaddrs reads getifaddrs and the default route; offline: the
// values file's `sockaddr:` section), whose body is
//   {"default_interface": "eth0",
//    "interfaces": [{"name": "eth0", "index": 2, "mtu": 1500, "hardware_addr": "02:42:..",
//                    "flags": ["up", "broadcast", "multicast", "running"],
//                    "addresses": ["10.0.0.5/24", "fe80::1/64"]}]}
//
// Supported, with go-sockaddr v1.0.7's semantics and error texts (consul-template v0.42 pins
// it; ifaddr.go, ifaddrs.go, rfc.go): the sources
// GetAllInterfaces, GetDefaultInterfaces, GetPrivateInterfaces, GetPublicInterfaces; the helpers
// GetPrivateIP(s), GetPublicIP(s), GetInterfaceIP(s); include/exclude by address, flag(s),
// name, network, rfc(s) (6890, 1918 and the forwarding blacklist), size, type; sort by
// [+-]address, default, name, private, size, type; attr, join, limit, offset, unique. Not
// supported (an error naming them): `math`, the `port` selector and Unix sockets. An IfAddr
// prints as Go's IfAddr.String(): "10.0.0.5/24 {2 1500 eth0 02:42:.. up|broadcast}".
// go-sockaddr sorts with Go's sort.Sort: here its insertion sort, the same order for lists of up
// to 12 addresses (beyond, Go's pdqsort may order addresses that compare equal differently).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace templet {

// go-sockaddr's ParseIfAddrs(`{{ expr }}`, addresses of `interfaces`). Throws FuncError with
// go-sockaddr's message ("unable to execute sockaddr input ...: ...").
std::string sockaddr_eval(const std::string& expr, const nlohmann::json& interfaces);

}  // namespace templet
