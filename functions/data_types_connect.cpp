// Converters for consul-template's Connect and topology objects (see data_types_connect.hpp).
#include "functions/data_types_connect.hpp"

#include <algorithm>

#include "functions/data_source.hpp"
#include "functions/data_types.hpp"
#include "functions/data_types_internal.hpp"

namespace templet::dtypes {

using json = nlohmann::json;

namespace {

Type make_struct(std::string name, std::vector<std::string> fields, bool pointer,
                 std::string json_options = "") {
  Type t;
  t.kind = Kind::Struct;
  t.name = std::move(name);
  t.fields = std::move(fields);
  t.pointer = pointer;
  t.json_options = std::move(json_options);
  return t;
}

Type make_list(std::string name, const Type* elem) {
  Type t;
  t.kind = Kind::List;
  t.name = std::move(name);
  t.elem = elem;
  return t;
}

// Time.String's text back to RFC 3339 with Go's RFC3339Nano (the fraction already trimmed).
Value time_json(const Value& v) {
  const std::string& s = v.as_string();
  std::string out = s.substr(0, 10) + "T";
  size_t zone = s.find(' ', 11);
  out += s.substr(11, zone - 11);
  std::string off = zone == std::string::npos ? "+0000" : s.substr(zone + 1, 5);
  out += off == "+0000" ? std::string("Z") : off.substr(0, 3) + ":" + off.substr(3, 2);
  return Value::string(out);
}

Type make_time(std::string name) {
  Type t;
  t.kind = Kind::String;
  t.name = std::move(name);
  t.marshal_json = time_json;
  return t;
}

const Type* go_time_ptr() {
  static const Type t = make_time("*time.Time");
  return &t;
}

// encoding/json's view of api.CARoot: RootCertPEM is tagged json:"RootCert".
const Type* ca_root_json() {
  static const Type t = make_struct(
      "api.CARoot", {"ID", "Name", "RootCert", "Active", "CreateIndex", "ModifyIndex"}, false);
  return &t;
}

const Type* ca_root() {
  static const Type t = [] {
    Type r = make_struct(
        "*api.CARoot", {"ID", "Name", "RootCertPEM", "Active", "CreateIndex", "ModifyIndex"}, true);
    r.marshal_json = [](const Value& v) { return Value::structure(ca_root_json(), v.as_fields()); };
    return r;
  }();
  return &t;
}

const Type* partition() {
  static const Type t = make_struct("*dependency.Partition", {"Name", "Description"}, true);
  return &t;
}

const Type* stream_status() {
  static const Type t = make_struct(
      "dependency.PeeringStreamStatus",
      {"ImportedServices", "ExportedServices", "LastHeartbeat", "LastReceive", "LastSend"}, false);
  return &t;
}

const Type* remote_info() {
  static const Type t =
      make_struct("dependency.PeeringRemoteInfo", {"Partition", "Datacenter"}, false);
  return &t;
}

const Type* peering() {
  static const Type t =
      make_struct("*dependency.Peering",
                  {"ID", "Name", "Partition", "Meta", "PeeringState", "PeerID", "PeerServerName",
                   "PeerServerAddresses", "StreamStatus", "Remote"},
                  true);
  return &t;
}

const Type* resolved_consumers() {
  static const Type t = make_struct("dependency.ResolvedConsumers", {"Peers", "Partitions"}, false);
  return &t;
}

const Type* exported_service() {
  static const Type t = make_struct("dependency.ExportedService",
                                    {"Service", "Partition", "Namespace", "Consumers"}, false);
  return &t;
}

const Type* imported_service() {
  static const Type t =
      make_struct("dependency.ImportedService", {"Service", "Namespace", "SourcePartition"}, false);
  return &t;
}

Value string_list(const json& j, const char* key, bool nil_when_absent) {
  const json* f = field(j, key);
  if (!f || !f->is_array()) {
    if (nil_when_absent) return Value::typed_nil(&types::list_string);
    return Value::list({}, &types::list_string);
  }
  std::vector<Value> v;
  for (const auto& x : *f)
    v.push_back(Value::string(x.is_string() ? x.get<std::string>() : std::string()));
  return Value::list(std::move(v), &types::list_string);
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

const json& object_or_empty(const json& j, const char* key) {
  static const json empty = json::object();
  const json* f = field(j, key);
  return f && f->is_object() ? *f : empty;
}

// A time.Time field: absent or null is Go's zero time.
Value time_value(const json& j, const char* key) {
  std::string text = str(j, key);
  if (text.empty() && !field(j, key)) text = "0001-01-01T00:00:00Z";
  std::string out;
  if (!go_time_string(text, out))
    throw FetchError("parsing time " + json(text).dump() + " as RFC 3339: " + key);
  return Value::string(std::move(out), go_time());
}

// A *time.Time field: absent or null is nil.
Value time_ptr_value(const json& j, const char* key) {
  if (!field(j, key)) return Value::nil();
  std::string out;
  if (!go_time_string(str(j, key), out))
    throw FetchError("parsing time " + json(str(j, key)).dump() + " as RFC 3339: " + key);
  return Value::string(std::move(out), go_time_ptr());
}

}  // namespace

const Type* go_time() {
  static const Type t = make_time("time.Time");
  return &t;
}

const Type* ca_root_list() {
  static const Type t = make_list("[]*api.CARoot", ca_root());
  return &t;
}

const Type* leaf_cert() {
  static const Type t =
      make_struct("*api.LeafCert",
                  {"SerialNumber", "CertPEM", "PrivateKeyPEM", "Service", "ServiceURI",
                   "ValidAfter", "ValidBefore", "CreateIndex", "ModifyIndex"},
                  true, " oo      ");
  return &t;
}

const Type* partition_list() {
  static const Type t = make_list("[]*dependency.Partition", partition());
  return &t;
}

const Type* peering_list() {
  static const Type t = make_list("[]*dependency.Peering", peering());
  return &t;
}

const Type* exported_service_list() {
  static const Type t = make_list("[]dependency.ExportedService", exported_service());
  return &t;
}

const Type* imported_service_list() {
  static const Type t = make_list("[]dependency.ImportedService", imported_service());
  return &t;
}

bool go_time_string(std::string_view s, std::string& out) {
  int64_t secs = 0, nanos = 0;
  if (!parse_rfc3339(s, secs, nanos)) return false;
  out = std::string(s.substr(0, 10)) + " " + std::string(s.substr(11, 8));
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    size_t j = i + 1;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    std::string frac(s.substr(i + 1, std::min<size_t>(j - i - 1, 9)));
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    if (!frac.empty()) out += "." + frac;
    i = j;
  }
  std::string_view zone = s.substr(i);
  if (zone == "Z" || zone == "+00:00" || zone == "-00:00") {
    out += " +0000 UTC";
  } else {
    std::string off = std::string(zone.substr(0, 3)) + std::string(zone.substr(4, 2));
    out += " " + off + " " + off;
  }
  return true;
}

Value ca_roots(const json& body) {
  std::vector<Value> items;
  if (const json* roots = field(body, "Roots"); roots && roots->is_array()) {
    for (const auto& r : *roots)
      items.push_back(Value::structure(
          ca_root(),
          {Value::string(str(r, "ID")), Value::string(str(r, "Name")),
           Value::string(str(r, "RootCert")), Value::boolean(boolean(r, "Active")),
           Value::uinteger(unum(r, "CreateIndex")), Value::uinteger(unum(r, "ModifyIndex"))}));
  } else {
    return Value::typed_nil(ca_root_list());
  }
  return Value::list(std::move(items), ca_root_list());
}

Value leaf_cert_value(const json& body) {
  if (!body.is_object()) return Value::typed_nil(leaf_cert());
  return Value::structure(
      leaf_cert(),
      {Value::string(str(body, "SerialNumber")), Value::string(str(body, "CertPEM")),
       Value::tainted_string(str(body, "PrivateKeyPEM")), Value::string(str(body, "Service")),
       Value::string(str(body, "ServiceURI")), time_value(body, "ValidAfter"),
       time_value(body, "ValidBefore"), Value::uinteger(unum(body, "CreateIndex")),
       Value::uinteger(unum(body, "ModifyIndex"))});
}

Value partitions(const json& body) {
  std::vector<std::pair<std::string, std::string>> found;
  if (body.is_array())
    for (const auto& p : body)
      if (p.is_object()) found.emplace_back(str(p, "Name"), str(p, "Description"));
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Value> items;
  for (auto& [name, desc] : found)
    items.push_back(
        Value::structure(partition(), {Value::string(std::move(name)), Value::string(desc)}));
  return Value::list(std::move(items), partition_list());
}

Value peerings(const json& body) {
  std::vector<Value> items;
  if (body.is_array()) {
    for (const auto& p : body) {
      if (!p.is_object()) continue;
      const json& ss = object_or_empty(p, "StreamStatus");
      const json& remote = object_or_empty(p, "Remote");
      Value status = Value::structure(
          stream_status(),
          {string_list(ss, "ImportedServices", true), string_list(ss, "ExportedServices", true),
           time_ptr_value(ss, "LastHeartbeat"), time_ptr_value(ss, "LastReceive"),
           time_ptr_value(ss, "LastSend")});
      Value rem = Value::structure(remote_info(), {Value::string(str(remote, "Partition")),
                                                   Value::string(str(remote, "Datacenter"))});
      items.push_back(Value::structure(
          peering(),
          {Value::string(str(p, "ID")), Value::string(str(p, "Name")),
           Value::string(str(p, "Partition")), string_map(p, "Meta"),
           Value::string(str(p, "State")), Value::string(str(p, "PeerID")),
           Value::string(str(p, "PeerServerName")), string_list(p, "PeerServerAddresses", true),
           std::move(status), std::move(rem)}));
    }
  }
  // ByPeer: PeeringState, then Partition, then Name (a stable sort).
  std::stable_sort(items.begin(), items.end(), [](const Value& a, const Value& b) {
    const auto& fa = a.as_fields();
    const auto& fb = b.as_fields();
    if (fa[4].as_string() != fb[4].as_string()) return fa[4].as_string() < fb[4].as_string();
    if (fa[2].as_string() != fb[2].as_string()) return fa[2].as_string() < fb[2].as_string();
    return fa[1].as_string() < fb[1].as_string();
  });
  return Value::list(std::move(items), peering_list());
}

Value exported_services(const json& body) {
  std::vector<Value> items;
  if (body.is_array()) {
    for (const auto& e : body) {
      if (!e.is_object()) continue;
      const json& c = object_or_empty(e, "Consumers");
      Value consumers =
          Value::structure(resolved_consumers(),
                           {string_list(c, "Peers", false), string_list(c, "Partitions", false)});
      items.push_back(
          Value::structure(exported_service(), {Value::string(str(e, "Service")), Value::string(""),
                                                Value::string(""), std::move(consumers)}));
    }
  }
  std::stable_sort(items.begin(), items.end(), [](const Value& a, const Value& b) {
    return a.as_fields()[0].as_string() < b.as_fields()[0].as_string();
  });
  return Value::list(std::move(items), exported_service_list());
}

Value imported_services(const json& body) {
  const json* list = &body;
  if (body.is_object() && !str(body, "Partition").empty()) {
    static const json none = json::array();
    const json* f = field(body, "ImportedServices");
    list = f ? f : &none;
  }
  std::vector<Value> items;
  if (list->is_array())
    for (const auto& e : *list)
      if (e.is_object())
        items.push_back(
            Value::structure(imported_service(),
                             {Value::string(str(e, "Service")), Value::string(str(e, "Namespace")),
                              Value::string(str(e, "SourcePartition"))}));
  std::stable_sort(items.begin(), items.end(), [](const Value& a, const Value& b) {
    return a.as_fields()[0].as_string() < b.as_fields()[0].as_string();
  });
  return Value::list(std::move(items), imported_service_list());
}

}  // namespace templet::dtypes
