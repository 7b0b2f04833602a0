#include "hocba/signer/verify.h"

#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <optional>
#include <sstream>

#include "hocba/pdf/dss.h"
#include "hocba/pdf/signing.h"
#include "hocba/signer/pades.h"
#include "hocba/signer/revocation.h"
#include "hocba/signer/timestamp.h"
#include "ltv_internal.h"
#include "ossl.h"

namespace hocba::signer {

namespace {

// A timestamp's genTime as shown: +07:00 and UTC ("…Z"); left empty when the token had none.
void set_times(std::chrono::system_clock::time_point gen_time, std::string& local, std::string& utc) {
  if (gen_time == std::chrono::system_clock::time_point{}) return;
  local = iso_time(gen_time, 7 * 60);
  utc = iso_time(gen_time, 0);
  if (utc.size() > 6) utc.replace(utc.size() - 6, 6, "Z");
}

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
  set_times(c->info.gen_time, t.time, t.time_utc);
  t.tsa = c->info.tsa_name;
  t.imprint_matches = c->imprint_matches;
  t.verifies = c->verifies;
  t.detail = c->detail;
  return t;
}

// What the DSS shows for a signature: every certificate of the signer's chain and of its signature
// timestamp's TSA chain (up to the anchor) is there (or in the CMS / token), and each but the anchor
// has revocation data that verifies (an OCSP response from the issuer or its responder, or the
// issuer's CRL). Responders with id-pkix-ocsp-nocheck need none.
struct Need {
  bool ok = true;
  std::string missing;
  std::optional<RevocationStatus> signer;  // the signer certificate's status, when found
};

std::optional<RevocationStatus> evidence_for(const Bytes& cert, const Bytes& issuer, const pdf::DssContent& dss) {
  for (const auto& o : dss.ocsps) {
    auto r = check_ocsp_response(o, cert, issuer, dss.certs, std::nullopt);
    if (r && r->status != CertStatus::unknown) return std::move(*r);
  }
  for (const auto& c : dss.crls) {
    auto r = check_crl(c, cert, issuer, std::nullopt);
    if (r) return std::move(*r);
  }
  ERR_clear_error();
  return std::nullopt;
}

Need need_for(const detail::SignatureParts& p, const pdf::DssContent& dss, const std::vector<Bytes>& anchors) {
  Need n;
  auto miss = [&](const std::string& m) {
    if (n.ok) n.missing = m;
    else if (n.missing.find(m) == std::string::npos) n.missing += "; " + m;
    n.ok = false;
  };
  if (p.signer.empty()) {
    miss("the signer's certificate is not in the CMS");
    return n;
  }
  std::vector<Bytes> pool = p.certs;
  pool.insert(pool.end(), p.timestamp_certs.begin(), p.timestamp_certs.end());
  pool.insert(pool.end(), dss.certs.begin(), dss.certs.end());
  std::vector<Bytes> heads{p.signer};
  if (!p.tsa.empty()) heads.push_back(p.tsa);
  for (std::size_t h = 0; h < heads.size(); ++h) {
    auto chain = detail::chain_to_anchor(heads[h], pool, anchors);
    if (!chain.complete)
      miss("the chain of " + detail::subject_name(heads[h]) + " does not reach " + (anchors.empty() ? "a root" : "a trust anchor"));
    for (std::size_t i = 0; i + 1 < chain.certs.size(); ++i) {
      const Bytes& c = chain.certs[i];
      if (!detail::contains(dss.certs, c) && !detail::contains(p.certs, c) && !detail::contains(p.timestamp_certs, c))
        miss("the certificate " + detail::subject_name(c) + " is not in the DSS");
      if (i > 0 && has_ocsp_nocheck(c)) continue;
      auto ev = dss.present ? evidence_for(c, chain.certs[i + 1], dss) : std::nullopt;
      if (!ev) miss("the DSS has no verified revocation data for " + detail::subject_name(c));
      else if (h == 0 && i == 0) n.signer = std::move(ev);
    }
  }
  if (!dss.present) {
    n.ok = false;
    n.missing = "the document has no DSS (no long-term validation data)";
  }
  return n;
}

std::string vn_time(std::chrono::system_clock::time_point t) {
  return t == std::chrono::system_clock::time_point{} ? std::string() : iso_time(t, 7 * 60);
}

// "D:20261122093000+07'00'" -> "2026-11-22T09:30:00+07:00" (as much as is there).
std::string pdf_date_iso(const std::string& d) {
  std::string s = d.rfind("D:", 0) == 0 ? d.substr(2) : d;
  if (s.size() < 14 || !std::all_of(s.begin(), s.begin() + 14, [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return d;
  std::string out = s.substr(0, 4) + "-" + s.substr(4, 2) + "-" + s.substr(6, 2) + "T" + s.substr(8, 2) + ":" + s.substr(10, 2) + ":" +
                    s.substr(12, 2);
  std::string tz = s.substr(14);
  if (tz.empty() || tz[0] == 'Z') return out + "Z";
  if ((tz[0] == '+' || tz[0] == '-') && tz.size() >= 3) {
    std::string hh = tz.substr(1, 2), mm = tz.size() >= 6 ? tz.substr(4, 2) : "00";
    return out + tz[0] + hh + ":" + mm;
  }
  return out;
}

std::string first_reason(const SignatureReport& r) {
  if (!r.intact) return r.integrity_detail.empty() ? "the signature does not verify" : r.integrity_detail;
  if (!r.pades_problems.empty()) return r.pades_problems.front();
  if (r.chain == SignatureReport::Chain::untrusted) return "the signer's certificate does not chain to a trust anchor (" + r.chain_detail + ")";
  if (r.timestamp.present && !(r.timestamp.imprint_matches && r.timestamp.verifies)) return "its timestamp is not valid: " + r.timestamp.detail;
  if (r.revocation.status == "revoked") return "the signer's certificate was revoked on " + r.revocation.revoked_at + ", before the signature's time";
  return "not valid";
}

std::string signature_summary(const SignatureReport& r, const std::string& signer_cn, const std::string& signer_expires) {
  if (!r.valid) return "NOT valid: " + first_reason(r);
  std::string when = r.timestamp.present ? r.timestamp.time + " (trusted timestamp)" : pdf_date_iso(r.signing_time) + " (the signer's own claim)";
  std::string s = "Valid: signed by " + signer_cn + " on " + when;
  if (r.level == "B-LTA")
    s += ", long-term verifiable (B-LTA) until the archive timestamp's certificate expires on " + r.long_term.verifiable_until +
         " (renew it before then with `hocba extend --level B-LTA`)";
  else if (r.level == "B-LT")
    s += ", with long-term validation data (B-LT); add an archive timestamp (`hocba extend --level B-LTA`) before the timestamp's "
         "certificate expires on " + r.long_term.verifiable_until;
  else if (r.level == "B-T")
    s += ", timestamped (B-T); checkable while the signer's certificate can still be checked online (it expires on " + signer_expires +
         "); add validation data with `hocba extend --level B-LT`";
  else if (r.level == "B-B")
    s += " (B-B: no trusted time)";
  if (r.revocation.status == "revoked") s += "; its certificate was revoked later, on " + r.revocation.revoked_at;
  if (r.chain == SignatureReport::Chain::not_checked) s += "; the certificate chain was not checked (give --trust or --trust-dir)";
  return s;
}

}  // namespace

std::string pades_level(const SignatureReport& s) {
  if (s.type != "Sig" || s.sub_filter != "ETSI.CAdES.detached") return "";
  if (!(s.timestamp.present && s.timestamp.imprint_matches && s.timestamp.verifies)) return "B-B";
  if (!s.long_term.dss_complete) return "B-T";
  if (s.long_term.archive_timestamp.empty()) return "B-LT";
  return "B-LTA";
}

Result<VerifyReport> verify_pdf(std::span<const std::uint8_t> file, const std::vector<Bytes>& anchors) {
  auto insp = pdf::inspect(file);
  if (!insp) return insp.error();
  VerifyReport rep;
  rep.file_size = file.size();
  rep.revisions = insp->revisions.size();
  pdf::DssContent dss;
  if (auto d = pdf::read_dss(file)) dss = std::move(*d);
  rep.dss_present = dss.present;
  rep.dss_certs = dss.certs.size();
  rep.dss_ocsps = dss.ocsps.size();
  rep.dss_crls = dss.crls.size();
  rep.dss_vri = dss.vri.size();

  X509StorePtr store(X509_STORE_new(), X509_STORE_free);
  for (const auto& a : anchors)
    if (auto x = x509_from_der(a)) X509_STORE_add_cert(store.get(), x.get());

  auto signed_bytes_of = [&](const pdf::FoundSignature& s) {
    Bytes out;
    out.reserve(s.covered_end);
    const auto& br = s.byte_range;
    out.insert(out.end(), file.begin() + br[0], file.begin() + br[0] + br[1]);
    out.insert(out.end(), file.begin() + br[2], file.begin() + br[2] + br[3]);
    return out;
  };
  auto later_revisions = [&](std::size_t end) {
    std::size_t n = 0;
    for (const auto& rv : insp->revisions)
      if (rv.end_offset > end) ++n;
    return n;
  };

  // Document timestamps first: the archive timestamps of B-LTA.
  struct DocTs {
    const pdf::FoundSignature* sig;
    std::size_t report;
    std::optional<pdf::DssContent> dss;  // the DSS of the revision it covers, read when needed
  };
  std::vector<DocTs> doc_ts;
  for (const auto& s : insp->signatures) {
    if (s.type != "DocTimeStamp") continue;
    DocumentTimestampReport d;
    d.field_name = s.field_name;
    d.covered_bytes = s.covered_end;
    d.covers_whole_document = s.covered_end == file.size();
    d.later_revisions = later_revisions(s.covered_end);
    if (s.sub_filter != "ETSI.RFC3161") {
      d.detail = "SubFilter is " + s.sub_filter + ", not ETSI.RFC3161";
    } else if (!s.byte_range_well_formed) {
      d.detail = "the /ByteRange does not cover the whole revision except exactly the /Contents string";
    } else {
      Bytes data = signed_bytes_of(s);
      auto c = check_timestamp_token(s.contents, data, anchors);
      ERR_clear_error();
      if (!c) {
        d.detail = c.error().message;
      } else {
        set_times(c->info.gen_time, d.time, d.time_utc);
        d.tsa = c->info.tsa_name;
        d.intact = c->imprint_matches;
        d.verifies = c->verifies;
        d.detail = c->imprint_matches ? c->detail : "the bytes it covers were changed (" + c->detail + ")";
        Bytes tsa;
        detail::token_certificates(s.contents, &tsa);
        if (!tsa.empty()) d.tsa_certificate_expires = vn_time(detail::not_after(tsa));
      }
    }
    d.valid = d.intact && d.verifies;
    doc_ts.push_back({&s, rep.document_timestamps.size(), std::nullopt});
    rep.document_timestamps.push_back(std::move(d));
  }
  // The last valid archive timestamp keeps everything before it verifiable until its TSA expires.
  std::string archive_until;
  for (const auto& d : rep.document_timestamps)
    if (d.valid) archive_until = d.tsa_certificate_expires;

  for (const auto& s : insp->signatures) {
    if (s.type == "DocTimeStamp") continue;
    SignatureReport r;
    r.field_name = s.field_name;
    r.sub_filter = s.sub_filter;
    r.type = s.type;
    r.signing_time = s.pdf_date;
    r.covered_bytes = s.covered_end;
    r.covers_whole_document = s.covered_end == file.size();
    r.later_revisions = later_revisions(s.covered_end);
    auto finish = [&] {
      if (r.summary.empty()) r.summary = "NOT valid: " + first_reason(r);
      rep.signatures.push_back(std::move(r));
    };

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
    Bytes signed_data = signed_bytes_of(s);
    ERR_clear_error();
    if (!signer) {
      r.integrity_detail = "the signer's certificate is not in the CMS";
    } else if (cms_verify_detached(cms.get(), signed_data, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) == 1) {
      r.intact = true;
    } else {
      std::string why = drain_openssl_errors();
      r.integrity_detail = why.find("digest failure") != std::string::npos
                               ? "the signed bytes were changed after signing (message digest mismatch)"
                           : why.find("signature failure") != std::string::npos || why.find("verification failure") != std::string::npos
                               ? "the signature does not verify with the signer's public key"
                               : "CMS verification failed: " + why;
    }

    // Chain to the trust anchors (intermediates from the CMS and the DSS).
    if (signer && !anchors.empty()) {
      CertStack untrusted(sk_X509_new_null(), free_cert_stack);
      for (int i = 0; certs && i < sk_X509_num(certs.get()); ++i) {
        X509_up_ref(sk_X509_value(certs.get(), i));
        sk_X509_push(untrusted.get(), sk_X509_value(certs.get(), i));
      }
      for (const auto& c : dss.certs)
        if (auto x = x509_from_der(c)) sk_X509_push(untrusted.get(), x.release());
      X509StoreCtxPtr ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
      X509_STORE_CTX_init(ctx.get(), store.get(), signer, untrusted.get());
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
    bool timestamp_good = r.timestamp.present && r.timestamp.imprint_matches && r.timestamp.verifies;

    // Long-term validation data: the DSS of the whole file, then the DSS each archive timestamp covers.
    auto parts = detail::signature_parts(s.contents, false);
    Need now = need_for(parts, dss, anchors);
    r.long_term.dss_complete = now.ok;
    r.long_term.missing = now.missing;
    if (now.signer) {
      const auto& st = *now.signer;
      r.revocation.status = status_name(st.status);
      r.revocation.source = st.source == RevocationStatus::Source::ocsp ? "DSS OCSP" : "DSS CRL";
      r.revocation.produced = vn_time(st.produced);
      if (st.status == CertStatus::revoked) {
        r.revocation.revoked_at = vn_time(st.revoked_at);
        r.revocation.reason = st.reason;
      }
    }
    if (timestamp_good && now.ok) {
      r.long_term.verifiable_until = parts.tsa.empty() ? std::string() : vn_time(detail::not_after(parts.tsa));
      for (auto& t : doc_ts) {
        const auto& d = rep.document_timestamps[t.report];
        if (!d.valid || t.sig->covered_end <= s.covered_end) continue;
        if (!t.dss) {
          auto at = pdf::read_dss(file.first(t.sig->covered_end));
          t.dss = at ? std::move(*at) : pdf::DssContent{};
        }
        if (need_for(parts, *t.dss, anchors).ok) {
          r.long_term.archive_timestamp = d.field_name;
          r.long_term.verifiable_until = archive_until;
          break;
        }
      }
    }
    r.level = pades_level(r);

    // A certificate revoked before the signature's time (trusted if timestamped, else now) voids it.
    bool revoked_before = false;
    if (now.signer && now.signer->status == CertStatus::revoked) {
      auto when = timestamp_good ? parts.timestamp_time : std::chrono::system_clock::now();
      revoked_before = now.signer->revoked_at <= when;
    }
    r.valid = r.intact && r.pades_problems.empty() && r.chain != SignatureReport::Chain::untrusted &&
              (!r.timestamp.present || timestamp_good) && !revoked_before;
    r.summary = signature_summary(r, detail::common_name(parts.signer), vn_time(detail::not_after(parts.signer)));
    finish();
  }
  rep.all_valid = !rep.signatures.empty();
  for (const auto& s : rep.signatures) rep.all_valid = rep.all_valid && s.valid;
  for (const auto& d : rep.document_timestamps) rep.all_valid = rep.all_valid && d.valid;

  // The document as a whole.
  if (rep.signatures.empty()) {
    rep.summary = "NOT valid: the document carries no signature";
  } else if (!rep.all_valid) {
    std::string bad;
    std::size_t n = 0;
    for (const auto& s : rep.signatures)
      if (!s.valid && n++ == 0) bad = "signature in field \"" + s.field_name + "\": " + first_reason(s);
    for (const auto& d : rep.document_timestamps)
      if (!d.valid && n++ == 0) bad = "document timestamp in field \"" + d.field_name + "\": " + d.detail;
    rep.summary = "NOT valid: " + std::to_string(n) + " of " + std::to_string(rep.signatures.size() + rep.document_timestamps.size()) +
                  " signatures and timestamps fail; first: " + bad;
  } else {
    static const char* order[] = {"B-B", "B-T", "B-LT", "B-LTA"};
    int lowest = 3;
    std::string names;
    for (const auto& s : rep.signatures) {
      int l = 0;
      for (int i = 0; i < 4; ++i)
        if (s.level == order[i]) l = i;
      lowest = std::min(lowest, l);
      std::string cn = s.signer_subject;
      if (auto at = cn.find("CN="); at != std::string::npos) {
        cn = cn.substr(at + 3);
        // RFC 2253: the next unescaped comma ends the value.
        for (std::size_t i = 0; i < cn.size(); ++i)
          if (cn[i] == '\\') ++i;
          else if (cn[i] == ',') { cn.resize(i); break; }
      }
      names += (names.empty() ? "" : "; ") + cn + " on " + (s.timestamp.present ? s.timestamp.time : pdf_date_iso(s.signing_time));
    }
    rep.summary = "Valid: " + std::to_string(rep.signatures.size()) + " signature" + (rep.signatures.size() == 1 ? "" : "s") + " (" +
                  names + "); the record is PAdES " + order[lowest];
    if (lowest == 3) rep.summary += ", long-term verifiable until the archive timestamp's certificate expires on " + archive_until;
    else if (lowest == 2) rep.summary += " (long-term validation data embedded; add an archive timestamp with `hocba extend --level B-LTA`)";
    else if (lowest == 1) rep.summary += " (timestamped; add long-term validation data with `hocba extend --level B-LT`)";
    else rep.summary += " (no trusted time)";
    if (!rep.signatures.empty() && rep.signatures.front().chain == SignatureReport::Chain::not_checked)
      rep.summary += "; certificate chains not checked (give --trust or --trust-dir)";
  }
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
    boost::json::object rv;
    rv["status"] = s.revocation.status;
    rv["source"] = s.revocation.source;
    if (!s.revocation.produced.empty()) rv["produced"] = s.revocation.produced;
    if (!s.revocation.revoked_at.empty()) rv["revoked_at"] = s.revocation.revoked_at;
    if (!s.revocation.reason.empty()) rv["reason"] = s.revocation.reason;
    j["revocation"] = std::move(rv);
    boost::json::object lt;
    lt["dss_complete"] = s.long_term.dss_complete;
    if (!s.long_term.missing.empty()) lt["missing"] = s.long_term.missing;
    if (!s.long_term.archive_timestamp.empty()) lt["archive_timestamp"] = s.long_term.archive_timestamp;
    if (!s.long_term.verifiable_until.empty()) lt["verifiable_until"] = s.long_term.verifiable_until;
    j["long_term"] = std::move(lt);
    j["summary"] = s.summary;
    sigs.emplace_back(std::move(j));
  }
  o["signatures"] = std::move(sigs);
  boost::json::array dts;
  for (const auto& d : r.document_timestamps) {
    boost::json::object j;
    j["field"] = d.field_name;
    j["valid"] = d.valid;
    j["intact"] = d.intact;
    j["verifies"] = d.verifies;
    j["time"] = d.time;
    j["time_utc"] = d.time_utc;
    j["tsa"] = d.tsa;
    j["tsa_certificate_expires"] = d.tsa_certificate_expires;
    j["covered_bytes"] = d.covered_bytes;
    j["covers_whole_document"] = d.covers_whole_document;
    j["later_revisions"] = d.later_revisions;
    if (!d.detail.empty()) j["detail"] = d.detail;
    dts.emplace_back(std::move(j));
  }
  o["document_timestamps"] = std::move(dts);
  boost::json::object dss;
  dss["present"] = r.dss_present;
  dss["certs"] = r.dss_certs;
  dss["ocsps"] = r.dss_ocsps;
  dss["crls"] = r.dss_crls;
  dss["vri"] = r.dss_vri;
  o["dss"] = std::move(dss);
  o["summary"] = r.summary;
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
    if (s.type == "Sig") {
      os << "  revocation: " << s.revocation.status;
      if (s.revocation.status != "not_checked") os << " (" << s.revocation.source << ", " << s.revocation.produced << ")";
      else os << " (no revocation data in the document)";
      if (!s.revocation.revoked_at.empty())
        os << ", revoked on " << s.revocation.revoked_at << (s.revocation.reason.empty() ? "" : " (" + s.revocation.reason + ")");
      os << "\n";
      if (s.long_term.dss_complete)
        os << "  long-term: the DSS holds the validation data" << (s.long_term.archive_timestamp.empty() ? "" : ", covered by the archive timestamp in \"" + s.long_term.archive_timestamp + "\"") << "\n";
      else if (!s.long_term.missing.empty())
        os << "  long-term: " << s.long_term.missing << "\n";
    }
    os << "  summary:   " << s.summary << "\n";
  }
  int k = 0;
  for (const auto& d : r.document_timestamps) {
    os << "\nDocument timestamp " << ++k << " in field \"" << d.field_name << "\": " << (d.valid ? "VALID" : "NOT VALID") << "\n";
    if (!d.time.empty()) os << "  time:      " << d.time << " (" << d.time_utc << ") by " << (d.tsa.empty() ? "(unknown TSA)" : d.tsa) << "\n";
    if (!d.tsa_certificate_expires.empty()) os << "  TSA certificate expires: " << d.tsa_certificate_expires << "\n";
    if (d.covers_whole_document) os << "  coverage:  the whole document\n";
    else os << "  coverage:  " << d.covered_bytes << " of " << r.file_size << " bytes; " << d.later_revisions << " later revision(s) follow\n";
    if (!d.valid) os << "  problem:   " << d.detail << "\n";
  }
  if (r.dss_present)
    os << "\nDSS: " << r.dss_certs << " certificate(s), " << r.dss_ocsps << " OCSP response(s), " << r.dss_crls << " CRL(s), " << r.dss_vri
       << " VRI entr" << (r.dss_vri == 1 ? "y" : "ies") << "\n";
  if (r.signatures.empty()) os << "The document carries no signature.\n";
  os << "\n" << r.summary << "\n";
  return os.str();
}

}  // namespace hocba::signer
