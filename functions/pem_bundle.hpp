// consul-template's PEM handling for pkiCert (dependency/vault_pki.go): what a Vault PKI issue
// answer or a destination file holds, sorted into the certificate, its key, the CA and the chain,
// and when such a certificate is due to be replaced.
//
// Both sources go through the same scan, as in consul-template: the issue answer is first
// flattened to PEM text (issue_answer_pems), the destination file is PEM text already. Every
// block is re-encoded the way Go's pem.EncodeToMemory writes it (64-column base64, a final
// newline), so `.Cert` reads the same whether it was just issued or kept from the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "functions/x509_cert.hpp"

namespace templet::pki {

struct PemBundle {
  std::string cert;                    // the last non-CA certificate
  std::string key;                     // the last block whose type ends in "PRIVATE KEY"
  std::string ca;                      // the first CA certificate
  std::vector<std::string> ca_chain;   // every CA certificate, once each, in order
  std::optional<x509::CertInfo> leaf;  // what `cert` says of itself
};

// pemsCert: scans `text` block by block (text around and between blocks is ignored; the scan
// stops at the first block pem.Decode would refuse). A CERTIFICATE block that is not a
// certificate throws x509::CertError, as x509.ParseCertificate fails the fetch.
PemBundle parse_pems(std::string_view text);

// fetchPEMs: the `data` of a pki/issue answer as PEM text: each string value, then each string
// of `ca_chain`, followed by "\n", in key order (Go ranges over the map in random order; key
// order makes the CA the first of ca_chain, the issuer). Empty when the body has no data.
std::string issue_answer_pems(const nlohmann::json& body);

// goodFor's renewal point in Unix milliseconds: notBefore plus `threshold` (consul-template's
// vault.lease_renewal_threshold, 0.9) of the lifetime. Its ±3 % jitter is an integer division
// that is always 0 in Go, so there is none here either.
int64_t renewal_point_ms(const x509::CertInfo& cert, double threshold = 0.9);

// Whether `cert` may be kept at `now_ms`: not expired and before its renewal point.
bool good_for(const x509::CertInfo& cert, int64_t now_ms, double threshold = 0.9);

}  // namespace templet::pki
