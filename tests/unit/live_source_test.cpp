// LiveDataSource and the lease store: one fetch per identity, snapshots, change waits,
// persistence across restarts (reuse unexpired, drop expired, file modes), and what stop()
// waits for: a Vault call in flight, not a Consul read.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "functions/live/live_data_source.hpp"
#include "live_fakes.hpp"

using namespace templet;
using namespace templet::live;
using templet::live::test::FakeHttp;
using namespace std::chrono_literals;

namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/templet-live-XXXXXX";
  return std::string(::mkdtemp(tmpl));
}

mode_t mode_of(const std::string& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 0777;
}

const std::string kCreds =
    R"({"request_id":"x","lease_id":"db/creds/ro/AAA","renewable":true,"lease_duration":3600,"data":{"username":"u1","password":"p"},"warnings":null,"auth":null})";

struct Rig {
  FakeHttp http;
  FakeClock clock;
  WatchContext ctx;
  explicit Rig(const std::string& state_dir = "") {
    VaultSettings s;
    s.address = "http://vault";
    ctx.vault = std::make_shared<VaultClient>(s, http.pool(), clock);
    ctx.consul = std::make_shared<ConsulClient>(ConsulSettings{}, http.pool());
    ctx.clock = &clock;
    ctx.random = [] { return 0.0; };
    if (!state_dir.empty()) ctx.leases = std::make_shared<LeaseStore>(state_dir);
    http.on("GET", "/v1/sys/internal/ui/mounts/db/creds/ro", 200,
            test::mounts_body("db/", "database", ""));
  }
};

// Holds every request whose URL contains `held` inside send() until open(); the others pass.
struct Gate {
  explicit Gate(std::string held) : held(std::move(held)) {}
  void pass(const std::string& url) {
    if (url.find(held) == std::string::npos) return;
    std::unique_lock<std::mutex> lock(mu);
    ++inside;
    cv.notify_all();
    cv.wait(lock, [&] { return opened; });
    --inside;
  }
  void open() {
    {
      std::lock_guard<std::mutex> lock(mu);
      opened = true;
    }
    cv.notify_all();
  }
  // Waits until a request is held.
  bool holding(std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, limit, [&] { return inside > 0; });
  }

  const std::string held;
  std::mutex mu;
  std::condition_variable cv;
  bool opened = false;
  int inside = 0;
};

// A pool whose clients answer from `fake` after passing `gate`. Unlike FakeHttp::pool(), its
// clients co-own both, so a watcher thread let go inside a held request never outlives them.
std::shared_ptr<HttpPool> gated_pool(std::shared_ptr<FakeHttp> fake, std::shared_ptr<Gate> gate) {
  struct Client : HttpClient {
    std::shared_ptr<FakeHttp> fake;
    std::shared_ptr<Gate> gate;
    HttpResponse send(const HttpRequest& r) override {
      gate->pass(r.url);
      return fake->send(r);
    }
  };
  return std::make_shared<HttpPool>([fake, gate] {
    auto c = std::make_unique<Client>();
    c->fake = fake;
    c->gate = gate;
    return c;
  });
}

}  // namespace

TEST_CASE("one fetch per identity when 20 templates ask", "[live]") {
  Rig rig;
  rig.http.on("GET", "/v1/db/creds/ro", 200, kCreds);
  rig.http.on("GET", "/v1/kv/foo", 200, R"([{"Key":"foo","Value":"YmFy"}])",
              {{"x-consul-index", "9"}});
  LiveDataSource src(rig.ctx, false);
  std::vector<Dependency> deps;
  for (int i = 0; i < 20; ++i) {
    deps.push_back(parse_vault_read("/db/creds/ro/"));
    deps.push_back(parse_kv_get("foo"));
  }
  for (int i = 0; i < 20; ++i) src.ensure_watching(deps);
  CHECK(src.watching() == 2);
  CHECK_FALSE(src.fetch(deps[0]));  // nothing fetched yet: missing
  std::uint64_t g0 = src.generation();
  src.run_due();
  CHECK(src.generation() == g0 + 2);
  CHECK(rig.http.calls_to("GET", "/v1/db/creds/ro").size() == 1);
  CHECK(rig.http.calls_to("GET", "/v1/kv/foo").size() == 1);
  REQUIRE(src.fetch(parse_vault_read("db/creds/ro")));
  CHECK(src.fetch(parse_vault_read("db/creds/ro"))->body == kCreds);

  // A snapshot keeps its view while the live source moves on.
  auto snap = src.snapshot();
  src.retain_only({parse_kv_get("foo")});
  CHECK(src.watching() == 1);
  CHECK_FALSE(src.fetch(parse_vault_read("db/creds/ro")));
  CHECK(snap->fetch(parse_vault_read("db/creds/ro"))->body == kCreds);
  CHECK(src.wait_for_change(src.generation(), 1ms) == src.generation());
}

