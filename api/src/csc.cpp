// The Cloud Signature Consortium API (docs/csc.md): v2 (2.0.0.2) under /csc/v2/ and v1 (1.0.4.0)
// under /csc/v1/, so that existing CSC clients sign hashes with the school's own tokens.
//
// One handler per method serves both versions; what differs (field names, response shapes) is in
// `Version` and in the few `v.major == 1` branches. Credentials are the caller's bound keys
// ("key-<id>"; the principal also sees the seal). credentials/authorize cannot test the PIN without
// signing, so it keeps the PIN (a locked, wiped Secret) in the SAD, bound to the exact hashes, for at
// most kSadLifetime; signatures/signHash sends it to the token with check_pin_when_logged_in, and a
// PIN the token (or the PIN check of an open token) refuses ends the SAD.
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>
#include <functional>

#include "app_internal.h"
#include "hocba/net/basic_auth.h"
#include "hocba/common/bytes.h"
#include "hocba/common/ossl.h"
#include "hocba/hsm/uri.h"
#include "hocba/store/keys.h"
#include "hocba/store/sessions.h"

namespace hocba::api {
namespace {

using clock = std::chrono::steady_clock;

// How long a SAD (and the PIN it holds) lives, at most.
constexpr std::chrono::seconds kSadLifetime{300};
// The most signatures one authorization allows (credentials/info "multisign").
constexpr std::int64_t kMaxSignaturesPerSad = 100;
// The most SADs one user may hold at once (each holds a PIN in locked memory).
constexpr std::size_t kMaxSadsPerUser = 16;
// Wrong seal PINs given through CSC (checked against the sealed PIN, never sent to the token) before
// the seal is refused through CSC until hocbad restarts.
constexpr int kMaxSealPinMismatches = 3;
// The longest credentialID an audit entry repeats (the rest is cut off).
constexpr std::size_t kMaxAuditedCredentialId = 64;

// --- the two versions --------------------------------------------------------------------------------

struct Version {
  int major;
  const char* prefix;           // "/csc/v2/"
  const char* specs;            // info "specs"
  const char* hashes;           // credentials/authorize, signatures/signHash: the hashes' field
  const char* other_hashes;     // ... and its name in the other version (for a clear error)
  const char* hash_algo;        // signatures/signHash: the hash algorithm's field
  const char* other_hash_algo;
};
const Version kV1{1, "/csc/v1/", "1.0.4.0", "hash", "hashes", "hashAlgo", "hashAlgorithmOID"};
const Version kV2{2, "/csc/v2/", "2.0.0.2", "hashes", "hash", "hashAlgorithmOID", "hashAlgo"};

const std::vector<std::string> kSigners = {"principal", "homeroom_teacher", "subject_teacher"};
const std::vector<std::string> kAnyRole = {"admin", "principal", "homeroom_teacher", "subject_teacher", "viewer"};

// --- CSC errors: {"error": CODE, "error_description": TEXT} ------------------------------------------

HttpResponse csc_error(int status, std::string_view code, std::string_view description) {
  return ok_json(json::object{{"error", code}, {"error_description", description}}, status);
}
HttpResponse invalid_request(std::string_view description) { return csc_error(400, "invalid_request", description); }

HttpResponse csc_from_error(const Error& e) {
  switch (e.code) {
    case Errc::invalid_argument:
    case Errc::not_found:
    case Errc::pin_required: return invalid_request(e.message);
    case Errc::pin_incorrect:
    case Errc::pin_rejected_before: return invalid_request("The PIN is invalid: " + e.message);
    case Errc::pin_locked: return invalid_request("PIN locked: " + e.message);
    case Errc::pin_needs_confirm:
      return csc_error(403, "access_denied",
                       e.message + " (confirm by signing once in the hocba web UI with the right PIN, then authorize again)");
    case Errc::token_not_present:
    case Errc::unavailable:
    case Errc::timeout: return csc_error(503, "temporarily_unavailable", e.message);
    default: return csc_error(500, "server_error", e.message);
  }
}

// An error response of the REST API's shape ({"error": {"code", "message"}}, e.g. from login()) in
// CSC's shape, keeping the status and headers (Retry-After).
HttpResponse csc_from_response(HttpResponse r) {
  std::string message = "request refused";
  if (auto o = parse_object(r.body))
    if (auto it = o->find("error"); it != o->end() && it->value().is_object()) message = str_field(it->value().as_object(), "message");
  const char* code = "invalid_request";
  if (r.status == 401) code = "invalid_grant";  // wrong username, password or one-time code
  else if (r.status == 403 || r.status == 429) code = "access_denied";
  else if (r.status >= 500) code = "server_error";
  HttpResponse out = csc_error(r.status, code, message);
  out.headers = std::move(r.headers);
  return out;
}

// The error_description of a CSC error response (for the audit log).
std::string error_description(const HttpResponse& r) {
  if (auto o = parse_object(r.body)) return str_field(*o, "error_description");
  return "";
}

// --- small helpers -----------------------------------------------------------------------------------

// The request body as an object; an empty body is an empty object (info takes no parameters).
std::optional<json::object> body_object(const HttpRequest& req) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object{};
  return parse_object(req.body);
}

bool bool_field(const json::object& o, std::string_view key, bool def = false) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_bool() ? it->value().as_bool() : def;
}

std::string b64_encode(std::span<const std::uint8_t> b) {
  std::string out(sodium_base64_ENCODED_LEN(b.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), b.data(), b.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

// Standard base64, with or without padding; nullopt if malformed or longer than max_len bytes.
std::optional<Bytes> b64_decode(std::string_view s, std::size_t max_len) {
  if (s.empty() || s.size() > (max_len / 3 + 2) * 4) return std::nullopt;
  Bytes out(s.size());
  for (int variant : {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING}) {
    std::size_t len = 0;
    const char* end = nullptr;
    if (sodium_base642bin(out.data(), out.size(), s.data(), s.size(), nullptr, &len, &end, variant) == 0 && end == s.data() + s.size()) {
      if (len > max_len) break;
      out.resize(len);
      return out;
    }
  }
  sodium_memzero(out.data(), out.size());  // it may hold part of a password
  return std::nullopt;
}

// Is the certificate valid now (a credential whose certificate expired is "disabled" and signs nothing)?
bool certificate_current(const Bytes& der) {
  auto x = x509_from_der(der);
  return x && X509_cmp_current_time(X509_get0_notBefore(x.get())) < 0 && X509_cmp_current_time(X509_get0_notAfter(x.get())) > 0;
}

std::string sha256_hex(std::string_view s) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(s.data()), s.size());
  return to_hex(h);
}

