// Revocation status: OCSP and CRLs, checked, cached, or read from pre-fetched files (see
// revocation.h).
#include "hocba/signer/revocation.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <limits>
#include <string_view>
#include <thread>

#include "hocba/common/bytes.h"
#include "hocba/signer/key.h"
#include "hocba/signer/pades.h"
#include "ossl.h"

namespace hocba::signer {

namespace {

using Clock = std::chrono::system_clock;
using OcspReqPtr = std::unique_ptr<OCSP_REQUEST, decltype(&OCSP_REQUEST_free)>;
using OcspRespPtr = std::unique_ptr<OCSP_RESPONSE, decltype(&OCSP_RESPONSE_free)>;
using OcspBasicPtr = std::unique_ptr<OCSP_BASICRESP, decltype(&OCSP_BASICRESP_free)>;
using OcspCertIdPtr = std::unique_ptr<OCSP_CERTID, decltype(&OCSP_CERTID_free)>;
using CrlPtr = std::unique_ptr<X509_CRL, decltype(&X509_CRL_free)>;

constexpr auto kSkew = std::chrono::minutes(5);

Clock::time_point to_time_point(const ASN1_TIME* t) { return asn1_time_point(t); }

std::string vn(Clock::time_point t) { return iso_time(t, 7 * 60); }

std::string subject_of(X509* x) { return x ? name_to_string(X509_get_subject_name(x)) : std::string("(unreadable certificate)"); }

Error bad(const std::string& what) {
  ERR_clear_error();
  return make_error(Errc::verify_failed, what);
}

// CRLReason names (RFC 5280 §5.3.1).
std::string reason_name(int r) {
  if (r < 0) return {};
  const char* s = OCSP_crl_reason_str(r);
  std::string out = s ? s : "";
  // OpenSSL's are "keyCompromise", "cACompromise", …: already the ASN.1 names.
  return out;
}

// A CRL as DER (the whole body, nothing after it) or as PEM: a body that starts, after any blank
// space, with "-----BEGIN X509 CRL-----" (some CAs, the Vietnam National Root CA's among them, serve
// their CRL so). Anything else, an HTML page that quotes a PEM block included, is not a CRL. The size
// limit is the caller's (the fetcher's, the offline folder's): PEM only decodes to less.
CrlPtr parse_crl(std::span<const std::uint8_t> data) {
  static constexpr std::string_view kPemBegin = "-----BEGIN X509 CRL-----";
  CrlPtr crl(nullptr, X509_CRL_free);
  std::size_t start = 0;
  while (start < data.size() && std::isspace(data[start])) ++start;
  std::string_view head(reinterpret_cast<const char*>(data.data()) + start, std::min(data.size() - start, kPemBegin.size()));
  if (head == kPemBegin) {
    if (data.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return crl;
    BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())), BIO_free);
    if (bio) crl.reset(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  } else {
    const unsigned char* p = data.data();
    crl.reset(d2i_X509_CRL(nullptr, &p, static_cast<long>(data.size())));
    if (crl && p != data.data() + data.size()) crl.reset();  // bytes after the CRL
  }
  ERR_clear_error();
  return crl;
}

Bytes crl_der(X509_CRL* crl) {
  int n = i2d_X509_CRL(crl, nullptr);
  if (n <= 0) return {};
  Bytes b(static_cast<std::size_t>(n));
  unsigned char* p = b.data();
  i2d_X509_CRL(crl, &p);
  return b;
}

OcspRespPtr parse_ocsp(std::span<const std::uint8_t> data) {
  const unsigned char* p = data.data();
  OcspRespPtr r(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(data.size())), OCSP_RESPONSE_free);
  if (r && p != data.data() + data.size()) r.reset();
  ERR_clear_error();
  return r;
}

