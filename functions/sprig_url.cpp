// Sprig's urlParse and urlJoin (url.go) over Go's net/url rules: how Parse splits scheme,
// opaque part, userinfo, host, path, query and fragment (path, userinfo and fragment
// unescaped), and how URL.String escapes them back.
#include <optional>

#include "functions/sprig_internal.hpp"

namespace templet::helpers::sprig {

namespace {

enum class Mode { Path, Host, UserPassword, Fragment };

bool should_escape(unsigned char c, Mode mode) {
  if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') return false;
  if (mode == Mode::Host &&
      std::string_view("!$&'()*+,;=:[]<>\"").find(static_cast<char>(c)) != std::string_view::npos)
    return false;
  if (std::string_view("$&+,/:;=?@").find(static_cast<char>(c)) != std::string_view::npos) {
    switch (mode) {
      case Mode::Path:
        return c == '?';
      case Mode::UserPassword:
        return c == '@' || c == '/' || c == '?' || c == ':';
      case Mode::Fragment:
        return false;
      case Mode::Host:
        return true;
    }
  }
  if (mode == Mode::Fragment &&
      std::string_view("!()*").find(static_cast<char>(c)) != std::string_view::npos)
    return false;
  return true;
}

std::string escape(const std::string& s, Mode mode) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (should_escape(c, mode)) {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

int unhex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct EscapeError {
  std::string message;
};

// url.unescape: %XX sequences; a malformed one is Go's EscapeError.
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || unhex(s[i + 1]) < 0 || unhex(s[i + 2]) < 0) {
      std::string bad = s.substr(i, 3);
      throw EscapeError{"invalid URL escape " + go_quote(bad)};
    }
    out += static_cast<char>(unhex(s[i + 1]) * 16 + unhex(s[i + 2]));
    i += 2;
  }
  return out;
}

struct Url {
  std::string scheme, opaque, host, path, raw_query, fragment;
  std::optional<std::pair<std::string, std::optional<std::string>>> user;
  bool force_query = false;
};

bool valid_optional_port(std::string_view port) {
  if (port.empty()) return true;
  if (port[0] != ':') return false;
  for (char c : port.substr(1))
    if (c < '0' || c > '9') return false;
  return true;
}

std::pair<std::string, std::optional<std::string>> parse_userinfo(const std::string& ui) {
  auto colon = ui.find(':');
  if (colon == std::string::npos) return {unescape(ui), std::nullopt};
  return {unescape(ui.substr(0, colon)), unescape(ui.substr(colon + 1))};
}

Url parse_url(const std::string& raw);

Url parse(const std::string& raw) {
  try {
    return parse_url(raw);
  } catch (const EscapeError& e) {
    throw FuncError("parse " + go_quote(raw.substr(0, raw.find('#'))) + ": " + e.message);
  }
}

Url parse_url(const std::string& raw) {
  Url u;
  auto hash = raw.find('#');
  std::string rest = raw.substr(0, hash);
  const std::string before_fragment = rest;
  auto fail = [&](const std::string& why) -> FuncError {
    return FuncError("parse " + go_quote(before_fragment) + ": " + why);
  };
  for (unsigned char c : raw)
    if (c < 0x20 || c == 0x7f) throw fail("net/url: invalid control character in URL");
  if (rest == "*") {
    u.path = "*";
  } else {
    for (size_t i = 0; i < rest.size(); ++i) {
      char c = rest[i];
      if (std::isalpha(static_cast<unsigned char>(c))) continue;
      if (std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.') {
        if (i == 0) break;
        continue;
      }
      if (c == ':') {
        if (i == 0) throw fail("missing protocol scheme");
        u.scheme = to_lower(rest.substr(0, i));
        rest = rest.substr(i + 1);
      }
      break;
    }
    if (!rest.empty() && rest.back() == '?' && rest.find('?') == rest.size() - 1) {
      u.force_query = true;
      rest.pop_back();
    } else if (auto q = rest.find('?'); q != std::string::npos) {
      u.raw_query = rest.substr(q + 1);
      rest = rest.substr(0, q);
    }
    bool done = false;
    if (rest.empty() || rest[0] != '/') {
      if (!u.scheme.empty()) {
        u.opaque = rest;
        done = true;
      } else if (rest.substr(0, rest.find('/')).find(':') != std::string::npos) {
        throw fail("first path segment in URL cannot contain colon");
      }
    }
    if (!done) {
      if ((!u.scheme.empty() || rest.rfind("///", 0) != 0) && rest.rfind("//", 0) == 0) {
        std::string authority = rest.substr(2);
        rest.clear();
        if (auto sl = authority.find('/'); sl != std::string::npos) {
          rest = authority.substr(sl);
          authority = authority.substr(0, sl);
        }
        std::string host = authority;
        if (auto at = authority.rfind('@'); at != std::string::npos) {
          u.user = parse_userinfo(authority.substr(0, at));
          host = authority.substr(at + 1);
        }
        if (host.rfind("[", 0) != 0) {
          auto colon = host.rfind(':');
          if (colon != std::string::npos && !valid_optional_port(host.substr(colon)))
            throw fail("invalid port " + go_quote(host.substr(colon)) + " after host");
        }
        u.host = unescape(host);
      }
      u.path = unescape(rest);
    }
  }
  if (hash != std::string::npos) u.fragment = unescape(raw.substr(hash + 1));
  return u;
}

