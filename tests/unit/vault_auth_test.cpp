// vault.auth machine logins (issue #16) against the IMDS, GCP and Azure metadata emulators and
// the Vault emulator's auth mounts (tests/emulators/vault_auth.py), which verify what templet
// sends: the SigV4 signature recomputed with the emulated account's keys, JWTs with the test
// issuer's key, bound roles. Refusals must reach the user as Vault's own message, with nothing
// secret beside it (the leak scan checks every output against every key, token and JWT issued).
#include <catch2/catch.hpp>

#include "functions/live/auth/sigv4.hpp"
#include "tests/unit/test_support.hpp"

using namespace templet;
using namespace templet::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const char* kTemplate = "{{ with secret \"secret/app\" }}pw={{ .Data.data.password }}{{ end }}";

// Vault with secret/app readable under policy "app" and `auth_methods` (vault_auth.py's seed).
std::string vault_seed(const std::string& auth_methods, const std::string& extra = "") {
  return R"({"kv": {"secret/app": {"password": "pw-Machine-7Hq2"}},
      "policies": {"app": {"secret/data/app": ["read"]}}, )" +
         extra + R"("auth_methods": )" + auth_methods + "}";
}

std::string aws_mount(const std::string& bound, const std::string& header = "") {
  return R"({"aws": {"sts_region": "us-east-1", "iam_server_id_header_value": ")" + header +
         R"(", "roles": {"redash": {"bound_iam_principal_arn": [")" + bound +
         R"("], "token_ttl": 3600, "token_policies": ["app"]}}}})";
}

struct Run {
  int status;
  std::string out, err;
  std::chrono::milliseconds took;
};

// `templet run --once` with `auth` as the vault.auth block; env has no AWS keys unless given.
Run run_once(const EmulatorProcess& vault, const std::string& auth, const TempDir& d,
             std::map<std::string, std::string> env = {}, const std::string& timeout = "10s") {
  env["VAULT_ADDR"] = vault.url();
  env.emplace("AWS_SHARED_CREDENTIALS_FILE", (d.path / "no-credentials").string());
  env.emplace("AWS_ACCESS_KEY_ID", "");
  env.emplace("AWS_SECRET_ACCESS_KEY", "");
  spit(d.path / "templet.yaml",
       config_yaml(d.path, {{kTemplate, d.path / "out"}},
                   "vault: {auth: " + auth + "}\nretry: {backoff: 100ms, max_backoff: 400ms}\n"));
  auto start = std::chrono::steady_clock::now();
  TempletProcess t(
      {"run", "--once", "--timeout", timeout, "-c", (d.path / "templet.yaml").string()}, env,
      d.path);
  int status = t.wait(30s);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return {status, t.stdout_text(), t.stderr_text(), took};
}