// What the audit log says about a hash: all of it, in hex (hashes are not secret, and the audit log
// is the legal record of what was signed: a prefix would not prove which document it was).
std::string hash_hex(const Bytes& h) { return to_hex(h); }

// Does the PIN given equal the sealed one? Both are hashed with a key drawn once per process, and the
// hashes compared in constant time, so neither the timing nor the lengths tell anything.
bool same_pin(std::string_view given, const Secret& sealed) {
  static const auto key = [] {
    std::array<unsigned char, crypto_generichash_KEYBYTES> k{};
    randombytes_buf(k.data(), k.size());
    return k;
  }();
  unsigned char a[crypto_generichash_BYTES], b[crypto_generichash_BYTES];
  crypto_generichash(a, sizeof a, reinterpret_cast<const unsigned char*>(given.data()), given.size(), key.data(), key.size());
  std::string_view sv = sealed.view();
  crypto_generichash(b, sizeof b, reinterpret_cast<const unsigned char*>(sv.data()), sv.size(), key.data(), key.size());
  bool same = sodium_memcmp(a, b, sizeof a) == 0;
  sodium_memzero(a, sizeof a);
  sodium_memzero(b, sizeof b);
  return same;
}

void wipe_json_string(json::object& o, std::string_view key) {
  if (auto it = o.find(key); it != o.end() && it->value().is_string()) {
    auto& s = it->value().as_string();
    sodium_memzero(s.data(), s.size());
  }
}

std::string credential_id(std::int64_t key_id) { return "key-" + std::to_string(key_id); }

