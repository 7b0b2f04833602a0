// PNG check and decoding with libpng (image.h).
//
// libpng reports errors by longjmp to the setjmp of the caller. Nothing with a destructor may live in
// a frame that longjmp crosses, so the two functions that call libpng (read_header, read_pixels) hold
// only plain data: every buffer is allocated by their caller, outside, once its size is known and
// checked. The owner of libpng's read structures (PngReader) is made and destroyed outside them too.
#include "hocba/pdf/image.h"

#include <png.h>
#include <zlib.h>

#include <csetjmp>
#include <cstring>
#include <vector>

namespace hocba::pdf {

const char* image_problem_code(ImageProblem p) {
  switch (p) {
    case ImageProblem::none: return "ok";
    case ImageProblem::not_png: return "image_not_png";
    case ImageProblem::too_large: return "image_too_large";
    case ImageProblem::bad_size: return "image_bad_size";
    case ImageProblem::too_many_pixels: return "image_too_many_pixels";
    case ImageProblem::corrupt: return "image_corrupt";
    case ImageProblem::opaque: return "image_opaque";
  }
  return "image_corrupt";
}

namespace {

constexpr std::size_t kSignatureBytes = 8;
constexpr png_alloc_size_t kChunkMallocMax = 1u << 20;  // iCCP, zTXt, iTXt... decompressed: at most 1 MiB each
constexpr png_uint_32 kChunkCacheMax = 64;             // ancillary chunks kept (sPLT, text, unknown)

// libpng's read structures, freed on every path.
class PngReader {
 public:
  PngReader() {
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, on_error, on_warning);
    if (png) info = png_create_info_struct(png);
  }
  ~PngReader() { png_destroy_read_struct(png ? &png : nullptr, info ? &info : nullptr, nullptr); }
  PngReader(const PngReader&) = delete;
  PngReader& operator=(const PngReader&) = delete;

  png_structp png = nullptr;
  png_infop info = nullptr;

