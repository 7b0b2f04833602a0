// Append-only incremental updates for signatures.
//
// PoDoFo 0.9.8 is used only to *read* the document (objects of the latest revision, the trailer). The
// update itself is written here, byte by byte: the new and changed objects, then a cross-reference
// section of the same kind as the file's last one (a classic table or a cross-reference stream), then a
// trailer whose /Prev points at the previous section. The original bytes are never touched, so earlier
// signatures stay valid whatever the producer of the file did (PoDoFo's own update writer rewrites
// unchanged objects on some documents: podofo issue #4).
#include "hocba/pdf/signing.h"

#include <podofo/podofo.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "hocba/common/bytes.h"
#include "flate.h"
#include "hocba/pdf/image.h"
#include "incremental.h"

namespace hocba::pdf {

namespace {

using namespace PoDoFo;
using namespace detail;

constexpr int kMaxDepth = 32;
constexpr std::size_t kByteRangeWidth = 48;  // characters between '[' and ']' of the /ByteRange
constexpr const char* kAppearanceFont = "HocbaSerif";  // render.h: kAppearanceFontName

std::string text_of(const PdfObject* o) {
  if (!o) return {};
  if (o->IsString() || o->IsHexString()) return o->GetString().GetStringUtf8();
  if (o->IsName()) return o->GetName().GetName();
  return {};
}

// A terminal form field.
struct Field {
  std::string name;        // fully qualified
  std::string ft;          // inherited field type
  PdfObject* obj = nullptr;
  std::optional<PdfReference> ref;  // set if the field is an indirect object
};

void walk_fields(const Doc& d, PdfObject* array, const std::string& prefix, const std::string& ft_in, int depth,
                 std::set<PdfReference>& seen, std::vector<Field>& out) {
  if (!array || !array->IsArray() || depth > kMaxDepth) return;
  for (auto& item : array->GetArray()) {
    PdfObject* raw = const_cast<PdfObject*>(&item);
    std::optional<PdfReference> ref;
    if (raw->IsReference()) {
      ref = raw->GetReference();
      if (!seen.insert(*ref).second) continue;  // cycle or shared node
    }
    PdfObject* f = resolve(d, raw);
    if (!f || !f->IsDictionary()) continue;
    std::string partial = text_of(key(d, f, "T"));
    std::string name = partial.empty() ? prefix : (prefix.empty() ? partial : prefix + "." + partial);
    std::string ft = ft_in;
    if (PdfObject* t = key(d, f, "FT"); t && t->IsName()) ft = t->GetName().GetName();
    PdfObject* kids = key(d, f, "Kids");
    bool has_field_kids = false;
    if (kids && kids->IsArray())
      for (auto& k : kids->GetArray()) {
        PdfObject* kk = resolve(d, const_cast<PdfObject*>(&k));
        if (kk && kk->IsDictionary() && kk->GetDictionary().HasKey(PdfName("T"))) has_field_kids = true;
      }
    if (has_field_kids)
      walk_fields(d, kids, name, ft, depth + 1, seen, out);
    else if (!partial.empty())
      out.push_back(Field{name, ft, f, ref});
  }
}

std::vector<Field> all_fields(const Doc& d, PdfObject* acroform) {
  std::vector<Field> out;
  std::set<PdfReference> seen;
  walk_fields(d, key(d, acroform, "Fields"), "", "", 0, seen, out);
  return out;
}

// The first page object (depth-first through the page tree) and its reference.
std::optional<PdfReference> first_page(const Doc& d, PdfObject* node, int depth) {
  if (!node || depth > kMaxDepth) return std::nullopt;
  PdfObject* kids = key(d, node, "Kids");
  if (!kids || !kids->IsArray()) return std::nullopt;
  for (auto& k : kids->GetArray()) {
    if (!k.IsReference()) continue;
    PdfObject* kid = d.objs->GetObject(k.GetReference());
    if (!kid || !kid->IsDictionary()) continue;
    PdfObject* type = key(d, kid, "Type");
    if (type && type->IsName() && type->GetName() == PdfName("Page")) return k.GetReference();
    if (auto r = first_page(d, kid, depth + 1)) return r;
  }
  return std::nullopt;
}

std::string literal_string(const std::string& ascii) {
  std::string s = "(";
  for (char c : ascii) {
    if (c == '(' || c == ')' || c == '\\') s += '\\';
    s += c;
  }
  return s + ")";
}

// A PDF text string: a literal string if printable ASCII, else UTF-16BE with a byte-order mark, in hex.
std::string text_string(const std::string& utf8) {
  bool ascii = std::all_of(utf8.begin(), utf8.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
  if (ascii) return literal_string(utf8);
  std::vector<std::uint8_t> u16 = {0xfe, 0xff};
  auto put = [&](std::uint32_t u) {
    u16.push_back(static_cast<std::uint8_t>(u >> 8));
    u16.push_back(static_cast<std::uint8_t>(u));
  };
  for (std::size_t i = 0; i < utf8.size();) {
    auto c = static_cast<unsigned char>(utf8[i]);
    std::uint32_t cp = 0xfffd;
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > utf8.size()) {
      ++i;
    } else {
      cp = n == 1 ? c : c & (0x7f >> n);
      bool valid = true;
      for (std::size_t j = 1; j < n; ++j) {
        auto cc = static_cast<unsigned char>(utf8[i + j]);
        if ((cc & 0xc0) != 0x80) valid = false;
        cp = (cp << 6) | (cc & 0x3f);
      }
      if (!valid || cp > 0x10ffff) cp = 0xfffd;
      i += valid ? n : 1;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      put(0xd800 + (cp >> 10));
      put(0xdc00 + (cp & 0x3ff));
    } else {
      put(cp);
    }
  }
  return "<" + to_hex(u16, true) + ">";
}


// ---- Signature appearances -------------------------------------------------------------------

// The document's appearance font (AcroForm /DR /Font /HocbaSerif): an Identity-H Type0 font. We map
// Unicode to CIDs through its /ToUnicode CMap and take widths from its descendant's /W.
struct AppearanceFont {
  PdfReference ref;
  std::map<char32_t, std::uint16_t> cid;  // Unicode -> CID
  std::map<std::uint16_t, double> width;  // CID -> width in 1/1000 em
  double default_width = 1000;
};

std::u32string utf32(const std::string& s) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    char32_t cp = n == 1 ? c : c & (0x7f >> n);
    for (std::size_t j = 1; j < n && i + j < s.size(); ++j) cp = (cp << 6) | (static_cast<unsigned char>(s[i + j]) & 0x3f);
    out.push_back(cp);
    i += n;
  }
  return out;
}

