#include "functions/dependency.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <regex>

#include "functions/digest.hpp"
#include "functions/helpers_internal.hpp"

namespace templet {

using helpers::go_quote;

namespace {

// strings.TrimSpace, owned: most callers keep the result.
std::string trim_space(std::string_view s) {
  return std::string(helpers::trim_space(s));
}

// The pieces of consul-template's query grammar (dependency.go), as ECMAScript regexes. `\w` is
// Go's [[:word:]] in the C locale.
const std::string kDc = R"((?:@([\w.\-]+))?)";
const std::string kQuery = R"((?:\?([\w\-=&]+))?)";
const std::string kNear = R"((?:~([\w.\-]+))?)";
const std::string kFilter = R"((?:\|([\w,]+))?)";
const std::string kKey = R"(/?([^@?]+))";
const std::string kTag = R"((?:([\w=:.\-]+)\.)?)";
const std::string kServiceName = R"(([\w\-]+))";
const std::string kNodeName = R"(([\w.\-]+))";

const std::regex& re(const std::string& pattern) {
  // Each pattern is compiled once; the callers pass one of a few fixed strings.
  static thread_local std::vector<std::pair<std::string, std::regex>> cache;
  for (const auto& [p, r] : cache)
    if (p == pattern) return r;
  cache.emplace_back(pattern, std::regex(pattern, std::regex::ECMAScript | std::regex::optimize));
  return cache.back().second;
}

std::string invalid_format(const char* label, std::string_view s) {
  return std::string(label) + ": invalid format: " + go_quote(s);
}

// url.ParseQuery over the characters the grammar admits, then consul-template's check that only
// ns, partition, peer and sameness-group are used. Sets the fields of `d`.
void apply_consul_query(Dependency& d, const std::string& raw, const char* label) {
  if (raw.empty()) return;
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start <= raw.size()) {
    size_t amp = raw.find('&', start);
    if (amp == std::string::npos) amp = raw.size();
    std::string piece = raw.substr(start, amp - start);
    start = amp + 1;
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    if (eq == std::string::npos)
      params.emplace_back(piece, "");
    else
      params.emplace_back(piece.substr(0, eq), piece.substr(eq + 1));
  }
  for (const auto& [k, v] : params) {
    if (k != "ns" && k != "peer" && k != "partition" && k != "sameness-group")
      throw DependencyError(std::string(label) + ": invalid query parameter key " + go_quote(k) +
                            " in query " + go_quote(raw) +
                            ": supported keys: ns,peer,partition,sameness-group");
  }
  // url.Values.Get: the first value of a key.
  auto get = [&](const char* key) {
    for (const auto& [k, v] : params)
      if (k == key) return v;
    return std::string();
  };
  d.ns = get("ns");
  d.partition = get("partition");
  d.peer = get("peer");
  d.sameness_group = get("sameness-group");
}

// apply_consul_query for the queries that use ns and partition only (kv, the catalog's nodes
// and services): peer and sameness-group are accepted and dropped.
void apply_ns_partition_query(Dependency& d, const std::string& raw, const char* label) {
  apply_consul_query(d, raw, label);
  d.peer.clear();
  d.sameness_group.clear();
}

// Matches all of `str` (the argument `s` as a string) against `pattern`, or throws the
// function's "invalid format" error.
void match_spec(const std::string& str, std::smatch& m, const std::string& pattern,
                const char* label) {
  if (!std::regex_match(str, m, re(pattern))) throw DependencyError(invalid_format(label, str));
}

// The `@dc@partition=p@ns=n` suffix every Consul identity carries.
std::string consul_suffix(const Dependency& d) {
  std::string s;
  if (!d.dc.empty()) s += "@" + d.dc;
  if (!d.partition.empty()) s += "@partition=" + d.partition;
  if (!d.ns.empty()) s += "@ns=" + d.ns;
  return s;
}

Dependency parse_kv(std::string_view s, bool block) {
  const char* label = "kv.get";
  Dependency d;
  d.type = block ? DepType::KvBlock : DepType::KvGet;
  std::smatch m;
  std::string str(s);
  if (!str.empty()) {
    match_spec(str, m, kKey + kQuery + kDc, label);
    d.target = m[1];
    d.dc = m[3];
    apply_ns_partition_query(d, m[2], label);
  }
  d.id = std::string(block ? "kv.block(" : "kv.get(") + d.target + consul_suffix(d) + ")";
  return d;
}

std::string unhex_path(std::string_view s, const std::string& whole) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    if (i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
      continue;
    }
    std::string bad(s.substr(i, std::min<size_t>(3, s.size() - i)));
    throw DependencyError("parse " + go_quote(whole) + ": invalid URL escape " + go_quote(bad));
  }
  return out;
}

