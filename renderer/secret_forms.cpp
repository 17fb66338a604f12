// Encoded forms of a secret (see secret_forms.hpp).
#include "renderer/secret_forms.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>

namespace templet {

namespace {

std::string hex2(unsigned char c, bool upper) {
  char buf[4];
  std::snprintf(buf, sizeof buf, upper ? "%02X" : "%02x", c);
  return buf;
}

// The escapes JSON, Go and Python share for a control character; empty when none is short.
std::string short_escape(unsigned char c) {
  switch (c) {
    case '\n':
      return "\\n";
    case '\t':
      return "\\t";
    case '\r':
      return "\\r";
    default:
      return "";
  }
}

enum class Quote { Json, JsonAscii, Go, Python };

// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 when it is not valid UTF-8.
size_t utf8_at(const std::string& s, size_t i, uint32_t& cp) {
  unsigned char c = s[i];
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  cp = n == 1 ? c : c & (0x7f >> n);
  for (size_t k = 1; k < n; ++k) {
    unsigned char d = s[i + k];
    if ((d & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (d & 0x3f);
  }
  return n;
}

std::string quoted(const std::string& s, Quote q) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"' && q != Quote::Python) {
      out += "\\\"";
    } else if (c == '\'' && q == Quote::Python) {
      out += "\\'";
    } else if (c < 0x20 || c == 0x7f) {
      std::string e = short_escape(c);
      if (e.empty() && q == Quote::Json && c == '\b') e = "\\b";
      if (e.empty() && q == Quote::Json && c == '\f') e = "\\f";
      if (e.empty()) {
        if (q == Quote::Json || q == Quote::JsonAscii)
          e = "\\u00" + hex2(c, false);
        else
          e = "\\x" + hex2(c, false);
      }
      out += e;
    } else if (c >= 0x80 && q == Quote::JsonAscii) {
      uint32_t cp = 0;
      size_t n = utf8_at(s, i, cp);
      if (n == 0) {
        out += static_cast<char>(c);
        ++i;
        continue;
      }
      auto u = [&](uint32_t v) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(v));
        out += buf;
      };
      if (cp >= 0x10000) {
        u(0xd800 + ((cp - 0x10000) >> 10));
        u(0xdc00 + ((cp - 0x10000) & 0x3ff));
      } else {
        u(cp);
      }
      i += n;
      continue;
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  return out;
}

std::string percent(const std::string& s, bool upper, bool plus) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      out += static_cast<char>(c);
    else if (c == ' ' && plus)
      out += '+';
    else
      out += "%" + hex2(c, upper);
  }
  return out;
}

std::string yaml_single(const std::string& s) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out;
}

}  // namespace

std::vector<std::string> secret_forms(const std::string& secret) {
  std::vector<std::string> forms = {secret};
  if (secret.empty()) return forms;
  for (std::string f :
       {quoted(secret, Quote::Json), quoted(secret, Quote::JsonAscii), quoted(secret, Quote::Go),
        quoted(secret, Quote::Python), percent(secret, true, false), percent(secret, false, false),
        percent(secret, true, true), percent(secret, false, true), yaml_single(secret)}) {
    if (std::find(forms.begin(), forms.end(), f) == forms.end()) forms.push_back(std::move(f));
  }
  return forms;
}

}  // namespace templet
