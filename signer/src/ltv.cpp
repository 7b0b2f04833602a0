// PAdES B-LT and B-LTA: validation data in the DSS, document timestamps (see ltv.h).
#include "hocba/signer/ltv.h"

#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include <spdlog/spdlog.h>

#include <ctime>
#include <map>
#include <set>

#include "hocba/pdf/dss.h"
#include "hocba/pdf/signing.h"
#include "ltv_internal.h"
#include "ossl.h"

namespace hocba::signer {

namespace detail {

namespace {
using Pkcs7Ptr = std::unique_ptr<PKCS7, decltype(&PKCS7_free)>;
}  // namespace

bool contains(const std::vector<Bytes>& v, const Bytes& b) {
  for (const auto& x : v)
    if (x == b) return true;
  return false;
}

std::vector<Bytes> token_certificates(std::span<const std::uint8_t> token_der, Bytes* tsa) {
  std::vector<Bytes> out;
  const unsigned char* p = token_der.data();
  Pkcs7Ptr token(d2i_PKCS7(nullptr, &p, static_cast<long>(token_der.size())), PKCS7_free);
  if (!token || !PKCS7_type_is_signed(token.get()) || !token->d.sign) {
    ERR_clear_error();
    return out;
  }
  if (tsa) {
    STACK_OF(X509)* signers = PKCS7_get0_signers(token.get(), nullptr, 0);
    if (signers && sk_X509_num(signers) == 1) *tsa = x509_to_der(sk_X509_value(signers, 0));
    sk_X509_free(signers);
  }
  STACK_OF(X509)* certs = token->d.sign->cert;
  for (int i = 0; certs && i < sk_X509_num(certs); ++i) out.push_back(x509_to_der(sk_X509_value(certs, i)));
  ERR_clear_error();
  return out;
}

SignatureParts signature_parts(std::span<const std::uint8_t> contents, bool document_timestamp) {
  SignatureParts out;
  if (document_timestamp) {
    out.certs = token_certificates(contents, &out.signer);
    out.tsa = out.signer;
    out.timestamp_certs = out.certs;
    if (auto info = read_timestamp_token(contents)) out.timestamp_time = info->gen_time;
    ERR_clear_error();
    return out;
  }
  const unsigned char* p = contents.data();
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(contents.size())), CMS_ContentInfo_free);
  STACK_OF(CMS_SignerInfo)* sis = cms ? CMS_get0_SignerInfos(cms.get()) : nullptr;
  if (!sis || sk_CMS_SignerInfo_num(sis) < 1) {
    ERR_clear_error();
    return out;
  }
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(sis, 0);
  STACK_OF(X509)* certs = CMS_get1_certs(cms.get());
  for (int i = 0; certs && i < sk_X509_num(certs); ++i) {
    X509* x = sk_X509_value(certs, i);
    out.certs.push_back(x509_to_der(x));
    if (CMS_SignerInfo_cert_cmp(si, x) == 0) out.signer = out.certs.back();
  }
  sk_X509_pop_free(certs, X509_free);
  int at = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
  if (at >= 0) {
    ASN1_TYPE* v = X509_ATTRIBUTE_get0_type(CMS_unsigned_get_attr(si, at), 0);
    if (v && v->type == V_ASN1_SEQUENCE) {
      out.timestamp.assign(v->value.sequence->data, v->value.sequence->data + v->value.sequence->length);
      out.timestamp_certs = token_certificates(out.timestamp, &out.tsa);
      if (auto info = read_timestamp_token(out.timestamp)) out.timestamp_time = info->gen_time;
    }
  }
  ERR_clear_error();
  return out;
}

AnchoredChain chain_to_anchor(const Bytes& cert, const std::vector<Bytes>& pool, const std::vector<Bytes>& anchors) {
  std::vector<Bytes> candidates = pool;
  candidates.insert(candidates.end(), anchors.begin(), anchors.end());
  AnchoredChain out;
  std::vector<Bytes> chain = build_chain(cert, candidates);
  if (anchors.empty()) {
    out.certs = std::move(chain);
    auto top = x509_from_der(out.certs.back());
    out.complete = top && X509_check_issued(top.get(), top.get()) == X509_V_OK;
  } else {
    for (auto& c : chain) {
      out.certs.push_back(c);
      if (contains(anchors, c)) {
        out.complete = true;
        break;
      }
    }
  }
  ERR_clear_error();
  return out;
}

