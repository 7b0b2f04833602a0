// The document around the pages, shared by the record and the score sheet: see render_document.h and
// docs/record-rendering.md (fonts, PDF/A-3b, determinism).
#include "render_document.h"

#include <openssl/evp.h>
#include <podofo/podofo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>

#include "hocba/common/bytes.h"

#include "flate.h"
#include "render_fonts.h"

namespace hocba::pdf::document {

namespace {

using namespace PoDoFo;
using layout::Face;

constexpr const char* kProducer = "hocba-signer";

void quiet_podofo() {
  static std::once_flag once;
  std::call_once(once, [] {
    PdfError::EnableLogging(false);
    PdfError::EnableDebug(false);
  });
}

PdfString text(const std::string& utf8) { return PdfString(reinterpret_cast<const pdf_utf8*>(utf8.c_str())); }

struct Dates {
  std::string pdf;  // D:20250531000000+07'00'
  std::string xmp;  // 2025-05-31T00:00:00+07:00
};

Dates dates_of(const templates::Date& d) {
  char pdf[40], xmp[40];
  std::snprintf(pdf, sizeof pdf, "D:%04d%02d%02d000000+07'00'", d.year, d.month, d.day);
  std::snprintf(xmp, sizeof xmp, "%04d-%02d-%02dT00:00:00+07:00", d.year, d.month, d.day);
  return {pdf, xmp};
}

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o.push_back(c);
    }
  }
  return o;
}

// XMP packet: PDF/A-3b identification, Dublin Core, XMP basic, PDF and our own schema (declared with
// the PDF/A extension schema so validators accept it).
std::string xmp_packet(const Description& d, const Dates& dates, const std::string& doc_id) {
  auto e = xml_escape;
  std::string x;
  x += "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n";
  x += "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n";
  x += " <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n";
  x += "  <rdf:Description rdf:about=\"\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\">\n"
       "   <pdfaid:part>3</pdfaid:part>\n   <pdfaid:conformance>B</pdfaid:conformance>\n  </rdf:Description>\n";
  x += "  <rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n";
  x += "   <dc:format>application/pdf</dc:format>\n";
  x += "   <dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">" + e(d.title) + "</rdf:li></rdf:Alt></dc:title>\n";
  x += "   <dc:creator><rdf:Seq><rdf:li>" + std::string(kProducer) + "</rdf:li></rdf:Seq></dc:creator>\n";
  x += "   <dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">" + e(d.subject) + "</rdf:li></rdf:Alt></dc:description>\n";
  x += "   <dc:language><rdf:Bag><rdf:li>vi</rdf:li></rdf:Bag></dc:language>\n";
  x += "  </rdf:Description>\n";
  x += "  <rdf:Description rdf:about=\"\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\">\n";
  x += "   <xmp:CreateDate>" + dates.xmp + "</xmp:CreateDate>\n";
  x += "   <xmp:ModifyDate>" + dates.xmp + "</xmp:ModifyDate>\n";
  x += "   <xmp:MetadataDate>" + dates.xmp + "</xmp:MetadataDate>\n";
  x += "   <xmp:CreatorTool>" + std::string(kProducer) + "</xmp:CreatorTool>\n";
  x += "  </rdf:Description>\n";
  x += "  <rdf:Description rdf:about=\"\" xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\">\n";
  x += "   <pdf:Producer>" + std::string(kProducer) + "</pdf:Producer>\n  </rdf:Description>\n";
  x += "  <rdf:Description rdf:about=\"\" xmlns:xmpMM=\"http://ns.adobe.com/xap/1.0/mm/\">\n";
  x += "   <xmpMM:DocumentID>uuid:" + doc_id + "</xmpMM:DocumentID>\n  </rdf:Description>\n";
  x += "  <rdf:Description rdf:about=\"\" xmlns:hocba=\"" + d.xmp_namespace + "\">\n";
  for (const auto& p : d.properties) x += "   <hocba:" + p.name + ">" + e(p.value) + "</hocba:" + p.name + ">\n";
  x += "  </rdf:Description>\n";
  x += "  <rdf:Description rdf:about=\"\" xmlns:pdfaExtension=\"http://www.aiim.org/pdfa/ns/extension/\""
       " xmlns:pdfaSchema=\"http://www.aiim.org/pdfa/ns/schema#\" xmlns:pdfaProperty=\"http://www.aiim.org/pdfa/ns/property#\">\n";
  x += "   <pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType=\"Resource\">\n";
  x += "    <pdfaSchema:schema>" + e(d.xmp_schema) + "</pdfaSchema:schema>\n";
  x += "    <pdfaSchema:namespaceURI>" + d.xmp_namespace + "</pdfaSchema:namespaceURI>\n";
  x += "    <pdfaSchema:prefix>hocba</pdfaSchema:prefix>\n";
  x += "    <pdfaSchema:property><rdf:Seq>\n";
  for (const auto& p : d.properties)
    x += "     <rdf:li rdf:parseType=\"Resource\"><pdfaProperty:name>" + p.name +
         "</pdfaProperty:name><pdfaProperty:valueType>Text</pdfaProperty:valueType><pdfaProperty:category>external"
         "</pdfaProperty:category><pdfaProperty:description>" + p.description + "</pdfaProperty:description></rdf:li>\n";
  x += "    </rdf:Seq></pdfaSchema:property>\n";
  x += "   </rdf:li></rdf:Bag></pdfaExtension:schemas>\n  </rdf:Description>\n";
  x += " </rdf:RDF>\n</x:xmpmeta>\n";
  x += "<?xpacket end=\"w\"?>";
  return x;
}