// The CertID (SHA-1) as hex, the cache key.
std::string cert_id_key(X509* cert, X509* issuer) {
  OcspCertIdPtr id(OCSP_cert_to_id(EVP_sha1(), cert, issuer), OCSP_CERTID_free);
  if (!id) return {};
  unsigned char* der = nullptr;
  int n = i2d_OCSP_CERTID(id.get(), &der);
  std::string out = n > 0 ? to_hex(std::span<const std::uint8_t>(der, static_cast<std::size_t>(n))) : "";
  OPENSSL_free(der);
  return out;
}

// Revocation data must be current at `at`: issued no later than `at` (give or take the clock skew) and
// not past its nextUpdate. `what` names it in the error ("the CRL", "the OCSP response").
std::optional<Error> stale(const RevocationStatus& r, Clock::time_point at, const std::string& what) {
  if (r.this_update == Clock::time_point{} || r.this_update > at + kSkew)
    return bad(what + "'s thisUpdate (" + vn(r.this_update) + ") is in the future");
  if (r.next_update != Clock::time_point{} && r.next_update < at)
    return bad(what + " is out of date (its nextUpdate was " + vn(r.next_update) + ")");
  return std::nullopt;
}

}  // namespace

const char* policy_name(RevocationPolicy p) {
  switch (p) {
    case RevocationPolicy::require: return "require";
    case RevocationPolicy::prefer: return "prefer";
    case RevocationPolicy::skip: return "skip";
  }
  return "?";
}

std::optional<RevocationPolicy> parse_policy(const std::string& s) {
  for (auto p : {RevocationPolicy::require, RevocationPolicy::prefer, RevocationPolicy::skip})
    if (s == policy_name(p)) return p;
  return std::nullopt;
}

const char* status_name(CertStatus s) {
  switch (s) {
    case CertStatus::good: return "good";
    case CertStatus::revoked: return "revoked";
    case CertStatus::unknown: return "unknown";
  }
  return "?";
}

Result<Bytes> make_ocsp_request(const Bytes& cert_der, const Bytes& issuer_der, bool nonce) {
  auto cert = x509_from_der(cert_der), issuer = x509_from_der(issuer_der);
  if (!cert || !issuer) return make_error(Errc::invalid_argument, "a certificate cannot be read");
  OcspReqPtr req(OCSP_REQUEST_new(), OCSP_REQUEST_free);
  OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), cert.get(), issuer.get());
  if (!req || !id || !OCSP_request_add0_id(req.get(), id)) {
    OCSP_CERTID_free(id);
    return openssl_error("cannot build the OCSP request");
  }
  if (nonce && OCSP_request_add1_nonce(req.get(), nullptr, -1) != 1) return openssl_error("cannot add the OCSP nonce");
  int n = i2d_OCSP_REQUEST(req.get(), nullptr);
  if (n <= 0) return openssl_error("cannot encode the OCSP request");
  Bytes out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  i2d_OCSP_REQUEST(req.get(), &p);
  return out;
}