std::string subject_name(const Bytes& cert) {
  auto x = x509_from_der(cert);
  return x ? name_to_string(X509_get_subject_name(x.get())) : std::string("(unreadable certificate)");
}

std::string common_name(const Bytes& cert) {
  auto x = x509_from_der(cert);
  if (!x) return "(unknown)";
  X509_NAME* n = X509_get_subject_name(x.get());
  int idx = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
  if (idx < 0) return name_to_string(n);
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, idx)));
  std::string out = len > 0 ? std::string(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len)) : name_to_string(n);
  OPENSSL_free(utf8);
  return out;
}

std::chrono::system_clock::time_point not_after(const Bytes& cert) {
  auto x = x509_from_der(cert);
  return x ? asn1_time_point(X509_get0_notAfter(x.get())) : std::chrono::system_clock::time_point{};
}

}  // namespace detail

using namespace detail;

namespace {

std::string revoked_message(const RevocationStatus& st) {
  return "the certificate " + st.subject + " (serial " + st.serial_hex + ") was revoked on " + iso_time(st.revoked_at, 7 * 60) +
         (st.reason.empty() ? "" : " (" + st.reason + ")") + ", according to " +
         (st.source == RevocationStatus::Source::ocsp ? "the OCSP responder at " : "the CRL at ") + st.origin;
}

void add_unique(std::vector<Bytes>& v, const Bytes& b) {
  if (!b.empty() && !contains(v, b)) v.push_back(b);
}

// A name for the new document timestamp field that no field has yet.
std::string archive_field_name(const pdf::Inspection& ins) {
  std::set<std::string> taken(ins.empty_signature_fields.begin(), ins.empty_signature_fields.end());
  for (const auto& s : ins.signatures) taken.insert(s.field_name);
  for (int i = 1;; ++i)
    if (!taken.count("ArchiveTimestamp" + std::to_string(i))) return "ArchiveTimestamp" + std::to_string(i);
}

}  // namespace

Status check_signer_validity(const Bytes& signer, std::chrono::system_clock::time_point at) {
  auto x = x509_from_der(signer);
  if (!x) return make_error(Errc::invalid_argument, "the signer's certificate cannot be read; signing refused");
  auto from = asn1_time_point(X509_get0_notBefore(x.get())), until = asn1_time_point(X509_get0_notAfter(x.get()));
  auto vn = [](std::chrono::system_clock::time_point t) { return iso_time(t, 7 * 60); };
  std::string who = "the signer's certificate " + subject_name(signer) + " (serial " + serial_hex(x.get()) + ")";
  std::string period = " (valid from " + vn(from) + " to " + vn(until) + ")";
  if (until < at) {
    spdlog::warn("SIGNER_CERTIFICATE_EXPIRED subject={} not_after={}", subject_name(signer), vn(until));
    return make_error(Errc::verify_failed, who + " expired on " + vn(until) + period + "; signing refused");
  }
  if (from > at) {
    spdlog::warn("SIGNER_CERTIFICATE_NOT_YET_VALID subject={} not_before={}", subject_name(signer), vn(from));
    return make_error(Errc::verify_failed, who + " is not valid until " + vn(from) + period + "; signing refused");
  }
  return {};
}

