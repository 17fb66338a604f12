// Output and error texts as consul-template v0.42 gives them (issue 14), for what the Go
// text/template corpus (tests/corpus) cannot show because it needs consul-template's functions
// or a newer Go than Debian's: toTitle (golang.org/x/text's title caser, expected values
// produced with Debian's golang-golang-x-text-dev) and the comparison errors of Go 1.21+.
#include <catch2/catch.hpp>

#include "functions/render.hpp"
#include "renderer/exec.hpp"
#include "renderer/template.hpp"

using namespace templet;

namespace {

std::string run(const std::string& text, const Value& dot = Value()) {
  FunctionTable funcs = consul_template_functions();
  TemplateOptions o;
  o.name = "t";
  o.funcs = &funcs;
  Template t(text, o);
  EmptyDataSource none;
  try {
    return render(t, none, {}, dot).output;
  } catch (const ExecError& e) {
    return e.what();
  }
}

}  // namespace

TEST_CASE("fidelity: toTitle is cases.Title(language.Und, cases.NoLower)", "[fidelity]") {
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"ßtraße ǆx foo_bar a1b", "Sstraße ǅx Foo_bar A1b"},
      {"hello-world it's x.y", "Hello-World It's X.y"},
      {"émile ñu ǳa ǉ", "Émile Ñu ǲa ǈ"},
      {"1abc _abc a_b", "1Abc _Abc A_b"},
      {"ΐx σς", "Ϊ́x Σς"},
      {"ﬃx", "Ffix"},
      {"ǅ ǈ", "ǅ ǈ"},
      {"o'neil mcdonald", "O'neil Mcdonald"},
      {"x:y a.b.c", "X:y A.b.c"},
      {"42nd street", "42Nd Street"},
      {"ŉx ǰ", "ʼNx J̌"},
      {"ﬀ ﬅ", "Ff St"},
      {"ᾳ ᾼ", "ᾼ ᾼ"},
      {"a·b", "A·b"},
      {"a..b a.'b", "A..B A.'B"},
      {"ẞ ẛ ḁ", "ẞ Ṡ Ḁ"},
      {"日本 go", "日本 Go"},
      {"привет мир", "Привет Мир"},
      {"hello,world;x", "Hello,World;X"},
      {"x(y)z [a]{b}", "X(Y)Z [A]{B}"},
      {"áb c", "Áb C"},
      {"tab\tnew", "Tab\tNew"},
      {"ǆǆ", "ǅǆ"},
      {"Ǆx", "ǅx"},
      {"ΰ", "\u03A5\u0308\u0301"},
  };
  for (const auto& [in, want] : rows) {
    INFO(in);
    CHECK(run("{{ toTitle .s }}", Value::map({{Value::string("s"), Value::string(in)}})) == want);
  }
}

TEST_CASE("fidelity: comparison errors name both types, as Go 1.21+", "[fidelity]") {
  CHECK(run("{{ lt 1 \"a\" }}") ==
        "template: t:1:3: executing \"t\" at <lt 1 \"a\">: error calling lt: incompatible types "
        "for comparison: int and string");
  CHECK(run("{{ eq \"1\" 1 }}") ==
        "template: t:1:3: executing \"t\" at <eq \"1\" 1>: error calling eq: incompatible types "
        "for comparison: string and int");
  CHECK(run("{{ ge 1.5 2 }}") ==
        "template: t:1:3: executing \"t\" at <ge 1.5 2>: error calling ge: incompatible types "
        "for comparison: float64 and int");
  CHECK(run("{{ ne true 1 }}") ==
        "template: t:1:3: executing \"t\" at <ne true 1>: error calling ne: incompatible types "
        "for comparison: bool and int");
  // Same kinds that cannot be ordered keep Go's shorter text.
  CHECK(run("{{ lt true false }}") ==
        "template: t:1:3: executing \"t\" at <lt true false>: error calling lt: invalid type for "
        "comparison");
}
