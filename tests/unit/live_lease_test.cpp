// Lease timing: renew schedule, capped renewals, re-fetch before expiry, non-renewable re-reads,
// revoke of superseded leases, and backoff arithmetic.
#include <catch2/catch.hpp>

#include "functions/live/lease_timing.hpp"
#include "functions/live/retry.hpp"
#include "functions/live/watcher.hpp"
#include "live_fakes.hpp"

using namespace templet;
using namespace templet::live;
using templet::live::test::FakeHttp;
using namespace std::chrono_literals;

namespace {

struct Sink : WatchSink {
  std::vector<std::pair<std::string, Response>> puts;
  std::vector<std::string> fails;
  bool gave_up = false;
  bool put(const std::string& id, const Response& r) override {
    bool changed = puts.empty() || puts.back().second.body != r.body;
    puts.emplace_back(id, r);
    return changed;
  }
  void fail(const std::string&, const std::string& m, bool g) override {
    fails.push_back(m);
    gave_up = gave_up || g;
  }
};

std::string creds(const std::string& lease, const std::string& user, int ttl = 3600,
                  bool renewable = true) {
  return R"({"request_id":"x","lease_id":")" + lease + R"(","renewable":)" +
         (renewable ? "true" : "false") + R"(,"lease_duration":)" + std::to_string(ttl) +
         R"(,"data":{"username":")" + user +
         R"(","password":"p"},"wrap_info":null,"warnings":null,"auth":null})";
}

std::string renew_answer(int ttl, bool capped = false) {
  return R"({"lease_id":"x","renewable":true,"lease_duration":)" + std::to_string(ttl) +
         R"(,"data":null,"warnings":)" +
         (capped
              ? R"(["TTL of \"1h\" exceeded the effective max_ttl; TTL value is capped accordingly"])"
              : "null") +
         "}";
}

struct VaultRig {
  FakeHttp http;
  FakeClock clock;
  WatchContext ctx;
  Sink sink;
  explicit VaultRig(double u = 0.0) {
    VaultSettings s;
    s.address = "http://vault";
    s.token = "s.tok";
    ctx.vault = std::make_shared<VaultClient>(s, http.pool(), clock);
    ctx.clock = &clock;
    ctx.random = [u] { return u; };
    http.on("GET", "/v1/sys/internal/ui/mounts/db/creds/ro", 200,
            test::mounts_body("db/", "database", ""));
  }
};

}  // namespace

TEST_CASE("lease arithmetic", "[live]") {
  CHECK(renew_grace(3600s, 0.0) == 360s);
  CHECK(renew_grace(3600s, 0.5) == 540s);
  CHECK(renew_sleep(3600s, 360s) == 2520s);
  CHECK(renewal_exhausted(1440s, 360s));
  CHECK_FALSE(renewal_exhausted(1441s, 360s));
  LeaseTiming t;
  TimePoint now{};
  auto kv2 = nlohmann::json::parse(
      R"({"lease_id":"","lease_duration":0,"renewable":false,"data":{"data":{}}})");
  CHECK(nonrenewable_wait(kv2, now, t, 0.0) == 255s);            // 85 % of 5 min
  CHECK(nonrenewable_wait(kv2, now, t, 0.5) == 270s);            // 90 %
  CHECK(nonrenewable_wait(kv2, now, t, 0.999999) < 285s + 1ms);  // below 95 %
  CHECK(nonrenewable_wait(kv2, now, t, 0.999999) > 284s);
  auto kv1 = nlohmann::json::parse(R"({"lease_duration":2764800,"data":{"a":"b"}})");
  CHECK(nonrenewable_wait(kv1, now, t, 0.5) == Ms(2488320000));  // 90 % of 32 days
  auto rotating =
      nlohmann::json::parse(R"({"lease_id":"","data":{"rotation_period":86400,"ttl":100}})");
  CHECK(nonrenewable_wait(rotating, now, t, 0.0) == 101s);  // after ttl (truncated), never before
  CHECK(nonrenewable_wait(rotating, now, t, 0.999999) <= 101500ms);
  auto rot0 = nlohmann::json::parse(R"({"lease_id":"","data":{"rotation_period":86400,"ttl":0}})");
  CHECK(nonrenewable_wait(rot0, now, t, 0.5) == 1s);  // rotation due, not done: each second
  auto cron = nlohmann::json::parse(
      R"({"lease_id":"","data":{"rotation_schedule":"0 * * * *","rotation_window":3600,"ttl":30}})");
  CHECK(nonrenewable_wait(cron, now, t, 0.0) == 31s);
  auto cert =
      nlohmann::json::parse(R"({"lease_id":"","data":{"certificate":"x","expiration":1000}})");
  CHECK(nonrenewable_wait(cert, TimePoint(900s), t, 0.5) == 90s);
}

