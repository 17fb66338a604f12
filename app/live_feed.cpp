#include "app/live_feed.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace templet {

LiveFeed::LiveFeed(std::unique_ptr<live::LiveDataSource> source) : source_(std::move(source)) {
  source_->set_on_change([this](const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    changed_.insert(id);
  });
  seen_ = source_->generation();
  snapshot_ = source_->snapshot();
}

LiveFeed::~LiveFeed() {
  stop();
}

std::optional<Response> LiveFeed::fetch(const Dependency& dep) const {
  // Answers come from the pass's snapshot, but a dependency that gave up reports its error,
  // which only the live source knows.
  auto answer = snapshot_->fetch(dep);
  if (!answer) return source_->fetch(dep);
  return answer;
}

void LiveFeed::watch(const std::vector<Dependency>& deps) {
  source_->ensure_watching(deps);
}

std::set<std::string> LiveFeed::wait_for_change(std::chrono::steady_clock::time_point deadline) {
  auto now = std::chrono::steady_clock::now();
  auto timeout = std::chrono::duration_cast<live::Ms>(deadline - now);
  if (timeout.count() < 0) timeout = live::Ms(0);
  // Short slices, so that stop and reload requests are noticed promptly.
  timeout = std::min(timeout, live::Ms(250));
  seen_ = source_->wait_for_change(seen_, timeout);
  snapshot_ = source_->snapshot();
  std::lock_guard<std::mutex> lock(mu_);
  std::set<std::string> out;
  out.swap(changed_);
  return out;
}

AnswerVersions LiveFeed::versions(const std::vector<Dependency>& deps) const {
  // Read from snapshot_, the data the pass rendered: a lease fetched while the files were being
  // written is not on disk yet.
  AnswerVersions out;
  for (const auto& d : deps) {
    if (d.type != DepType::VaultRead && d.type != DepType::VaultWrite) continue;
    try {
      if (auto r = snapshot_->fetch(d)) {
        auto j = nlohmann::json::parse(r->body, nullptr, false);
        if (j.is_object() && j.contains("lease_id") && j["lease_id"].is_string() &&
            !j["lease_id"].get<std::string>().empty())
          out[d.id] = j["lease_id"].get<std::string>();
      }
    } catch (const FetchError&) {
    }
  }
  return out;
}

void LiveFeed::refresh(const std::string& target) {
  std::set<std::string> ids;
  if (!target.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& h : last_holdings_) {
      if (h.destination == target) ids.insert(h.uses.begin(), h.uses.end());
      for (const auto& id : h.uses) {
        // "vault.read(database/creds/app)" is named by itself or by its path.
        auto open = id.find('(');
        if (id == target || (open != std::string::npos &&
                             id.compare(open + 1, std::string::npos, target + ")") == 0))
          ids.insert(id);
      }
    }
    if (ids.empty()) {
      spdlog::warn("refresh: no dependency or destination is named {}", target);
      return;
    }
  }
  int n = source_->refresh(ids);
  spdlog::info("refresh: fetching {} dependenc{} anew{}", n, n == 1 ? "y" : "ies",
               target.empty() ? "" : " for " + target);
}

void LiveFeed::holdings(const std::vector<Holding>& holdings) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_holdings_ = holdings;
  }
  std::map<std::string, std::set<std::string>> held;  // identity -> leases files hold
  std::set<std::string> unknown;  // identities used by a template whose file is not ours yet
  for (const auto& h : holdings) {
    if (!h.on_disk) {
      unknown.insert(h.uses.begin(), h.uses.end());
      continue;
    }
    for (const auto& [id, lease] : *h.on_disk) held[id].insert(lease);
  }
  source_->release_superseded(held, unknown);
}

void LiveFeed::stop() {
  if (source_) source_->stop();
}

}  // namespace templet
