#include <catch2/catch.hpp>

#include "renderer/parser.hpp"

using namespace templet;

TEST_CASE("parser smoke") {
  ParseOptions o;
  o.name = "t";
  auto set = parse("a{{.X | printf \"%d\"}}b", o);
  REQUIRE(set.at("t")->root->string() == "a{{.X | printf \"%d\"}}b");
}
