// RFC 3161 signature timestamps (PAdES B-T): request, response checks, the unsigned attribute, and
// a client that tries the configured TSAs through an abstract HTTP transport.
#include "hocba/signer/timestamp.h"

#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include <spdlog/spdlog.h>

#include <cstring>
#include <ctime>
#include <thread>

#include "ossl.h"

namespace hocba::signer {

namespace {

using TsReqPtr = std::unique_ptr<TS_REQ, decltype(&TS_REQ_free)>;
using TsRespPtr = std::unique_ptr<TS_RESP, decltype(&TS_RESP_free)>;
using TsTstInfoPtr = std::unique_ptr<TS_TST_INFO, decltype(&TS_TST_INFO_free)>;
using TsVerifyCtxPtr = std::unique_ptr<TS_VERIFY_CTX, decltype(&TS_VERIFY_CTX_free)>;
using Pkcs7Ptr = std::unique_ptr<PKCS7, decltype(&PKCS7_free)>;
using Asn1IntPtr = std::unique_ptr<ASN1_INTEGER, decltype(&ASN1_INTEGER_free)>;

Bytes digest_of(const EVP_MD* md, std::span<const std::uint8_t> data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (!md || EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) return {};
  return Bytes(out, out + len);
}

std::string obj_short_name(const ASN1_OBJECT* o) {
  int nid = OBJ_obj2nid(o);
  if (nid != NID_undef) return OBJ_nid2sn(nid);
  char buf[128];
  OBJ_obj2txt(buf, sizeof buf, o, 1);
  return buf;
}

std::string obj_oid(const ASN1_OBJECT* o) {
  char buf[128];
  OBJ_obj2txt(buf, sizeof buf, o, 1);
  return buf;
}

std::chrono::system_clock::time_point to_time_point(const ASN1_GENERALIZEDTIME* t) { return asn1_time_point(t); }

// The TSA certificate: the one certificate in the token that the SignerInfo names.
X509* token_signer(PKCS7* token) {
  STACK_OF(X509)* signers = PKCS7_get0_signers(token, nullptr, 0);
  X509* x = signers && sk_X509_num(signers) == 1 ? sk_X509_value(signers, 0) : nullptr;
  sk_X509_free(signers);  // the certificates belong to the token
  ERR_clear_error();
  return x;
}

// RFC 3161 §2.3: the TSA's certificate has extendedKeyUsage with timeStamping only, critical.
std::string eku_problem(X509* tsa) {
  int at = X509_get_ext_by_NID(tsa, NID_ext_key_usage, -1);
  if (at < 0) return "the TSA certificate has no extendedKeyUsage (timeStamping is required)";
  if (!X509_EXTENSION_get_critical(X509_get_ext(tsa, at))) return "the TSA certificate's extendedKeyUsage is not critical";
  if (!(X509_get_extension_flags(tsa) & EXFLAG_XKUSAGE) || X509_get_extended_key_usage(tsa) != XKU_TIMESTAMP)
    return "the TSA certificate's extendedKeyUsage is not timeStamping alone";
  return {};
}

std::string status_text(TS_STATUS_INFO* si) {
  static const char* names[] = {"granted", "grantedWithMods", "rejection", "waiting", "revocationWarning",
                                "revocationNotification"};
  long st = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
  std::string out = st >= 0 && st <= 5 ? names[st] : "status " + std::to_string(st);
  static const std::pair<int, const char*> failures[] = {
      {TS_INFO_BAD_ALG, "badAlg"},
      {TS_INFO_BAD_REQUEST, "badRequest"},
      {TS_INFO_BAD_DATA_FORMAT, "badDataFormat"},
      {TS_INFO_TIME_NOT_AVAILABLE, "timeNotAvailable"},
      {TS_INFO_UNACCEPTED_POLICY, "unacceptedPolicy"},
      {TS_INFO_UNACCEPTED_EXTENSION, "unacceptedExtension"},
      {TS_INFO_ADD_INFO_NOT_AVAILABLE, "addInfoNotAvailable"},
      {TS_INFO_SYSTEM_FAILURE, "systemFailure"}};
  if (const ASN1_BIT_STRING* fi = TS_STATUS_INFO_get0_failure_info(si))
    for (auto [bit, name] : failures)
      if (ASN1_BIT_STRING_get_bit(fi, bit)) out += std::string(", ") + name;
  if (const auto* texts = TS_STATUS_INFO_get0_text(si))
    for (int i = 0; i < sk_ASN1_UTF8STRING_num(texts); ++i) {
      const ASN1_UTF8STRING* t = sk_ASN1_UTF8STRING_value(texts, i);
      out += ": " + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(t)),
                                static_cast<std::size_t>(ASN1_STRING_length(t)));
    }
  return out;
}

