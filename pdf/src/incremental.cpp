// Append-only incremental updates (see incremental.h). PoDoFo 0.9.8 only reads; the update is written
// here byte by byte, so the original bytes are never touched and earlier signatures stay valid.
#include "incremental.h"

#include <cctype>
#include <cstring>
#include <mutex>

namespace hocba::pdf::detail {

using namespace PoDoFo;

void quiet_podofo() {
  static std::once_flag once;
  std::call_once(once, [] {
    PdfError::EnableLogging(false);
    PdfError::EnableDebug(false);
  });
}

Result<std::unique_ptr<Doc>> load(std::span<const std::uint8_t> file) {
  quiet_podofo();
  if (file.size() < 16 || std::memcmp(file.data(), "%PDF-", 5) != 0)
    return make_error(Errc::bad_pdf, "the file is not a PDF (it does not start with %PDF-)");
  auto d = std::make_unique<Doc>();
  d->objs->SetAutoDelete(true);  // PoDoFo 0.9.8 leaves the parsed objects alive otherwise
  d->parser = std::make_unique<PdfParser>(d->objs.get());
  try {
    d->parser->ParseFile(reinterpret_cast<const char*>(file.data()), static_cast<long>(file.size()), true);
  } catch (const PdfError& e) {
    if (e.GetError() == ePdfError_InvalidPassword)
      return make_error(Errc::bad_pdf, "the PDF is encrypted; remove its password before signing");
    return make_error(Errc::bad_pdf, std::string("the PDF cannot be read: ") + PdfError::ErrorName(e.GetError()));
  }
  if (d->parser->GetEncrypted())
    return make_error(Errc::bad_pdf, "the PDF is encrypted; remove its encryption before signing");
  d->trailer = d->parser->GetTrailer();
  if (!d->trailer || !d->trailer->IsDictionary()) return make_error(Errc::bad_pdf, "the PDF has no trailer");
  return d;
}

PdfObject* resolve(const Doc& d, PdfObject* o) {
  if (o && o->IsReference()) return d.objs->GetObject(o->GetReference());
  return o;
}

PdfObject* key(const Doc& d, PdfObject* dict, const char* k) {
  if (!dict || !dict->IsDictionary()) return nullptr;
  return resolve(d, dict->GetDictionary().GetKey(PdfName(k)));
}

PdfObject* catalog_of(const Doc& d) { return key(d, const_cast<PdfObject*>(d.trailer), "Root"); }

std::string serialize(const PdfObject& o) {
  std::string s;
  o.ToString(s, ePdfWriteMode_Clean);
  return s;
}

std::optional<std::size_t> last_startxref(std::span<const std::uint8_t> f) {
  std::string_view s(reinterpret_cast<const char*>(f.data()), f.size());
  std::size_t from = s.size() > 2048 ? s.size() - 2048 : 0;
  std::size_t at = s.rfind("startxref");
  if (at == std::string_view::npos || at < from) return std::nullopt;
  std::size_t i = at + 9;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  std::size_t v = 0, digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    v = v * 10 + static_cast<std::size_t>(s[i] - '0');
    ++i;
    ++digits;
  }
  if (digits == 0 || v >= f.size()) return std::nullopt;
  return v;
}

bool section_is_classic(std::span<const std::uint8_t> f, std::size_t off) {
  std::size_t i = off;
  while (i < f.size() && std::isspace(f[i])) ++i;
  return f.size() - i >= 4 && std::memcmp(f.data() + i, "xref", 4) == 0;
}

std::string ref_str(std::uint32_t num, std::uint16_t gen) { return std::to_string(num) + " " + std::to_string(gen) + " R"; }

std::string ref_str(const PdfReference& r) {
  return ref_str(static_cast<std::uint32_t>(r.ObjectNumber()), static_cast<std::uint16_t>(r.GenerationNumber()));
}