TEST_CASE("a missing file is an error at once and recovers when the file appears", "[live]") {
  Rig rig;
  std::string dir = temp_dir();
  std::string path = dir + "/f.txt";
  LiveDataSource src(rig.ctx, false);
  Dependency d = parse_file(path);
  src.ensure_watching({d});
  src.run_due();
  CHECK_THROWS_AS(src.fetch(d), FetchError);
  CHECK(src.given_up().count(d.id) == 1);
  { std::ofstream(path) << "hello"; }
  rig.clock.advance(2s);
  src.run_due();
  REQUIRE(src.fetch(d));
  CHECK(src.fetch(d)->body == "hello");
  std::filesystem::remove_all(dir);
}

TEST_CASE("leases persist: a restart reuses unexpired credentials, expired ones are dropped",
          "[live]") {
  std::string dir = temp_dir() + "/state";
  Dependency d = parse_vault_read("db/creds/ro");
  {
    Rig rig(dir);
    rig.http.on("GET", "/v1/db/creds/ro", 200, kCreds);
    LiveDataSource src(rig.ctx, false);
    src.ensure_watching({d});
    src.run_due();
  }
  CHECK(mode_of(dir) == 0700);
  CHECK(mode_of(dir + "/leases") == 0700);
  LeaseStore store(dir);
  std::string file = store.file_for(d.id);
  CHECK(mode_of(file) == 0600);

  {
    // 10 minutes later: the lease is reused (renewed, not re-read).
    Rig rig(dir);
    rig.clock.advance(10min);
    rig.http.on("PUT", "/v1/sys/leases/renew", 200,
                R"({"lease_id":"db/creds/ro/AAA","renewable":true,"lease_duration":3600})");
    LiveDataSource src(rig.ctx, false);
    src.ensure_watching({d});
    REQUIRE(src.fetch(d));
    CHECK(src.fetch(d)->body == kCreds);  // served before any request
    src.run_due();
    CHECK(rig.http.calls_to("GET", "/v1/db/creds/ro").empty());
    CHECK(rig.http.calls_to("PUT", "/v1/sys/leases/renew").size() == 1);
  }
  {
    // Two hours later the lease has expired: dropped, the file removed, new credentials fetched.
    Rig rig(dir);
    rig.clock.advance(3h);
    rig.http.on("GET", "/v1/db/creds/ro", 200, kCreds);
    LiveDataSource src(rig.ctx, false);
    CHECK_FALSE(std::filesystem::exists(file));
    src.ensure_watching({d});
    CHECK_FALSE(src.fetch(d));
    src.run_due();
    CHECK(rig.http.calls_to("GET", "/v1/db/creds/ro").size() == 1);
  }
  std::filesystem::remove_all(std::filesystem::path(dir).parent_path());
}

TEST_CASE("lease store round trip", "[live]") {
  std::string dir = temp_dir();
  LeaseStore store(dir + "/s");
  LeaseRecord r;
  r.identity = "vault.read(db/creds/ro)";
  r.lease_id = "db/creds/ro/AAA";
  r.issued_at = TimePoint(1000s);
  r.expires_at = TimePoint(4600s);
  r.duration_s = 3600;
  r.renewable = true;
  r.response = Response{200, kCreds};
  store.save(r);
  auto loaded = store.load(TimePoint(2000s));
  REQUIRE(loaded.count(r.identity) == 1);
  const LeaseRecord& l = loaded[r.identity];
  CHECK(l.lease_id == r.lease_id);
  CHECK(l.issued_at == r.issued_at);
  CHECK(l.expires_at == r.expires_at);
  CHECK(l.duration_s == 3600);
  CHECK(l.renewable);
  CHECK(l.response.body == kCreds);
  CHECK(store.load(TimePoint(5000s)).empty());
  CHECK(store.load(TimePoint(2000s)).empty());  // deleted by the expired load
  std::filesystem::remove_all(dir);
}

