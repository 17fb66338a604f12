#include "net/address.hpp"

namespace templet {

std::string normalize_address(const std::string& address) {
  if (address.empty() || address.find("://") != std::string::npos) return address;
  return "http://" + address;
}

}  // namespace templet
