#include "functions/data_types.hpp"
#include "functions/data_types_internal.hpp"
#include "functions/health_check.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "functions/data_source.hpp"
#include "sys/number_cast.hpp"

namespace templet::dtypes {

using json = nlohmann::json;

// Readers of Consul JSON (data_types_internal.hpp).

const json* field(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string str(const json& j, const char* key) {
  const json* f = field(j, key);
  return f && f->is_string() ? f->get<std::string>() : std::string();
}

int64_t num(const json& j, const char* key) {
  const json* f = field(j, key);
  return f ? json_exact_int64(*f).value_or(0) : 0;
}

uint64_t unum(const json& j, const char* key) {
  const json* f = field(j, key);
  return f ? json_exact_uint64(*f).value_or(0) : 0;
}

bool boolean(const json& j, const char* key) {
  const json* f = field(j, key);
  return f && f->is_boolean() && f->get<bool>();
}

std::vector<std::string> strings(const json& j, const char* key) {
  std::vector<std::string> out;
  const json* f = field(j, key);
  if (!f || !f->is_array()) return out;
  for (const auto& x : *f)
    if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

namespace {

using json = nlohmann::json;

Type make_struct(std::string name, std::vector<std::string> fields, bool pointer = true) {
  Type t;
  t.kind = Kind::Struct;
  t.name = std::move(name);
  t.fields = std::move(fields);
  t.pointer = pointer;
  return t;
}

Type make_list(std::string name, const Type* elem) {
  Type t;
  t.kind = Kind::List;
  t.name = std::move(name);
  t.elem = elem;
  return t;
}

Type make_map(std::string name, const Type* elem) {
  Type t;
  t.kind = Kind::Map;
  t.name = std::move(name);
  t.key = &types::string;
  t.elem = elem;
  return t;
}

const Type* agent_weights() {
  static const Type t = make_struct("api.AgentWeights", {"Passing", "Warning"}, false);
  return &t;
}

const Type* service_address() {
  static const Type t = make_struct("api.ServiceAddress", {"Address", "Port"}, false);
  return &t;
}

const Type* service_address_map() {
  static const Type t = make_map("map[string]api.ServiceAddress", service_address());
  return &t;
}

const Type* catalog_node_service_list() {
  static const Type t = make_list("[]*dependency.CatalogNodeService", catalog_node_service());
  return &t;
}

Value string_map(const json& j, const char* key) {
  const json* f = field(j, key);
  if (!f || !f->is_object()) return Value::typed_nil(&types::map_string);
  std::vector<std::pair<Value, Value>> entries;
  for (auto it = f->begin(); it != f->end(); ++it)
    entries.emplace_back(Value::string(it.key()),
                         Value::string(it->is_string() ? it->get<std::string>() : ""));
  return Value::map(std::move(entries), &types::map_string);
}

Value string_list(std::vector<std::string> items, bool nil_when_empty) {
  if (items.empty() && nil_when_empty) return Value::typed_nil(&types::list_string);
  std::vector<Value> v;
  v.reserve(items.size());
  for (auto& s : items) v.push_back(Value::string(std::move(s)));
  return Value::list(std::move(v), &types::list_string);
}

// deepCopyAndSortTags: always a non-nil list.
Value sorted_tags(const json& j, const char* key) {
  auto tags = strings(j, key);
  std::sort(tags.begin(), tags.end());
  return string_list(std::move(tags), false);
}

Value weights(const json& service) {
  const json* w = field(service, "Weights");
  json empty = json::object();
  const json& src = w ? *w : empty;
  return Value::structure(
      agent_weights(), {Value::integer(num(src, "Passing")), Value::integer(num(src, "Warning"))});
}

Value tagged_service_addresses(const json& service) {
  const json* f = field(service, "TaggedAddresses");
  if (!f || !f->is_object()) return Value::typed_nil(service_address_map());
  std::vector<std::pair<Value, Value>> entries;
  for (auto it = f->begin(); it != f->end(); ++it)
    entries.emplace_back(Value::string(it.key()),
                         Value::structure(service_address(), {Value::string(str(*it, "Address")),
                                                              Value::integer(num(*it, "Port"))}));
  return Value::map(std::move(entries), service_address_map());
}

Value node_value(const json& n) {
  return Value::structure(node(),
                          {Value::string(str(n, "ID")), Value::string(str(n, "Node")),
                           Value::string(str(n, "Address")), Value::string(str(n, "Datacenter")),
                           string_map(n, "TaggedAddresses"), string_map(n, "Meta")});
}

const std::string& field_string(const Value& v, int idx) {
  return v.as_fields()[idx].as_string();
}

// --- JSON text → Values, keeping number literals (encoding/json with UseNumber) ---

class ValueSax : public json::json_sax_t {
 public:
  explicit ValueSax(bool taint) : taint_(taint) {}

  bool null() override { return add(Value::nil()); }
  bool boolean(bool b) override { return add(Value::boolean(b)); }
  bool number_integer(number_integer_t i) override { return add(number(std::to_string(i))); }
  bool number_unsigned(number_unsigned_t u) override { return add(number(std::to_string(u))); }
  bool number_float(number_float_t, const string_t& raw) override { return add(number(raw)); }
  bool string(string_t& s) override {
    return add(taint_ ? Value::tainted_string(std::move(s)) : Value::string(std::move(s)));
  }
  bool binary(binary_t&) override { return false; }
  bool start_object(std::size_t) override {
    stack_.push_back(Frame{true, {}, {}, {}});
    return true;
  }
  bool key(string_t& k) override {
    stack_.back().key = std::move(k);
    return true;
  }
  bool end_object() override {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    Value m = Value::map(std::move(f.entries));
    return add(taint_ ? m.with_taint() : m);
  }
  bool start_array(std::size_t) override {
    stack_.push_back(Frame{false, {}, {}, {}});
    return true;
  }
  bool end_array() override {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    Value l = Value::list(std::move(f.items));
    return add(taint_ ? l.with_taint() : l);
  }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    error_ = ex.what();
    return false;
  }

  Value result() { return std::move(result_); }
  const std::string& error() const { return error_; }

 private:
  struct Frame {
    bool is_object;
    std::string key;
    std::vector<Value> items;
    std::vector<std::pair<Value, Value>> entries;
  };
  // Numbers are not tainted: they are json.Number, but masking every "3600" in a diff would hide
  // more than it protects.
  static Value number(std::string text) {
    return Value::string(std::move(text), &types::json_number);
  }
  bool add(Value v) {
    if (stack_.empty())
      result_ = std::move(v);
    else if (stack_.back().is_object)
      stack_.back().entries.emplace_back(Value::string(std::move(stack_.back().key)), std::move(v));
    else
      stack_.back().items.push_back(std::move(v));
    return true;
  }

  bool taint_;
  std::vector<Frame> stack_;
  Value result_;
  std::string error_;
};

const Value* get(const Value& map, std::string_view key) {
  if (map.kind() != Kind::Map || map.is_nil()) return nullptr;
  const Value* v = map.map_find(key);
  return v && v->kind() != Kind::Nil ? v : nullptr;
}

std::string text_of(const Value* v) {
  return v && v->kind() == Kind::String ? v->as_string() : std::string();
}

int64_t int_of(const Value* v) {
  if (!v || v->kind() != Kind::String) return 0;
  const std::string& s = v->as_string();
  int64_t i = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), i);
  if (r.ec == std::errc() && r.ptr == s.data() + s.size()) return i;
  double d = 0;
  std::from_chars(s.data(), s.data() + s.size(), d);
  return json_exact_int64(nlohmann::json(std::trunc(d))).value_or(0);
}

bool bool_of(const Value* v) {
  return v && v->kind() == Kind::Bool && v->as_bool();
}

Value plain(const std::string& s) {
  return Value::string(s);
}
Value secret_text(const std::string& s) {
  return Value::tainted_string(s);
}

Value plain_string_list(const Value* v, bool nil_when_empty) {
  std::vector<std::string> items;
  if (v && v->kind() == Kind::List)
    for (const auto& x : v->as_list())
      if (x.kind() == Kind::String) items.push_back(x.as_string());
  return string_list(std::move(items), nil_when_empty);
}

Value plain_string_map(const Value* v) {
  if (!v || v->kind() != Kind::Map) return Value::typed_nil(&types::map_string);
  std::vector<std::pair<Value, Value>> entries;
  for (const auto& [k, x] : v->as_map())
    entries.emplace_back(plain(k.as_string()), plain(text_of(&x)));
  return Value::map(std::move(entries), &types::map_string);
}

}  // namespace

