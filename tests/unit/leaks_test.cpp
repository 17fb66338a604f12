// Zero leaked secrets (project issue 8): the scanner itself, with planted hits, and the two
// fixture steps ctest wraps around the whole suite. `leaks.reset_artifacts` empties the
// artifacts directory before any test; `leaks.secret_scan` runs after all of them and searches
// everything templet printed for every secret the emulators issued or accepted, and checks the
// modes of every state_dir templet used. Both are hidden ([.]) so they run only by name.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "tests/unit/secret_scan.hpp"
#include "tests/unit/test_support.hpp"

using namespace templet::testing;
namespace fs = std::filesystem;

TEST_CASE("secret scan: recorded secrets, Vault tokens and lease ids, never masked forms",
          "[leaks]") {
  const std::string password = "A1a-Zq8Lm2Xv9Rt4Pw7K";
  const std::string lease = "database/creds/readonly/Qm3Xr8Tz1Lp5Vw9Ks2Hd7Fj4";
  SecretScanner scan({{"db_password", password},
                      {"lease_id", lease},
                      {"vault_token", "root"},
                      {"redash_option", "Pg-Pass-77"}});
  CHECK(scan.searched() == 3);
  CHECK(scan.too_short() == 1);

  // What templet may print: masked values, masked lease ids, short coincidences.
  std::string clean = "password: ********\nrenewed database/creds/readonly/…#" +
                      templet::live::short_hash(lease) + " (3600s left)\nroot token: token#" +
                      templet::live::short_hash("root") + "\n";
  CHECK(scan.scan(clean).empty());

  std::string leaky = "a " + password + " b " + lease + " c Pg-Pass-77 d " +
                      "hvs.CAESIJ3s9k2LxQ8Wm5Rt1Zp7Yb e secret/creds/x/AbCdEfGhIjKlMnOpQrStUv";
  auto hits = scan.scan(leaky);
  REQUIRE(hits.size() == 5);
  CHECK(hits[0].offset == 2);
  CHECK(hits[0].kind == "db_password");
  CHECK(hits[1].offset == leaky.find("Qm3X"));
  CHECK(hits[1].kind == "lease_id");
  CHECK(hits[1].masked == templet::live::mask_lease_id(lease));
  CHECK(hits[2].kind == "redash_option");
  CHECK(hits[3].kind == "vault token (by its shape)");
  CHECK(hits[4].kind == "lease id (by its shape)");
  for (const auto& h : hits) {
    CHECK(h.masked.find(password) == std::string::npos);
    CHECK(h.masked.find("Pg-Pass-77") == std::string::npos);
    CHECK(h.masked.find("Qm3Xr8") == std::string::npos);
  }
}

TEST_CASE("secret scan: state_dir modes", "[leaks]") {
  auto listing = [](bool created, unsigned root, unsigned sub, unsigned file) {
    return nlohmann::json{{"state_dir", "/s"},
                          {"created_by_templet", created},
                          {"entries",
                           {{{"path", "."}, {"dir", true}, {"mode", root}},
                            {{"path", "leases"}, {"dir", true}, {"mode", sub}},
                            {{"path", "leases/a.json"}, {"dir", false}, {"mode", file}}}}};
  };
  CHECK(state_mode_problems(listing(true, 0700, 0700, 0600)).empty());
  CHECK(state_mode_problems(listing(false, 0755, 0700, 0600)).empty());
  CHECK(state_mode_problems(listing(true, 0755, 0755, 0644)) ==
        std::vector<std::string>{"/s: . is 0755, expected 0700",
                                 "/s: leases is 0755, expected 0700",
                                 "/s: leases/a.json is 0644, expected 0600"});
}

TEST_CASE("secret scan: an emulator records what it issues in the artifacts directory",
          "[leaks][emulator]") {
  TempDir artifacts;
  EmulatorProcess vault("vault", "", 0, artifacts.path.string());
  if (vault.port == 0) {
    WARN("emulators not available; skipped");
    return;
  }
  templet::HttpRequest req;
  req.url = vault.url() + "/v1/database/creds/app";
  req.headers.emplace_back("X-Vault-Token", "root");
  auto body = nlohmann::json::parse(templet::make_http_client()->send(req).body);
  std::map<std::string, std::string> recorded;
  for (const auto& s : load_known_secrets(artifacts.path / "secrets")) recorded[s.kind] = s.value;
  CHECK(recorded["db_password"] == body["data"]["password"]);
  CHECK(recorded["lease_id"] == body["lease_id"]);
}

TEST_CASE("leaks: reset the artifacts directory", "[.leak-fixture]") {
  std::string dir = artifacts_dir();
  REQUIRE_FALSE(dir.empty());
  fs::remove_all(dir);
  fs::create_directories(dir);
}

TEST_CASE("leaks: nothing templet printed holds a secret", "[.leak-fixture]") {
  std::string dir = artifacts_dir();
  REQUIRE_FALSE(dir.empty());
  auto secrets = load_known_secrets(fs::path(dir) / "secrets");
  SecretScanner scanner(secrets);
  std::ostringstream report;

  size_t files = 0, bytes = 0, leaks = 0;
  std::error_code ec;
  for (const auto& f : fs::recursive_directory_iterator(fs::path(dir) / "output", ec)) {
    if (!f.is_regular_file() || f.file_size() == 0) continue;
    std::string text = slurp(f.path());
    ++files;
    bytes += text.size();
    for (const auto& hit : scanner.scan(text)) {
      ++leaks;
      report << "LEAK " << f.path().filename().string() << ":" << hit.offset << " " << hit.kind
             << " " << hit.masked << "\n";
    }
  }

  size_t state_dirs = 0, bad_modes = 0;
  for (const auto& f : fs::directory_iterator(fs::path(dir) / "state", ec)) {
    auto listing = nlohmann::json::parse(slurp(f.path()), nullptr, false);
    if (listing.is_discarded()) continue;
    ++state_dirs;
    for (const auto& problem : state_mode_problems(listing)) {
      ++bad_modes;
      report << "MODE " << problem << "\n";
    }
  }

  report << "secret scan: " << files << " files (" << bytes << " bytes) scanned for "
         << scanner.searched() << " secrets (" << scanner.too_short()
         << " shorter than 8 characters not searched) and for Vault tokens and lease ids: " << leaks
         << " leaks; " << state_dirs << " state_dir listings: " << bad_modes << " wrong modes\n";
  std::cout << report.str();
  std::ofstream(fs::path(dir) / "secret-scan.txt") << report.str();
  CHECK(leaks == 0);
  CHECK(bad_modes == 0);
}
