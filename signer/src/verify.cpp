#include "hocba/signer/verify.h"

#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/x509v3.h>

#include <boost/json.hpp>
#include <sstream>

#include "hocba/pdf/signing.h"
#include "hocba/signer/pades.h"
#include "hocba/signer/timestamp.h"
#include "ossl.h"

namespace hocba::signer {

namespace {

using CertStack = std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)>;
void free_cert_stack(STACK_OF(X509)* s) { sk_X509_pop_free(s, X509_free); }

std::string obj_name(const ASN1_OBJECT* o) {
  char buf[128];
  OBJ_obj2txt(buf, sizeof buf, o, 0);
  return buf;
}

// The DER of a SigningCertificateV2 naming `cert` with hash `md` (hashAlgorithm omitted for SHA-256,
// its DEFAULT, as DER requires).
Bytes ess_v2_der(const EVP_MD* md, X509* cert, bool issuer_serial) {
  ESS_SIGNING_CERT_V2* sc = OSSL_ESS_signing_cert_v2_new_init(md, cert, nullptr, issuer_serial ? 1 : 0);
  Bytes out;
  if (!sc) return out;
  int n = i2d_ESS_SIGNING_CERT_V2(sc, nullptr);
  if (n > 0) {
    out.resize(static_cast<std::size_t>(n));
    unsigned char* p = out.data();
    i2d_ESS_SIGNING_CERT_V2(sc, &p);
  }
  ESS_SIGNING_CERT_V2_free(sc);
  return out;
}

// Checks the CMS against PAdES baseline B (EN 319 142-1 §6.3) and RFC 5035.
void check_pades(CMS_ContentInfo* cms, CMS_SignerInfo* si, X509* signer, const std::string& sub_filter,
                 std::vector<std::string>& problems) {
  if (sub_filter != "ETSI.CAdES.detached")
    problems.push_back("SubFilter is " + sub_filter + ", not ETSI.CAdES.detached: not a PAdES signature");
  if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) problems.push_back("CMS is not SignedData");
  if (OBJ_obj2nid(CMS_get0_eContentType(cms)) != NID_pkcs7_data) problems.push_back("encapsulated content type is not id-data");
  if (CMS_get0_content(cms) && *CMS_get0_content(cms)) problems.push_back("CMS is not detached");
  int ct = CMS_signed_get_attr_by_NID(si, NID_pkcs9_contentType, -1);
  if (ct < 0) problems.push_back("signed attribute content-type is missing");
  if (CMS_signed_get_attr_by_NID(si, NID_pkcs9_messageDigest, -1) < 0) problems.push_back("signed attribute message-digest is missing");
  if (CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1) >= 0)
    problems.push_back("signed attribute signing-time is present (PAdES puts the time in /M)");
  int v2 = CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2, -1);
  int v1 = CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificate, -1);
  if (v2 < 0 && v1 < 0) {
    problems.push_back("signed attribute signing-certificate-v2 is missing");
  } else if (v2 >= 0) {
    X509_ATTRIBUTE* a = CMS_signed_get_attr(si, v2);
    ASN1_TYPE* t = X509_ATTRIBUTE_get0_type(a, 0);
    if (X509_ATTRIBUTE_count(a) != 1 || !t || t->type != V_ASN1_SEQUENCE) {
      problems.push_back("signing-certificate-v2 is not an ESSCertIDv2 SEQUENCE");
    } else if (signer) {
      Bytes found(t->value.sequence->data, t->value.sequence->data + t->value.sequence->length);
      // Re-encode what a correct attribute would be, for each hash RFC 5035 users pick, and compare.
      bool match = false;
      for (const EVP_MD* md : {EVP_sha256(), EVP_sha384(), EVP_sha512()})
        for (bool with_issuer : {true, false}) match = match || found == ess_v2_der(md, signer, with_issuer);
      if (!match) problems.push_back("signing-certificate-v2 does not name the signer's certificate");
    }
  }
}

