// The Document Security Store as an incremental update (see dss.h). The DSS dictionary is an
// indirect object (rewritten in place when it already is one); its /Certs, /OCSPs, /CRLs arrays and
// /VRI dictionary are direct; every blob is a stream object of its own, shared by the arrays and
// the VRI entries that name it.
#include "hocba/pdf/dss.h"

#include <openssl/evp.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "hocba/common/bytes.h"
#include "incremental.h"

namespace hocba::pdf {

namespace {

using namespace PoDoFo;
using namespace detail;

constexpr std::size_t kMaxBlob = std::size_t(64) << 20;

// The decoded bytes of a stream object; empty if it is not one or cannot be decoded.
Bytes stream_bytes(PdfObject* o) {
  if (!o || !o->HasStream()) return {};
  char* buf = nullptr;
  pdf_long len = 0;
  try {
    o->GetStream()->GetFilteredCopy(&buf, &len);
  } catch (const PdfError&) {
    podofo_free(buf);
    return {};
  }
  Bytes out;
  if (buf && len > 0 && static_cast<std::size_t>(len) <= kMaxBlob) out.assign(buf, buf + len);
  podofo_free(buf);
  return out;
}

// The references in an array entry of `dict` (direct or indirect array).
std::vector<PdfReference> refs_in(const Doc& d, PdfObject* dict, const char* k) {
  std::vector<PdfReference> out;
  PdfObject* a = key(d, dict, k);
  if (!a || !a->IsArray()) return out;
  for (const auto& e : a->GetArray())
    if (e.IsReference()) out.push_back(e.GetReference());
  return out;
}

std::string stream_body(const Bytes& der, bool compress) {
  if (compress) {
    uLongf len = compressBound(static_cast<uLong>(der.size()));
    std::string z(len, '\0');
    if (compress2(reinterpret_cast<Bytef*>(z.data()), &len, der.data(), static_cast<uLong>(der.size()), Z_BEST_COMPRESSION) == Z_OK) {
      z.resize(len);
      return "<<\n/Length " + std::to_string(z.size()) + "\n/Filter /FlateDecode\n>>\nstream\n" + z + "\nendstream";
    }
  }
  return "<<\n/Length " + std::to_string(der.size()) + "\n>>\nstream\n" +
         std::string(reinterpret_cast<const char*>(der.data()), der.size()) + "\nendstream";
}

bool valid_vri_key(const std::string& k) {
  return k.size() == 40 && std::all_of(k.begin(), k.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); });
}

}  // namespace