// "key-12" -> 12; -1 if it is not one of ours.
std::int64_t parse_credential_id(const std::string& s) {
  if (s.size() < 5 || s.size() > 22 || s.compare(0, 4, "key-") != 0) return -1;
  std::int64_t v = 0;
  for (std::size_t i = 4; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// --- algorithms --------------------------------------------------------------------------------------

constexpr const char* kOidSha256 = "2.16.840.1.101.3.4.2.1";
constexpr const char* kOidSha384 = "2.16.840.1.101.3.4.2.2";
constexpr const char* kOidSha512 = "2.16.840.1.101.3.4.2.3";
constexpr const char* kOidRsa = "1.2.840.113549.1.1.1";
constexpr const char* kOidRsaPss = "1.2.840.113549.1.1.10";
constexpr const char* kOidEcPublicKey = "1.2.840.10045.2.1";

std::optional<hsm::HashAlg> hash_by_oid(std::string_view oid) {
  if (oid == kOidSha256) return hsm::HashAlg::sha256;
  if (oid == kOidSha384) return hsm::HashAlg::sha384;
  if (oid == kOidSha512) return hsm::HashAlg::sha512;
  return std::nullopt;
}

std::optional<hsm::HashAlg> hash_by_size(std::size_t n) {
  for (auto h : {hsm::HashAlg::sha256, hsm::HashAlg::sha384, hsm::HashAlg::sha512})
    if (hsm::hash_size(h) == n) return h;
  return std::nullopt;
}

std::optional<hsm::HashAlg> hash_by_nid(int nid) {
  if (nid == NID_sha256) return hsm::HashAlg::sha256;
  if (nid == NID_sha384) return hsm::HashAlg::sha384;
  if (nid == NID_sha512) return hsm::HashAlg::sha512;
  return std::nullopt;
}

// The signature algorithms a key offers (credentials/info key/algo; the signAlgo values accepted).
std::vector<std::string> key_algos(hsm::KeyAlgorithm a) {
  if (a == hsm::KeyAlgorithm::rsa)
    return {kOidRsa, kOidRsaPss, "1.2.840.113549.1.1.11", "1.2.840.113549.1.1.12", "1.2.840.113549.1.1.13"};
  if (a == hsm::KeyAlgorithm::ec) return {kOidEcPublicKey, "1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4"};
  return {};
}

std::string curve_oid(const std::string& curve) {
  if (curve == "P-256") return "1.2.840.10045.3.1.7";
  if (curve == "P-384") return "1.3.132.0.34";
  if (curve == "P-521") return "1.3.132.0.35";
  return "";
}

using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, decltype(&ASN1_OBJECT_free)>;
using PssParamsPtr = std::unique_ptr<RSA_PSS_PARAMS, decltype(&RSA_PSS_PARAMS_free)>;
using X509AlgorPtr = std::unique_ptr<X509_ALGOR, decltype(&X509_ALGOR_free)>;

std::optional<hsm::HashAlg> algor_hash(const X509_ALGOR* a) {
  const ASN1_OBJECT* obj = nullptr;
  X509_ALGOR_get0(&obj, nullptr, nullptr, a);
  return hash_by_nid(OBJ_obj2nid(obj));
}

// RSASSA-PSS-params (RFC 4055) as the token signs them: SHA-2 hash, MGF1 with the same hash, salt
// as long as the hash, trailer 1. Anything else is refused (the token would sign something else).
Result<hsm::HashAlg> parse_pss_params(const Bytes& der) {
  auto bad = [](const std::string& why) {
    return make_error(Errc::invalid_argument, "Invalid parameter signAlgoParams: " + why +
                                                  " (supported: SHA-256/384/512, MGF1 with the same hash, salt length = hash length)");
  };
  const unsigned char* p = der.data();
  PssParamsPtr pss(d2i_RSA_PSS_PARAMS(nullptr, &p, static_cast<long>(der.size())), RSA_PSS_PARAMS_free);
  if (!pss || p != der.data() + der.size()) {
    (void)drain_openssl_errors();
    return bad("not DER RSASSA-PSS-params");
  }
  if (!pss->hashAlgorithm) return bad("the hash is SHA-1 (the default)");
  auto hash = algor_hash(pss->hashAlgorithm);
  if (!hash) return bad("unsupported hash");
  if (!pss->maskGenAlgorithm) return bad("the mask generation is MGF1 with SHA-1 (the default)");
  const ASN1_OBJECT* mgf = nullptr;
  int ptype = 0;
  const void* pval = nullptr;
  X509_ALGOR_get0(&mgf, &ptype, &pval, pss->maskGenAlgorithm);
  if (OBJ_obj2nid(mgf) != NID_mgf1 || ptype != V_ASN1_SEQUENCE || !pval) return bad("the mask generation is not MGF1");
  const auto* seq = static_cast<const ASN1_STRING*>(pval);
  const unsigned char* q = ASN1_STRING_get0_data(seq);
  X509AlgorPtr mgf_hash(d2i_X509_ALGOR(nullptr, &q, ASN1_STRING_length(seq)), X509_ALGOR_free);
  if (!mgf_hash || algor_hash(mgf_hash.get()) != hash) {
    (void)drain_openssl_errors();
    return bad("MGF1 uses another hash");
  }
  long salt = pss->saltLength ? ASN1_INTEGER_get(pss->saltLength) : 20;
  if (salt != static_cast<long>(hsm::hash_size(*hash))) return bad("salt length " + std::to_string(salt));
  if (pss->trailerField && ASN1_INTEGER_get(pss->trailerField) != 1) return bad("trailer field is not 1");
  return *hash;
}

struct SignSpec {
  hsm::Mechanism mechanism;
  hsm::HashAlg hash;
  hsm::KeyAlgorithm key;
};

// signAlgo (+ the hash algorithm field, + signAlgoParams) -> what the token does.
Result<SignSpec> sign_spec(const std::string& sign_algo, const std::string& hash_oid, const std::string& params_b64, const Version& v) {
  std::optional<hsm::HashAlg> given;
  if (!hash_oid.empty() && !(given = hash_by_oid(hash_oid)))
    return make_error(Errc::invalid_argument, std::string("Invalid parameter ") + v.hash_algo + ": " + hash_oid +
                                                  " (supported: SHA-256 " + kOidSha256 + ", SHA-384 " + kOidSha384 + ", SHA-512 " + kOidSha512 + ")");
  // The hash implied by signAlgo (if any) must agree with the one given.
  auto with_hash = [&](hsm::Mechanism m, std::optional<hsm::HashAlg> implied, hsm::KeyAlgorithm k) -> Result<SignSpec> {
    if (implied && given && *implied != *given)
      return make_error(Errc::invalid_argument, std::string("Invalid parameter ") + v.hash_algo + ": signAlgo " + sign_algo + " implies " +
                                                    hsm::hash_name(*implied));
    if (!implied && !given)
      return make_error(Errc::invalid_argument, std::string("Missing (or invalid type) string parameter ") + v.hash_algo +
                                                    " (signAlgo " + sign_algo + " does not imply a hash)");
    return SignSpec{m, implied ? *implied : *given, k};
  };
  using M = hsm::Mechanism;
  using K = hsm::KeyAlgorithm;
  using H = hsm::HashAlg;
  if (sign_algo.empty()) return make_error(Errc::invalid_argument, "Missing (or invalid type) string parameter signAlgo");
  if (sign_algo == kOidRsa) return with_hash(M::rsa_pkcs1, std::nullopt, K::rsa);
  if (sign_algo == "1.2.840.113549.1.1.11") return with_hash(M::rsa_pkcs1, H::sha256, K::rsa);
  if (sign_algo == "1.2.840.113549.1.1.12") return with_hash(M::rsa_pkcs1, H::sha384, K::rsa);
  if (sign_algo == "1.2.840.113549.1.1.13") return with_hash(M::rsa_pkcs1, H::sha512, K::rsa);
  if (sign_algo == kOidEcPublicKey) return with_hash(M::ecdsa, std::nullopt, K::ec);
  if (sign_algo == "1.2.840.10045.4.3.2") return with_hash(M::ecdsa, H::sha256, K::ec);
  if (sign_algo == "1.2.840.10045.4.3.3") return with_hash(M::ecdsa, H::sha384, K::ec);
  if (sign_algo == "1.2.840.10045.4.3.4") return with_hash(M::ecdsa, H::sha512, K::ec);
  if (sign_algo == kOidRsaPss) {
    if (params_b64.empty())
      return make_error(Errc::invalid_argument, "Missing (or invalid type) string parameter signAlgoParams (RSASSA-PSS needs its parameters)");
    auto der = b64_decode(params_b64, 256);
    if (!der) return make_error(Errc::invalid_argument, "Invalid parameter signAlgoParams: not base64");
    auto h = parse_pss_params(*der);
    if (!h) return h.error();
    return with_hash(M::rsa_pss, *h, K::rsa);
  }
  return make_error(Errc::invalid_argument, "Invalid parameter signAlgo: " + sign_algo + " is not supported");
}

// --- certificates ------------------------------------------------------------------------------------

X509Ptr parse_cert(const Bytes& der) {
  const unsigned char* p = der.data();
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())), X509_free);
  if (!x) (void)drain_openssl_errors();
  return x;
}

// RFC 4514 (UTF-8 kept as it is).
std::string dn_string(const X509_NAME* n) {
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio) return "";
  X509_NAME_print_ex(bio.get(), n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

// GeneralizedTime "YYYYMMDDHHMMSSZ".
std::string generalized_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &tm);
  return buf;
}

std::string serial_hex(const X509* x) {
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr), BN_free);
  if (!bn) return "";
  char* hex = BN_bn2hex(bn.get());
  std::string s = hex ? hex : "";
  OPENSSL_free(hex);
  return s;
}

