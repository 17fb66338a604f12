// How the Redash hook talks to Redash: over its HTTP API or through `manage.py ds`.
//
// Both give the same operations, so plan and apply are written once. Messages in RedashError
// are masked with the secrets the hook hands over (set_secrets) before they are thrown.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace templet {

struct RedashError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The server cannot be used at all (API key rejected or lacking rights, not ready in time for a
// read, TLS failure): nothing more is attempted.
struct RedashUnavailable : RedashError {
  using RedashError::RedashError;
};

struct RemoteDatasource {
  int64_t id = 0;
  std::string name;
  std::string type;
};

struct RemoteGroup {
  int64_t id = 0;
  std::string name;
};

struct RedashTestResult {
  bool ok = false;
  std::string message;  // masked
};

class RedashBackend {
 public:
  virtual ~RedashBackend() = default;
  virtual std::string target() const = 0;  // for people: the URL or the command
  // Secret values to mask in every message this backend produces.
  virtual void set_secrets(std::vector<std::string> secrets) = 0;
  // Every datasource (waits for the server to be ready). Throws RedashUnavailable.
  virtual std::vector<RemoteDatasource> list() = 0;
  // type -> configuration_schema; nullopt when the backend cannot tell.
  virtual std::optional<nlohmann::json> schemas() = 0;
  // The enabled type names when the backend knows them but not their schemas (manage.py's
  // `ds list_types`); nullopt otherwise.
  virtual std::optional<std::vector<std::string>> type_names() { return std::nullopt; }
  // Stored options. Through the API, secrets read back as "--------".
  virtual nlohmann::json options(const RemoteDatasource& ds) = 0;
  // Redash's groups; nullopt when the backend cannot manage them (manage.py has no commands).
  virtual std::optional<std::vector<RemoteGroup>> groups() { return std::nullopt; }
  // The datasource's group memberships, group id -> view_only, as Redash has them now.
  virtual std::map<int64_t, bool> memberships(const RemoteDatasource&) { return {}; }
  // /api/groups/<id>/data_sources: add (full access), set view_only, remove.
  virtual void add_to_group(int64_t, const RemoteDatasource&) { no_groups(); }
  virtual void set_view_only(int64_t, const RemoteDatasource&, bool) { no_groups(); }
  virtual void remove_from_group(int64_t, const RemoteDatasource&) { no_groups(); }
  // Writes; each throws RedashError with a masked message on failure.
  virtual int64_t create(const std::string& name, const std::string& type,
                         const nlohmann::json& options) = 0;
  virtual void update(const RemoteDatasource& ds, const std::string& type,
                      const nlohmann::json& options) = 0;
  virtual void remove(const RemoteDatasource& ds) = 0;
  virtual RedashTestResult test(const RemoteDatasource& ds) = 0;

 private:
  [[noreturn]] static void no_groups() {
    throw RedashError("group memberships are managed through the API only");
  }
};

}  // namespace templet