Result<RevocationStatus> check_ocsp_response(std::span<const std::uint8_t> response, const Bytes& cert_der, const Bytes& issuer_der,
                                             const std::vector<Bytes>& more_certs, std::optional<Clock::time_point> fresh_at,
                                             std::span<const std::uint8_t> request_der) {
  auto cert = x509_from_der(cert_der), issuer = x509_from_der(issuer_der);
  if (!cert || !issuer) return make_error(Errc::invalid_argument, "a certificate cannot be read");
  OcspRespPtr resp = parse_ocsp(response);
  if (!resp) return bad("the answer is not an OCSP response");
  int st = OCSP_response_status(resp.get());
  if (st != OCSP_RESPONSE_STATUS_SUCCESSFUL)
    return bad(std::string("the OCSP responder refused: ") + OCSP_response_status_str(st));
  OcspBasicPtr bs(OCSP_response_get1_basic(resp.get()), OCSP_BASICRESP_free);
  if (!bs) return bad("the OCSP response is not a BasicOCSPResponse");

  if (!request_der.empty()) {
    const unsigned char* p = request_der.data();
    OcspReqPtr req(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(request_der.size())), OCSP_REQUEST_free);
    if (!req) return openssl_error("cannot read back the OCSP request");
    // 1: the same nonce; -1: the responder sent none (allowed: many do not, RFC 8954); 0: a different one.
    int n = OCSP_check_nonce(req.get(), bs.get());
    if (n == 0 || n == 3) return bad("the OCSP response's nonce does not match the request (a stale or misrouted answer)");
  }

  // The SingleResponse for this certificate (its CertID may use any of these hashes); looked for
  // first, as it is cheap and a DSS holds answers about many certificates.
  int status = -1, reason = -1;
  ASN1_GENERALIZEDTIME *rev = nullptr, *thisupd = nullptr, *nextupd = nullptr;
  bool found = false;
  for (const EVP_MD* md : {EVP_sha1(), EVP_sha256(), EVP_sha384(), EVP_sha512()}) {
    OcspCertIdPtr id(OCSP_cert_to_id(md, cert.get(), issuer.get()), OCSP_CERTID_free);
    if (id && OCSP_resp_find_status(bs.get(), id.get(), &status, &reason, &rev, &thisupd, &nextupd) == 1) {
      found = true;
      break;
    }
  }
  ERR_clear_error();
  if (!found) return bad("the OCSP response does not cover this certificate");

  // The signature and the responder's authority: the issuer itself, or a delegated responder
  // (id-kp-OCSPSigning, issued by the issuer), valid when the response was produced.
  Clock::time_point produced = to_time_point(OCSP_resp_get0_produced_at(bs.get()));
  X509StorePtr store(X509_STORE_new(), X509_STORE_free);
  X509_STORE_add_cert(store.get(), issuer.get());
  X509_STORE_set_flags(store.get(), X509_V_FLAG_PARTIAL_CHAIN);
  if (produced != Clock::time_point{}) X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store.get()), Clock::to_time_t(produced));
  STACK_OF(X509)* extra = sk_X509_new_null();
  for (const auto& c : more_certs)
    if (auto x = x509_from_der(c)) sk_X509_push(extra, x.release());
  ERR_clear_error();
  int ok = OCSP_basic_verify(bs.get(), extra, store.get(), 0);
  sk_X509_pop_free(extra, X509_free);
  if (ok != 1) {
    std::string why = drain_openssl_errors();
    return bad("the OCSP response is not signed by the certificate's issuer or a responder it authorised (" + why + ")");
  }

  RevocationStatus out;
  out.source = RevocationStatus::Source::ocsp;
  out.status = status == V_OCSP_CERTSTATUS_GOOD ? CertStatus::good : status == V_OCSP_CERTSTATUS_REVOKED ? CertStatus::revoked : CertStatus::unknown;
  if (out.status == CertStatus::revoked) {
    out.revoked_at = to_time_point(rev);
    out.reason = reason_name(reason);
  }
  out.this_update = to_time_point(thisupd);
  out.next_update = nextupd ? to_time_point(nextupd) : Clock::time_point{};
  out.produced = produced;
  out.evidence.assign(response.begin(), response.end());
  if (const STACK_OF(X509)* certs = OCSP_resp_get0_certs(bs.get()))
    for (int i = 0; i < sk_X509_num(certs); ++i) out.certs.push_back(x509_to_der(sk_X509_value(certs, i)));
  out.subject = subject_of(cert.get());
  out.serial_hex = serial_hex(cert.get());
  if (fresh_at)
    if (auto e = stale(out, *fresh_at, "the OCSP response")) return *e;
  return out;
}

