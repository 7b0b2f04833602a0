// Signature and seal images (pdf/image.h): what the upload check accepts and refuses, the conversion
// of every PNG kind to 8-bit RGB + alpha, and the image as a signed field draws it (an Image XObject
// with an /SMask, deterministic), read back with qpdf and rendered with pdftoppm.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <string>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "hocba/common/fileio.h"
#include "hocba/pdf/image.h"
#include "hocba/pdf/signing.h"
#include "test_env.h"

using namespace hocba;
using namespace hocba::pdf;

namespace {

Bytes data_file(const std::string& rel) {
  auto b = read_file(std::string(HOCBA_TEST_DATA) + "/" + rel);
  if (!b) throw std::runtime_error(b.error().message);
  return *b;
}
Bytes check_image(const std::string& name) { return data_file("images/check/" + name); }

// The problem decode_png finds (none when it accepts).
ImageProblem problem_of(const Bytes& png, const ImageLimits& limits = {}) {
  ImageProblem p = ImageProblem::none;
  auto r = decode_png(png, limits, &p);
  EXPECT_EQ(r.ok(), p == ImageProblem::none);
  if (!r) {
    EXPECT_FALSE(r.error().message.empty());
  }
  return p;
}

std::uint8_t alpha_at(const DecodedImage& im, std::uint32_t x, std::uint32_t y) {
  return static_cast<std::uint8_t>(im.alpha[static_cast<std::size_t>(y) * im.width + x]);
}
std::array<std::uint8_t, 3> rgb_at(const DecodedImage& im, std::uint32_t x, std::uint32_t y) {
  std::size_t i = (static_cast<std::size_t>(y) * im.width + x) * 3;
  return {static_cast<std::uint8_t>(im.rgb[i]), static_cast<std::uint8_t>(im.rgb[i + 1]), static_cast<std::uint8_t>(im.rgb[i + 2])};
}

}  // namespace

TEST(PngCheck, OnlyPngIsAccepted) {
  EXPECT_EQ(problem_of(Bytes{}), ImageProblem::not_png);
  std::string jpeg = "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00";
  EXPECT_EQ(problem_of(Bytes(jpeg.begin(), jpeg.end())), ImageProblem::not_png);
  std::string text = "<svg xmlns='http://www.w3.org/2000/svg'/>";
  EXPECT_EQ(problem_of(Bytes(text.begin(), text.end())), ImageProblem::not_png);
  EXPECT_STREQ(image_problem_code(ImageProblem::not_png), "image_not_png");
}

TEST(PngCheck, ATruncatedOrDamagedFileIsRefusedAsCorrupt) {
  Bytes good = data_file("images/signature.png");
  ASSERT_TRUE(decode_png(good).ok());
  Bytes half(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2));
  EXPECT_EQ(problem_of(half), ImageProblem::corrupt);
  Bytes header_only(good.begin(), good.begin() + 20);
  EXPECT_EQ(problem_of(header_only), ImageProblem::corrupt);
  Bytes flipped = good;
  flipped[good.size() / 2] ^= 0x5a;  // inside the IDAT: its CRC no longer matches
  EXPECT_EQ(problem_of(flipped), ImageProblem::corrupt);
  Bytes no_end(good.begin(), good.end() - 12);  // without IEND
  EXPECT_EQ(problem_of(no_end), ImageProblem::corrupt);
}

TEST(PngCheck, SizesArePutToTheLimitsBeforeDecoding) {
  Bytes big = data_file("images/signature.png");
  big.resize(512 * 1024 + 1, 0);  // a valid start, then too many bytes
  ImageProblem p = ImageProblem::none;
  auto r = decode_png(big, {}, &p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(p, ImageProblem::too_large);
  EXPECT_EQ(r.error().code, Errc::too_large);
  EXPECT_EQ(problem_of(check_image("tiny.png")), ImageProblem::bad_size);
  EXPECT_EQ(problem_of(check_image("wide.png")), ImageProblem::bad_size);
  EXPECT_EQ(problem_of(check_image("huge.png")), ImageProblem::too_many_pixels);
  // A lie in the IHDR (a huge image in a few bytes) is refused from the header, before any allocation.
  Bytes liar = check_image("rgba8.png");
  liar[16] = 0x7f;  // width 0x7f000040
  EXPECT_EQ(problem_of(liar), ImageProblem::bad_size);
}

TEST(PngCheck, AnOpaqueImageIsRefusedWithTheReason) {
  for (const char* name : {"opaque.png", "opaque-alpha.png"}) {
    ImageProblem p = ImageProblem::none;
    auto r = decode_png(check_image(name), {}, &p);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(p, ImageProblem::opaque) << name;
    EXPECT_NE(r.error().message.find("the image must have a transparent background"), std::string::npos) << r.error().message;
  }
  ImageLimits any;
  any.need_transparency = false;  // what drawing accepts (`hocba sign --image` may give an opaque one)
  auto r = decode_png(check_image("opaque.png"), any);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->transparent);
  EXPECT_EQ(alpha_at(*r, 0, 31), 255);
}

