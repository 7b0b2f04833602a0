// Fuzz target: the CMS SignedData of a signature, as verify reads it from a PDF's /Contents
// (signer/src/verify.cpp: integrity, PAdES attributes, chain, the signature timestamp in it). The input
// is embedded into a fixed, prepared signature placeholder of a small PDF, then verify_pdf runs with
// and without a trust anchor.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "fuzz_data.h"
#include "hocba/pdf/signing.h"
#include "hocba/signer/verify.h"

namespace {
using namespace hocba;

struct Fixed {
  pdf::PreparedSignature prepared;
  std::vector<Bytes> anchors;
  Fixed() {
    Bytes original = fuzz::data_file("unsigned.pdf");
    pdf::SignatureRequest req;
    req.contents_size = 12288;
    auto p = pdf::prepare_signature(original, req);
    if (!p) std::abort();
    prepared = std::move(*p);
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
  if (size > 12288) return 0;
  pdf::PreparedSignature p = f.prepared;
  if (!pdf::embed_signature(p, std::span<const std::uint8_t>(data, size))) return 0;
  if (auto r = signer::verify_pdf(p.file, {})) (void)signer::to_json(*r);
  if (auto r = signer::verify_pdf(p.file, f.anchors)) (void)signer::to_text(*r);
  return 0;
}