const Type* key_pair() {
  static const Type t = make_struct(
      "*dependency.KeyPair",
      {"Path", "Key", "Value", "CreateIndex", "ModifyIndex", "LockIndex", "Flags", "Session"});
  return &t;
}
const Type* key_pair_list() {
  static const Type t = make_list("[]*dependency.KeyPair", key_pair());
  return &t;
}
const Type* health_service() {
  static const Type t = make_struct(
      "*dependency.HealthService",
      {"Node", "NodeID", "NodeAddress", "NodeTaggedAddresses", "NodeMeta", "ServiceMeta", "Address",
       "ServiceTaggedAddresses", "ID", "Name", "Tags", "Checks", "Status", "Port", "Weights"});
  return &t;
}
const Type* health_service_list() {
  static const Type t = make_list("[]*dependency.HealthService", health_service());
  return &t;
}
const Type* catalog_snippet() {
  static const Type t = make_struct("*dependency.CatalogSnippet", {"Name", "Tags"});
  return &t;
}
const Type* catalog_snippet_list() {
  static const Type t = make_list("[]*dependency.CatalogSnippet", catalog_snippet());
  return &t;
}
const Type* node() {
  static const Type t = make_struct(
      "*dependency.Node", {"ID", "Node", "Address", "Datacenter", "TaggedAddresses", "Meta"});
  return &t;
}
const Type* node_list() {
  static const Type t = make_list("[]*dependency.Node", node());
  return &t;
}
const Type* catalog_node() {
  static const Type t = make_struct("*dependency.CatalogNode", {"Node", "Services"});
  return &t;
}
const Type* catalog_node_service() {
  static const Type t =
      make_struct("*dependency.CatalogNodeService",
                  {"ID", "Service", "Tags", "Meta", "Port", "Address", "EnableTagOverride"});
  return &t;
}
const Type* secret() {
  static const Type t =
      make_struct("*dependency.Secret", {"RequestID", "LeaseID", "LeaseDuration", "Renewable",
                                         "Data", "Warnings", "Auth", "WrapInfo"});
  return &t;
}
const Type* secret_auth() {
  static const Type t = make_struct(
      "*dependency.SecretAuth",
      {"ClientToken", "Accessor", "Policies", "Metadata", "LeaseDuration", "Renewable"});
  return &t;
}
const Type* secret_wrap_info() {
  static const Type t = make_struct("*dependency.SecretWrapInfo",
                                    {"Token", "TTL", "CreationTime", "WrappedAccessor"});
  return &t;
}

