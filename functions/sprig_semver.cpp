// Sprig's semver and semverCompare over Masterminds/semver v3.3's rules: NewVersion's loose grammar
// (an optional `v`, missing minor/patch read as 0), and NewConstraint's: `a - b` ranges, `||`
// alternatives of comma- or space-separated comparisons, operators = != > < >= => <= =< ~ ~> ^,
// and x/X/* wildcards that make a comparison "dirty". The grammar is semver's own patterns, run
// here on std::regex (ECMAScript backtracks through alternatives in order, as Go's leftmost-first
// matching picks them); Check only answers true or false, so its reasons are not reproduced.
#include <regex>

#include "functions/sprig_internal.hpp"

namespace templet::helpers::sprig {

namespace {

struct Version {
  uint64_t major = 0, minor = 0, patch = 0;
  std::string pre, metadata;
  std::string original;  // the text parsed (Version.Original)
};

const std::string kCv = R"(v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?)"
                        R"((-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?)"
                        R"((\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?)";
const std::string kOps = R"(=||!=|>|<|>=|=>|<=|=<|~|~>|\^)";
// Go's \s is [\t\n\f\r ]; ECMAScript's also takes \v and Unicode spaces.
const std::string kS = R"([\t\n\f\r ])";

const std::regex& version_re() {
  static const std::regex re(
      R"(^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$)");
  return re;
}
const std::regex& constraint_re() {
  static const std::regex re("^" + kS + "*(" + kOps + ")" + kS + "*(" + kCv + ")" + kS + "*$");
  return re;
}
const std::regex& range_re() {
  static const std::regex re(kS + "*(" + kCv + ")" + kS + "+-" + kS + "+(" + kCv + ")" + kS + "*");
  return re;
}
const std::regex& find_re() {
  static const std::regex re("(" + kOps + ")" + kS + "*(" + kCv + ")");
  return re;
}
const std::regex& valid_re() {
  static const std::regex re("^(" + kS + "*(" + kOps + ")" + kS + "*(" + kCv + ")" + kS +
                             "*)((?:" + kS + "+|," + kS + "*)(" + kOps + ")" + kS + "*(" + kCv +
                             ")" + kS + "*)*$");
  return re;
}

bool only(const std::string& s, std::string_view set) {
  return s.find_first_not_of(set) == std::string::npos;
}

uint64_t segment(const std::string& digits) {
  uint64_t out;
  std::string err;
  if (!parse_uint(digits, 10, out, err)) throw FuncError("Error parsing version segment: " + err);
  return out;
}

constexpr std::string_view kAllowed =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789";

// semver's validatePrerelease and validateMetadata.
void validate_prerelease(const std::string& pre) {
  for (const auto& p : split(pre, ".")) {
    if (only(p, "0123456789")) {
      if (p.size() > 1 && p[0] == '0') throw FuncError("Version segment starts with 0");
    } else if (!only(p, kAllowed)) {
      throw FuncError("Invalid Prerelease string");
    }
  }
}
void validate_metadata(const std::string& metadata) {
  for (const auto& p : split(metadata, "."))
    if (!only(p, kAllowed)) throw FuncError("Invalid Metadata string");
}

Version new_version(const std::string& v) {
  std::smatch m;
  if (!std::regex_match(v, m, version_re())) throw FuncError("Invalid Semantic Version");
  Version out;
  out.major = segment(m[1].str());
  if (m[2].matched) out.minor = segment(m[2].str().substr(1));
  if (m[3].matched) out.patch = segment(m[3].str().substr(1));
  out.pre = m[5].str();
  out.metadata = m[8].str();
  if (!out.pre.empty()) validate_prerelease(out.pre);
  if (!out.metadata.empty()) validate_metadata(out.metadata);
  return out;
}

int cmp(uint64_t a, uint64_t b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

int compare_pre_part(const std::string& s, const std::string& o) {
  if (s == o) return 0;
  if (s.empty()) return o.empty() ? 1 : -1;
  if (o.empty()) return 1;
  uint64_t si, oi;
  std::string err;
  bool s_num = parse_uint(s, 10, si, err), o_num = parse_uint(o, 10, oi, err);
  if (!s_num && !o_num) return s > o ? 1 : -1;
  if (!o_num) return -1;
  if (!s_num) return 1;
  return si > oi ? 1 : -1;
}

int compare_prerelease(const std::string& a, const std::string& b) {
  auto sp = split(a, "."), op = split(b, ".");
  for (size_t i = 0; i < std::max(sp.size(), op.size()); ++i) {
    int d = compare_pre_part(i < sp.size() ? sp[i] : "", i < op.size() ? op[i] : "");
    if (d) return d;
  }
  return 0;
}

int compare(const Version& v, const Version& o) {
  if (int d = cmp(v.major, o.major)) return d;
  if (int d = cmp(v.minor, o.minor)) return d;
  if (int d = cmp(v.patch, o.patch)) return d;
  if (v.pre.empty() && o.pre.empty()) return 0;
  if (v.pre.empty()) return 1;
  if (o.pre.empty()) return -1;
  return compare_prerelease(v.pre, o.pre);
}

struct Constraint {
  Version con;
  std::string op;
  bool dirty = false, minor_dirty = false, patch_dirty = false;
};

bool is_x(const std::string& s) {
  return s == "x" || s == "*" || s == "X";
}

Constraint parse_constraint(const std::string& c) {
  Constraint out;
  if (c.empty()) {
    out.dirty = true;
    return out;
  }
  std::smatch m;
  if (!std::regex_match(c, m, constraint_re())) throw FuncError("improper constraint: " + c);
  out.op = m[1].str();
  std::string major = m[3].str(), minor = m[4].str(), patch = m[5].str(), pre = m[6].str();
  std::string ver = m[2].str();
  auto dot = [](const std::string& s) { return s.empty() ? s : s.substr(1); };
  if (is_x(major) || major.empty()) {
    ver = "0.0.0" + pre;
    out.dirty = true;
  } else if (is_x(dot(minor)) || minor.empty()) {
    out.minor_dirty = out.dirty = true;
    ver = major + ".0.0" + pre;
  } else if (is_x(dot(patch)) || patch.empty()) {
    out.patch_dirty = out.dirty = true;
    ver = major + minor + ".0" + pre;
  }
  try {
    out.con = new_version(ver);
  } catch (const FuncError&) {
    throw FuncError("constraint Parser Error");
  }
  return out;
}

bool tilde(const Version& v, const Constraint& c) {
  if (!v.pre.empty() && c.con.pre.empty()) return false;
  if (compare(v, c.con) < 0) return false;
  if (c.con.major == 0 && c.con.minor == 0 && c.con.patch == 0 && !c.minor_dirty && !c.patch_dirty)
    return true;
  if (v.major != c.con.major) return false;
  return v.minor == c.con.minor || c.minor_dirty;
}

bool check(const Version& v, const Constraint& c) {
  const Version& k = c.con;
  const std::string& op = c.op;
  bool pre_blocked = !v.pre.empty() && k.pre.empty();
  if (op.empty() || op == "=") {
    if (pre_blocked) return false;
    if (c.dirty) return tilde(v, c);
    return compare(v, k) == 0;
  }
  if (op == "!=") {
    if (c.dirty) {
      if (!v.pre.empty() && k.pre.empty()) return false;
      if (k.major != v.major) return true;
      if (k.minor != v.minor && !c.minor_dirty) return true;
      if (c.minor_dirty) return false;
      if (k.patch != v.patch && !c.patch_dirty) return true;
      if (c.patch_dirty)
        return (!v.pre.empty() || !k.pre.empty()) && compare_prerelease(v.pre, k.pre) != 0;
    }
    return compare(v, k) != 0;
  }
  if (pre_blocked) return false;
  if (op == ">") {
    if (!c.dirty) return compare(v, k) == 1;
    if (v.major > k.major) return true;
    if (v.major < k.major || c.minor_dirty) return false;
    if (c.patch_dirty) return v.minor > k.minor;
    return compare(v, k) == 1;
  }
  if (op == "<") return compare(v, k) < 0;
  if (op == ">=" || op == "=>") return compare(v, k) >= 0;
  if (op == "<=" || op == "=<") {
    if (!c.dirty) return compare(v, k) <= 0;
    if (v.major > k.major) return false;
    if (v.major == k.major && v.minor > k.minor && !c.minor_dirty) return false;
    return true;
  }
  if (op == "~" || op == "~>") return tilde(v, c);
  // ^
  if (compare(v, k) < 0) return false;
  if (k.major > 0 || c.minor_dirty) return v.major == k.major;
  if (k.major == 0 && v.major > 0) return false;
  if (k.minor > 0 || c.patch_dirty) return v.minor == k.minor;
  if (k.minor == 0 && v.minor > 0) return false;
  return k.patch == v.patch;
}

std::string rewrite_range(const std::string& in) {
  std::string out = in;
  const auto& re = range_re();
  std::vector<std::pair<std::string, std::string>> swaps;
  for (auto it = std::sregex_iterator(in.begin(), in.end(), re); it != std::sregex_iterator(); ++it)
    swaps.emplace_back((*it)[0].str(), ">= " + (*it)[1].str() + ", <= " + (*it)[11].str() + " ");
  for (const auto& [from, to] : swaps)
    if (auto at = out.find(from); at != std::string::npos) out.replace(at, from.size(), to);
  return out;
}

std::vector<std::vector<Constraint>> new_constraint(const std::string& text) {
  std::vector<std::vector<Constraint>> ors;
  for (const auto& part : split(rewrite_range(text), "||")) {
    if (!std::regex_match(part, valid_re())) throw FuncError("improper constraint: " + part);
    std::vector<std::string> found;
    for (auto it = std::sregex_iterator(part.begin(), part.end(), find_re());
         it != std::sregex_iterator(); ++it)
      found.push_back((*it)[0].str());
    if (found.empty()) found.push_back(part);
    std::vector<Constraint> ands;
    for (const auto& f : found) ands.push_back(parse_constraint(f));
    ors.push_back(std::move(ands));
  }
  return ors;
}

// Version.String().
std::string version_text(const Version& v) {
  std::string out =
      std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch);
  if (!v.pre.empty()) out += "-" + v.pre;
  if (!v.metadata.empty()) out += "+" + v.metadata;
  return out;
}

// semver.Version as Sprig's semver returns it (*Version) and as its Inc*/Set* methods do
// (Version), with its unexported fields (fmt prints them; templates may not read them).
struct SemverTypes {
  Type ptr, val;
  SemverTypes() {
    for (Type* t : {&ptr, &val}) {
      t->kind = Kind::Struct;
      t->fields = {"major", "minor", "patch", "pre", "metadata", "original"};
      t->stringer = [](const Value& v) { return version_text(of(v)); };
      t->marshal_json = [](const Value& v) { return Value::string(version_text(of(v))); };
    }
    ptr.name = "*semver.Version";
    ptr.pointer = true;
    val.name = "semver.Version";
    const Type* S = &types::string;
    auto method = [this](const std::string& name, std::vector<const Type*> params, auto body,
                         bool pointer_receiver = false) {
      Method m{name, std::move(params), false,
               [body](CallContext&, const Value& self, std::span<const Value> a) {
                 return body(of(self), a);
               }};
      ptr.methods.push_back(m);
      if (!pointer_receiver) val.methods.push_back(m);
    };
    auto u64 = [](uint64_t n) { return Value::uinteger(n, &types::uint64); };
    method("Major", {}, [u64](const Version& v, auto) { return u64(v.major); });
    method("Minor", {}, [u64](const Version& v, auto) { return u64(v.minor); });
    method("Patch", {}, [u64](const Version& v, auto) { return u64(v.patch); });
    method("Prerelease", {}, [](const Version& v, auto) { return Value::string(v.pre); });
    method("Metadata", {}, [](const Version& v, auto) { return Value::string(v.metadata); });
    method("String", {}, [](const Version& v, auto) { return Value::string(version_text(v)); });
    method(
        "Original", {}, [](const Version& v, auto) { return Value::string(v.original); }, true);
    method("IncPatch", {}, [this](Version v, auto) {
      if (v.pre.empty()) ++v.patch;
      v.pre.clear();
      v.metadata.clear();
      return make(v, &val);
    });
    method("IncMinor", {}, [this](Version v, auto) {
      ++v.minor;
      v.patch = 0;
      v.pre.clear();
      v.metadata.clear();
      return make(v, &val);
    });
    method("IncMajor", {}, [this](Version v, auto) {
      ++v.major;
      v.minor = v.patch = 0;
      v.pre.clear();
      v.metadata.clear();
      return make(v, &val);
    });
    method("SetPrerelease", {S}, [this](Version v, std::span<const Value> a) {
      v.pre = a[0].as_string();
      if (!v.pre.empty()) validate_prerelease(v.pre);
      return make(v, &val);
    });
    method("SetMetadata", {S}, [this](Version v, std::span<const Value> a) {
      v.metadata = a[0].as_string();
      if (!v.metadata.empty()) validate_metadata(v.metadata);
      return make(v, &val);
    });
    auto compared = [](std::span<const Value> a) { return of(a[0]); };
    method(
        "Compare", {&ptr},
        [compared](const Version& v, std::span<const Value> a) {
          return Value::integer(compare(v, compared(a)));
        },
        true);
    method(
        "LessThan", {&ptr},
        [compared](const Version& v, std::span<const Value> a) {
          return Value::boolean(compare(v, compared(a)) < 0);
        },
        true);
    method(
        "GreaterThan", {&ptr},
        [compared](const Version& v, std::span<const Value> a) {
          return Value::boolean(compare(v, compared(a)) > 0);
        },
        true);
    method(
        "Equal", {&ptr},
        [compared](const Version& v, std::span<const Value> a) {
          return Value::boolean(compare(v, compared(a)) == 0);
        },
        true);
  }

