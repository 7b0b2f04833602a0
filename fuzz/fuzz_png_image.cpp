// Fuzz target: signature and seal images as uploaded (PUT /api/v1/users/{id}/signature-image,
// PUT /api/v1/seal-image): pdf::decode_png with the upload limits (PNG signature, IHDR bounds, then
// libpng in full: chunks, CRCs, inflate, every colour type, bit depth and interlacing). What it accepts
// must be consistent: buffers of the sizes it says, a transparent pixel when transparency is required.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "hocba/pdf/image.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  hocba::pdf::ImageProblem problem = hocba::pdf::ImageProblem::none;
  auto img = hocba::pdf::decode_png(std::span(data, size), hocba::pdf::ImageLimits{}, &problem);
  if (!img) {
    if (problem == hocba::pdf::ImageProblem::none) {
      std::fprintf(stderr, "refused without a problem code: %s\n", img.error().message.c_str());
      std::abort();
    }
    return 0;
  }
  std::size_t pixels = static_cast<std::size_t>(img->width) * img->height;
  if (img->rgb.size() != pixels * 3 || img->alpha.size() != pixels || !img->transparent || img->width < 16 || img->height < 16 ||
      img->width > 2000 || img->height > 2000 || pixels > 2'000'000) {
    std::fprintf(stderr, "accepted an image that breaks the limits: %ux%u\n", img->width, img->height);
    std::abort();
  }
  return 0;
}