TEST_CASE("threads: a change wakes the waiter and stop() returns promptly", "[live]") {
  FakeHttp http;
  WatchContext ctx;
  ctx.consul = std::make_shared<ConsulClient>(ConsulSettings{}, http.pool());
  http.on("GET", "/v1/kv/foo", 200, R"([{"Key":"foo","Value":"YmFy"}])", {{"x-consul-index", "9"}});
  LiveDataSource src(ctx);
  std::uint64_t g = src.generation();
  src.ensure_watching({parse_kv_get("foo")});
  CHECK(src.wait_for_change(g, 5000ms) != g);
  REQUIRE(src.fetch(parse_kv_get("foo")));
  auto start = std::chrono::steady_clock::now();
  src.stop();
  CHECK(std::chrono::steady_clock::now() - start < 3s);
}

TEST_CASE("threads: stop() lets go at once of a watcher inside a Consul blocking query",
          "[live][stop]") {
  auto fake = std::make_shared<FakeHttp>();
  auto gate = std::make_shared<Gate>("index=");  // blocking queries never return
  fake->on("GET", "/v1/kv/foo", 200, R"([{"Key":"foo","Value":"YmFy"}])",
           {{"x-consul-index", "9"}});
  WatchContext ctx;
  ctx.consul = std::make_shared<ConsulClient>(ConsulSettings{}, gated_pool(fake, gate));
  ctx.let_go_of_reads = true;
  auto src = std::make_unique<LiveDataSource>(ctx);
  ctx = WatchContext{};  // the source's copy is the only one
  src->ensure_watching({parse_kv_get("foo")});
  REQUIRE(src->wait_for_change(0, 5000ms) != 0);  // the first answer
  REQUIRE(gate->holding(5s));                     // then the blocking query

  auto start = std::chrono::steady_clock::now();
  src->stop();
  CHECK(std::chrono::steady_clock::now() - start < 500ms);  // not the 2 s Vault grace
  CHECK(LiveDataSource::threads_let_go());

  // The thread let go exits on its own once its request returns, releasing the clients.
  src.reset();
  gate->open();
  auto end = std::chrono::steady_clock::now() + 5s;
  while (gate.use_count() > 1 && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(10ms);
  CHECK(gate.use_count() == 1);
}

TEST_CASE("threads: stop() waits for a Vault read in flight and stores its lease", "[live][stop]") {
  std::string dir = temp_dir() + "/state";
  Dependency d = parse_vault_read("db/creds/ro");
  auto fake = std::make_shared<FakeHttp>();
  auto gate = std::make_shared<Gate>("/v1/db/creds/ro");
  fake->on("GET", "/v1/sys/internal/ui/mounts/db/creds/ro", 200,
           test::mounts_body("db/", "database", ""));
  fake->on("GET", "/v1/db/creds/ro", 200, kCreds);
  WatchContext ctx;
  VaultSettings vs;
  vs.address = "http://vault";
  ctx.vault = std::make_shared<VaultClient>(vs, gated_pool(fake, gate), system_clock());
  ctx.leases = std::make_shared<LeaseStore>(dir);
  ctx.let_go_of_reads = true;
  LiveDataSource src(ctx);
  src.ensure_watching({d});
  REQUIRE(gate->holding(5s));

  std::thread server([gate] {
    std::this_thread::sleep_for(300ms);  // Vault answers late, well within the grace period
    gate->open();
  });
  auto start = std::chrono::steady_clock::now();
  src.stop();
  auto took = std::chrono::steady_clock::now() - start;
  server.join();
  CHECK(took >= 250ms);
  CHECK(took < 2s);
  // The credentials Vault issued are on record, so the next start reuses them.
  auto stored = LeaseStore(dir).load(SysClock::now());
  REQUIRE(stored.count(d.id) == 1);
  CHECK(stored[d.id].lease_id == "db/creds/ro/AAA");
  std::filesystem::remove_all(std::filesystem::path(dir).parent_path());
}