PdfArray rect_array(const layout::Box& b) {
  PdfArray a;
  for (double v : {b.x, b.y, b.x + b.w, b.y + b.h}) a.push_back(PdfVariant(std::round(v * 100) / 100));
  return a;
}

// Replaces the two strings of the trailer's /ID (PoDoFo computes them from the Info dictionary) with
// ours. Both are 16 bytes, so no offset moves.
Status patch_id(Bytes& file, const FileId& id) {
  std::string_view s(reinterpret_cast<const char*>(file.data()), file.size());
  auto tr = s.rfind("trailer");
  if (tr == std::string_view::npos) return make_error(Errc::bad_pdf, "internal: the written PDF has no trailer");
  auto at = s.find("/ID", tr);
  if (at == std::string_view::npos) return make_error(Errc::bad_pdf, "internal: the written PDF has no /ID");
  std::string hex = to_hex(id, true);
  std::size_t pos = at;
  for (int i = 0; i < 2; ++i) {
    auto open = s.find('<', pos);
    auto close = open == std::string_view::npos ? open : s.find('>', open);
    if (close == std::string_view::npos || close - open - 1 != hex.size())
      return make_error(Errc::bad_pdf, "internal: unexpected /ID in the written PDF");
    std::memcpy(file.data() + open + 1, hex.data(), hex.size());
    pos = close + 1;
  }
  return {};
}

// /W of a CIDFont: "first last w" for three or more consecutive glyph ids of one width, "first [w1 w2 …]"
// for the other consecutive ids. Filled in place: PoDoFo copies nested arrays on every insertion.
void fill_widths(PdfArray& a, const std::vector<std::pair<std::uint16_t, std::uint16_t>>& w) {
  auto follows = [&](std::size_t k) { return k > 0 && k < w.size() && w[k].first == w[k - 1].first + 1; };
  auto same_width_run = [&](std::size_t k) {  // consecutive ids of w[k]'s width from k
    std::size_t j = k + 1;
    while (follows(j) && w[j].second == w[k].second) ++j;
    return j - k;
  };
  struct Group {
    std::size_t at, count;
    bool one_width;
  };
  std::vector<Group> groups;
  for (std::size_t i = 0; i < w.size();) {
    std::size_t n = same_width_run(i);
    bool one_width = n >= 3;
    if (!one_width) {
      n = 1;
      while (follows(i + n) && same_width_run(i + n) < 3) ++n;
    }
    groups.push_back({i, n, one_width});
    i += n;
  }
  auto number = [](std::uint16_t v) { return PdfVariant(static_cast<pdf_int64>(v)); };
  a.reserve(groups.size() * 3);
  for (const Group& g : groups) {
    a.push_back(number(w[g.at].first));
    if (g.one_width) {
      a.push_back(number(w[g.at + g.count - 1].first));
      a.push_back(number(w[g.at].second));
      continue;
    }
    a.push_back(PdfArray());
    PdfArray& list = a.back().GetArray();
    list.reserve(g.count);
    for (std::size_t k = g.at; k < g.at + g.count; ++k) list.push_back(number(w[k].second));
  }
}