// A store for checking the TSA certificate: the anchors, or (none given) the TSA certificate itself,
// so that only the token's signature and the certificate's purpose are checked.
X509_STORE* tsa_store(const std::vector<Bytes>& anchors, X509* tsa, std::chrono::system_clock::time_point at) {
  X509_STORE* store = X509_STORE_new();
  if (!store) return nullptr;
  if (anchors.empty()) {
    X509_STORE_add_cert(store, tsa);
  } else {
    for (const auto& a : anchors)
      if (auto x = x509_from_der(a)) X509_STORE_add_cert(store, x.get());
  }
  X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
  if (at != std::chrono::system_clock::time_point{})
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), std::chrono::system_clock::to_time_t(at));
  ERR_clear_error();
  return store;
}

std::string seconds_text(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0) return std::to_string(ms.count() / 1000) + " s";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms.count()) / 1000.0);
  return buf;
}

}  // namespace

Result<TimestampRequest> make_timestamp_request(std::span<const std::uint8_t> signature_value, Hash hash,
                                                std::uint64_t nonce) {
  if (signature_value.empty()) return make_error(Errc::invalid_argument, "there is no signature value to timestamp");
  TimestampRequest out;
  out.hash = hash;
  out.imprint = digest_of(md_for(static_cast<int>(hash)), signature_value);
  if (out.imprint.empty()) return openssl_error("cannot hash the signature value");
  while (nonce == 0)
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&nonce), sizeof nonce) != 1) return openssl_error("no random nonce");
  out.nonce = nonce;

  TsReqPtr req(TS_REQ_new(), TS_REQ_free);
  TS_MSG_IMPRINT* mi = TS_MSG_IMPRINT_new();
  X509_ALGOR* alg = X509_ALGOR_new();
  Asn1IntPtr n(ASN1_INTEGER_new(), ASN1_INTEGER_free);
  bool ok = req && mi && alg && n;
  if (ok) X509_ALGOR_set_md(alg, md_for(static_cast<int>(hash)));
  ok = ok && TS_MSG_IMPRINT_set_algo(mi, alg) == 1 &&
       TS_MSG_IMPRINT_set_msg(mi, out.imprint.data(), static_cast<int>(out.imprint.size())) == 1 &&
       TS_REQ_set_version(req.get(), 1) == 1 && TS_REQ_set_msg_imprint(req.get(), mi) == 1 &&
       ASN1_INTEGER_set_uint64(n.get(), nonce) == 1 && TS_REQ_set_nonce(req.get(), n.get()) == 1 &&
       TS_REQ_set_cert_req(req.get(), 1) == 1;
  X509_ALGOR_free(alg);  // the setters copy
  TS_MSG_IMPRINT_free(mi);
  if (!ok) return openssl_error("cannot build the timestamp request");
  int len = i2d_TS_REQ(req.get(), nullptr);
  if (len <= 0) return openssl_error("cannot encode the timestamp request");
  out.der.resize(static_cast<std::size_t>(len));
  unsigned char* p = out.der.data();
  i2d_TS_REQ(req.get(), &p);
  return out;
}