nlohmann::json parse_json(std::string_view text) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw FetchError(std::string("invalid JSON in response: ") + e.what());
  }
}

std::string base64_decode(std::string_view s) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '=') break;
    int v = val(c);
    if (v < 0) throw FetchError("illegal base64 data at input byte " + std::to_string(i));
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

std::string kv_value(const nlohmann::json& body) {
  if (!body.is_array() || body.empty()) return "";
  const json* v = field(body[0], "Value");
  return v && v->is_string() ? base64_decode(v->get<std::string>()) : "";
}

Value key_pairs(const nlohmann::json& body, const std::string& prefix) {
  std::vector<Value> items;
  if (body.is_array()) {
    for (const auto& p : body) {
      std::string path = str(p, "Key");
      std::string key = path;
      if (key.compare(0, prefix.size(), prefix) == 0) key.erase(0, prefix.size());
      key.erase(0, key.find_first_not_of('/') == std::string::npos ? key.size()
                                                                   : key.find_first_not_of('/'));
      const json* v = field(p, "Value");
      std::string value = v && v->is_string() ? base64_decode(v->get<std::string>()) : "";
      items.push_back(Value::structure(
          key_pair(),
          {Value::string(path), Value::string(key), Value::string(value),
           Value::uinteger(unum(p, "CreateIndex")), Value::uinteger(unum(p, "ModifyIndex")),
           Value::uinteger(unum(p, "LockIndex")), Value::uinteger(unum(p, "Flags")),
           Value::string(str(p, "Session"))}));
    }
  }
  return Value::list(std::move(items), key_pair_list());
}

std::string aggregated_status(const nlohmann::json& checks) {
  bool passing = false, warning = false, critical = false, maintenance = false;
  if (checks.is_array()) {
    for (const auto& c : checks) {
      std::string id = str(c, "CheckID");
      if (id == "_node_maintenance" || id.rfind("_service_maintenance:", 0) == 0) {
        maintenance = true;
        continue;
      }
      std::string status = str(c, "Status");
      if (status == "passing")
        passing = true;
      else if (status == "warning")
        warning = true;
      else if (status == "critical")
        critical = true;
      else
        return "";
    }
  }
  if (maintenance) return "maintenance";
  if (critical) return "critical";
  if (warning) return "warning";
  (void)passing;
  return "passing";
}