std::string hostname(const std::string& host) {
  std::string h = host;
  auto colon = h.rfind(':');
  if (colon != std::string::npos && valid_optional_port(std::string_view(h).substr(colon)))
    h = h.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  return h;
}

std::string user_string(const std::pair<std::string, std::optional<std::string>>& ui) {
  std::string s = escape(ui.first, Mode::UserPassword);
  if (ui.second) s += ":" + escape(*ui.second, Mode::UserPassword);
  return s;
}

std::string to_string(const Url& u) {
  std::string out;
  if (!u.opaque.empty()) {
    out = u.scheme + ":" + u.opaque;
  } else {
    if (!u.scheme.empty()) out += u.scheme + ":";
    if (!u.scheme.empty() || !u.host.empty() || u.user) {
      if (!u.host.empty() || !u.path.empty() || u.user) out += "//";
      if (u.user) out += user_string(*u.user) + "@";
      if (!u.host.empty()) out += escape(u.host, Mode::Host);
    }
    std::string path = u.path == "*" ? "*" : escape(u.path, Mode::Path);
    if (!path.empty() && path[0] != '/' && !u.host.empty()) out += "/";
    if (out.empty() && path.substr(0, path.find('/')).find(':') != std::string::npos) out += "./";
    out += path;
  }
  if (u.force_query || !u.raw_query.empty()) out += "?" + u.raw_query;
  if (!u.fragment.empty()) out += "#" + escape(u.fragment, Mode::Fragment);
  return out;
}

std::string get_or_empty(const Value& d, const std::string& key) {
  const Value* v = d.map_find(key);
  if (!v) return "";
  if (!v->valid() || v->kind() == Kind::Nil) throw FuncError(kNilDeref);
  if (v->kind() != Kind::String)
    throw FuncError("unable to parse " + key + " key, must be of type string, but " +
                    kind_name(*v) + " found");
  return v->as_string();
}

}  // namespace

void register_url(FunctionTable& t) {
  define(t, "sprig_urlParse", {&types::string}, [](Args a) {
    Url u;
    try {
      u = parse(a[0].as_string());
    } catch (const FuncError& e) {
      throw FuncError(std::string("unable to parse url: ") + e.what());
    }
    auto S = [](std::string s) { return Value::string(std::move(s)); };
    return Value::map({{S("scheme"), S(u.scheme)},
                       {S("host"), S(u.host)},
                       {S("hostname"), S(hostname(u.host))},
                       {S("path"), S(u.path)},
                       {S("query"), S(u.raw_query)},
                       {S("opaque"), S(u.opaque)},
                       {S("fragment"), S(u.fragment)},
                       {S("userinfo"), S(u.user ? user_string(*u.user) : "")}},
                      &types::map_any);
  });
  define(t, "sprig_urlJoin", {&types::map_any}, [](Args a) {
    Url u;
    u.scheme = get_or_empty(a[0], "scheme");
    u.host = get_or_empty(a[0], "host");
    u.path = get_or_empty(a[0], "path");
    u.raw_query = get_or_empty(a[0], "query");
    u.opaque = get_or_empty(a[0], "opaque");
    u.fragment = get_or_empty(a[0], "fragment");
    std::string ui = get_or_empty(a[0], "userinfo");
    if (!ui.empty()) {
      try {
        u.user = parse("proto://" + ui + "@host").user;
      } catch (const FuncError& e) {
        throw FuncError(std::string("unable to parse userinfo in dict: ") + e.what());
      }
    }
    return Value::string(to_string(u));
  });
}

}  // namespace templet::helpers::sprig