Result<TimestampToken> check_timestamp_response(std::span<const std::uint8_t> response, const TimestampRequest& req,
                                                const std::vector<Bytes>& anchors) {
  auto bad = [](const std::string& what) { return make_error(Errc::verify_failed, what); };
  ERR_clear_error();
  const unsigned char* p = response.data();
  TsRespPtr resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(response.size())), TS_RESP_free);
  if (!resp) {
    ERR_clear_error();
    return bad("the answer is not an RFC 3161 TimeStampResp");
  }
  if (p != response.data() + response.size()) return bad("the TimeStampResp is followed by extra bytes");
  TS_STATUS_INFO* si = TS_RESP_get_status_info(resp.get());
  long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
  if (status != TS_STATUS_GRANTED && status != TS_STATUS_GRANTED_WITH_MODS)
    return bad("the timestamp authority refused the request: " + status_text(si));
  PKCS7* token = TS_RESP_get_token(resp.get());
  TS_TST_INFO* tst = TS_RESP_get_tst_info(resp.get());
  if (!token || !tst) return bad("the timestamp authority granted the request but sent no token");
  if (!PKCS7_type_is_signed(token) || !token->d.sign || !token->d.sign->contents ||
      OBJ_obj2nid(token->d.sign->contents->type) != NID_id_smime_ct_TSTInfo)
    return bad("the timestamp token is not a SignedData over a TSTInfo");
  if (TS_TST_INFO_get_version(tst) != 1) return bad("the TSTInfo version is not 1");

  // Our own checks first, for clear messages; OpenSSL's below checks them again with the signature.
  TS_MSG_IMPRINT* mi = TS_TST_INFO_get_msg_imprint(tst);
  const ASN1_OBJECT* alg = nullptr;
  X509_ALGOR_get0(&alg, nullptr, nullptr, TS_MSG_IMPRINT_get_algo(mi));
  ASN1_OCTET_STRING* hashed = TS_MSG_IMPRINT_get_msg(mi);
  if (OBJ_obj2nid(alg) != EVP_MD_get_type(md_for(static_cast<int>(req.hash))) ||
      Bytes(ASN1_STRING_get0_data(hashed), ASN1_STRING_get0_data(hashed) + ASN1_STRING_length(hashed)) != req.imprint)
    return bad("the timestamp token's message imprint is not the hash of this signature");
  const ASN1_INTEGER* nonce = TS_TST_INFO_get_nonce(tst);
  std::uint64_t got = 0;
  if (!nonce || ASN1_INTEGER_get_uint64(&got, nonce) != 1 || got != req.nonce) {
    ERR_clear_error();
    return bad("the timestamp token's nonce does not match the request (a stale or misrouted answer)");
  }
  X509* tsa = token_signer(token);
  if (!tsa) return bad("the timestamp token does not carry the TSA's certificate");
  if (auto why = eku_problem(tsa); !why.empty()) return bad(why);

  const unsigned char* q = req.der.data();
  TsReqPtr tsreq(d2i_TS_REQ(nullptr, &q, static_cast<long>(req.der.size())), TS_REQ_free);
  if (!tsreq) return openssl_error("cannot read back the timestamp request");
  TsVerifyCtxPtr ctx(TS_REQ_to_TS_VERIFY_CTX(tsreq.get(), nullptr), TS_VERIFY_CTX_free);
  X509_STORE* store = tsa_store(anchors, tsa, {});
  if (!ctx || !store) {
    X509_STORE_free(store);
    return openssl_error("cannot set up the timestamp verification");
  }
  TS_VERIFY_CTX_set_store(ctx.get(), store);  // the context owns it now
  TS_VERIFY_CTX_set_flags(ctx.get(), TS_VFY_VERSION | TS_VFY_IMPRINT | TS_VFY_NONCE | TS_VFY_SIGNATURE | TS_VFY_SIGNER);
  if (TS_RESP_verify_response(ctx.get(), resp.get()) != 1) {
    std::string why = drain_openssl_errors();
    if (why.find("certificate verify error") != std::string::npos && !anchors.empty())
      return bad("the TSA certificate does not chain to a trusted timestamping anchor: " + why);
    return bad("the timestamp token does not verify: " + why);
  }

  TimestampToken out;
  int len = i2d_PKCS7(token, nullptr);
  if (len <= 0) return openssl_error("cannot encode the timestamp token");
  out.der.resize(static_cast<std::size_t>(len));
  unsigned char* w = out.der.data();
  i2d_PKCS7(token, &w);
  out.gen_time = to_time_point(TS_TST_INFO_get_time(tst));
  out.tsa_name = name_to_string(X509_get_subject_name(tsa));
  if (const ASN1_INTEGER* serial = TS_TST_INFO_get_serial(tst)) {
    BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr);
    if (char* hex = bn ? BN_bn2hex(bn) : nullptr) {
      out.serial_hex = hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  if (const ASN1_OBJECT* pol = TS_TST_INFO_get_policy_id(tst)) out.policy = obj_oid(pol);
  return out;
}

Result<TokenInfo> read_timestamp_token(std::span<const std::uint8_t> token_der) {
  const unsigned char* p = token_der.data();
  Pkcs7Ptr token(d2i_PKCS7(nullptr, &p, static_cast<long>(token_der.size())), PKCS7_free);
  TsTstInfoPtr tst(token ? PKCS7_to_TS_TST_INFO(token.get()) : nullptr, TS_TST_INFO_free);
  if (!tst) {
    ERR_clear_error();
    return make_error(Errc::verify_failed, "the timestamp token is not a SignedData over a TSTInfo");
  }
  TokenInfo info;
  info.gen_time = to_time_point(TS_TST_INFO_get_time(tst.get()));
  TS_MSG_IMPRINT* mi = TS_TST_INFO_get_msg_imprint(tst.get());
  const ASN1_OBJECT* alg = nullptr;
  X509_ALGOR_get0(&alg, nullptr, nullptr, TS_MSG_IMPRINT_get_algo(mi));
  info.imprint_algorithm = obj_short_name(alg);
  ASN1_OCTET_STRING* hashed = TS_MSG_IMPRINT_get_msg(mi);
  info.imprint.assign(ASN1_STRING_get0_data(hashed), ASN1_STRING_get0_data(hashed) + ASN1_STRING_length(hashed));
  if (X509* tsa = token_signer(token.get())) {
    info.tsa_name = name_to_string(X509_get_subject_name(tsa));
  } else if (GENERAL_NAME* gn = TS_TST_INFO_get_tsa(tst.get()); gn && gn->type == GEN_DIRNAME) {
    info.tsa_name = name_to_string(gn->d.directoryName);
  }
  return info;
}

