// Safe names for secrets in logs: a lease id or token is shown as its mount/role part and a
// short hash, enough to correlate log lines, never enough to use.
//
// "database/creds/ro/Xk2...9" -> "database/creds/ro/…#1a2b3c"; a token -> "token#1a2b3c".
#pragma once

#include <string>

namespace templet::live {

std::string short_hash(const std::string& secret);  // 6 hex digits of SHA-1
std::string mask_lease_id(const std::string& lease_id);
std::string mask_token(const std::string& token);

}  // namespace templet::live