Result<RevocationStatus> check_crl(std::span<const std::uint8_t> data, const Bytes& cert_der, const Bytes& issuer_der,
                                   std::optional<Clock::time_point> fresh_at) {
  auto cert = x509_from_der(cert_der), issuer = x509_from_der(issuer_der);
  if (!cert || !issuer) return make_error(Errc::invalid_argument, "a certificate cannot be read");
  CrlPtr crl = parse_crl(data);
  if (!crl) return bad("the answer is not a CRL (DER or PEM)");
  if (X509_CRL_get_ext_by_NID(crl.get(), NID_delta_crl, -1) >= 0) return bad("the CRL is a delta CRL (not supported)");
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(issuer.get())) != 0)
    return bad("the CRL is issued by " + name_to_string(X509_CRL_get_issuer(crl.get())) + ", not by the certificate's issuer");
  if ((X509_get_extension_flags(issuer.get()) & EXFLAG_KUSAGE) && !(X509_get_key_usage(issuer.get()) & KU_CRL_SIGN))
    return bad("the certificate's issuer may not sign CRLs (keyUsage without cRLSign)");
  if (X509_CRL_verify(crl.get(), X509_get0_pubkey(issuer.get())) != 1)
    return bad("the CRL's signature does not verify with the issuer's key");

  RevocationStatus out;
  out.source = RevocationStatus::Source::crl;
  out.this_update = to_time_point(X509_CRL_get0_lastUpdate(crl.get()));
  out.next_update = X509_CRL_get0_nextUpdate(crl.get()) ? to_time_point(X509_CRL_get0_nextUpdate(crl.get())) : Clock::time_point{};
  out.produced = out.this_update;
  X509_REVOKED* entry = nullptr;
  int r = X509_CRL_get0_by_cert(crl.get(), &entry, cert.get());
  if (r == 1 && entry) {
    out.status = CertStatus::revoked;
    out.revoked_at = to_time_point(X509_REVOKED_get0_revocationDate(entry));
    if (auto* e = static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr))) {
      out.reason = reason_name(static_cast<int>(ASN1_ENUMERATED_get(e)));
      ASN1_ENUMERATED_free(e);
    }
  } else {
    out.status = CertStatus::good;  // not listed (or removeFromCRL)
  }
  ERR_clear_error();
  out.evidence = crl_der(crl.get());
  out.subject = subject_of(cert.get());
  out.serial_hex = serial_hex(cert.get());
  if (fresh_at)
    if (auto e = stale(out, *fresh_at, "the CRL")) return *e;
  return out;
}

std::vector<std::string> ocsp_urls(const Bytes& der) {
  std::vector<std::string> out;
  auto x = x509_from_der(der);
  if (!x) return out;
  STACK_OF(OPENSSL_STRING)* s = X509_get1_ocsp(x.get());
  for (int i = 0; s && i < sk_OPENSSL_STRING_num(s); ++i) {
    std::string u = sk_OPENSSL_STRING_value(s, i);
    if (u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0) out.push_back(u);
  }
  X509_email_free(s);
  ERR_clear_error();
  return out;
}

std::vector<std::string> crl_urls(const Bytes& der) {
  std::vector<std::string> out;
  auto x = x509_from_der(der);
  if (!x) return out;
  auto* dps = static_cast<STACK_OF(DIST_POINT)*>(X509_get_ext_d2i(x.get(), NID_crl_distribution_points, nullptr, nullptr));
  for (int i = 0; dps && i < sk_DIST_POINT_num(dps); ++i) {
    DIST_POINT* dp = sk_DIST_POINT_value(dps, i);
    if (!dp->distpoint || dp->distpoint->type != 0) continue;
    GENERAL_NAMES* names = dp->distpoint->name.fullname;
    for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
      GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, j);
      if (gn->type != GEN_URI) continue;
      std::string u(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier)),
                    static_cast<std::size_t>(ASN1_STRING_length(gn->d.uniformResourceIdentifier)));
      if (u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0) out.push_back(u);
    }
  }
  CRL_DIST_POINTS_free(dps);
  ERR_clear_error();
  return out;
}

bool has_ocsp_nocheck(const Bytes& der) {
  auto x = x509_from_der(der);
  bool yes = x && X509_get_ext_by_NID(x.get(), NID_id_pkix_OCSP_noCheck, -1) >= 0;
  ERR_clear_error();
  return yes;
}

RevocationChecker::RevocationChecker(Fetcher* fetcher, RevocationOptions opts) : fetcher_(fetcher), opts_(std::move(opts)) {}

