// Fuzz target: RFC 3161 answers and the CMS they go into, through the signer's own checks.
// The input is, in turn: a TimeStampResp checked against our request (as `hocba sign --tsa` and the
// appliance's jobs receive it from a TSA), a TimeStampToken read and checked against a signature value
// (as verify finds it in a PDF's CMS, and `hocba finish` takes it), a CMS SignedData whose signature
// value is read and to which a good token is added, and a token added to a good CMS.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_constants.h"
#include "fuzz_data.h"
#include "hocba/signer/timestamp.h"

namespace {
using namespace hocba;

struct Fixed {
  signer::TimestampRequest req;
  Bytes sv, good_token, good_cms;
  std::vector<Bytes> anchors;
  Fixed() {
    sv.assign(fuzz::kSignatureValue.begin(), fuzz::kSignatureValue.end());
    auto r = signer::make_timestamp_request(sv, signer::Hash::sha256, fuzz::kNonce);
    if (!r) std::abort();
    req = *r;
    good_token = fuzz::data_file("token.der");
    good_cms = fuzz::data_file("cms.der");
    anchors = {fuzz::data_file("root.der")};
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
  (void)signer::check_timestamp_response(in, f.req, {});
  (void)signer::check_timestamp_response(in, f.req, f.anchors);
  if (auto t = signer::read_timestamp_token(in)) (void)t->imprint.size();
  (void)signer::check_timestamp_token(in, f.sv, {});
  (void)signer::check_timestamp_token(in, f.sv, f.anchors);
  if (auto sv = signer::cms_signature_value(in)) (void)sv->size();
  (void)signer::add_signature_timestamp(in, f.good_token);
  (void)signer::add_signature_timestamp(f.good_cms, in);
  return 0;
}
