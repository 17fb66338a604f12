#include "app/status_command.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <iostream>

#include "app/config.hpp"
#include "app/status_socket.hpp"

namespace templet {

namespace {

constexpr size_t kWidth = 80;

// Columns on a terminal: UTF-8 continuation bytes take none ("…" is one).
size_t columns(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// At most `width` columns: the end is kept (a path's distinctive part), the start elided.
std::string keep_tail(const std::string& s, size_t width) {
  if (columns(s) <= width) return s;
  size_t drop = columns(s) - (width - 3), i = 0;
  for (size_t seen = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (seen++ == drop) break;
  }
  return "..." + s.substr(i);
}

// At most `width` columns: the start is kept, the end elided.
std::string keep_head(const std::string& s, size_t width) {
  if (columns(s) <= width) return s;
  std::string out;
  size_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    bool lead = (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
    if (lead && seen++ == width - 3) break;
    out += s[i];
  }
  return out + "...";
}

std::string pad(const std::string& s, size_t width) {
  size_t c = columns(s);
  return c >= width ? s : s + std::string(width - c, ' ');
}

struct Row {
  std::vector<std::string> cells;
  std::vector<std::string> notes;  // lines under the row, indented
};

// Aligned columns, two spaces apart; the first column takes what the others leave of 80.
void table(std::string& out, const std::vector<std::string>& headers,
           const std::vector<Row>& rows) {
  std::vector<size_t> w(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) w[i] = columns(headers[i]);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.cells.size(); ++i) w[i] = std::max(w[i], columns(r.cells[i]));
  size_t rest = 0;
  for (size_t i = 1; i < w.size(); ++i) rest += 2 + w[i];
  w[0] = std::min(w[0], kWidth > rest + 12 ? kWidth - rest : 12);
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (size_t i = 0; i < cells.size(); ++i) {
      std::string c = i == 0 ? keep_tail(cells[i], w[0]) : cells[i];
      l += i + 1 == cells.size() ? c : pad(c, w[i]) + "  ";
    }
    while (l.ends_with(' ')) l.pop_back();
    out += l + "\n";
  };
  line(headers);
  for (const auto& r : rows) {
    line(r.cells);
    for (const auto& n : r.notes) out += keep_head("  " + n, kWidth) + "\n";
  }
}

std::string text(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : "-";
}

// 41 -> "41s", 3541 -> "59m 1s", 7322 -> "2h 2m", 180000 -> "2d 2h"; negative: "expired".
std::string duration(const nlohmann::json& v) {
  if (!v.is_number()) return "-";
  double s = v.get<double>();
  if (s <= 0) return "expired";
  auto n = static_cast<long long>(std::floor(s));
  if (n < 60) return fmt::format("{}s", n);
  if (n < 3600) return fmt::format("{}m {}s", n / 60, n % 60);
  if (n < 86400) return fmt::format("{}h {}m", n / 3600, n % 3600 / 60);
  return fmt::format("{}d {}h", n / 86400, n % 86400 / 3600);
}

// "error: first line", then the following lines aligned under it (at most 5 in all).
std::vector<std::string> error_notes(const nlohmann::json& err) {
  std::vector<std::string> notes;
  if (!err.is_string()) return notes;
  std::string e = err.get<std::string>();
  size_t start = 0;
  while (start <= e.size() && notes.size() < 5) {
    size_t nl = e.find('\n', start);
    std::string l = e.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    notes.push_back((notes.empty() ? "error: " : "       ") + l);
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return notes;
}

}  // namespace

std::string format_status_table(const nlohmann::json& s) {
  std::string out = fmt::format("templet {}: {}\n", text(s.value("version", nlohmann::json())),
                                s.value("healthy", false) ? "healthy" : "degraded");
  std::vector<Row> rows;
  for (const auto& d : s["dependencies"])
    rows.push_back(
        {{text(d["dependency"]), text(d["kind"]), text(d["state"])}, error_notes(d["last_error"])});
  if (!rows.empty()) {
    out += "\n";
    table(out, {"DEPENDENCY", "KIND", "STATE"}, rows);
  }
  rows.clear();
  // Capped: Vault renews it no further (its max TTL), so new credentials come before it ends.
  auto renewal = [](const nlohmann::json& l) {
    if (l.value("capped", false)) return "capped";
    return l.value("renewable", false) ? "yes" : "no";
  };
  for (const auto& l : s["leases"])
    rows.push_back({{text(l["dependency"]), duration(l["expires_in_s"]), renewal(l),
                     duration(l["token_expires_in_s"])},
                    {"lease " + text(l["lease"]) +
                     (l.value("superseded", false) ? " (superseded, still held)" : "")}});
  if (!rows.empty()) {
    out += "\n";
    table(out, {"LEASE OF", "EXPIRES IN", "RENEWABLE", "TOKEN EXPIRES IN"}, rows);
  }
  rows.clear();
  for (const auto& t : s["templates"])
    rows.push_back({{text(t["destination"]), text(t["state"]), text(t["last_write"])},
                    error_notes(t["last_error"])});
  out += "\n";
  table(out, {"DESTINATION", "STATE", "LAST WRITE"}, rows);
  rows.clear();
  for (const auto& t : s["targets"])
    rows.push_back(
        {{text(t["target"]), text(t["result"]), text(t["last_apply"]), text(t["leader"])},
         error_notes(t["last_error"])});
  if (!rows.empty()) {
    out += "\n";
    table(out, {"TARGET", "RESULT", "LAST APPLY", "LEADER"}, rows);
  }
  return out;
}

int run_status_command(const StatusCommandOptions& o) {
  std::string state_dir = o.state_dir;
  if (state_dir.empty()) {
    try {
      Config c = load_config(o.config_paths);
      finalize_config(c);
      state_dir = *c.state_dir;
    } catch (const ConfigError& e) {
      std::cerr << "templet: " << e.what() << "\n";
      return 2;
    }
  }
  std::string path = status_socket_path(state_dir);
  auto doc = read_status_socket(path);
  if (!doc) {
    int err = errno;
    if (err == EACCES || err == EPERM) {
      std::cerr << "templet: " << path << ": " << std::strerror(err)
                << " (the status socket is its owner's only; run as root)\n";
      return 2;
    }
    std::cerr << "templet: no daemon answers on " << path << ": " << std::strerror(err) << "\n";
    return 3;
  }
  auto j = nlohmann::json::parse(*doc, nullptr, false);
  if (!j.is_object()) {
    std::cerr << "templet: " << path << ": not a status document\n";
    return 3;
  }
  if (o.json)
    std::cout << j.dump(2) << "\n";
  else
    std::cout << format_status_table(j);
  return j.value("healthy", false) ? 0 : 1;
}

}  // namespace templet
