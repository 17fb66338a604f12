// The Catch2 runner for all unit and integration tests.
//
// With an artifacts directory (tests/unit/test_artifacts.hpp), what templet's code logs inside
// this process (the in-process hook and live-source tests) is also kept there for the leak scan.
#define CATCH_CONFIG_RUNNER
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/unit/test_artifacts.hpp"

int main(int argc, char* argv[]) {
  std::string artifacts = templet::testing::artifacts_dir();
  if (!artifacts.empty()) {
    auto dir = std::filesystem::path(artifacts) / "output";
    std::filesystem::create_directories(dir);
    auto log = dir / ("in-process-" + std::to_string(::getpid()) + ".log");
    spdlog::default_logger()->sinks().push_back(
        std::make_shared<spdlog::sinks::basic_file_sink_mt>(log.string()));
    spdlog::default_logger()->flush_on(spdlog::level::trace);
  }
  return Catch::Session().run(argc, argv);
}