  static Version of(const Value& v) {
    if (v.is_nil()) throw FuncError(kNilDeref);
    const auto& f = v.as_fields();
    return Version{f[0].as_uint(),   f[1].as_uint(),   f[2].as_uint(),
                   f[3].as_string(), f[4].as_string(), f[5].as_string()};
  }
  static Value fields(const Version& v, const Type* t) {
    auto u64 = [](uint64_t n) { return Value::uinteger(n, &types::uint64); };
    return Value::structure(t, {u64(v.major), u64(v.minor), u64(v.patch), Value::string(v.pre),
                                Value::string(v.metadata), Value::string(v.original)});
  }
  // A changed version's original is its text, with the old one's "v" prefix (originalVPrefix).
  static Value make(Version v, const Type* t) {
    const bool vee = !v.original.empty() && v.original[0] == 'v';
    v.original = (vee ? "v" : "") + version_text(v);
    return fields(v, t);
  }
};

const SemverTypes& semver_types() {
  static const SemverTypes t;
  return t;
}

}  // namespace

void register_semver(FunctionTable& t) {
  define(t, "sprig_semver", {&types::string}, [](Args a) {
    Version v = new_version(a[0].as_string());
    v.original = a[0].as_string();
    return SemverTypes::fields(v, &semver_types().ptr);
  });
  define(t, "sprig_semverCompare", {&types::string, &types::string}, [](Args a) {
    auto ors = new_constraint(a[0].as_string());
    Version v = new_version(a[1].as_string());
    for (const auto& ands : ors) {
      bool all = true;
      for (const auto& c : ands) all = all && check(v, c);
      if (all) return Value::boolean(true);
    }
    return Value::boolean(false);
  });
}

}  // namespace templet::helpers::sprig