// Fills the document's Type0 font dictionary with a prepared program: a CIDFontType2 descendant
// (Identity CIDToGIDMap, /W), its FontDescriptor with the program as /FontFile2, and the ToUnicode map.
// The descriptor's values are those PoDoFo 0.9.8 writes for the same font.
void embed_program(PdfVecObjects& objs, const fonts::Face& face, const fonts::Program& p, PdfObject& type0) {
  PdfObject* cid = objs.CreateObject("Font");
  PdfObject* desc = objs.CreateObject("FontDescriptor");
  PdfObject* file = objs.CreateObject();
  PdfObject* to_unicode = objs.CreateObject();
  file->GetDictionary().AddKey(PdfName("Length1"), PdfVariant(static_cast<pdf_int64>(p.length1)));
  flate::set_compressed(*file, p.font_file);
  flate::set_compressed(*to_unicode, p.to_unicode);

  PdfDictionary& fd = desc->GetDictionary();
  PdfArray bbox;
  for (double v : face.bbox) bbox.push_back(PdfVariant(v));
  fd.AddKey(PdfName("FontName"), PdfName(p.base_font));
  fd.AddKey(PdfName::KeyFlags, PdfVariant(static_cast<pdf_int64>(32)));  // nonsymbolic
  fd.AddKey(PdfName("FontBBox"), bbox);
  fd.AddKey(PdfName("ItalicAngle"), PdfVariant(static_cast<pdf_int64>(face.italic_angle)));
  fd.AddKey(PdfName("Ascent"), PdfVariant(face.ascent));
  fd.AddKey(PdfName("Descent"), PdfVariant(face.descent));
  fd.AddKey(PdfName("CapHeight"), PdfVariant(face.ascent));
  fd.AddKey(PdfName("StemV"), PdfVariant(static_cast<pdf_int64>(1)));
  fd.AddKey(PdfName("FontFile2"), file->Reference());

  PdfDictionary& cd = cid->GetDictionary();
  PdfDictionary system;
  system.AddKey(PdfName("Registry"), PdfString("Adobe"));
  system.AddKey(PdfName("Ordering"), PdfString("Identity"));
  system.AddKey(PdfName("Supplement"), PdfVariant(static_cast<pdf_int64>(0)));
  cd.AddKey(PdfName::KeySubtype, PdfName("CIDFontType2"));
  cd.AddKey(PdfName("BaseFont"), PdfName(p.base_font));
  cd.AddKey(PdfName("CIDSystemInfo"), system);
  cd.AddKey(PdfName("FontDescriptor"), desc->Reference());
  cd.AddKey(PdfName("CIDToGIDMap"), PdfName("Identity"));
  cd.AddKey(PdfName("W"), PdfArray());
  fill_widths(cd.GetKey(PdfName("W"))->GetArray(), p.widths);

  PdfDictionary& td = type0.GetDictionary();
  PdfArray descendants;
  descendants.push_back(cid->Reference());
  td.AddKey(PdfName::KeySubtype, PdfName("Type0"));
  td.AddKey(PdfName("BaseFont"), PdfName(p.base_font));
  td.AddKey(PdfName("Encoding"), PdfName("Identity-H"));
  td.AddKey(PdfName("DescendantFonts"), descendants);
  td.AddKey(PdfName("ToUnicode"), to_unicode->Reference());
}

