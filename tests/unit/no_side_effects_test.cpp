// `preview` and `run --dry-run` leave the file system as they found it (issue 14): every function
// that can act on the machine (writeToFile in each of its forms, plugin) only says what it would
// have done, secrets masked. Each test snapshots a directory tree (paths, types, modes, sizes,
// contents, modification times) before and after the built binary runs.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <sstream>

#include "tests/unit/test_support.hpp"

using namespace templet::testing;
namespace fs = std::filesystem;

namespace {

// Everything about a tree that a write, create, chmod or delete would change.
std::map<std::string, std::string> snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    struct stat st {};
    ::lstat(e.path().c_str(), &st);
    std::ostringstream row;
    row << std::oct << st.st_mode << std::dec << " " << st.st_uid << ":" << st.st_gid << " "
        << st.st_size << " " << st.st_mtim.tv_sec << "." << st.st_mtim.tv_nsec;
    if (S_ISREG(st.st_mode)) row << " " << slurp(e.path());
    out[fs::relative(e.path(), root).string()] = row.str();
  }
  return out;
}

// A template calling every write-capable function, each aimed inside `root`.
std::string every_writer(const fs::path& root) {
  std::string r = root.string();
  return "{{ with secret \"kv/app\" }}"
         "{{ writeToFile \"" +
         r +
         "/new/dir/a.txt\" \"\" \"\" \"0600\" .Data.password }}"
         "{{ writeToFile \"" +
         r +
         "/existing.txt\" \"\" \"\" \"0644\" \"append\" \"appended\" }}"
         "{{ writeToFile \"" +
         r +
         "/existing.txt\" \"\" \"\" \"0600\" \"newline\" \"over\" }}"
         "{{ writeToFile \"" +
         r + "/owned.txt\" \"0\" \"0\" \"0640\" (printf \"u=%s\" " +
         ".Data.username) }}"
         "{{ plugin \"/bin/sh\" \"-c\" \"touch " +
         r +
         "/plugin-ran\" }}"
         "{{ end }}done\n";
}

const char* kValues =
    "vault:\n"
    "  kv/app:\n"
    "    data: {username: app-user-7Qx, password: Pw-9sK2-zzT4}\n";

}  // namespace

TEST_CASE("no side effects: preview runs no write-capable function and says what it skipped",
          "[dryrun]") {
  TempDir d;
  fs::path root = d.path / "tree";
  fs::create_directories(root);
  spit(root / "existing.txt", "before\n");
  fs::permissions(root / "existing.txt", fs::perms(0640));
  spit(d.path / "t.tmpl", every_writer(root));
  spit(d.path / "values.yaml", kValues);
  auto before = snapshot(root);

  ShellRun r = run_shell(std::string(TEMPLET_BINARY) + " preview " + (d.path / "t.tmpl").string() +
                         " --values " + (d.path / "values.yaml").string());
  CHECK(r.status == 0);
  CHECK(r.out == "done\n");
  std::string R = root.string();
  CHECK(r.err == "templet: preview: writeToFile: would write " + R +
                     "/new/dir/a.txt (perms 0600, not written): \"********\"\n"
                     "templet: preview: writeToFile: would write " +
                     R +
                     "/existing.txt (perms 0644, flags append, not written): \"appended\"\n"
                     "templet: preview: writeToFile: would write " +
                     R +
                     "/existing.txt (perms 0600, flags newline, not written): \"over\\n\"\n"
                     "templet: preview: writeToFile: would write " +
                     R +
                     "/owned.txt (perms 0640, user 0, group 0, not written): \"********\"\n"
                     "templet: preview: plugin: would run \"/bin/sh\" \"-c\" \"touch " +
                     R + "/plugin-ran\" (not run; its output is taken as \"\")\n");
  CHECK(snapshot(root) == before);
}

TEST_CASE("no side effects: run --dry-run runs no write-capable function and writes no destination",
          "[dryrun]") {
  TempDir d;
  fs::path root = d.path / "tree";
  fs::create_directories(root);
  spit(root / "existing.txt", "before\n");
  spit(d.path / "t.tmpl", every_writer(root));
  spit(d.path / "values.yaml", kValues);
  spit(d.path / "templet.yaml", "state_dir: " + (root / "state").string() +
                                    "\ntemplates:\n  - source: " + (d.path / "t.tmpl").string() +
                                    "\n    destination: " + (root / "dest/out.txt").string() +
                                    "\n    command: [\"/bin/sh\", \"-c\", \"touch " +
                                    (root / "command-ran").string() + "\"]\n");
  auto before = snapshot(root);

  ShellRun r = run_shell(std::string(TEMPLET_BINARY) + " run --once --dry-run -c " +
                         (d.path / "templet.yaml").string() + " --values " +
                         (d.path / "values.yaml").string());
  CHECK(r.status == 0);
  std::string R = root.string();
  CHECK(r.out.rfind("dry run: writeToFile: would write " + R +
                        "/new/dir/a.txt (perms 0600, not written): \"********\"\n",
                    0) == 0);
  CHECK(r.out.find("dry run: plugin: would run \"/bin/sh\"") != std::string::npos);
  CHECK(r.out.find("> " + R + "/dest/out.txt\n") != std::string::npos);
  CHECK(r.out.find("Pw-9sK2-zzT4") == std::string::npos);
  CHECK(r.out.find("app-user-7Qx") == std::string::npos);
  CHECK(snapshot(root) == before);
}

TEST_CASE("no side effects: a bad perms argument still fails in a preview", "[dryrun]") {
  TempDir d;
  spit(d.path / "t.tmpl",
       "{{ writeToFile \"" + (d.path / "x").string() + "\" \"\" \"\" \"09\" \"c\" }}");
  spit(d.path / "values.yaml", "env: {}\n");
  ShellRun r = run_shell(std::string(TEMPLET_BINARY) + " preview " + (d.path / "t.tmpl").string() +
                         " --values " + (d.path / "values.yaml").string());
  CHECK(r.status == 1);
  CHECK(r.err.find("error calling writeToFile: writeToFile: invalid permissions \"09\"") !=
        std::string::npos);
  CHECK_FALSE(fs::exists(d.path / "x"));
}
