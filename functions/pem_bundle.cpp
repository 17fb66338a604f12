#include "functions/pem_bundle.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "functions/helpers_internal.hpp"

namespace templet::pki {

namespace {

struct Block {
  std::string type;
  std::map<std::string, std::string> headers;
  std::string bytes;
};

// Go's getLine: up to the next "\n" (dropped), trailing spaces, tabs and "\r" trimmed.
std::string_view get_line(std::string_view& rest) {
  size_t nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
    line.remove_suffix(1);
  return line;
}

std::string_view trim(std::string_view s) {
  return helpers::trim_space(s);
}

// pem.Decode of one block that starts at `chunk`'s beginning; nullopt where Go returns nil.
std::optional<Block> decode(std::string_view chunk) {
  static constexpr std::string_view kBegin = "-----BEGIN ";
  static constexpr std::string_view kDashes = "-----";
  if (chunk.substr(0, kBegin.size()) != kBegin) return std::nullopt;
  std::string_view rest = chunk.substr(kBegin.size());
  std::string_view type_line = get_line(rest);
  if (type_line.size() < kDashes.size() ||
      type_line.substr(type_line.size() - kDashes.size()) != kDashes)
    return std::nullopt;
  Block b;
  b.type = std::string(type_line.substr(0, type_line.size() - kDashes.size()));
  for (;;) {
    if (rest.empty()) return std::nullopt;
    std::string_view next = rest;
    std::string_view line = get_line(next);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) break;
    b.headers[std::string(trim(line.substr(0, colon)))] = std::string(trim(line.substr(colon + 1)));
    rest = next;
  }
  size_t end_at, trailer_at;
  if (rest.substr(0, 9) == "-----END ") {
    end_at = 0;
    trailer_at = 9;
  } else {
    end_at = rest.find("\n-----END ");
    if (end_at == std::string_view::npos) return std::nullopt;
    trailer_at = end_at + 10;
  }
  std::string_view trailer = rest.substr(trailer_at);
  if (trailer.size() < b.type.size() || trailer.substr(0, b.type.size()) != b.type)
    return std::nullopt;
  std::string_view end_line = trailer.substr(b.type.size());
  if (end_line.substr(0, kDashes.size()) != kDashes) return std::nullopt;
  if (get_line(end_line).size() != kDashes.size()) return std::nullopt;
  std::string b64;
  for (char c : rest.substr(0, end_at))
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') b64 += c;
  size_t err_at = 0;
  if (!helpers::base64_std_decode(b64, b.bytes, err_at)) return std::nullopt;
  return b;
}

// pem.EncodeToMemory.
std::string encode(const Block& b) {
  std::string out = "-----BEGIN " + b.type + "-----\n";
  if (!b.headers.empty()) {
    auto proc = b.headers.find("Proc-Type");
    if (proc != b.headers.end()) out += "Proc-Type: " + proc->second + "\n";
    for (const auto& [k, v] : b.headers)
      if (k != "Proc-Type") out += k + ": " + v + "\n";
    out += "\n";
  }
  std::string b64 = helpers::base64_std_encode(b.bytes);
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END " + b.type + "-----\n";
}

}  // namespace

PemBundle parse_pems(std::string_view text) {
  PemBundle out;
  for (;;) {
    // nextPem: from a BEGIN to the "-----" that closes the first END after it.
    size_t start = text.find("-----BEGIN");
    if (start == std::string_view::npos) return out;
    text.remove_prefix(start);
    size_t end = text.find("-----END");
    if (end == std::string_view::npos) return out;
    size_t close = text.find("-----", end + 8);
    if (close == std::string_view::npos) return out;
    std::optional<Block> block = decode(text.substr(0, close + 5));
    text.remove_prefix(close + 5);
    if (!block) return out;
    const std::string_view type = block->type;
    if (type.size() >= 11 && type.substr(type.size() - 11) == "PRIVATE KEY") {
      out.key = encode(*block);
      continue;
    }
    x509::CertInfo info = x509::read_certificate(block->bytes);
    std::string pem = encode(*block);
    if (info.is_ca) {
      if (out.ca.empty()) out.ca = pem;
      if (std::find(out.ca_chain.begin(), out.ca_chain.end(), pem) == out.ca_chain.end())
        out.ca_chain.push_back(std::move(pem));
    } else {
      out.cert = std::move(pem);
      out.leaf = info;
    }
  }
}

std::string issue_answer_pems(const nlohmann::json& body) {
  std::string out;
  if (!body.is_object()) return out;
  auto data = body.find("data");
  if (data == body.end() || !data->is_object()) return out;
  for (auto it = data->begin(); it != data->end(); ++it) {
    if (it->is_string()) {
      out += it->get<std::string>() + "\n";
    } else if (it->is_array() && it.key() == "ca_chain") {
      for (const auto& item : *it)
        if (item.is_string()) out += item.get<std::string>() + "\n";
    }
  }
  return out;
}

int64_t renewal_point_ms(const x509::CertInfo& cert, double threshold) {
  // Go: lifespan in whole milliseconds, times the threshold, truncated to a Duration.
  const int64_t lifespan_ms = (cert.not_after - cert.not_before) * 1000;
  return cert.not_before * 1000 +
         static_cast<int64_t>(std::trunc(static_cast<double>(lifespan_ms) * threshold));
}

bool good_for(const x509::CertInfo& cert, int64_t now_ms, double threshold) {
  if (cert.not_after * 1000 <= now_ms) return false;
  return renewal_point_ms(cert, threshold) > now_ms;
}

}  // namespace templet::pki
