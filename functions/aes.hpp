// AES-256 (FIPS 197) in CBC mode, for Sprig's encryptAES and decryptAES, written here like
// digest.hpp so templet needs no crypto library. Not constant-time (table lookups): these
// functions exist for template compatibility, not to protect a long-lived key.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace templet::digest {

// CBC over whole 16-byte blocks of `data` (its size must be a multiple of 16), under a 32-byte
// key and a 16-byte IV.
std::string aes256_cbc_encrypt(const std::array<uint8_t, 32>& key, std::string_view iv,
                               std::string_view data);
std::string aes256_cbc_decrypt(const std::array<uint8_t, 32>& key, std::string_view iv,
                               std::string_view data);

}  // namespace templet::digest