std::uint32_t next_object_number(const Doc& d) {
  std::uint32_t next = static_cast<std::uint32_t>(std::max<pdf_int64>(1, d.trailer->GetDictionary().GetKeyAsLong(PdfName("Size"), 1)));
  for (auto it = d.objs->begin(); it != d.objs->end(); ++it)
    next = std::max(next, static_cast<std::uint32_t>((*it)->Reference().ObjectNumber() + 1));
  return next;
}

namespace {

// Runs of consecutive object numbers: [(first, count)], for /Index or xref subsections.
std::vector<std::pair<std::uint32_t, std::uint32_t>> runs(const std::map<std::uint32_t, std::pair<std::size_t, std::uint16_t>>& e) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
  for (auto& [num, v] : e) {
    if (!out.empty() && out.back().first + out.back().second == num)
      ++out.back().second;
    else
      out.push_back({num, 1});
  }
  return out;
}

}  // namespace

Update write_update(std::span<const std::uint8_t> original, const Doc& d, const PdfReference& catalog_ref,
                    const std::vector<NewObject>& objects, std::uint32_t next, std::size_t prev, bool classic,
                    std::size_t reserve) {
  Update up;
  Bytes& file = up.file;
  file.reserve(original.size() + reserve);
  file.assign(original.begin(), original.end());
  if (file.back() != '\n' && file.back() != '\r') file.push_back('\n');
  auto append = [&](const std::string& s) { file.insert(file.end(), s.begin(), s.end()); };
  std::map<std::uint32_t, std::pair<std::size_t, std::uint16_t>> entries;  // num -> (offset, gen)
  for (const auto& o : objects) {
    entries[o.num] = {file.size(), o.gen};
    up.body_offset[o.num] = file.size() + std::to_string(o.num).size() + std::to_string(o.gen).size() + 6;
    append(std::to_string(o.num) + " " + std::to_string(o.gen) + " obj\n");
    append(o.body);
    append("\nendobj\n");
  }

  // Trailer entries carried over from the previous section.
  std::string carried;
  carried += "/Root " + ref_str(catalog_ref) + "\n";
  for (const char* k : {"Info", "ID"})
    if (const PdfObject* v = d.trailer->GetDictionary().GetKey(PdfName(k))) carried += std::string("/") + k + " " + serialize(*v) + "\n";
  carried += "/Prev " + std::to_string(prev) + "\n";

  std::size_t xref_offset = file.size();
  if (classic) {
    append("xref\n");
    for (auto [first, count] : runs(entries)) {
      append(std::to_string(first) + " " + std::to_string(count) + "\n");
      for (std::uint32_t n = first; n < first + count; ++n) {
        char line[32];
        std::snprintf(line, sizeof line, "%010zu %05u n\r\n", entries[n].first, static_cast<unsigned>(entries[n].second));
        append(line);
      }
    }
    append("trailer\n<<\n/Size " + std::to_string(next) + "\n" + carried + ">>\n");
  } else {
    std::uint32_t xref_num = next++;
    entries[xref_num] = {xref_offset, 0};
    int w = file.size() > 0xffffffffull ? 8 : 4;
    std::string data;
    for (auto& [num, v] : entries) {
      data += static_cast<char>(1);
      for (int i = w - 1; i >= 0; --i) data += static_cast<char>((v.first >> (8 * i)) & 0xff);
      data += static_cast<char>(v.second >> 8);
      data += static_cast<char>(v.second & 0xff);
    }
    std::string index;
    for (auto [first, count] : runs(entries)) index += std::to_string(first) + " " + std::to_string(count) + " ";
    index.pop_back();
    append(std::to_string(xref_num) + " 0 obj\n<<\n/Type /XRef\n/Size " + std::to_string(next) + "\n/Index [" + index +
           "]\n/W [1 " + std::to_string(w) + " 2]\n" + carried + "/Length " + std::to_string(data.size()) + "\n>>\nstream\n");
    append(data);
    append("\nendstream\nendobj\n");
  }
  append("startxref\n" + std::to_string(xref_offset) + "\n%%EOF\n");
  return up;
}

}  // namespace hocba::pdf::detail