std::string trim_slashes(std::string_view s) {
  size_t b = s.find_first_not_of('/');
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of('/');
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

std::string go_clean_path(std::string_view p) {
  if (p.empty()) return ".";
  bool rooted = p[0] == '/';
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view seg = p.substr(i, j - i);
    i = j + 1;
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!parts.empty() && parts.back() != "..")
        parts.pop_back();
      else if (!rooted)
        parts.emplace_back("..");
      continue;
    }
    parts.emplace_back(seg);
  }
  std::string out = rooted ? "/" : "";
  for (size_t k = 0; k < parts.size(); ++k) {
    if (k > 0) out += "/";
    out += parts[k];
  }
  return out.empty() ? "." : out;
}

Dependency parse_kv_get(std::string_view s) {
  return parse_kv(s, false);
}
Dependency parse_kv_block(std::string_view s) {
  return parse_kv(s, true);
}

Dependency parse_kv_list(std::string_view s) {
  const char* label = "kv.list";
  Dependency d;
  d.type = DepType::KvList;
  std::string str(s);
  std::smatch m;
  if (!str.empty()) {
    match_spec(str, m, kKey + kQuery + kDc, label);
    d.target = m[1];
    d.dc = m[3];
    apply_ns_partition_query(d, m[2], label);
  }
  d.id = "kv.list(" + d.target + consul_suffix(d) + ")";
  return d;
}

namespace {

Dependency parse_health(std::string_view s, bool connect) {
  const char* label = "health.service";
  Dependency d;
  d.type = DepType::HealthService;
  d.connect = connect;
  std::string str(s);
  std::smatch m;
  match_spec(str, m, kTag + kServiceName + kQuery + kDc + kNear + kFilter, label);
  d.tag = m[1];
  d.target = m[2];
  d.dc = m[4];
  d.near = m[5];
  std::string filter = m[6];
  if (!filter.empty()) {
    size_t start = 0;
    while (start <= filter.size()) {
      size_t comma = filter.find(',', start);
      if (comma == std::string::npos) comma = filter.size();
      std::string f = trim_space(std::string_view(filter).substr(start, comma - start));
      start = comma + 1;
      if (f.empty()) continue;
      if (f != "any" && f != "passing" && f != "warning" && f != "critical" && f != "maintenance")
        throw DependencyError(std::string(label) + ": invalid filter: " + go_quote(f) + " in " +
                              go_quote(s));
      d.filters.push_back(f);
    }
    std::sort(d.filters.begin(), d.filters.end());
  } else {
    d.filters = {"passing"};
  }
  apply_consul_query(d, m[3], label);
  if (!d.peer.empty() && !d.sameness_group.empty())
    throw DependencyError(std::string(label) + ": cannot specify both peer and sameness-group");
  std::string name = d.target;
  if (!d.tag.empty()) name = d.tag + "." + name;
  name += consul_suffix(d);
  if (!d.peer.empty()) name += "@peer=" + d.peer;
  if (!d.sameness_group.empty()) name += "@sameness-group=" + d.sameness_group;
  if (!d.near.empty()) name += "~" + d.near;
  if (!d.filters.empty()) {
    name += "|";
    for (size_t i = 0; i < d.filters.size(); ++i) name += (i ? "," : "") + d.filters[i];
  }
  d.id = (connect ? "health.connect(" : "health.service(") + name + ")";
  return d;
}

}  // namespace

Dependency parse_health_service(std::string_view s) {
  return parse_health(s, false);
}

Dependency parse_health_connect(std::string_view s) {
  return parse_health(s, true);
}

Dependency parse_connect_ca_roots() {
  Dependency d;
  d.type = DepType::ConnectCARoots;
  d.id = "connect.caroots";
  return d;
}

Dependency parse_connect_leaf(std::string_view service) {
  Dependency d;
  d.type = DepType::ConnectLeaf;
  d.target = std::string(service);
  d.id = d.target.empty() ? "connect.caleaf" : "connect.caleaf(" + d.target + ")";
  return d;
}

Dependency parse_partitions() {
  Dependency d;
  d.type = DepType::ConsulPartitions;
  d.id = "list.partitions";
  return d;
}