// Reads the hex tokens of a ToUnicode CMap (bfchar and bfrange sections).
void parse_to_unicode(const std::string& cmap, AppearanceFont& f) {
  auto hex_tokens = [](std::string_view sect) {
    std::vector<std::string> toks;
    for (std::size_t i = 0; i < sect.size(); ++i) {
      if (sect[i] == '<') {
        auto e = sect.find('>', i);
        if (e == std::string_view::npos) break;
        toks.emplace_back(sect.substr(i + 1, e - i - 1));
        i = e;
      } else if (sect[i] == '[' || sect[i] == ']') {
        toks.emplace_back(1, sect[i]);
      }
    }
    return toks;
  };
  auto num = [](const std::string& h) { return static_cast<std::uint32_t>(std::stoul(h.empty() ? "0" : h, nullptr, 16)); };
  auto uni = [&](const std::string& h) -> char32_t {  // UTF-16BE hex -> code point
    std::uint32_t hi = h.size() >= 4 ? num(h.substr(0, 4)) : num(h);
    if (h.size() >= 8 && hi >= 0xd800 && hi < 0xdc00) return 0x10000 + ((hi - 0xd800) << 10) + (num(h.substr(4, 4)) - 0xdc00);
    return hi;
  };
  for (std::size_t at = cmap.find("beginbfchar"); at != std::string::npos; at = cmap.find("beginbfchar", at + 1)) {
    auto end = cmap.find("endbfchar", at);
    auto t = hex_tokens(std::string_view(cmap).substr(at, end - at));
    for (std::size_t i = 0; i + 1 < t.size(); i += 2) f.cid.emplace(uni(t[i + 1]), static_cast<std::uint16_t>(num(t[i])));
  }
  for (std::size_t at = cmap.find("beginbfrange"); at != std::string::npos; at = cmap.find("beginbfrange", at + 1)) {
    auto end = cmap.find("endbfrange", at);
    auto t = hex_tokens(std::string_view(cmap).substr(at, end - at));
    for (std::size_t i = 0; i + 2 < t.size();) {
      std::uint32_t lo = num(t[i]), hi = num(t[i + 1]);
      if (t[i + 2] == "[") {
        std::size_t j = i + 3;
        for (std::uint32_t c = lo; c <= hi && j < t.size() && t[j] != "]"; ++c, ++j) f.cid.emplace(uni(t[j]), static_cast<std::uint16_t>(c));
        while (j < t.size() && t[j] != "]") ++j;
        i = j + 1;
      } else {
        char32_t u = uni(t[i + 2]);
        for (std::uint32_t c = lo; c <= hi && hi - lo < 0x10000; ++c) f.cid.emplace(u + (c - lo), static_cast<std::uint16_t>(c));
        i += 3;
      }
    }
  }
}

