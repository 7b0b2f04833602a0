// Fuzz target: OCSP responses and CRLs through the signer's checks (signer/src/revocation.cpp), as
// they come from a responder, a CRL distribution point, an offline folder or a PDF's DSS; and the
// certificate extensions read to find them (the DSS's certificates are untrusted too).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_data.h"
#include "hocba/signer/revocation.h"

namespace {
using namespace hocba;

struct Fixed {
  Bytes cert, issuer, request;
  std::vector<Bytes> more;
  Fixed() : cert(fuzz::data_file("signer.der")), issuer(fuzz::data_file("root.der")), request(fuzz::data_file("ocsp-request.der")) {
    more = {fuzz::data_file("ocsp-responder.der")};
  }
};
const Fixed& fixed() {
  static const Fixed f;
  return f;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Fixed& f = fixed();
  std::span<const std::uint8_t> in(data, size);
  // A fixed "now" inside the seeds' validity, so that runs are repeatable.
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1811808000));  // 2027-06-01
  (void)signer::check_ocsp_response(in, f.cert, f.issuer, {}, std::nullopt);
  (void)signer::check_ocsp_response(in, f.cert, f.issuer, f.more, now, f.request);
  (void)signer::check_crl(in, f.cert, f.issuer, std::nullopt);
  (void)signer::check_crl(in, f.cert, f.issuer, now);
  Bytes as_cert(in.begin(), in.end());
  (void)signer::ocsp_urls(as_cert);
  (void)signer::crl_urls(as_cert);
  (void)signer::has_ocsp_nocheck(as_cert);
  return 0;
}