Value health_services(const nlohmann::json& body, const Dependency& dep) {
  std::vector<Value> items;
  bool any = std::find(dep.filters.begin(), dep.filters.end(), "any") != dep.filters.end();
  if (body.is_array()) {
    for (const auto& e : body) {
      const json empty = json::object();
      const json& n = field(e, "Node") ? e["Node"] : empty;
      const json& s = field(e, "Service") ? e["Service"] : empty;
      const json checks = field(e, "Checks") ? e["Checks"] : json();
      std::string status = aggregated_status(checks);
      if (!any && std::find(dep.filters.begin(), dep.filters.end(), status) == dep.filters.end())
        continue;
      std::string address = str(s, "Address");
      if (address.empty()) address = str(n, "Address");
      items.push_back(Value::structure(
          health_service(),
          {Value::string(str(n, "Node")), Value::string(str(n, "ID")),
           Value::string(str(n, "Address")), string_map(n, "TaggedAddresses"),
           string_map(n, "Meta"), string_map(s, "Meta"), Value::string(address),
           tagged_service_addresses(s), Value::string(str(s, "ID")),
           Value::string(str(s, "Service")), sorted_tags(s, "Tags"), checks_value(checks),
           Value::string(status), Value::integer(num(s, "Port")), weights(s)}));
    }
  }
  if (dep.near.empty()) {
    std::stable_sort(items.begin(), items.end(), [](const Value& a, const Value& b) {
      const auto& an = field_string(a, 0);
      const auto& bn = field_string(b, 0);
      if (an != bn) return an < bn;
      return field_string(a, 8) < field_string(b, 8);
    });
  }
  return Value::list(std::move(items), health_service_list());
}

Value catalog_snippets(const nlohmann::json& body) {
  std::vector<Value> items;
  if (body.is_object()) {
    for (auto it = body.begin(); it != body.end(); ++it) {
      std::vector<std::string> tags;
      if (it->is_array())
        for (const auto& t : *it)
          if (t.is_string()) tags.push_back(t.get<std::string>());
      std::sort(tags.begin(), tags.end());
      items.push_back(
          Value::structure(catalog_snippet(), {Value::string(it.key()), string_list(tags, false)}));
    }
  }
  std::stable_sort(items.begin(), items.end(), [](const Value& a, const Value& b) {
    return field_string(a, 0) < field_string(b, 0);
  });
  return Value::list(std::move(items), catalog_snippet_list());
}

Value catalog_node_value(const nlohmann::json& body) {
  const json* n = field(body, "Node");
  if (!n) {
    return Value::structure(
        catalog_node(), {Value::typed_nil(node()), Value::typed_nil(catalog_node_service_list())});
  }
  std::vector<Value> services;
  if (const json* svcs = field(body, "Services")) {
    for (auto it = svcs->begin(); it != svcs->end(); ++it) {
      const json& s = *it;
      services.push_back(Value::structure(
          catalog_node_service(),
          {Value::string(str(s, "ID")), Value::string(str(s, "Service")), sorted_tags(s, "Tags"),
           string_map(s, "Meta"), Value::integer(num(s, "Port")), Value::string(str(s, "Address")),
           Value::boolean(boolean(s, "EnableTagOverride"))}));
    }
  }
  std::stable_sort(services.begin(), services.end(), [](const Value& a, const Value& b) {
    const auto& as = field_string(a, 1);
    const auto& bs = field_string(b, 1);
    if (as != bs) return as < bs;
    return field_string(a, 0) < field_string(b, 0);
  });
  return Value::structure(
      catalog_node(),
      {node_value(*n), Value::list(std::move(services), catalog_node_service_list())});
}

Value catalog_nodes(const nlohmann::json& body, bool sort) {
  std::vector<Value> items;
  if (body.is_array())
    for (const auto& n : body) items.push_back(node_value(n));
  if (sort) {
    std::stable_sort(items.begin(), items.end(), [](const Value& a, const Value& b) {
      const auto& an = field_string(a, 1);
      const auto& bn = field_string(b, 1);
      if (an != bn) return an < bn;
      return field_string(a, 2) < field_string(b, 2);
    });
  }
  return Value::list(std::move(items), node_list());
}

Value json_to_value(std::string_view text, bool taint) {
  ValueSax sax(taint);
  json::sax_parse(text.begin(), text.end(), &sax);
  if (!sax.error().empty()) throw FetchError("invalid JSON in response: " + sax.error());
  return sax.result();
}

