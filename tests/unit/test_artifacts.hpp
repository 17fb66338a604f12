// The integration suite's artifacts directory, for the leak scan (tests/unit/leaks_test.cpp).
//
// ctest sets TEMPLET_TEST_ARTIFACTS for every test. Below it:
//   output/   what templet printed: stdout, stderr, logs, plans, diffs (kept by the test helpers)
//   state/    the modes of every state_dir templet used, as JSON listings
//   secrets/  what the emulators issued or accepted, one JSON line each (tests/emulators/common.py)
// Without the variable (the test binary run by hand) nothing is kept.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace templet::testing {

inline std::string artifacts_dir() {
  const char* d = std::getenv("TEMPLET_TEST_ARTIFACTS");
  return d ? d : "";
}

// A fresh name in artifacts/SUBDIR, without extension: "<test name>-<pid>-<n>", so a file says
// which test wrote it. Empty without an artifacts directory.
inline std::filesystem::path new_artifact(const std::string& subdir) {
  std::string root = artifacts_dir();
  if (root.empty()) return {};
  static std::atomic<unsigned> counter{0};
  std::string test;
  if (Catch::getCurrentContext().getResultCapture())
    test = Catch::getResultCapture().getCurrentTestName();
  std::string slug;
  for (char c : test) {
    bool keep = std::isalnum(static_cast<unsigned char>(c));
    if (keep)
      slug += c;
    else if (!slug.empty() && slug.back() != '-')
      slug += '-';
    if (slug.size() >= 60) break;
  }
  if (slug.empty()) slug = "test";
  std::filesystem::path dir = std::filesystem::path(root) / subdir;
  std::filesystem::create_directories(dir);
  return dir / (slug + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
}

// Keeps a copy of something templet printed; `what` becomes the extension.
inline void keep_output(const std::string& text, const std::string& what = "out") {
  std::filesystem::path p = new_artifact("output");
  if (p.empty()) return;
  std::ofstream(p.string() + "." + what, std::ios::binary) << text;
}

// Records the mode of a state_dir and of everything in it. `created_by_templet` is false when
// the directory existed before templet ran (its own mode is then the test's choice).
inline void keep_state_modes(const std::filesystem::path& state_dir, bool created_by_templet) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(state_dir, ec)) return;
  fs::path p = new_artifact("state");
  if (p.empty()) return;
  nlohmann::json entries = nlohmann::json::array();
  auto add = [&](const fs::path& f, const std::string& relative) {
    struct stat st {};
    if (::lstat(f.c_str(), &st) != 0) return;  // gone meanwhile
    entries.push_back(
        {{"path", relative}, {"dir", S_ISDIR(st.st_mode)}, {"mode", st.st_mode & 07777}});
  };
  add(state_dir, ".");
  for (auto it = fs::recursive_directory_iterator(state_dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    add(it->path(), fs::relative(it->path(), state_dir).string());
  nlohmann::json listing = {{"state_dir", state_dir.string()},
                            {"created_by_templet", created_by_templet},
                            {"entries", entries}};
  std::ofstream(p.string() + ".json") << listing.dump(1) << "\n";
}

}  // namespace templet::testing
