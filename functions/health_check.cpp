#include "functions/health_check.hpp"

#include <cmath>

#include "functions/data_types.hpp"
#include "functions/data_types_internal.hpp"
#include "sys/number_cast.hpp"

namespace templet::dtypes {

using json = nlohmann::json;

namespace {

// time.Duration prints as its String(): a String Value of that type. api.ReadableDuration's
// String has a pointer receiver, which fmt cannot call on a field: it prints as its int64.
const Type* duration_type() {
  static const Type d = [] {
    Type t;
    t.kind = Kind::String;
    t.name = "time.Duration";
    return t;
  }();
  return &d;
}
const Type* readable_duration_type() {
  static const Type r = [] {
    Type t;
    t.kind = Kind::Int;
    t.name = "api.ReadableDuration";
    return t;
  }();
  return &r;
}

const Type* header_map() {
  static const Type t = [] {
    Type m;
    m.kind = Kind::Map;
    m.name = "map[string][]string";
    m.key = &types::string;
    m.elem = &types::list_string;
    return m;
  }();
  return &t;
}

// The anonymous struct Definition's MarshalJSON encodes: the three durations as strings first,
// then the fields of its alias, the durations there shadowed and the *Duration ones json:"-".
const Type* definition_json() {
  static const Type t = [] {
    Type s;
    s.kind = Kind::Struct;
    s.name = "struct";
    s.fields = {"Interval",   "Timeout",       "DeregisterCriticalServiceAfter",
                "HTTP",       "Header",        "Method",
                "Body",       "TLSServerName", "TLSSkipVerify",
                "TCP",        "TCPUseTLS",     "UDP",
                "GRPC",       "OSService",     "GRPCUseTLS",
                "SessionName"};
    s.json_options = "               o";
    return s;
  }();
  return &t;
}

const Type* definition() {
  static const Type t = [] {
    Type s;
    s.kind = Kind::Struct;
    s.name = "api.HealthCheckDefinition";
    s.fields = {"HTTP",
                "Header",
                "Method",
                "Body",
                "TLSServerName",
                "TLSSkipVerify",
                "TCP",
                "TCPUseTLS",
                "UDP",
                "GRPC",
                "OSService",
                "GRPCUseTLS",
                "IntervalDuration",
                "TimeoutDuration",
                "DeregisterCriticalServiceAfterDuration",
                "SessionName",
                "Interval",
                "Timeout",
                "DeregisterCriticalServiceAfter"};
    s.json_options = "            ---o   ";
    s.marshal_json = [](const Value& v) {
      const auto& f = v.as_fields();
      // The *Duration fields: UnmarshalJSON keeps them equal to the readable ones.
      std::vector<Value> out = {f[12], f[13], f[14]};
      for (size_t i = 0; i < 12; ++i) out.push_back(f[i]);
      out.push_back(f[15]);
      return Value::structure(definition_json(), std::move(out));
    };
    return s;
  }();
  return &t;
}

Value definition_value(const json& c) {
  static const json empty = json::object();
  const json* dp = field(c, "Definition");
  const json& d = dp && dp->is_object() ? *dp : empty;
  Value header = Value::typed_nil(header_map());
  if (const json* h = field(d, "Header"); h && h->is_object()) {
    std::vector<std::pair<Value, Value>> entries;
    for (auto it = h->begin(); it != h->end(); ++it) {
      std::vector<Value> vals;
      if (it->is_array())
        for (const auto& x : *it)
          if (x.is_string()) vals.push_back(Value::string(x.get<std::string>()));
      entries.emplace_back(Value::string(it.key()),
                           it->is_array() ? Value::list(std::move(vals), &types::list_string)
                                          : Value::typed_nil(&types::list_string));
    }
    header = Value::map(std::move(entries), header_map());
  }
  // UnmarshalJSON: each *Duration field, when given, wins and sets the readable one as well.
  auto duration = [&d](const char* readable, const char* exact) {
    int64_t n = 0;
    const json* e = field(d, exact);
    const json* r = field(d, readable);
    if (e && e->is_number()) {
      n = json_exact_int64(*e).value_or(0);
    } else if (e && e->is_string()) {
      parse_go_duration(e->get<std::string>(), n);
    } else if (r && r->is_string()) {
      parse_go_duration(r->get<std::string>(), n);
    } else if (r && r->is_number()) {
      n = json_exact_int64(*r).value_or(0);
    }
    return n;
  };
  int64_t interval = duration("Interval", "IntervalDuration");
  int64_t timeout = duration("Timeout", "TimeoutDuration");
  int64_t deregister =
      duration("DeregisterCriticalServiceAfter", "DeregisterCriticalServiceAfterDuration");
  auto exact = [](int64_t n) { return Value::string(format_go_duration(n), duration_type()); };
  auto readable = [](int64_t n) { return Value::integer(n, readable_duration_type()); };
  return Value::structure(
      definition(), {Value::string(str(d, "HTTP")), header, Value::string(str(d, "Method")),
                     Value::string(str(d, "Body")), Value::string(str(d, "TLSServerName")),
                     Value::boolean(boolean(d, "TLSSkipVerify")), Value::string(str(d, "TCP")),
                     Value::boolean(boolean(d, "TCPUseTLS")), Value::string(str(d, "UDP")),
                     Value::string(str(d, "GRPC")), Value::string(str(d, "OSService")),
                     Value::boolean(boolean(d, "GRPCUseTLS")), exact(interval), exact(timeout),
                     exact(deregister), Value::string(str(d, "SessionName")), readable(interval),
                     readable(timeout), readable(deregister)});
}

// A JSON array is a list even when empty (Consul sends ServiceTags: []); absent or null is nil.
Value string_list_as_sent(const json& j, const char* key) {
  const json* f = field(j, key);
  if (!f || !f->is_array()) return Value::typed_nil(&types::list_string);
  std::vector<Value> items;
  for (const auto& x : *f)
    if (x.is_string()) items.push_back(Value::string(x.get<std::string>()));
  return Value::list(std::move(items), &types::list_string);
}

}  // namespace

const Type* health_check() {
  static const Type t = [] {
    Type s;
    s.kind = Kind::Struct;
    s.name = "*api.HealthCheck";
    s.pointer = true;
    s.fields = {"Node",        "CheckID",    "Name",        "Status",      "Notes",
                "Output",      "ServiceID",  "ServiceName", "ServiceTags", "Type",
                "Namespace",   "Partition",  "ExposedPort", "PeerName",    "Definition",
                "CreateIndex", "ModifyIndex"};
    s.json_options = "          oo o   ";
    return s;
  }();
  return &t;
}

const Type* health_checks() {
  static const Type t = [] {
    Type l;
    l.kind = Kind::List;
    l.name = "api.HealthChecks";
    l.elem = health_check();
    return l;
  }();
  return &t;
}

Value checks_value(const json& checks) {
  if (!checks.is_array()) return Value::typed_nil(health_checks());
  std::vector<Value> items;
  for (const auto& c : checks) {
    items.push_back(Value::structure(
        health_check(), {Value::string(str(c, "Node")), Value::string(str(c, "CheckID")),
                         Value::string(str(c, "Name")), Value::string(str(c, "Status")),
                         Value::string(str(c, "Notes")), Value::string(str(c, "Output")),
                         Value::string(str(c, "ServiceID")), Value::string(str(c, "ServiceName")),
                         string_list_as_sent(c, "ServiceTags"), Value::string(str(c, "Type")),
                         Value::string(str(c, "Namespace")), Value::string(str(c, "Partition")),
                         Value::integer(num(c, "ExposedPort")), Value::string(str(c, "PeerName")),
                         definition_value(c), Value::uinteger(unum(c, "CreateIndex")),
                         Value::uinteger(unum(c, "ModifyIndex"))}));
  }
  return Value::list(std::move(items), health_checks());
}

bool parse_go_duration(std::string_view s, int64_t& nanos) {
  if (s == "0") {
    nanos = 0;
    return true;
  }
  bool neg = false;
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  if (i == s.size()) return false;
  double total = 0;
  while (i < s.size()) {
    size_t start = i;
    double v = 0, scale = 1;
    bool frac = false, digits = false;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || (s[i] == '.' && !frac))) {
      if (s[i] == '.') {
        frac = true;
      } else {
        digits = true;
        if (frac) {
          scale /= 10;
          v += (s[i] - '0') * scale;
        } else {
          v = v * 10 + (s[i] - '0');
        }
      }
      ++i;
    }
    if (!digits || i == start) return false;
    size_t u = i;
    while (i < s.size() && !(s[i] >= '0' && s[i] <= '9') && s[i] != '.') ++i;
    std::string_view unit = s.substr(u, i - u);
    double mul;
    if (unit == "ns") {
      mul = 1;
    } else if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs") {
      mul = 1e3;
    } else if (unit == "ms") {
      mul = 1e6;
    } else if (unit == "s") {
      mul = 1e9;
    } else if (unit == "m") {
      mul = 60e9;
    } else if (unit == "h") {
      mul = 3600e9;
    } else {
      return false;
    }
    total += v * mul;
  }
  nanos = static_cast<int64_t>(std::llround(neg ? -total : total));
  return true;
}