std::string imds_auth(const EmulatorProcess& imds, const std::string& more = "") {
  return "{method: aws, role: redash, aws: {metadata_endpoint: '" + imds.url() + "'" + more + "}}";
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("sigv4: AWS's get-vanilla example signs to AWS's published signature", "[auth]") {
  live::auth::AwsRequest req;
  req.method = "GET";
  req.url = "https://example.amazonaws.com/";
  live::auth::AwsCredentials c{
      "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", {}, ""};
  live::auth::sigv4_sign(req, c, "us-east-1", "service",
                         live::SysClock::from_time_t(1440938160));  // 20150830T123600Z
  REQUIRE(req.headers.size() == 2);
  CHECK(req.headers[0].second == "20150830T123600Z");
  CHECK(req.headers[1].second ==
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST_CASE("aws iam: templet logs in with the instance profile's IMDSv2 credentials", "[auth]") {
  EmulatorProcess imds("imds");
  EmulatorProcess vault(
      "vault", vault_seed(aws_mount("arn:aws:iam::123456789012:role/app", "vault.example.com")));
  if (imds.port == 0 || vault.port == 0) return;
  TempDir d;
  Run r = run_once(vault, imds_auth(imds, ", header_value: vault.example.com"), d);
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(slurp(d.path / "out") == "pw=pw-Machine-7Hq2");
  CHECK(contains(r.err, "vault: aws iam login succeeded: token#"));
  // IMDSv2: a session token first, then the role and its credentials, each with the token.
  auto puts = requests(imds, "^/latest/api/token$", "PUT");
  REQUIRE(puts.size() == 1);
  CHECK(puts[0]["headers"].dump().find("21600") != std::string::npos);
  CHECK(requests(imds, "^/latest/meta-data/iam/security-credentials/app$", "GET").size() == 1);
  CHECK(requests(vault, "^/v1/auth/aws/login$", "POST").size() == 1);
}

TEST_CASE("aws iam: an unbound role is refused with Vault's message within --timeout", "[auth]") {
  EmulatorProcess imds("imds");
  EmulatorProcess vault("vault", vault_seed(aws_mount("arn:aws:iam::123456789012:role/other")));
  if (imds.port == 0 || vault.port == 0) return;
  TempDir d;
  Run r = run_once(vault, imds_auth(imds), d, {}, "2s");
  INFO(r.err);
  CHECK(r.status == 3);
  CHECK(r.took < 8s);
  // The last line says what is missing and, in Vault's words, why.
  CHECK(contains(r.err,
                 "templet: (dynamic): missing data: secret \"secret/app\" (last error: "
                 "vault: POST " +
                     vault.url() +
                     "/v1/auth/aws/login: status 400: IAM Principal "
                     "\"arn:aws:sts::123456789012:assumed-role/app/i-0abc\" does not "
                     "belong to the role \"redash\")\n"));
  CHECK(!fs::exists(d.path / "out"));
  // Refused logins back off (100 ms doubling to 400 ms): the read's retries and the token
  // upkeep's each try about 7 times in 2 s, not hundreds.
  auto logins = requests(vault, "^/v1/auth/aws/login$", "POST").size();
  CHECK(logins >= 4);
  CHECK(logins <= 20);
}

TEST_CASE("aws iam: a wrong region is refused by STS through Vault", "[auth]") {
  EmulatorProcess imds("imds");
  EmulatorProcess vault("vault", vault_seed(aws_mount("arn:aws:iam::123456789012:role/app")));
  if (imds.port == 0 || vault.port == 0) return;
  TempDir d;
  Run r = run_once(vault, imds_auth(imds, ", region: eu-west-1"), d, {}, "1s");
  INFO(r.err);
  CHECK(r.status != 0);
  CHECK(contains(r.err, "error making upstream request: received error code 403 from STS: "));
  CHECK(contains(r.err, "<Code>SignatureDoesNotMatch</Code>"));
  CHECK(contains(r.err, "Credential should be scoped to a valid region, not 'eu-west-1'. "));
}

TEST_CASE("aws iam: an expired IMDS credential gives STS's ExpiredToken", "[auth]") {
  EmulatorProcess imds("imds", R"({"expired": true})");
  EmulatorProcess vault("vault", vault_seed(aws_mount("arn:aws:iam::123456789012:role/app")));
  if (imds.port == 0 || vault.port == 0) return;
  TempDir d;
  Run r = run_once(vault, imds_auth(imds), d, {}, "1s");
  INFO(r.err);
  CHECK(r.status != 0);
  CHECK(contains(r.err, "<Code>ExpiredToken</Code>"));
  CHECK(contains(r.err, "The security token included in the request is expired"));
  // An expired credential is fetched again at the next login, not kept.
  CHECK(requests(imds, "^/latest/meta-data/iam/security-credentials/app$", "GET").size() >= 2);
}

TEST_CASE("aws iam: a clock 20 minutes apart fails the signature's date check", "[auth]") {
  EmulatorProcess imds("imds");
  EmulatorProcess vault("vault", vault_seed(aws_mount("arn:aws:iam::123456789012:role/app"),
                                            R"("time_offset_s": 1200, )"));
  if (imds.port == 0 || vault.port == 0) return;
  TempDir d;
  Run r = run_once(vault, imds_auth(imds), d, {}, "1s");
  INFO(r.err);
  CHECK(r.status != 0);
  CHECK(contains(r.err, "<Code>SignatureDoesNotMatch</Code>"));
  CHECK(contains(r.err, "<Message>Signature expired: "));
  CHECK(contains(r.err, " - 15 min.)</Message>"));
}

TEST_CASE("aws iam: a missing X-Vault-AWS-IAM-Server-ID header is refused", "[auth]") {
  EmulatorProcess imds("imds");
  EmulatorProcess vault(
      "vault", vault_seed(aws_mount("arn:aws:iam::123456789012:role/app", "vault.example.com")));
  if (imds.port == 0 || vault.port == 0) return;
  TempDir d;
  Run r = run_once(vault, imds_auth(imds), d, {}, "1s");
  INFO(r.err);
  CHECK(r.status != 0);
  CHECK(contains(r.err,
                 "status 400: error validating X-Vault-AWS-IAM-Server-ID header: missing "
                 "X-Vault-AWS-IAM-Server-ID header"));
}

TEST_CASE("aws iam: keys from the environment then from the shared credentials file", "[auth]") {
  EmulatorProcess vault("vault", vault_seed(aws_mount("arn:aws:iam::123456789012:user/deploy")));
  if (vault.port == 0) return;
  TempDir k;  // the keys go to a file: a secret key must not be in any output kept
  REQUIRE(run_shell("python3 " TEMPLET_SOURCE_DIR "/tests/emulators/aws_sts.py user deploy > " +
                    (k.path / "keys").string())
              .status == 0);
  std::istringstream split(slurp(k.path / "keys"));
  std::string akid, secret;
  split >> akid >> secret;
  REQUIRE(akid.rfind("AKIA", 0) == 0);
  // No metadata server: an IMDS fallback would fail on this refused port.
  const std::string auth =
      "{method: aws, role: redash, aws: {metadata_endpoint: 'http://127.0.0.1:9'}}";
  {
    TempDir d;
    Run r =
        run_once(vault, auth, d, {{"AWS_ACCESS_KEY_ID", akid}, {"AWS_SECRET_ACCESS_KEY", secret}});
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(slurp(d.path / "out") == "pw=pw-Machine-7Hq2");
  }
  {
    TempDir d;
    spit(d.path / "credentials",
         "[other]\naws_access_key_id = AKIAXXXX\n[ci]\naws_access_key_id = " + akid +
             "\naws_secret_access_key = " + secret + "\n");
    Run r = run_once(vault, auth, d,
                     {{"AWS_SHARED_CREDENTIALS_FILE", (d.path / "credentials").string()},
                      {"AWS_PROFILE", "ci"}});
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(slurp(d.path / "out") == "pw=pw-Machine-7Hq2");
  }
}

TEST_CASE("gcp gce: the instance identity JWT logs in and its audience names the role", "[auth]") {
  EmulatorProcess gce("gcp_metadata");
  EmulatorProcess vault("vault", vault_seed(R"({"gcp": {"roles": {"redash": {
      "bound_service_accounts": ["redash@my-project.iam.gserviceaccount.com"],
      "bound_projects": ["my-project"], "token_policies": ["app"]}}}})"));
  if (gce.port == 0 || vault.port == 0) return;
  TempDir d;
  Run r = run_once(vault,
                   "{method: gcp, role: redash, gcp: {metadata_endpoint: '" + gce.url() + "'}}", d);
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(slurp(d.path / "out") == "pw=pw-Machine-7Hq2");
  auto calls = requests(gce, "/identity$", "GET");
  REQUIRE(calls.size() == 1);
  std::string path = calls[0].dump();
  CHECK(contains(path, "audience=" + url_escape(vault.url() + "/vault/redash") + "&format=full"));
}

