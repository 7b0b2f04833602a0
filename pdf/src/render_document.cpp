// The document around the pages, shared by the record and the score sheet: see render_document.h and
// docs/record-rendering.md (fonts, PDF/A-3b, determinism).
#include "render_document.h"

#include <openssl/evp.h>
#include <podofo/podofo.h>
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "hocba/common/bytes.h"

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

bool file_exists(const std::string& p) {
  struct stat st {};
  return !p.empty() && ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

PdfString text(const std::string& utf8) { return PdfString(reinterpret_cast<const pdf_utf8*>(utf8.c_str())); }

// Every character the appearance font must hold: printable ASCII, the Vietnamese letters (Latin-1,
// Latin Extended-A and -B, Latin Extended Additional) in both cases with every tone, and a little
// typography ('–', '—', '×', quotes, ellipsis), so that a signature appearance added later can write
// any Vietnamese name and an ISO 8601 time.
std::u32string appearance_alphabet() {
  std::u32string s;
  for (char32_t c = 0x20; c < 0x7f; ++c) s.push_back(c);
  s += U"ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝàáâãèéêìíòóôõùúý";  // Latin-1
  s += U"ĂăĐđĨĩŨũ";                          // Latin Extended-A
  s += U"ƠơƯư";                              // Latin Extended-B
  for (char32_t c = 0x1ea0; c <= 0x1ef9; ++c) s.push_back(c);  // Latin Extended Additional (Vietnamese)
  s += U"–—×‘’“”…";
  return s;
}

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
  for (const std::string* p : {&res.font_regular, &res.font_bold, &res.font_italic})
    if (!file_exists(*p))
      return make_error(Errc::not_found, "font file " + *p + " not found (install fonts-liberation2, or set the font paths)");
  auto icc = read_file(res.icc_profile, 1 << 22);
  if (!icc)
    return make_error(Errc::not_found,
                      "sRGB ICC profile " + res.icc_profile + " cannot be read (install libgs-common): " + icc.error().message);
  std::unique_ptr<Document> d(new Document());
  d->icc_ = std::move(*icc);
  try {
    d->doc_ = std::make_unique<PdfMemDocument>();
    const PdfEncoding* identity = PdfEncodingFactory::GlobalIdentityEncodingInstance();
    auto make_font = [&](const std::string& path, bool bold, bool italic) -> PdfFont* {
      return d->doc_->CreateFontSubset("LiberationSerif", bold, italic, false, identity, path.c_str());
    };
    d->faces_ = {make_font(res.font_regular, false, false), make_font(res.font_bold, true, false),
                 make_font(res.font_italic, false, true)};
    for (PdfFont* f : d->faces_)
      if (!f) return make_error(Errc::io, "the serif fonts cannot be loaded");
    d->fonts_ = std::make_unique<layout::Fonts>(d->faces_);
    d->flow_ = std::make_unique<layout::Flow>(*d->doc_, *d->fonts_);
    d->fields_ = std::make_unique<PdfArray>();
  } catch (const PdfError& e) {
    return make_error(Errc::io, std::string("loading the fonts failed: ") + PdfError::ErrorName(e.GetError()));
  }
  return d;
}

void Document::embed_fonts() {
  fonts_->use(Face::regular, appearance_alphabet());
  fonts_->commit();
  doc_->EmbedSubsetFonts();
  // PoDoFo 0.9.8 writes a /CIDSet that lists only the characters' own glyphs, not the components of
  // composite glyphs (most Vietnamese letters) that the subset also holds. PDF/A-2 and -3 make
  // /CIDSet optional but require it to be complete when present: drop it.
  PdfVecObjects& objs = doc_->GetObjects();
  for (PdfFont* f : faces_) {
    PdfObject* desc = f->GetObject()->GetIndirectKey(PdfName("DescendantFonts"));
    if (!desc || !desc->IsArray() || desc->GetArray().empty() || !desc->GetArray()[0].IsReference()) continue;
    PdfObject* cid = objs.GetObject(desc->GetArray()[0].GetReference());
    PdfObject* fd = cid ? cid->GetIndirectKey(PdfName("FontDescriptor")) : nullptr;
    PdfObject* set = fd ? fd->GetDictionary().GetKey(PdfName("CIDSet")) : nullptr;
    if (!set || !set->IsReference()) continue;
    PdfReference ref = set->GetReference();
    fd->GetDictionary().RemoveKey(PdfName("CIDSet"));
    delete objs.RemoveObject(ref, true);  // listed as a free entry in the cross-reference table
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
  dr_fonts.AddKey(PdfName(kAppearanceFontName), faces_[0]->GetObject()->Reference());
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
  profile->GetStream()->Set(reinterpret_cast<const char*>(icc_.data()), static_cast<pdf_long>(icc_.size()));
  PdfObject* intent = objs.CreateObject("OutputIntent");
  intent->GetDictionary().AddKey(PdfName("S"), PdfName("GTS_PDFA1"));
  intent->GetDictionary().AddKey(PdfName("OutputConditionIdentifier"), PdfString("sRGB IEC61966-2.1"));
  intent->GetDictionary().AddKey(PdfName("Info"), PdfString("sRGB IEC61966-2.1"));
  intent->GetDictionary().AddKey(PdfName("RegistryName"), PdfString("http://www.color.org"));
  intent->GetDictionary().AddKey(PdfName("DestOutputProfile"), profile->Reference());
  PdfArray intents;
  intents.push_back(intent->Reference());

  // ---- The JSON as an associated file (PDF/A-3: /AF with an /AFRelationship).
  const Attachment& a = d.attachment;
  PdfObject* ef = objs.CreateObject("EmbeddedFile");
  ef->GetDictionary().AddKey(PdfName::KeySubtype, PdfName("application/json"));
  PdfDictionary params;
  params.AddKey(PdfName("ModDate"), PdfString(dates.pdf));
  params.AddKey(PdfName("Size"), PdfVariant(static_cast<pdf_int64>(a.data.size())));
  ef->GetDictionary().AddKey(PdfName("Params"), params);
  ef->GetStream()->Set(a.data.data(), static_cast<pdf_long>(a.data.size()));
  PdfObject* spec = objs.CreateObject("Filespec");
  spec->GetDictionary().AddKey(PdfName("F"), PdfString(a.file_name));
  spec->GetDictionary().AddKey(PdfName("UF"), text(a.file_name));
  spec->GetDictionary().AddKey(PdfName("Desc"), text(a.description));
  spec->GetDictionary().AddKey(PdfName("AFRelationship"), PdfName(a.relationship));
  PdfDictionary efd;
  efd.AddKey(PdfName("F"), ef->Reference());
  efd.AddKey(PdfName("UF"), ef->Reference());
  spec->GetDictionary().AddKey(PdfName("EF"), efd);
  PdfArray af;
  af.push_back(spec->Reference());
  PdfArray names;
  names.push_back(PdfString(a.file_name));
  names.push_back(spec->Reference());
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
