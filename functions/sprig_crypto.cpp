// Sprig's crypto functions whose results can be pinned (crypto.go): derivePassword, the Master
// Password algorithm (scrypt of the master password salted with the user name, HMAC-SHA-256 of
// the site and counter under that key, the seed's bytes picking a template and its characters),
// and decryptAES with its inverse encryptAES (AES-256-CBC under the password's first 32 bytes,
// zero-padded; a random IV first; PKCS#7 padding, removed on decryption without a check, so bad
// input fails as Go's runtime does). bcrypt, htpasswd, genPrivateKey and the certificate
// generators are not here: random salts and keys leave nothing to pin.
#include <map>
#include <random>

#include "functions/aes.hpp"
#include "functions/digest.hpp"
#include "functions/scrypt.hpp"
#include "functions/sprig_internal.hpp"

namespace templet::helpers::sprig {

namespace {

// Go's uint32, as derivePassword's counter is typed: a constant is truncated to 32 bits (as
// text/template's SetUint does), another type is refused.
const Type& uint32_type() {
  static const Type t = [] {
    Type u;
    u.kind = Kind::Uint;
    u.name = "uint32";
    return u;
  }();
  return t;
}

const std::map<std::string, std::vector<std::string>, std::less<>>& templates() {
  static const std::map<std::string, std::vector<std::string>, std::less<>> t = {
      {"maximum", {"anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"}},
      {"long",
       {"CvcvnoCvcvCvcv", "CvcvCvcvnoCvcv", "CvcvCvcvCvcvno", "CvccnoCvcvCvcv", "CvccCvcvnoCvcv",
        "CvccCvcvCvcvno", "CvcvnoCvccCvcv", "CvcvCvccnoCvcv", "CvcvCvccCvcvno", "CvcvnoCvcvCvcc",
        "CvcvCvcvnoCvcc", "CvcvCvcvCvccno", "CvccnoCvccCvcv", "CvccCvccnoCvcv", "CvccCvccCvcvno",
        "CvcvnoCvccCvcc", "CvcvCvccnoCvcc", "CvcvCvccCvccno", "CvccnoCvcvCvcc", "CvccCvcvnoCvcc",
        "CvccCvcvCvccno"}},
      {"medium", {"CvcnoCvc", "CvcCvcno"}},
      {"short", {"Cvcn"}},
      {"basic", {"aaanaaan", "aannaaan", "aaannaaa"}},
      {"pin", {"nnnn"}}};
  return t;
}

std::string_view characters(char c) {
  switch (c) {
    case 'V':
      return "AEIOU";
    case 'C':
      return "BCDFGHJKLMNPQRSTVWXYZ";
    case 'v':
      return "aeiou";
    case 'c':
      return "bcdfghjklmnpqrstvwxyz";
    case 'A':
      return "AEIOUBCDFGHJKLMNPQRSTVWXYZ";
    case 'a':
      return "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";
    case 'n':
      return "0123456789";
    case 'o':
      return "@&%?,=[]_:-+*$#!'^~;()/.";
    default:
      return "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()";
  }
}

void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

std::string derive_password(uint32_t counter, std::string_view type, std::string_view password,
                            std::string_view user, std::string_view site) {
  auto t = templates().find(type);
  if (t == templates().end()) return "cannot find password template " + std::string(type);
  const std::string seed_text = "com.lyndir.masterpassword";
  std::string salt = seed_text;
  put_u32(salt, static_cast<uint32_t>(user.size()));
  salt += user;
  std::string key = digest::scrypt(password, salt, 32768, 8, 2, 64);
  std::string message = seed_text;
  put_u32(message, static_cast<uint32_t>(site.size()));
  message += site;
  put_u32(message, counter);
  auto seed = digest::hmac_sha256(key, message);
  const std::string& chosen = t->second[seed[0] % t->second.size()];
  std::string out;
  for (size_t i = 0; i < chosen.size(); ++i) {
    std::string_view chars = characters(chosen[i]);
    out.push_back(chars[seed[i + 1] % chars.size()]);
  }
  return out;
}

std::array<uint8_t, 32> aes_key(std::string_view password) {
  std::array<uint8_t, 32> key{};
  for (size_t i = 0; i < key.size() && i < password.size(); ++i)
    key[i] = static_cast<uint8_t>(password[i]);
  return key;
}

std::string encrypt_aes(std::string_view password, std::string_view plaintext) {
  if (plaintext.empty()) return "";
  std::string content(plaintext);
  const size_t padding = 16 - content.size() % 16;
  content.append(padding, static_cast<char>(padding));
  std::random_device rd;
  std::string iv;
  for (int i = 0; i < 16; ++i) iv.push_back(static_cast<char>(rd() & 0xff));
  return base64_std_encode(iv + digest::aes256_cbc_encrypt(aes_key(password), iv, content));
}

std::string decrypt_aes(std::string_view password, std::string_view crypt64) {
  if (crypt64.empty()) return "";
  std::string crypt;
  size_t at = 0;
  if (!base64_std_decode(crypt64, crypt, at))
    throw FuncError("illegal base64 data at input byte " + std::to_string(at));
  // Go's panics for what the slicing below meets, as text/template reports them.
  if (crypt.size() < 16)
    throw FuncError("runtime error: slice bounds out of range [:16] with capacity " +
                    std::to_string(crypt64.size() / 4 * 3));
  std::string_view iv = std::string_view(crypt).substr(0, 16),
                   body = std::string_view(crypt).substr(16);
  if (body.size() % 16 != 0) throw FuncError("crypto/cipher: input not full blocks");
  if (body.empty()) throw FuncError("runtime error: index out of range [-1]");
  std::string plain = digest::aes256_cbc_decrypt(aes_key(password), iv, body);
  const auto pad = static_cast<unsigned char>(plain.back());
  if (pad > plain.size())
    throw FuncError("runtime error: slice bounds out of range [:" +
                    std::to_string(static_cast<long long>(plain.size()) - pad) + "]");
  plain.resize(plain.size() - pad);
  return plain;
}

}  // namespace

void register_crypto(FunctionTable& t) {
  const Type* S = &types::string;
  define(t, "sprig_derivePassword", {&uint32_type(), S, S, S, S}, [](Args a) {
    return Value::string(derive_password(static_cast<uint32_t>(a[0].as_uint()), a[1].as_string(),
                                         a[2].as_string(), a[3].as_string(), a[4].as_string()));
  });
  define(t, "sprig_encryptAES", {S, S},
         [](Args a) { return Value::string(encrypt_aes(a[0].as_string(), a[1].as_string())); });
  define(t, "sprig_decryptAES", {S, S},
         [](Args a) { return Value::string(decrypt_aes(a[0].as_string(), a[1].as_string())); });
}

}  // namespace templet::helpers::sprig
