// consul-template's `sockaddr` (issue 14): go-sockaddr's template language over injected
// interface lists (tests/data/sockaddr.yaml), outputs as go-sockaddr's ifaddr.go, ifaddrs.go
// and rfc.go compute them: GetPrivateIP keeps up, forwardable RFC 6890 addresses with the
// default interface first, then IPv4 before IPv6, then larger networks; GetPrivateIPs needs
// neither up nor the default interface; 2001::/16 counts as RFC 6890; 203.0.113.0/24 is not
// forwardable. Each expected text is go-sockaddr's own output for the same interfaces (its
// template.Parse over injected IfAddrs; the flags gain "running", which Go >= 1.20 prints), with
// v1.0.7's error texts ("Unable to compile", "Unknown interface flag"), the version
// consul-template v0.42 pins.
// The live side reads this machine's interfaces (sys/ifaddrs).
#include <catch2/catch.hpp>

#include "functions/live/watcher.hpp"
#include "functions/render.hpp"
#include "functions/sockaddr.hpp"
#include "functions/values_file.hpp"
#include "live_fakes.hpp"
#include "renderer/template.hpp"
#include "sys/ifaddrs.hpp"
#include "tests/unit/test_support.hpp"

using namespace templet;

namespace {

std::string eval(const std::string& args) {
  static const ValuesFile values =
      ValuesFile::load(std::string(TEMPLET_SOURCE_DIR) + "/tests/data/sockaddr.yaml");
  static FunctionTable funcs = consul_template_functions();
  TemplateOptions o;
  o.name = "t";
  o.funcs = &funcs;
  Template t("{{ sockaddr " + args + " }}", o);
  try {
    return render(t, values, values.render_env()).output;
  } catch (const std::exception& e) {
    return std::string("ERR ") + e.what();
  }
}

}  // namespace