// The ICC profile, compressed: read once per process (again when the file changes).
Result<std::shared_ptr<const std::string>> icc_profile(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, std::pair<std::string, std::shared_ptr<const std::string>>> cache;  // path -> stamp, data
  std::string stamp = fonts::file_stamp(path);
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache.find(path); !stamp.empty() && it != cache.end() && it->second.first == stamp) return it->second.second;
  auto icc = read_file(path, 1 << 22);
  if (!icc) return icc.error();
  auto data = std::make_shared<const std::string>(
      flate::compress(std::string_view(reinterpret_cast<const char*>(icc->data()), icc->size())));
  if (cache.size() >= 8) cache.clear();
  cache[path] = {stamp, data};
  return data;
}

}  // namespace

Result<FileId> identifier(const std::vector<std::string>& parts) {
  std::string in;
  for (const auto& s : parts) {
    in += s;
    in.push_back('\0');
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(in.data(), in.size(), md, &len, EVP_sha256(), nullptr) != 1) return openssl_error("SHA-256 failed");
  FileId id{};
  std::memcpy(id.data(), md, id.size());
  return id;
}

Result<Bytes> guarded(const char* what, const std::function<Result<Bytes>()>& f) {
  try {
    return f();
  } catch (const PdfError& e) {
    return make_error(Errc::io, std::string(what) + " failed: " + PdfError::ErrorName(e.GetError()));
  }
}

Document::~Document() = default;

Result<std::unique_ptr<Document>> Document::open(const PdfResources& res) {
  quiet_podofo();
  std::unique_ptr<Document> d(new Document());
  const std::array<const std::string*, 3> paths = {&res.font_regular, &res.font_bold, &res.font_italic};
  for (std::size_t i = 0; i < paths.size(); ++i) {
    auto face = fonts::load(*paths[i]);
    if (!face && face.error().code == Errc::not_found)
      return make_error(Errc::not_found, "font file " + *paths[i] + " not found (install fonts-liberation2, or set the font paths)");
    if (!face) return face.error();
    d->faces_[i] = std::move(*face);
  }
  auto icc = icc_profile(res.icc_profile);
  if (!icc)
    return make_error(Errc::not_found,
                      "sRGB ICC profile " + res.icc_profile + " cannot be read (install libgs-common): " + icc.error().message);
  d->icc_ = std::move(*icc);
  try {
    d->doc_ = std::make_unique<PdfMemDocument>();
    for (PdfObject*& o : d->font_objects_) o = d->doc_->GetObjects().CreateObject("Font");  // filled by embed_fonts
    d->fonts_ = std::make_unique<layout::Fonts>(
        std::array<const fonts::Face*, 3>{d->faces_[0].get(), d->faces_[1].get(), d->faces_[2].get()}, d->font_objects_);
    d->flow_ = std::make_unique<layout::Flow>(*d->doc_, *d->fonts_);
    d->fields_ = std::make_unique<PdfArray>();
  } catch (const PdfError& e) {
    return make_error(Errc::io, std::string("starting the document failed: ") + PdfError::ErrorName(e.GetError()));
  }
  return d;
}

// No /CIDSet: PDF/A-2 and -3 make it optional but require it to be complete when present, and a subset
// also holds the components of composite glyphs (most Vietnamese letters), which PoDoFo 0.9.8's /CIDSet
// would leave out.
void Document::embed_fonts() {
  PdfVecObjects& objs = doc_->GetObjects();
  for (std::size_t i = 0; i < faces_.size(); ++i) {
    auto program = faces_[i]->program_for(fonts_->drawn(static_cast<Face>(i)));
    if (!program) throw PdfError(ePdfError_UnsupportedFontFormat, __FILE__, __LINE__, program.error().message.c_str());
    embed_program(objs, *faces_[i], **program, *font_objects_[i]);
  }
}

