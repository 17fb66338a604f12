// scrypt and PBKDF2-HMAC-SHA-256 (functions/scrypt.hpp) against the test vectors of RFC 7914
// (sections 11 and 12); Sprig's derivePassword is pinned end to end by the corpus.
#include <catch2/catch.hpp>

#include "functions/aes.hpp"
#include "functions/scrypt.hpp"

using namespace templet;

namespace {

std::string hex(const std::string& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

}  // namespace

TEST_CASE("scrypt and PBKDF2-HMAC-SHA-256 give RFC 7914's test vectors", "[helpers][sprig]") {
  CHECK(hex(digest::pbkdf2_sha256("passwd", "salt", 1, 64)) ==
        "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
  CHECK(hex(digest::pbkdf2_sha256("Password", "NaCl", 80000, 64)) ==
        "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
        "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d");
  CHECK(hex(digest::scrypt("", "", 16, 1, 1, 64)) ==
        "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
        "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");
  CHECK(hex(digest::scrypt("password", "NaCl", 1024, 8, 16, 64)) ==
        "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
        "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
}

TEST_CASE("AES-256 gives FIPS 197's example vector, and CBC chains", "[helpers][sprig]") {
  std::array<uint8_t, 32> key;
  for (int i = 0; i < 32; ++i) key[i] = static_cast<uint8_t>(i);
  const std::string zero_iv(16, '\0');
  std::string plain;
  for (int i = 0; i < 16; ++i) plain.push_back(static_cast<char>(i * 0x11));
  const std::string one = digest::aes256_cbc_encrypt(key, zero_iv, plain);
  CHECK(hex(one) == "8ea2b7ca516745bfeafc49904b496089");  // FIPS 197 appendix C.3
  CHECK(digest::aes256_cbc_decrypt(key, zero_iv, one) == plain);
  // The second block is encrypted XORed with the first ciphertext block.
  const std::string two = digest::aes256_cbc_encrypt(key, zero_iv, plain + plain);
  CHECK(two.substr(0, 16) == one);
  CHECK(two.substr(16) != one);
  CHECK(digest::aes256_cbc_decrypt(key, zero_iv, two) == plain + plain);
}