TEST_CASE("sockaddr: the helpers GetPrivateIP, GetPublicIP, GetInterfaceIP", "[sockaddr]") {
  CHECK(eval(R"("GetPrivateIP")") == "10.0.0.5");
  CHECK(eval(R"("GetPublicIP")") == "8.8.4.4");
  CHECK(eval(R"("GetInterfaceIP \"eth0\"")") == "10.0.0.5");
  CHECK(eval(R"("GetInterfaceIP" "\"eth1\"")") == "192.168.1.20");  // args joined by spaces
  CHECK(eval(R"("GetInterfaceIP \"nope\"")") == "");
  CHECK(eval(R"("GetPrivateIPs")") == "192.168.1.20 172.17.0.1 10.0.0.5 2001:4860:0:2001::68");
  CHECK(eval(R"("GetPublicIPs")") == "8.8.4.4");
  CHECK(eval(R"("GetInterfaceIPs \"eth0\"")") ==
        "10.0.0.5 203.0.113.9 2001:4860:0:2001::68 fe80::42:acff:fe11:2");
}

TEST_CASE("sockaddr: pipelines of sources, filters, sort and attributes", "[sockaddr]") {
  CHECK(eval(R"("GetAllInterfaces | include \"name\" \"lo\" | attr \"address\"")") == "127.0.0.1");
  CHECK(eval(R"("GetAllInterfaces | exclude \"name\" \"lo\" | join \"address\" \",\"")") ==
        "10.0.0.5,203.0.113.9,2001:4860:0:2001::68,fe80::42:acff:fe11:2,192.168.1.20,8.8.4.4,"
        "172.17.0.1");
  CHECK(
      eval(
          R"("GetDefaultInterfaces | include \"flag\" \"forwardable\" | join \"address\" \" \"")") ==
      "10.0.0.5 2001:4860:0:2001::68");
  CHECK(
      eval(
          R"("GetAllInterfaces | include \"type\" \"IPv6\" | limit 2 | join \"address\" \" \"")") ==
      "::1 2001:4860:0:2001::68");
  CHECK(eval(R"("GetAllInterfaces | include \"rfc\" \"1918\" | join \"name\" \" \"")") ==
        "eth0 eth1 docker0");
  CHECK(eval(R"("GetAllInterfaces | sort \"-size,address\" | limit 3 | join \"string\" \" \"")") ==
        "127.0.0.1/8 ::1 203.0.113.9");  // IPv4 and IPv6 compare equal: Go's insertion sort
  CHECK(eval(R"("GetAllInterfaces | include \"network\" \"172.16.0.0/12\" | attr \"name\"")") ==
        "docker0");
  CHECK(eval(R"("GetAllInterfaces | include \"flags\" \"down\" | join \"name\" \" \"")") ==
        "lo lo eth0 eth0 eth0 eth0 eth1 eth1 docker0");  // "down" asks for no flag at all
  CHECK(eval(R"("GetAllInterfaces | exclude \"flags\" \"up\" | attr \"name\"")") == "docker0");
  CHECK(eval(R"("GetAllInterfaces | include \"size\" \"16\" | offset 1 | attr \"address\"")") ==
        "172.17.0.1");
  CHECK(eval(R"("GetAllInterfaces | sort \"name\" | unique \"name\" | join \"name\" \",\"")") ==
        "docker0,eth0,eth1,lo");
  CHECK(eval(R"("GetAllInterfaces | include \"name\" \"eth0\" | attr \"network\"")") == "10.0.0.0");
  CHECK(eval(R"("GetAllInterfaces | include \"name\" \"eth0\" | attr \"netmask\"")") ==
        "255.255.255.0");
  CHECK(eval(R"("GetAllInterfaces | include \"name\" \"eth0\" | attr \"flags\"")") ==
        "up|broadcast|multicast|running");
  CHECK(eval(R"("GetAllInterfaces | include \"name\" \"eth0\" | attr \"type\"")") == "IPv4");
  CHECK(eval(R"("GetPrivateInterfaces | attr \"mask_bits\"")") == "24");
  CHECK(eval(R"("GetAllInterfaces | sort \"private,type\" | join \"address\" \" \"")") ==
        "::1 2001:4860:0:2001::68 fe80::42:acff:fe11:2 127.0.0.1 10.0.0.5 203.0.113.9 "
        "192.168.1.20 172.17.0.1 8.8.4.4");
  CHECK(eval(R"("GetAllInterfaces | sort \"default,-type\" | join \"address\" \" \"")") ==
        "2001:4860:0:2001::68 fe80::42:acff:fe11:2 10.0.0.5 203.0.113.9 ::1 127.0.0.1 "
        "192.168.1.20 8.8.4.4 172.17.0.1");
  CHECK(eval(R"("GetAllInterfaces | include \"address\" \"^10\\\\.\" | attr \"string\"")") ==
        "10.0.0.5/24");
  CHECK(eval(R"("GetAllInterfaces | include \"type\" \"ipv4|ipv6\" | join \"address\" \" \"")") ==
        "127.0.0.1 ::1 10.0.0.5 203.0.113.9 2001:4860:0:2001::68 fe80::42:acff:fe11:2 "
        "192.168.1.20 8.8.4.4 172.17.0.1");
  CHECK(eval(R"("GetAllInterfaces | attr \"host\"")") == "127.0.0.1");
  CHECK(eval(R"("GetAllInterfaces | include \"name\" \"eth1\" | attr \"broadcast\"")") ==
        "192.168.255.255");
  CHECK(eval(R"("GetPublicInterfaces | join \"name\" \" \"")") == "eth1");
  // An IfAddr prints as Go's IfAddr.String().
  CHECK(eval(R"("GetPrivateInterfaces | limit 1")") ==
        "[10.0.0.5/24 {2 1500 eth0 02:42:ac:11:00:02 up|broadcast|multicast|running}]");
  CHECK(eval(R"("GetAllInterfaces | include \"name\" \"^lo$\" | limit 1")") ==
        "[127.0.0.1/8 {1 65536 lo  up|loopback|running}]");
}

TEST_CASE("sockaddr: errors are go-sockaddr's, wrapped as consul-template does", "[sockaddr]") {
  CHECK(eval(R"("GetAllInterfaces | include \"nme\" \"lo\"")")
            .find("error calling sockaddr: unable to execute sockaddr input \"{{ GetAllInterfaces "
                  "| include \\\"nme\\\" \\\"lo\\\" }}\": template: sockaddr.Parse:1:22: executing "
                  "\"sockaddr.Parse\" at <include \"nme\" \"lo\">: error calling include: invalid "
                  "include selector \"nme\"") != std::string::npos);
  CHECK(eval(R"("GetAllInterfaces | attr \"bogus\"")")
            .find("error calling attr: unsupported attribute name \"bogus\"") != std::string::npos);
  CHECK(eval(R"("GetAllInterfaces | include \"name\" \"(\"")")
            .find("error calling include: Unable to compile name regexp \"(\": error parsing "
                  "regexp: missing closing ): `(`") != std::string::npos);
  CHECK(eval(R"("GetAllInterfaces | sort \"bogus\"")")
            .find("error calling sort: unknown sort type: \"bogus\"") != std::string::npos);
  CHECK(eval(R"("GetAllInterfaces | include \"flag\" \"sideways\"")")
            .find("Unknown interface flag: \"sideways\"") != std::string::npos);
  CHECK(eval(R"("GetAllInterfaces | offset 20")")
            .find("unable to seek past the end of the interface array: offset (20) exceeds the "
                  "number of interfaces (9)") != std::string::npos);
  CHECK(eval(R"("GetAllInterfaces | include \"rfc\" \"42\"")")
            .find("unable to lookup RFC number \"42\": unsupported RFC 42") != std::string::npos);
  CHECK(eval(R"("{{")").find("error calling sockaddr: unable to parse template ") !=
        std::string::npos);
}

TEST_CASE("sockaddr: without sockaddr in the values file it is missing", "[sockaddr][values]") {
  ValuesFile empty = ValuesFile::parse("env: {}\n", "v.yaml");
  FunctionTable funcs = consul_template_functions();
  TemplateOptions o;
  o.name = "t";
  o.funcs = &funcs;
  Template t(R"({{ sockaddr "GetPrivateIP" }})", o);
  RenderResult r = render(t, empty, empty.render_env());
  CHECK_FALSE(r.complete);
  REQUIRE(r.missing.size() == 1);
  CHECK(r.missing[0].id == "sockaddr.interfaces");
  CHECK_THROWS_WITH(ValuesFile::parse("sockaddr:\n  ifaces: []\n", "v.yaml"),
                    "v.yaml:2:3: unknown key sockaddr.ifaces (expected interfaces or "
                    "default_interface)");
}

TEST_CASE("sockaddr: this machine's interfaces, read live", "[sockaddr][live]") {
  nlohmann::json j = read_interfaces();
  REQUIRE(j["interfaces"].is_array());
  bool lo = false;
  for (const auto& i : j["interfaces"])
    if (i["name"] == "lo") {
      lo = true;
      CHECK(i["flags"][0] == "up");
      CHECK(std::find(i["addresses"].begin(), i["addresses"].end(), "127.0.0.1/8") !=
            i["addresses"].end());
      CHECK(i["hardware_addr"] == "");
      CHECK(i["mtu"].get<int>() > 0);
    }
  CHECK(lo);
  CHECK(sockaddr_eval(R"({{ GetAllInterfaces | include "name" "^lo$" | attr "address" }})", j) ==
        "127.0.0.1");
  // The watcher re-reads them every 30 s.
  struct Sink : live::WatchSink {
    std::vector<Response> puts;
    bool put(const std::string&, const Response& r) override {
      puts.push_back(r);
      return true;
    }
    void fail(const std::string&, const std::string&, bool) override {}
  } sink;
  live::FakeClock clock;
  live::WatchContext ctx;
  ctx.clock = &clock;
  live::Watcher w(parse_interfaces(), ctx, sink);
  live::TimePoint t = clock.now();
  CHECK(w.step() - t == std::chrono::seconds(30));
  REQUIRE(sink.puts.size() == 1);
  CHECK(nlohmann::json::parse(sink.puts[0].body)["interfaces"] == j["interfaces"]);
}

TEST_CASE("sockaddr: run --once renders from this machine's interfaces", "[sockaddr][cli]") {
  templet::testing::TempDir dir("templet-sockaddr");
  const auto out = dir.path / "out.txt";
  templet::testing::spit(dir.path / "t.tmpl",
                         "{{ sockaddr \"GetAllInterfaces | include \\\"name\\\" \\\"^lo$\\\" | "
                         "attr \\\"address\\\"\" }}\n");
  templet::testing::spit(dir.path / "c.yaml",
                         "state_dir: " + (dir.path / "state").string() +
                             "\ntemplates:\n  - source: " + (dir.path / "t.tmpl").string() +
                             "\n    destination: " + out.string() + "\n");
  auto r = templet::testing::run_shell(std::string(TEMPLET_BINARY) + " run -c " +
                                       (dir.path / "c.yaml").string() + " --once --timeout 10s");
  CHECK(r.status == 0);
  CHECK(templet::testing::slurp(out) == "127.0.0.1\n");
}