// An empty /Sig field merged with its widget: printed (/F 4), with an empty appearance stream whose
// BBox is the field's size.
void Document::signature_field(const std::string& name, const std::string& tooltip, const layout::Box& b) {
  PdfVecObjects& objs = doc_->GetObjects();
  PdfObject* page = flow_->page(b.page);
  PdfObject* ap = objs.CreateObject("XObject");
  ap->GetDictionary().AddKey(PdfName::KeySubtype, PdfName("Form"));
  PdfArray bbox;
  bbox.push_back(PdfVariant(static_cast<pdf_int64>(0)));
  bbox.push_back(PdfVariant(static_cast<pdf_int64>(0)));
  bbox.push_back(PdfVariant(std::round(b.w * 100) / 100));
  bbox.push_back(PdfVariant(std::round(b.h * 100) / 100));
  ap->GetDictionary().AddKey(PdfName("BBox"), bbox);
  ap->GetDictionary().AddKey(PdfName("Resources"), PdfDictionary());
  ap->GetStream()->BeginAppend(TVecFilters());
  ap->GetStream()->EndAppend();

  PdfObject* f = objs.CreateObject("Annot");
  PdfDictionary& d = f->GetDictionary();
  d.AddKey(PdfName::KeySubtype, PdfName("Widget"));
  d.AddKey(PdfName("FT"), PdfName("Sig"));
  d.AddKey(PdfName("T"), PdfString(name));
  d.AddKey(PdfName("TU"), text(tooltip));
  d.AddKey(PdfName("F"), PdfVariant(static_cast<pdf_int64>(4)));
  d.AddKey(PdfName("Rect"), rect_array(b));
  d.AddKey(PdfName("P"), page->Reference());
  PdfDictionary apd;
  apd.AddKey(PdfName("N"), ap->Reference());
  d.AddKey(PdfName("AP"), apd);

  PdfDictionary& pd = page->GetDictionary();
  if (!pd.HasKey(PdfName("Annots"))) pd.AddKey(PdfName("Annots"), PdfArray());
  pd.GetKey(PdfName("Annots"))->GetArray().push_back(f->Reference());
  fields_->push_back(f->Reference());
}