Value vault_secret(std::string_view body) {
  Value top = json_to_value(body, true);
  if (top.kind() != Kind::Map) throw FetchError("no secret in response");
  Value data = Value::typed_nil(&types::map_any);
  if (const Value* d = get(top, "data"); d && d->kind() == Kind::Map && !d->as_map().empty())
    data = *d;
  Value auth = Value::typed_nil(secret_auth());
  if (const Value* a = get(top, "auth"); a && a->kind() == Kind::Map) {
    auth = Value::structure(
        secret_auth(),
        {secret_text(text_of(get(*a, "client_token"))), plain(text_of(get(*a, "accessor"))),
         plain_string_list(get(*a, "policies"), true), plain_string_map(get(*a, "metadata")),
         Value::integer(int_of(get(*a, "lease_duration"))),
         Value::boolean(bool_of(get(*a, "renewable")))});
  }
  Value wrap = Value::typed_nil(secret_wrap_info());
  if (const Value* w = get(top, "wrap_info"); w && w->kind() == Kind::Map) {
    wrap = Value::structure(
        secret_wrap_info(),
        {secret_text(text_of(get(*w, "token"))), Value::integer(int_of(get(*w, "ttl"))),
         plain(text_of(get(*w, "creation_time"))), plain(text_of(get(*w, "wrapped_accessor")))});
  }
  return Value::structure(
      secret(), {plain(text_of(get(top, "request_id"))), secret_text(text_of(get(top, "lease_id"))),
                 Value::integer(int_of(get(top, "lease_duration"))),
                 Value::boolean(bool_of(get(top, "renewable"))), data,
                 plain_string_list(get(top, "warnings"), true), auth, wrap});
}

bool secret_has_data_or_warnings(const Value& secret) {
  const auto& f = secret.as_fields();
  const Value& data = f[4];
  const Value& warnings = f[5];
  return (!data.is_nil() && !data.as_map().empty()) ||
         (!warnings.is_nil() && !warnings.as_list().empty());
}

bool parse_rfc3339(std::string_view s, int64_t& seconds, int64_t& nanos) {
  auto digits = [&s](size_t at, size_t n, int& out) {
    if (at + n > s.size()) return false;
    out = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int year, mon, day, hour, min, sec;
  if (!digits(0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(5, 2, mon) || s[7] != '-' ||
      !digits(8, 2, day) || s[10] != 'T' || !digits(11, 2, hour) || s[13] != ':' ||
      !digits(14, 2, min) || s[16] != ':' || !digits(17, 2, sec))
    return false;
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (mon < 1 || mon > 12 || day < 1 || day > kDays[mon - 1] || (mon == 2 && day == 29 && !leap) ||
      hour > 23 || min > 59 || sec > 59)
    return false;
  size_t i = 19;
  nanos = 0;
  if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
    size_t j = i + 1;
    int64_t scale = 100000000;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') {
      nanos += (s[j] - '0') * scale;
      scale /= 10;
      ++j;
    }
    if (j == i + 1) return false;
    i = j;
  }
  int offset = 0;
  if (i < s.size() && s[i] == 'Z') {
    ++i;
  } else {
    int oh, om;
    if (i + 6 != s.size() || (s[i] != '+' && s[i] != '-') || !digits(i + 1, 2, oh) ||
        s[i + 3] != ':' || !digits(i + 4, 2, om) || oh > 23 || om > 59)
      return false;
    offset = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
    i += 6;
  }
  if (i != s.size()) return false;
  // Days from the civil date (Howard Hinnant's algorithm).
  int y = mon <= 2 ? year - 1 : year;
  int era = (y >= 0 ? y : y - 399) / 400;
  int yoe = y - era * 400;
  int doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = static_cast<int64_t>(era) * 146097 + doe - 719468;
  seconds = days * 86400 + hour * 3600 + min * 60 + sec - offset;
  return true;
}

bool secret_deleted_kv2(const Value& secret, std::chrono::system_clock::time_point now) {
  const Value& data = secret.as_fields()[4];
  if (data.is_nil()) return false;
  const Value* md = data.map_find("metadata");
  if (md == nullptr || md->kind() != Kind::Map || md->is_nil()) return false;
  const Value* when = md->map_find("deletion_time");
  if (when == nullptr || when->kind() != Kind::String) return false;
  int64_t secs = 0, nanos = 0;
  if (!parse_rfc3339(when->as_string(), secs, nanos)) return false;
  // Compared in seconds first: a far deletion_time would overflow the clock's nanoseconds.
  auto since = now.time_since_epoch();
  int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(since).count();
  if (now_s != secs) return now_s > secs;
  return (std::chrono::duration_cast<std::chrono::nanoseconds>(since).count() % 1000000000) > nanos;
}

Value vault_list_keys(std::string_view body) {
  std::vector<std::string> keys;
  if (!body.empty()) {
    json j = parse_json(body);
    if (const json* d = field(j, "data")) keys = strings(*d, "keys");
  }
  std::sort(keys.begin(), keys.end());
  return string_list(std::move(keys), true);
}

}  // namespace templet::dtypes
