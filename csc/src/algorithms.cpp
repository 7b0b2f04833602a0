// The CSC API's algorithms (algorithms.h).
#include "algorithms.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include <cstring>
#include <memory>

#include "hocba/common/ossl.h"

namespace hocba::csc {

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

namespace {

std::optional<hsm::HashAlg> hash_by_nid(int nid) {
  if (nid == NID_sha256) return hsm::HashAlg::sha256;
  if (nid == NID_sha384) return hsm::HashAlg::sha384;
  if (nid == NID_sha512) return hsm::HashAlg::sha512;
  return std::nullopt;
}

}  // namespace

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

namespace {

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

}  // namespace

Result<SignSpec> sign_spec(const std::string& sign_algo, const std::string& hash_oid, const std::string& params_b64,
                           std::string_view hash_field) {
  std::optional<hsm::HashAlg> given;
  if (!hash_oid.empty() && !(given = hash_by_oid(hash_oid)))
    return make_error(Errc::invalid_argument, std::string("Invalid parameter ") + std::string(hash_field) + ": " + hash_oid +
                                                  " (supported: SHA-256 " + kOidSha256 + ", SHA-384 " + kOidSha384 + ", SHA-512 " + kOidSha512 + ")");
  // The hash implied by signAlgo (if any) must agree with the one given.
  auto with_hash = [&](hsm::Mechanism m, std::optional<hsm::HashAlg> implied, hsm::KeyAlgorithm k) -> Result<SignSpec> {
    if (implied && given && *implied != *given)
      return make_error(Errc::invalid_argument, std::string("Invalid parameter ") + std::string(hash_field) + ": signAlgo " + sign_algo + " implies " +
                                                    hsm::hash_name(*implied));
    if (!implied && !given)
      return make_error(Errc::invalid_argument, std::string("Missing (or invalid type) string parameter ") + std::string(hash_field) +
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

std::string b64_encode(std::span<const std::uint8_t> b) {
  std::string out(sodium_base64_ENCODED_LEN(b.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), b.data(), b.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

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

}  // namespace hocba::csc