// The end-entity certificate, then its issuers as far as the token holds them.
std::vector<Bytes> chain_of(const hsm::KeyRef& ref) {
  std::vector<Bytes> out{ref.certificate};
  X509Ptr cur = parse_cert(ref.certificate);
  std::vector<bool> used(ref.ca_certs.size(), false);
  while (cur && X509_check_issued(cur.get(), cur.get()) != X509_V_OK) {  // stop at a self-signed one
    bool found = false;
    for (std::size_t i = 0; i < ref.ca_certs.size() && !found; ++i) {
      if (used[i]) continue;
      X509Ptr ca = parse_cert(ref.ca_certs[i]);
      if (ca && X509_check_issued(ca.get(), cur.get()) == X509_V_OK) {
        used[i] = found = true;
        out.push_back(ref.ca_certs[i]);
        cur = std::move(ca);
      }
    }
    if (!found) break;
  }
  return out;
}

// --- the SAD -----------------------------------------------------------------------------------------

std::string new_sad() {
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(raw, sizeof raw);
  return b64;
}

struct HashIn {
  Bytes bytes;
  std::string b64;  // canonical (padded) base64: the SAD's key for it
};

// The hashes of a request under this version's field name. The message names the field, and the
// other version's name when the client used that one.
Result<std::vector<HashIn>> read_hashes(const json::object& o, const Version& v) {
  auto it = o.find(v.hashes);
  if (it == o.end() || !it->value().is_array() || it->value().as_array().empty()) {
    std::string m = std::string("Missing (or invalid type) array parameter ") + v.hashes;
    if (o.contains(v.other_hashes))
      m += std::string(" (\"") + v.other_hashes + "\" is the CSC v" + (v.major == 1 ? "2" : "1") + " name; " + v.prefix + " takes \"" +
           v.hashes + "\")";
    return make_error(Errc::invalid_argument, m);
  }
  std::vector<HashIn> out;
  std::set<std::string> seen;
  for (auto& h : it->value().as_array()) {
    std::optional<Bytes> b;
    if (h.is_string()) b = b64_decode(h.as_string(), 64);
    if (!b || !hash_by_size(b->size()))
      return make_error(Errc::invalid_argument, "Invalid Base64 hash string parameter (each hash is the base64 of a SHA-256, -384 or -512 digest)");
    std::string canon = b64_encode(*b);
    if (!seen.insert(canon).second) return make_error(Errc::invalid_argument, "Invalid parameter " + std::string(v.hashes) + ": a hash is given twice");
    out.push_back(HashIn{std::move(*b), std::move(canon)});
  }
  return out;
}

// The PIN's JSON string in a credentials/authorize request (to read, then wipe): v1 "PIN", v2
// authData [{"id": "PIN", "value": ...}]. Null if absent.
json::string* find_pin(json::object& o, const Version& v) {
  if (v.major == 1) {
    auto it = o.find("PIN");
    return it != o.end() && it->value().is_string() ? &it->value().as_string() : nullptr;
  }
  auto it = o.find("authData");
  if (it == o.end() || !it->value().is_array()) return nullptr;
  for (auto& e : it->value().as_array())
    if (e.is_object() && str_field(e.as_object(), "id") == "PIN")
      if (auto val = e.as_object().find("value"); val != e.as_object().end() && val->value().is_string()) return &val->value().as_string();
  return nullptr;
}

void wipe_pins(json::object& o) {
  wipe_json_string(o, "PIN");
  if (auto it = o.find("authData"); it != o.end() && it->value().is_array())
    for (auto& e : it->value().as_array())
      if (e.is_object()) wipe_json_string(e.as_object(), "value");
}

bool pin_error(Errc e) {
  return e == Errc::pin_incorrect || e == Errc::pin_rejected_before || e == Errc::pin_locked || e == Errc::pin_required ||
         e == Errc::pin_needs_confirm;
}

}  // namespace