Result<TokenCheck> check_timestamp_token(std::span<const std::uint8_t> token_der, std::span<const std::uint8_t> signature_value,
                                         const std::vector<Bytes>& anchors) {
  auto info = read_timestamp_token(token_der);
  if (!info) return info.error();
  TokenCheck out;
  out.info = std::move(*info);
  const unsigned char* p = token_der.data();
  Pkcs7Ptr token(d2i_PKCS7(nullptr, &p, static_cast<long>(token_der.size())), PKCS7_free);

  const EVP_MD* md = EVP_get_digestbyname(out.info.imprint_algorithm.c_str());
  Bytes expected = digest_of(md, signature_value);
  out.imprint_matches = !expected.empty() && expected == out.info.imprint;
  std::vector<std::string> problems;
  if (!out.imprint_matches) problems.push_back("its message imprint is not the hash of this signature");

  X509* tsa = token ? token_signer(token.get()) : nullptr;
  if (!tsa) {
    problems.push_back("it does not carry the TSA's certificate");
  } else if (auto why = eku_problem(tsa); !why.empty()) {
    problems.push_back(why);
  } else {
    // OpenSSL's token check: version, signature, ESS signing-certificate, TSA certificate purpose and
    // (with anchors) chain, at the token's time. The imprint was compared above.
    TsVerifyCtxPtr ctx(TS_VERIFY_CTX_new(), TS_VERIFY_CTX_free);
    X509_STORE* store = tsa_store(anchors, tsa, out.info.gen_time);
    if (!ctx || !store) {
      X509_STORE_free(store);
      return openssl_error("cannot set up the timestamp verification");
    }
    TS_VERIFY_CTX_set_store(ctx.get(), store);
    TS_VERIFY_CTX_set_flags(ctx.get(), TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_SIGNER);
    if (TS_RESP_verify_token(ctx.get(), token.get()) == 1) {
      out.verifies = true;
    } else {
      std::string why = drain_openssl_errors();
      problems.push_back(why.find("certificate verify error") != std::string::npos
                             ? (anchors.empty() ? "its TSA certificate is not usable (" : "its TSA certificate does not chain to a trust anchor (") + why + ")"
                             : "its signature does not verify (" + why + ")");
    }
  }
  ERR_clear_error();
  for (const auto& pr : problems) out.detail += (out.detail.empty() ? "" : "; ") + pr;
  return out;
}

Result<Bytes> cms_signature_value(std::span<const std::uint8_t> cms_der) {
  const unsigned char* p = cms_der.data();
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(cms_der.size())), CMS_ContentInfo_free);
  STACK_OF(CMS_SignerInfo)* sis = cms ? CMS_get0_SignerInfos(cms.get()) : nullptr;
  if (!sis || sk_CMS_SignerInfo_num(sis) != 1) {
    ERR_clear_error();
    return make_error(Errc::invalid_argument, "not a CMS SignedData with one SignerInfo");
  }
  ASN1_OCTET_STRING* sig = CMS_SignerInfo_get0_signature(sk_CMS_SignerInfo_value(sis, 0));
  return Bytes(ASN1_STRING_get0_data(sig), ASN1_STRING_get0_data(sig) + ASN1_STRING_length(sig));
}

Result<Bytes> add_signature_timestamp(std::span<const std::uint8_t> cms_der, std::span<const std::uint8_t> token_der) {
  const unsigned char* p = cms_der.data();
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(cms_der.size())), CMS_ContentInfo_free);
  STACK_OF(CMS_SignerInfo)* sis = cms ? CMS_get0_SignerInfos(cms.get()) : nullptr;
  if (!sis || sk_CMS_SignerInfo_num(sis) != 1) {
    ERR_clear_error();
    return make_error(Errc::invalid_argument, "not a CMS SignedData with one SignerInfo");
  }
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(sis, 0);
  if (CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1) >= 0)
    return make_error(Errc::invalid_argument, "the signature already has a signature timestamp");
  // The attribute value is the token's ContentInfo SEQUENCE, as DER.
  if (CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE, token_der.data(),
                                    static_cast<int>(token_der.size())) != 1)
    return openssl_error("cannot add the signature timestamp attribute");
  int n = i2d_CMS_ContentInfo(cms.get(), nullptr);
  if (n <= 0) return openssl_error("cannot encode the CMS");
  Bytes out(static_cast<std::size_t>(n));
  unsigned char* w = out.data();
  i2d_CMS_ContentInfo(cms.get(), &w);
  return out;
}

