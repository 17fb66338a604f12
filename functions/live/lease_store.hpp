// Vault leases that outlive the process: each lease and the answer that came with it, kept in
// `<state_dir>/leases/` (directory 0700, files 0600, written atomically by rename).
//
// A restart loads the records and reuses unexpired credentials instead of minting new ones
// (consul-template re-issues everything, issue #1259); expired records are deleted on load.
#pragma once

#include <map>
#include <string>

#include "functions/data_source.hpp"
#include "functions/live/clock.hpp"

namespace templet::live {

struct LeaseRecord {
  std::string identity;  // the dependency identity, e.g. vault.read(database/creds/ro)
  std::string lease_id;  // empty for lease-less answers (e.g. a PKI issue)
  TimePoint issued_at{};
  TimePoint expires_at{};    // issue + duration, moved by each renewal
  long long duration_s = 0;  // the duration last granted
  bool renewable = false;
  // The last renewal was capped by the max TTL: no renewal extends it (not persisted; the renewal
  // at restore finds it again).
  bool capped = false;
  // The token that created the lease (Vault revokes the lease when that token dies): its
  // accessor ("" when unknown) and expiry (epoch when unknown or none).
  std::string token_accessor;
  TimePoint token_expires_at{};
  Response response;  // the answer templates see
};

class LeaseStore {
 public:
  // An empty `state_dir` keeps nothing on disk.
  explicit LeaseStore(std::string state_dir);

  // Every stored record still valid at `now`; expired or unreadable ones are deleted.
  std::map<std::string, LeaseRecord> load(TimePoint now);
  // Writes (or replaces) the record for its identity. Throws std::runtime_error on I/O errors.
  void save(const LeaseRecord& record);
  void remove(const std::string& identity);

  std::string directory() const { return dir_; }  // <state_dir>/leases, or ""
  std::string file_for(const std::string& identity) const;

 private:
  void ensure_dir();
  std::string state_dir_;
  std::string dir_;
};

}  // namespace templet::live
