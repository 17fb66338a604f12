#include "functions/x509_cert.hpp"

#include <array>
#include <cstddef>

namespace templet::x509 {

namespace {

constexpr unsigned char kSequence = 0x30;
constexpr unsigned char kInteger = 0x02;
constexpr unsigned char kBoolean = 0x01;
constexpr unsigned char kBitString = 0x03;
constexpr unsigned char kOctetString = 0x04;
constexpr unsigned char kOid = 0x06;
constexpr unsigned char kUtcTime = 0x17;
constexpr unsigned char kGeneralizedTime = 0x18;
constexpr unsigned char kVersion = 0xa0;     // [0] EXPLICIT
constexpr unsigned char kIssuerUid = 0x81;   // [1] IMPLICIT
constexpr unsigned char kSubjectUid = 0x82;  // [2] IMPLICIT
constexpr unsigned char kExtensions = 0xa3;  // [3] EXPLICIT

// One DER element: its tag and contents.
struct Tlv {
  unsigned char tag = 0;
  std::string_view body;
};

// Reads elements one after another from `in`; every failure throws `error`.
class Reader {
 public:
  Reader(std::string_view in, const char* error) : in_(in), error_(error) {}
  bool empty() const { return in_.empty(); }
  unsigned char peek() const { return in_.empty() ? 0 : static_cast<unsigned char>(in_[0]); }

  Tlv next() {
    if (in_.size() < 2) fail();
    Tlv t;
    t.tag = static_cast<unsigned char>(in_[0]);
    if ((t.tag & 0x1f) == 0x1f) fail();  // high tag numbers: none in a certificate
    size_t len = static_cast<unsigned char>(in_[1]);
    size_t head = 2;
    if (len & 0x80) {
      size_t n = len & 0x7f;
      // 0x80 is BER's indefinite length; more than 4 bytes cannot fit what follows.
      if (n == 0 || n > 4 || in_.size() < 2 + n) fail();
      len = 0;
      for (size_t i = 0; i < n; ++i) len = (len << 8) | static_cast<unsigned char>(in_[2 + i]);
      if (len < 0x80) fail();  // DER: the short form was required
      head += n;
    }
    if (len > in_.size() - head) fail();
    t.body = in_.substr(head, len);
    in_.remove_prefix(head + len);
    return t;
  }

  Tlv expect(unsigned char tag) {
    Tlv t = next();
    if (t.tag != tag) fail();
    return t;
  }

  [[noreturn]] void fail() const { throw CertError(error_); }

