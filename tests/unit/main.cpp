// The Catch2 runner for all unit and integration tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