std::string format_go_duration(int64_t d) {
  if (d == 0) return "0s";
  bool neg = d < 0;
  uint64_t u = neg ? static_cast<uint64_t>(-(d + 1)) + 1 : static_cast<uint64_t>(d);
  // Fractional digits of v / 10^prec, trailing zeros dropped (Go's fmtFrac).
  auto frac = [](uint64_t v, int prec, std::string& out) {
    std::string digits;
    bool print = false;
    for (int i = 0; i < prec; ++i) {
      int digit = static_cast<int>(v % 10);
      print = print || digit != 0;
      if (print) digits.insert(digits.begin(), static_cast<char>('0' + digit));
      v /= 10;
    }
    if (print) out = "." + digits + out;
    return v;
  };
  std::string out;
  if (u < 1000000000) {
    // Under a second: ns, µs or ms with a fraction.
    int prec = 0;
    std::string unit;
    if (u < 1000) {
      unit = "ns";
    } else if (u < 1000000) {
      prec = 3;
      unit = "\u00b5s";
    } else {
      prec = 6;
      unit = "ms";
    }
    out = unit;
    u = frac(u, prec, out);
    out = std::to_string(u) + out;
  } else {
    out = "s";
    u = frac(u, 9, out);
    out = std::to_string(u % 60) + out;
    u /= 60;
    if (u > 0) {
      out = std::to_string(u % 60) + "m" + out;
      u /= 60;
      if (u > 0) out = std::to_string(u) + "h" + out;
    }
  }
  return neg ? "-" + out : out;
}

}  // namespace templet::dtypes