TEST_CASE("backoff doubles up to the cap, with downward jitter", "[live]") {
  RetryPolicy p;  // 250 ms .. 1 min, unlimited
  std::vector<long long> seq;
  for (int n = 0; n < 12; ++n) seq.push_back(p.base_delay(n).count());
  CHECK(seq == std::vector<long long>{250, 500, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000,
                                      60000, 60000});
  CHECK(p.base_delay(100000) == 60000ms);  // no overflow
  CHECK(p.delay(3, [] { return 0.0; }) == 2000ms);
  CHECK(p.delay(3, [] { return 0.999999; }) >= 1500ms);
  CHECK(p.delay(3, [] { return 0.999999; }) < 2000ms);
  CHECK(p.delay(20, [] { return 0.0; }) == 60000ms);
  CHECK_FALSE(p.exhausted(1000000));
  RetryPolicy twelve;
  twelve.attempts = 12;
  CHECK_FALSE(twelve.exhausted(12));
  CHECK(twelve.exhausted(13));
}

TEST_CASE("renewable lease: renewed at 2/3 + grace/3, re-fetched when capped near max TTL",
          "[live]") {
  VaultRig rig;
  rig.http.on("GET", "/v1/db/creds/ro", 200, creds("db/creds/ro/AAA", "u1"));
  rig.http.on("GET", "/v1/db/creds/ro", 200, creds("db/creds/ro/BBB", "u2"));
  Watcher w(parse_vault_read("db/creds/ro"), rig.ctx, rig.sink);
  TimePoint t0 = rig.clock.now();
  TimePoint next = w.step();
  CHECK(next - t0 == 2520s);
  REQUIRE(rig.sink.puts.size() == 1);
  CHECK(w.lease()->lease_id == "db/creds/ro/AAA");

  rig.http.on("PUT", "/v1/sys/leases/renew", 200, renew_answer(3600));
  rig.http.on("PUT", "/v1/sys/leases/renew", 200, renew_answer(1000, true));
  rig.clock.set(next);
  TimePoint t1 = next;
  next = w.step();
  CHECK(next - t1 == 2520s);
  CHECK(w.lease()->expires_at == t1 + 3600s);
  CHECK(rig.sink.puts.size() == 1);  // a renewal does not re-render

  // Capped at 1000 s <= 4 x 360 s: new credentials now, before the old ones expire.
  rig.clock.set(next);
  next = w.step();
  REQUIRE(rig.sink.puts.size() == 2);
  CHECK(w.lease()->lease_id == "db/creds/ro/BBB");
  CHECK(rig.http.calls_to("GET", "/v1/db/creds/ro").size() == 2);
  auto renews = rig.http.calls_to("PUT", "/v1/sys/leases/renew");
  REQUIRE(renews.size() == 2);
  CHECK(renews[0].body == R"({"increment":3600,"lease_id":"db/creds/ro/AAA"})");
}

