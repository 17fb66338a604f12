// scrypt and PBKDF2-HMAC-SHA-256 (see scrypt.hpp), from RFC 7914 and RFC 8018.
#include "functions/scrypt.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

#include "functions/digest.hpp"

namespace templet::digest {

namespace {

uint32_t rotl(uint32_t x, int n) {
  return (x << n) | (x >> (32 - n));
}

// Salsa20/8 core (RFC 7914 section 3) on 16 little-endian words, in place.
void salsa20_8(std::array<uint32_t, 16>& b) {
  std::array<uint32_t, 16> x = b;
  for (int i = 0; i < 8; i += 2) {
    x[4] ^= rotl(x[0] + x[12], 7), x[8] ^= rotl(x[4] + x[0], 9);
    x[12] ^= rotl(x[8] + x[4], 13), x[0] ^= rotl(x[12] + x[8], 18);
    x[9] ^= rotl(x[5] + x[1], 7), x[13] ^= rotl(x[9] + x[5], 9);
    x[1] ^= rotl(x[13] + x[9], 13), x[5] ^= rotl(x[1] + x[13], 18);
    x[14] ^= rotl(x[10] + x[6], 7), x[2] ^= rotl(x[14] + x[10], 9);
    x[6] ^= rotl(x[2] + x[14], 13), x[10] ^= rotl(x[6] + x[2], 18);
    x[3] ^= rotl(x[15] + x[11], 7), x[7] ^= rotl(x[3] + x[15], 9);
    x[11] ^= rotl(x[7] + x[3], 13), x[15] ^= rotl(x[11] + x[7], 18);
    x[1] ^= rotl(x[0] + x[3], 7), x[2] ^= rotl(x[1] + x[0], 9);
    x[3] ^= rotl(x[2] + x[1], 13), x[0] ^= rotl(x[3] + x[2], 18);
    x[6] ^= rotl(x[5] + x[4], 7), x[7] ^= rotl(x[6] + x[5], 9);
    x[4] ^= rotl(x[7] + x[6], 13), x[5] ^= rotl(x[4] + x[7], 18);
    x[11] ^= rotl(x[10] + x[9], 7), x[8] ^= rotl(x[11] + x[10], 9);
    x[9] ^= rotl(x[8] + x[11], 13), x[10] ^= rotl(x[9] + x[8], 18);
    x[12] ^= rotl(x[15] + x[14], 7), x[13] ^= rotl(x[12] + x[15], 9);
    x[14] ^= rotl(x[13] + x[12], 13), x[15] ^= rotl(x[14] + x[13], 18);
  }
  for (int i = 0; i < 16; ++i) b[i] += x[i];
}

// scryptBlockMix (section 4) of 2r 64-byte blocks `in` into `out`.
void block_mix(const uint32_t* in, uint32_t* out, uint32_t r) {
  std::array<uint32_t, 16> x;
  for (int k = 0; k < 16; ++k) x[k] = in[(2 * r - 1) * 16 + k];
  for (uint32_t i = 0; i < 2 * r; ++i) {
    for (int k = 0; k < 16; ++k) x[k] ^= in[i * 16 + k];
    salsa20_8(x);
    // Even blocks go to the first half, odd ones to the second.
    uint32_t* y = out + ((i % 2) * r + i / 2) * 16;
    for (int k = 0; k < 16; ++k) y[k] = x[k];
  }
}

// scryptROMix (section 5) on 32 r words, in place.
void ro_mix(uint32_t* b, uint32_t r, uint64_t n) {
  const size_t words = 32 * static_cast<size_t>(r);
  std::vector<uint32_t> v(words * n), x(b, b + words), y(words);
  for (uint64_t i = 0; i < n; ++i) {
    std::copy(x.begin(), x.end(), v.begin() + static_cast<std::ptrdiff_t>(i * words));
    block_mix(x.data(), y.data(), r);
    x.swap(y);
  }
  for (uint64_t i = 0; i < n; ++i) {
    // Integerify: the first word of the last 64-byte block, mod n (a power of two).
    uint64_t j = x[(2 * r - 1) * 16] & (n - 1);
    const uint32_t* vj = v.data() + j * words;
    for (size_t k = 0; k < words; ++k) x[k] ^= vj[k];
    block_mix(x.data(), y.data(), r);
    x.swap(y);
  }
  std::copy(x.begin(), x.end(), b);
}

}  // namespace

std::string pbkdf2_sha256(std::string_view password, std::string_view salt, uint32_t iterations,
                          size_t length) {
  std::string out;
  for (uint32_t block = 1; out.size() < length; ++block) {
    std::string s(salt);
    for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>(block >> shift));
    auto u = hmac_sha256(password, s);
    auto t = u;
    for (uint32_t c = 1; c < iterations; ++c) {
      u = hmac_sha256(password, std::string_view(reinterpret_cast<const char*>(u.data()), 32));
      for (size_t k = 0; k < 32; ++k) t[k] ^= u[k];
    }
    out.append(reinterpret_cast<const char*>(t.data()), std::min<size_t>(32, length - out.size()));
  }
  return out;
}

std::string scrypt(std::string_view password, std::string_view salt, uint64_t n, uint32_t r,
                   uint32_t p, size_t length) {
  const size_t block = 128 * static_cast<size_t>(r);
  std::string b = pbkdf2_sha256(password, salt, 1, block * p);
  std::vector<uint32_t> words(32 * static_cast<size_t>(r));
  for (uint32_t i = 0; i < p; ++i) {
    auto* bytes = reinterpret_cast<unsigned char*>(b.data()) + i * block;
    for (size_t k = 0; k < words.size(); ++k)
      words[k] = static_cast<uint32_t>(bytes[4 * k]) |
                 static_cast<uint32_t>(bytes[4 * k + 1]) << 8 |
                 static_cast<uint32_t>(bytes[4 * k + 2]) << 16 |
                 static_cast<uint32_t>(bytes[4 * k + 3]) << 24;
    ro_mix(words.data(), r, n);
    for (size_t k = 0; k < words.size(); ++k)
      for (int s = 0; s < 4; ++s)
        bytes[4 * k + s] = static_cast<unsigned char>(words[k] >> (8 * s));
  }
  return pbkdf2_sha256(password, b, 1, length);
}

}  // namespace templet::digest
