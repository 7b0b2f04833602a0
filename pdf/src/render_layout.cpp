// The layout engine of render_record: see render_layout.h.
#include "render_layout.h"

#include <podofo/podofo.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "flate.h"
#include "render_fonts.h"

namespace hocba::pdf::layout {

using namespace PoDoFo;

namespace {

// Liberation Serif's vertical metrics (hhea ascender 0.891 em, descender 0.216 em): a line box of
// height L holds the glyphs centred, so the baseline sits this far below the box's top.
double baseline_offset(double size, double leading_pts) {
  constexpr double kAscent = 0.891, kDescent = 0.216;
  return (leading_pts - (kAscent + kDescent) * size) / 2 + kAscent * size;
}

bool is_space(char32_t c) { return c == U' '; }

// Control characters, tabs and no-break spaces become plain spaces; "\r\n" / "\r" become "\n".
std::u32string clean(std::u32string_view in) {
  std::u32string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char32_t c = in[i];
    if (c == U'\r') {
      if (i + 1 < in.size() && in[i + 1] == U'\n') continue;
      c = U'\n';
    }
    if (c == U'\n') {
      out.push_back(c);
    } else if (c < 0x20 || c == 0x7f || c == 0xa0 || c == 0x2028 || c == 0x2029 || (c >= 0x80 && c < 0xa0)) {
      out.push_back(U' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string num(double v) {
  if (std::fabs(v) < 0.005) return "0";
  char b[32];
  auto end = std::to_chars(b, b + sizeof b, v, std::chars_format::fixed, 2).ptr;  // as printf's "%.2f"
  std::string s(b, end);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::u32string utf8_to_u32(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) {
      out.push_back(0xfffd);
      ++i;
      continue;
    }
    char32_t cp = n == 1 ? c : c & (0x7f >> n);
    bool ok = true;
    for (std::size_t j = 1; j < n; ++j) {
      auto cc = static_cast<unsigned char>(s[i + j]);
      if ((cc & 0xc0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (!ok) {
      out.push_back(0xfffd);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += n;
  }
  return out;
}

std::string u32_to_utf8(std::u32string_view s) {
  std::string out;
  for (char32_t c : s) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xc0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xe0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    } else {
      out.push_back(static_cast<char>(0xf0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    }
  }
  return out;
}

// ---- Fonts -----------------------------------------------------------------------------------

Fonts::Fonts(std::array<const fonts::Face*, 3> faces, std::array<PdfObject*, 3> objects) : faces_(faces), objects_(objects) {}

Fonts::Glyph Fonts::glyph(Face f, char32_t c) const {
  const fonts::Face& face = *faces_[static_cast<int>(f)];
  // A character the font lacks is drawn as U+FFFD (or '?'), and extracted as that: never silently lost.
  for (char32_t drawn : {c, char32_t(0xfffd), char32_t(U'?')})
    if (const fonts::Glyph* g = face.find(drawn)) return {g->gid, static_cast<double>(g->width), drawn};
  return {0, 0, c};
}

double Fonts::char_width(Face f, char32_t c) const { return glyph(f, c).width; }

double Fonts::width(Face f, std::u32string_view text, double size) const {
  double w = 0;
  for (char32_t c : text) w += glyph(f, c).width;
  return w * size / 1000.0;
}

std::string Fonts::encode_hex(Face f, std::u32string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 4);
  auto& drawn = drawn_[static_cast<int>(f)];
  for (char32_t c : text) {
    Glyph g = glyph(f, c);
    drawn.insert(g.drawn);
    out.push_back(kHex[(g.gid >> 12) & 15]);
    out.push_back(kHex[(g.gid >> 8) & 15]);
    out.push_back(kHex[(g.gid >> 4) & 15]);
    out.push_back(kHex[g.gid & 15]);
  }
  return out;
}

// ---- Wrapping --------------------------------------------------------------------------------

std::vector<Line> wrap(const Fonts& fonts, const Runs& runs, double size, double max_width) {
  // Tokens: words (pieces of non-space text, possibly across runs), single spaces, breaks.
  struct Piece {
    std::u32string text;
    Face face;
  };
  struct Token {
    enum Kind { word, space, brk } kind;
    std::vector<Piece> pieces;  // word: its pieces; space: one piece " "
    double width = 0;
  };
  std::vector<Token> toks;
  bool in_word = false;
  for (const Run& r : runs) {
    std::u32string t = clean(utf8_to_u32(r.text));
    for (char32_t c : t) {
      if (c == U'\n') {
        toks.push_back({Token::brk, {}, 0});
        in_word = false;
      } else if (is_space(c)) {
        if (!toks.empty() && toks.back().kind == Token::space) continue;  // collapse runs of spaces
        toks.push_back({Token::space, {{U" ", r.face}}, fonts.width(r.face, U" ", size)});
        in_word = false;
      } else {
        if (!in_word) {
          toks.push_back({Token::word, {}, 0});
          in_word = true;
        }
        Token& w = toks.back();
        if (w.pieces.empty() || w.pieces.back().face != r.face) w.pieces.push_back({U"", r.face});
        w.pieces.back().text.push_back(c);
        w.width += fonts.char_width(r.face, c) * size / 1000.0;
      }
    }
    // A word continues into the next run only if that run starts without a space: keep in_word.
  }

  std::vector<Line> lines;
  Line cur;
  const Token* pending_space = nullptr;
  auto append = [&](Face face, const std::u32string& text, double w) {
    if (!cur.segs.empty() && cur.segs.back().face == face) {
      cur.segs.back().text += text;
    } else {
      cur.segs.push_back({text, face, cur.width});
    }
    cur.width += w;
  };
  auto flush = [&]() {
    lines.push_back(std::move(cur));
    cur = Line{};
    pending_space = nullptr;
  };
  for (const Token& t : toks) {
    if (t.kind == Token::brk) {
      flush();
      continue;
    }
    if (t.kind == Token::space) {
      if (!cur.segs.empty()) pending_space = &t;
      continue;
    }
    double space_w = pending_space ? pending_space->width : 0;
    if (!cur.segs.empty() && cur.width + space_w + t.width > max_width) flush();
    if (!cur.segs.empty() && pending_space) append(pending_space->pieces[0].face, U" ", pending_space->width);
    pending_space = nullptr;
    if (cur.width + t.width <= max_width || max_width <= 0) {
      for (const Piece& p : t.pieces) append(p.face, p.text, fonts.width(p.face, p.text, size));
      continue;
    }
    // A word longer than a whole line: break it between characters.
    for (const Piece& p : t.pieces) {
      for (char32_t c : p.text) {
        double cw = fonts.char_width(p.face, c) * size / 1000.0;
        if (!cur.segs.empty() && cur.width + cw > max_width) flush();
        append(p.face, std::u32string(1, c), cw);
      }
    }
  }
  if (!cur.segs.empty() || lines.empty()) lines.push_back(std::move(cur));
  return lines;
}

// ---- Flow ------------------------------------------------------------------------------------

Flow::Flow(PdfMemDocument& doc, Fonts& fonts, Geometry g) : doc_(doc), fonts_(fonts), g_(g) { new_page(); }

void Flow::new_page() {
  PdfPage* p = doc_.CreatePage(PdfRect(0, 0, g_.page_w, g_.page_h));
  pages_.push_back({p->GetObject(), "0 0 0 rg 0 0 0 RG\n"});
  y_ = g_.page_h - g_.top;
}

void Flow::ensure(double h) {
  if (remaining() < h - 0.01) new_page();
}

void Flow::space(double h) { y_ -= std::min(h, std::max(0.0, remaining())); }

void Flow::text(double x, double baseline, Face f, double size, std::u32string_view s) {
  if (s.empty()) return;
  out() += "BT /F" + std::to_string(static_cast<int>(f) + 1) + " " + num(size) + " Tf " + num(x) + " " + num(baseline) +
           " Td <" + fonts_.encode_hex(f, s) + "> Tj ET\n";
}

void Flow::draw_line(const Line& l, double x, double baseline, double size) {
  for (const Segment& s : l.segs) text(x + s.x, baseline, s.face, size, s.text);
}

void Flow::hline(double x0, double x1, double y, double width) {
  out() += num(width) + " w " + num(x0) + " " + num(y) + " m " + num(x1) + " " + num(y) + " l S\n";
}

void Flow::vline(double x, double y0, double y1, double width) {
  out() += num(width) + " w " + num(x) + " " + num(y0) + " m " + num(x) + " " + num(y1) + " l S\n";
}

void Flow::fill_rect(double x, double y, double w, double h, double gray) {
  out() += num(gray) + " " + num(gray) + " " + num(gray) + " rg " + num(x) + " " + num(y) + " " + num(w) + " " + num(h) +
           " re f 0 0 0 rg\n";
}

namespace {
double aligned_x(Align a, double x, double avail, double w) {
  switch (a) {
    case Align::center: return x + (avail - w) / 2;
    case Align::right: return x + avail - w;
    default: return x;
  }
}
}  // namespace

void Flow::paragraph(const Runs& runs, double size, Align align, double indent, double leading) {
  double L = size * leading;
  double avail = content_width() - indent;
  for (const Line& l : wrap(fonts_, runs, size, avail)) {
    ensure(L);
    draw_line(l, aligned_x(align, left() + indent, avail, l.width), y_ - baseline_offset(size, L), size);
    y_ -= L;
  }
}

void Flow::columns(const std::vector<Column>& cols, double size, double leading) {
  double L = size * leading;
  std::vector<std::vector<Line>> laid;
  std::vector<double> widths;
  double used = 0;
  std::size_t max_lines = 0;
  for (const Column& c : cols) {
    double w = c.width > 0 ? c.width : content_width() - used;
    widths.push_back(w);
    used += w;
    laid.push_back(wrap(fonts_, c.runs, size, w - 4));
    max_lines = std::max(max_lines, laid.back().size());
  }
  ensure(L * static_cast<double>(max_lines));
  double x = left();
  for (std::size_t i = 0; i < cols.size(); ++i) {
    double yy = y_;
    for (const Line& l : laid[i]) {
      draw_line(l, aligned_x(cols[i].align, x, widths[i] - 4, l.width), yy - baseline_offset(size, L), size);
      yy -= L;
    }
    x += widths[i];
  }
  y_ -= L * static_cast<double>(max_lines);
}

double Flow::header_height(const Table& t, std::vector<double>& row_h) const {
  double L = t.size * 1.2;
  row_h.assign(static_cast<std::size_t>(t.header_rows), L + 2 * t.pad);
  auto span_w = [&](int c0, int c1) {
    double w = 0;
    for (int c = c0; c < c1; ++c) w += t.widths[static_cast<std::size_t>(c)];
    return w;
  };
  auto need = [&](const HeaderCell& h) {
    auto lines = wrap(fonts_, {{h.text, Face::bold}}, t.size, span_w(h.col0, h.col1) - 2 * t.pad);
    return static_cast<double>(lines.size()) * L + 2 * t.pad;
  };
  for (const HeaderCell& h : t.header)
    if (h.row1 == h.row0 + 1) row_h[static_cast<std::size_t>(h.row0)] = std::max(row_h[static_cast<std::size_t>(h.row0)], need(h));
  for (const HeaderCell& h : t.header) {
    if (h.row1 == h.row0 + 1) continue;
    double have = 0;
    for (int r = h.row0; r < h.row1; ++r) have += row_h[static_cast<std::size_t>(r)];
    if (double n = need(h); n > have) row_h[static_cast<std::size_t>(h.row1 - 1)] += n - have;
  }
  double total = 0;
  for (double h : row_h) total += h;
  return total;
}

void Flow::draw_header(const Table& t, const std::vector<double>& row_h, double x0) {
  double L = t.size * 1.2;
  std::vector<double> xs{x0};
  for (double w : t.widths) xs.push_back(xs.back() + w);
  std::vector<double> ys{y_};
  for (double h : row_h) ys.push_back(ys.back() - h);
  for (const HeaderCell& h : t.header) {
    double cx0 = xs[static_cast<std::size_t>(h.col0)], cx1 = xs[static_cast<std::size_t>(h.col1)];
    double top = ys[static_cast<std::size_t>(h.row0)], bot = ys[static_cast<std::size_t>(h.row1)];
    fill_rect(cx0, bot, cx1 - cx0, top - bot, 0.9);
    auto lines = wrap(fonts_, {{h.text, Face::bold}}, t.size, cx1 - cx0 - 2 * t.pad);
    double block = static_cast<double>(lines.size()) * L;
    double yy = top - (top - bot - block) / 2;
    for (const Line& l : lines) {
      draw_line(l, aligned_x(Align::center, cx0 + t.pad, cx1 - cx0 - 2 * t.pad, l.width), yy - baseline_offset(t.size, L), t.size);
      yy -= L;
    }
    out() += "0.5 w " + num(cx0) + " " + num(bot) + " " + num(cx1 - cx0) + " " + num(top - bot) + " re S\n";
  }
  y_ = ys.back();
}

double Flow::table_height(const Table& t) const {
  double L = t.size * 1.2;
  std::vector<double> header_rows;
  double total = t.header_rows > 0 ? header_height(t, header_rows) : 0;
  for (const auto& row : t.rows) {
    std::size_t lines = 1;
    std::size_t col = 0;
    for (const Cell& c : row) {
      std::size_t span = static_cast<std::size_t>(std::max(1, c.span));
      double w = 0;
      for (std::size_t k = col; k < col + span && k < t.widths.size(); ++k) w += t.widths[k];
      lines = std::max(lines, wrap(fonts_, c.runs, t.size, w - 2 * t.pad).size());
      col += span;
    }
    total += static_cast<double>(lines) * L + 2 * t.pad;
  }
  return total;
}

void Flow::table(const Table& t) {
  double L = t.size * 1.2;
  double x0 = left() + t.indent;
  std::vector<double> xs{x0};
  for (double w : t.widths) xs.push_back(xs.back() + w);
  std::vector<double> header_rows;
  double header_h = t.header_rows > 0 ? header_height(t, header_rows) : 0;
  int header_page = -1;

  if (t.keep_together) {
    double total = table_height(t);
    if (total > remaining() && total <= full_height()) new_page();
  }

  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    const auto& row = t.rows[r];
    const bool last = r + 1 == t.rows.size();
    // Lay out every cell of the row.
    struct Laid {
      std::vector<Line> lines;
      double x0, x1;
      const Cell* cell;
    };
    std::vector<Laid> cells;
    int col = 0;
    for (const Cell& c : row) {
      int span = std::max(1, c.span);
      double cx0 = xs[static_cast<std::size_t>(col)], cx1 = xs[static_cast<std::size_t>(std::min<int>(col + span, static_cast<int>(t.widths.size())))];
      cells.push_back({wrap(fonts_, c.runs, t.size, cx1 - cx0 - 2 * t.pad), cx0, cx1, &c});
      col += span;
    }
    std::vector<std::size_t> pos(cells.size(), 0);
    bool started = false;
    for (;;) {
      std::size_t left_lines = 1;
      for (std::size_t i = 0; i < cells.size(); ++i) left_lines = std::max(left_lines, cells[i].lines.size() - pos[i]);
      double h = static_cast<double>(left_lines) * L + 2 * t.pad;
      if (header_page != page_index()) {
        if (remaining() < header_h + std::min(h, L + 2 * t.pad)) new_page();
        if (t.header_rows > 0) draw_header(t, header_rows, x0);
        header_page = page_index();
      }
      if (last && !started && t.keep_with_next > 0 && h + t.keep_with_next > remaining() + 0.01 &&
          h + t.keep_with_next <= full_height() - header_h &&
          y_ < g_.page_h - g_.top - header_h - 0.01) {  // not already at the top of a page
        new_page();  // the last row goes with what follows
        continue;
      }
      std::size_t n = left_lines;  // lines to draw in this chunk
      if (h > remaining() + 0.01) {
        if (!started && h <= full_height() - header_h) {  // the whole row fits on a fresh page
          new_page();
          continue;
        }
        n = static_cast<std::size_t>(std::floor((remaining() - 2 * t.pad) / L));
        if (n < 1) {
          new_page();
          continue;
        }
        h = static_cast<double>(n) * L + 2 * t.pad;
      }
      bool whole = !started && n == left_lines;
      double top = y_, bot = y_ - h;
      for (std::size_t i = 0; i < cells.size(); ++i) {
        const Laid& c = cells[i];
        if (c.cell->shade) fill_rect(c.x0, bot, c.x1 - c.x0, h, 0.95);
        std::size_t end = std::min(c.lines.size(), pos[i] + n);
        double block = static_cast<double>(end - pos[i]) * L;
        double yy = whole ? top - (h - block) / 2 : top - t.pad;
        for (std::size_t k = pos[i]; k < end; ++k) {
          const Line& l = c.lines[k];
          draw_line(l, aligned_x(c.cell->align, c.x0 + t.pad, c.x1 - c.x0 - 2 * t.pad, l.width), yy - baseline_offset(t.size, L), t.size);
          yy -= L;
        }
        pos[i] = end;
        vline(c.x0, bot, top);
      }
      vline(xs.back(), bot, top);
      hline(xs.front(), xs.back(), top);
      hline(xs.front(), xs.back(), bot);
      y_ = bot;
      started = true;
      bool done = true;
      for (std::size_t i = 0; i < cells.size(); ++i)
        if (pos[i] < cells[i].lines.size()) done = false;
      if (done) break;
      new_page();
    }
  }
}

void Flow::finish(const std::string& footer_left) {
  int n = page_count();
  std::u32string left_text = utf8_to_u32(footer_left);
  for (int i = 0; i < n; ++i) {
    PageData& p = pages_[static_cast<std::size_t>(i)];
    double base = g_.bottom / 2 - 2;
    std::u32string right_text = utf8_to_u32("Trang " + std::to_string(i + 1) + "/" + std::to_string(n));
    double rw = fonts_.width(Face::italic, right_text, 8);
    // A very long name would run into the page number: the left text then gets smaller.
    double lw = fonts_.width(Face::italic, left_text, 8), room = content_width() - rw - 12;
    double ls = lw > room && lw > 0 ? 8 * room / lw : 8;
    std::string& c = p.content;
    c += "0.3 w " + num(left()) + " " + num(base + 10) + " m " + num(right()) + " " + num(base + 10) + " l S\n";
    c += "BT /F3 " + num(ls) + " Tf " + num(left()) + " " + num(base) + " Td <" + fonts_.encode_hex(Face::italic, left_text) + "> Tj ET\n";
    c += "BT /F3 8 Tf " + num(right() - rw) + " " + num(base) + " Td <" + fonts_.encode_hex(Face::italic, right_text) + "> Tj ET\n";

    PdfDictionary& pd = p.page->GetDictionary();
    PdfObject* contents = nullptr;
    if (PdfObject* ref = pd.GetKey(PdfName("Contents")); ref && ref->IsReference())
      contents = doc_.GetObjects().GetObject(ref->GetReference());
    if (!contents) {
      contents = doc_.GetObjects().CreateObject();
      pd.AddKey(PdfName("Contents"), contents->Reference());
    }
    flate::set_stream(*contents, c);
    PdfDictionary fonts;
    for (int f = 0; f < 3; ++f)
      fonts.AddKey(PdfName("F" + std::to_string(f + 1)), fonts_.object(static_cast<Face>(f))->Reference());
    PdfDictionary resources;
    resources.AddKey(PdfName("Font"), fonts);
    pd.AddKey(PdfName("Resources"), resources);
  }
}

}  // namespace hocba::pdf::layout
