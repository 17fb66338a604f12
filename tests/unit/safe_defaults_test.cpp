// Safe defaults (project issue 8), end to end through the built `templet run` against the Vault
// and Consul emulators: private files for secrets, a warning when TLS verification is turned
// off, a private state_dir, commands that never see a rendered secret on their command line,
// and function_denylist from the config. Skipped when python3 or the emulators are absent.
#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>
#include <sstream>

#include "tests/unit/test_support.hpp"

using namespace templet::testing;
namespace fs = std::filesystem;

namespace {

const std::string kPassword =
    R"({{ with secret \"database/creds/readonly\" }}{{ .Data.password }}{{ end }})";

// The lines of `text` that contain `part`, without their log timestamp.
std::vector<std::string> lines_with(const std::string& text, const std::string& part) {
  static const std::regex stamp("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3} ");
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.find(part) != std::string::npos) out.push_back(std::regex_replace(line, stamp, ""));
  return out;
}

// `templet run --once -c CONFIG` in `dir`; asserts it exits `want`.
std::string run_once(const VaultAndConsul& s, const fs::path& dir, const std::string& config,
                     int want = 0) {
  spit(dir / "templet.yaml", config);
  TempletProcess t({"run", "-c", (dir / "templet.yaml").string(), "--once", "--timeout", "15s"},
                   s.env(), dir);
  int status = t.wait(30s);
  std::string err = t.stderr_text();
  INFO(err);
  CHECK(status == want);
  return err;
}

}  // namespace

TEST_CASE("safe defaults: a file rendered from secrets is 0600 unless perms says otherwise",
          "[safe]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  // consul-template would keep (or default to) 0644; templet makes a secret file private even
  // when an older, public version of it exists.
  spit(p / "old.conf", "public\n");
  fs::permissions(p / "old.conf", fs::perms(0644));
  run_once(
      s, p,
      "state_dir: " + (p / "state").string() + "\ntemplates:\n" + "  - contents: \"" + kPassword +
          "\"\n    destination: " + (p / "old.conf").string() + "\n  - contents: \"" + kPassword +
          "\"\n    destination: " + (p / "new.conf").string() + "\n  - contents: \"" + kPassword +
          "\"\n    destination: " + (p / "shared.conf").string() + "\n    perms: \"0644\"\n" +
          "  - contents: \"{{ key \\\"app/host\\\" }}\"\n    destination: " +
          (p / "plain.conf").string() + "\n");
  CHECK(mode_of(p / "old.conf") == 0600);
  CHECK(mode_of(p / "new.conf") == 0600);
  CHECK(mode_of(p / "shared.conf") == 0644);  // explicit perms win
  CHECK(mode_of(p / "plain.conf") == 0644);   // no secret in it
  CHECK(slurp(p / "old.conf") == slurp(p / "new.conf"));
}

TEST_CASE("safe defaults: ssl.verify false logs one warning naming the server", "[safe]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  const std::string templates = "templates:\n  - contents: \"" + kPassword +
                                "\"\n    destination: " + (p / "out").string() + "\n";
  std::string err = run_once(s, p,
                             "state_dir: " + (p / "state").string() +
                                 "\nvault: {ssl: {verify: false}}\n"
                                 "consul: {ssl: {verify: false}}\n" +
                                 templates);
  CHECK(lines_with(err, "vault: TLS") ==
        std::vector<std::string>{"warning vault: TLS certificate verification is off for " +
                                 s.vault.url() + " (ssl.verify: false)"});
  CHECK(lines_with(err, "consul: TLS") ==
        std::vector<std::string>{"warning consul: TLS certificate verification is off for " +
                                 s.consul.url() + " (ssl.verify: false)"});

  // On by default: no warning.
  err = run_once(s, p, "state_dir: " + (p / "state").string() + "\n" + templates);
  CHECK(lines_with(err, "verification is off").empty());
}

