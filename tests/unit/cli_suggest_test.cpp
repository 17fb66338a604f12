// The command line's "did you mean": edit distance, the closest option, and the binary's message.
#include <algorithm>
#include <catch2/catch.hpp>

#include "app/cli_suggest.hpp"
#include "tests/unit/test_support.hpp"

using namespace templet;
using templet::testing::run_shell;
using templet::testing::ShellRun;

namespace {

// Runs the built templet with `args` (shell words), capturing stdout and stderr.
ShellRun run_binary(const std::string& args) {
  return run_shell(std::string(TEMPLET_BINARY) + " " + args);
}

}  // namespace

TEST_CASE("edit distance counts insertions, deletions, substitutions and swaps", "[cli]") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("abc", "") == 3);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("--dry-run", "--dry-run") == 0);
  CHECK(edit_distance("--dryrun", "--dry-run") == 1);    // insertion
  CHECK(edit_distance("--dry-runn", "--dry-run") == 1);  // deletion
  CHECK(edit_distance("--dry-ran", "--dry-run") == 1);   // substitution
  CHECK(edit_distance("--dyr-run", "--dry-run") == 1);   // adjacent swap
  CHECK(edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("the closest option is suggested only when it is a plausible typo", "[cli]") {
  std::vector<std::string> known = {"--help",    "-h",       "--once", "--dry-run",
                                    "--timeout", "--values", "-c",     "--config"};
  CHECK(closest_name("--dryrun", known) == "--dry-run");
  CHECK(closest_name("--timout", known) == "--timeout");
  CHECK(closest_name("--value", known) == "--values");
  CHECK(closest_name("--confg", known) == "--config");
  CHECK(closest_name("--onec", known) == "--once");
  CHECK_FALSE(closest_name("--frobnicate", known));
  CHECK_FALSE(closest_name("-x", {"--config"}));
  CHECK_FALSE(closest_name("-x", {"-h", "-c"}));  // one letter off is no evidence of a typo
}

TEST_CASE("known option names include the parent's, like --help", "[cli]") {
  CLI::App app{"t"};
  auto* sub = app.add_subcommand("run", "r");
  bool once = false;
  sub->add_flag("--once", once, "o");
  std::string c;
  sub->add_option("-c,--config", c, "c");
  auto names = known_option_names(*sub);
  auto has = [&](const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  CHECK(has("--once"));
  CHECK(has("--config"));
  CHECK(has("-c"));
  CHECK(has("--help"));
}

TEST_CASE("templet suggests the closest option for an unknown one and exits 2", "[cli]") {
  auto r = run_binary("run --dryrun --once");
  CHECK(r.status == 2);
  CHECK(r.out.empty());
  CHECK(r.err ==
        "templet: unknown option --dryrun; did you mean --dry-run?\n"
        "Run 'templet run --help' for usage.\n");

  auto p = run_binary("preview x.tmpl --show-secret");
  CHECK(p.status == 2);
  CHECK(p.err.find("templet: unknown option --show-secret; did you mean --show-secrets?\n") == 0);

  auto far = run_binary("run --frobnicate");
  CHECK(far.status == 2);
  CHECK(far.err.find("templet: unknown option --frobnicate\n") == 0);
}

TEST_CASE("templet suggests the closest command for an unknown one", "[cli]") {
  auto r = run_binary("rn --once");
  CHECK(r.status == 2);
  CHECK(r.err.find("templet: unknown command rn; did you mean run?\n") == 0);
}

TEST_CASE("help lists every option with its default", "[cli]") {
  auto r = run_binary("preview --help");
  CHECK(r.status == 0);
  CHECK(r.out.find("--left-delimiter") != std::string::npos);
  CHECK(r.out.find("--left-delimiter S={{") != std::string::npos);
  auto run = run_binary("run --help");
  CHECK(run.status == 0);
  CHECK(run.out.find("--dry-run") != std::string::npos);
  CHECK(run.out.find("--timeout DUR=forever") != std::string::npos);
}
