// Handwritten-signature and seal images (Decree 30/2020: transparent PNGs): the check of an uploaded
// file and its decoding into what a PDF image XObject holds. The input is untrusted (anyone with an
// account uploads one): only PNG is accepted, its size and pixel count are bounded before anything is
// allocated, and it is decoded in full with libpng (fuzz/fuzz_png_image.cpp). No libpng type appears here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "hocba/common/error.h"

namespace hocba::pdf {

// Why an image was refused: a stable machine code for programs (the API's error code, which the web
// UI words in Vietnamese), beside the English message of the Error.
enum class ImageProblem {
  none,
  not_png,          // "image_not_png": no PNG signature (a JPEG, a GIF, text)
  too_large,        // "image_too_large": the file is over max_file_bytes
  bad_size,         // "image_bad_size": width or height outside min_side..max_side
  too_many_pixels,  // "image_too_many_pixels": width x height over max_pixels
  corrupt,          // "image_corrupt": truncated, a bad CRC, bad compressed data, an unknown critical chunk
  opaque,           // "image_opaque": no transparent pixel (no alpha channel, no tRNS, or alpha all 255)
};
const char* image_problem_code(ImageProblem p);

struct ImageLimits {
  std::size_t max_file_bytes = 512 * 1024;
  std::uint32_t min_side = 16, max_side = 2000;
  std::uint64_t max_pixels = 2'000'000;
  bool need_transparency = true;  // a signature or seal image must have a transparent background
};

// A decoded image: 8-bit RGB and 8-bit alpha, row by row, whatever the PNG's colour type, bit depth
// (16-bit is scaled down, 1/2/4-bit and palettes are expanded, tRNS becomes alpha) and interlacing.
struct DecodedImage {
  std::uint32_t width = 0, height = 0;
  std::string rgb;    // width * height * 3 bytes
  std::string alpha;  // width * height bytes
  bool transparent = false;  // some pixel has alpha < 255
  // Physical size from the pHYs chunk, in pixels per metre (0 when the file does not say).
  std::uint32_t px_per_metre_x = 0, px_per_metre_y = 0;
};

// Checks and decodes `png`. On refusal the Error says why in plain English (Errc::too_large for
// too_large, Errc::invalid_argument otherwise) and `problem`, when given, gets the machine code.
Result<DecodedImage> decode_png(std::span<const std::uint8_t> png, const ImageLimits& limits = {},
                                ImageProblem* problem = nullptr);

}  // namespace hocba::pdf
