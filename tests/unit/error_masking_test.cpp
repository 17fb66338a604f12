// Error messages never show a value from Vault (issue 14). Go's errors quote what they failed
// on (`parsing "hunter2": invalid syntax`); templet masks it as ******** wherever the error is
// reported. The live test feeds the Vault emulator's database password through every helper
// that can fail on its argument; the leak scan then also checks all that templet printed.
#include <catch2/catch.hpp>
#include <regex>
#include <sstream>

#include "functions/error_mask.hpp"
#include "functions/render.hpp"
#include "functions/values_file.hpp"
#include "renderer/exec.hpp"
#include "tests/unit/test_support.hpp"

using namespace templet;
using namespace templet::testing;
namespace fs = std::filesystem;

namespace {

// The error a template gives against a values file whose secret s/x has `data`.
std::string error_of(const std::string& text, const std::string& data_yaml) {
  ValuesFile values = ValuesFile::parse("vault:\n  s/x:\n    data: " + data_yaml + "\n", "v.yaml");
  FunctionTable funcs = consul_template_functions();
  TemplateOptions o;
  o.name = "t";
  o.funcs = &funcs;
  Template t(text, o);
  try {
    render(t, values, values.render_env());
  } catch (const ExecError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("error masking: a secret is masked raw, strconv-quoted and JSON-escaped", "[mask]") {
  std::set<std::string> secrets{"p\"w<é\n1"};
  CHECK(mask_error_text("raw p\"w<é\n1.", secrets) == "raw ********.");
  CHECK(mask_error_text("quoted \"p\\\"w<é\\n1\".", secrets) == "quoted \"********\".");
  CHECK(mask_error_text("json \"p\\\"w\\u003cé\\n1\".", secrets) == "json \"********\".");
  CHECK(mask_error_text("nothing here", secrets) == "nothing here");
}

TEST_CASE("error masking: errors of helpers quoting a secret, through a values file", "[mask]") {
  const std::string data = R"({pw: 'Hu"nt(er2é<x', n: "12"})";
  auto with = [](const std::string& expr) {
    return "{{ with secret \"s/x\" }}{{ " + expr + " }}{{ end }}";
  };
  CHECK(error_of(with(".Data.pw | parseInt"), data) ==
        "template: t:1:37: executing \"t\" at <parseInt>: error calling parseInt: parseInt: "
        "strconv.ParseInt: parsing \"********\": invalid syntax");
  CHECK(error_of(with("add .Data.pw 1"), data) ==
        "template: t:1:26: executing \"t\" at <add .Data.pw 1>: error calling add: add: unknown "
        "type for \"********\" (string)");
  CHECK(error_of(with("executeTemplate .Data.pw"), data) ==
        "template: t:1:26: executing \"t\" at <executeTemplate .Dat...>: error calling "
        "executeTemplate: template: no template \"********\" associated with template \"t\"");
  // A value derived from the secret (here quoted once more by printf) is masked as a whole.
  CHECK(error_of(with("parseInt (printf \"%q\" .Data.pw)"), data) ==
        "template: t:1:26: executing \"t\" at <parseInt (printf \"%q...>: error calling parseInt: "
        "parseInt: strconv.ParseInt: parsing \"********\": invalid syntax");
  // Go's eq prints both values when their kinds cannot be compared.
  std::string eq = error_of(with("eq .Data .Warnings"), data);
  CHECK(eq.find("Hu") == std::string::npos);
  CHECK(eq.find("pw:********") != std::string::npos);
}

TEST_CASE("error masking: a missing dependency named by a secret is masked", "[mask]") {
  ValuesFile values = ValuesFile::parse("vault:\n  s/x:\n    data: {pw: top-Secret-42}\n", "v");
  FunctionTable funcs = consul_template_functions();
  TemplateOptions o;
  o.name = "t";
  o.funcs = &funcs;
  Template t("{{ with secret \"s/x\" }}{{ key .Data.pw }}{{ end }}", o);
  RenderResult r = render(t, values, values.render_env());
  REQUIRE(r.missing.size() == 1);
  CHECK(r.missing[0].call == "key \"********\"");
}

TEST_CASE("error masking: run --once logs every failing helper's error with the secret masked",
          "[mask][leaks]") {
  VaultAndConsul s;
  SKIP_WITHOUT_EMULATORS(s);
  TempDir d;
  // Each helper gets the database password the emulator issues (recorded for the leak scan).
  const std::vector<std::pair<std::string, std::string>> cases = {
      {".Data.password | parseInt",
       "error calling parseInt: parseInt: strconv.ParseInt: parsing \"********\": invalid syntax"},
      {".Data.password | parseUint",
       "error calling parseUint: parseUint: strconv.ParseUint: parsing \"********\": invalid "
       "syntax"},
      {".Data.password | parseFloat",
       "error calling parseFloat: parseFloat: strconv.ParseFloat: parsing \"********\": invalid "
       "syntax"},
      {".Data.password | parseBool",
       "error calling parseBool: parseBool: strconv.ParseBool: parsing \"********\": invalid "
       "syntax"},
      {"loop .Data.password",
       "error calling loop: parseInt: strconv.ParseInt: parsing \"********\": invalid syntax"},
      {"add .Data.password 1", "error calling add: add: unknown type for \"********\" (string)"},
      {"subtract 1 .Data.password",
       "error calling subtract: subtract: unknown type for \"********\" (string)"},
      {"multiply .Data.password 2",
       "error calling multiply: multiply: unknown type for \"********\" (string)"},
      {"divide .Data.password 2",
       "error calling divide: divide: unknown type for \"********\" (string)"},
      {"modulo .Data.password 2",
       "error calling modulo: modulo: unknown type for \"********\" (string)"},
      {"maximum .Data.password 2",
       "error calling maximum: maximum: unknown type for \"********\" (string)"},
      {"minimum .Data.password 2",
       "error calling minimum: minimum: unknown type for \"********\" (string)"},
      {"regexMatch (printf \"(%s\" .Data.password) \"x\"", "`********`"},
      {"regexReplaceAll (printf \"(%s\" .Data.password) \"x\" \"y\"", "`********`"},
      {"executeTemplate .Data.password",
       "error calling executeTemplate: template: no template \"********\" associated"},
      {"file .Data.password", "error calling file: file: stat ********: no such file"},
      {"mustEnv .Data.password",
       "error calling mustEnv: required environment variable ******** is empty"},
      {"service (printf \"%s@a@b\" .Data.password)",
       "error calling service: health.service: invalid format: \"********\""},
      {"eq .Data .Warnings", "error calling eq: non-comparable types map["},
  };
  std::string yaml = "state_dir: " + (d.path / "state").string() + "\ntemplates:\n";
  for (size_t i = 0; i < cases.size(); ++i)
    yaml += "  - contents: '{{ with secret \"database/creds/readonly\" }}{{ " + cases[i].first +
            " }}{{ end }}'\n    destination: " + (d.path / ("out" + std::to_string(i))).string() +
            "\n";
  spit(d.path / "templet.yaml", yaml);
  TempletProcess t({"run", "-c", (d.path / "templet.yaml").string(), "--once", "--timeout", "15s"},
                   s.env(), d.path);
  CHECK(t.wait(30s) == 1);
  std::string err = t.stderr_text();
  for (const auto& [expr, want] : cases) {
    INFO(expr);
    CHECK(err.find(want) != std::string::npos);
  }
  // Everything that names the password names it masked.
  auto leases = s.leases_by_user();
  REQUIRE_FALSE(leases.empty());
  for (const auto& [user, lease] : leases) {
    (void)user;
    std::string pw = lease.value("password", "");
    REQUIRE(pw.size() > 8);
    CHECK(err.find(pw) == std::string::npos);
  }
}
