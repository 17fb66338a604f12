// pkiCert's pure parts: the DER reader of a certificate's validity and basicConstraints
// (functions/x509_cert), consul-template's PEM scan and renewal point (functions/pem_bundle),
// and the function rendered against a values file: exact outputs, identity, errors, taint.
// Fixed certificates in tests/data/pki (README.md there).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "functions/data_types.hpp"
#include "functions/helpers_internal.hpp"
#include "functions/pem_bundle.hpp"
#include "functions/render.hpp"
#include "functions/values_file.hpp"
#include "functions/x509_cert.hpp"
#include "renderer/template.hpp"
#include "tests/unit/test_support.hpp"

using namespace templet;
using templet::testing::slurp;

namespace {

const std::string kPki = std::string(TEMPLET_SOURCE_DIR) + "/tests/data/pki/";

std::string pem(const std::string& name) {
  return slurp(kPki + name);
}

// The DER inside a PEM file.
std::string der_of(const std::string& name) {
  std::string text = pem(name), b64, out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("-----", 0) != 0) b64 += line;
  size_t err_at = 0;
  REQUIRE(helpers::base64_std_decode(b64, out, err_at));
  return out;
}

std::string cert_error(const std::string& der) {
  try {
    x509::read_certificate(der);
  } catch (const x509::CertError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string trimmed(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// A values file whose pki/issue/web answer is Vault's, with the fixed certificates (PEM strings
// without their final newline, as Vault sends them).
ValuesFile pki_values() {
  nlohmann::json body = {{"lease_id", ""},
                         {"renewable", false},
                         {"lease_duration", 0},
                         {"data",
                          {{"certificate", trimmed(pem("leaf.pem"))},
                           {"issuing_ca", trimmed(pem("ca.pem"))},
                           {"ca_chain", {trimmed(pem("ca.pem"))}},
                           {"private_key", trimmed(pem("leaf.key"))},
                           {"private_key_type", "ec"},
                           {"serial_number", "02"},
                           {"expiration", 1748822400}}}};
  nlohmann::json bad = {{"data",
                         {{"certificate",
                           "-----BEGIN CERTIFICATE-----\nAAAA\n"
                           "-----END CERTIFICATE-----"}}}};
  return ValuesFile::parse(
      "vault:\n  pki/issue/web: " + body.dump() + "\n  pki/issue/bad: " + bad.dump() + "\n",
      "v.yaml");
}

RenderResult run(const std::string& text, const RenderEnv& env = {}) {
  static const ValuesFile values = pki_values();
  FunctionTable funcs = consul_template_functions();
  TemplateOptions to;
  to.name = "t";
  to.funcs = &funcs;
  Template t(text, to);
  return render(t, values, env);
}

std::string render_error(const std::string& text) {
  try {
    run(text);
  } catch (const ExecError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("x509: validity and basicConstraints of real certificates", "[pki]") {
  x509::CertInfo leaf = x509::read_certificate(der_of("leaf.pem"));
  CHECK(leaf.not_before == 1748736000);  // 2025-06-01T00:00:00Z
  CHECK(leaf.not_after == 1748822400);
  CHECK_FALSE(leaf.is_ca);
  x509::CertInfo ca = x509::read_certificate(der_of("ca.pem"));
  CHECK(ca.not_before == 1704067200);
  CHECK(ca.not_after == 2019686400);
  CHECK(ca.is_ca);
  // From 2050 on, GeneralizedTime.
  CHECK(x509::read_certificate(der_of("far.pem")).not_after == 2556144000);
  x509::CertInfo bare = x509::read_certificate(der_of("bare.pem"));  // no extensions
  CHECK(bare.not_after == 1748739600);
  CHECK_FALSE(bare.is_ca);
}

TEST_CASE("x509: malformed DER is an error, never a read out of bounds", "[pki]") {
  const std::string der = der_of("leaf.pem");
  CHECK(cert_error("") == "x509: malformed certificate");
  CHECK(cert_error(der + "x") == "x509: trailing data");
  // Every truncation fails cleanly.
  for (size_t n = 0; n < der.size(); ++n) {
    INFO("prefix of " << n << " bytes");
    CHECK_THROWS_AS(x509::read_certificate(der.substr(0, n)), x509::CertError);
  }
  // Every single-byte change either reads or fails cleanly (ASan runs this too).
  for (size_t i = 0; i < der.size(); ++i) {
    std::string bad = der;
    bad[i] = static_cast<char>(bad[i] ^ 0xff);
    try {
      x509::read_certificate(bad);
    } catch (const x509::CertError&) {
    }
  }
  std::string indefinite = der;
  indefinite[1] = static_cast<char>(0x80);
  CHECK(cert_error(indefinite) == "x509: malformed certificate");
  // The validity's text: June 31st, a letter in a digit, no zone.
  auto with_time = [&](const std::string& from, const std::string& to) {
    std::string d = der;
    size_t at = d.find(from);
    REQUIRE(at != std::string::npos);
    d.replace(at, from.size(), to);
    return cert_error(d);
  };
  CHECK(with_time("250601000000Z", "250631000000Z") == "x509: malformed validity");
  CHECK(with_time("250601000000Z", "2506010000x0Z") == "x509: malformed validity");
  CHECK(with_time("250601000000Z", "2506010000000") == "x509: malformed validity");
  CHECK(with_time("250601000000Z", "250601240000Z") == "x509: malformed validity");
}

TEST_CASE("pem: consul-template's scan sorts blocks into cert, key, CA and chain", "[pki]") {
  const std::string leaf = pem("leaf.pem"), key = pem("leaf.key"), ca = pem("ca.pem");
  pki::PemBundle b = pki::parse_pems("junk before\n" + key + "between\n" + trimmed(leaf) + "\n" +
                                     ca + ca + "trailing junk");
  CHECK(b.cert == leaf);  // re-encoded: a final newline, whatever followed the block
  CHECK(b.key == key);
  CHECK(b.ca == ca);
  CHECK(b.ca_chain == std::vector<std::string>{ca});  // once each
  REQUIRE(b.leaf);
  CHECK(b.leaf->not_after == 1748822400);

  // Re-encoded as pem.EncodeToMemory writes it: 64 columns, whatever the file had.
  std::string b64;
  for (const auto& line : helpers::split(leaf, "\n"))
    if (!line.empty() && line.rfind("-----", 0) != 0) b64 += line;
  std::string wide = "-----BEGIN CERTIFICATE-----\r\n";
  for (size_t i = 0; i < b64.size(); i += 76) wide += b64.substr(i, 76) + "\r\n";
  wide += "-----END CERTIFICATE-----";
  CHECK(pki::parse_pems(wide).cert == leaf);

  // The scan stops at the first block pem.Decode refuses.
  pki::PemBundle stopped =
      pki::parse_pems("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n" + leaf);
  CHECK(stopped.cert.empty());
  CHECK_FALSE(stopped.leaf);
  CHECK(pki::parse_pems("-----BEGIN CERTIFICATE-----\nno end").cert.empty());
  CHECK(pki::parse_pems("").cert.empty());
  // A certificate block that is no certificate fails, as x509.ParseCertificate fails the fetch.
  CHECK_THROWS_WITH(pki::parse_pems("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"),
                    "x509: malformed certificate");
}

TEST_CASE("pem: an issue answer flattened in key order, and the renewal point", "[pki]") {
  nlohmann::json body = {{"data",
                          {{"certificate", "C"},
                           {"ca_chain", {"A", "B"}},
                           {"expiration", 1},
                           {"issuing_ca", "A"},
                           {"private_key", "K"}}}};
  CHECK(pki::issue_answer_pems(body) == "A\nB\nC\nA\nK\n");
  CHECK(pki::issue_answer_pems(nlohmann::json::parse("{\"data\":null}")).empty());
  CHECK(pki::issue_answer_pems(nlohmann::json::parse("[1]")).empty());

  x509::CertInfo c{1000, 2000, false};
  CHECK(pki::renewal_point_ms(c) == 1900000);  // notBefore + 90 % of the lifetime
  CHECK(pki::renewal_point_ms(c, 0.5) == 1500000);
  CHECK(pki::good_for(c, 1899999));
  CHECK_FALSE(pki::good_for(c, 1900000));
  CHECK_FALSE(pki::good_for(c, 2500000));  // expired
  // notAfter before notBefore: Go's goodFor puts the renewal point between them, still ahead.
  CHECK(pki::good_for(x509::CertInfo{2000, 1000, false}, 0));
}

TEST_CASE("pkiCert renders Cert, Key, CA and CAChain from a values file", "[pki]") {
  const std::string leaf = pem("leaf.pem"), key = pem("leaf.key"), ca = pem("ca.pem");
  RenderResult r =
      run("{{ with pkiCert \"pki/issue/web\" \"common_name=leaf.example.com\" \"ttl=24h\" }}"
          "{{ .Cert }}{{ .Key }}{{ .CA }}{{ index .CAChain 0 }}{{ end }}");
  CHECK(r.complete);
  CHECK(r.output == leaf + key + ca + ca);
  // Vault Agent's spelling, .Data.Cert; the struct as Go prints a value (not a pointer).
  CHECK(run("{{ with pkiCert \"pki/issue/web\" }}{{ .Data.Cert }}{{ end }}").output == leaf);
  CHECK(run("{{ pkiCert \"pki/issue/web\" }}").output ==
        "{" + leaf + " " + key + " " + ca + " [" + ca + "]}");
  CHECK(run("{{ with pkiCert \"pki/issue/web\" }}{{ .CaChainContains .CA }} "
            "{{ .CaChainContains \"x\" }} {{ .Equals . }}{{ end }}")
            .output == "true false true");
  CHECK(run("{{ printf \"%T\" (pkiCert \"pki/issue/web\") }}").output == "dependency.PemEncoded");
  // Vault data: the certificate and the key are secrets in the output (masked in diffs).
  CHECK(r.secrets.count(leaf) == 1);
  CHECK(r.secrets.count(key) == 1);
}

TEST_CASE("pkiCert: identity with the destination, missing data, bad arguments", "[pki]") {
  RenderEnv env;
  env.destination = "/etc/tls/app.pem";
  RenderResult r =
      run("{{ with pkiCert \"/pki/issue/nope/\" \"ttl= 1h \" \"\" \"common_name=a\" }}"
          "x{{ end }}{{ pkiCert }}",
          env);
  CHECK(r.output == "<no value>");
  CHECK_FALSE(r.complete);
  REQUIRE(r.missing.size() == 1);
  const Dependency& d = r.missing[0];
  CHECK(d.id == "vault.pki(pki/issue/nope->/etc/tls/app.pem)");
  CHECK(d.type == DepType::VaultPki);
  CHECK(d.target == "pki/issue/nope");
  CHECK(d.body ==
        std::vector<std::pair<std::string, std::string>>{{"common_name", "a"}, {"ttl", "1h"}});
  CHECK(d.call == "pkiCert \"/pki/issue/nope/\"");
  CHECK(render_error("{{ pkiCert \"pki/issue/web\" \"ttl\" }}") ==
        "template: t:1:3: executing \"t\" at <pkiCert \"pki/issue/w...>: error calling "
        "pkiCert: not k=v pair \"ttl\"");
  CHECK(render_error("{{ pkiCert \" / \" }}") ==
        "template: t:1:3: executing \"t\" at <pkiCert \" / \">: error calling pkiCert: "
        "vault.read: invalid format: \"\"");
  CHECK(render_error("{{ pkiCert \"pki/issue/bad\" }}") ==
        "template: t:1:3: executing \"t\" at <pkiCert \"pki/issue/b...>: error calling "
        "pkiCert: vault.pki(pki/issue/bad->): x509: malformed certificate");
}

TEST_CASE("pkiCert's value prints as Go prints dependency.PemEncoded", "[pki]") {
  // The expected texts come from Go 1.19's text/template on a struct of PemEncoded's shape
  // (Cert, Key, CA string; CAChain []string; a Data method), package dependency.
  const std::string text =
      "{{ . }}|{{ printf \"%v\" . }}|{{ printf \"%+v\" . }}|{{ printf \"%q\" . }}|"
      "{{ printf \"%#v\" . }}|{{ printf \"%T\" . }}|{{ .CAChain }}|{{ .Data.CA }}|"
      "{{ printf \"%s\" . }}";
  FunctionTable funcs = consul_template_functions();
  TemplateOptions to;
  to.name = "t";
  to.funcs = &funcs;
  Template t(text, to);
  EmptyDataSource none;
  pki::PemBundle full{"C\n", "K\n", "A\n", {"A\n", "B\n"}, std::nullopt};
  CHECK(
      render(t, none, {}, dtypes::pem_encoded_value(full)).output ==
      "{C\n K\n A\n [A\n B\n]}|{C\n K\n A\n [A\n B\n]}|{Cert:C\n Key:K\n CA:A\n CAChain:[A\n "
      "B\n]}|{\"C\\n\" \"K\\n\" \"A\\n\" [\"A\\n\" \"B\\n\"]}|dependency.PemEncoded{Cert:\"C\\n\", "
      "Key:\"K\\n\", CA:\"A\\n\", CAChain:[]string{\"A\\n\", \"B\\n\"}}|dependency.PemEncoded|"
      "[A\n B\n]|A\n|{C\n K\n A\n [A\n B\n]}");
  pki::PemBundle bare{"C\n", "", "", {}, std::nullopt};
  CHECK(render(t, none, {}, dtypes::pem_encoded_value(bare)).output ==
        "{C\n   []}|{C\n   []}|{Cert:C\n Key: CA: CAChain:[]}|{\"C\\n\" \"\" \"\" []}|"
        "dependency.PemEncoded{Cert:\"C\\n\", Key:\"\", CA:\"\", CAChain:[]string(nil)}|"
        "dependency.PemEncoded|[]||{C\n   []}");
}

TEST_CASE("pkiCert in preview --values: the output exactly, the diff masked", "[pki]") {
  templet::testing::TempDir dir;
  const std::string leaf = pem("leaf.pem"), key = pem("leaf.key");
  nlohmann::json body = {{"data",
                          {{"certificate", trimmed(leaf)},
                           {"private_key", trimmed(key)},
                           {"issuing_ca", trimmed(pem("ca.pem"))}}}};
  templet::testing::spit(dir.path / "v.yaml", "vault:\n  pki/issue/web: " + body.dump() + "\n");
  templet::testing::spit(dir.path / "t.tmpl",
                         "{{ with pkiCert \"pki/issue/web\" \"common_name=leaf.example.com\" }}"
                         "{{ .Cert }}{{ .Key }}{{ end }}");
  templet::testing::spit(dir.path / "old.pem", "old\n");
  const std::string base = std::string(TEMPLET_BINARY) + " preview " +
                           (dir.path / "t.tmpl").string() + " --values " +
                           (dir.path / "v.yaml").string();
  auto out = templet::testing::run_shell(base);
  CHECK(out.status == 0);
  CHECK(out.out == leaf + key);
  auto diff = templet::testing::run_shell(base + " --diff " + (dir.path / "old.pem").string());
  CHECK(diff.status == 0);
  CHECK(diff.out.find("\n+********\n") != std::string::npos);
  CHECK(diff.out.find("BEGIN") == std::string::npos);
  CHECK(diff.out.find(key.substr(40, 30)) == std::string::npos);
}
