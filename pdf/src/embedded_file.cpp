// embedded_file (record_xml.h): an embedded file of a PDF by name, read with PoDoFo's parser through
// incremental.h's load (the last revision, so a signed file's updates are followed). The input is
// untrusted (fuzz/fuzz_pdf_attachment.cpp): the name tree walk is bounded in depth and in entries, and
// the decoded size is checked against the caller's limit.
#include "hocba/pdf/record_xml.h"

#include <podofo/podofo.h>

#include <set>

#include "incremental.h"

namespace hocba::pdf {

namespace {

using namespace PoDoFo;
using detail::Doc;
using detail::key;

constexpr int kMaxDepth = 16;             // nesting of the name tree's /Kids
constexpr std::size_t kMaxNodes = 10000;  // name tree nodes and entries visited, in all

std::string string_of(const PdfObject* o) {
  if (!o || !(o->IsString() || o->IsHexString())) return {};
  return o->GetString().GetStringUtf8();
}

// Whether the file specification (or the name tree key) names `name`.
bool names(const Doc& d, PdfObject* spec, const std::string& tree_key, const std::string& name) {
  if (tree_key == name) return true;
  if (!spec || !spec->IsDictionary()) return false;
  return string_of(key(d, spec, "UF")) == name || string_of(key(d, spec, "F")) == name;
}

struct Walk {
  const Doc& d;
  const std::string& name;
  std::size_t visited = 0;
  std::set<PdfReference> seen;  // a node listed twice (or a cycle) is visited once

  PdfObject* find(PdfObject* node, int depth) {
    if (!node || !node->IsDictionary() || depth > kMaxDepth || ++visited > kMaxNodes) return nullptr;
    if (PdfObject* pairs = key(d, node, "Names"); pairs && pairs->IsArray()) {
      PdfArray& a = pairs->GetArray();
      for (std::size_t i = 0; i + 1 < a.size(); i += 2) {
        if (++visited > kMaxNodes) return nullptr;
        PdfObject* spec = detail::resolve(d, &a[i + 1]);
        if (names(d, spec, string_of(&a[i]), name)) return spec;
      }
    }
    if (PdfObject* kids = key(d, node, "Kids"); kids && kids->IsArray())
      for (PdfObject& kid : kids->GetArray()) {
        if (kid.IsReference() && !seen.insert(kid.GetReference()).second) continue;
        if (PdfObject* found = find(detail::resolve(d, &kid), depth + 1)) return found;
      }
    return nullptr;
  }
};

// The decoded stream, refused (by a PdfError out of the filter chain) past the caller's limit: a small
// Flate stream can decode to gigabytes.
struct Bounded : PdfOutputStream {
  explicit Bounded(std::size_t max) : max(max) {}
  pdf_long Write(const char* p, pdf_long n) override {
    if (n < 0 || static_cast<std::uint64_t>(n) > max - data.size()) {
      exceeded = true;
      PODOFO_RAISE_ERROR(ePdfError_ValueOutOfRange);
    }
    data.insert(data.end(), reinterpret_cast<const std::uint8_t*>(p), reinterpret_cast<const std::uint8_t*>(p) + n);
    return n;
  }
  void Close() override {}
  std::size_t max;
  Bytes data;
  bool exceeded = false;
};

}  // namespace

Result<Bytes> embedded_file(std::span<const std::uint8_t> pdf, const std::string& name, std::size_t max_size) {
  auto loaded = detail::load(pdf);
  if (!loaded) return loaded.error();
  const Doc& d = **loaded;
  try {
    PdfObject* catalog = detail::catalog_of(d);
    if (!catalog || !catalog->IsDictionary()) return make_error(Errc::bad_pdf, "the PDF has no catalog");
    Walk walk{d, name};
    PdfObject* spec = walk.find(key(d, key(d, catalog, "Names"), "EmbeddedFiles"), 0);
    if (!spec)
      if (PdfObject* af = key(d, catalog, "AF"); af && af->IsArray())
        for (PdfObject& item : af->GetArray()) {
          PdfObject* s = detail::resolve(d, &item);
          if (names(d, s, "", name)) {
            spec = s;
            break;
          }
        }
    if (!spec) return make_error(Errc::not_found, "the PDF has no embedded file named " + name);
    PdfObject* ef = key(d, spec, "EF");
    PdfObject* stream = key(d, ef, "UF");
    if (!stream || !stream->HasStream()) stream = key(d, ef, "F");
    if (!stream || !stream->HasStream())
      return make_error(Errc::bad_pdf, "the embedded file " + name + " has no data (no /EF stream)");
    // /Params /Size, when present, is the decoded size: refuse before decoding what would be too large.
    if (PdfObject* size = key(d, key(d, stream, "Params"), "Size"); size && size->IsNumber() && size->GetNumber() >= 0 &&
                                                                    static_cast<std::uint64_t>(size->GetNumber()) > max_size)
      return make_error(Errc::too_large, "the embedded file " + name + " is larger than " + std::to_string(max_size) + " bytes");
    Bounded out(max_size);
    try {
      stream->GetStream()->GetFilteredCopy(&out);
    } catch (const PdfError&) {
      if (out.exceeded)
        return make_error(Errc::too_large, "the embedded file " + name + " is larger than " + std::to_string(max_size) + " bytes");
      throw;
    }
    return std::move(out.data);
  } catch (const PdfError& e) {
    return make_error(Errc::bad_pdf, "the embedded file " + name + " cannot be read: " + PdfError::ErrorName(e.GetError()));
  }
}

}  // namespace hocba::pdf
