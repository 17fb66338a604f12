// pkiCert's readers over any bytes: the PEM scan of a destination file or an issue answer
// (functions/pem_bundle) and, on the same bytes taken as DER, the certificate reader
// (functions/x509_cert). Both may only throw x509::CertError.
#include <cstdint>

#include "functions/pem_bundle.hpp"
#include "functions/x509_cert.hpp"
#include "fuzz_common.hpp"

using namespace templet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto text = fuzz::as_text(data, size);
  try {
    (void)x509::read_certificate(text);
  } catch (const x509::CertError&) {
  }
  try {
    pki::PemBundle b = pki::parse_pems(text);
    if (b.leaf) (void)pki::good_for(*b.leaf, 0);
  } catch (const x509::CertError&) {
  }
  return 0;
}
