#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cctype>
#include <ctime>

#include "hocba/pdf/signing.h"
#include "hocba/signer/ltv.h"
#include "hocba/signer/pades.h"
#include "hocba/signer/timestamp.h"
#include "ossl.h"

namespace hocba::signer {

const char* level_name(Level l) {
  switch (l) {
    case Level::B_B: return "B-B";
    case Level::B_T: return "B-T";
    case Level::B_LT: return "B-LT";
    case Level::B_LTA: return "B-LTA";
  }
  return "?";
}

std::optional<Level> parse_level(const std::string& s) {
  std::string n;
  for (char c : s) n += c == '_' ? '-' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (Level l : {Level::B_B, Level::B_T, Level::B_LT, Level::B_LTA})
    if (n == level_name(l)) return l;
  return std::nullopt;
}

std::string pdf_date(std::chrono::system_clock::time_point t, int off) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t) + off * 60;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  int aoff = off < 0 ? -off : off;
  std::snprintf(buf, sizeof buf, "D:%04d%02d%02d%02d%02d%02d%c%02d'%02d'", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+', aoff / 60, aoff % 60);
  return buf;
}

std::string iso_time(std::chrono::system_clock::time_point t, int off) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t) + off * 60;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  int aoff = off < 0 ? -off : off;
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+', aoff / 60, aoff % 60);
  return buf;
}

namespace {

std::string name_entry(X509_NAME* n, int nid) {
  int idx = X509_NAME_get_index_by_NID(n, nid, -1);
  if (idx < 0) return {};
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, idx)));
  std::string out;
  if (len > 0) out.assign(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

// Stands in for the real key while sizing the placeholder: a signature of the largest size.
class SizingKey final : public SigningKey {
 public:
  explicit SizingKey(const SigningKey& k) : k_(k) {}
  const Bytes& certificate() const override { return k_.certificate(); }
  std::vector<Bytes> ca_certificates() const override { return k_.ca_certificates(); }
  bool is_rsa() const override { return k_.is_rsa(); }
  std::size_t max_signature_size() const override { return k_.max_signature_size(); }
  Result<Bytes> sign_digest(Hash, Scheme, std::span<const std::uint8_t>) override {
    return Bytes(k_.max_signature_size(), 0xff);
  }

 private:
  const SigningKey& k_;
};

}  // namespace