TEST_CASE(
    "safe defaults: state_dir 0700 with files 0600, an existing open one kept and warned about",
    "[safe]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  auto config = [&](const fs::path& state) {
    return "state_dir: " + state.string() + "\ntemplates:\n  - contents: \"" + kPassword +
           "\"\n    destination: " + (p / "out").string() + "\n";
  };
  auto check_private_inside = [](const fs::path& state) {
    REQUIRE(fs::is_directory(state / "leases"));
    CHECK(mode_of(state / "leases") == 0700);
    size_t files = 0;
    for (const auto& f : fs::directory_iterator(state / "leases")) {
      ++files;
      CHECK(mode_of(f.path()) == 0600);
    }
    CHECK(files == 1);
  };

  // Created, with a missing parent.
  fs::path fresh = p / "var" / "lib" / "templet";
  std::string err = run_once(s, p, config(fresh));
  CHECK(mode_of(fresh) == 0700);
  check_private_inside(fresh);
  CHECK(lines_with(err, "state_dir").empty());

  // Already there and open to others (made by hand, or shared): templet does not chmod a
  // directory it does not own the purpose of, says so once, and keeps its secrets private below.
  fs::path shared = p / "shared";
  fs::create_directories(shared / "leases");
  fs::permissions(shared, fs::perms(0755));
  fs::permissions(shared / "leases", fs::perms(0755));
  err = run_once(s, p, config(shared));
  CHECK(lines_with(err, "state_dir") ==
        std::vector<std::string>{"warning state_dir " + shared.string() +
                                 " has mode 0755; templet keeps its secrets in 0700 "
                                 "subdirectories and leaves this mode alone, but chmod 0700 it "
                                 "if it is templet's alone"});
  CHECK(mode_of(shared) == 0755);
  check_private_inside(shared);
}

TEST_CASE("safe defaults: a command's argv is the configured one, never rendered", "[safe]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  // The command records its own command line as the kernel shows it to every local user.
  std::string record = "tr '\\\\0' ' ' < /proc/$$/cmdline > " + (p / "argv").string();
  run_once(s, p,
           "state_dir: " + (p / "state").string() + "\ntemplates:\n  - contents: \"" + kPassword +
               "\"\n    destination: " + (p / "out").string() + "\n    command: [\"/bin/sh\", " +
               "\"-c\", \"" + record + "\", \"sh\", \"{{ .Data.password }}\"]\n");
  std::string password = slurp(p / "out");
  REQUIRE(password.size() == 20);
  CHECK(slurp(p / "argv") == "/bin/sh -c " + std::string("tr '\\0' ' ' < /proc/$$/cmdline > ") +
                                 (p / "argv").string() + " sh {{ .Data.password }} ");
  CHECK(slurp(p / "argv").find(password) == std::string::npos);
}

TEST_CASE("safe defaults: function_denylist in the config turns off plugin and writeToFile",
          "[safe]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  auto p = d.path;
  std::string err = run_once(
      s, p,
      "state_dir: " + (p / "state").string() + "\ntemplates:\n" +
          "  - contents: '{{ plugin \"/bin/echo\" \"ran\" }}'\n    destination: " +
          (p / "plugin.out").string() + "\n    function_denylist: [plugin, writeToFile]\n" +
          "  - contents: '{{ writeToFile \"" + (p / "written").string() +
          "\" \"\" \"\" \"0644\" \"x\" }}'\n    destination: " + (p / "write.out").string() +
          "\n    function_denylist: [plugin, writeToFile]\n",
      1);
  CHECK(lines_with(err, "error calling plugin: function is disabled").size() == 1);
  CHECK(lines_with(err, "error calling writeToFile: function is disabled").size() == 1);
  CHECK_FALSE(fs::exists(p / "plugin.out"));
  CHECK_FALSE(fs::exists(p / "write.out"));
  CHECK_FALSE(fs::exists(p / "written"));
}