 private:
  // The message goes into the Source (png_get_error_ptr) before libpng longjmps.
  static void on_error(png_structp p, png_const_charp msg);
  static void on_warning(png_structp, png_const_charp) {}
};

// The bytes libpng reads, and the last error it gave.
struct Source {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0, pos = 0;
  char error[160] = {};
};

void PngReader::on_error(png_structp p, png_const_charp msg) {
  if (auto* src = static_cast<Source*>(png_get_io_ptr(p)); src && msg && !src->error[0])
    std::snprintf(src->error, sizeof src->error, "%s", msg);
  png_longjmp(p, 1);
}

void read_bytes(png_structp p, png_bytep out, png_size_t n) {
  auto* src = static_cast<Source*>(png_get_io_ptr(p));
  if (n > src->size - src->pos) png_error(p, "the file ends too early (truncated)");
  std::memcpy(out, src->data + src->pos, n);
  src->pos += n;
}

struct Header {
  png_uint_32 width = 0, height = 0;
  int color_type = 0, bit_depth = 0;
  bool has_trns = false;
  png_uint_32 res_x = 0, res_y = 0;
  int res_unit = 0;
};

// Reads the chunks up to the image data and sets the transformations to 8-bit RGBA. false: libpng
// refused the file (src.error says why).
bool read_header(PngReader& r, Source& src, const ImageLimits& limits, Header& h) {
  if (setjmp(png_jmpbuf(r.png))) return false;
  png_set_read_fn(r.png, &src, read_bytes);
  // Bounds before libpng allocates: the IHDR's dimensions, each ancillary chunk, their number.
  png_set_user_limits(r.png, limits.max_side, limits.max_side);
  png_set_chunk_malloc_max(r.png, kChunkMallocMax);
  png_set_chunk_cache_max(r.png, kChunkCacheMax);
  // Only IHDR, PLTE, tRNS, IDAT, IEND and pHYs are used: every other chunk (text, iCCP, sPLT, eXIf...)
  // is skipped unread (its CRC still checked), never inflated nor kept. Kept, 60 zTXt chunks of just
  // under the 1 MiB cap each took 60 MiB and a second of inflating from a 60 KiB file.
  static const png_byte kUsed[] = {'p', 'H', 'Y', 's', '\0'};
  png_set_keep_unknown_chunks(r.png, PNG_HANDLE_CHUNK_NEVER, nullptr, -1);
  png_set_keep_unknown_chunks(r.png, PNG_HANDLE_CHUNK_AS_DEFAULT, kUsed, 1);
  png_read_info(r.png, r.info);
  h.width = png_get_image_width(r.png, r.info);
  h.height = png_get_image_height(r.png, r.info);
  h.color_type = png_get_color_type(r.png, r.info);
  h.bit_depth = png_get_bit_depth(r.png, r.info);
  h.has_trns = png_get_valid(r.png, r.info, PNG_INFO_tRNS) != 0;
  png_get_pHYs(r.png, r.info, &h.res_x, &h.res_y, &h.res_unit);
  // To 8-bit RGB + 8-bit alpha, whatever came in.
  if (h.color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(r.png);
  if (h.color_type == PNG_COLOR_TYPE_GRAY && h.bit_depth < 8) png_set_expand_gray_1_2_4_to_8(r.png);
  if (h.has_trns) png_set_tRNS_to_alpha(r.png);
  if (h.bit_depth == 16) png_set_scale_16(r.png);
  if (h.color_type == PNG_COLOR_TYPE_GRAY || h.color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(r.png);
  if (!(h.color_type & PNG_COLOR_MASK_ALPHA) && !h.has_trns) png_set_add_alpha(r.png, 0xff, PNG_FILLER_AFTER);
  png_set_interlace_handling(r.png);
  png_read_update_info(r.png, r.info);
  if (png_get_rowbytes(r.png, r.info) != static_cast<png_size_t>(h.width) * 4) png_error(r.png, "unexpected row size after conversion");
  return true;
}

// Reads every row (every pass of an interlaced image) into `rows`, then the chunks after the data.
bool read_pixels(PngReader& r, Source& src, png_bytepp rows) {
  (void)src;
  if (setjmp(png_jmpbuf(r.png))) return false;
  png_read_image(r.png, rows);
  png_read_end(r.png, nullptr);
  return true;
}

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
}

// The most filtered bytes an image of these dimensions can need: every row with its filter byte, every
// pass of an interlaced image counted as a whole image's rows (a generous bound).
std::uint64_t raw_bytes_bound(std::uint32_t w, std::uint32_t h, std::uint8_t depth, std::uint8_t colour, std::uint8_t interlace) {
  int channels = colour == 2 ? 3 : colour == 4 ? 2 : colour == 6 ? 4 : 1;
  std::uint64_t row = (std::uint64_t(w) * channels * depth + 7) / 8;
  std::uint64_t one = std::uint64_t(h) * (1 + row);
  return interlace ? one + std::uint64_t(h) * 16 + 64 : one;
}

// libpng inflates whatever compressed data follows the last row (to its end) before it can say "extra
// data": 400 KB of deflated zeros is 400 MiB to inflate, a second or more of CPU per upload. So the IDAT
// data is inflated here first, into a scratch buffer, and refused as soon as it gives more bytes than the
// image can need — at most `cap` + 64 KiB of inflating whatever the file holds. "" when it fits.
std::string idat_problem(std::span<const std::uint8_t> png, std::uint64_t cap) {
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return "cannot set up zlib";
  std::vector<Bytef> scratch(64 * 1024);
  std::uint64_t produced = 0;
  int rc = Z_OK;
  for (std::size_t at = 8; at + 12 <= png.size() && rc != Z_STREAM_END;) {
    std::uint32_t len = be32(png.data() + at);
    if (len > png.size() - at - 12) break;  // truncated: libpng says so
    const std::uint8_t* type = png.data() + at + 4;
    if (std::memcmp(type, "IDAT", 4) == 0) {
      z.next_in = const_cast<Bytef*>(png.data() + at + 8);
      z.avail_in = len;
      while (z.avail_in > 0 && rc == Z_OK) {
        z.next_out = scratch.data();
        z.avail_out = static_cast<uInt>(scratch.size());
        rc = inflate(&z, Z_NO_FLUSH);
        produced += scratch.size() - z.avail_out;
        if (produced > cap) {
          inflateEnd(&z);
          return "its image data inflates to more than the " + std::to_string(cap) + " bytes its size needs";
        }
        if (rc == Z_BUF_ERROR && z.avail_in > 0 && z.avail_out > 0) break;
      }
      if (rc != Z_OK && rc != Z_STREAM_END) break;  // corrupt: libpng says so
    } else if (std::memcmp(type, "IEND", 4) == 0) {
      break;
    }
    at += 12 + std::size_t(len);
  }
  inflateEnd(&z);
  return "";
}

}  // namespace

Result<DecodedImage> decode_png(std::span<const std::uint8_t> png, const ImageLimits& limits, ImageProblem* problem) {
  auto refuse = [&](ImageProblem p, std::string msg) -> Error {
    if (problem) *problem = p;
    return make_error(p == ImageProblem::too_large ? Errc::too_large : Errc::invalid_argument, std::move(msg));
  };
  if (problem) *problem = ImageProblem::none;
  if (png.size() > limits.max_file_bytes)
    return refuse(ImageProblem::too_large, "the image file has " + std::to_string(png.size()) + " bytes; at most " +
                                               std::to_string(limits.max_file_bytes) + " are accepted");
  if (png.size() < kSignatureBytes || png_sig_cmp(png.data(), 0, kSignatureBytes) != 0)
    return refuse(ImageProblem::not_png, "the file is not a PNG image (only PNG is accepted)");
  // The dimensions, from the IHDR (the first chunk), for a clear refusal before libpng reads further.
  if (png.size() < kSignatureBytes + 8 + 13 || std::memcmp(png.data() + 12, "IHDR", 4) != 0)
    return refuse(ImageProblem::corrupt, "the PNG file is damaged: it does not start with an IHDR chunk");
  std::uint32_t w = be32(png.data() + 16), h = be32(png.data() + 20);
  if (w < limits.min_side || h < limits.min_side || w > limits.max_side || h > limits.max_side)
    return refuse(ImageProblem::bad_size, "the image is " + std::to_string(w) + " x " + std::to_string(h) + " pixels; width and height must be " +
                                              std::to_string(limits.min_side) + " to " + std::to_string(limits.max_side));
  if (std::uint64_t(w) * h > limits.max_pixels)
    return refuse(ImageProblem::too_many_pixels, "the image has " + std::to_string(std::uint64_t(w) * h) + " pixels; at most " +
                                                     std::to_string(limits.max_pixels) + " are accepted");

  if (std::string p = idat_problem(png, raw_bytes_bound(w, h, png[24], png[25], png[28])); !p.empty())
    return refuse(ImageProblem::corrupt, "the PNG file is damaged: " + p);

  PngReader r;
  if (!r.png || !r.info) return make_error(Errc::io, "cannot set up the PNG decoder (out of memory)");
  Source src;
  src.data = png.data();
  src.size = png.size();
  Header hd;
  auto damaged = [&]() {
    return refuse(ImageProblem::corrupt, std::string("the PNG file is damaged or unsupported: ") + (src.error[0] ? src.error : "unreadable"));
  };
  if (!read_header(r, src, limits, hd)) return damaged();
  if (hd.width != w || hd.height != h) return refuse(ImageProblem::corrupt, "the PNG file is damaged: its dimensions changed while it was read");

  DecodedImage out;
  out.width = w;
  out.height = h;
  std::vector<png_byte> pixels(static_cast<std::size_t>(w) * h * 4);  // at most max_pixels * 4
  std::vector<png_bytep> rows(h);
  for (std::uint32_t y = 0; y < h; ++y) rows[y] = pixels.data() + static_cast<std::size_t>(y) * w * 4;
  if (!read_pixels(r, src, rows.data())) return damaged();

  out.rgb.resize(static_cast<std::size_t>(w) * h * 3);
  out.alpha.resize(static_cast<std::size_t>(w) * h);
  for (std::size_t i = 0, n = static_cast<std::size_t>(w) * h; i < n; ++i) {
    std::memcpy(&out.rgb[i * 3], &pixels[i * 4], 3);
    out.alpha[i] = static_cast<char>(pixels[i * 4 + 3]);
    if (pixels[i * 4 + 3] != 0xff) out.transparent = true;
  }
  if (hd.res_unit == PNG_RESOLUTION_METER) out.px_per_metre_x = hd.res_x, out.px_per_metre_y = hd.res_y;
  if (limits.need_transparency && !out.transparent)
    return refuse(ImageProblem::opaque, "the image must have a transparent background (a PNG with an alpha channel or tRNS "
                                        "in which the background is transparent); this one has no transparent pixel");
  return out;
}

}  // namespace hocba::pdf