Result<AppearanceFont> appearance_font(const Doc& d, PdfObject* acroform) {
  PdfObject* fonts = key(d, key(d, acroform, "DR"), "Font");
  PdfObject* entry = fonts && fonts->IsDictionary() ? fonts->GetDictionary().GetKey(PdfName(kAppearanceFont)) : nullptr;
  if (!entry || !entry->IsReference())
    return make_error(Errc::bad_pdf, std::string("the document has no embedded font /") + kAppearanceFont +
                                         " for signature appearances (render records with `hocba render`)");
  AppearanceFont f;
  f.ref = entry->GetReference();
  PdfObject* font = d.objs->GetObject(f.ref);
  PdfObject* tu = key(d, font, "ToUnicode");
  if (!tu || !tu->HasStream()) return make_error(Errc::bad_pdf, "the appearance font has no /ToUnicode map");
  char* buf = nullptr;
  pdf_long len = 0;
  tu->GetStream()->GetFilteredCopy(&buf, &len);
  std::string cmap(buf, static_cast<std::size_t>(len));
  podofo_free(buf);
  parse_to_unicode(cmap, f);
  PdfObject* desc = key(d, font, "DescendantFonts");
  PdfObject* cidfont = desc && desc->IsArray() && !desc->GetArray().empty() ? resolve(d, &desc->GetArray()[0]) : nullptr;
  if (PdfObject* dw = key(d, cidfont, "DW"); dw && dw->IsNumber()) f.default_width = static_cast<double>(dw->GetNumber());
  if (PdfObject* w = key(d, cidfont, "W"); w && w->IsArray()) {
    const PdfArray& a = w->GetArray();
    for (std::size_t i = 0; i + 1 < a.size();) {
      if (!a[i].IsNumber()) break;
      auto first = static_cast<std::uint16_t>(a[i].GetNumber());
      PdfObject* next = resolve(d, const_cast<PdfObject*>(&a[i + 1]));
      if (next && next->IsArray()) {
        std::uint16_t c = first;
        for (const auto& v : next->GetArray()) f.width[c++] = v.IsNumber() ? static_cast<double>(v.GetNumber()) : v.GetReal();
        i += 2;
      } else if (i + 2 < a.size()) {
        auto last = static_cast<std::uint16_t>(a[i + 1].GetNumber());
        double wv = a[i + 2].IsNumber() ? static_cast<double>(a[i + 2].GetNumber()) : a[i + 2].GetReal();
        for (std::uint32_t c = first; c <= last; ++c) f.width[static_cast<std::uint16_t>(c)] = wv;
        i += 3;
      } else {
        break;
      }
    }
  }
  return f;
}

std::string fmt(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", v);
  std::string s = b;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s.empty() || s == "-0" ? "0" : s;
}

// An image XObject and its soft mask from PNG bytes (image.h: any PNG becomes 8-bit RGB + 8-bit alpha):
// /DeviceRGB (the document's OutputIntent is sRGB), 8 bits, Flate at a fixed level, no /Interpolate,
// so that the same image gives the same bytes. Its physical size, when the PNG's pHYs gives one, in
// points (0 when it does not).
Result<std::uint32_t> png_image(std::span<const std::uint8_t> png, const std::function<std::uint32_t()>& alloc,
                                std::vector<NewObject>& out, double& w, double& h, double& w_pt, double& h_pt) {
  ImageLimits limits;
  limits.need_transparency = false;  // checked when uploaded; `hocba sign --image` may draw an opaque one
  auto img = decode_png(png, limits);
  if (!img) return make_error(Errc::invalid_argument, "the signature or seal image cannot be used: " + img.error().message);
  auto stream = [&](const std::string& colour_space, const std::string& data, std::optional<std::uint32_t> smask) {
    std::string z = flate::compress(data);
    std::string dict = "<<\n/Type /XObject\n/Subtype /Image\n/Width " + std::to_string(img->width) + "\n/Height " +
                       std::to_string(img->height) + "\n/ColorSpace " + colour_space + "\n/BitsPerComponent 8\n/Filter /FlateDecode\n";
    if (smask) dict += "/SMask " + std::to_string(*smask) + " 0 R\n";
    dict += "/Length " + std::to_string(z.size()) + "\n>>";
    std::uint32_t num = alloc();
    out.push_back({num, 0, dict + "\nstream\n" + z + "\nendstream"});
    return num;
  };
  std::uint32_t smask = stream("/DeviceGray", img->alpha, std::nullopt);
  w = img->width;
  h = img->height;
  constexpr double kPointsPerMetre = 72 / 0.0254;
  w_pt = img->px_per_metre_x ? w / img->px_per_metre_x * kPointsPerMetre : 0;
  h_pt = img->px_per_metre_y ? h / img->px_per_metre_y * kPointsPerMetre : 0;
  return stream("/DeviceRGB", img->rgb, smask);
}