Result<PendingSignature> prepare_and_sign(std::span<const std::uint8_t> pdf, SigningKey& key, const PadesOptions& opts) {
  if (opts.level != Level::B_B && !opts.timestamps)
    return make_error(Errc::invalid_argument, std::string("PAdES ") + level_name(opts.level) + " needs a timestamp authority");
  if ((opts.level == Level::B_LT || opts.level == Level::B_LTA) && !opts.ltv)
    return make_error(Errc::invalid_argument, std::string("PAdES ") + level_name(opts.level) + " needs revocation settings (LtvOptions)");
  Scheme scheme = opts.scheme.value_or(key.is_rsa() ? Scheme::rsa_pkcs1 : Scheme::ecdsa);
  if (key.is_rsa() && scheme == Scheme::ecdsa) return make_error(Errc::invalid_argument, "an RSA key cannot make ECDSA signatures");
  if (!key.is_rsa() && scheme != Scheme::ecdsa) return make_error(Errc::invalid_argument, "an EC key signs with ECDSA only");

  std::vector<Bytes> candidates = key.ca_certificates();
  candidates.insert(candidates.end(), opts.extra_certs.begin(), opts.extra_certs.end());
  std::vector<Bytes> chain = build_chain(key.certificate(), candidates);

  // An expired, not yet valid or revoked certificate never signs (checked before the token is touched;
  // the validity period always, against the clock rather than opts.signing_time, which a caller sets).
  if (auto valid = check_signer_validity(key.certificate(), std::chrono::system_clock::now()); !valid) return valid.error();
  std::vector<std::string> warnings;
  if (opts.ltv) {
    auto checked = check_signer_revocation(key.certificate(), candidates, *opts.ltv);
    if (!checked) return checked.error();
    warnings = std::move(*checked);
  }

  // Size the placeholder from this key and chain: the CMS with a largest-size signature.
  SizingKey sizing(key);
  Bytes zero_digest(hash_len(opts.hash), 0);
  auto probe = build_pades_cms(sizing, opts.hash, scheme, zero_digest, chain);
  if (!probe) return probe.error();

  pdf::SignatureRequest req;
  req.field_name = opts.field_name;
  req.reason = opts.reason;
  req.location = opts.location;
  req.contact_info = opts.contact_info;
  std::string organisation;
  if (auto x = x509_from_der(key.certificate())) {
    // /Name: the signer's common name, for viewers that show it.
    X509_NAME* subj = X509_get_subject_name(x.get());
    req.signer_name = name_entry(subj, NID_commonName);
    organisation = name_entry(subj, NID_organizationName);
  }
  if (opts.appearance) {
    pdf::Appearance ap;
    ap.image_png = opts.appearance->image_png;
    ap.image_fills_box = opts.appearance->seal;
    if (!opts.appearance->seal) {
      // The title block, one line per '\n' ("KT. HIỆU TRƯỞNG\nPHÓ HIỆU TRƯỞNG" for a deputy).
      for (std::size_t b = 0; b < opts.appearance->title.size();) {
        std::size_t e = opts.appearance->title.find('\n', b);
        if (e == std::string::npos) e = opts.appearance->title.size();
        if (e > b) ap.lines.push_back(opts.appearance->title.substr(b, e - b));
        b = e + 1;
      }
      if (!req.signer_name.empty()) ap.lines.push_back(req.signer_name);
      if (!organisation.empty() && organisation != req.signer_name) ap.lines.push_back(organisation);
      ap.lines.push_back(iso_time(opts.signing_time, opts.utc_offset_minutes));
    }
    req.appearance = std::move(ap);
  }
  req.certify_p = opts.certify_p;
  if (opts.lock_signed_fields) {
    auto before = pdf::inspect(pdf);
    if (!before) return before.error();
    for (const auto& s : before->signatures)
      if (s.type == "Sig") req.lock_fields.push_back(s.field_name);
    req.lock_fields.push_back(opts.field_name.empty() ? std::string() : opts.field_name);
    if (req.lock_fields.back().empty()) req.lock_fields.pop_back();
    if (req.lock_fields.empty()) req.lock_fields.push_back("");  // only the new field itself
  }
  req.pdf_date = pdf_date(opts.signing_time, opts.utc_offset_minutes);
  req.contents_size = probe->size() + 16;
  // B-T: room for the signature timestamp (the largest token these TSAs gave, or a default).
  if (opts.level != Level::B_B) req.contents_size += opts.timestamps->estimated_token_size() + kTimestampMargin;

  auto prepared = pdf::prepare_signature(pdf, req);
  if (!prepared) return prepared.error();

  // Hash the byte ranges.
  EvpMdCtxPtr mctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  const auto& br = prepared->byte_range;
  const auto& f = prepared->file;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned dlen = 0;
  if (!mctx || EVP_DigestInit_ex(mctx.get(), md_for(static_cast<int>(opts.hash)), nullptr) != 1 ||
      EVP_DigestUpdate(mctx.get(), f.data() + br[0], static_cast<std::size_t>(br[1])) != 1 ||
      EVP_DigestUpdate(mctx.get(), f.data() + br[2], static_cast<std::size_t>(br[3])) != 1 ||
      EVP_DigestFinal_ex(mctx.get(), digest, &dlen) != 1)
    return openssl_error("cannot hash the document");

  auto cms = build_pades_cms(key, opts.hash, scheme, std::span<const std::uint8_t>(digest, dlen), chain);
  if (!cms) return cms.error();
  auto sig_value = cms_signature_value(*cms);
  if (!sig_value) return sig_value.error();

  PendingSignature out;
  out.prepared_pdf = std::move(prepared->file);
  out.byte_range = prepared->byte_range;
  out.contents_offset = prepared->contents_offset;
  out.contents_length = prepared->contents_length;
  out.field_name = std::move(prepared->field_name);
  out.cms = std::move(*cms);
  out.signature_value = std::move(*sig_value);
  out.level = opts.level;
  if (opts.timestamps) {
    out.timestamp_hash = opts.timestamps->options().hash;
    out.tsa_urls = opts.tsa_urls.empty() ? opts.timestamps->options().urls : opts.tsa_urls;
  } else {
    out.tsa_urls = opts.tsa_urls;
  }
  out.created_unix = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  out.warnings = std::move(warnings);
  return out;
}