Result<std::vector<std::string>> check_signer_revocation(const Bytes& signer, const std::vector<Bytes>& candidates,
                                                         const LtvOptions& opts) {
  std::vector<std::string> warnings;
  if (!opts.revocation || opts.policy == RevocationPolicy::skip) return warnings;
  auto chain = chain_to_anchor(signer, candidates, opts.trust_anchors);
  auto problem = [&](Error e) -> Status {
    if (opts.policy == RevocationPolicy::require)
      return make_error(e.code, e.message + "; signing refused (revocation policy require: use --revocation prefer to sign anyway)");
    warnings.push_back(e.message);
    spdlog::warn("REVOCATION_UNAVAILABLE policy=prefer error={}", e.message);
    return {};
  };
  std::size_t last = chain.complete ? chain.certs.size() - 1 : chain.certs.size();
  for (std::size_t i = 0; i < last; ++i) {
    const Bytes& c = chain.certs[i];
    if (i + 1 >= chain.certs.size()) {
      auto top = x509_from_der(c);
      bool root = top && X509_check_issued(top.get(), top.get()) == X509_V_OK;
      ERR_clear_error();
      auto st = problem(make_error(Errc::unavailable, "the chain of the signer's certificate " +
                                                          (root ? "ends at the root " + subject_name(c) + ", which is not a trust anchor (give it with --trust)"
                                                                : "stops at " + subject_name(c) +
                                                                      " (its issuer is not known: give it with --chain, and the root with --trust)")));
      if (!st) return st.error();
      break;
    }
    if (i > 0 && has_ocsp_nocheck(c)) continue;
    auto r = opts.revocation->check(c, chain.certs[i + 1]);
    if (!r) {
      auto st = problem(r.error());
      if (!st) return st.error();
      continue;
    }
    if (r->status == CertStatus::revoked) return make_error(Errc::verify_failed, revoked_message(*r) + "; signing refused");
  }
  return warnings;
}