// The form XObject drawn in a signed field of size w x h, and the objects it needs.
Result<std::uint32_t> build_appearance(const Doc& d, PdfObject* acroform, double w, double h, const Appearance& ap,
                                       const std::function<std::uint32_t()>& alloc, std::vector<NewObject>& out) {
  std::string resources = "<<";
  std::string content;
  double text_block = 0;
  double line_h = ap.font_size * 1.25;
  if (!ap.lines.empty() && !ap.image_fills_box) {
    auto font = appearance_font(d, acroform);
    if (!font) return font.error();
    resources += " /Font << /F1 " + ref_str(font->ref) + " >>";
    text_block = line_h * static_cast<double>(ap.lines.size()) + 2;
    double y = text_block - line_h + (line_h - ap.font_size) / 2 + 1;
    for (const auto& line : ap.lines) {
      std::string hex;
      double width = 0;
      for (char32_t c : utf32(line)) {
        auto it = font->cid.find(c);
        if (it == font->cid.end()) it = font->cid.find(U'?');
        if (it == font->cid.end()) continue;
        char b[8];
        std::snprintf(b, sizeof b, "%04X", it->second);
        hex += b;
        auto wi = font->width.find(it->second);
        width += (wi == font->width.end() ? font->default_width : wi->second) / 1000.0;
      }
      double size = ap.font_size;
      if (width * size > w - 2 && width > 0) size = (w - 2) / width;  // shrink a line that would not fit
      double x = (w - width * size) / 2;
      content += "BT /F1 " + fmt(size) + " Tf 0 g " + fmt(x) + " " + fmt(y) + " Td <" + hex + "> Tj ET\n";
      y -= line_h;
    }
  }
  if (!ap.image_png.empty()) {
    double iw = 0, ih = 0, iw_pt = 0, ih_pt = 0;
    auto img = png_image(ap.image_png, alloc, out, iw, ih, iw_pt, ih_pt);
    if (!img) return img.error();
    resources += " /XObject << /Im1 " + ref_str(*img) + " >>";
    double box_w = w, box_h = ap.image_fills_box ? h : h - text_block;
    if (box_h > 0 && iw > 0 && ih > 0) {
      // Fitted to the box, keeping its aspect ratio; the seal at its real size when the PNG gives one
      // and it fits in the box (a seal is stamped at its size, not stretched).
      double scale = std::min(box_w / iw, box_h / ih);
      double dw = iw * scale, dh = ih * scale;
      if (ap.image_fills_box && iw_pt > 0 && ih_pt > 0 && iw_pt <= box_w + 0.01 && ih_pt <= box_h + 0.01) dw = iw_pt, dh = ih_pt;
      double x = (w - dw) / 2, y = (ap.image_fills_box ? 0 : text_block) + (box_h - dh) / 2;
      content = "q " + fmt(dw) + " 0 0 " + fmt(dh) + " " + fmt(x) + " " + fmt(y) + " cm /Im1 Do Q\n" + content;
    }
  }
  resources += " >>";
  std::uint32_t num = alloc();
  out.push_back({num, 0,
                 "<<\n/Type /XObject\n/Subtype /Form\n/BBox [0 0 " + fmt(w) + " " + fmt(h) + "]\n/Resources " + resources +
                     "\n/Length " + std::to_string(content.size()) + "\n>>\nstream\n" + content + "\nendstream"});
  return num;
}

}  // namespace

