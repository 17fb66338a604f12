// Masking of lease ids and tokens for log lines (see mask.hpp).
//
// The last path segment of a lease id is the random part that makes it usable, so it is the
// part replaced by the hash.
#include "functions/live/mask.hpp"
#include "functions/digest.hpp"

#include "functions/dependency.hpp"

namespace templet::live {

std::string short_hash(const std::string& secret) {
  return digest::hex(digest::sha1(secret)).substr(0, 6);
}

std::string mask_lease_id(const std::string& lease_id) {
  if (lease_id.empty()) return "(no lease)";
  auto slash = lease_id.rfind('/');
  std::string prefix = slash == std::string::npos ? "" : lease_id.substr(0, slash + 1);
  return prefix + "…#" + short_hash(lease_id);
}

std::string mask_token(const std::string& token) {
  if (token.empty()) return "(no token)";
  return "token#" + short_hash(token);
}

}  // namespace templet::live