Dependency parse_peerings(std::string_view s) {
  const char* label = "list.peering";
  Dependency d;
  d.type = DepType::ConsulPeerings;
  std::string str(s);
  if (!str.empty()) {
    std::smatch m;
    if (!std::regex_match(str, m, re(kQuery))) throw DependencyError(invalid_format(label, str));
    apply_consul_query(d, m[1], label);
    // Only the partition reaches the request (NewListPeeringQuery keeps nothing else).
    d.ns.clear();
    d.peer.clear();
    d.sameness_group.clear();
  }
  d.target = d.partition;
  d.id = d.partition.empty() ? "list.peerings" : "list.peerings?partition=" + d.partition;
  return d;
}

Dependency parse_exported_services(std::string_view partition) {
  Dependency d;
  d.type = DepType::ExportedServices;
  d.partition = std::string(partition);
  d.target = d.partition;  // what `templet deps` shows
  d.id = "list.exportedServices(" + d.partition + ")";
  return d;
}

Dependency parse_imported_services(std::string_view partition) {
  Dependency d;
  d.type = DepType::ImportedServices;
  d.partition = std::string(partition);
  d.target = d.partition;  // what `templet deps` shows
  d.id = "list.importedServices(" + d.partition + ")";
  return d;
}

Dependency parse_interfaces() {
  Dependency d;
  d.type = DepType::Interfaces;
  d.id = "sockaddr.interfaces";
  return d;
}

bool consul_polled(DepType t) {
  return t == DepType::CatalogDatacenters || t == DepType::ConsulPartitions;
}

bool consul_dependency(DepType t) {
  switch (t) {
    case DepType::Interfaces:
    case DepType::VaultRead:
    case DepType::VaultWrite:
    case DepType::VaultList:
    case DepType::VaultPki:
    case DepType::File:
    case DepType::InfluxBuckets:
      return false;
    default:
      return true;
  }
}

Dependency parse_catalog_services(std::string_view s) {
  const char* label = "catalog.services";
  Dependency d;
  d.type = DepType::CatalogServices;
  std::string str(s);
  std::smatch m;
  match_spec(str, m, kQuery + kDc, label);
  d.dc = m[2];
  apply_ns_partition_query(d, m[1], label);
  std::string name = consul_suffix(d);
  d.id = name.empty() ? "catalog.services" : "catalog.services(" + name + ")";
  return d;
}

Dependency parse_catalog_node(std::string_view s) {
  const char* label = "catalog.node";
  Dependency d;
  d.type = DepType::CatalogNode;
  std::string str(s);
  std::smatch m;
  if (!str.empty()) {
    match_spec(str, m, kNodeName + kQuery + kDc, label);
    d.target = m[1];
    d.dc = m[3];
    apply_ns_partition_query(d, m[2], label);
  }
  std::string name = d.target + consul_suffix(d);
  d.id = name.empty() ? "catalog.node" : "catalog.node(" + name + ")";
  return d;
}

Dependency parse_catalog_datacenters(bool ignore_failing) {
  Dependency d;
  d.type = DepType::CatalogDatacenters;
  d.id = ignore_failing ? "catalog.datacenters(ignore_failing)" : "catalog.datacenters";
  return d;
}

Dependency parse_catalog_nodes(std::string_view s) {
  const char* label = "catalog.nodes";
  Dependency d;
  d.type = DepType::CatalogNodes;
  std::string str(s);
  std::smatch m;
  match_spec(str, m, kQuery + kDc + kNear, label);
  d.dc = m[2];
  d.near = m[3];
  apply_ns_partition_query(d, m[1], label);
  std::string name = consul_suffix(d);
  if (!d.near.empty()) name += "~" + d.near;
  d.id = name.empty() ? "catalog.nodes" : "catalog.nodes(" + name + ")";
  return d;
}

Dependency parse_vault_read(std::string_view s) {
  Dependency d;
  d.type = DepType::VaultRead;
  std::string whole = trim_slashes(trim_space(s));
  if (whole.empty()) throw DependencyError(invalid_format("vault.read", whole));
  // url.Parse: the path (unescaped), then the query; a fragment is dropped.
  std::string_view rest = whole;
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  std::string_view raw_query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    raw_query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  d.target = unhex_path(rest, whole);
  size_t start = 0;
  while (start < raw_query.size()) {
    size_t amp = raw_query.find('&', start);
    if (amp == std::string_view::npos) amp = raw_query.size();
    std::string_view piece = raw_query.substr(start, amp - start);
    start = amp + 1;
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string k(piece.substr(0, eq));
    std::string v(eq == std::string_view::npos ? "" : piece.substr(eq + 1));
    d.query.emplace_back(k, v);
    if (k == "version" && d.version.empty() &&
        std::none_of(d.query.begin(), d.query.end() - 1,
                     [](const auto& p) { return p.first == "version"; }))
      d.version = v;
  }
  bool has_version = std::any_of(d.query.begin(), d.query.end(),
                                 [](const auto& p) { return p.first == "version"; });
  d.id = has_version ? "vault.read(" + d.target + ".v" + d.version + ")"
                     : "vault.read(" + d.target + ")";
  return d;
}