// The first signature-time-stamp attribute of the SignerInfo, checked against its signature value.
TimestampReport check_signature_timestamp(CMS_SignerInfo* si, const std::vector<Bytes>& anchors) {
  TimestampReport t;
  int at = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
  if (at < 0) return t;
  t.present = true;
  X509_ATTRIBUTE* a = CMS_unsigned_get_attr(si, at);
  ASN1_TYPE* v = X509_ATTRIBUTE_get0_type(a, 0);
  if (!v || v->type != V_ASN1_SEQUENCE) {
    t.detail = "the signature-time-stamp attribute does not hold a token";
    return t;
  }
  std::span<const std::uint8_t> token(v->value.sequence->data, static_cast<std::size_t>(v->value.sequence->length));
  ASN1_OCTET_STRING* sig = CMS_SignerInfo_get0_signature(si);
  auto c = check_timestamp_token(token, std::span<const std::uint8_t>(ASN1_STRING_get0_data(sig), static_cast<std::size_t>(ASN1_STRING_length(sig))),
                                 anchors);
  ERR_clear_error();
  if (!c) {
    t.detail = c.error().message;
    return t;
  }
  if (c->info.gen_time != std::chrono::system_clock::time_point{}) {
    t.time = iso_time(c->info.gen_time, 7 * 60);
    t.time_utc = iso_time(c->info.gen_time, 0);
    if (t.time_utc.size() > 6) t.time_utc.replace(t.time_utc.size() - 6, 6, "Z");
  }
  t.tsa = c->info.tsa_name;
  t.imprint_matches = c->imprint_matches;
  t.verifies = c->verifies;
  t.detail = c->detail;
  return t;
}

}  // namespace

std::string pades_level(const SignatureReport& s) {
  if (s.type != "Sig" || s.sub_filter != "ETSI.CAdES.detached") return "";
  if (s.timestamp.present && s.timestamp.imprint_matches && s.timestamp.verifies) return "B-T";
  return "B-B";
}