void App::Impl::add_csc_routes() {
  // Expired SADs go (and their PINs are wiped) at the next CSC request; every CSC route starts so.
  auto purge_sads = [this] {
    std::lock_guard lk(sad_mu);
    auto now = clock::now();
    std::erase_if(sads, [&](const auto& kv) { return kv.second.expires <= now; });
  };

  // May `caller` use the seal through CSC? Only a principal, and only where the school allows it
  // (csc.allow_seal); even then only with the seal's PIN in the request (credentials/authorize).
  auto seal_for = [this](const Caller& caller) { return opts.cfg.csc.allow_seal && caller.role == Role::principal; };

  // The caller's credential: one of their keys, or the seal for the principal where the school allows
  // it. Someone else's key and an unknown one get the same answer.
  auto credential = [this, seal_for](const Caller& caller, const std::string& id) -> Result<BoundKey> {
    if (id.empty()) return make_error(Errc::invalid_argument, "Missing (or invalid type) string parameter credentialID");
    std::int64_t key_id = parse_credential_id(id);
    auto bk = key_id < 0 ? Result<BoundKey>(make_error(Errc::not_found, "")) : wf.key_by_id(key_id);
    if (!bk) {
      if (bk.error().code != Errc::not_found) return bk.error();
    } else if (!bk->seal && bk->owner_user_id == caller.user_id) {
      return bk;
    } else if (bk->seal && seal_for(caller)) {
      return bk;
    } else if (bk->seal && caller.role == Role::principal) {
      // The principal knows the seal's key: say why it is refused.
      return make_error(Errc::invalid_argument, "Invalid parameter credentialID: " + id +
                                                    " is the school seal, which this school does not allow through the CSC API "
                                                    "(csc.allow_seal = false); apply it in the hocba web UI or API");
    }
    std::string shown = id.size() > kMaxAuditedCredentialId ? id.substr(0, kMaxAuditedCredentialId) + "..." : id;
    return make_error(Errc::invalid_argument, "Invalid parameter credentialID: " + shown + " is not one of your credentials");
  };


  // credentials/info (and v2 credentials/list's credentialInfos) for one key.
  auto credential_json = [](const BoundKey& bk, const hsm::KeyRef& ref, const Version& v, const std::string& certificates,
                                bool cert_info) -> json::object {
    X509Ptr x = parse_cert(ref.certificate);
    std::string cert_status;
    if (x) {
      if (X509_cmp_current_time(X509_get0_notAfter(x.get())) < 0) cert_status = "expired";
      else if (X509_cmp_current_time(X509_get0_notBefore(x.get())) <= 0) cert_status = "valid";
    }
    json::array algos;
    for (auto& a : key_algos(ref.algorithm)) algos.push_back(json::string(a));
    json::object key{{"status", cert_status == "expired" ? "disabled" : "enabled"}, {"algo", algos}, {"len", ref.bits}};
    if (ref.algorithm == hsm::KeyAlgorithm::ec) key["curve"] = curve_oid(ref.curve);
    json::object cert;
    if (!cert_status.empty()) cert["status"] = cert_status;
    if (certificates != "none") {
      json::array a;
      for (auto& der : certificates == "chain" ? chain_of(ref) : std::vector<Bytes>{ref.certificate}) a.push_back(json::string(b64_encode(der)));
      cert["certificates"] = std::move(a);
    }
    if (cert_info && x) {
      cert["issuerDN"] = dn_string(X509_get_issuer_name(x.get()));
      cert["serialNumber"] = serial_hex(x.get());
      cert["subjectDN"] = dn_string(X509_get_subject_name(x.get()));
      cert["validFrom"] = generalized_time(X509_get0_notBefore(x.get()));
      cert["validTo"] = generalized_time(X509_get0_notAfter(x.get()));
    }
    // The PIN is always required, the seal's too: a sealed seal PIN is never used through CSC.
    const char* presence = "true";
    const char* pin_label = "Token PIN";
    const char* pin_text = "The user PIN of the USB token that holds this key";
    json::object o{{"description", (bk.seal ? "School seal: " : "Signing key: ") + bk.label + " on token " + ref.token_label},
                   {"key", key},
                   {"cert", cert},
                   {"SCAL", "2"},
                   {"multisign", kMaxSignaturesPerSad},
                   {"lang", "en"}};
    if (v.major == 1) {
      o["authMode"] = "explicit";
      o["PIN"] = json::object{{"presence", presence}, {"format", "N"}, {"label", pin_label}, {"description", pin_text}};
      o["OTP"] = json::object{{"presence", "false"}};
    } else {
      o["auth"] = json::object{
          {"mode", "explicit"},
          {"expression", "PIN"},
          {"objects", json::array{json::object{{"type", "Password"}, {"id", "PIN"}, {"format", "N"}, {"label", pin_label}, {"description", pin_text}}}}};
    }
    return o;
  };

  auto audit = [this](const Caller& c, const char* action, const json::object& d) -> Status {
    auto r = store.append_audit(c.actor(), action, json::serialize(d));
    if (!r) return r.error();
    return {};
  };

  // Who may sign through CSC: the school's csc.roles (of the roles that sign at all). The routes carry
  // them, so the router answers everyone else with CSC's 403 before any CSC code runs.
  std::vector<std::string> signers;
  for (auto& r : opts.cfg.csc.roles)
    if (std::find(kSigners.begin(), kSigners.end(), r) != kSigners.end() && std::find(signers.begin(), signers.end(), r) == signers.end())
      signers.push_back(r);
  const bool enabled = opts.cfg.csc.enabled;

  for (const Version* vp : {&kV2, &kV1}) {
    // Every CSC route: POST, not found when the school turned CSC off (csc.enabled = false), expired
    // SADs purged first; the handler is told its version. The routes stay in the table either way
    // (App::routes(), docs/openapi.yaml), so the answer, not the table, says CSC is off.
    auto route = [&](const std::string& method, std::vector<std::string> roles, const std::string& summary,
                     std::function<HttpResponse(Ctx&, const Version&)> fn) {
      add("POST", vp->prefix + method, std::move(roles), summary + " (CSC v" + std::to_string(vp->major) + ")",
          [purge_sads, fn, vp, enabled](Ctx& c) {
            if (!enabled) return csc_error(404, "invalid_request", "The CSC API is turned off on this appliance (csc.enabled = false)");
            purge_sads();
            return fn(c, *vp);
          });
    };

    route("info", {"anonymous"}, "describe the CSC service", [this](Ctx&, const Version& v) {
      json::array methods;
      for (auto m : {"auth/login", "auth/revoke", "credentials/list", "credentials/info", "credentials/authorize", "signatures/signHash"})
        methods.push_back(json::string(m));
      std::string name = "hocba-signer";
      if (opts.cfg.school.name) name += " (" + *opts.cfg.school.name + ")";
      json::object o{{"specs", v.specs},
                     {"name", name},
                     {"region", "VN"},
                     {"lang", "en"},
                     {"description", "Remote signing of school records with the school's own tokens (hocba appliance)"},
                     {"authType", json::array{"basic"}},
                     {"methods", methods}};
      if (v.major == 2) {
        json::array algos;
        for (auto k : {hsm::KeyAlgorithm::rsa, hsm::KeyAlgorithm::ec})
          for (auto& a : key_algos(k)) algos.push_back(json::string(a));
        o["signAlgorithms"] = json::object{{"algos", algos}};
        o["signature_formats"] = json::object{{"formats", json::array{}}};  // no signatures/signDoc
        o["asynchronousOperationMode"] = false;
        o["validationInfo"] = false;
      }
      return ok_json(o);
    });

    route("auth/login", {"anonymous"}, "log in with HTTP Basic authentication", [this](Ctx& c, const Version&) {
      auto o = body_object(c.req);
      if (!o) return invalid_request("The request body is not a JSON object");
      if (o->contains("refresh_token")) return csc_error(400, "invalid_grant", "This service issues no refresh tokens: log in again");
      std::string auth;
      for (auto& [k, val] : c.req.headers)
        if (k == "authorization") {
          auth = val;
          sodium_memzero(val.data(), val.size());
        }
      auto basic = net::parse_basic_authorization(auth);
      wipe(auth);
      if (!basic) {
        HttpResponse r = csc_error(401, "invalid_request", "HTTP Basic authentication (Authorization: Basic base64(username:password)) is required");
        r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"hocba CSC\", charset=\"UTF-8\"");
        return r;
      }
      // A hocba extension: accounts with two-factor login send their one-time code as "totp".
      auto r = login(basic->username, basic->password, str_field(*o, "totp"), c.req.remote_address, "csc");
      if (auto* res = std::get_if<HttpResponse>(&r)) return csc_from_response(std::move(*res));
      auto token = new_session(std::get<Caller>(r), c.req.remote_address);
      if (!token) return csc_from_error(token.error());
      return ok_json(json::object{{"access_token", *token}, {"expires_in", opts.cfg.server.session_hours * 3600}});
    });

    route("auth/revoke", kAnyRole, "revoke a CSC access token", [this](Ctx& c, const Version&) {
      auto o = body_object(c.req);
      if (!o) return invalid_request("The request body is not a JSON object");
      std::string token = str_field(*o, "token");
      if (token.empty()) {
        std::string auth = c.req.header("authorization");
        if (auth.size() > 7) token = auth.substr(7);
      }
      if (str_field(*o, "token_type_hint") == "refresh_token") return invalid_request("Invalid parameter token_type_hint: no refresh tokens are issued");
      // Only one's own tokens; anything else is silently ignored (RFC 7009).
      auto ended = store::Sessions(store).end(c.caller->actor(), token, c.caller->user_id, json::serialize(json::object{{"via", "csc"}}));
      if (!ended) return csc_from_error(ended.error());
      HttpResponse r;
      r.status = 204;
      return r;
    });

    route("credentials/list", signers, "list one's signing credentials", [this, credential_json, seal_for](Ctx& c, const Version& v) {
      auto o = body_object(c.req);
      if (!o) return invalid_request("The request body is not a JSON object");
      if (o->contains("userID")) return invalid_request("Invalid parameter userID: the access token already names the user");
      bool principal = seal_for(*c.caller);  // the seal is listed only where it may be used
      auto keys = store::Keys(store).bound_to(c.caller->user_id, principal);
      if (!keys) return csc_from_error(keys.error());
      bool infos = v.major == 2 && bool_field(*o, "credentialInfo");
      bool only_valid = v.major == 2 && bool_field(*o, "onlyValid");
      std::string certificates = o->contains("certificates") ? str_field(*o, "certificates") : "single";
      if (certificates != "none" && certificates != "single" && certificates != "chain") return invalid_request("Invalid parameter certificates");
      json::array ids, info_list;
      for (const BoundKey& bk : *keys) {
        if (infos || only_valid) {
          auto ref = wf.key_ref(bk);
          if (!ref) {
            if (only_valid) continue;  // a token that is not there cannot sign now
            return csc_from_error(ref.error());
          }
          json::object ci = credential_json(bk, *ref, v, certificates, bool_field(*o, "certInfo"));
          if (only_valid && str_field(ci["key"].as_object(), "status") != "enabled") continue;
          ci["credentialID"] = credential_id(bk.id);
          if (infos) info_list.push_back(std::move(ci));
        }
        ids.push_back(json::string(credential_id(bk.id)));
      }
      json::object out{{"credentialIDs", ids}};
      if (infos) out["credentialInfos"] = std::move(info_list);
      if (only_valid) out["onlyValid"] = true;
      return ok_json(out);
    });

    route("credentials/info", signers, "describe a signing credential", [this, credential, credential_json](Ctx& c, const Version& v) {
      auto o = body_object(c.req);
      if (!o) return invalid_request("The request body is not a JSON object");
      auto bk = credential(*c.caller, str_field(*o, "credentialID"));
      if (!bk) return csc_from_error(bk.error());
      std::string certificates = o->contains("certificates") ? str_field(*o, "certificates") : "single";
      if (certificates != "none" && certificates != "single" && certificates != "chain")
        return invalid_request("Invalid parameter certificates: none, single or chain");
      auto ref = wf.key_ref(*bk);
      if (!ref) return csc_from_error(ref.error());
      return ok_json(credential_json(*bk, *ref, v, certificates, bool_field(*o, "certInfo")));
    });

    route("credentials/authorize", signers, "authorize signing given hashes", [this, credential, audit](Ctx& c, const Version& v) {
      auto o = body_object(c.req);
      // The body holds the PIN: wiped once read (the parsed copy below too).
      sodium_memzero(c.req.body.data(), c.req.body.size());
      if (!o) return invalid_request("The request body is not a JSON object");
      struct WipeOnExit {
        json::object& o;
        ~WipeOnExit() { wipe_pins(o); }
      } wipe_on_exit{*o};
      // Every answer from here on is audited, refusals too ("result": "refused" and the reason).
      std::string cred = str_field(*o, "credentialID");
      json::object d{{"credential", cred.substr(0, kMaxAuditedCredentialId)}, {"api", "csc/v" + std::to_string(v.major)}};
      auto refuse = [&](HttpResponse r, const char* result = "refused") {
        d["result"] = result;
        d["reason"] = error_description(r);
        (void)audit(*c.caller, "csc.authorize", d);
        spdlog::info("CSC_AUTHORIZE_REFUSED user={} credential={} result={}", c.caller->username, cred.substr(0, kMaxAuditedCredentialId), result);
        return r;
      };
      auto bk = credential(*c.caller, cred);
      if (!bk) return refuse(csc_from_error(bk.error()));
      d["key_id"] = bk->id;
      if (bk->seal) d["seal"] = true;
      auto n_it = o->find("numSignatures");
      if (n_it == o->end() || !(n_it->value().is_int64() || n_it->value().is_uint64()))
        return refuse(invalid_request("Missing (or invalid type) integer parameter numSignatures"));
      std::int64_t n = int_field(*o, "numSignatures");
      if (n < 1) return refuse(invalid_request("Invalid value for parameter numSignatures"));
      if (n > kMaxSignaturesPerSad)
        return refuse(invalid_request("Numbers of signatures is too high (at most " + std::to_string(kMaxSignaturesPerSad) + " per authorization)"));
      d["num_signatures"] = n;
      // SCAL 2: the SAD is bound to the hashes, so they are required.
      auto hashes = read_hashes(*o, v);
      if (!hashes) return refuse(csc_from_error(hashes.error()));
      json::array full;
      for (auto& h : *hashes) full.push_back(json::string(hash_hex(h.bytes)));
      d["hashes"] = std::move(full);
      if (static_cast<std::int64_t>(hashes->size()) != n)
        return refuse(invalid_request(std::string("numSignatures (") + std::to_string(n) + ") differs from the number of hashes in " + v.hashes +
                                      " (" + std::to_string(hashes->size()) + ")"));
      if (v.major == 2)
        if (std::string oid = str_field(*o, "hashAlgorithmOID"); !oid.empty()) {
          auto h = hash_by_oid(oid);
          if (!h) return refuse(invalid_request("Invalid parameter hashAlgorithmOID: " + oid.substr(0, 64)));
          for (auto& hi : *hashes)
            if (hi.bytes.size() != hsm::hash_size(*h))
              return refuse(invalid_request("Invalid digest value length for " + std::string(hsm::hash_name(*h))));
        }
      {
        auto ref = wf.key_ref(*bk);
        if (!ref) return refuse(csc_from_error(ref.error()), errc_name(ref.error().code));
        if (!certificate_current(ref->certificate))
          return refuse(invalid_request("The credential is disabled: its certificate is expired or not yet valid"));
      }
      // The PIN is always the request's: a sealed seal PIN is never used through CSC.
      json::string* given = find_pin(*o, v);
      if (!given || given->empty()) {
        std::string m = v.major == 1 ? "Missing (or invalid type) string parameter PIN"
                                     : "Missing PIN: authData must hold {\"id\": \"PIN\", \"value\": ...}";
        if (v.major == 1 && o->contains("authData")) m += " (authData is the CSC v2 form; /csc/v1/ takes \"PIN\")";
        if (v.major == 2 && o->contains("PIN")) m += " (\"PIN\" is the CSC v1 form)";
        if (bk->seal) m += "; the seal's PIN is required through CSC, even where the appliance holds a sealed one";
        return refuse(invalid_request(m));
      }
      if (bk->seal && opts.seal_pin) {
        // The seal's PIN is sealed: the PIN given is checked against it here and never sent to the
        // token, so no guess reaches (or locks) the seal's token. Guesses are limited here instead.
        std::lock_guard lk(sad_mu);
        if (csc_seal_pin_mismatches >= kMaxSealPinMismatches)
          return refuse(csc_error(403, "access_denied",
                                  "The seal's PIN was given wrong " + std::to_string(csc_seal_pin_mismatches) +
                                      " times through CSC: the seal is refused through CSC until hocbad restarts"));
        if (!same_pin(std::string_view(*given), *opts.seal_pin)) {
          ++csc_seal_pin_mismatches;
          spdlog::warn("CSC_SEAL_PIN_MISMATCH user={} mismatches={}", c.caller->username, csc_seal_pin_mismatches);
          return refuse(invalid_request("The PIN is invalid: it is not the seal's PIN (" + std::to_string(csc_seal_pin_mismatches) + " of " +
                                        std::to_string(kMaxSealPinMismatches) + " wrong PINs before the seal is refused through CSC)"),
                        "pin_incorrect");
        }
        csc_seal_pin_mismatches = 0;
      }
      std::string sad = new_sad();
      std::string sad_key = sha256_hex(sad);
      d["sad"] = sad_key.substr(0, 16);
      d["expires_in"] = kSadLifetime.count();
      Sad entry;
      entry.user_id = c.caller->user_id;
      entry.key_id = bk->id;
      for (auto& h : *hashes) entry.hashes.insert(h.b64);
      entry.expires = clock::now() + kSadLifetime;
      entry.pin = std::make_shared<Secret>(std::string_view(*given));
      // The cap is checked and the SAD inserted under one lock: concurrent requests cannot all pass
      // the check before any of them inserts.
      std::size_t mine = 0;
      {
        std::lock_guard lk(sad_mu);
        mine = std::count_if(sads.begin(), sads.end(), [&](const auto& kv) { return kv.second.user_id == c.caller->user_id; });
        if (mine < kMaxSadsPerUser) sads[sad_key] = std::move(entry);
      }
      if (mine >= kMaxSadsPerUser) {
        d.erase("sad");
        d.erase("expires_in");
        return refuse(invalid_request("Too many open authorizations (" + std::to_string(mine) + "): use or let them expire first"));
      }
      d["result"] = "ok";
      if (auto a = audit(*c.caller, "csc.authorize", d); !a) {
        std::lock_guard lk(sad_mu);
        sads.erase(sad_key);  // not in the legal trail: not usable either
        return csc_from_error(a.error());
      }
      spdlog::info("CSC_AUTHORIZE user={} credential={} hashes={} sad={}", c.caller->username, credential_id(bk->id), n, sad_key.substr(0, 16));
      return ok_json(json::object{{"SAD", sad}, {"expiresIn", kSadLifetime.count()}});
    });

    route("signatures/signHash", signers, "sign authorized hashes", [this, credential, audit](Ctx& c, const Version& v) {
      auto o = body_object(c.req);
      if (!o) return invalid_request("The request body is not a JSON object");
      // Every answer from here on is audited, refusals too ("result": "refused" and the reason), with
      // every hash in full.
      std::string cred = str_field(*o, "credentialID");
      std::string sad = str_field(*o, "SAD");
      std::string sad_key = sha256_hex(sad);
      json::object d{{"credential", cred.substr(0, kMaxAuditedCredentialId)}, {"api", "csc/v" + std::to_string(v.major)}};
      if (!sad.empty()) d["sad"] = sad_key.substr(0, 16);
      auto refuse = [&](HttpResponse r, const char* result = "refused") {
        d["result"] = result;
        d["reason"] = error_description(r);
        (void)audit(*c.caller, "csc.sign_hash", d);
        spdlog::info("CSC_SIGN_HASH_REFUSED user={} credential={} result={}", c.caller->username, cred.substr(0, kMaxAuditedCredentialId), result);
        return r;
      };
      auto bk = credential(*c.caller, cred);
      if (!bk) return refuse(csc_from_error(bk.error()));
      d["key_id"] = bk->id;
      if (bk->seal) d["seal"] = true;
      auto hashes = read_hashes(*o, v);
      if (!hashes) return refuse(csc_from_error(hashes.error()));
      json::array full;
      for (auto& h : *hashes) full.push_back(json::string(hash_hex(h.bytes)));
      d["hashes"] = std::move(full);
      if (sad.empty()) return refuse(invalid_request("Missing (or invalid type) string parameter SAD"));
      std::string hash_oid = str_field(*o, v.hash_algo);
      if (hash_oid.empty() && o->contains(v.other_hash_algo))
        return refuse(invalid_request(std::string("Invalid parameter ") + v.other_hash_algo + ": " + v.prefix + " takes \"" + v.hash_algo + "\""));
      d["sign_algo"] = str_field(*o, "signAlgo").substr(0, 64);
      auto spec = sign_spec(str_field(*o, "signAlgo"), hash_oid, str_field(*o, "signAlgoParams"), v);
      if (!spec) return refuse(csc_from_error(spec.error()));
      d["hash"] = hsm::hash_name(spec->hash);
      if (v.major == 2 && o->contains("operationMode") && str_field(*o, "operationMode") != "S")
        return refuse(invalid_request("Invalid parameter operationMode: only synchronous signing (\"S\") is supported"));
      for (auto& h : *hashes)
        if (h.bytes.size() != hsm::hash_size(spec->hash))
          return refuse(invalid_request("Invalid digest value length: " + std::string(hsm::hash_name(spec->hash)) + " digests have " +
                                        std::to_string(hsm::hash_size(spec->hash)) + " bytes"));
      auto ref = wf.key_ref(*bk);
      if (!ref) return refuse(csc_from_error(ref.error()), errc_name(ref.error().code));
      if (!certificate_current(ref->certificate))
        return refuse(invalid_request("The credential is disabled: its certificate is expired or not yet valid"));
      if (ref->algorithm != spec->key) return refuse(invalid_request("Invalid parameter signAlgo: the credential's key is not of that type"));

      // The SAD: the caller's, for this credential, not expired, and every hash in it (each once).
      std::shared_ptr<Secret> pin;
      std::string refused;
      {
        std::lock_guard lk(sad_mu);
        auto it = sads.find(sad_key);
        if (it == sads.end() || it->second.user_id != c.caller->user_id) {
          refused = "Invalid parameter SAD (unknown, used up, expired or invalidated)";
        } else if (it->second.expires <= clock::now()) {
          sads.erase(it);
          refused = "SAD expired";
        } else if (it->second.key_id != bk->id) {
          refused = "Invalid parameter SAD: it was issued for another credential";
        } else {
          for (auto& h : *hashes)
            if (!it->second.hashes.count(h.b64)) refused = "Hash is not authorized by the SAD (or was already signed with it)";
          if (refused.empty()) {
            // Taken out now (so that two requests cannot sign one hash), given back below if the
            // token fails for a reason other than the PIN.
            for (auto& h : *hashes) it->second.hashes.erase(h.b64);
            pin = it->second.pin;
          }
        }
      }
      if (!refused.empty()) return refuse(invalid_request(refused));

      hsm::SignRequest req;
      req.mechanism = spec->mechanism;
      req.hash = spec->hash;
      req.pin = pin.get();
      req.priority = hsm::Priority::interactive;
      req.check_pin_when_logged_in = true;
      std::string key_label = bk->label.empty() ? std::to_string(bk->id) : bk->label;
      json::array sigs;
      std::optional<Error> failed;
      auto t0 = clock::now();
      for (auto& h : *hashes) {
        req.digest = h.bytes;
        auto sig = hsm.sign(*ref, req);
        if (!sig) {
          metrics.counter_add("hocba_signatures_total", {{"key", key_label}, {"result", errc_name(sig.error().code)}});
          failed = sig.error();
          if (failed->code == Errc::token_not_present) wf.forget_key_ref(bk->id);  // resolve it afresh next time
          break;  // a wrong PIN is never tried again, and nothing after a failure is signed
        }
        metrics.counter_add("hocba_signatures_total", {{"key", key_label}, {"result", "ok"}});
        sigs.push_back(json::string(b64_encode(*sig)));
      }
      metrics.counter_add("hocba_token_busy_seconds_total", {{"key", key_label}},
                          std::chrono::duration<double>(clock::now() - t0).count());
      {
        std::lock_guard lk(sad_mu);
        auto it = sads.find(sad_key);
        if (failed && pin_error(failed->code)) {
          // The PIN this SAD holds is wrong (or cannot be used now): the SAD ends with it.
          if (it != sads.end()) sads.erase(it);
        } else if (it != sads.end()) {
          // The token failed otherwise (removed, ...): the hashes not signed may be tried again.
          for (std::size_t i = sigs.size(); failed && i < hashes->size(); ++i) it->second.hashes.insert((*hashes)[i].b64);
          if (it->second.hashes.empty()) sads.erase(it);
        }
      }
      pin.reset();
      d["signed"] = sigs.size();
      d["result"] = failed ? errc_name(failed->code) : "ok";
      Status a = audit(*c.caller, "csc.sign_hash", d);
      spdlog::info("CSC_SIGN_HASH user={} credential={} hashes={} result={}", c.caller->username, credential_id(bk->id), hashes->size(),
                   failed ? errc_name(failed->code) : "ok");
      if (failed) return csc_from_error(*failed);
      if (!a) return csc_from_error(a.error());  // signed, but the legal trail lacks it: no signature leaves
      return ok_json(json::object{{"signatures", sigs}});
    });
  }
}

}  // namespace hocba::api
