// The little templet reads of an X.509 certificate: its validity and whether it is a CA.
//
// pkiCert decides whether the certificate in its destination can be kept (consul-template's
// goodFor needs notBefore and notAfter) and sorts PEM blocks into leaf and CA (Go's IsCA, from
// basicConstraints). Linking libcrypto for that would cost the daemon's idle memory
// (bench/README.md, "Idle memory without libcurl"), so this is a small DER reader of exactly
// those fields (RFC 5280 §4.1): every length is checked against what encloses it, and anything
// else malformed is an error, never a read out of bounds (fuzzed in tests/fuzz/fuzz_pem.cpp).
// Signatures are not checked: the certificate came from Vault or from templet's own output.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string_view>

namespace templet::x509 {

struct CertInfo {
  int64_t not_before = 0;  // Unix seconds, UTC
  int64_t not_after = 0;
  bool is_ca = false;  // basicConstraints cA
};

// A certificate that is not well-formed DER, or whose validity cannot be read; the message is
// Go's crypto/x509 wording where it has one ("x509: malformed certificate").
struct CertError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads a DER certificate (the bytes of a PEM "CERTIFICATE" block). Throws CertError.
CertInfo read_certificate(std::string_view der);

}  // namespace templet::x509
