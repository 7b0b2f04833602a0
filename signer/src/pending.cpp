// A pending signature's file: survives a restart, and is checked on reading as untrusted input.
//
//   "HOCBA-PENDING-SIGNATURE\n"   24 bytes
//   version                       u32, big-endian (1)
//   records                       tag u16, length u64, value; each tag once except tsa-url
//   SHA-256 of everything above   32 bytes
#include <openssl/evp.h>

#include <cstring>

#include "hocba/signer/pades.h"
#include "hocba/signer/timestamp.h"
#include "ossl.h"

namespace hocba::signer {

namespace {

constexpr char kMagic[] = "HOCBA-PENDING-SIGNATURE\n";
constexpr std::size_t kMagicLen = sizeof kMagic - 1;
constexpr std::uint32_t kVersion = 1;

enum Tag : std::uint16_t {
  t_pdf = 1,
  t_byte_range = 2,
  t_contents_offset = 3,
  t_contents_length = 4,
  t_field_name = 5,
  t_cms = 6,
  t_signature_value = 7,
  t_level = 8,
  t_timestamp_hash = 9,
  t_tsa_url = 10,
  t_created = 11,
};

void put_be(Bytes& out, std::uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
std::uint64_t get_be(const std::uint8_t* p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

void put(Bytes& out, Tag t, std::span<const std::uint8_t> v) {
  put_be(out, t, 2);
  put_be(out, v.size(), 8);
  out.insert(out.end(), v.begin(), v.end());
}
void put(Bytes& out, Tag t, const std::string& s) {
  put(out, t, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}
void put_u64(Bytes& out, Tag t, std::uint64_t v) {
  Bytes b;
  put_be(b, v, 8);
  put(out, t, b);
}

Bytes sha256(std::span<const std::uint8_t> d) {
  Bytes out(32);
  unsigned len = 0;
  EVP_Digest(d.data(), d.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

Error damaged(const std::string& why) {
  return make_error(Errc::invalid_argument, "not a usable pending signature file: " + why);
}

}  // namespace

Bytes PendingSignature::serialize() const {
  Bytes out(kMagic, kMagic + kMagicLen);
  put_be(out, kVersion, 4);
  put(out, t_pdf, prepared_pdf);
  Bytes br;
  for (auto v : byte_range) put_be(br, static_cast<std::uint64_t>(v), 8);
  put(out, t_byte_range, br);
  put_u64(out, t_contents_offset, contents_offset);
  put_u64(out, t_contents_length, contents_length);
  put(out, t_field_name, field_name);
  put(out, t_cms, cms);
  put(out, t_signature_value, signature_value);
  put_u64(out, t_level, static_cast<std::uint64_t>(level));
  put_u64(out, t_timestamp_hash, static_cast<std::uint64_t>(timestamp_hash));
  for (const auto& u : tsa_urls) put(out, t_tsa_url, u);
  put_u64(out, t_created, static_cast<std::uint64_t>(created_unix));
  Bytes sum = sha256(out);
  out.insert(out.end(), sum.begin(), sum.end());
  return out;
}

Result<PendingSignature> PendingSignature::parse(std::span<const std::uint8_t> in) {
  if (in.size() < kMagicLen + 4 + 32 || std::memcmp(in.data(), kMagic, kMagicLen) != 0)
    return damaged("it does not start with the pending-signature header");
  std::uint32_t version = static_cast<std::uint32_t>(get_be(in.data() + kMagicLen, 4));
  if (version != kVersion) return damaged("version " + std::to_string(version) + " is not known to this hocba");
  std::span<const std::uint8_t> body = in.first(in.size() - 32);
  if (sha256(body) != Bytes(in.end() - 32, in.end())) return damaged("its checksum does not match (truncated or changed)");

  PendingSignature p;
  std::uint32_t seen = 0;
  std::size_t at = kMagicLen + 4;
  auto u64 = [](std::span<const std::uint8_t> v, std::uint64_t& out) {
    if (v.size() != 8) return false;
    out = get_be(v.data(), 8);
    return true;
  };
  while (at < body.size()) {
    if (body.size() - at < 10) return damaged("a record is cut short");
    auto tag = static_cast<std::uint16_t>(get_be(body.data() + at, 2));
    std::uint64_t len = get_be(body.data() + at + 2, 8);
    at += 10;
    if (len > body.size() - at) return damaged("a record is longer than the file");
    auto v = body.subspan(at, static_cast<std::size_t>(len));
    at += static_cast<std::size_t>(len);
    if (tag != t_tsa_url) {
      if (tag == 0 || tag > t_created) return damaged("unknown record " + std::to_string(tag));
      if (seen & (1u << tag)) return damaged("record " + std::to_string(tag) + " appears twice");
      seen |= 1u << tag;
    }
    std::uint64_t n = 0;
    switch (tag) {
      case t_pdf: p.prepared_pdf.assign(v.begin(), v.end()); break;
      case t_byte_range:
        if (v.size() != 32) return damaged("the byte range is not four numbers");
        for (int i = 0; i < 4; ++i) p.byte_range[i] = static_cast<std::int64_t>(get_be(v.data() + 8 * i, 8));
        break;
      case t_contents_offset:
        if (!u64(v, n)) return damaged("bad /Contents offset");
        p.contents_offset = static_cast<std::size_t>(n);
        break;
      case t_contents_length:
        if (!u64(v, n)) return damaged("bad /Contents length");
        p.contents_length = static_cast<std::size_t>(n);
        break;
      case t_field_name: p.field_name.assign(v.begin(), v.end()); break;
      case t_cms: p.cms.assign(v.begin(), v.end()); break;
      case t_signature_value: p.signature_value.assign(v.begin(), v.end()); break;
      case t_level:
        if (!u64(v, n) || n > static_cast<std::uint64_t>(Level::B_LTA)) return damaged("bad level");
        p.level = static_cast<Level>(n);
        break;
      case t_timestamp_hash:
        if (!u64(v, n) || n > static_cast<std::uint64_t>(Hash::sha512)) return damaged("bad timestamp hash");
        p.timestamp_hash = static_cast<Hash>(n);
        break;
      case t_tsa_url: p.tsa_urls.emplace_back(v.begin(), v.end()); break;
      case t_created:
        if (!u64(v, n)) return damaged("bad creation time");
        p.created_unix = static_cast<std::int64_t>(n);
        break;
    }
  }
  for (Tag t : {t_pdf, t_byte_range, t_contents_offset, t_contents_length, t_cms, t_signature_value, t_level})
    if (!(seen & (1u << t))) return damaged("record " + std::to_string(t) + " is missing");

  // The placeholder: the gap between the two ranges is exactly the /Contents string, all zeros.
  const auto& f = p.prepared_pdf;
  const auto& br = p.byte_range;
  std::size_t off = p.contents_offset, len = p.contents_length;
  if (br[0] != 0 || br[1] < 0 || br[2] < 0 || br[3] < 0 || static_cast<std::uint64_t>(br[1]) != off || len < 2 ||
      off > f.size() || len > f.size() - off || static_cast<std::uint64_t>(br[2]) != off + len ||
      static_cast<std::uint64_t>(br[3]) != f.size() - off - len)
    return damaged("its byte range does not match its document");
  if (f[off] != '<' || f[off + len - 1] != '>') return damaged("its /Contents placeholder is not where it says");
  for (std::size_t i = off + 1; i + 1 < off + len; ++i)
    if (f[i] != '0') return damaged("its /Contents placeholder is not empty");
  if ((len - 2) / 2 < p.cms.size()) return damaged("its CMS does not fit its placeholder");

  // The CMS: one SignerInfo whose signature is the recorded value, and which verifies over the
  // document's byte ranges (a pending file paired with another document is caught here).
  auto sv = cms_signature_value(p.cms);
  if (!sv || *sv != p.signature_value) return damaged("its CMS does not hold its signature value");
  const unsigned char* q = p.cms.data();
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &q, static_cast<long>(p.cms.size())), CMS_ContentInfo_free);
  Bytes signed_data(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(off));
  signed_data.insert(signed_data.end(), f.begin() + static_cast<std::ptrdiff_t>(off + len), f.end());
  if (!cms || cms_verify_detached(cms.get(), signed_data, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
    std::string why = drain_openssl_errors();
    return damaged("its signature does not verify over its document (" + why + ")");
  }
  return p;
}

}  // namespace hocba::signer
