// Go's fmt on consul-template's pointer types nested in containers (issue 14): `services |
// byTag` is map[string][]*dependency.CatalogSnippet, and Go formats a pointer below the top
// level as a pointer. Expected texts come from Go 1.19's fmt on the same shapes (a Go program
// declaring the struct, its package name replaced by `dependency`).
#include <catch2/catch.hpp>

#include "functions/render.hpp"
#include "functions/values_file.hpp"
#include "renderer/template.hpp"

using namespace templet;

namespace {

std::string printed(const std::string& verb) {
  ValuesFile values = ValuesFile::parse(
      "consul:\n  services:\n    nomad: [{Node: n1, Address: 10.0.0.1, Port: 4646, Tags: "
      "[http, rpc]}]\n",
      "v.yaml");
  FunctionTable funcs = consul_template_functions();
  TemplateOptions o;
  o.name = "t";
  o.funcs = &funcs;
  Template t("{{ printf \"" + verb + "\" (services | byTag) }}", o);
  return render(t, values, values.render_env()).output;
}

}  // namespace

TEST_CASE("go printing: pointers inside maps and slices under verbs a pointer does not take",
          "[fidelity][gofmt]") {
  const std::string S = "*dependency.CatalogSnippet";
  CHECK(printed("%q") == "map[\"http\":[%!q(" + S + "=&{nomad [http rpc]})] \"rpc\":[%!q(" + S +
                             "=&{nomad [http rpc]})]]");
  CHECK(printed("%s") ==
        "map[http:[%!s(" + S + "=&{nomad [http rpc]})] rpc:[%!s(" + S + "=&{nomad [http rpc]})]]");
  CHECK(printed("%t") == "map[%!t(string=http):[%!t(" + S +
                             "=&{nomad [http rpc]})] %!t(string=rpc):[%!t(" + S +
                             "=&{nomad [http rpc]})]]");
  // The bad verb's flags still apply to the value printed inside it.
  CHECK(printed("%5.2f") == "map[%!f(string=   ht):[%!f(" + S +
                                "=&{   no [   ht    rp]})] %!f(string=   rp):[%!f(" + S +
                                "=&{   no [   ht    rp]})]]");
  // At the top level a pointer to a struct is &{...} under every verb.
  ValuesFile none = ValuesFile::parse("consul:\n  services:\n    a: [{Node: n, Tags: [x]}]\n", "v");
  FunctionTable funcs = consul_template_functions();
  TemplateOptions o;
  o.name = "t";
  o.funcs = &funcs;
  Template t("{{ range $k, $v := services | byTag }}{{ printf \"%q\" (index $v 0) }}{{ end }}", o);
  CHECK(render(t, none, none.render_env()).output == "&{\"a\" [\"x\"]}");
}