Dependency parse_vault_write(std::string_view path, const std::vector<std::string>& args) {
  Dependency d;
  d.type = DepType::VaultWrite;
  for (const auto& a : args) {
    if (a.empty()) continue;
    size_t eq = a.find('=');
    if (eq == std::string::npos) throw DependencyError("not k=v pair " + go_quote(a));
    std::string k = trim_space(std::string_view(a).substr(0, eq));
    std::string v = trim_space(std::string_view(a).substr(eq + 1));
    // A later duplicate key replaces the earlier one, as in a Go map.
    auto it =
        std::find_if(d.body.begin(), d.body.end(), [&](const auto& p) { return p.first == k; });
    if (it != d.body.end())
      it->second = v;
    else
      d.body.emplace_back(k, v);
  }
  std::sort(d.body.begin(), d.body.end());
  d.target = trim_slashes(trim_space(path));
  if (d.target.empty()) throw DependencyError(invalid_format("vault.write", d.target));
  std::string canonical_body;
  for (const auto& [k, v] : d.body) canonical_body += k + "=" + go_quote(v);
  d.id = "vault.write(" + d.target + " -> " +
         digest::hex(digest::sha1(canonical_body)).substr(0, 8) + ")";
  return d;
}

Dependency parse_vault_pki(std::string_view path, const std::vector<std::string>& args,
                           std::string_view destination) {
  std::string whole = trim_slashes(trim_space(path));
  if (whole.empty()) throw DependencyError(invalid_format("vault.read", whole));
  Dependency d = parse_vault_write(whole, args);
  d.type = DepType::VaultPki;
  std::string_view rest = whole;
  if (size_t cut = rest.find_first_of("?#"); cut != std::string_view::npos)
    rest = rest.substr(0, cut);
  d.target = unhex_path(rest, whole);
  d.destination = std::string(destination);
  d.id = "vault.pki(" + d.target + "->" + d.destination + ")";
  return d;
}

Dependency parse_vault_list(std::string_view s) {
  Dependency d;
  d.type = DepType::VaultList;
  d.target = trim_slashes(trim_space(s));
  if (d.target.empty()) throw DependencyError(invalid_format("vault.list", d.target));
  d.id = "vault.list(" + d.target + ")";
  return d;
}

Dependency parse_file(std::string_view path) {
  Dependency d;
  d.type = DepType::File;
  if (path.empty()) throw DependencyError(invalid_format("file", path));
  d.target = std::string(path);
  d.id = "file(" + d.target + ")";
  return d;
}

Dependency parse_influx_buckets(std::string_view org) {
  Dependency d;
  d.type = DepType::InfluxBuckets;
  while (!org.empty() && std::isspace(static_cast<unsigned char>(org.front())))
    org.remove_prefix(1);
  while (!org.empty() && std::isspace(static_cast<unsigned char>(org.back()))) org.remove_suffix(1);
  if (org.empty()) throw DependencyError("influxdbBuckets: an organization name is required");
  d.target = std::string(org);
  d.id = "influxdb.buckets(" + d.target + ")";
  return d;
}

std::string resolve_file_path(std::string_view path, const std::string& sandbox, bool lexical) {
  if (sandbox.empty()) return go_clean_path(path);
  auto resolve = [lexical](const std::string& p, const char* what) {
    if (lexical) return p;
    char buf[PATH_MAX];
    if (::realpath(p.c_str(), buf) == nullptr) {
      std::string err = std::strerror(errno);
      if (!err.empty())
        err[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(err[0])));
      throw DependencyError(std::string("failed to resolve ") + what + " path: lstat " + p + ": " +
                            err);
    }
    return std::string(buf);
  };
  std::string box = resolve(go_clean_path(sandbox), "sandbox");
  std::string target = resolve(go_clean_path(path), "target");
  bool inside = target == box || box == "/" ||
                (target.size() > box.size() && target.compare(0, box.size(), box) == 0 &&
                 target[box.size()] == '/');
  if (!inside) throw DependencyError("'" + std::string(path) + "' is outside of sandbox");
  return target;
}

}  // namespace templet
