// LeaseStore (see lease_store.hpp).
//
// Files are named by a hash of the identity (identities hold slashes and arbitrary text) and
// hold JSON: {identity, lease_id, issued_at_ms, expires_at_ms, duration_s, renewable, status,
// body, token_accessor, token_expires_at_ms} (the last two absent in records of older versions).
// The body is the secret itself, hence 0600 in a 0700 directory.
#include "functions/live/lease_store.hpp"
#include "functions/digest.hpp"

#include <dirent.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "functions/dependency.hpp"
#include "functions/live/mask.hpp"
#include "sys/number_cast.hpp"
#include "sys/private_files.hpp"

namespace templet::live {

namespace {

// A record's integer field; a hand-edited or torn record may hold anything.
long long exact(const nlohmann::json& v) {
  if (auto n = json_exact_int64(v)) return *n;
  throw std::runtime_error("not an integer");
}

long long to_ms(TimePoint t) {
  return std::chrono::duration_cast<Ms>(t.time_since_epoch()).count();
}
TimePoint from_ms(long long ms) {
  // The clock counts finer than milliseconds; a record's number past the clock's range is clamped
  // rather than overflowed.
  using Tick = TimePoint::duration;
  const long long limit = std::chrono::duration_cast<Ms>(Tick::max()).count();
  return TimePoint(Ms(std::clamp(ms, -limit, limit)));
}

}  // namespace

LeaseStore::LeaseStore(std::string state_dir) : state_dir_(std::move(state_dir)) {
  if (!state_dir_.empty()) dir_ = state_dir_ + "/leases";
}

std::string LeaseStore::file_for(const std::string& identity) const {
  return dir_ + "/" + digest::hex(digest::sha1(identity)).substr(0, 20) + ".json";
}

void LeaseStore::ensure_dir() {
  // state_dir keeps the mode it has (see private_files.hpp); leases/ is always private.
  ensure_private_dir(state_dir_, false);
  ensure_private_dir(dir_, true);
}

void LeaseStore::save(const LeaseRecord& r) {
  if (dir_.empty()) return;
  ensure_dir();
  nlohmann::json j = {{"identity", r.identity},
                      {"lease_id", r.lease_id},
                      {"issued_at_ms", to_ms(r.issued_at)},
                      {"expires_at_ms", to_ms(r.expires_at)},
                      {"duration_s", r.duration_s},
                      {"renewable", r.renewable},
                      {"token_accessor", r.token_accessor},
                      {"token_expires_at_ms", to_ms(r.token_expires_at)},
                      {"status", r.response.status},
                      {"body", r.response.body}};
  write_private_file(file_for(r.identity), j.dump());
}

void LeaseStore::remove(const std::string& identity) {
  if (dir_.empty()) return;
  ::unlink(file_for(identity).c_str());
}

std::map<std::string, LeaseRecord> LeaseStore::load(TimePoint now) {
  std::map<std::string, LeaseRecord> out;
  if (dir_.empty()) return out;
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return out;
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".json") == 0)
      names.push_back(n);
    else if (n.find(".tmp.") != std::string::npos)
      ::unlink((dir_ + "/" + n).c_str());  // torn
  }
  ::closedir(d);
  for (const auto& n : names) {
    std::string path = dir_ + "/" + n;
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
    LeaseRecord r;
    try {
      r.identity = j.at("identity").get<std::string>();
      r.lease_id = j.at("lease_id").get<std::string>();
      r.issued_at = from_ms(exact(j.at("issued_at_ms")));
      r.expires_at = from_ms(exact(j.at("expires_at_ms")));
      r.duration_s = exact(j.at("duration_s"));
      r.renewable = j.at("renewable").get<bool>();
      r.response.status = static_cast<int>(exact(j.at("status")));
      r.response.body = j.at("body").get<std::string>();
      r.token_accessor = j.value("token_accessor", "");
      r.token_expires_at =
          from_ms(j.contains("token_expires_at_ms") ? exact(j["token_expires_at_ms"]) : 0);
    } catch (const std::exception&) {
      spdlog::warn("lease store: dropping unreadable {}", path);
      ::unlink(path.c_str());
      continue;
    }
    if (r.expires_at <= now) {
      spdlog::info("lease store: dropping expired {} of {}", mask_lease_id(r.lease_id), r.identity);
      ::unlink(path.c_str());
      continue;
    }
    out[r.identity] = std::move(r);
  }
  return out;
}

}  // namespace templet::live