TEST_CASE("azure: the managed identity token and the VM's names log in", "[auth]") {
  EmulatorProcess imds("azure_metadata");
  EmulatorProcess vault("vault",
                        vault_seed(R"({"azure": {"resource": "https://management.azure.com/",
      "roles": {"redash": {"bound_resource_groups": ["data-qa"], "token_policies": ["app"]}}}})"));
  if (imds.port == 0 || vault.port == 0) return;
  TempDir d;
  Run r = run_once(
      vault, "{method: azure, role: redash, azure: {metadata_endpoint: '" + imds.url() + "'}}", d);
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(slurp(d.path / "out") == "pw=pw-Machine-7Hq2");
}

TEST_CASE("jwt and kubernetes: a JWT from a file and a wrong audience refused", "[auth]") {
  EmulatorProcess vault("vault", vault_seed(R"({"jwt": {"roles": {"redash": {
      "bound_audiences": ["vault"], "token_policies": ["app"]}}},
      "k8s": {"type": "kubernetes", "roles": {"redash": {
      "bound_service_account_names": ["redash"], "token_policies": ["app"]}}}})"));
  if (vault.port == 0) return;
  // Straight into the file: a JWT must not be in any output the leak scan reads.
  auto jwt = [](const fs::path& file, const std::string& claims) {
    REQUIRE(run_shell("python3 " TEMPLET_SOURCE_DIR "/tests/emulators/jwt_keys.py sign '" + claims +
                      "' > " + file.string())
                .status == 0);
  };
  long long exp = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count() +
                  600;
  {
    TempDir d;
    jwt(d.path / "jwt",
        R"({"aud": "not-vault", "sub": "redash", "exp": )" + std::to_string(exp) + "}");
    Run r = run_once(vault,
                     "{method: jwt, role: redash, jwt: {path: " + (d.path / "jwt").string() + "}}",
                     d, {}, "1s");
    INFO(r.err);
    CHECK(r.status != 0);
    CHECK(contains(r.err,
                   "/v1/auth/jwt/login: status 400: error validating claims: invalid audience "
                   "(aud) claim: audience claim does not match any expected audience"));
  }
  {
    TempDir d;
    jwt(d.path / "token", R"({"kubernetes.io/serviceaccount/service-account.name": "redash",
        "kubernetes.io/serviceaccount/namespace": "data", "exp": )" +
                              std::to_string(exp) + "}");
    Run r = run_once(vault,
                     "{method: kubernetes, mount: k8s, role: redash, kubernetes: {token_path: " +
                         (d.path / "token").string() +
                         "}, sink: {token_file: " + (d.path / "sink").string() + "}}",
                     d);
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(slurp(d.path / "out") == "pw=pw-Machine-7Hq2");
    CHECK(requests(vault, "^/v1/auth/k8s/login$", "POST").size() == 1);
    // The token sink: 0600, and the token Vault issued to this login.
    CHECK(mode_of(d.path / "sink") == 0600);
    auto state = call_json(vault, "GET", "/_emulator/state");
    std::string sunk = slurp(d.path / "sink");
    bool issued = false;
    for (auto& [id, t] : state["tokens"].items())
      if (t.value("id", "") == sunk && t.value("path", "") == "auth/k8s/login") issued = true;
    CHECK(issued);
  }
}