Result<PreparedSignature> prepare_signature(std::span<const std::uint8_t> original, const SignatureRequest& req) {
  auto loaded = load(original);
  if (!loaded) return loaded.error();
  Doc& d = **loaded;
  try {
    const PdfObject* root_ref = d.trailer->GetDictionary().GetKey(PdfName("Root"));
    if (!root_ref || !root_ref->IsReference()) return make_error(Errc::bad_pdf, "the PDF's trailer has no /Root reference");
    PdfReference catalog_ref = root_ref->GetReference();
    PdfObject* catalog = d.objs->GetObject(catalog_ref);
    if (!catalog || !catalog->IsDictionary()) return make_error(Errc::bad_pdf, "the PDF's catalog is missing");

    auto prev = last_startxref(original);
    if (!prev) return make_error(Errc::bad_pdf, "the PDF has no readable startxref at its end");
    bool classic = section_is_classic(original, *prev);

    // Next free object number: past the trailer's /Size and every object PoDoFo read.
    std::uint32_t next = next_object_number(d);

    std::vector<NewObject> objects;
    auto alloc = [&]() { return next++; };

    // The AcroForm: an indirect object, a direct dictionary in the catalog, or none yet.
    PdfObject* acro_entry = catalog->GetDictionary().GetKey(PdfName("AcroForm"));
    PdfObject* acroform = resolve(d, acro_entry);
    if (acroform && !acroform->IsDictionary()) acroform = nullptr;
    std::vector<Field> fields = acroform ? all_fields(d, acroform) : std::vector<Field>{};

    if (req.certify_p == 1)
      return make_error(Errc::invalid_argument, "DocMDP P=1 would forbid every later signature and timestamp; use P=2");
    if (req.certify_p != 0 && req.certify_p != 2 && req.certify_p != 3)
      return make_error(Errc::invalid_argument, "DocMDP permission must be 2 or 3");
    if (req.certify_p != 0)
      for (const auto& f : fields)
        if (f.ft == "Sig" && f.obj->GetDictionary().HasKey(PdfName("V")))
          return make_error(Errc::invalid_argument, "only a document's first signature can certify it (field \"" + f.name + "\" is signed)");

    std::uint32_t sig_num = alloc();
    PreparedSignature out;

    // Work on copies of the dictionaries we change.
    std::optional<PdfDictionary> new_catalog, new_acroform;
    auto acro_dict = [&]() -> PdfDictionary& {
      if (!new_acroform) new_acroform = acroform ? acroform->GetDictionary() : PdfDictionary();
      return *new_acroform;
    };

    const Field* target = nullptr;
    if (!req.field_name.empty())
      for (const auto& f : fields)
        if (f.name == req.field_name) target = &f;

    std::uint32_t sigflags = acroform ? static_cast<std::uint32_t>(acroform->GetDictionary().GetKeyAsLong(PdfName("SigFlags"), 0)) : 0;
    if ((sigflags & 3u) != 3u) acro_dict().AddKey(PdfName("SigFlags"), PdfObject(static_cast<pdf_int64>(sigflags | 3u)));

    if (target) {
      // Fill the named, empty signature field.
      if (target->ft != "Sig")
        return make_error(Errc::invalid_argument, "field \"" + req.field_name + "\" is not a signature field (its type is /" + target->ft + ")");
      if (target->obj->GetDictionary().HasKey(PdfName("V")))
        return make_error(Errc::invalid_argument, "field \"" + req.field_name + "\" is already signed; choose another field or none");
      if (!target->ref)
        return make_error(Errc::bad_pdf, "field \"" + req.field_name + "\" is not an indirect object and cannot be updated");
      PdfDictionary fd = target->obj->GetDictionary();
      fd.AddKey(PdfName("V"), PdfReference(sig_num, 0));
      if (req.appearance) {
        // The widget: the field itself when merged with it, else its first widget kid.
        PdfObject* widget = target->obj;
        std::optional<PdfReference> widget_ref = target->ref;
        if (!fd.HasKey(PdfName("Rect"))) {
          PdfObject* kids = key(d, target->obj, "Kids");
          if (kids && kids->IsArray() && !kids->GetArray().empty() && kids->GetArray()[0].IsReference()) {
            widget_ref = kids->GetArray()[0].GetReference();
            widget = d.objs->GetObject(*widget_ref);
          }
        }
        PdfObject* rect = key(d, widget, "Rect");
        double r[4] = {0, 0, 0, 0};
        if (rect && rect->IsArray() && rect->GetArray().size() == 4)
          for (int i = 0; i < 4; ++i) {
            const PdfObject& v = rect->GetArray()[static_cast<std::size_t>(i)];
            r[i] = v.IsReal() ? v.GetReal() : v.IsNumber() ? static_cast<double>(v.GetNumber()) : 0;
          }
        double w = std::abs(r[2] - r[0]), h = std::abs(r[3] - r[1]);
        if (widget && widget->IsDictionary() && w > 0.5 && h > 0.5) {
          std::function<std::uint32_t()> next_num = alloc;
          auto ap = build_appearance(d, acroform, w, h, *req.appearance, next_num, objects);
          if (!ap) return ap.error();
          PdfDictionary apd;
          apd.AddKey(PdfName("N"), PdfReference(*ap, 0));
          if (widget == target->obj) {
            fd.AddKey(PdfName("AP"), apd);
          } else if (widget_ref) {
            PdfDictionary wd = widget->GetDictionary();
            wd.AddKey(PdfName("AP"), apd);
            objects.push_back({static_cast<std::uint32_t>(widget_ref->ObjectNumber()),
                               static_cast<std::uint16_t>(widget_ref->GenerationNumber()), serialize(PdfObject(wd))});
          }
        }
      }
      objects.push_back({static_cast<std::uint32_t>(target->ref->ObjectNumber()),
                         static_cast<std::uint16_t>(target->ref->GenerationNumber()), serialize(PdfObject(fd))});
      out.field_name = target->name;
    } else {
      // A new invisible signature field (a field merged with its widget) on the first page.
      std::string name = req.field_name;
      if (name.empty()) {
        std::set<std::string> taken;
        for (const auto& f : fields) taken.insert(f.name);
        for (int i = 1; name.empty() || taken.count(name); ++i) name = "Signature" + std::to_string(i);
      } else if (name.find('.') != std::string::npos) {
        return make_error(Errc::invalid_argument, "no field is named \"" + name + "\", and a new field's name cannot contain '.'");
      }
      auto page = first_page(d, key(d, catalog, "Pages"), 0);
      if (!page) return make_error(Errc::bad_pdf, "the PDF has no pages");
      std::uint32_t field_num = alloc(), ap_num = alloc();
      objects.push_back({field_num, 0,
                         "<<\n/Type /Annot\n/Subtype /Widget\n/FT /Sig\n/T " + text_string(name) + "\n/V " + ref_str(sig_num) +
                             "\n/F 132\n/Rect [0 0 0 0]\n/P " + ref_str(*page) + "\n/AP << /N " + ref_str(ap_num) + " >>\n>>"});
      objects.push_back({ap_num, 0,
                         "<<\n/Type /XObject\n/Subtype /Form\n/BBox [0 0 0 0]\n/Resources << >>\n/Length 0\n>>\nstream\n\nendstream"});
      out.field_name = name;

      // The field joins /Fields (possibly an indirect array) ...
      PdfReference field_ref(field_num, 0);
      PdfObject* fields_entry = acroform ? acroform->GetDictionary().GetKey(PdfName("Fields")) : nullptr;
      if (fields_entry && fields_entry->IsReference()) {
        PdfObject* arr = d.objs->GetObject(fields_entry->GetReference());
        if (!arr || !arr->IsArray()) return make_error(Errc::bad_pdf, "the AcroForm's /Fields is not an array");
        PdfArray a = arr->GetArray();
        a.push_back(field_ref);
        objects.push_back({static_cast<std::uint32_t>(fields_entry->GetReference().ObjectNumber()),
                           static_cast<std::uint16_t>(fields_entry->GetReference().GenerationNumber()), serialize(PdfObject(a))});
      } else {
        PdfArray a = (fields_entry && fields_entry->IsArray()) ? fields_entry->GetArray() : PdfArray();
        a.push_back(field_ref);
        acro_dict().AddKey(PdfName("Fields"), a);
      }
      // ... and the page's /Annots (possibly an indirect array).
      PdfObject* page_obj = d.objs->GetObject(*page);
      PdfObject* annots_entry = page_obj->GetDictionary().GetKey(PdfName("Annots"));
      if (annots_entry && annots_entry->IsReference()) {
        PdfObject* arr = d.objs->GetObject(annots_entry->GetReference());
        if (!arr || !arr->IsArray()) return make_error(Errc::bad_pdf, "the first page's /Annots is not an array");
        PdfArray a = arr->GetArray();
        a.push_back(field_ref);
        objects.push_back({static_cast<std::uint32_t>(annots_entry->GetReference().ObjectNumber()),
                           static_cast<std::uint16_t>(annots_entry->GetReference().GenerationNumber()), serialize(PdfObject(a))});
      } else {
        if (page_obj->HasStream()) return make_error(Errc::bad_pdf, "the first page object has a stream");
        PdfDictionary pd = page_obj->GetDictionary();
        PdfArray a = (annots_entry && annots_entry->IsArray()) ? annots_entry->GetArray() : PdfArray();
        a.push_back(field_ref);
        pd.AddKey(PdfName("Annots"), a);
        objects.push_back({static_cast<std::uint32_t>(page->ObjectNumber()), static_cast<std::uint16_t>(page->GenerationNumber()),
                           serialize(PdfObject(pd))});
      }
    }

    // The AcroForm itself, if it changed: in place if indirect, else through the catalog.
    if (new_acroform) {
      if (acro_entry && acro_entry->IsReference() && acroform) {
        objects.push_back({static_cast<std::uint32_t>(acro_entry->GetReference().ObjectNumber()),
                           static_cast<std::uint16_t>(acro_entry->GetReference().GenerationNumber()), serialize(PdfObject(*new_acroform))});
      } else {
        std::uint32_t acro_num = alloc();
        objects.push_back({acro_num, 0, serialize(PdfObject(*new_acroform))});
        new_catalog = catalog->GetDictionary();
        new_catalog->AddKey(PdfName("AcroForm"), PdfReference(acro_num, 0));
      }
    }
    if (req.certify_p != 0) {
      if (!new_catalog) new_catalog = catalog->GetDictionary();
      PdfDictionary perms;
      if (PdfObject* p = key(d, catalog, "Perms"); p && p->IsDictionary()) perms = p->GetDictionary();
      perms.AddKey(PdfName("DocMDP"), PdfReference(sig_num, 0));
      new_catalog->AddKey(PdfName("Perms"), perms);
    }
    if (new_catalog) {
      if (catalog->HasStream()) return make_error(Errc::bad_pdf, "the PDF's catalog has a stream");
      objects.push_back({static_cast<std::uint32_t>(catalog_ref.ObjectNumber()),
                         static_cast<std::uint16_t>(catalog_ref.GenerationNumber()), serialize(PdfObject(*new_catalog))});
    }

    // The signature dictionary: /ByteRange and /Contents have fixed widths, filled in below.
    std::string sig = "<<\n/Type /" + req.type + "\n/Filter /Adobe.PPKLite\n/SubFilter /" + req.sub_filter + "\n";
    if (!req.pdf_date.empty()) sig += "/M " + literal_string(req.pdf_date) + "\n";
    if (!req.signer_name.empty()) sig += "/Name " + text_string(req.signer_name) + "\n";
    if (!req.reason.empty()) sig += "/Reason " + text_string(req.reason) + "\n";
    if (!req.location.empty()) sig += "/Location " + text_string(req.location) + "\n";
    if (!req.contact_info.empty()) sig += "/ContactInfo " + text_string(req.contact_info) + "\n";
    std::string refs;
    if (req.certify_p != 0)
      refs += "<< /Type /SigRef /TransformMethod /DocMDP /TransformParams << /Type /TransformParams /P " +
              std::to_string(req.certify_p) + " /V /1.2 >> >>";
    if (!req.lock_fields.empty()) {
      std::set<std::string> names(req.lock_fields.begin(), req.lock_fields.end());
      names.erase(std::string());
      names.insert(out.field_name);
      std::string arr;
      for (const auto& n : names) arr += (arr.empty() ? "" : " ") + text_string(n);
      refs += "<< /Type /SigRef /TransformMethod /FieldMDP /TransformParams << /Type /TransformParams /Action /Include /Fields [" +
              arr + "] /V /1.2 >> /Data " + ref_str(catalog_ref) + " >>";
    }
    if (!refs.empty()) sig += "/Reference [" + refs + "]\n";
    std::size_t br_rel = sig.size() + 11;  // offset of '[' within the body
    sig += "/ByteRange [" + std::string(kByteRangeWidth, ' ') + "]\n";
    std::size_t contents_rel = sig.size() + 10;  // offset of '<'
    sig += "/Contents <" + std::string(req.contents_size * 2, '0') + ">\n>>";
    objects.insert(objects.begin(), NewObject{sig_num, 0, std::move(sig)});

    // Lay out the update.
    Update up = write_update(original, d, catalog_ref, objects, next, *prev, classic, 4096 + req.contents_size * 2);
    Bytes& file = out.file;
    file = std::move(up.file);
    std::size_t sig_offset = up.body_offset.at(sig_num);

    // Fill in /ByteRange now that the layout is final.
    out.contents_offset = sig_offset + contents_rel;
    out.contents_length = req.contents_size * 2 + 2;
    std::int64_t a = static_cast<std::int64_t>(out.contents_offset);
    std::int64_t b = a + static_cast<std::int64_t>(out.contents_length);
    std::int64_t c = static_cast<std::int64_t>(file.size()) - b;
    out.byte_range = {0, a, b, c};
    std::string br = "0 " + std::to_string(a) + " " + std::to_string(b) + " " + std::to_string(c);
    if (br.size() > kByteRangeWidth) return make_error(Errc::too_large, "the document is too large to sign");
    br.resize(kByteRangeWidth, ' ');
    std::memcpy(file.data() + sig_offset + br_rel + 1, br.data(), br.size());
    if (file[out.contents_offset] != '<' || file[out.contents_offset + out.contents_length - 1] != '>')
      throw std::logic_error("signature placeholder misplaced");
    return out;
  } catch (const PdfError& e) {
    return make_error(Errc::bad_pdf, std::string("the PDF cannot be read: ") + PdfError::ErrorName(e.GetError()));
  }
}

