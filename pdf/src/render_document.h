// The archival document around the pages (private to hocba_pdf), shared by render_record (render.cpp)
// and render_score_sheet (score_sheet.cpp): the three embedded subset serif faces (prepared once per
// process: render_fonts.h), the page flow, signature fields and the AcroForm with the appearance font,
// XMP metadata (PDF/A-3b identification and our own properties, declared with the PDF/A extension
// schema), the Info dictionary, the sRGB OutputIntent, the associated files (/AF: the JSON, and a record's
// XML) and the deterministic file identifier.
//
// Use: Document::open, draw with flow(), flow().finish(footer), embed_fonts(), signature_field() for
// each field, then write(). Objects are created in that order, so the output is deterministic.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"
#include "hocba/pdf/render.h"

#include "render_layout.h"
#include "templates/templates.h"

namespace PoDoFo {
class PdfMemDocument;
class PdfArray;
class PdfObject;
}  // namespace PoDoFo

namespace hocba::pdf::fonts {
class Face;
}  // namespace hocba::pdf::fonts

namespace hocba::pdf::document {

using FileId = std::array<std::uint8_t, 16>;

// The first 16 bytes of SHA-256 over the parts, each followed by a NUL.
Result<FileId> identifier(const std::vector<std::string>& parts);

struct XmpProperty {
  std::string name, value, description;  // name: a property of our namespace ("StudentName")
};

// An associated file (PDF/A-3): an /EmbeddedFile stream (Flate, /Params /ModDate and /Size) in a file
// specification listed in the catalog's /AF and in its /Names /EmbeddedFiles name tree.
struct Attachment {
  std::string file_name;     // ASCII: "001316729633.json"; distinct within a document
  std::string description;   // /Desc
  std::string data;          // the file's bytes (the JSON text)
  std::string relationship;  // /AFRelationship: "Source" or "Data"
  std::string mime_type = "application/json";  // the stream's /Subtype (written /application#2Fjson)
};

// What write() puts around the pages.
struct Description {
  std::string title, subject;        // dc:title = /Title, dc:description = /Subject
  templates::Date date;              // /CreationDate, /ModDate and the XMP dates (00:00 +07:00)
  std::string xmp_namespace;         // "urn:hocba-signer:xmp:record:1.0#"
  std::string xmp_schema;            // "hocba-signer student record"
  std::vector<XmpProperty> properties;
  // In this order in /AF (and their objects in this order in the file); the name tree lists them
  // sorted by file name, as name trees require.
  std::vector<Attachment> attachments;
  FileId id{};
};

class Document {
 public:
  // Checks the fonts and the ICC profile (not_found), takes the faces (loaded once per process) and
  // starts the first page.
  static Result<std::unique_ptr<Document>> open(const PdfResources& res);
  ~Document();
  Document(const Document&) = delete;
  Document& operator=(const Document&) = delete;

  layout::Flow& flow() { return *flow_; }
  layout::Fonts& fonts() { return *fonts_; }

  // After flow().finish(): each face's prepared program (the alphabet, or the alphabet and the
  // characters drawn beyond it), its widths and ToUnicode map; no /CIDSet. Throws PdfError if a program
  // for characters beyond the alphabet cannot be built.
  void embed_fonts();
  // An empty /Sig field merged with its widget on the box's page, listed in the AcroForm.
  void signature_field(const std::string& name, const std::string& tooltip, const layout::Box& box);
  // The AcroForm, metadata, OutputIntent, associated file, catalog; the written bytes with our /ID.
  Result<Bytes> write(const Description& d);

 private:
  Document() = default;
  std::unique_ptr<PoDoFo::PdfMemDocument> doc_;
  std::array<std::shared_ptr<const fonts::Face>, 3> faces_;
  std::array<PoDoFo::PdfObject*, 3> font_objects_{};
  std::unique_ptr<layout::Fonts> fonts_;
  std::unique_ptr<layout::Flow> flow_;
  std::shared_ptr<const std::string> icc_;  // compressed
  std::unique_ptr<PoDoFo::PdfArray> fields_;
};

// Runs f (which may throw PoDoFo's PdfError) and turns a PdfError into Errc::io "<what> failed: …".
Result<Bytes> guarded(const char* what, const std::function<Result<Bytes>()>& f);

}  // namespace hocba::pdf::document
