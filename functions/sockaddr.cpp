// go-sockaddr's template language (see sockaddr.hpp). An IfAddr is a string Value holding Go's
// IfAddr.String() text, so it prints as Go prints it; the functions read it back.
#include "functions/sockaddr.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <functional>

#include "functions/go_regexp.hpp"
#include "functions/helpers_internal.hpp"
#include "renderer/exec.hpp"
#include "renderer/parser.hpp"
#include "renderer/template.hpp"
#include "sys/number_cast.hpp"

namespace templet {

namespace {

using json = nlohmann::json;
using Args = std::span<const Value>;

// net.Flags, in Go's bit order.
const char* const kFlagNames[] = {"up",           "broadcast", "loopback",
                                  "pointtopoint", "multicast", "running"};
constexpr unsigned kUp = 1, kBroadcast = 2, kLoopback = 4, kPointToPoint = 8, kMulticast = 16;

struct Addr {
  bool v6 = false;
  std::array<uint8_t, 16> b{};
  int bits = 32;
  int len() const { return v6 ? 16 : 4; }
  int max_bits() const { return v6 ? 128 : 32; }
};

struct IfAddr {
  Addr addr;
  int index = 0, mtu = 0;
  std::string name, hw;
  unsigned flags = 0;
};

bool parse_addr(std::string_view text, Addr& a) {
  std::string s(text);
  std::string ip = s, prefix;
  if (size_t slash = s.find('/'); slash != std::string::npos) {
    ip = s.substr(0, slash);
    prefix = s.substr(slash + 1);
  }
  a = Addr();
  if (inet_pton(AF_INET, ip.c_str(), a.b.data()) == 1) {
    a.v6 = false;
  } else if (inet_pton(AF_INET6, ip.c_str(), a.b.data()) == 1) {
    a.v6 = true;
  } else {
    return false;
  }
  a.bits = a.max_bits();
  if (!prefix.empty()) {
    int n = -1;
    auto r = std::from_chars(prefix.data(), prefix.data() + prefix.size(), n);
    if (r.ec != std::errc() || r.ptr != prefix.data() + prefix.size() || n < 0 || n > a.max_bits())
      return false;
    a.bits = n;
  }
  return true;
}

// net.IP.String.
std::string ip_string(const Addr& a) {
  char buf[INET6_ADDRSTRLEN];
  bool mapped = a.v6 && std::all_of(a.b.begin(), a.b.begin() + 10, [](uint8_t x) { return !x; }) &&
                a.b[10] == 0xff && a.b[11] == 0xff;
  if (!a.v6 || mapped) {
    inet_ntop(AF_INET, a.b.data() + (mapped ? 12 : 0), buf, sizeof buf);
    return buf;
  }
  inet_ntop(AF_INET6, a.b.data(), buf, sizeof buf);  // RFC 5952, as Go
  return buf;
}

Addr masked(const Addr& a, bool broadcast = false) {
  Addr n = a;
  for (int i = 0; i < a.len(); ++i) {
    int keep = std::clamp(a.bits - i * 8, 0, 8);
    uint8_t mask = keep == 0 ? 0 : static_cast<uint8_t>(0xff << (8 - keep));
    n.b[i] = broadcast ? (a.b[i] | static_cast<uint8_t>(~mask)) : (a.b[i] & mask);
  }
  return n;
}

// SockAddr.String(): the address, with /bits unless a host address.
std::string sockaddr_string(const Addr& a) {
  return a.bits == a.max_bits() ? ip_string(a) : ip_string(a) + "/" + std::to_string(a.bits);
}

std::string flags_string(unsigned f) {
  std::string s;
  for (int i = 0; i < 6; ++i)
    if (f & (1u << i)) s += (s.empty() ? "" : "|") + std::string(kFlagNames[i]);
  return s.empty() ? "0" : s;
}

std::string if_string(const IfAddr& x) {
  return sockaddr_string(x.addr) + " {" + std::to_string(x.index) + " " + std::to_string(x.mtu) +
         " " + x.name + " " + x.hw + " " + flags_string(x.flags) + "}";
}

const Type* ifaddr_type() {
  static const Type t = [] {
    Type s;
    s.kind = Kind::String;
    s.name = "sockaddr.IfAddr";
    return s;
  }();
  return &t;
}

const Type* ifaddrs_type() {
  static const Type t = [] {
    Type s;
    s.kind = Kind::List;
    s.name = "sockaddr.IfAddrs";
    s.elem = ifaddr_type();
    return s;
  }();
  return &t;
}

IfAddr from_value(const Value& v) {
  const std::string& s = v.as_string();
  IfAddr x;
  size_t sp = s.find(' ');
  parse_addr(s.substr(0, sp), x.addr);
  std::string inner = s.substr(sp + 2, s.size() - sp - 3);
  std::vector<std::string> parts;
  size_t start = 0;
  for (int i = 0; i < 4; ++i) {
    size_t e = inner.find(' ', start);
    parts.push_back(inner.substr(start, e - start));
    start = e + 1;
  }
  parts.push_back(inner.substr(start));
  x.index = std::atoi(parts[0].c_str());
  x.mtu = std::atoi(parts[1].c_str());
  x.name = parts[2];
  x.hw = parts[3];
  for (int i = 0; i < 6; ++i) {
    std::string want = kFlagNames[i];
    size_t p = 0;
    while (p <= parts[4].size()) {
      size_t e = parts[4].find('|', p);
      if (e == std::string::npos) e = parts[4].size();
      if (parts[4].compare(p, e - p, want) == 0) x.flags |= 1u << i;
      p = e + 1;
    }
  }
  return x;
}

using IfAddrs = std::vector<IfAddr>;

Value to_value(const IfAddrs& v) {
  std::vector<Value> items;
  for (const auto& x : v) items.push_back(Value::string(if_string(x), ifaddr_type()));
  return Value::list(std::move(items), ifaddrs_type());
}

IfAddrs from_list(const Value& v) {
  IfAddrs out;
  if (v.kind() == Kind::List)
    for (const auto& x : v.as_list()) {
      if (x.type() != ifaddr_type())
        throw FuncError("templet: not a sockaddr.IfAddr: " + (x.valid() ? x.type()->name : "nil"));
      out.push_back(from_value(x));
    }
  return out;
}

// `net` contains all of `a`'s network (IPv4Addr/IPv6Addr.Contains: ContainsNetwork).
bool contains(const Addr& net, const Addr& a) {
  if (net.v6 != a.v6 || a.bits < net.bits) return false;
  Addr lo = masked(net), x = masked(a);
  x.bits = net.bits;
  return std::memcmp(masked(x).b.data(), lo.b.data(), net.len()) == 0;
}

const std::vector<Addr>& rfc_nets(unsigned long rfc, bool& known) {
  static const auto build = [](std::initializer_list<const char*> cidrs) {
    std::vector<Addr> v;
    for (const char* c : cidrs) {
      Addr a;
      parse_addr(c, a);
      v.push_back(a);
    }
    return v;
  };
  // rfc.go's KnownRFCs, for the RFCs templates filter on.
  static const std::vector<Addr> r1918 = build({"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"});
  static const std::vector<Addr> r6890 = build(
      {"0.0.0.0/8",          "10.0.0.0/8",    "100.64.0.0/10",   "127.0.0.0/8",    "169.254.0.0/16",
       "172.16.0.0/12",      "192.0.0.0/24",  "192.0.0.0/29",    "192.0.2.0/24",   "192.88.99.0/24",
       "192.168.0.0/16",     "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4",
       "255.255.255.255/32", "::1/128",       "::/128",          "64:ff9b::/96",   "::ffff:0:0/96",
       "100::/64",           "2001::/16",     "2002::/16",       "fc00::/7",       "fe80::/10"});
  static const std::vector<Addr> blacklist =
      build({"0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "192.0.0.0/24", "192.0.2.0/24",
             "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32", "::1/128",
             "::/128", "::ffff:0:0/96", "2001:db8::/32", "2001:10::/28", "fe80::/10"});
  static const std::vector<Addr> none;
  known = true;
  if (rfc == 1918) return r1918;
  if (rfc == 6890) return r6890;
  if (rfc == 4294967295UL) return blacklist;
  known = false;
  return none;
}

bool is_rfc(unsigned long rfc, const Addr& a) {
  bool known = false;
  for (const auto& n : rfc_nets(rfc, known))
    if (contains(n, a)) return true;
  return false;
}

constexpr unsigned long kForwardingBlacklist = 4294967295UL;

[[noreturn]] void fail(const std::string& msg) {
  throw FuncError(msg);
}

struct Split {
  IfAddrs matched, rest;
};

Split by_regexp(const std::string& re, const IfAddrs& in, bool address) {
  std::unique_ptr<GoRegexp> r;
  try {
    r = std::make_unique<GoRegexp>(re);
  } catch (const FuncError& e) {
    fail(std::string("Unable to compile ") + (address ? "address" : "name") + " regexp " +
         helpers::go_quote(re) + ": " + e.what());
  }
  Split s;
  for (const auto& x : in)
    (r->match(address ? sockaddr_string(x.addr) : x.name) ? s.matched : s.rest).push_back(x);
  return s;
}

std::vector<std::string> split_bar(const std::string& s) {
  std::vector<std::string> out;
  size_t p = 0;
  while (true) {
    size_t e = s.find('|', p);
    out.push_back(s.substr(p, e == std::string::npos ? std::string::npos : e - p));
    if (e == std::string::npos) return out;
    p = e + 1;
  }
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool ip_loopback(const Addr& a) {
  if (!a.v6) return a.b[0] == 127;
  static const Addr one = [] {
    Addr x;
    parse_addr("::1", x);
    return x;
  }();
  return std::memcmp(a.b.data(), one.b.data(), 16) == 0;
}

bool ip_multicast(const Addr& a) {
  return a.v6 ? a.b[0] == 0xff : (a.b[0] & 0xf0) == 0xe0;
}

bool ip_unspecified(const Addr& a) {
  return std::all_of(a.b.begin(), a.b.begin() + a.len(), [](uint8_t x) { return !x; });
}

bool ip_link_local_unicast(const Addr& a) {
  return a.v6 ? (a.b[0] == 0xfe && (a.b[1] & 0xc0) == 0x80) : (a.b[0] == 169 && a.b[1] == 254);
}

bool ip_link_local_multicast(const Addr& a) {
  return a.v6 ? (a.b[0] == 0xff && (a.b[1] & 0x0f) == 0x02)
              : (a.b[0] == 224 && a.b[1] == 0 && a.b[2] == 0);
}

bool ip_interface_local_multicast(const Addr& a) {
  return a.v6 && a.b[0] == 0xff && (a.b[1] & 0x0f) == 0x01;
}

bool ip_global_unicast(const Addr& a) {
  bool bcast = !a.v6 && a.b[0] == 255 && a.b[1] == 255 && a.b[2] == 255 && a.b[3] == 255;
  return !bcast && !ip_unspecified(a) && !ip_loopback(a) && !ip_multicast(a) &&
         !ip_link_local_unicast(a);
}

Split by_flag(const std::string& input, const IfAddrs& in) {
  bool want[8] = {};  // forwardable, global unicast, if-local mc, ll mc, ll unicast, loopback,
                      // multicast, unspecified
  unsigned flags = 0;
  bool check_flags = false, check_attrs = false;
  for (const auto& f : split_bar(lower(input))) {
    if (f == "broadcast") {
      check_flags = true;
      flags |= kBroadcast;
    } else if (f == "down") {
      check_flags = true;
      flags &= ~kUp;
    } else if (f == "forwardable") {
      check_attrs = want[0] = true;
    } else if (f == "global unicast") {
      check_attrs = want[1] = true;
    } else if (f == "interface-local multicast") {
      check_attrs = want[2] = true;
    } else if (f == "link-local multicast") {
      check_attrs = want[3] = true;
    } else if (f == "link-local unicast") {
      check_attrs = want[4] = true;
    } else if (f == "loopback") {
      check_attrs = check_flags = want[5] = true;
      flags |= kLoopback;
    } else if (f == "multicast") {
      check_attrs = check_flags = want[6] = true;
      flags |= kMulticast;
    } else if (f == "point-to-point") {
      check_flags = true;
      flags |= kPointToPoint;
    } else if (f == "unspecified") {
      check_attrs = want[7] = true;
    } else if (f == "up") {
      check_flags = true;
      flags |= kUp;
    } else {
      fail("Unknown interface flag: " + helpers::go_quote(f));
    }
  }
  Split s;
  for (const auto& x : in) {
    const Addr& a = x.addr;
    bool m = check_flags && (x.flags & flags) == flags;
    if (check_attrs)
      m = m || (want[1] && ip_global_unicast(a)) || (want[2] && ip_interface_local_multicast(a)) ||
          (want[3] && ip_link_local_multicast(a)) || (want[4] && ip_link_local_unicast(a)) ||
          (want[5] && ip_loopback(a)) || (want[6] && ip_multicast(a)) ||
          (want[7] && ip_unspecified(a)) || (want[0] && !is_rfc(kForwardingBlacklist, a));
    (m ? s.matched : s.rest).push_back(x);
  }
  return s;
}

Split by_type(const std::string& input, const IfAddrs& in) {
  auto types = split_bar(lower(input));
  for (const auto& t : types)
    if (t != "ip" && t != "ipv4" && t != "ipv6" && t != "unix")
      fail("unsupported type " + helpers::go_quote(t) + " " + helpers::go_quote(input));
  Split s;
  // As IfByType: each address is tested against each type in turn.
  for (const auto& x : in)
    for (const auto& t : types) {
      bool m = t == "ip" || (t == "ipv4" && !x.addr.v6) || (t == "ipv6" && x.addr.v6);
      (m ? s.matched : s.rest).push_back(x);
    }
  return s;
}

Split by_rfcs(const std::string& input, const IfAddrs& in) {
  Split s;
  for (const auto& r : split_bar(input)) {
    unsigned long n = 0;
    auto res = std::from_chars(r.data(), r.data() + r.size(), n);
    if (res.ec != std::errc() || res.ptr != r.data() + r.size() || r.empty())
      fail("unable to lookup RFC number " + helpers::go_quote(r) + ": unable to parse RFC number " +
           helpers::go_quote(r) + ": strconv.ParseUint: parsing " + helpers::go_quote(r) +
           ": invalid syntax");
    bool known = false;
    const auto& nets = rfc_nets(n, known);
    if (!known)
      fail("unable to lookup RFC number " + helpers::go_quote(r) + ": unsupported RFC " +
           std::to_string(n));
    for (const auto& x : in) {
      bool m =
          std::any_of(nets.begin(), nets.end(), [&](const Addr& a) { return contains(a, x.addr); });
      (m ? s.matched : s.rest).push_back(x);
    }
  }
  return s;
}

Split by_network(const std::string& input, const IfAddrs& in) {
  Split s;
  for (const auto& n : split_bar(input)) {
    Addr net;
    if (!parse_addr(n, net))
      fail("unable to create an IP address from " + helpers::go_quote(n) + ": invalid IPAddr " + n);
    for (const auto& x : in) (contains(net, x.addr) ? s.matched : s.rest).push_back(x);
  }
  return s;
}

Split by_size(const std::string& input, const IfAddrs& in) {
  unsigned long n = 0;
  auto res = std::from_chars(input.data(), input.data() + input.size(), n);
  if (res.ec != std::errc() || res.ptr != input.data() + input.size() || input.empty())
    fail("invalid exclude size argument (" + helpers::go_quote(input) +
         "): strconv.ParseUint: parsing " + helpers::go_quote(input) + ": invalid syntax");
  Split s;
  for (const auto& x : in) {
    if (!x.addr.v6 && n > 32) fail("mask size out of bounds for IPv4 address: " + input);
    if (x.addr.v6 && n > 128) fail("mask size out of bounds for IPv6 address: " + input);
    (static_cast<unsigned long>(x.addr.bits) == n ? s.matched : s.rest).push_back(x);
  }
  return s;
}

Split select(const std::string& name, const std::string& param, const IfAddrs& in,
             const char* verb) {
  std::string n = lower(name);
  if (n == "address") return by_regexp(param, in, true);
  if (n == "flag" || n == "flags") return by_flag(param, in);
  if (n == "name") return by_regexp(param, in, false);
  if (n == "network") return by_network(param, in);
  if (n == "rfc" || n == "rfcs") return by_rfcs(param, in);
  if (n == "size") return by_size(param, in);
  if (n == "type") return by_type(param, in);
  if (n == "port") fail("templet: sockaddr's port selector is not supported");
  fail(std::string("invalid ") + verb + " selector " + helpers::go_quote(name));
}

// Comparators: -1 receiver first, 1 argument first, 0 defer (ifaddrs.go, sockaddrs.go).
using Cmp = std::function<int(const IfAddr&, const IfAddr&)>;

int cmp_bytes(const Addr& a, const Addr& b) {
  int c = std::memcmp(a.b.data(), b.b.data(), a.len());
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

int asc_address(const IfAddr& p, const IfAddr& q) {
  if (p.addr.v6 != q.addr.v6) return 0;
  return cmp_bytes(p.addr, q.addr);
}

int asc_size(const IfAddr& p, const IfAddr& q) {
  if (p.addr.v6 != q.addr.v6) return 0;
  // bytes.Compare of the masks: the shorter prefix (the larger network) first.
  return p.addr.bits < q.addr.bits ? -1 : p.addr.bits > q.addr.bits ? 1 : 0;
}

int asc_type(const IfAddr& p, const IfAddr& q) {
  return p.addr.v6 == q.addr.v6 ? 0 : (!p.addr.v6 ? -1 : 1);
}

int asc_private(const IfAddr& p, const IfAddr& q) {
  bool a = is_rfc(6890, p.addr);
  if (p.addr.v6 != q.addr.v6) return a ? -1 : 0;
  bool b = is_rfc(6890, q.addr);
  return a == b ? 0 : (a ? -1 : 1);
}

// Go's sort.Sort on go-sockaddr's multi-key Less. The comparators are not a strict weak order
// (an IPv4 and an IPv6 address often compare equal), so the algorithm decides the result: this
// is Go's insertion sort, which pdqsort uses for up to 12 elements.
void sort_by(IfAddrs& v, const std::vector<Cmp>& cmps) {
  auto less = [&](const IfAddr& p, const IfAddr& q) {
    for (const auto& c : cmps) {
      int r = c(p, q);
      if (r != 0) return r < 0;
    }
    return false;
  };
  for (size_t i = 1; i < v.size(); ++i)
    for (size_t j = i; j > 0 && less(v[j], v[j - 1]); --j) std::swap(v[j], v[j - 1]);
}

struct Context {
  IfAddrs all;
  std::string default_if;

  int asc_default(const IfAddr& p, const IfAddr& q) const {
    if (default_if.empty()) return 0;
    bool a = p.name == default_if, b = q.name == default_if;
    return a == b ? 0 : (a ? -1 : 1);
  }

  IfAddrs ip_up_forwardable() const {
    IfAddrs v;
    for (const auto& x : by_flag("up", by_flag("forwardable", all).matched).matched) v.push_back(x);
    sort_by(v, {[this](const IfAddr& p, const IfAddr& q) { return asc_default(p, q); }, asc_type,
                asc_size});
    return v;
  }
  IfAddrs private_ifs() const { return by_rfcs("6890", ip_up_forwardable()).matched; }
  IfAddrs public_ifs() const { return by_rfcs("6890", ip_up_forwardable()).rest; }

  IfAddrs sorted_all() const {
    IfAddrs v = all;
    sort_by(v, {asc_type, asc_size});
    return v;
  }
};

std::string join_ips(const IfAddrs& v, size_t limit = SIZE_MAX) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < limit; ++i) out += (i ? " " : "") + ip_string(v[i].addr);
  return out;
}

std::string attr_of(const IfAddr& x, const std::string& name) {
  std::string n = lower(name);
  const Addr& a = x.addr;
  if (n == "name" && !x.name.empty()) return x.name;
  if (n == "flags") return flags_string(x.flags);
  if (n == "address") return ip_string(a);
  if (n == "host") {
    Addr h = a;
    h.bits = a.max_bits();
    return sockaddr_string(h);
  }
  if (n == "mask_bits") return std::to_string(a.bits);
  if (n == "network") return ip_string(masked(a));
  if (n == "netmask") {
    Addr m;
    m.v6 = a.v6;
    for (int i = 0; i < m.len(); ++i) {
      int keep = std::clamp(a.bits - i * 8, 0, 8);
      m.b[i] = keep == 0 ? 0 : static_cast<uint8_t>(0xff << (8 - keep));
    }
    m.bits = m.max_bits();
    return sockaddr_string(m);
  }
  if (n == "broadcast" && !a.v6) {
    Addr b = masked(a, true);
    b.bits = 32;
    return sockaddr_string(b);
  }
  if (n == "string") return sockaddr_string(a);
  if (n == "type") return a.v6 ? "IPv6" : "IPv4";
  fail("unsupported attribute name " + helpers::go_quote(n));
}

void add(FunctionTable& t, const char* name, std::vector<const Type*> params, NativeFunc call) {
  Function f;
  f.name = name;
  f.params = std::move(params);
  f.call = std::move(call);
  t.add(std::move(f));
}

FunctionTable sockaddr_functions(const Context& c) {
  FunctionTable t;
  const Type* str = &types::string;
  const Type* ifs = ifaddrs_type();
  auto source = [&t](const char* name, std::function<IfAddrs()> f) {
    add(t, name, {}, [f](CallContext&, Args) { return to_value(f()); });
  };
  source("GetAllInterfaces", [&c] { return c.all; });
  source("GetDefaultInterfaces", [&c] {
    IfAddrs v;
    for (const auto& x : c.all)
      if (x.name == c.default_if) v.push_back(x);
    return v;
  });
  source("GetPrivateInterfaces", [&c] { return c.private_ifs(); });
  source("GetPublicInterfaces", [&c] { return c.public_ifs(); });
  auto helper = [&t, str](const char* name, bool arg, std::function<std::string(Args)> f) {
    add(t, name, arg ? std::vector<const Type*>{str} : std::vector<const Type*>{},
        [f](CallContext&, Args a) { return Value::string(f(a)); });
  };
  helper("GetPrivateIP", false, [&c](Args) { return join_ips(c.private_ifs(), 1); });
  helper("GetPublicIP", false, [&c](Args) { return join_ips(c.public_ifs(), 1); });
  helper("GetPrivateIPs", false, [&c](Args) {
    Split s = by_rfcs("6890", c.sorted_all());
    return join_ips(by_rfcs(std::to_string(kForwardingBlacklist), s.matched).rest);
  });
  helper("GetPublicIPs", false,
         [&c](Args) { return join_ips(by_rfcs("6890", c.sorted_all()).rest); });
  helper("GetInterfaceIP", true, [&c](Args a) {
    IfAddrs v = by_flag("forwardable", by_regexp(a[0].as_string(), c.all, false).matched).matched;
    sort_by(v, {asc_type, asc_size});
    return v.empty() ? std::string() : ip_string(v[0].addr);
  });
  helper("GetInterfaceIPs", true, [&c](Args a) {
    IfAddrs v = by_regexp(a[0].as_string(), c.all, false).matched;
    sort_by(v, {asc_type, asc_size});
    return join_ips(v);
  });
  add(t, "include", {str, str, ifs}, [](CallContext&, Args a) {
    return to_value(select(a[0].as_string(), a[1].as_string(), from_list(a[2]), "include").matched);
  });
  add(t, "exclude", {str, str, ifs}, [](CallContext&, Args a) {
    return to_value(select(a[0].as_string(), a[1].as_string(), from_list(a[2]), "exclude").rest);
  });
  add(t, "sort", {str, ifs}, [&c](CallContext&, Args a) {
    std::vector<Cmp> cmps;
    const std::string& param = a[0].as_string();
    size_t p = 0;
    while (true) {
      size_t e = param.find(',', p);
      std::string clause = param.substr(p, e == std::string::npos ? std::string::npos : e - p);
      std::string k = lower(std::string(helpers::trim_space(clause)));
      bool desc = !k.empty() && k[0] == '-';
      if (!k.empty() && (k[0] == '+' || k[0] == '-')) k.erase(0, 1);
      Cmp base;
      if (k == "address")
        base = asc_address;
      else if (k == "default")
        base = [&c](const IfAddr& x, const IfAddr& y) { return c.asc_default(x, y); };
      else if (k == "name")
        base = [](const IfAddr& x, const IfAddr& y) {
          return x.name.compare(y.name) < 0 ? -1 : x.name == y.name ? 0 : 1;
        };
      else if (k == "private")
        base = asc_private;
      else if (k == "size")
        base = asc_size;
      else if (k == "type")
        base = asc_type;
      else if (k == "port")
        fail("templet: sockaddr's port sort is not supported");
      else
        fail("unknown sort type: " + helpers::go_quote(clause));
      cmps.push_back(desc ? Cmp([base](const IfAddr& x, const IfAddr& y) { return -base(x, y); })
                          : base);
      if (e == std::string::npos) break;
      p = e + 1;
    }
    IfAddrs v = from_list(a[1]);
    sort_by(v, cmps);
    return to_value(v);
  });
  add(t, "attr", {str, nullptr}, [](CallContext&, Args a) {
    const Value& v = a[1];
    if (v.type() == ifaddr_type()) return Value::string(attr_of(from_value(v), a[0].as_string()));
    if (v.type() == ifaddrs_type()) {
      IfAddrs l = from_list(v);
      return Value::string(l.empty() ? std::string() : attr_of(l[0], a[0].as_string()));
    }
    fail("unable to obtain attribute " + a[0].as_string() + " from type " +
         (v.valid() ? v.type()->name : std::string("<nil>")));
  });
  add(t, "join", {str, str, ifs}, [](CallContext&, Args a) {
    std::string out;
    IfAddrs l = from_list(a[2]);
    for (size_t i = 0; i < l.size(); ++i)
      out += (i ? a[1].as_string() : std::string()) + attr_of(l[i], a[0].as_string());
    return Value::string(out);
  });
  add(t, "limit", {&types::uint, ifs}, [](CallContext&, Args a) {
    IfAddrs l = from_list(a[1]);
    if (a[0].as_uint() < l.size()) l.resize(a[0].as_uint());
    return to_value(l);
  });
  add(t, "offset", {&types::int_, ifs}, [](CallContext&, Args a) {
    IfAddrs l = from_list(a[1]);
    int64_t off = a[0].as_int();
    bool end = off < 0;
    uint64_t n = end ? static_cast<uint64_t>(-(off + 1)) + 1 : static_cast<uint64_t>(off);
    if (n > l.size())
      fail("unable to seek past the end of the interface array: offset (" + std::to_string(n) +
           ") exceeds the number of interfaces (" + std::to_string(l.size()) + ")");
    return to_value(end ? IfAddrs(l.end() - static_cast<long>(n), l.end())
                        : IfAddrs(l.begin() + static_cast<long>(n), l.end()));
  });
  add(t, "unique", {str, ifs}, [](CallContext&, Args a) {
    std::string k = lower(a[0].as_string());
    if (k != "address" && k != "name")
      fail("unsupported unique constraint " + helpers::go_quote(a[0].as_string()));
    IfAddrs out;
    std::string last;
    for (const auto& x : from_list(a[1])) {
      std::string v = k == "address" ? sockaddr_string(x.addr) : x.name;
      if (last.empty() || last != v) {
        last = v;
        out.push_back(x);
      }
    }
    return to_value(out);
  });
  add(t, "math", {str, str, nullptr},
      [](CallContext&, Args) -> Value { fail("templet: sockaddr's math is not supported"); });
  return t;
}

Context context_of(const json& body) {
  Context c;
  if (!body.is_object()) return c;
  if (auto d = body.find("default_interface"); d != body.end() && d->is_string())
    c.default_if = d->get<std::string>();
  auto list = body.find("interfaces");
  const json ifs = list != body.end() && list->is_array() ? *list : json::array();
  for (const auto& i : ifs) {
    if (!i.is_object()) continue;
    IfAddr base;
    auto number = [&i](const char* key) {
      auto it = i.find(key);
      if (it == i.end()) return 0;
      return static_cast<int>(
          std::clamp<int64_t>(json_exact_int64(*it).value_or(0), INT32_MIN, INT32_MAX));
    };
    auto text = [&i](const char* key) {
      auto it = i.find(key);
      return it != i.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    base.name = text("name");
    base.index = number("index");
    base.mtu = number("mtu");
    base.hw = text("hardware_addr");
    auto flags = i.find("flags");
    for (const auto& f : flags != i.end() && flags->is_array() ? *flags : json::array())
      for (int k = 0; k < 6; ++k)
        if (f.is_string() && f.get<std::string>() == kFlagNames[k]) base.flags |= 1u << k;
    auto addrs = i.find("addresses");
    for (const auto& a : addrs != i.end() && addrs->is_array() ? *addrs : json::array()) {
      IfAddr x = base;
      if (!a.is_string() || !parse_addr(a.get<std::string>(), x.addr))
        fail("unable to create an IP address from " + helpers::go_quote(a.dump()));
      c.all.push_back(x);
    }
  }
  return c;
}

}  // namespace

std::string sockaddr_eval(const std::string& expr, const json& interfaces) {
  Context c = context_of(interfaces);
  FunctionTable funcs = sockaddr_functions(c);
  TemplateOptions o;
  o.name = "sockaddr.Parse";
  o.funcs = &funcs;
  o.missing_key = MissingKey::Error;
  std::unique_ptr<Template> t;
  try {
    t = std::make_unique<Template>(expr, o);
  } catch (const ParseError& e) {
    fail("unable to parse template " + helpers::go_quote(expr) + ": " + e.what());
  }
  std::string out;
  CallContext ctx;
  try {
    t->execute(out, to_value(c.all), ctx);
  } catch (const ExecError& e) {
    fail("unable to execute sockaddr input " + helpers::go_quote(expr) + ": " + e.what());
  }
  return out;
}

}  // namespace templet
