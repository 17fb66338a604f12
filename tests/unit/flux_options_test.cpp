// The `option task` reader: valid forms and every malformed one, with exact messages and
// FILE:LINE:COL positions.
#include <catch2/catch.hpp>

#include "hooks/flux_options.hpp"

using namespace templet;

namespace {
std::string error_of(const std::string& script, int first_line = 1) {
  try {
    parse_flux_task_options(script, first_line);
  } catch (const FluxOptionsError& e) {
    return e.describe("t.flux");
  }
  return "(no error)";
}
}  // namespace

TEST_CASE("option task: valid forms", "[influxdb][flux]") {
  SECTION("every, offset, concurrency, retry, comments and other statements") {
    auto o = parse_flux_task_options(
        "import \"strings\"\n"
        "// option task = {name: \"commented\"}\n"
        "option v = {timeRangeStart: -1h}\n"
        "option task = {\n"
        "  name: \"cpu \\\"hot\\\" \\${x} \\x41\\n\",  // trailing comment\n"
        "  every: 1h30m,\n"
        "  offset: -5m,\n"
        "  concurrency: 2, retry: 10,\n"
        "  unknown: [1, {a: 2}],\n"
        "}\n"
        "from(bucket: \"b\") |> filter(fn: (r) => r._measurement =~ /cpu\"{/)\n");
    CHECK(o.name == "cpu \"hot\" ${x} A\n");
    CHECK(o.every == "1h30m");
    CHECK(o.cron.empty());
    CHECK(o.offset == "-5m");
    CHECK(o.concurrency == 2);
    CHECK(o.retry == 10);
    CHECK(o.position.line == 4);
    CHECK(o.position.column == 1);
  }
  SECTION("cron forms") {
    for (const char* cron : {"0 * * * *", "*/5 1-3 ? JAN-mar mon,FRI", "0 0 12 * * ?",
                             "0 0 12 1 1 * 2030", "@daily", "@every 1h", "0 0 L * *"}) {
      INFO(cron);
      auto o = parse_flux_task_options(std::string("option task = {name: \"c\", cron: \"") + cron +
                                       "\"}\n");
      CHECK(o.cron == cron);
      CHECK(o.every.empty());
    }
  }
  SECTION("durations as written, calendar units for every") {
    CHECK(parse_flux_task_options("option task = {name: \"d\", every: 1d}").every == "1d");
    CHECK(parse_flux_task_options("option task = {name: \"d\", every: 1mo}").every == "1mo");
  }
  SECTION("record with `with` and string keys") {
    auto o = parse_flux_task_options("option task = {r with \"name\": \"s\", every: 2000ms}");
    CHECK(o.name == "s");
    CHECK(o.every == "2000ms");
  }
}