TimestampClient::TimestampClient(HttpPoster& http, TimestampClientOptions opts) : http_(http), opts_(std::move(opts)) {}

// A counting semaphore per URL, under mu_: the slot is taken in the constructor (waiting while the
// URL has max_concurrent requests in flight) and given back in the destructor.
class TimestampClient::Slot {
 public:
  Slot(TimestampClient& c, const std::string& url) : c_(c), url_(url) {
    std::unique_lock lock(c_.mu_);
    int cap = std::max(1, c_.opts_.max_concurrent);
    if (c_.in_flight_[url_] >= cap) spdlog::debug("TSA_WAIT url={} in_flight={}", url_, c_.in_flight_[url_]);
    c_.slot_free_.wait(lock, [&] { return c_.in_flight_[url_] < cap; });
    ++c_.in_flight_[url_];
  }
  ~Slot() {
    {
      std::lock_guard lock(c_.mu_);
      --c_.in_flight_[url_];
    }
    c_.slot_free_.notify_all();  // waiters for other URLs share the variable
  }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

 private:
  TimestampClient& c_;
  const std::string& url_;
};

int TimestampClient::in_flight(const std::string& url) const {
  std::lock_guard lock(mu_);
  auto it = in_flight_.find(url);
  return it == in_flight_.end() ? 0 : it->second;
}

std::size_t TimestampClient::estimated_token_size() const {
  std::lock_guard lock(mu_);
  std::size_t best = 0;
  for (const auto& u : opts_.urls)
    if (auto it = largest_.find(u); it != largest_.end()) best = std::max(best, it->second);
  return best ? best : kDefaultTokenSize;
}

void TimestampClient::note_token_size(const std::string& url, std::size_t size) {
  std::lock_guard lock(mu_);
  auto& s = largest_[url];
  s = std::max(s, size);
}

Result<TimestampToken> TimestampClient::timestamp(std::span<const std::uint8_t> signature_value) {
  if (opts_.urls.empty()) return make_error(Errc::invalid_argument, "no timestamp authority is configured");
  std::string failures;
  bool only_transport = true;
  for (const auto& url : opts_.urls) {
    auto backoff = opts_.backoff;
    int tries = 0;
    Error last;
    bool answered = false;
    for (int attempt = 0; attempt <= std::max(0, opts_.retries); ++attempt) {
      if (attempt > 0) {
        std::this_thread::sleep_for(backoff);
        backoff *= 2;
      }
      ++tries;
      // A fresh nonce for every try: an answer to an earlier try is never taken for this one.
      auto req = make_timestamp_request(signature_value, opts_.hash);
      if (!req) return req.error();
      auto body = [&] {
        Slot slot(*this, url);
        return http_.post(url, "application/timestamp-query", req->der, opts_.timeout);
      }();
      if (!body) {
        last = body.error();
        answered = false;
        spdlog::warn("TSA_TRY_FAILED url={} try={} code={} error={}", url, tries, errc_name(last.code), last.message);
        continue;
      }
      auto token = check_timestamp_response(*body, *req, opts_.trust_anchors);
      if (token) {
        note_token_size(url, token->der.size());
        spdlog::info("TSA_TOKEN url={} try={} size={} serial={}", url, tries, token->der.size(), token->serial_hex);
        return token;
      }
      last = token.error();
      answered = true;
      spdlog::warn("TSA_BAD_ANSWER url={} try={} error={}", url, tries, last.message);
    }
    std::string what = "the timestamp authority at " + url;
    std::string count = std::to_string(tries) + (tries == 1 ? " try" : " tries");
    if (answered) {
      only_transport = false;
      what += " gave no usable timestamp (" + count + "): " + last.message;
    } else if (last.code == Errc::timeout) {
      what += " did not answer within " + seconds_text(opts_.timeout) + " (" + count + ")";
    } else {
      what += " gave no timestamp (" + count + "): " + last.message;
    }
    failures += (failures.empty() ? "" : "; ") + what;
  }
  return make_error(only_transport ? Errc::unavailable : Errc::verify_failed, failures);
}

}  // namespace hocba::signer