TEST_CASE("capped renewal with time to spare re-fetches 4 x grace before expiry", "[live]") {
  VaultRig rig;
  rig.http.on("GET", "/v1/db/creds/ro", 200, creds("db/creds/ro/AAA", "u1"));
  rig.http.on("PUT", "/v1/sys/leases/renew", 200, renew_answer(2000, true));
  Watcher w(parse_vault_read("db/creds/ro"), rig.ctx, rig.sink);
  TimePoint next = w.step();
  CHECK_FALSE(w.lease()->capped);
  rig.clock.set(next);
  TimePoint t1 = next;
  next = w.step();
  CHECK(next == t1 + 2000s - 1440s);
  CHECK(next < w.lease()->expires_at);
  CHECK(w.lease()->capped);  // what `templet status` shows
  rig.http.on("GET", "/v1/db/creds/ro", 200, creds("db/creds/ro/CCC", "u3"));
  rig.clock.set(next);
  w.step();
  CHECK(w.lease()->lease_id == "db/creds/ro/CCC");
  CHECK_FALSE(w.lease()->capped);  // new credentials, renewable again
  CHECK(rig.http.calls_to("PUT", "/v1/sys/leases/renew").size() == 1);
}

TEST_CASE("a refused renewal fetches new credentials at once", "[live]") {
  VaultRig rig;
  rig.http.on("GET", "/v1/db/creds/ro", 200, creds("db/creds/ro/AAA", "u1"));
  rig.http.on("GET", "/v1/db/creds/ro", 200, creds("db/creds/ro/BBB", "u2"));
  rig.http.on("PUT", "/v1/sys/leases/renew", 400, R"({"errors":["lease not found"]})");
  Watcher w(parse_vault_read("db/creds/ro"), rig.ctx, rig.sink);
  rig.clock.set(w.step());
  TimePoint t1 = rig.clock.now();
  TimePoint next = w.step();
  CHECK(w.lease()->lease_id == "db/creds/ro/BBB");
  CHECK(next - t1 == 2520s);
  CHECK(rig.sink.fails.empty());
}

TEST_CASE("a renewal server error at the scheduled time fetches new credentials", "[live]") {
  // At a scheduled renewal r = (lease - grace) / 3 <= 4 x grace, so there is no time to retry.
  VaultRig rig;
  rig.http.on("GET", "/v1/db/creds/ro", 200, creds("db/creds/ro/AAA", "u1"));
  rig.http.on("PUT", "/v1/sys/leases/renew", 503, R"({"errors":["Vault is sealed"]})");
  Watcher w(parse_vault_read("db/creds/ro"), rig.ctx, rig.sink);
  rig.clock.set(w.step());
  rig.http.on("GET", "/v1/db/creds/ro", 200, creds("db/creds/ro/BBB", "u2"));
  w.step();
  CHECK(w.lease()->lease_id == "db/creds/ro/BBB");
}

TEST_CASE("renewal retries of a restored lease never sleep past 4 x grace before expiry",
          "[live]") {
  VaultRig rig;
  rig.ctx.vault_retry.backoff = 3000s;
  rig.ctx.vault_retry.max_backoff = 3600s;
  rig.http.on("PUT", "/v1/sys/leases/renew", 503, R"({"errors":["Vault is sealed"]})");
  TimePoint t0 = rig.clock.now();
  LeaseRecord rec;
  rec.identity = "vault.read(db/creds/ro)";
  rec.lease_id = "db/creds/ro/AAA";
  rec.issued_at = t0;
  rec.expires_at = t0 + 3600s;
  rec.duration_s = 3600;
  rec.renewable = true;
  rec.response = Response{200, creds("db/creds/ro/AAA", "u1")};
  Watcher w(parse_vault_read("db/creds/ro"), rig.ctx, rig.sink, rec);
  CHECK(w.first_due() == t0);
  REQUIRE(rig.sink.puts.size() == 1);  // the stored answer is served at once
  TimePoint next = w.step();           // renew at once: 503
  CHECK(next == t0 + 3600s - 1440s);   // not t0 + 3000 s
  CHECK(rig.http.calls_to("GET", "/v1/db/creds/ro").empty());
}

