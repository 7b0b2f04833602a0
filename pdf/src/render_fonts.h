// The embedded serif faces, prepared once per process (private to hocba_pdf).
//
// Subsetting a TrueType font for every document costs far more than laying the document out (reading
// the 400 kB file, building the subset, compressing it). So each face is loaded once: its character map
// and advance widths become an immutable table, and one subset program is built for a fixed alphabet
// (printable ASCII, the whole Vietnamese alphabet, a little typography) and compressed once.
// Every document whose characters the alphabet holds embeds exactly those bytes; a document that draws
// a character outside it (a Greek letter in a comment) gets a program built for the alphabet plus its
// own characters, kept in a small bounded cache. Faces are shared between threads: everything in them
// is immutable but that cache, which has its own lock. A font file that changes on disk (size, time,
// inode) is loaded again.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hocba/common/error.h"

namespace hocba::pdf::fonts {

struct Glyph {
  std::uint16_t gid = 0;
  std::uint16_t width = 0;  // 1/1000 em, rounded as written into /W
};

// A subset font program ready to be copied into any document.
struct Program {
  std::string base_font;   // "ABCDEF+LiberationSerif-Bold": the tag is derived from the program's bytes
  std::string font_file;   // the TrueType subset (glyph ids kept), Flate-compressed
  std::size_t length1 = 0; // its uncompressed length
  std::string to_unicode;  // the ToUnicode CMap, Flate-compressed
  std::vector<std::pair<std::uint16_t, std::uint16_t>> widths;  // (glyph id, width) of every mapped glyph, by id
  std::unordered_map<std::uint16_t, char32_t> unicode;          // glyph id -> the character it extracts as
  // Whether drawing c (a character of the face) extracts as c from this program.
  bool maps(char32_t c, std::uint16_t gid) const;
};

class Face {
 public:
  // The glyph of c, or nullptr when the font does not have it.
  const Glyph* find(char32_t c) const;
  // The program holding the fixed alphabet (alphabet()).
  const Program& base() const { return *base_; }
  // The program to embed for the characters drawn with this face: base() when it maps them all,
  // otherwise one built for them and the alphabet (cached). Errors only if PoDoFo cannot subset.
  Result<std::shared_ptr<const Program>> program_for(const std::set<char32_t>& drawn) const;

  // The FontDescriptor's values, as PoDoFo computes them from the font.
  std::string font_name;  // PostScript name: "LiberationSerif-Bold"
  double bbox[4] = {0, 0, 0, 0};
  double ascent = 0, descent = 0;
  int italic_angle = 0;

 private:
  friend Result<std::shared_ptr<const Face>> load(const std::string& path);
  Result<std::shared_ptr<const Program>> build(const std::u32string& chars) const;

  std::string stamp_;                             // what the file was when loaded
  std::string data_;                              // the font file
  std::unordered_map<char32_t, Glyph> glyphs_;    // every BMP character the font maps
  std::shared_ptr<const Program> base_;
  mutable std::mutex mu_;
  mutable std::map<std::u32string, std::shared_ptr<const Program>> extended_;  // by the characters added
};

// Every character of the base programs, in order of preference when two share a glyph: printable
// ASCII, the Vietnamese letters (Latin-1, Latin Extended-A, -B and Additional) in both cases with every
// tone, and a little typography ('–', '—', '×', quotes, ellipsis). The AcroForm's appearance font
// (kAppearanceFontName, the regular face) holds at least these, so that a signature appearance added
// later can write any Vietnamese name and an ISO 8601 time.
const std::u32string& alphabet();

// The face in the font file at `path`: loaded on first use and whenever the file changed since.
// Errc::not_found when the file does not exist, Errc::io when it is not a usable TrueType font.
Result<std::shared_ptr<const Face>> load(const std::string& path);

// A file's identity for caches: device, inode, size and modification time; empty when it does not exist.
std::string file_stamp(const std::string& path);

}  // namespace hocba::pdf::fonts
