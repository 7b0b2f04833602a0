// The small layout engine behind render_record (private to hocba_pdf).
//
//   Fonts  — the three embedded Liberation Serif faces (Identity-H, subset): measures text with the
//            font's own advance widths and encodes it as glyph ids, remembering every character drawn
//            so that the document embeds a font program that holds them (render_fonts.h).
//   Flow   — a cursor running down A4 pages: rich paragraphs that wrap by measured width, rows of
//            label/value columns, tables with wrapped cells, spanning header cells that repeat on every
//            page the table spans, rows split across pages when one is taller than what is left. It
//            never clips: whatever does not fit goes onto a new page. Footers ("Trang i/n") are drawn
//            once the page count is known (finish()).
//
// Coordinates are PDF points, origin bottom-left; `y` is the top of the next block.
#pragma once
#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace PoDoFo {
class PdfMemDocument;
class PdfObject;
}  // namespace PoDoFo

namespace hocba::pdf::fonts {
class Face;
}  // namespace hocba::pdf::fonts

namespace hocba::pdf::layout {

enum class Face { regular = 0, bold = 1, italic = 2 };
enum class Align { left, center, right };

std::u32string utf8_to_u32(std::string_view s);  // invalid sequences become U+FFFD
std::string u32_to_utf8(std::u32string_view s);

class Fonts {
 public:
  // The faces (shared, immutable; see render_fonts.h) and the document's Type0 font dictionaries that
  // the pages name /F1, /F2, /F3 (filled by Document::embed_fonts).
  Fonts(std::array<const fonts::Face*, 3> faces, std::array<PoDoFo::PdfObject*, 3> objects);
  double width(Face f, std::u32string_view text, double size) const;  // in points
  double char_width(Face f, char32_t c) const;                          // in 1/1000 em
  // Glyph ids as hex for a Tj operand; remembers the characters for the embedded program.
  std::string encode_hex(Face f, std::u32string_view text);
  // The characters drawn with a face (a replacement for those it lacks).
  const std::set<char32_t>& drawn(Face f) const { return drawn_[static_cast<int>(f)]; }
  PoDoFo::PdfObject* object(Face f) const { return objects_[static_cast<int>(f)]; }

 private:
  struct Glyph {
    std::uint16_t gid = 0;
    double width = 0;    // 1/1000 em, rounded as written into /W
    char32_t drawn = 0;  // the character actually drawn (a replacement when the font lacks it)
  };
  Glyph glyph(Face f, char32_t c) const;
  std::array<const fonts::Face*, 3> faces_;
  std::array<PoDoFo::PdfObject*, 3> objects_;
  std::array<std::set<char32_t>, 3> drawn_;
};

// A run of text in one face.
struct Run {
  std::string text;  // UTF-8
  Face face = Face::regular;
};
using Runs = std::vector<Run>;

// One laid-out line: segments placed at x offsets from the line's start.
struct Segment {
  std::u32string text;
  Face face = Face::regular;
  double x = 0;
};
struct Line {
  std::vector<Segment> segs;
  double width = 0;
};

// Greedy word wrap of runs into lines no wider than `max_width`; "\n" forces a break; a word wider than
// a whole line is broken between characters. Spaces at the ends of lines are dropped.
std::vector<Line> wrap(const Fonts& fonts, const Runs& runs, double size, double max_width);

struct Geometry {
  double page_w = 595.276, page_h = 841.89;  // A4
  double left = 56.69, right = 42.52, top = 42.52, bottom = 56.69;  // 20 / 15 / 15 / 20 mm
};

struct Column {
  double width = 0;  // 0: the rest of the line
  Runs runs;
  Align align = Align::left;
};

// A header cell covering grid columns [col0, col1) and header rows [row0, row1).
struct HeaderCell {
  int col0 = 0, col1 = 1, row0 = 0, row1 = 1;
  std::string text;
};

struct Cell {
  Runs runs;
  Align align = Align::left;
  int span = 1;        // columns covered
  bool shade = false;  // light grey background (group rows)
};

struct Table {
  std::vector<double> widths;  // column widths in points (sum = the table's width)
  std::vector<HeaderCell> header;
  int header_rows = 0;
  std::vector<std::vector<Cell>> rows;
  double size = 10;    // font size
  double pad = 3;      // cell padding
  double indent = 0;   // from the left margin
  bool keep_together = false;  // small tables: start on a new page rather than split
  // Points of what follows the table that must stay on the page of its last row (the last row moves to
  // a new page, under the repeated header, when they do not fit together).
  double keep_with_next = 0;
};

// What the signature block needs to know about a box once placed.
struct Box {
  int page = 0;  // 0-based
  double x = 0, y = 0, w = 0, h = 0;  // bottom-left corner and size
};

class Flow {
 public:
  Flow(PoDoFo::PdfMemDocument& doc, Fonts& fonts, Geometry g = {});

  double left() const { return g_.left; }
  double right() const { return g_.page_w - g_.right; }
  double content_width() const { return right() - left(); }
  double y() const { return y_; }
  double remaining() const { return y_ - g_.bottom; }
  double full_height() const { return g_.page_h - g_.top - g_.bottom; }
  int page_index() const { return static_cast<int>(pages_.size()) - 1; }
  int page_count() const { return static_cast<int>(pages_.size()); }
  // The page's object (PoDoFo's PdfPage wrappers do not outlive later page insertions).
  PoDoFo::PdfObject* page(int i) const { return pages_[static_cast<std::size_t>(i)].page; }
  Fonts& fonts() { return fonts_; }

  void new_page();
  void ensure(double h);  // starts a new page unless h points remain
  void space(double h);   // a vertical gap; at most what remains on the page
  void move_to(double y) { y_ = y; }

  // Drawing primitives on the current page.
  void text(double x, double baseline, Face f, double size, std::u32string_view s);
  void draw_line(const Line& l, double x, double baseline, double size);
  void hline(double x0, double x1, double y, double width = 0.5);
  void vline(double x, double y0, double y1, double width = 0.5);
  void fill_rect(double x, double y, double w, double h, double gray);

  // Blocks. Each wraps, and breaks pages between lines when needed.
  void paragraph(const Runs& runs, double size, Align align = Align::left, double indent = 0, double leading = 1.25);
  // Columns side by side (e.g. "Họ và tên: …   Giới tính: …"); kept on one page.
  void columns(const std::vector<Column>& cols, double size, double leading = 1.3);
  void table(const Table& t);
  double table_height(const Table& t) const;  // header and every row, unsplit

  // Writes every page's content stream and footer (left text, "Trang i/n" right).
  void finish(const std::string& footer_left);

 private:
  struct PageData {
    PoDoFo::PdfObject* page = nullptr;
    std::string content;
  };
  std::string& out() { return pages_.back().content; }
  double header_height(const Table& t, std::vector<double>& row_h) const;
  void draw_header(const Table& t, const std::vector<double>& row_h, double x0);

  PoDoFo::PdfMemDocument& doc_;
  Fonts& fonts_;
  Geometry g_;
  std::vector<PageData> pages_;
  double y_ = 0;
};

std::string num(double v);  // a PDF number: at most 2 decimals, no trailing zeros

}  // namespace hocba::pdf::layout
