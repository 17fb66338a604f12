// regexMatch and regexReplaceAll are Go's regexp (issue 14): RE2 syntax (\p{…}, (?flags),
// \Q…\E, named groups), Go's compile error texts and linear-time matching. Expected values were
// produced by Go's regexp (Debian's golang-go); the (?<name>…) rows follow Go 1.22+, which
// consul-template v0.42 is built with (Debian's Go 1.19 predates that syntax).
#include <catch2/catch.hpp>

#include "functions/go_regexp.hpp"
#include "renderer/function.hpp"

using templet::FuncError;
using templet::GoRegexp;

namespace {

struct Row {
  std::string pattern, input, repl;
  bool match;
  std::string replaced;
};

struct ErrRow {
  std::string pattern, error;
};

std::string error_of(const std::string& pattern) {
  try {
    GoRegexp re(pattern);
  } catch (const FuncError& e) {
    return e.what();
  }
  return "(compiled)";
}

}  // namespace

TEST_CASE("go regexp: matching and ReplaceAllString as Go's regexp", "[regexp]") {
  const std::vector<Row> rows = {
      {"a\\\\", "x", "", false, "x"},
      {"\\p{Greek}+", "abc αβγ d", "<$0>", true, "abc <αβγ> d"},
      {"a*", "baaac", "-", true, "-b-c-"},
      {"", "abc", "-", true, "-a-b-c-"},
      {"(?i)HELLO", "say hello", "X", true, "say X"},
      {"^", "ab\ncd", ">", true, ">ab\ncd"},
      {"(?m)^", "ab\ncd", ">", true, ">ab\n>cd"},
      {"\\bx", "x ax x", "Y", true, "Y ax Y"},
      {".", "é", "[$0]", true, "[é]"},
      {"(a)|(b)", "ab", "[$1|$2]", true, "[a|][|b]"},
      {"(\\d+)-(\\d+)", "10-20 3-4", "$2-$1", true, "20-10 4-3"},
      {"$", "ab", "!", true, "ab!"},
      {"a|\\z", "bab", "#", true, "b#b#"},
      {"\\Qa.b\\E", "a.b axb", "X", true, "X axb"},
      {"[^a]", "aé", "X", true, "aX"},
      {"x*", "éx", "-", true, "-é-"},
      {"(?s).", "\n", "X", true, "X"},
      {"(?U)a+", "aaa", "X", true, "XXX"},
      {"[[:alpha:]]+", "ab12", "X", true, "X12"},
      {"\\pL", "é1", "X", true, "X1"},
      {"a{2,}", "aaaa a", "X", true, "X a"},
      {"(?:ab)+", "ababx", "[$0]", true, "[abab]x"},
      {"$1x", "", "", false, ""},
      {"(?P<a>x)(?P<a2>y)", "xy", "$a2$a", true, "yx"},
      {"(?<word>\\w+)", "hi there", "${word}!", true, "hi! there!"},
  };
  for (const auto& r : rows) {
    INFO(r.pattern << " on " << r.input);
    GoRegexp re(r.pattern);
    CHECK(re.match(r.input) == r.match);
    CHECK(re.replace_all(r.input, r.repl) == r.replaced);
  }
}

TEST_CASE("go regexp: compile errors in Go's words", "[regexp]") {
  const std::vector<ErrRow> rows = {
      {"(", "error parsing regexp: missing closing ): `(`"},
      {"a(b", "error parsing regexp: missing closing ): `a(b`"},
      {"a)b", "error parsing regexp: unexpected ): `a)b`"},
      {"x**", "error parsing regexp: invalid nested repetition operator: `**`"},
      {"[z-a]", "error parsing regexp: invalid character class range: `z-a`"},
      {"\\8", "error parsing regexp: invalid escape sequence: `\\8`"},
      {"[a", "error parsing regexp: missing closing ]: `[a`"},
      {"*a", "error parsing regexp: missing argument to repetition operator: `*`"},
      {"a{1001}", "error parsing regexp: invalid repeat count: `{1001}`"},
      {"(?P<n>a", "error parsing regexp: missing closing ): `(?P<n>a`"},
      {"(?P<>a)", "error parsing regexp: invalid named capture: `(?P<>`"},
      {"[[:foo:]]", "error parsing regexp: invalid character class range: `[:foo:]`"},
      {"\\p{Foo}", "error parsing regexp: invalid character class range: `\\p{Foo}`"},
      {"(?z)", "error parsing regexp: invalid or unsupported Perl syntax: `(?z`"},
      {"a++", "error parsing regexp: invalid nested repetition operator: `++`"},
      {"x{2}{3}", "error parsing regexp: invalid nested repetition operator: `{2}{3}`"},
      {"(?<n", "error parsing regexp: invalid named capture: `(?<n`"},
  };
  for (const auto& r : rows) {
    INFO(r.pattern);
    CHECK(error_of(r.pattern) == r.error);
  }
}

TEST_CASE("go regexp: patterns that make a backtracking engine exponential stay linear",
          "[regexp]") {
  // std::regex needs ~2^n steps (or overflows its stack) for each of these.
  std::string as(200000, 'a');
  CHECK_FALSE(GoRegexp("(a*)*b").match(as));
  CHECK_FALSE(GoRegexp("(a|aa)+$b").match(as));
  std::string xs(100000, 'x');
  CHECK(GoRegexp("(x+x+)+y").replace_all(xs, "-") == xs);
  CHECK(GoRegexp("^(\\w+\\s?)*$").match(xs + "!") == false);
}