TEST_CASE("non-renewable secrets are re-read at 85-95 % and unchanged data does not notify",
          "[live]") {
  VaultRig rig(0.0);
  rig.http.on("GET", "/v1/sys/internal/ui/mounts/secret/app", 200,
              test::mounts_body("secret/", "kv", "2"));
  rig.http.on("GET", "/v1/secret/data/app", 200,
              R"({"lease_id":"","renewable":false,"lease_duration":0,"data":{"data":{"a":"1"}}})");
  Watcher w(parse_vault_read("secret/app"), rig.ctx, rig.sink);
  TimePoint t0 = rig.clock.now();
  CHECK(w.step() - t0 == 255s);
  rig.ctx.random = [] { return 0.999999; };
  rig.clock.set(t0 + 255s);
  TimePoint n2 = w.step();
  CHECK(n2 - (t0 + 255s) > 284s);
  CHECK(n2 - (t0 + 255s) < 285s + 1ms);
  CHECK(rig.http.calls_to("PUT", "/v1/sys/leases/renew").empty());
}

TEST_CASE("fetch failures back off and report giving up only past the attempts", "[live]") {
  VaultRig rig;
  rig.ctx.vault_retry.attempts = 2;
  rig.http.on("GET", "/v1/db/creds/ro", 0, "");  // connection refused
  Watcher w(parse_vault_read("db/creds/ro"), rig.ctx, rig.sink);
  TimePoint t = rig.clock.now();
  TimePoint n = w.step();
  CHECK(n - t == 250ms);
  CHECK_FALSE(rig.sink.gave_up);
  rig.clock.set(n);
  t = n;
  n = w.step();
  CHECK(n - t == 500ms);
  CHECK_FALSE(rig.sink.gave_up);
  rig.clock.set(n);
  w.step();
  CHECK(rig.sink.gave_up);
  CHECK(rig.sink.fails.size() == 3);
  CHECK(rig.sink.fails[0] == "vault: GET http://vault/v1/db/creds/ro: connection refused");
}

TEST_CASE("after a slow failure the backoff counts from when the failure came", "[live]") {
  VaultRig rig;
  rig.http.on("GET", "/v1/db/creds/ro", 0, "");
  rig.http.during_send = [&] { rig.clock.advance(60s); };  // every request takes a minute
  Watcher w(parse_vault_read("db/creds/ro"), rig.ctx, rig.sink);
  TimePoint n = w.step();
  // Not at once: a server that times out is not hammered back to back.
  CHECK(n - rig.clock.now() == 250ms);
}

TEST_CASE("superseded leases are revoked only once released", "[live]") {
  VaultRig rig;
  rig.ctx.revoke_superseded = true;
  rig.http.on("GET", "/v1/db/creds/ro", 200, creds("db/creds/ro/AAA", "u1"));
  rig.http.on("GET", "/v1/db/creds/ro", 200, creds("db/creds/ro/BBB", "u2"));
  rig.http.on("PUT", "/v1/sys/leases/renew", 400, R"({"errors":["lease is not renewable"]})");
  rig.http.on("PUT", "/v1/sys/leases/revoke", 204, "");
  Watcher w(parse_vault_read("db/creds/ro"), rig.ctx, rig.sink);
  rig.clock.set(w.step());
  w.step();
  CHECK(w.revoke_pending() == 0);
  CHECK(rig.http.calls_to("PUT", "/v1/sys/leases/revoke").empty());
  CHECK(w.release_superseded({"db/creds/ro/BBB"}));
  CHECK(w.revoke_pending() == 1);
  auto rv = rig.http.calls_to("PUT", "/v1/sys/leases/revoke");
  REQUIRE(rv.size() == 1);
  CHECK(rv[0].body == R"({"lease_id":"db/creds/ro/AAA"})");
}