TEST(PngCheck, EveryKindBecomesEightBitRgbAndAlpha) {
  auto ref = decode_png(check_image("rgba8.png"));
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  ASSERT_EQ(ref->width, 64u);
  ASSERT_EQ(ref->height, 32u);
  EXPECT_EQ(ref->rgb.size(), 64u * 32 * 3);
  EXPECT_EQ(ref->alpha.size(), 64u * 32);
  EXPECT_EQ(alpha_at(*ref, 0, 0), 255);   // on the stroke
  EXPECT_EQ(alpha_at(*ref, 0, 31), 0);    // background
  EXPECT_EQ(rgb_at(*ref, 0, 0), (std::array<std::uint8_t, 3>{20, 40, 160}));
  for (const char* name : {"rgba16.png", "palette-trns.png", "interlaced.png", "gray-trns.png"}) {
    auto im = decode_png(check_image(name));
    ASSERT_TRUE(im.ok()) << name << ": " << im.error().message;
    EXPECT_EQ(im->width, 64u) << name;
    EXPECT_EQ(im->rgb.size(), 64u * 32 * 3) << name;
    EXPECT_TRUE(im->transparent) << name;
    EXPECT_EQ(im->alpha, ref->alpha) << name;  // the same stroke, opaque, on a transparent background
    if (std::string(name) != "gray-trns.png") {
      EXPECT_EQ(rgb_at(*im, 0, 0), (std::array<std::uint8_t, 3>{20, 40, 160})) << name;
    }
  }
  auto il = decode_png(check_image("interlaced.png"));
  EXPECT_EQ(il->rgb, ref->rgb);  // Adam7 gives the same pixels
  auto gray = decode_png(check_image("gray-trns.png"));
  EXPECT_EQ(rgb_at(*gray, 0, 0), (std::array<std::uint8_t, 3>{40, 40, 40}));
}

TEST(PngCheck, APhysicalSizeIsKept) {
  auto im = decode_png(check_image("seal-300dpi.png"));
  ASSERT_TRUE(im.ok()) << im.error().message;
  EXPECT_EQ(im->px_per_metre_x, 11811u);
  EXPECT_EQ(im->px_per_metre_y, 11811u);
  auto none = decode_png(check_image("rgba8.png"));
  EXPECT_EQ(none->px_per_metre_x, 0u);
}

