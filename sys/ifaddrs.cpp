#include "sys/ifaddrs.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace templet {

namespace {

using json = nlohmann::json;

struct Iface {
  std::string name, hw;
  unsigned flags = 0;
  std::vector<std::string> v4, v6;
};

int prefix_of(const sockaddr* mask, int family) {
  if (!mask) return family == AF_INET ? 32 : 128;
  const auto* b = family == AF_INET ? reinterpret_cast<const unsigned char*>(
                                          &reinterpret_cast<const sockaddr_in*>(mask)->sin_addr)
                                    : reinterpret_cast<const unsigned char*>(
                                          &reinterpret_cast<const sockaddr_in6*>(mask)->sin6_addr);
  int n = 0;
  for (int i = 0; i < (family == AF_INET ? 4 : 16); ++i) n += __builtin_popcount(b[i]);
  return n;
}

std::string default_interface() {
  std::ifstream in("/proc/net/route");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::string iface, dest;
    ss >> iface >> dest;
    if (dest == "00000000") return iface;
  }
  return "";
}

}  // namespace

json read_interfaces() {
  std::map<unsigned, Iface> by_index;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) == 0) {
    for (ifaddrs* i = list; i; i = i->ifa_next) {
      unsigned idx = if_nametoindex(i->ifa_name);
      Iface& f = by_index[idx];
      f.name = i->ifa_name;
      unsigned fl = i->ifa_flags;
      // net.Flags' order: up, broadcast, loopback, pointtopoint, multicast, running.
      f.flags = ((fl & IFF_UP) ? 1u : 0u) | ((fl & IFF_BROADCAST) ? 2u : 0u) |
                ((fl & IFF_LOOPBACK) ? 4u : 0u) | ((fl & IFF_POINTOPOINT) ? 8u : 0u) |
                ((fl & IFF_MULTICAST) ? 16u : 0u) | ((fl & IFF_RUNNING) ? 32u : 0u);
      if (!i->ifa_addr) continue;
      int fam = i->ifa_addr->sa_family;
      if (fam == AF_PACKET) {
        const auto* ll = reinterpret_cast<const sockaddr_ll*>(i->ifa_addr);
        std::string hw;
        char b[4];
        for (int k = 0; k < ll->sll_halen; ++k) {
          std::snprintf(b, sizeof b, "%02x", ll->sll_addr[k]);
          hw += (k ? ":" : "") + std::string(b);
        }
        if (hw.find_first_not_of("0:") != std::string::npos) f.hw = hw;
      } else if (fam == AF_INET || fam == AF_INET6) {
        char buf[INET6_ADDRSTRLEN];
        const void* a = fam == AF_INET
                            ? static_cast<const void*>(
                                  &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr)
                            : static_cast<const void*>(
                                  &reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr);
        inet_ntop(fam, a, buf, sizeof buf);
        std::string text = std::string(buf) + "/" + std::to_string(prefix_of(i->ifa_netmask, fam));
        (fam == AF_INET ? f.v4 : f.v6).push_back(text);
      }
    }
    freeifaddrs(list);
  }
  json out = json::array();
  int sock = ::socket(AF_INET, SOCK_DGRAM, 0);
  for (auto& [idx, f] : by_index) {
    int mtu = 0;
    ifreq req{};
    std::strncpy(req.ifr_name, f.name.c_str(), IFNAMSIZ - 1);
    if (sock >= 0 && ::ioctl(sock, SIOCGIFMTU, &req) == 0) mtu = req.ifr_mtu;
    json flags = json::array();
    const char* names[] = {"up", "broadcast", "loopback", "pointtopoint", "multicast", "running"};
    for (int k = 0; k < 6; ++k)
      if (f.flags & (1u << k)) flags.push_back(names[k]);
    json addrs = f.v4;
    for (auto& a : f.v6) addrs.push_back(a);
    out.push_back({{"name", f.name},
                   {"index", idx},
                   {"mtu", mtu},
                   {"hardware_addr", f.hw},
                   {"flags", flags},
                   {"addresses", addrs}});
  }
  if (sock >= 0) ::close(sock);
  return {{"default_interface", default_interface()}, {"interfaces", out}};
}

}  // namespace templet