TEST_CASE("aws iam daemon: logs in again before the token's max TTL", "[auth]") {
  // Credentials that expire in 200 s are inside the 5-minute refresh window: every login fetches
  // them again; the IMDS session token (6 h) is kept.
  EmulatorProcess imds("imds", R"({"credential_ttl_s": 200})");
  EmulatorProcess vault("vault", vault_seed(R"({"aws": {"roles": {"redash": {
      "bound_iam_principal_arn": ["arn:aws:iam::123456789012:role/app"],
      "token_ttl": 2, "token_max_ttl": 4, "token_policies": ["app"]}}}})"));
  if (imds.port == 0 || vault.port == 0) return;
  TempDir d;
  spit(d.path / "templet.yaml",
       config_yaml(d.path, {{kTemplate, d.path / "out"}},
                   "vault: {default_lease_duration: 1s, auth: " + imds_auth(imds) + "}\n"));
  TempletProcess t(
      {"run", "-c", (d.path / "templet.yaml").string()},
      {{"VAULT_ADDR", vault.url()}, {"AWS_SHARED_CREDENTIALS_FILE", (d.path / "none").string()}},
      d.path);
  REQUIRE(eventually([&] { return slurp(d.path / "out") == "pw=pw-Machine-7Hq2"; }, 10s));
  CHECK(
      eventually([&] { return requests(vault, "^/v1/auth/aws/login$", "POST").size() >= 3; }, 15s));
  t.signal(SIGTERM);
  CHECK(t.wait(10s) == 0);
  std::string err = t.stderr_text();
  INFO(err);
  // Each login came before the old token died: no request was refused for a dead token.
  CHECK(!contains(err, "status 403"));
  CHECK(requests(imds, "^/latest/api/token$", "PUT").size() == 1);
  CHECK(requests(imds, "^/latest/meta-data/iam/security-credentials/app$", "GET").size() ==
        requests(vault, "^/v1/auth/aws/login$", "POST").size());
}

