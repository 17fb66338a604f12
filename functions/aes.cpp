// AES-256-CBC (see aes.hpp), from FIPS 197: the S-box computed from its definition (the
// multiplicative inverse in GF(2^8) and the affine map) rather than copied as a table.
#include "functions/aes.hpp"

namespace templet::digest {

namespace {

uint8_t xtime(uint8_t x) {
  return static_cast<uint8_t>((x << 1) ^ ((x & 0x80) ? 0x1b : 0));
}

uint8_t gmul(uint8_t a, uint8_t b) {
  uint8_t p = 0;
  for (int i = 0; i < 8; ++i) {
    if (b & 1) p ^= a;
    a = xtime(a);
    b >>= 1;
  }
  return p;
}

struct Boxes {
  std::array<uint8_t, 256> s{}, inv{};
  Boxes() {
    for (int x = 0; x < 256; ++x) {
      uint8_t inverse = 0;
      for (int y = 1; y < 256 && x; ++y)
        if (gmul(static_cast<uint8_t>(x), static_cast<uint8_t>(y)) == 1) {
          inverse = static_cast<uint8_t>(y);
          break;
        }
      uint8_t b = inverse, r = inverse;
      for (int i = 0; i < 4; ++i) {
        b = static_cast<uint8_t>((b << 1) | (b >> 7));
        r ^= b;
      }
      r ^= 0x63;
      s[x] = r;
      inv[r] = static_cast<uint8_t>(x);
    }
  }
};

const Boxes& boxes() {
  static const Boxes b;
  return b;
}

using Block = std::array<uint8_t, 16>;
using Schedule = std::array<uint8_t, 240>;  // 15 round keys

Schedule expand(const std::array<uint8_t, 32>& key) {
  const auto& s = boxes().s;
  Schedule w{};
  for (int i = 0; i < 32; ++i) w[i] = key[i];
  uint8_t rcon = 1;
  for (int i = 8; i < 60; ++i) {
    uint8_t t[4] = {w[4 * i - 4], w[4 * i - 3], w[4 * i - 2], w[4 * i - 1]};
    if (i % 8 == 0) {
      uint8_t first = t[0];
      t[0] = static_cast<uint8_t>(s[t[1]] ^ rcon);
      t[1] = s[t[2]];
      t[2] = s[t[3]];
      t[3] = s[first];
      rcon = xtime(rcon);
    } else if (i % 8 == 4) {
      for (auto& b : t) b = s[b];
    }
    for (int k = 0; k < 4; ++k) w[4 * i + k] = w[4 * (i - 8) + k] ^ t[k];
  }
  return w;
}

void add_key(Block& b, const Schedule& w, int round) {
  for (int i = 0; i < 16; ++i) b[i] ^= w[16 * round + i];
}

// Column-major state: byte i is row i % 4 of column i / 4.
void shift_rows(Block& b, bool inverse) {
  Block t = b;
  for (int c = 0; c < 4; ++c)
    for (int r = 1; r < 4; ++r) {
      int from = inverse ? (c - r + 4) % 4 : (c + r) % 4;
      b[4 * c + r] = t[4 * from + r];
    }
}

void mix_columns(Block& b, bool inverse) {
  for (int c = 0; c < 4; ++c) {
    uint8_t* col = &b[4 * c];
    uint8_t a0 = col[0], a1 = col[1], a2 = col[2], a3 = col[3];
    if (!inverse) {
      col[0] = static_cast<uint8_t>(gmul(a0, 2) ^ gmul(a1, 3) ^ a2 ^ a3);
      col[1] = static_cast<uint8_t>(a0 ^ gmul(a1, 2) ^ gmul(a2, 3) ^ a3);
      col[2] = static_cast<uint8_t>(a0 ^ a1 ^ gmul(a2, 2) ^ gmul(a3, 3));
      col[3] = static_cast<uint8_t>(gmul(a0, 3) ^ a1 ^ a2 ^ gmul(a3, 2));
    } else {
      col[0] = static_cast<uint8_t>(gmul(a0, 14) ^ gmul(a1, 11) ^ gmul(a2, 13) ^ gmul(a3, 9));
      col[1] = static_cast<uint8_t>(gmul(a0, 9) ^ gmul(a1, 14) ^ gmul(a2, 11) ^ gmul(a3, 13));
      col[2] = static_cast<uint8_t>(gmul(a0, 13) ^ gmul(a1, 9) ^ gmul(a2, 14) ^ gmul(a3, 11));
      col[3] = static_cast<uint8_t>(gmul(a0, 11) ^ gmul(a1, 13) ^ gmul(a2, 9) ^ gmul(a3, 14));
    }
  }
}

void encrypt_block(Block& b, const Schedule& w) {
  const auto& s = boxes().s;
  add_key(b, w, 0);
  for (int round = 1; round <= 14; ++round) {
    for (auto& x : b) x = s[x];
    shift_rows(b, false);
    if (round != 14) mix_columns(b, false);
    add_key(b, w, round);
  }
}

void decrypt_block(Block& b, const Schedule& w) {
  const auto& inv = boxes().inv;
  add_key(b, w, 14);
  for (int round = 13; round >= 0; --round) {
    shift_rows(b, true);
    for (auto& x : b) x = inv[x];
    add_key(b, w, round);
    if (round != 0) mix_columns(b, true);
  }
}

Block block_at(std::string_view s, size_t at) {
  Block b{};
  for (size_t i = 0; i < 16; ++i) b[i] = static_cast<uint8_t>(s[at + i]);
  return b;
}

}  // namespace

std::string aes256_cbc_encrypt(const std::array<uint8_t, 32>& key, std::string_view iv,
                               std::string_view data) {
  const Schedule w = expand(key);
  Block prev = block_at(iv, 0);
  std::string out;
  for (size_t at = 0; at + 16 <= data.size(); at += 16) {
    Block b = block_at(data, at);
    for (int i = 0; i < 16; ++i) b[i] ^= prev[i];
    encrypt_block(b, w);
    out.append(reinterpret_cast<const char*>(b.data()), 16);
    prev = b;
  }
  return out;
}

std::string aes256_cbc_decrypt(const std::array<uint8_t, 32>& key, std::string_view iv,
                               std::string_view data) {
  const Schedule w = expand(key);
  Block prev = block_at(iv, 0);
  std::string out;
  for (size_t at = 0; at + 16 <= data.size(); at += 16) {
    Block c = block_at(data, at), b = c;
    decrypt_block(b, w);
    for (int i = 0; i < 16; ++i) b[i] ^= prev[i];
    out.append(reinterpret_cast<const char*>(b.data()), 16);
    prev = c;
  }
  return out;
}

}  // namespace templet::digest