TEST_CASE("release_superseded keeps every lease a file still holds", "[live]") {
  VaultRig rig;
  rig.ctx.revoke_superseded = true;
  rig.http.on("GET", "/v1/db/creds/ro", 200, creds("db/creds/ro/AAA", "u1"));
  rig.http.on("GET", "/v1/db/creds/ro", 200, creds("db/creds/ro/BBB", "u2"));
  rig.http.on("GET", "/v1/db/creds/ro", 200, creds("db/creds/ro/CCC", "u3"));
  rig.http.on("PUT", "/v1/sys/leases/renew", 400, R"({"errors":["lease is not renewable"]})");
  rig.http.on("PUT", "/v1/sys/leases/revoke", 204, "");
  Watcher w(parse_vault_read("db/creds/ro"), rig.ctx, rig.sink);
  rig.clock.set(w.step());  // AAA
  w.step();                 // renew refused: BBB
  w.step();                 // renew refused: CCC, fetched while BBB was being written
  // One file holds AAA (its template failed), another BBB: nothing may go.
  CHECK_FALSE(w.release_superseded({"db/creds/ro/AAA", "db/creds/ro/BBB"}));
  CHECK(w.revoke_pending() == 0);
  // The failing template was written with BBB: AAA may go, BBB is still on disk.
  CHECK(w.release_superseded({"db/creds/ro/BBB"}));
  CHECK(w.revoke_pending() == 1);
  auto rv = rig.http.calls_to("PUT", "/v1/sys/leases/revoke");
  REQUIRE(rv.size() == 1);
  CHECK(rv[0].body == R"({"lease_id":"db/creds/ro/AAA"})");
  CHECK(w.release_superseded({"db/creds/ro/CCC"}));
  CHECK(w.revoke_pending() == 1);
  rv = rig.http.calls_to("PUT", "/v1/sys/leases/revoke");
  REQUIRE(rv.size() == 2);
  CHECK(rv[1].body == R"({"lease_id":"db/creds/ro/BBB"})");
  CHECK_FALSE(w.release_superseded({}));  // the current lease is never revoked
}

TEST_CASE("a superseded lease still held when it expires is dropped, not revoked", "[live]") {
  VaultRig rig;
  rig.ctx.revoke_superseded = true;
  rig.http.on("GET", "/v1/db/creds/ro", 200, creds("db/creds/ro/AAA", "u1", 60));
  rig.http.on("GET", "/v1/db/creds/ro", 200, creds("db/creds/ro/BBB", "u2", 60));
  rig.http.on("PUT", "/v1/sys/leases/renew", 400, R"({"errors":["lease is not renewable"]})");
  rig.http.on("PUT", "/v1/sys/leases/revoke", 204, "");
  Watcher w(parse_vault_read("db/creds/ro"), rig.ctx, rig.sink);
  rig.clock.set(w.step());                                 // AAA, 60 s
  w.step();                                                // renew refused: BBB
  CHECK_FALSE(w.release_superseded({"db/creds/ro/AAA"}));  // a failing template holds AAA
  rig.clock.advance(61s);                                  // AAA has expired on its own
  CHECK_FALSE(w.release_superseded({}));
  CHECK(w.revoke_pending() == 0);
  CHECK(rig.http.calls_to("PUT", "/v1/sys/leases/revoke").empty());
}

TEST_CASE("a vault list is re-read up to 10 % early, by the jitter", "[live]") {
  for (double u : {0.0, 0.5}) {
    VaultRig rig(u);
    rig.http.on("GET", "/v1/sys/internal/ui/mounts/secret", 200,
                test::mounts_body("secret/", "kv", "1"));
    rig.http.on("LIST", "/v1/secret", 200, R"({"data":{"keys":["a"]}})");
    Watcher w(parse_vault_list("secret/"), rig.ctx, rig.sink);
    TimePoint start = rig.clock.now();
    // 5 min by default; with u = 0.5, 5 % (15 s) sooner, so a fleet's lists spread out.
    CHECK(w.step() - start == (u == 0.0 ? Ms(300000) : Ms(285000)));
  }
}
