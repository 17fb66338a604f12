// The run loop's DataFeed over live Vault and Consul (functions/live): each pass renders against
// one snapshot of the answers, refreshed when the watchers report a change.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "app/runner.hpp"
#include "functions/live/live_data_source.hpp"

namespace templet {

class LiveFeed : public DataFeed {
 public:
  explicit LiveFeed(std::unique_ptr<live::LiveDataSource> source);
  ~LiveFeed() override;

  std::optional<Response> fetch(const Dependency& dep) const override;
  void watch(const std::vector<Dependency>& deps) override;
  std::set<std::string> wait_for_change(std::chrono::steady_clock::time_point deadline) override;
  AnswerVersions versions(const std::vector<Dependency>& deps) const override;
  void holdings(const std::vector<Holding>& holdings) override;
  void refresh(const std::string& target) override;
  std::map<std::string, std::string> failures() const override { return source_->failures(); }
  void stop() override;

 private:
  std::unique_ptr<live::LiveDataSource> source_;
  std::shared_ptr<const DataSource> snapshot_;
  std::uint64_t seen_ = 0;
  std::mutex mu_;
  std::set<std::string> changed_;
  std::vector<Holding> last_holdings_;  // guarded by mu_
};

}  // namespace templet