Result<VerifyReport> verify_pdf(std::span<const std::uint8_t> file, const std::vector<Bytes>& anchors) {
  auto insp = pdf::inspect(file);
  if (!insp) return insp.error();
  VerifyReport rep;
  rep.file_size = file.size();
  rep.revisions = insp->revisions.size();

  X509StorePtr store(X509_STORE_new(), X509_STORE_free);
  for (const auto& a : anchors)
    if (auto x = x509_from_der(a)) X509_STORE_add_cert(store.get(), x.get());

  for (const auto& s : insp->signatures) {
    SignatureReport r;
    r.field_name = s.field_name;
    r.sub_filter = s.sub_filter;
    r.type = s.type;
    r.signing_time = s.pdf_date;
    r.covered_bytes = s.covered_end;
    r.covers_whole_document = s.covered_end == file.size();
    for (const auto& rv : insp->revisions)
      if (rv.end_offset > s.covered_end) ++r.later_revisions;
    auto finish = [&] { rep.signatures.push_back(std::move(r)); };

    if (!s.byte_range_well_formed) {
      r.integrity_detail = "the /ByteRange does not cover the whole revision except exactly the /Contents string";
      finish();
      continue;
    }
    const unsigned char* p = s.contents.data();
    CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(s.contents.size())), CMS_ContentInfo_free);
    if (!cms) {
      ERR_clear_error();
      r.integrity_detail = "/Contents is not a DER CMS ContentInfo";
      finish();
      continue;
    }
    for (auto q = p; q < s.contents.data() + s.contents.size(); ++q)
      if (*q != 0) {
        r.pades_problems.push_back("bytes other than zero padding follow the CMS in /Contents");
        break;
      }
    if (s.type == "DocTimeStamp") {
      r.integrity_detail = "document timestamps are verified from issue #4 on";
    }
    STACK_OF(CMS_SignerInfo)* sis = CMS_get0_SignerInfos(cms.get());
    int nsi = sis ? sk_CMS_SignerInfo_num(sis) : 0;
    if (nsi != 1) r.pades_problems.push_back("CMS has " + std::to_string(nsi) + " SignerInfos; PAdES requires exactly one");
    if (nsi < 1) {
      r.integrity_detail = "CMS has no SignerInfo";
      finish();
      continue;
    }
    CMS_SignerInfo* si = sk_CMS_SignerInfo_value(sis, 0);
    CertStack certs(CMS_get1_certs(cms.get()), free_cert_stack);
    X509* signer = nullptr;
    for (int i = 0; certs && i < sk_X509_num(certs.get()); ++i)
      if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs.get(), i)) == 0) signer = sk_X509_value(certs.get(), i);
    if (signer) {
      r.signer_subject = name_to_string(X509_get_subject_name(signer));
      r.signer_issuer = name_to_string(X509_get_issuer_name(signer));
    }
    X509_ALGOR *dig = nullptr, *sigalg = nullptr;
    CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &dig, &sigalg);
    const ASN1_OBJECT* o = nullptr;
    X509_ALGOR_get0(&o, nullptr, nullptr, dig);
    r.digest_algorithm = obj_name(o);
    X509_ALGOR_get0(&o, nullptr, nullptr, sigalg);
    r.signature_algorithm = obj_name(o);
    check_pades(cms.get(), si, signer, s.sub_filter, r.pades_problems);

    // Integrity: the message digest over the byte ranges, and the signature over the attributes.
    Bytes signed_data;
    signed_data.reserve(s.covered_end);
    const auto& br = s.byte_range;
    signed_data.insert(signed_data.end(), file.begin() + br[0], file.begin() + br[0] + br[1]);
    signed_data.insert(signed_data.end(), file.begin() + br[2], file.begin() + br[2] + br[3]);
    BioPtr content(BIO_new_mem_buf(signed_data.data(), static_cast<int>(signed_data.size())), BIO_free);
    ERR_clear_error();
    if (!signer) {
      r.integrity_detail = "the signer's certificate is not in the CMS";
    } else if (CMS_verify(cms.get(), nullptr, nullptr, content.get(), nullptr, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) == 1) {
      r.intact = true;
    } else {
      std::string why = drain_openssl_errors();
      r.integrity_detail = why.find("digest failure") != std::string::npos
                               ? "the signed bytes were changed after signing (message digest mismatch)"
                           : why.find("signature failure") != std::string::npos || why.find("verification failure") != std::string::npos
                               ? "the signature does not verify with the signer's public key"
                               : "CMS verification failed: " + why;
    }

    // Chain to the trust anchors.
    if (signer && !anchors.empty()) {
      X509StoreCtxPtr ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
      X509_STORE_CTX_init(ctx.get(), store.get(), signer, certs.get());
      X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_PARTIAL_CHAIN);
      if (X509_verify_cert(ctx.get()) == 1) {
        r.chain = SignatureReport::Chain::trusted;
        STACK_OF(X509)* ch = X509_STORE_CTX_get0_chain(ctx.get());
        for (int i = 0; i < sk_X509_num(ch); ++i) r.chain_subjects.push_back(name_to_string(X509_get_subject_name(sk_X509_value(ch, i))));
      } else {
        r.chain = SignatureReport::Chain::untrusted;
        r.chain_detail = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
      }
      ERR_clear_error();
    }
    r.timestamp = check_signature_timestamp(si, anchors);
    r.level = pades_level(r);
    r.valid = r.intact && r.pades_problems.empty() && r.chain != SignatureReport::Chain::untrusted &&
              (!r.timestamp.present || (r.timestamp.imprint_matches && r.timestamp.verifies));
    finish();
  }
  rep.all_valid = !rep.signatures.empty();
  for (const auto& s : rep.signatures) rep.all_valid = rep.all_valid && s.valid;
  return rep;
}

namespace {
const char* chain_name(SignatureReport::Chain c) {
  switch (c) {
    case SignatureReport::Chain::not_checked: return "not_checked";
    case SignatureReport::Chain::trusted: return "trusted";
    case SignatureReport::Chain::untrusted: return "untrusted";
  }
  return "?";
}
}  // namespace

