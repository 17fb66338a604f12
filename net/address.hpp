// Server addresses as users write them: a URL, or consul-template's bare "host:port".
#pragma once

#include <string>

namespace templet {

// Adds an address's scheme when missing: "127.0.0.1:8200" → "http://127.0.0.1:8200".
std::string normalize_address(const std::string& address);

}  // namespace templet