namespace {

// A PNG chunk: length, type, data, CRC.
void put_chunk(Bytes& out, const char* type, const std::string& data) {
  auto be32 = [&](std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
  };
  be32(static_cast<std::uint32_t>(data.size()));
  std::string body = std::string(type, 4) + data;
  out.insert(out.end(), body.begin(), body.end());
  be32(static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
}

// The peak resident size (KiB) of a child process that decodes `png` once.
long child_peak_kib(const Bytes& png) {
  pid_t pid = fork();
  if (pid == 0) _exit(decode_png(png).ok() ? 0 : 1);
  int status = 0;
  rusage ru{};
  if (pid < 0 || wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  return ru.ru_maxrss;
}

}  // namespace

// Text and profile chunks are not kept: 60 zTXt chunks of just under the 1 MiB per-chunk cap (about 1 KiB
// each compressed, 60 KiB in all) took 60 MiB of memory and a second of inflating per upload.
TEST(PngCheck, CompressedTextChunksAreSkippedNotInflated) {
  Bytes plain = check_image("rgba8.png");
  ASSERT_EQ(std::string(plain.begin() + 12, plain.begin() + 16), "IHDR");
  std::string text(std::size_t(1) << 20, 'A');
  text.resize(text.size() - 4096);
  std::string z(compressBound(static_cast<uLong>(text.size())), '\0');
  uLongf zn = static_cast<uLongf>(z.size());
  ASSERT_EQ(compress2(reinterpret_cast<Bytef*>(z.data()), &zn, reinterpret_cast<const Bytef*>(text.data()),
                      static_cast<uLong>(text.size()), 9),
            Z_OK);
  z.resize(zn);
  Bytes bomb(plain.begin(), plain.begin() + 33);  // signature and IHDR
  for (int i = 0; i < 60; ++i) put_chunk(bomb, "zTXt", "k" + std::to_string(i) + std::string(2, '\0') + z);
  for (int i = 0; i < 60; ++i) put_chunk(bomb, "iTXt", "t" + std::to_string(i) + std::string("\0\1\0\0\0", 5) + z);
  put_chunk(bomb, "iCCP", std::string("p\0\0", 3) + z);
  bomb.insert(bomb.end(), plain.begin() + 33, plain.end());
  ASSERT_LT(bomb.size(), 512u * 1024);
  auto im = decode_png(bomb);
  ASSERT_TRUE(im.ok()) << im.error().message;
  EXPECT_EQ(im->rgb, decode_png(plain)->rgb);
  long base = child_peak_kib(plain), peak = child_peak_kib(bomb);
  ASSERT_GT(base, 0);
  ASSERT_GT(peak, 0);
  EXPECT_LT(peak - base, 16 * 1024) << "decoding took " << peak - base << " KiB more than the plain image";
}

// Compressed data after the last row: libpng would inflate all of it before it could complain (400 KB
// of deflated zeros is 400 MiB, a second or more per upload); the check stops at the image's own size.
TEST(PngCheck, ImageDataBeyondItsSizeIsRefusedWithoutInflatingIt) {
  Bytes plain = check_image("rgba8.png");
  std::uint32_t w = (std::uint32_t(plain[16]) << 24) | (std::uint32_t(plain[17]) << 16) | (std::uint32_t(plain[18]) << 8) | plain[19];
  std::uint32_t h = (std::uint32_t(plain[20]) << 24) | (std::uint32_t(plain[21]) << 16) | (std::uint32_t(plain[22]) << 8) | plain[23];
  ASSERT_EQ(plain[24], 8);  // 8-bit RGBA, not interlaced
  ASSERT_EQ(plain[25], 6);
  auto bomb_of = [&](std::size_t extra) {
    std::string raw;
    for (std::uint32_t y = 0; y < h; ++y) raw += std::string(1, '\0') + std::string(std::size_t(w) * 4, '\0');  // transparent
    raw.append(extra, '\0');
    std::string z(compressBound(static_cast<uLong>(raw.size())), '\0');
    uLongf zn = static_cast<uLongf>(z.size());
    EXPECT_EQ(compress2(reinterpret_cast<Bytef*>(z.data()), &zn, reinterpret_cast<const Bytef*>(raw.data()),
                        static_cast<uLong>(raw.size()), 9),
              Z_OK);
    z.resize(zn);
    Bytes png(plain.begin(), plain.begin() + 33);  // signature and IHDR
    put_chunk(png, "IDAT", z);
    put_chunk(png, "IEND", "");
    return png;
  };
  auto exact = decode_png(bomb_of(0));
  ASSERT_TRUE(exact.ok()) << "the same image without extra data: " << exact.error().message;
  Bytes bomb = bomb_of(std::size_t(64) << 20);  // 64 MiB of zeros after the rows
  ASSERT_LT(bomb.size(), 512u * 1024);
  ImageProblem problem = ImageProblem::none;
  auto im = decode_png(bomb, {}, &problem);
  ASSERT_FALSE(im.ok());
  EXPECT_EQ(problem, ImageProblem::corrupt);
  // The refusal comes from the bounded check (libpng alone accepts the file with a warning, after
  // inflating all 64 MiB).
  EXPECT_NE(im.error().message.find("inflates to more than the " + std::to_string(std::uint64_t(h) * (1 + w * 4)) + " bytes"),
            std::string::npos)
      << im.error().message;
}

TEST(PngCheck, TheDemoImagesPass) {
  for (const char* name : {"signature.png", "seal.png"}) {
    auto im = decode_png(data_file(std::string("images/") + name));
    EXPECT_TRUE(im.ok()) << name << ": " << (im ? "" : im.error().message);
  }
}

namespace {

Bytes sign_with_image(const Bytes& in, const Bytes& png, bool seal) {
  SignatureRequest req;
  req.field_name = "GVCN";
  Appearance ap;
  ap.image_png = png;
  ap.image_fills_box = seal;
  req.appearance = ap;
  auto p = prepare_signature(in, req);
  if (!p) throw std::runtime_error(p.error().message);
  if (!embed_signature(*p, Bytes(10, 1))) throw std::runtime_error("embed failed");
  return p->file;
}

std::string added(const Bytes& in, const Bytes& out) { return std::string(out.begin() + static_cast<std::ptrdiff_t>(in.size()), out.end()); }

}  // namespace

TEST(PdfAppearanceImage, TheImageIsAnRgbXObjectWithASoftMaskAndTheSameEveryTime) {
  Bytes in = data_file("pdf/form-empty-field.pdf");
  Bytes png = check_image("palette-trns.png");  // a palette: still DeviceRGB, 8 bits, in the PDF
  Bytes out = sign_with_image(in, png, false);
  std::string a = added(in, out);
  EXPECT_NE(a.find("/Subtype /Image"), std::string::npos);
  EXPECT_NE(a.find("/ColorSpace /DeviceRGB"), std::string::npos);
  EXPECT_NE(a.find("/ColorSpace /DeviceGray"), std::string::npos);  // the soft mask
  EXPECT_NE(a.find("/SMask "), std::string::npos);
  EXPECT_EQ(a.find("/Indexed"), std::string::npos);
  EXPECT_EQ(a.find("/BitsPerComponent 2"), std::string::npos);
  EXPECT_NE(a.find("/BitsPerComponent 8"), std::string::npos);
  EXPECT_NE(a.find("/Filter /FlateDecode"), std::string::npos);
  EXPECT_EQ(a.find("/Interpolate"), std::string::npos);
  EXPECT_EQ(sign_with_image(in, png, false), out);  // deterministic

  if (!test::have_tool("qpdf")) GTEST_SKIP() << "qpdf is needed";
  test::TempDir dir;
  ASSERT_TRUE(write_file_atomic(dir.file("out.pdf"), out).ok());
  auto check = test::run("qpdf --check " + dir.file("out.pdf") + " 2>&1");
  EXPECT_EQ(check.status, 0) << check.out;
  // qpdf decodes both streams: 64 x 32 x 3 bytes of colour, 64 x 32 of alpha.
  auto json = test::run("qpdf --json=2 --json-key=qpdf " + dir.file("out.pdf") + " 2>&1");
  ASSERT_EQ(json.status, 0) << json.out;
  EXPECT_NE(json.out.find("\"/SMask\""), std::string::npos);
}

TEST(PdfAppearanceImage, ASealWithAPhysicalSizeIsDrawnAtThatSize) {
  Bytes in = data_file("pdf/form-empty-field.pdf");
  std::string a = added(in, sign_with_image(in, check_image("seal-300dpi.png"), true));
  // 236 px at 11811 px/m: 56.64 pt (19.98 mm), centred in the 200 x 60 box.
  EXPECT_NE(a.find("q 56.64 0 0 56.64 71.68 1.68 cm /Im1 Do Q"), std::string::npos) << a.substr(a.find("/Im1 Do") - 80, 120);
  // Without a physical size it is fitted to the box's height.
  std::string b = added(in, sign_with_image(in, data_file("images/seal.png"), true));
  EXPECT_NE(b.find("q 60 0 0 60 70 0 cm /Im1 Do Q"), std::string::npos) << b.substr(b.find("/Im1 Do") - 80, 120);
}

TEST(PdfAppearanceImage, TheSignatureShowsBluePixelsInItsBox) {
  if (!test::have_tool("pdftoppm")) GTEST_SKIP() << "pdftoppm is needed";
  Bytes in = data_file("pdf/form-empty-field.pdf");
  test::TempDir dir;
  ASSERT_TRUE(write_file_atomic(dir.file("before.pdf"), in).ok());
  ASSERT_TRUE(write_file_atomic(dir.file("after.pdf"), sign_with_image(in, data_file("images/signature.png"), false)).ok());
  auto blue = [&](const std::string& name) {
    auto r = test::run("pdftoppm -r 72 -f 1 -l 1 -singlefile " + dir.file(name + ".pdf") + " " + dir.file(name) + " 2>&1");
    EXPECT_EQ(r.status, 0) << r.out;
    std::string ppm = test::read_text(dir.file(name + ".ppm"));
    // P6 W H 255 then the pixels.
    int w = 0, h = 0, max = 0, n = 0;
    EXPECT_EQ(std::sscanf(ppm.c_str(), "P6 %d %d %d%n", &w, &h, &max, &n), 3);
    std::size_t start = static_cast<std::size_t>(n) + 1, count = 0;
    for (std::size_t i = start; i + 2 < ppm.size(); i += 3) {
      auto r8 = static_cast<unsigned char>(ppm[i]), g8 = static_cast<unsigned char>(ppm[i + 1]), b8 = static_cast<unsigned char>(ppm[i + 2]);
      if (b8 > 110 && r8 < 120 && g8 < 130 && b8 > r8 + 40) ++count;
    }
    return count;
  };
  EXPECT_EQ(blue("before"), 0u);
  EXPECT_GT(blue("after"), 50u);
}