Bytes signed_bytes(const PreparedSignature& p) {
  const auto& br = p.byte_range;
  Bytes out(p.file.begin(), p.file.begin() + br[1]);
  out.insert(out.end(), p.file.begin() + br[2], p.file.begin() + br[2] + br[3]);
  return out;
}

Status embed_signature(PreparedSignature& p, std::span<const std::uint8_t> der) {
  std::string hex = to_hex(der, true);
  if (hex.size() > p.contents_length - 2)
    return make_error(Errc::too_large, "the signature (" + std::to_string(der.size()) + " bytes) does not fit the " +
                                           std::to_string((p.contents_length - 2) / 2) + " bytes reserved for it");
  std::memcpy(p.file.data() + p.contents_offset + 1, hex.data(), hex.size());
  return {};
}

Result<Inspection> inspect(std::span<const std::uint8_t> file) {
  auto loaded = load(file);
  if (!loaded) return loaded.error();
  Doc& d = **loaded;
  Inspection ins;
  ins.file_size = file.size();

  // Revisions: every "%%EOF" that closes a "startxref" line, with its end-of-line.
  std::string_view s(reinterpret_cast<const char*>(file.data()), file.size());
  for (std::size_t at = s.find("%%EOF"); at != std::string_view::npos; at = s.find("%%EOF", at + 5)) {
    std::size_t look = at > 64 ? at - 64 : 0;
    if (s.substr(look, at - look).find("startxref") == std::string_view::npos) continue;
    std::size_t end = at + 5;
    if (end < s.size() && s[end] == '\r') ++end;
    if (end < s.size() && s[end] == '\n') ++end;
    ins.revisions.push_back({end});
  }

  try {
    if (const PdfObject* id = d.trailer->GetDictionary().GetKey(PdfName("ID")); id && id->IsArray() && !id->GetArray().empty()) {
      const PdfObject& first = id->GetArray().front();
      if (first.IsString() || first.IsHexString()) {
        const PdfString& ps = first.GetString();
        ins.file_id = to_hex(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(ps.GetString()), ps.GetLength()));
      }
    }
    PdfObject* catalog = catalog_of(d);
    PdfObject* acroform = key(d, catalog, "AcroForm");
    for (const auto& f : all_fields(d, acroform)) {
      if (f.ft != "Sig") continue;
      PdfObject* v = key(d, f.obj, "V");
      if (!v || !v->IsDictionary()) {
        ins.empty_signature_fields.push_back(f.name);
        continue;
      }
      FoundSignature fs;
      fs.field_name = f.name;
      PdfObject* type = key(d, v, "Type");
      fs.type = type && type->IsName() ? type->GetName().GetName() : "Sig";
      fs.sub_filter = text_of(key(d, v, "SubFilter"));
      fs.reason = text_of(key(d, v, "Reason"));
      fs.location = text_of(key(d, v, "Location"));
      fs.signer_name = text_of(key(d, v, "Name"));
      fs.pdf_date = text_of(key(d, v, "M"));
      if (PdfObject* c = key(d, v, "Contents"); c && (c->IsString() || c->IsHexString())) {
        const PdfString& ps = c->GetString();
        const auto* p = reinterpret_cast<const std::uint8_t*>(ps.GetString());
        fs.contents.assign(p, p + ps.GetLength());
      }
      if (PdfObject* br = key(d, v, "ByteRange"); br && br->IsArray())
        for (auto& n : br->GetArray())
          if (n.IsNumber()) fs.byte_range.push_back(n.GetNumber());
      const auto& r = fs.byte_range;
      if (r.size() == 4) {
        fs.covered_end = static_cast<std::size_t>(std::max<std::int64_t>(0, r[2] + r[3]));
        bool shape = r[0] == 0 && r[1] > 0 && r[2] > r[1] && r[3] >= 0 &&
                     static_cast<std::uint64_t>(r[2]) + static_cast<std::uint64_t>(r[3]) <= file.size();
        if (shape && file[r[1]] == '<' && file[r[2] - 1] == '>') {
          Bytes gap;
          std::string_view hex = s.substr(static_cast<std::size_t>(r[1]) + 1, static_cast<std::size_t>(r[2] - r[1] - 2));
          bool only_hex = std::all_of(hex.begin(), hex.end(), [](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)); });
          fs.byte_range_well_formed = only_hex && from_hex(hex, gap) && gap == fs.contents;
        }
      }
      ins.signatures.push_back(std::move(fs));
    }
  } catch (const PdfError& e) {
    return make_error(Errc::bad_pdf, std::string("the PDF cannot be read: ") + PdfError::ErrorName(e.GetError()));
  }
  std::stable_sort(ins.signatures.begin(), ins.signatures.end(),
                   [](const FoundSignature& a, const FoundSignature& b) { return a.covered_end < b.covered_end; });
  return ins;
}

}  // namespace hocba::pdf