TEST_CASE("option task: malformed scripts", "[influxdb][flux]") {
  struct Case {
    const char* script;
    const char* error;
  };
  const Case cases[] = {
      {"from(bucket: \"b\")\n", "t.flux:1:1: no task options defined"},
      {"option task = {every: 1h}\n", "t.flux:1:1: missing required option: name"},
      {"\n  option task = {name: \"a\", every: 1h, cron: \"* * * * *\"}\n",
       "t.flux:2:40: cannot use both cron and every in task options"},
      {"option task = {name: \"a\"}\n", "t.flux:1:1: missing required option: cron or every"},
      {"option task = {name: x, every: 1h}\n",
       "t.flux:1:22: failed to parse field 'name' in task options"},
      {"option task = {name: \"${x}\", every: 1h}\n",
       "t.flux:1:22: failed to parse field 'name' in task options"},
      {"option task = {name: \"a\" + \"b\", every: 1h}\n",
       "t.flux:1:22: failed to parse field 'name' in task options"},
      {"option task = {name: \"a\", every: 1h}\noption task = {name: \"b\", every: 1h}\n",
       "t.flux:2:1: multiple task options defined"},
      {"option task = {name: \"a\", every: 1x}\n",
       "t.flux:1:34: failed to parse field 'every' in task options"},
      {"option task = {name: \"a\", every: 01m}\n",
       "t.flux:1:34: failed to parse field 'every' in task options"},
      {"option task = {name: \"a\", every: duration(v: \"1h\")}\n",
       "t.flux:1:34: failed to parse field 'every' in task options"},
      {"option task = {name: \"a\", every: \"1h\"}\n",
       "t.flux:1:34: failed to parse field 'every' in task options"},
      {"option task = {name: \"a\", every: 1h}\nx = \"open\n",
       "t.flux:2:5: unterminated string literal"},
      {"option task = {name: \"unterminated, every: 1h}\n",
       "t.flux:1:22: unterminated string literal"},
      {"option task = {name: \"a\\q\", every: 1h}\n", "t.flux:1:24: invalid escape sequence \\q"},
      {"option task = {name: \"a\", every: 1h\n", "t.flux:1:15: unclosed {"},
      {"option task = {name: \"a\", every: 1h})\n", "t.flux:1:37: unexpected )"},
      {"option task = \"x\"\n",
       "t.flux:1:15: task option expected to be object literal, but found \"StringLiteral\""},
      {"option task = {name: \"\", every: 1h}\n", "t.flux:1:22: name required"},
      {"option task = {name: \"a\", every: 0s}\n",
       "t.flux:1:34: must specify exactly one of either cron or every"},
      {"option task = {name: \"a\", every: 500ms}\n",
       "t.flux:1:34: every option must be at least 1 second"},
      {"option task = {name: \"a\", every: 1500ms}\n",
       "t.flux:1:34: every option must be expressible as whole seconds"},
      {"option task = {name: \"a\", cron: \"61 * * * *\"}\n",
       "t.flux:1:33: cron invalid: invalid value \"61\" in minute field"},
      {"option task = {name: \"a\", cron: \"* * *\"}\n",
       "t.flux:1:33: cron invalid: cron expression must have 5, 6 or 7 fields, got 3"},
      {"option task = {name: \"a\", every: 1h, offset: 1d}\n",
       "t.flux:1:46: offset 1d uses d, w, mo or y, which the server cannot store (use h)"},
      {"option task = {name: \"a\", every: 1h, offset: 1h + 1m}\n",
       "t.flux:1:46: failed to parse field 'offset' in task options"},
      {"option task = {name: \"a\", every: 1h, concurrency: 0, retry: 11}\n",
       "t.flux:1:51: concurrency must be at least 1, retry exceeded max of 10"},
      {"option task = {name: \"a\", every: 1h, retry: -1}\n",
       "t.flux:1:45: failed to parse field 'retry' in task options"},
      {"option task = {name: \"\", every: 500ms}\n",
       "t.flux:1:22: name required, every option must be at least 1 second"},
  };
  for (const auto& c : cases) {
    INFO(c.script);
    CHECK(error_of(c.script) == c.error);
  }
}

TEST_CASE("option task: positions count from the script's first line", "[influxdb][flux]") {
  CHECK(error_of("\noption task = {every: 1h}\n", 10) ==
        "t.flux:11:1: missing required option: name");
  try {
    parse_flux_task_options("option task = {name: \"keep\", every: 1h, retry: 0}", 3);
    FAIL("no error");
  } catch (const FluxOptionsError& e) {
    CHECK(e.name == "keep");  // the plan can still name the task
    CHECK(e.detail == "retry must be at least 1");
  }
}

TEST_CASE("option task: any truncation or byte change is an answer, never a crash",
          "[influxdb][flux]") {
  const std::string script =
      "import \"x\"\noption task = {name: \"n\\\"${a}\", every: 1h30m, offset: -5m, retry: 2}\n"
      "f = (r) => r.a =~ /b\\/c/ and r.v / 2.5 > 01\n// c\nf(tables: [1, 2])\n";
  const std::string alphabet = "{}()[]\"\\/$,:-=01hmµ sxa\n";
  size_t answers = 0;
  for (size_t cut = 0; cut <= script.size(); ++cut) {
    for (char c : alphabet) {
      std::string s = script.substr(0, cut) + c + script.substr(std::min(cut + 1, script.size()));
      for (const std::string& variant : {s, script.substr(0, cut)}) {
        try {
          parse_flux_task_options(variant);
        } catch (const FluxOptionsError& e) {
          CHECK(e.position.line >= 1);
          CHECK(e.position.column >= 1);
        }
        ++answers;
      }
    }
  }
  CHECK(answers > 0);
}