Status RevocationChecker::load_offline() {
  std::lock_guard lock(mu_);
  if (offline_loaded_ || opts_.offline_dir.empty()) return {};
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::directory_iterator it(opts_.offline_dir, ec);
  if (ec) return make_error(Errc::io, "cannot read the offline revocation folder " + opts_.offline_dir + ": " + ec.message());
  std::vector<fs::path> files;
  for (const auto& e : it)
    if (e.is_regular_file(ec)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto data = read_file(f.string(), std::size_t(64) << 20);
    if (!data) return data.error();
    std::string name = f.filename().string();
    if (parse_ocsp(*data)) {
      offline_ocsp_.emplace_back(name, std::move(*data));
    } else if (CrlPtr crl = parse_crl(*data)) {
      offline_crl_.emplace_back(name, crl_der(crl.get()));
    } else if (auto certs = load_certificates(*data, name)) {
      offline_certs_.insert(offline_certs_.end(), certs->begin(), certs->end());
    } else {
      spdlog::warn("REVOCATION_OFFLINE_IGNORED file={} reason=not an OCSP response, CRL or certificate", f.string());
    }
  }
  ERR_clear_error();
  offline_loaded_ = true;
  spdlog::info("REVOCATION_OFFLINE_LOADED dir={} ocsp={} crl={} certs={}", opts_.offline_dir, offline_ocsp_.size(),
               offline_crl_.size(), offline_certs_.size());
  return {};
}

Result<RevocationStatus> RevocationChecker::from_offline(const Bytes& cert, const Bytes& issuer, std::string& why) {
  auto now = Clock::now();
  std::string stale;
  for (const auto& [file, der] : offline_ocsp_) {
    auto r = check_ocsp_response(der, cert, issuer, offline_certs_, now);
    if (r && r->status != CertStatus::unknown) {
      r->origin = opts_.offline_dir + "/" + file;
      return r;
    }
    if (!r && r.error().message.find("does not cover") == std::string::npos)
      stale += (stale.empty() ? "" : "; ") + file + ": " + r.error().message;
  }
  for (const auto& [file, der] : offline_crl_) {
    auto r = check_crl(der, cert, issuer, now);
    if (r) {
      r->origin = opts_.offline_dir + "/" + file;
      return r;
    }
    if (r.error().message.find("is issued by") == std::string::npos)
      stale += (stale.empty() ? "" : "; ") + file + ": " + r.error().message;
  }
  why = "no file in " + opts_.offline_dir + " covers it" + (stale.empty() ? "" : " (" + stale + ")");
  return make_error(Errc::unavailable, why);
}

bool RevocationChecker::recently_unreachable(const std::string& url, Error& why) {
  std::lock_guard lock(mu_);
  auto it = unreachable_.find(url);
  if (it == unreachable_.end() || it->second.first <= std::chrono::steady_clock::now()) return false;
  why = it->second.second;
  return true;
}

void RevocationChecker::note_unreachable(const std::string& url, const Error& why) {
  std::lock_guard lock(mu_);
  unreachable_[url] = {std::chrono::steady_clock::now() + opts_.unreachable_for, why};
}

Result<RevocationStatus> RevocationChecker::from_ocsp(const std::string& url, const Bytes& cert, const Bytes& issuer) {
  Error last;
  if (recently_unreachable(url, last)) return last;
  auto backoff = opts_.backoff;
  for (int attempt = 0; attempt <= std::max(0, opts_.retries); ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
    }
    auto req = make_ocsp_request(cert, issuer, true);
    if (!req) return req.error();
    auto body = fetcher_->post(url, "application/ocsp-request", *req, opts_.timeout);
    if (!body) {
      last = body.error();
      spdlog::warn("OCSP_TRY_FAILED url={} try={} error={}", url, attempt + 1, last.message);
      continue;
    }
    std::vector<Bytes> more;
    {
      std::lock_guard lock(mu_);
      more = offline_certs_;
    }
    more.push_back(issuer);
    auto r = check_ocsp_response(*body, cert, issuer, more, Clock::now(), *req);
    if (!r) {
      spdlog::warn("OCSP_BAD_ANSWER url={} error={}", url, r.error().message);
      return r.error();  // an answer that does not check out is not retried
    }
    r->origin = url;
    spdlog::info("OCSP_STATUS url={} subject={} status={}", url, r->subject, status_name(r->status));
    return r;
  }
  note_unreachable(url, last);
  return last;
}