Result<SignOutcome> finish(PendingSignature pending, const std::optional<Bytes>& timestamp_token, const LtvOptions* ltv) {
  Level asked = pending.level;
  std::vector<std::string> warnings = std::move(pending.warnings);
  Bytes cms = pending.cms;
  Level level = Level::B_B;
  if (timestamp_token) {
    // The token must be this signature's: its imprint is the hash of the signature value.
    auto info = read_timestamp_token(*timestamp_token);
    if (!info) return info.error();
    const EVP_MD* md = EVP_get_digestbyname(info->imprint_algorithm.c_str());
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned hlen = 0;
    if (!md || EVP_Digest(pending.signature_value.data(), pending.signature_value.size(), h, &hlen, md, nullptr) != 1 ||
        Bytes(h, h + hlen) != info->imprint)
      return make_error(Errc::invalid_argument, "the timestamp token does not cover this signature");
    auto with = add_signature_timestamp(cms, *timestamp_token);
    if (!with) return with.error();
    cms = std::move(*with);
    level = Level::B_T;
  }
  std::size_t room = pending.contents_length >= 2 ? (pending.contents_length - 2) / 2 : 0;
  if (cms.size() > room)
    return make_error(Errc::too_large, "the signature with its timestamp (" + std::to_string(cms.size()) +
                                           " bytes) does not fit the space reserved in the PDF (" + std::to_string(room) +
                                           " bytes); finish it without a timestamp (B-B), or sign again");
  pdf::PreparedSignature prepared;
  prepared.file = std::move(pending.prepared_pdf);
  prepared.byte_range = pending.byte_range;
  prepared.contents_offset = pending.contents_offset;
  prepared.contents_length = pending.contents_length;
  prepared.field_name = pending.field_name;
  if (auto st = pdf::embed_signature(prepared, cms); !st) return st.error();
  SignOutcome out;
  out.cms_size = cms.size();
  out.reserved_size = room;
  out.field_name = prepared.field_name;
  out.pdf = std::move(prepared.file);
  out.level = level;
  out.warnings = std::move(warnings);
  if (level == Level::B_T && ltv && (asked == Level::B_LT || asked == Level::B_LTA)) {
    auto ext = extend(out.pdf, asked, *ltv);
    if (!ext) return ext.error();
    out.pdf = std::move(ext->pdf);
    out.level = ext->level;
    for (auto& w : ext->warnings) out.warnings.push_back(std::move(w));
  }
  return out;
}

Result<SignOutcome> sign_pdf(std::span<const std::uint8_t> pdf, SigningKey& key, const PadesOptions& opts) {
  auto pending = prepare_and_sign(pdf, key, opts);
  if (!pending) return pending.error();
  std::optional<Bytes> token;
  if (opts.level != Level::B_B) {
    auto t = opts.timestamps->timestamp(pending->signature_value);
    if (!t) return t.error();
    token = std::move(t->der);
  }
  if (opts.ltv && opts.level == Level::B_LTA && !opts.ltv->timestamps) {  // the archive timestamp from the same TSAs
    LtvOptions ltv = *opts.ltv;
    ltv.timestamps = opts.timestamps;
    return finish(std::move(*pending), token, &ltv);
  }
  return finish(std::move(*pending), token, opts.ltv);
}

}  // namespace hocba::signer
