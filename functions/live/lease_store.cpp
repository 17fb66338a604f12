// LeaseStore (see lease_store.hpp).
//
// Files are named by a hash of the identity (identities hold slashes and arbitrary text) and
// hold JSON: {identity, lease_id, issued_at_ms, expires_at_ms, duration_s, renewable, status,
// body}. The body is the secret itself, hence 0600 in a 0700 directory.
#include "functions/live/lease_store.hpp"
#include "functions/digest.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "functions/dependency.hpp"
#include "functions/live/mask.hpp"

namespace templet::live {

namespace {

long long to_ms(TimePoint t) {
  return std::chrono::duration_cast<Ms>(t.time_since_epoch()).count();
}
TimePoint from_ms(long long ms) {
  return TimePoint(Ms(ms));
}

void make_private_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
    throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  if (::chmod(path.c_str(), 0700) != 0)
    throw std::runtime_error("cannot chmod " + path + ": " + std::strerror(errno));
}

}  // namespace

LeaseStore::LeaseStore(std::string state_dir) : state_dir_(std::move(state_dir)) {
  if (!state_dir_.empty()) dir_ = state_dir_ + "/leases";
}

std::string LeaseStore::file_for(const std::string& identity) const {
  return dir_ + "/" + digest::hex(digest::sha1(identity)).substr(0, 20) + ".json";
}

void LeaseStore::ensure_dir() {
  // The state directory may be shared with other state; only create it private when missing.
  struct stat st {};
  if (::stat(state_dir_.c_str(), &st) != 0) make_private_dir(state_dir_);
  make_private_dir(dir_);
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
                      {"status", r.response.status},
                      {"body", r.response.body}};
  std::string text = j.dump();
  std::string final_path = file_for(r.identity);
  static std::atomic<unsigned> counter{0};
  std::string tmp =
      final_path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + tmp + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(e));
    }
    off += static_cast<size_t>(n);
  }
  ::fchmod(fd, 0600);  // whatever the umask did
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot rename " + tmp + ": " + std::strerror(e));
  }
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
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
      r.issued_at = from_ms(j.at("issued_at_ms").get<long long>());
      r.expires_at = from_ms(j.at("expires_at_ms").get<long long>());
      r.duration_s = j.at("duration_s").get<long long>();
      r.renewable = j.at("renewable").get<bool>();
      r.response.status = j.at("status").get<int>();
      r.response.body = j.at("body").get<std::string>();
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