Result<RevocationStatus> RevocationChecker::from_crl(const std::string& url, const Bytes& cert, const Bytes& issuer) {
  auto now = Clock::now();
  {
    std::lock_guard lock(mu_);
    if (auto it = crl_cache_.find(url); it != crl_cache_.end() && (it->second.second == Clock::time_point{} || it->second.second > now)) {
      auto r = check_crl(it->second.first, cert, issuer, now);
      if (r) {
        r->origin = url;
        return r;
      }
    }
  }
  Error last;
  if (recently_unreachable(url, last)) return last;
  auto backoff = opts_.backoff;
  for (int attempt = 0; attempt <= std::max(0, opts_.retries); ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
    }
    auto body = fetcher_->get(url, opts_.timeout);
    if (!body) {
      last = body.error();
      spdlog::warn("CRL_TRY_FAILED url={} try={} error={}", url, attempt + 1, last.message);
      continue;
    }
    auto r = check_crl(*body, cert, issuer, now);
    if (!r) return r.error();
    r->origin = url;
    {
      std::lock_guard lock(mu_);
      crl_cache_[url] = {r->evidence, r->next_update};
    }
    spdlog::info("CRL_FETCHED url={} size={} subject={} status={}", url, r->evidence.size(), r->subject, status_name(r->status));
    return r;
  }
  note_unreachable(url, last);
  return last;
}

Result<RevocationStatus> RevocationChecker::check(const Bytes& cert_der, const Bytes& issuer_der) {
  auto cert = x509_from_der(cert_der), issuer = x509_from_der(issuer_der);
  if (!cert || !issuer) return make_error(Errc::invalid_argument, "a certificate cannot be read");
  std::string subject = subject_of(cert.get());
  std::string id = cert_id_key(cert.get(), issuer.get());
  auto now = Clock::now();
  {
    std::lock_guard lock(mu_);
    if (auto it = ocsp_cache_.find(id); it != ocsp_cache_.end() && it->second.until > now) return it->second.status;
  }
  if (auto st = load_offline(); !st) return st.error();

  std::vector<std::string> failures;
  bool offline = !opts_.offline_dir.empty();
  if (offline) {
    std::string why;
    auto r = from_offline(cert_der, issuer_der, why);
    if (r) return r;
    failures.push_back(why);
  }
  if (fetcher_) {
    auto ocsp = ocsp_urls(cert_der);
    auto crls = crl_urls(cert_der);
    if (ocsp.empty() && crls.empty()) failures.push_back("the certificate names no OCSP responder and no CRL distribution point");
    for (const auto& url : ocsp) {
      auto r = from_ocsp(url, cert_der, issuer_der);
      if (r && r->status != CertStatus::unknown) {
        std::lock_guard lock(mu_);
        auto until = r->next_update != Clock::time_point{} ? r->next_update : now + opts_.ocsp_reuse_without_next_update;
        ocsp_cache_[id] = {*r, until};
        return r;
      }
      if (r) {
        failures.push_back("OCSP " + url + ": the responder does not know the certificate (status unknown)");
      } else {
        failures.push_back("OCSP " + url + ": " + r.error().message);
      }
    }
    for (const auto& url : crls) {
      auto r = from_crl(url, cert_der, issuer_der);
      if (r) return r;
      failures.push_back("CRL " + url + ": " + r.error().message);
    }
  } else if (!offline) {
    failures.push_back("no network and no offline folder");
  }
  std::string msg = "cannot get the revocation status of " + subject + ": ";
  for (std::size_t i = 0; i < failures.size(); ++i) msg += (i ? "; " : "") + failures[i];
  return make_error(Errc::unavailable, msg);
}

}  // namespace hocba::signer
