// Message digests the template functions need (sha256Hex, md5sum, hmacSHA256Hex) and SHA-1 for
// dependency identities and masks, implemented
// here from FIPS 180-4, RFC 1321 and RFC 2104 so templet needs no crypto library.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace templet::digest {

std::array<uint8_t, 32> sha256(std::string_view data);
std::array<uint8_t, 20> sha1(std::string_view data);
std::array<uint8_t, 64> sha512(std::string_view data);  // Sprig's sha512sum
std::array<uint8_t, 16> md5(std::string_view data);
std::array<uint8_t, 32> hmac_sha256(std::string_view key, std::string_view message);

// Lowercase hex of a byte sequence.
template <size_t N>
std::string hex(const std::array<uint8_t, N>& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(N * 2);
  for (uint8_t b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

}  // namespace templet::digest