Result<Bytes> Document::write(const Description& d) {
  PdfVecObjects& objs = doc_->GetObjects();
  PdfObject* acroform = objs.CreateObject();
  acroform->GetDictionary().AddKey(PdfName("Fields"), *fields_);
  PdfDictionary dr, dr_fonts;
  dr_fonts.AddKey(PdfName(kAppearanceFontName), font_objects_[0]->Reference());
  dr.AddKey(PdfName("Font"), dr_fonts);
  acroform->GetDictionary().AddKey(PdfName("DR"), dr);
  acroform->GetDictionary().AddKey(PdfName("DA"), PdfString(std::string("/") + kAppearanceFontName + " 10 Tf 0 g"));

  // ---- Metadata.
  Dates dates = dates_of(d.date);
  std::string hex = to_hex(d.id);
  std::string uuid = hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
                     hex.substr(20, 12);
  std::string xmp = xmp_packet(d, dates, uuid);
  PdfObject* md = objs.CreateObject("Metadata");
  md->GetDictionary().AddKey(PdfName::KeySubtype, PdfName("XML"));
  md->GetStream()->Set(xmp.data(), static_cast<pdf_long>(xmp.size()), TVecFilters());  // unfiltered, readable

  PdfDictionary& info = doc_->GetInfo()->GetObject()->GetDictionary();
  info.Clear();
  info.AddKey(PdfName("Title"), text(d.title));
  info.AddKey(PdfName("Author"), PdfString(kProducer));
  info.AddKey(PdfName("Subject"), text(d.subject));
  info.AddKey(PdfName("Creator"), PdfString(kProducer));
  info.AddKey(PdfName("Producer"), PdfString(kProducer));
  info.AddKey(PdfName("CreationDate"), PdfString(dates.pdf));
  info.AddKey(PdfName("ModDate"), PdfString(dates.pdf));

  // ---- sRGB OutputIntent.
  PdfObject* profile = objs.CreateObject();
  profile->GetDictionary().AddKey(PdfName("N"), PdfVariant(static_cast<pdf_int64>(3)));
  flate::set_compressed(*profile, *icc_);
  PdfObject* intent = objs.CreateObject("OutputIntent");
  intent->GetDictionary().AddKey(PdfName("S"), PdfName("GTS_PDFA1"));
  intent->GetDictionary().AddKey(PdfName("OutputConditionIdentifier"), PdfString("sRGB IEC61966-2.1"));
  intent->GetDictionary().AddKey(PdfName("Info"), PdfString("sRGB IEC61966-2.1"));
  intent->GetDictionary().AddKey(PdfName("RegistryName"), PdfString("http://www.color.org"));
  intent->GetDictionary().AddKey(PdfName("DestOutputProfile"), profile->Reference());
  PdfArray intents;
  intents.push_back(intent->Reference());

  // ---- The associated files (PDF/A-3: /AF, each with an /AFRelationship), and the EmbeddedFiles name
  // tree: one leaf whose /Names pairs are sorted by name (bytewise, as PDF 32000-1 7.9.6 orders keys).
  PdfArray af;
  std::vector<std::pair<std::string, PdfReference>> by_name;
  for (const Attachment& a : d.attachments) {
    PdfObject* ef = objs.CreateObject("EmbeddedFile");
    ef->GetDictionary().AddKey(PdfName::KeySubtype, PdfName(a.mime_type));
    PdfDictionary params;
    params.AddKey(PdfName("ModDate"), PdfString(dates.pdf));
    params.AddKey(PdfName("Size"), PdfVariant(static_cast<pdf_int64>(a.data.size())));
    ef->GetDictionary().AddKey(PdfName("Params"), params);
    flate::set_stream(*ef, a.data);
    PdfObject* spec = objs.CreateObject("Filespec");
    spec->GetDictionary().AddKey(PdfName("F"), PdfString(a.file_name));
    spec->GetDictionary().AddKey(PdfName("UF"), text(a.file_name));
    spec->GetDictionary().AddKey(PdfName("Desc"), text(a.description));
    spec->GetDictionary().AddKey(PdfName("AFRelationship"), PdfName(a.relationship));
    PdfDictionary efd;
    efd.AddKey(PdfName("F"), ef->Reference());
    efd.AddKey(PdfName("UF"), ef->Reference());
    spec->GetDictionary().AddKey(PdfName("EF"), efd);
    af.push_back(spec->Reference());
    by_name.emplace_back(a.file_name, spec->Reference());
  }
  std::sort(by_name.begin(), by_name.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  PdfArray names;
  for (const auto& [name, ref] : by_name) {
    names.push_back(PdfString(name));
    names.push_back(ref);
  }
  PdfDictionary embedded, names_dict;
  embedded.AddKey(PdfName("Names"), names);
  names_dict.AddKey(PdfName("EmbeddedFiles"), embedded);

  // ---- Catalog.
  PdfDictionary& cat = doc_->GetCatalog()->GetDictionary();
  cat.AddKey(PdfName("Metadata"), md->Reference());
  cat.AddKey(PdfName("OutputIntents"), intents);
  cat.AddKey(PdfName("AF"), af);
  cat.AddKey(PdfName("Names"), names_dict);
  cat.AddKey(PdfName("AcroForm"), acroform->Reference());
  cat.AddKey(PdfName("Lang"), PdfString("vi-VN"));
  PdfDictionary prefs;
  prefs.AddKey(PdfName("DisplayDocTitle"), PdfVariant(true));
  cat.AddKey(PdfName("ViewerPreferences"), prefs);

  // ---- Write.
  doc_->SetPdfVersion(ePdfVersion_1_7);
  PdfRefCountedBuffer buffer;
  PdfOutputDevice device(&buffer);
  doc_->Write(&device);
  Bytes out(reinterpret_cast<const std::uint8_t*>(buffer.GetBuffer()),
            reinterpret_cast<const std::uint8_t*>(buffer.GetBuffer()) + device.GetLength());
  if (auto st = patch_id(out, d.id); !st) return st.error();
  return out;
}

}  // namespace hocba::pdf::document
