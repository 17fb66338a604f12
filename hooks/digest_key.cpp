// The apply hooks' digest key (see digest_key.hpp).
#include "hooks/digest_key.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "functions/digest.hpp"
#include "sys/private_files.hpp"

namespace templet {

namespace {

const char* const kKeyFile = "digest.key";

std::string key_path(const std::string& dir) {
  return (std::filesystem::path(dir) / kKeyFile).string();
}

std::string read_key_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::string key;
  in >> key;
  return key;
}

// Writes `text` to a new file (0600, never following a symlink); throws on failure.
void write_new_file(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(path.c_str());
      throw std::runtime_error("cannot write " + path + ": " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  ::fchmod(fd, 0600);
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(path.c_str());
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(err));
  }
}

std::string random_key_hex() {
  std::array<uint8_t, 32> bytes{};
  size_t got = 0;
  while (got < bytes.size()) {
    ssize_t n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
    got += static_cast<size_t>(n);
  }
  return digest::hex(bytes);
}

}  // namespace

std::string keyed_digest(const std::string& digest_key, const std::string& message) {
  return digest::hex(digest::hmac_sha256(digest_key, message));
}

std::string digest_key_id(const std::string& digest_key, const std::string& label) {
  return keyed_digest(digest_key, label).substr(0, 16);
}

std::string read_digest_key(const std::string& dir) {
  return read_key_file(key_path(dir));
}

std::string ensure_digest_key(const std::string& dir) {
  ensure_private_dir(dir, true);
  const std::string path = key_path(dir);
  std::string key = read_key_file(path);
  if (!key.empty()) return key;
  // Written under a temporary name and linked into place: link() never replaces, so when two
  // processes race, both end up reading the one key that won, and never a partial file.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  write_new_file(tmp, random_key_hex() + "\n");
  int linked = ::link(tmp.c_str(), path.c_str());
  int err = errno;
  ::unlink(tmp.c_str());
  if (linked != 0 && err != EEXIST)
    throw std::runtime_error("cannot create " + path + ": " + std::strerror(err));
  key = read_key_file(path);
  if (key.empty()) throw std::runtime_error("cannot read " + path);
  return key;
}

}  // namespace templet