std::string to_json(const VerifyReport& r) {
  boost::json::object o;
  o["file_size"] = r.file_size;
  o["revisions"] = r.revisions;
  o["all_valid"] = r.all_valid;
  boost::json::array sigs;
  for (const auto& s : r.signatures) {
    boost::json::object j;
    j["field"] = s.field_name;
    j["type"] = s.type;
    j["sub_filter"] = s.sub_filter;
    j["valid"] = s.valid;
    j["intact"] = s.intact;
    if (!s.integrity_detail.empty()) j["integrity_detail"] = s.integrity_detail;
    j["covers_whole_document"] = s.covers_whole_document;
    j["covered_bytes"] = s.covered_bytes;
    j["later_revisions"] = s.later_revisions;
    j["signer"] = s.signer_subject;
    j["issuer"] = s.signer_issuer;
    j["signing_time"] = s.signing_time;
    j["digest_algorithm"] = s.digest_algorithm;
    j["signature_algorithm"] = s.signature_algorithm;
    j["chain"] = chain_name(s.chain);
    if (!s.chain_detail.empty()) j["chain_detail"] = s.chain_detail;
    boost::json::array cs;
    for (const auto& c : s.chain_subjects) cs.emplace_back(c);
    j["chain_subjects"] = std::move(cs);
    boost::json::array pp;
    for (const auto& p : s.pades_problems) pp.emplace_back(p);
    j["pades_problems"] = std::move(pp);
    j["level"] = s.level;
    boost::json::object ts;
    ts["present"] = s.timestamp.present;
    if (s.timestamp.present) {
      ts["time"] = s.timestamp.time;
      ts["time_utc"] = s.timestamp.time_utc;
      ts["tsa"] = s.timestamp.tsa;
      ts["imprint_matches"] = s.timestamp.imprint_matches;
      ts["verifies"] = s.timestamp.verifies;
      if (!s.timestamp.detail.empty()) ts["detail"] = s.timestamp.detail;
    }
    j["timestamp"] = std::move(ts);
    sigs.emplace_back(std::move(j));
  }
  o["signatures"] = std::move(sigs);
  return boost::json::serialize(o);
}

std::string to_text(const VerifyReport& r) {
  std::ostringstream os;
  os << r.signatures.size() << " signature(s), " << r.revisions << " revision(s), " << r.file_size << " bytes\n";
  int i = 0;
  for (const auto& s : r.signatures) {
    os << "\nSignature " << ++i << " in field \"" << s.field_name << "\": " << (s.valid ? "VALID" : "NOT VALID") << "\n";
    os << "  signer:    " << (s.signer_subject.empty() ? "(unknown)" : s.signer_subject) << "\n";
    if (!s.signer_issuer.empty()) os << "  issued by: " << s.signer_issuer << "\n";
    if (!s.signing_time.empty()) os << "  time (/M): " << s.signing_time << "\n";
    os << "  type:      " << s.sub_filter << ", " << s.digest_algorithm << ", " << s.signature_algorithm << "\n";
    if (!s.level.empty()) os << "  level:     PAdES " << s.level << "\n";
    if (s.timestamp.present) {
      const auto& t = s.timestamp;
      os << "  timestamp: " << (t.time.empty() ? "(no time)" : t.time + " (" + t.time_utc + ")") << " by "
         << (t.tsa.empty() ? "(unknown TSA)" : t.tsa) << "\n";
      if (t.imprint_matches && t.verifies)
        os << "             the token covers this signature and verifies\n";
      else
        os << "             NOT valid: " << t.detail << "\n";
    } else if (s.type == "Sig") {
      os << "  timestamp: none (the time is the signer's claim)\n";
    }
    os << "  integrity: " << (s.intact ? "the signed bytes are unchanged and the signature verifies" : s.integrity_detail) << "\n";
    if (s.covers_whole_document)
      os << "  coverage:  the whole document\n";
    else
      os << "  coverage:  " << s.covered_bytes << " of " << r.file_size << " bytes; " << s.later_revisions
         << " later revision(s) follow\n";
    switch (s.chain) {
      case SignatureReport::Chain::not_checked: os << "  chain:     not checked (no --trust given)\n"; break;
      case SignatureReport::Chain::trusted:
        os << "  chain:     trusted:";
        for (const auto& c : s.chain_subjects) os << "\n             " << c;
        os << "\n";
        break;
      case SignatureReport::Chain::untrusted: os << "  chain:     NOT trusted: " << s.chain_detail << "\n"; break;
    }
    for (const auto& p : s.pades_problems) os << "  problem:   " << p << "\n";
  }
  if (r.signatures.empty()) os << "The document carries no signature.\n";
  return os.str();
}

}  // namespace hocba::signer
