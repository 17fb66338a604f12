// The leak scan's reading side (see test_artifacts.hpp for the writing side): the secrets the
// emulators recorded, a search of text for them and for anything shaped like a Vault token or
// an unmasked lease id, and the rules a state_dir's modes must follow.
//
// A hit is reported by offset, kind and a mask (length and short hash, as templet's own logs
// name secrets), never by the secret itself.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "functions/live/mask.hpp"
#include "renderer/secret_forms.hpp"

namespace templet::testing {

struct KnownSecret {
  std::string kind;
  std::string value;
};

// Every line of the emulators' secrets/*.jsonl files.
inline std::vector<KnownSecret> load_known_secrets(const std::filesystem::path& secrets_dir) {
  std::vector<KnownSecret> out;
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(secrets_dir, ec)) {
    std::ifstream in(f.path());
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("kind") && j.contains("value") && j["value"].is_string())
        out.push_back({j["kind"].get<std::string>(), j["value"].get<std::string>()});
    }
  }
  return out;
}

struct Leak {
  size_t offset = 0;
  std::string kind;
  std::string masked;  // never the secret
};

class SecretScanner {
 public:
  // Shorter strings ("root", "u") occur by chance everywhere; they are counted, not searched.
  static constexpr size_t kMinLength = 8;

  explicit SecretScanner(const std::vector<KnownSecret>& secrets) {
    for (const auto& s : secrets) {
      // A lease id is usable through its random last segment; the masked form templet logs
      // ("database/creds/ro/…#1a2b3c") keeps only the path before it.
      std::string needle = s.value;
      if (s.kind == "lease_id") needle = needle.substr(needle.rfind('/') + 1);
      if (needle.size() < kMinLength) {
        ++too_short_;
        continue;
      }
      // A secret printed inside JSON, a URL or a repr leaks as well (renderer/secret_forms.hpp).
      for (const std::string& form : secret_forms(needle))
        needles_.push_back({s.kind, form, masked(s)});
    }
    for (size_t i = 0; i < needles_.size(); ++i)
      by_prefix_[std::string_view(needles_[i].text).substr(0, kMinLength)].push_back(i);
  }
  // by_prefix_ points into needles_.
  SecretScanner(const SecretScanner&) = delete;
  SecretScanner& operator=(const SecretScanner&) = delete;

  size_t searched() const { return needles_.size(); }
  size_t too_short() const { return too_short_; }

  std::vector<Leak> scan(std::string_view text) const {
    std::vector<Leak> out;
    for (size_t i = 0; i + kMinLength <= text.size(); ++i) {
      auto it = by_prefix_.find(text.substr(i, kMinLength));
      if (it == by_prefix_.end()) continue;
      for (size_t n : it->second)
        if (text.substr(i, needles_[n].text.size()) == needles_[n].text)
          out.push_back({i, needles_[n].kind, needles_[n].masked});
    }
    find_vault_tokens(text, out);
    find_lease_ids(text, out);
    // A recorded secret also found by its shape is one leak, reported as the recorded one.
    std::stable_sort(out.begin(), out.end(),
                     [](const Leak& a, const Leak& b) { return a.offset < b.offset; });
    out.erase(std::unique(out.begin(), out.end(),
                          [](const Leak& a, const Leak& b) { return a.offset == b.offset; }),
              out.end());
    return out;
  }

 private:
  struct Needle {
    std::string kind, text, masked;
  };

  static std::string masked(const KnownSecret& s) {
    if (s.kind == "lease_id") return live::mask_lease_id(s.value);
    if (s.kind == "vault_token") return live::mask_token(s.value);
    return "…#" + live::short_hash(s.value) + " (" + std::to_string(s.value.size()) + " chars)";
  }

  static size_t run_of(std::string_view text, size_t from, bool (*ok)(char)) {
    size_t n = 0;
    while (from + n < text.size() && ok(text[from + n])) ++n;
    return n;
  }
  static bool base62(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
  static bool token_char(char c) { return base62(c) || c == '_' || c == '-'; }

  // Vault's service, batch and recovery tokens: "hvs." (or hvb., hvr.) and 20+ characters.
  static void find_vault_tokens(std::string_view text, std::vector<Leak>& out) {
    for (std::string_view prefix : {"hvs.", "hvb.", "hvr."})
      for (size_t at = text.find(prefix); at != std::string_view::npos;
           at = text.find(prefix, at + 1)) {
        size_t n = run_of(text, at + prefix.size(), token_char);
        if (n >= 20)
          out.push_back({at, "vault token (by its shape)",
                         "…#" + live::short_hash(std::string(text.substr(at, prefix.size() + n)))});
      }
  }

  // A dynamic secret's lease id with its random part: MOUNT/creds/ROLE/ and 20+ base62.
  static void find_lease_ids(std::string_view text, std::vector<Leak>& out) {
    for (size_t at = text.find("/creds/"); at != std::string_view::npos;
         at = text.find("/creds/", at + 1)) {
      size_t role = at + 7;
      size_t slash = text.find_first_of("/ \t\r\n\"'", role);
      if (slash == std::string_view::npos || text[slash] != '/' || slash == role) continue;
      size_t n = run_of(text, slash + 1, base62);
      if (n >= 20)
        out.push_back({slash + 1, "lease id (by its shape)",
                       std::string(text.substr(at + 1, slash - at)) + "…#" +
                           live::short_hash(std::string(text.substr(slash + 1, n)))});
    }
  }

  std::vector<Needle> needles_;
  std::unordered_map<std::string_view, std::vector<size_t>> by_prefix_;
  size_t too_short_ = 0;
};

// What is wrong with one state_dir listing (test_artifacts.hpp keep_state_modes): the directory
// templet created is 0700, every directory in it 0700, every file 0600.
inline std::vector<std::string> state_mode_problems(const nlohmann::json& listing) {
  std::vector<std::string> out;
  std::string dir = listing.value("state_dir", "?");
  bool created = listing.value("created_by_templet", true);
  for (const auto& e : listing["entries"]) {
    std::string path = e.value("path", "?");
    bool is_dir = e.value("dir", false);
    unsigned mode = e.value("mode", 0u);
    if (path == "." && !created) continue;  // the test made it; its mode is the test's choice
    unsigned want = is_dir ? 0700 : 0600;
    if (mode != want) {
      char buf[64];
      std::snprintf(buf, sizeof buf, " is %04o, expected %04o", mode, want);
      out.push_back(dir + ": " + path + buf);
    }
  }
  return out;
}

}  // namespace templet::testing