 private:
  std::string_view in_;
  const char* error_;
};

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's algorithm: days since 1970-01-01 of a proleptic Gregorian date.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

// Digits at s[i..i+n) as a number, or -1.
int digits(std::string_view s, size_t i, size_t n) {
  if (i + n > s.size()) return -1;
  int v = 0;
  for (size_t k = i; k < i + n; ++k) {
    if (s[k] < '0' || s[k] > '9') return -1;
    v = v * 10 + (s[k] - '0');
  }
  return v;
}

// UTCTime (YYMMDDHHMM[SS] then Z or ±hhmm, as Go's asn1 accepts) or GeneralizedTime
// (YYYYMMDDHHMMSS[.fraction] then Z or ±hhmm), as Unix seconds.
int64_t parse_time(const Tlv& t) {
  const char* bad = "x509: malformed validity";
  std::string_view s = t.body;
  int64_t year;
  size_t i;
  if (t.tag == kUtcTime) {
    int yy = digits(s, 0, 2);
    if (yy < 0) throw CertError(bad);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
    i = 2;
  } else if (t.tag == kGeneralizedTime) {
    year = digits(s, 0, 4);
    if (year < 0) throw CertError(bad);
    i = 4;
  } else {
    throw CertError(bad);
  }
  int mon = digits(s, i, 2), day = digits(s, i + 2, 2), hour = digits(s, i + 4, 2),
      min = digits(s, i + 6, 2);
  i += 8;
  int sec = 0;
  if (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    sec = digits(s, i, 2);
    i += 2;
  } else if (t.tag == kGeneralizedTime) {
    throw CertError(bad);
  }
  if (t.tag == kGeneralizedTime && i < s.size() && s[i] == '.') {
    size_t j = i + 1;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    if (j == i + 1) throw CertError(bad);
    i = j;  // a fraction of a second: below what the renewal point needs
  }
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mon < 1 || mon > 12 || day < 1 || hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 ||
      sec > 59)
    throw CertError(bad);
  if (day > kDays[mon - 1] + (mon == 2 && leap(year) ? 1 : 0)) throw CertError(bad);
  int64_t offset = 0;
  if (i < s.size() && s[i] == 'Z') {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh = digits(s, i + 1, 2), om = digits(s, i + 3, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) throw CertError(bad);
    offset = (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    i += 5;
  } else {
    throw CertError(bad);
  }
  if (i != s.size()) throw CertError(bad);
  return days_from_civil(year, static_cast<unsigned>(mon), static_cast<unsigned>(day)) * 86400 +
         hour * 3600 + min * 60 + sec - offset;
}

// basicConstraints' cA, from the extensions' SEQUENCE OF Extension.
bool read_is_ca(std::string_view extensions) {
  static constexpr std::string_view kBasicConstraints("\x55\x1d\x13", 3);  // 2.5.29.19
  Reader list(extensions, "x509: malformed extensions");
  bool is_ca = false;
  while (!list.empty()) {
    Reader ext(list.expect(kSequence).body, "x509: malformed extension");
    std::string_view oid = ext.expect(kOid).body;
    if (ext.peek() == kBoolean) ext.next();  // critical
    std::string_view value = ext.expect(kOctetString).body;
    if (!ext.empty()) ext.fail();
    if (oid != kBasicConstraints) continue;
    Reader outer(value, "x509: invalid basic constraints");
    Reader bc(outer.expect(kSequence).body, "x509: invalid basic constraints");
    if (!outer.empty()) outer.fail();
    if (bc.peek() == kBoolean) {
      Tlv b = bc.next();
      if (b.body.size() != 1) bc.fail();
      is_ca = b.body[0] != 0;
    }
    if (!bc.empty()) bc.expect(kInteger);  // pathLenConstraint
    if (!bc.empty()) bc.fail();
  }
  return is_ca;
}

}  // namespace

CertInfo read_certificate(std::string_view der) {
  Reader top(der, "x509: malformed certificate");
  Reader cert(top.expect(kSequence).body, "x509: malformed certificate");
  if (!top.empty()) throw CertError("x509: trailing data");
  Reader tbs(cert.expect(kSequence).body, "x509: malformed tbs certificate");
  cert.expect(kSequence);   // signatureAlgorithm
  cert.expect(kBitString);  // signatureValue
  if (!cert.empty()) cert.fail();

  if (tbs.peek() == kVersion) tbs.next();
  tbs.expect(kInteger);   // serialNumber
  tbs.expect(kSequence);  // signature
  tbs.expect(kSequence);  // issuer
  Reader validity(tbs.expect(kSequence).body, "x509: malformed validity");
  CertInfo info;
  info.not_before = parse_time(validity.next());
  info.not_after = parse_time(validity.next());
  if (!validity.empty()) validity.fail();
  tbs.expect(kSequence);  // subject
  tbs.expect(kSequence);  // subjectPublicKeyInfo
  if (tbs.peek() == kIssuerUid) tbs.next();
  if (tbs.peek() == kSubjectUid) tbs.next();
  if (tbs.peek() == kExtensions) {
    Reader wrap(tbs.next().body, "x509: malformed extensions");
    info.is_ca = read_is_ca(wrap.expect(kSequence).body);
    if (!wrap.empty()) wrap.fail();
  }
  if (!tbs.empty()) tbs.fail();
  return info;
}

}  // namespace templet::x509
