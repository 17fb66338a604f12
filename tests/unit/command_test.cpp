// Command hooks: exit codes, output capture, timeouts that kill the process group, environment.
#include <catch2/catch.hpp>

#include "hooks/command.hpp"

using namespace templet;
using namespace std::chrono_literals;

TEST_CASE("a command's exit code and output are reported", "[command]") {
  auto r = run_command({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, 5s);
  CHECK(r.started);
  CHECK(r.exit_code == 3);
  CHECK_FALSE(r.timed_out);
  CHECK(r.output == "out\nerr\n");
}

TEST_CASE("a command past its timeout is killed with its children", "[command]") {
  auto start = std::chrono::steady_clock::now();
  auto r = run_command({"/bin/sh", "-c", "sleep 30 & sleep 30"}, 300ms);
  CHECK(r.timed_out);
  CHECK(r.exit_code == -1);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("a command that cannot start says why", "[command]") {
  auto r = run_command({"/nonexistent/templet-test"}, 1s);
  CHECK_FALSE(r.started);
  CHECK(r.error == "/nonexistent/templet-test: No such file or directory");
}

TEST_CASE("secrets reach a command through its environment, not its arguments", "[command]") {
  auto r = run_command({"/bin/sh", "-c", "printf %s \"$TEMPLET_TEST_SECRET\""}, 5s,
                       {{"TEMPLET_TEST_SECRET", "s3cr3t"}});
  CHECK(r.output == "s3cr3t");
}

TEST_CASE("commands are described for logs with quoting", "[command]") {
  CHECK(describe_command({"systemctl", "reload", "nginx"}) == "systemctl reload nginx");
  CHECK(describe_command({"/bin/sh", "-c", "echo \"hi\""}) == "/bin/sh -c \"echo \\\"hi\\\"\"");
}
