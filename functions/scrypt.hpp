// scrypt (RFC 7914), the key derivation behind Sprig's derivePassword: PBKDF2-HMAC-SHA-256 with
// one iteration around ROMix over Salsa20/8, written here like digest.hpp so templet needs no
// crypto library. Memory is 128 * r * n bytes (32 MiB for derivePassword's n = 32768, r = 8).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace templet::digest {

// PBKDF2-HMAC-SHA-256 (RFC 8018) of `password` and `salt`, `iterations` rounds, `length` bytes.
std::string pbkdf2_sha256(std::string_view password, std::string_view salt, uint32_t iterations,
                          size_t length);
// scrypt(password, salt, N = n, r, p, dkLen = length); n must be a power of two above 1.
std::string scrypt(std::string_view password, std::string_view salt, uint64_t n, uint32_t r,
                   uint32_t p, size_t length);

}  // namespace templet::digest