std::string vri_key(std::span<const std::uint8_t> contents) {
  unsigned char h[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(contents.data(), contents.size(), h, &n, EVP_sha1(), nullptr);
  return to_hex(std::span<const std::uint8_t>(h, n), true);
}

Result<Bytes> add_dss(std::span<const std::uint8_t> original, const DssData& data) {
  for (const auto& v : data.vri)
    if (!valid_vri_key(v.key)) return make_error(Errc::invalid_argument, "a VRI key must be 40 uppercase hex digits");
  auto loaded = load(original);
  if (!loaded) return loaded.error();
  Doc& d = **loaded;
  try {
    const PdfObject* root_ref = d.trailer->GetDictionary().GetKey(PdfName("Root"));
    if (!root_ref || !root_ref->IsReference()) return make_error(Errc::bad_pdf, "the PDF's trailer has no /Root reference");
    PdfReference catalog_ref = root_ref->GetReference();
    PdfObject* catalog = d.objs->GetObject(catalog_ref);
    if (!catalog || !catalog->IsDictionary() || catalog->HasStream()) return make_error(Errc::bad_pdf, "the PDF's catalog is missing");
    auto prev = last_startxref(original);
    if (!prev) return make_error(Errc::bad_pdf, "the PDF has no readable startxref at its end");
    bool classic = section_is_classic(original, *prev);
    std::uint32_t next = next_object_number(d);

    PdfObject* dss_entry = catalog->GetDictionary().GetKey(PdfName("DSS"));
    PdfObject* dss = resolve(d, dss_entry);
    if (dss && !dss->IsDictionary()) dss = nullptr;

    std::vector<NewObject> objects;
    PdfDictionary new_dss = dss ? dss->GetDictionary() : PdfDictionary();
    bool changed = false;

    // The three arrays: what is there (DER -> reference), then the new blobs.
    struct Kind {
      const char* array;     // in the DSS
      const char* vri_array; // in a VRI entry
      std::map<Bytes, PdfReference> known;
      PdfArray refs;
    };
    Kind kinds[3] = {{"Certs", "Cert", {}, {}}, {"OCSPs", "OCSP", {}, {}}, {"CRLs", "CRL", {}, {}}};
    for (auto& k : kinds) {
      if (PdfObject* a = key(d, dss, k.array); a && a->IsArray()) k.refs = a->GetArray();
      for (const auto& r : refs_in(d, dss, k.array)) {
        Bytes b = stream_bytes(d.objs->GetObject(r));
        if (!b.empty()) k.known.emplace(std::move(b), r);
      }
    }
    auto reference = [&](Kind& k, const Bytes& der) -> PdfReference {
      if (auto it = k.known.find(der); it != k.known.end()) return it->second;
      PdfReference r(next++, 0);
      objects.push_back({static_cast<std::uint32_t>(r.ObjectNumber()), 0, stream_body(der, data.compress)});
      k.known.emplace(der, r);
      k.refs.push_back(r);
      changed = true;
      return r;
    };
    const std::vector<Bytes>* top[3] = {&data.certs, &data.ocsps, &data.crls};
    for (int i = 0; i < 3; ++i)
      for (const auto& b : *top[i])
        if (!b.empty()) reference(kinds[i], b);

    // /VRI: existing entries kept; an entry of the same key gets the new references added.
    PdfObject* vri_old = key(d, dss, "VRI");
    PdfDictionary vri = vri_old && vri_old->IsDictionary() ? vri_old->GetDictionary() : PdfDictionary();
    for (const auto& v : data.vri) {
      PdfObject* old_entry = vri_old && vri_old->IsDictionary() ? key(d, vri_old, v.key.c_str()) : nullptr;
      if (old_entry && !old_entry->IsDictionary()) old_entry = nullptr;
      PdfDictionary entry = old_entry ? old_entry->GetDictionary() : PdfDictionary();
      if (!old_entry) changed = true;
      const std::vector<Bytes>* mine[3] = {&v.certs, &v.ocsps, &v.crls};
      for (int i = 0; i < 3; ++i) {
        PdfArray arr;
        if (PdfObject* a = key(d, old_entry, kinds[i].vri_array); a && a->IsArray()) arr = a->GetArray();
        std::set<PdfReference> have;
        for (const auto& e : arr)
          if (e.IsReference()) have.insert(e.GetReference());
        for (const auto& b : *mine[i]) {
          if (b.empty()) continue;
          PdfReference r = reference(kinds[i], b);
          if (have.insert(r).second) {
            arr.push_back(r);
            changed = true;
          }
        }
        if (!arr.empty()) entry.AddKey(PdfName(kinds[i].vri_array), arr);
      }
      if (!v.tu.empty()) entry.AddKey(PdfName("TU"), PdfString(v.tu));
      vri.AddKey(PdfName(v.key), entry);
    }
    if (!changed) return Bytes(original.begin(), original.end());

    for (auto& k : kinds)
      if (!k.refs.empty()) new_dss.AddKey(PdfName(k.array), k.refs);
    if (!vri.GetKeys().empty()) new_dss.AddKey(PdfName("VRI"), vri);

    // The DSS object: rewritten in place when indirect, else a new object the catalog points to.
    std::optional<PdfDictionary> new_catalog;
    std::uint32_t dss_num = 0;
    std::uint16_t dss_gen = 0;
    if (dss_entry && dss_entry->IsReference() && dss) {
      dss_num = static_cast<std::uint32_t>(dss_entry->GetReference().ObjectNumber());
      dss_gen = static_cast<std::uint16_t>(dss_entry->GetReference().GenerationNumber());
    } else {
      dss_num = next++;
      new_catalog = catalog->GetDictionary();
      new_catalog->AddKey(PdfName("DSS"), PdfReference(dss_num, 0));
    }
    objects.push_back({dss_num, dss_gen, serialize(PdfObject(new_dss))});

    // PDF 1.7 files declare the ETSI extension (ESIC, extension level 5) that defines the DSS.
    bool pdf2 = original.size() > 8 && std::memcmp(original.data(), "%PDF-2", 6) == 0;
    PdfObject* ext = key(d, catalog, "Extensions");
    if (!pdf2 && !(ext && ext->IsDictionary() && ext->GetDictionary().HasKey(PdfName("ESIC")))) {
      PdfDictionary e = ext && ext->IsDictionary() ? ext->GetDictionary() : PdfDictionary();
      PdfDictionary esic;
      esic.AddKey(PdfName("BaseVersion"), PdfName("1.7"));
      esic.AddKey(PdfName("ExtensionLevel"), PdfObject(static_cast<pdf_int64>(5)));
      e.AddKey(PdfName("ESIC"), esic);
      if (!new_catalog) new_catalog = catalog->GetDictionary();
      new_catalog->AddKey(PdfName("Extensions"), e);
    }
    if (new_catalog)
      objects.push_back({static_cast<std::uint32_t>(catalog_ref.ObjectNumber()),
                         static_cast<std::uint16_t>(catalog_ref.GenerationNumber()), serialize(PdfObject(*new_catalog))});

    std::size_t size = 0;
    for (const auto& o : objects) size += o.body.size() + 32;
    return write_update(original, d, catalog_ref, objects, next, *prev, classic, size + 4096).file;
  } catch (const PdfError& e) {
    return make_error(Errc::bad_pdf, std::string("the PDF cannot be read: ") + PdfError::ErrorName(e.GetError()));
  }
}

Result<DssContent> read_dss(std::span<const std::uint8_t> file) {
  auto loaded = load(file);
  if (!loaded) return loaded.error();
  Doc& d = **loaded;
  DssContent out;
  try {
    PdfObject* dss = key(d, catalog_of(d), "DSS");
    if (!dss || !dss->IsDictionary()) return out;
    out.present = true;
    auto blobs = [&](PdfObject* dict, const char* k) {
      std::vector<Bytes> v;
      for (const auto& r : refs_in(d, dict, k)) {
        Bytes b = stream_bytes(d.objs->GetObject(r));
        if (!b.empty()) v.push_back(std::move(b));
      }
      return v;
    };
    out.certs = blobs(dss, "Certs");
    out.ocsps = blobs(dss, "OCSPs");
    out.crls = blobs(dss, "CRLs");
    PdfObject* vri = key(d, dss, "VRI");
    if (vri && vri->IsDictionary()) {
      for (const auto& [name, obj] : vri->GetDictionary().GetKeys()) {
        PdfObject* e = resolve(d, obj);
        if (!e || !e->IsDictionary()) continue;
        VriEntry v;
        v.key = name.GetName();
        v.certs = blobs(e, "Cert");
        v.ocsps = blobs(e, "OCSP");
        v.crls = blobs(e, "CRL");
        if (PdfObject* tu = key(d, e, "TU"); tu && tu->IsString()) v.tu = tu->GetString().GetStringUtf8();
        out.vri[v.key] = std::move(v);
      }
    }
  } catch (const PdfError& e) {
    return make_error(Errc::bad_pdf, std::string("the PDF's DSS cannot be read: ") + PdfError::ErrorName(e.GetError()));
  }
  return out;
}

}  // namespace hocba::pdf
