// The embedded serif faces, prepared once per process: see render_fonts.h and docs/record-rendering.md.
#include "render_fonts.h"

#include <podofo/podofo.h>
#include <sys/stat.h>

#include <cmath>
#include <cstdio>

#include "hocba/common/bytes.h"
#include "hocba/common/fileio.h"

#include "flate.h"

namespace hocba::pdf::fonts {

namespace {

using namespace PoDoFo;

constexpr std::size_t kMaxExtended = 16;  // programs with added characters kept per face
constexpr std::size_t kMaxFaces = 12;     // faces kept (three per set of font paths)
constexpr std::size_t kMaxFontFile = std::size_t(64) << 20;

// PoDoFo's FreeType metrics over the font's bytes; the scratch document owns the FreeType library
// (one per preparation, so preparations on two threads share nothing).
struct Metrics {
  PdfMemDocument scratch;
  FT_Library library;
  std::unique_ptr<PdfFontMetricsFreetype> m;
  explicit Metrics(const std::string& data)
      : library(scratch.GetFontLibrary()),
        m(std::make_unique<PdfFontMetricsFreetype>(&library, data.data(), static_cast<unsigned int>(data.size()), false)) {}
};

// A ToUnicode CMap of bfchar entries (at most 100 per section), in glyph order.
std::string to_unicode_cmap(const std::map<std::uint16_t, char32_t>& unicode) {
  std::string s =
      "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
      "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
      "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
      "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n";
  auto it = unicode.begin();
  while (it != unicode.end()) {
    std::string section;
    int n = 0;
    for (; it != unicode.end() && n < 100; ++it, ++n) {
      char line[24];
      std::snprintf(line, sizeof line, "<%04X> <%04X>\n", static_cast<unsigned>(it->first), static_cast<unsigned>(it->second));
      section += line;
    }
    s += std::to_string(n) + " beginbfchar\n" + section + "endbfchar\n";
  }
  s += "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n";
  return s;
}

// Six capital letters from the program and its map: different subsets, different tags.
std::string subset_tag(const std::string& program, const std::string& cmap) {
  std::string hex = sha256_hex(program + '\0' + cmap);
  std::string tag;
  for (std::size_t i = 0; i < 6; ++i) tag.push_back(static_cast<char>('A' + std::stoi(hex.substr(2 * i, 2), nullptr, 16) % 26));
  return tag;
}

}  // namespace

bool Program::maps(char32_t c, std::uint16_t gid) const {
  auto it = unicode.find(gid);
  return it != unicode.end() && it->second == c;
}

const std::u32string& alphabet() {
  static const std::u32string chars = [] {
    std::u32string a;
    for (char32_t c = 0x20; c < 0x7f; ++c) a.push_back(c);
    a += U"ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝàáâãèéêìíòóôõùúý";  // Vietnamese letters of Latin-1
    a += U"ĂăĐđĨĩŨũ";                          // Latin Extended-A
    a += U"ƠơƯư";                              // Latin Extended-B
    for (char32_t c = 0x1ea0; c <= 0x1ef9; ++c) a.push_back(c);  // Latin Extended Additional (Vietnamese)
    a += U"–—×‘’“”…";
    return a;
  }();
  return chars;
}

std::string file_stamp(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return {};
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

const Glyph* Face::find(char32_t c) const {
  auto it = glyphs_.find(c);
  return it == glyphs_.end() ? nullptr : &it->second;
}

// The subset program for `chars` (earlier characters win when two share a glyph).
Result<std::shared_ptr<const Program>> Face::build(const std::u32string& chars) const {
  std::map<std::uint16_t, char32_t> unicode;
  std::set<pdf_utf16be> codes;
  for (char32_t c : chars) {
    const Glyph* g = find(c);
    if (!g || !unicode.emplace(g->gid, c).second) continue;
    codes.insert(static_cast<pdf_utf16be>(c));  // BMP only: find() knows no other
  }
  auto p = std::make_shared<Program>();
  std::string program;
  try {
    Metrics m(data_);
    PdfInputDevice input(data_.data(), data_.size());
    PdfFontTTFSubset subset(&input, m.m.get(), PdfFontTTFSubset::eFontFileType_TTF);
    PdfRefCountedBuffer buffer;
    std::vector<unsigned char> cid_set;  // not written: see Document::embed_fonts
    subset.BuildFont(buffer, codes, cid_set);
    program.assign(buffer.GetBuffer(), static_cast<std::size_t>(buffer.GetSize()));
  } catch (const PdfError& e) {
    return make_error(Errc::io, "subsetting " + font_name + " failed: " + PdfError::ErrorName(e.GetError()));
  }
  std::string cmap = to_unicode_cmap(unicode);
  p->base_font = subset_tag(program, cmap) + "+" + font_name;
  p->length1 = program.size();
  p->font_file = flate::compress(program);
  p->to_unicode = flate::compress(cmap);
  for (const auto& [gid, c] : unicode) {
    p->widths.emplace_back(gid, find(c)->width);
    p->unicode.emplace(gid, c);
  }
  return std::shared_ptr<const Program>(std::move(p));
}

Result<std::shared_ptr<const Program>> Face::program_for(const std::set<char32_t>& drawn) const {
  std::u32string extra;
  for (char32_t c : drawn)
    if (const Glyph* g = find(c); g && !base_->maps(c, g->gid)) extra.push_back(c);
  if (extra.empty()) return base_;
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = extended_.find(extra); it != extended_.end()) return it->second;
  auto p = build(extra + alphabet());
  if (!p) return p.error();
  if (extended_.size() >= kMaxExtended) extended_.clear();
  extended_.emplace(extra, *p);
  return *p;
}

Result<std::shared_ptr<const Face>> load(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const Face>> faces;
  std::string stamp = file_stamp(path);
  if (stamp.empty()) return make_error(Errc::not_found, "font file " + path + " not found");
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = faces.find(path); it != faces.end() && it->second->stamp_ == stamp) return it->second;

