// byKey, byTag, byPort, byMeta, executeTemplate and timestamp through real renders.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "functions/render.hpp"
#include "functions/values_file.hpp"

using namespace templet;

namespace {

const char* kValues = R"(
consul:
  kv:
    app/a/x: "1"
    app/a/y: "2"
    app/b/z: "3"
    app/c: "top"
  services:
    web:
      - {Node: n1, Address: 10.0.0.1, Port: 80, Tags: [blue, prod], Status: passing,
         ServiceMeta: {version: "2", zone: eu-1}}
      - {Node: n2, Address: 10.0.0.2, Port: 8080, Tags: [green, prod, prod], Status: passing,
         ServiceMeta: {version: "10"}}
      - {Node: n3, Address: 10.0.0.3, Port: 80, Tags: [], Status: passing,
         ServiceMeta: {version: "x"}}
)";

std::string render_text(const std::string& text) {
  static FunctionTable funcs = consul_template_functions();
  static ValuesFile values = ValuesFile::parse(kValues, "values.yaml");
  TemplateOptions o;
  o.name = "t";
  o.funcs = &funcs;
  o.missing_key = MissingKey::Zero;
  Template t(text, o);
  RenderResult r = render(t, values, values.render_env());
  REQUIRE(r.complete);
  return r.output;
}

}  // namespace

TEST_CASE("byKey groups a tree by its top-level folder", "[grouping]") {
  CHECK(render_text("{{ range $top, $pairs := tree \"app\" | byKey }}{{ $top }}:{{ range $k, $p "
                    ":= $pairs }}{{ $k }}={{ $p.Value }},{{ $p.Key }} {{ end }}|{{ end }}") ==
        "a:x=1,x y=2,y |b:z=3,z |");
  CHECK(render_text("{{ printf \"%T\" (tree \"app\" | byKey) }}") ==
        "map[string]map[string]*dependency.KeyPair");
}

TEST_CASE("byTag, byPort and byMeta group services", "[grouping]") {
  CHECK(render_text("{{ range $tag, $s := service \"web\" | byTag }}{{ $tag }}={{ range $s }}{{ "
                    ".Node }} {{ end }}|{{ end }}") == "blue=n1 |green=n2 |prod=n1 n2 |");
  CHECK(render_text("{{ range $port, $s := service \"web\" | byPort }}{{ $port }}={{ len $s }} "
                    "{{ end }}") == "80=2 8080=1 ");
  CHECK(render_text("{{ range $k, $s := service \"web\" | byMeta \"zone\" }}{{ $k }}={{ len $s "
                    "}} {{ end }}") == "_no_zone_=2 eu-1=1 ");
  CHECK(render_text("{{ byTag nil | len }}") == "0");
}

TEST_CASE("byMeta with |int pads numbers and rejects others", "[grouping]") {
  FunctionTable funcs = consul_template_functions();
  ValuesFile values = ValuesFile::parse(kValues, "values.yaml");
  TemplateOptions o;
  o.name = "t";
  o.funcs = &funcs;
  Template t("{{ service \"web\" | byMeta \"version|int\" }}", o);
  CHECK_THROWS_WITH(render(t, values, values.render_env()),
                    Catch::Contains("error calling byMeta: byMeta: cannot parse x as number"));
  CHECK(render_text("{{ range $k, $s := service \"web|passing\" | byTag }}{{ end }}{{ with "
                    "index (service \"web\") 0 }}{{ end }}ok") == "ok");
}

TEST_CASE("executeTemplate renders a defined template to a string", "[grouping]") {
  CHECK(render_text("{{ define \"item\" }}[{{ . }}]{{ end }}{{ executeTemplate \"item\" \"x\" | "
                    "toUpper }}{{ executeTemplate \"item\" }}") == "[X][<no value>]");
  FunctionTable funcs = consul_template_functions();
  ValuesFile values = ValuesFile::parse(kValues, "values.yaml");
  TemplateOptions o;
  o.name = "t";
  o.funcs = &funcs;
  Template t("{{ executeTemplate \"nope\" }}", o);
  CHECK_THROWS_WITH(render(t, values, values.render_env()),
                    "template: t:1:3: executing \"t\" at <executeTemplate \"nop...>: error "
                    "calling executeTemplate: template: no template \"nope\" associated with "
                    "template \"t\"");
}

TEST_CASE("timestamp formats now in UTC with Go layouts", "[grouping]") {
  std::string rfc = render_text("{{ timestamp }}");
  CHECK(rfc.size() == 20);
  CHECK(rfc.back() == 'Z');
  CHECK(rfc[10] == 'T');
  CHECK(render_text("{{ timestamp \"2006\" | len }}") == "4");
  CHECK(render_text("{{ timestamp \"unix\" | parseInt | lt 1700000000 }}") == "true");
}

TEST_CASE("writeToFile writes, appends, sets perms and refuses symlinks", "[grouping]") {
  char tmpl[] = "/tmp/templet-wtf-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string file = dir + "/sub/out.txt";
  CHECK(render_text("{{ writeToFile \"" + file + "\" \"\" \"\" \"0640\" \"hello\" }}") == "");
  CHECK(render_text("{{ writeToFile \"" + file +
                    "\" \"\" \"\" \"0640\" \"append,newline\" \"more\" }}") == "");
  std::ifstream in(file);
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(got == "hellomore\n");
  struct stat st;
  REQUIRE(stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  std::string link = dir + "/link.txt";
  REQUIRE(symlink(file.c_str(), link.c_str()) == 0);
  FunctionTable funcs = consul_template_functions();
  ValuesFile values = ValuesFile::parse(kValues, "values.yaml");
  TemplateOptions o;
  o.name = "t";
  o.funcs = &funcs;
  Template t("{{ writeToFile \"" + link + "\" \"\" \"\" \"0600\" \"x\" }}", o);
  CHECK_THROWS_WITH(render(t, values, values.render_env()),
                    Catch::Contains("writeToFile: " + link + " is a symlink"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("plugin runs a program without a shell and returns its trimmed stdout", "[grouping]") {
  CHECK(render_text("{{ plugin \"/bin/echo\" \" a \" \"\" \"b\" }}") == "a b");
  CHECK(render_text("{{ \"piped\" | plugin \"/bin/echo\" \"x\" }}") == "x piped");
  FunctionTable funcs = consul_template_functions();
  ValuesFile values = ValuesFile::parse(kValues, "values.yaml");
  TemplateOptions o;
  o.name = "t";
  o.funcs = &funcs;
  Template t("{{ plugin \"/bin/sh\" \"-c\" \"echo out; echo err >&2; exit 3\" }}", o);
  CHECK_THROWS_WITH(render(t, values, values.render_env()),
                    Catch::Contains("error calling plugin: exec \"/bin/sh\": exit status 3"));
  FunctionTable denied = consul_template_functions({{"plugin"}});
  o.funcs = &denied;
  Template d("{{ plugin \"/bin/echo\" \"x\" }}", o);
  CHECK_THROWS_WITH(render(d, values, values.render_env()),
                    Catch::Contains("error calling plugin: function is disabled"));
}