TEST_CASE("cert: the TLS client certificate logs in and a stranger's is refused", "[auth]") {
  TempDir pki;
  const std::string p = pki.path.string() + "/";
  auto issue = [&](const std::string& name, const std::string& cn, const std::string& ext) {
    spit(pki.path / (name + ".ext"), ext + "\n");
    return run_shell(
               "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "
               "/CN=" +
               cn + " -keyout " + p + name + ".key -out " + p + name +
               ".csr 2>/dev/null && openssl x509 -req -in " + p + name + ".csr -CA " + p +
               "ca.pem -CAkey " + p + "ca.key -CAcreateserial -days 2 -extfile " + p + name +
               ".ext -out " + p + name + ".pem 2>/dev/null")
               .status == 0;
  };
  REQUIRE(run_shell("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                    "-days 2 -subj /CN=templet-test-ca -keyout " +
                    p + "ca.key -out " + p + "ca.pem 2>/dev/null")
              .status == 0);
  REQUIRE(issue("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1"));
  REQUIRE(issue("client", "redash-1", "extendedKeyUsage=clientAuth"));
  REQUIRE(issue("stranger", "intruder", "extendedKeyUsage=clientAuth"));
  ::setenv("TEMPLET_EMULATOR_TLS_CLIENT_CA", (p + "ca.pem").c_str(), 1);
  EmulatorProcess vault("vault", vault_seed(R"({"cert": {"roles": {"web": {
      "allowed_common_names": ["redash-1"], "token_policies": ["app"]}}}})"),
                        0, artifacts_dir(), {p + "server.pem", p + "server.key"});
  ::unsetenv("TEMPLET_EMULATOR_TLS_CLIENT_CA");
  if (vault.port == 0) return;
  auto login_with = [&](const std::string& who) {
    TempDir d;
    spit(d.path / "templet.yaml",
         config_yaml(d.path, {{kTemplate, d.path / "out"}},
                     "vault: {ssl: {ca_cert: " + p + "ca.pem}, auth: {method: cert, role: web, " +
                         "cert: {client_cert: " + p + who + ".pem, client_key: " + p + who +
                         ".key}}}\nretry: {backoff: 100ms, max_backoff: 400ms}\n"));
    TempletProcess t({"run", "--once", "--timeout", "1s", "-c", (d.path / "templet.yaml").string()},
                     {{"VAULT_ADDR", vault.url()}}, d.path);
    int status = t.wait(30s);
    return std::make_pair(status, t.stderr_text() + "\nout=" + slurp(d.path / "out"));
  };
  auto [ok, ok_text] = login_with("client");
  INFO(ok_text);
  CHECK(ok == 0);
  CHECK(contains(ok_text, "vault: cert login succeeded: token#"));
  CHECK(contains(ok_text, "out=pw=pw-Machine-7Hq2"));
  auto [refused, refused_text] = login_with("stranger");
  INFO(refused_text);
  CHECK(refused == 3);
  CHECK(contains(refused_text,
                 "/v1/auth/cert/login: status 400: no chain matching all "
                 "constraints could be found for this login certificate"));
}

TEST_CASE("kubernetes daemon: the token file is read again at every login", "[auth]") {
  EmulatorProcess vault("vault", vault_seed(R"({"kubernetes": {"roles": {"redash": {
      "bound_service_account_names": ["redash"], "token_ttl": 2, "token_max_ttl": 4,
      "token_policies": ["app"]}}}})"));
  if (vault.port == 0) return;
  TempDir d;
  long long exp = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count() +
                  600;
  auto token_for = [&](const std::string& ns) {
    REQUIRE(
        run_shell(std::string("python3 " TEMPLET_SOURCE_DIR "/tests/emulators/jwt_keys.py sign '") +
                  R"({"kubernetes.io/serviceaccount/service-account.name": "redash", )" +
                  R"("kubernetes.io/serviceaccount/namespace": ")" + ns + R"(", "exp": )" +
                  std::to_string(exp) + "}' > " + (d.path / "token.new").string() + " && mv " +
                  (d.path / "token.new").string() + " " + (d.path / "token").string())
            .status == 0);
  };
  token_for("before");
  spit(d.path / "templet.yaml",
       config_yaml(d.path, {{kTemplate, d.path / "out"}},
                   "vault: {default_lease_duration: 1s, auth: {method: kubernetes, role: redash, "
                   "kubernetes: {token_path: " +
                       (d.path / "token").string() + "}}}\n"));
  TempletProcess t({"run", "-c", (d.path / "templet.yaml").string()}, {{"VAULT_ADDR", vault.url()}},
                   d.path);
  REQUIRE(eventually([&] { return slurp(d.path / "out") == "pw=pw-Machine-7Hq2"; }, 10s));
  token_for("after");  // the kubelet rotated the projected token
  auto namespaces = [&] {
    std::set<std::string> out;
    auto state = call_json(vault, "GET", "/_emulator/state");
    for (auto& [id, tok] : state["tokens"].items())
      if (tok.value("path", "") == "auth/kubernetes/login" && tok["meta"].is_object())
        out.insert(tok["meta"].value("service_account_namespace", ""));
    return out;
  };
  CHECK(eventually([&] { return namespaces().count("after") == 1; }, 15s));
  CHECK(namespaces().count("before") == 1);
  t.signal(SIGTERM);
  CHECK(t.wait(10s) == 0);
}