  auto data = read_file(path, kMaxFontFile);
  if (!data) return data.error();
  auto face = std::make_shared<Face>();
  face->stamp_ = stamp;
  face->data_.assign(data->begin(), data->end());
  try {
    Metrics m(face->data_);
    for (char32_t c = 0; c < 0x10000; ++c) {
      if (c >= 0xd800 && c < 0xe000) continue;
      long gid = m.m->GetGlyphId(static_cast<long>(c));
      if (gid <= 0 || gid > 0xffff) continue;
      auto width = static_cast<std::uint16_t>(std::floor(m.m->GetGlyphWidth(static_cast<int>(gid)) + 0.5));
      face->glyphs_.emplace(c, Glyph{static_cast<std::uint16_t>(gid), width});
    }
    face->font_name = m.m->GetFontname() ? m.m->GetFontname() : "";
    PdfArray box;
    m.m->GetBoundingBox(box);
    for (std::size_t i = 0; i < 4 && i < box.size(); ++i)
      face->bbox[i] = box[i].IsReal() ? box[i].GetReal() : static_cast<double>(box[i].GetNumber());
    face->ascent = m.m->GetPdfAscent();
    face->descent = m.m->GetPdfDescent();
    face->italic_angle = m.m->GetItalicAngle();
  } catch (const PdfError& e) {
    return make_error(Errc::io, "font file " + path + " cannot be loaded: " + PdfError::ErrorName(e.GetError()));
  }
  if (face->glyphs_.empty() || face->font_name.empty())
    return make_error(Errc::io, "font file " + path + " has no Unicode character map or no name");
  auto base = face->build(alphabet());
  if (!base) return base.error();
  face->base_ = std::move(*base);
  if (faces.size() >= kMaxFaces) faces.clear();
  faces[path] = face;
  return std::shared_ptr<const Face>(face);
}

}  // namespace hocba::pdf::fonts
