// Sprig's deterministic crypto function: derivePassword, the Master Password algorithm
// (crypto.go): scrypt of the master password salted with the user name, HMAC-SHA-256 of the site
// and counter under that key, the seed's bytes picking a template and its characters.
// The random ones (bcrypt, htpasswd, genPrivateKey, the certificate generators, encryptAES) are
// not here: their output cannot be pinned against Sprig's.
#include <map>

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

}  // namespace

void register_crypto(FunctionTable& t) {
  const Type* S = &types::string;
  define(t, "sprig_derivePassword", {&uint32_type(), S, S, S, S}, [](Args a) {
    return Value::string(derive_password(static_cast<uint32_t>(a[0].as_uint()), a[1].as_string(),
                                         a[2].as_string(), a[3].as_string(), a[4].as_string()));
  });
}

}  // namespace templet::helpers::sprig
