// The KV v2 path shim (see kv_path.hpp). Pure string work, tested against the reference table.
//
// Joins use Go's path.Clean semantics (no doubled or trailing slashes), as consul-template's
// path.Join does.
#include "functions/live/kv_path.hpp"

#include <algorithm>

#include "functions/dependency.hpp"

namespace templet::live {

namespace {

bool starts_with(const std::string& s, const std::string& p) {
  return s.rfind(p, 0) == 0;
}

std::string join(const std::string& a, const std::string& b, const std::string& c) {
  std::string s = a;
  for (const std::string* part : {&b, &c}) {
    if (part->empty()) continue;
    if (!s.empty()) s += '/';
    s += *part;
  }
  return go_clean_path(s);
}

// The mount as seen from the client's namespace: a mount reported with the namespace prefix
// (`a/b/c/secret/` for namespace `a/b`) loses it.
std::string relative_mount(const std::string& mount, std::string ns) {
  if (ns.empty() || std::count(mount.begin(), mount.end(), '/') <= 1) return mount;
  if (ns.back() != '/') ns += '/';
  return starts_with(mount, ns) ? mount.substr(ns.size()) : mount;
}

std::string strip_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

std::string shim_kv2_path(const std::string& raw, const std::string& mount, const std::string& ns) {
  std::string m = relative_mount(mount, ns);
  if (raw == mount || raw == strip_slash(mount) || raw == m || raw == strip_slash(m))
    return join(strip_slash(m), "data", "");
  std::string p = starts_with(raw, m) ? raw.substr(m.size()) : raw;
  if (starts_with(p, "data/") || starts_with(p, "metadata/") || starts_with(p, "subkeys/"))
    return raw;
  return join(strip_slash(m), "data", p);
}

std::string shim_kv2_list_path(const std::string& raw, const std::string& mount,
                               const std::string& ns) {
  std::string m = relative_mount(mount, ns);
  std::string bare = strip_slash(m);
  if (raw == bare || raw == m) return bare + "/metadata";
  if (starts_with(raw, bare + "/metadata")) return raw;
  std::string p = starts_with(raw, m) ? raw.substr(m.size()) : raw;
  return join(bare, "metadata", p);
}

}  // namespace templet::live