Result<ExtendOutcome> extend(std::span<const std::uint8_t> pdf_in, Level level, const LtvOptions& opts) {
  if (level != Level::B_LT && level != Level::B_LTA)
    return make_error(Errc::invalid_argument, "a signed document is extended to B-LT or B-LTA");
  if (level == Level::B_LTA && !opts.timestamps) return make_error(Errc::invalid_argument, "PAdES B-LTA needs a timestamp authority");
  auto ins = pdf::inspect(pdf_in);
  if (!ins) return ins.error();
  auto existing = pdf::read_dss(pdf_in);
  if (!existing) return existing.error();

  // What needs validation data: every signature, and the last document timestamp.
  struct Item {
    const pdf::FoundSignature* sig;
    bool doc_ts;
    SignatureParts parts;
  };
  std::vector<Item> items;
  const pdf::FoundSignature* last_doc_ts = nullptr;
  for (const auto& s : ins->signatures) {
    if (s.type == "DocTimeStamp") last_doc_ts = &s;
    else items.push_back({&s, false, signature_parts(s.contents, false)});
  }
  if (items.empty()) return make_error(Errc::invalid_argument, "the document has no signature to add validation data for");
  if (last_doc_ts) items.push_back({last_doc_ts, true, signature_parts(last_doc_ts->contents, true)});

  std::vector<Bytes> pool = opts.extra_certs;
  for (const auto& c : existing->certs) add_unique(pool, c);
  for (const auto& it : items) {
    for (const auto& c : it.parts.certs) add_unique(pool, c);
    for (const auto& c : it.parts.timestamp_certs) add_unique(pool, c);
  }

  ExtendOutcome out;
  std::vector<std::string> problems;
  bool every_timestamped = true;
  bool checking = opts.revocation && opts.policy != RevocationPolicy::skip;
  std::map<Bytes, Result<RevocationStatus>> seen;  // one question per certificate in this call
  pdf::DssData data;
  std::string tu = pdf_date(std::chrono::system_clock::now(), opts.utc_offset_minutes);
  std::set<Bytes> certs_in_vri, ocsps_in_vri, crls_in_vri;

  for (auto& it : items) {
    std::string what = it.doc_ts ? "document timestamp \"" + it.sig->field_name + "\"" : "signature \"" + it.sig->field_name + "\"";
    if (it.parts.signer.empty()) {
      problems.push_back("the " + what + " carries no signer certificate");
      continue;
    }
    pdf::VriEntry vri;
    vri.key = pdf::vri_key(it.sig->contents);
    vri.tu = tu;
    std::vector<Bytes> heads{it.parts.signer};
    if (!it.doc_ts) {
      if (it.parts.tsa.empty()) {
        every_timestamped = false;
        out.warnings.push_back("the " + what + " has no signature timestamp (PAdES B-B): its validation data is added, but it "
                               "cannot reach B-LT");
      } else {
        heads.push_back(it.parts.tsa);
      }
    }
    for (const auto& head : heads) {
      auto chain = chain_to_anchor(head, pool, opts.trust_anchors);
      for (const auto& c : chain.certs) add_unique(vri.certs, c);
      if (!chain.complete)
        problems.push_back("the chain of " + subject_name(head) + " (" + what + ") stops at " + subject_name(chain.certs.back()) +
                           (opts.trust_anchors.empty() ? ", which is not a root" : ", which is not a trust anchor") +
                           ": give the missing CA certificates with --chain and the root with --trust");
      if (!checking) continue;
      std::size_t last = chain.certs.size() - 1;  // the anchor needs none; an incomplete chain's top has no issuer
      for (std::size_t i = 0; i < last; ++i) {
        const Bytes& c = chain.certs[i];
        if (has_ocsp_nocheck(c)) continue;
        auto f = seen.find(c);
        if (f == seen.end()) f = seen.emplace(c, opts.revocation->check(c, chain.certs[i + 1])).first;
        const auto& r = f->second;
        if (!r) {
          if (std::find(problems.begin(), problems.end(), r.error().message) == problems.end()) problems.push_back(r.error().message);
          continue;
        }
        (r->source == RevocationStatus::Source::ocsp ? vri.ocsps : vri.crls).push_back(r->evidence);
        for (const auto& rc : r->certs) add_unique(vri.certs, rc);
        if (r->status == CertStatus::revoked) {
          std::string w = revoked_message(*r);
          if (std::find(out.warnings.begin(), out.warnings.end(), w) == out.warnings.end()) out.warnings.push_back(w);
        }
      }
    }
    for (const auto& c : vri.certs) {
      add_unique(data.certs, c);
      certs_in_vri.insert(c);
    }
    for (const auto& o : vri.ocsps) {
      add_unique(data.ocsps, o);
      ocsps_in_vri.insert(o);
    }
    for (const auto& c : vri.crls) {
      add_unique(data.crls, c);
      crls_in_vri.insert(c);
    }
    data.vri.push_back(std::move(vri));
    ++out.signatures;
  }
  out.certs = certs_in_vri.size();
  out.ocsps = ocsps_in_vri.size();
  out.crls = crls_in_vri.size();

  if (!problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
    if (checking && opts.policy == RevocationPolicy::require) return make_error(Errc::unavailable, all);
    for (auto& p : problems) out.warnings.push_back(std::move(p));
  }
  if (!checking)
    out.warnings.push_back("revocation was not checked (policy skip): without revocation data the record does not reach B-LT");
  out.complete = problems.empty() && checking && every_timestamped;

  auto with_dss = pdf::add_dss(pdf_in, data);
  if (!with_dss) return with_dss.error();
  out.pdf = std::move(*with_dss);
  out.level = out.complete ? Level::B_LT : Level::B_T;
  spdlog::info("LTV_DSS signatures={} certs={} ocsps={} crls={} complete={}", out.signatures, out.certs, out.ocsps, out.crls,
               out.complete);

  if (level == Level::B_LTA) {
    // The archive timestamp: a document timestamp (ETSI.RFC3161) over everything, DSS included.
    pdf::SignatureRequest req;
    req.field_name = archive_field_name(*ins);
    req.type = "DocTimeStamp";
    req.sub_filter = "ETSI.RFC3161";
    req.contents_size = opts.timestamps->estimated_token_size() + kTimestampMargin;
    auto prepared = pdf::prepare_signature(out.pdf, req);
    if (!prepared) return prepared.error();
    auto token = opts.timestamps->timestamp(pdf::signed_bytes(*prepared));
    if (!token) return token.error();
    if (auto st = pdf::embed_signature(*prepared, token->der); !st)
      return make_error(Errc::too_large, "the archive timestamp (" + std::to_string(token->der.size()) +
                                             " bytes) does not fit the space reserved for it; try again (the TSA's token size is now known)");
    out.pdf = std::move(prepared->file);
    out.archive_field = prepared->field_name;
    out.archive_timestamp = std::move(*token);
    if (out.complete) out.level = Level::B_LTA;
    spdlog::info("LTV_ARCHIVE_TIMESTAMP field={} size={}", out.archive_field, out.archive_timestamp->der.size());
  }
  return out;
}

}  // namespace hocba::signer
