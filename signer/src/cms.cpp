// CMS SignedData for PAdES baseline B (ETSI EN 319 142-1 §6.3, RFC 5652, RFC 5035).
#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <cstring>

#include "hocba/signer/pades.h"
#include "ossl.h"

// The DER that a SignerInfo's signature covers is its signed attributes encoded as a SET OF
// (tag 0x31), sorted (RFC 5652 §5.4). OpenSSL keeps its own template private; this is the same one.
typedef STACK_OF(X509_ATTRIBUTE) HOCBA_SIGNED_ATTRS;
DECLARE_ASN1_ITEM(HOCBA_SIGNED_ATTRS)
ASN1_ITEM_TEMPLATE(HOCBA_SIGNED_ATTRS) =
    ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SET_ORDER, 0, HOCBA_SIGNED_ATTRS, X509_ATTRIBUTE)
ASN1_ITEM_TEMPLATE_END(HOCBA_SIGNED_ATTRS)

namespace hocba::signer {

namespace {

bool issued_by(X509* child, X509* parent) { return X509_check_issued(parent, child) == X509_V_OK; }

// RSASSA-PSS-params (RFC 4055) for hash h with MGF1 over the same hash and salt = hash length.
bool set_pss_algorithm(X509_ALGOR* alg, Hash h) {
  const EVP_MD* md = md_for(static_cast<int>(h));
  RSA_PSS_PARAMS* pss = RSA_PSS_PARAMS_new();
  if (!pss) return false;
  bool ok = true;
  pss->hashAlgorithm = X509_ALGOR_new();
  ok = ok && pss->hashAlgorithm;
  if (ok) X509_ALGOR_set_md(pss->hashAlgorithm, md);
  // maskGenAlgorithm: id-mgf1 with parameters = the hash AlgorithmIdentifier.
  X509_ALGOR* mgf1md = X509_ALGOR_new();
  ok = ok && mgf1md;
  if (ok) X509_ALGOR_set_md(mgf1md, md);
  ASN1_STRING* mgf1params = nullptr;
  if (ok) ok = ASN1_item_pack(mgf1md, ASN1_ITEM_rptr(X509_ALGOR), &mgf1params) != nullptr;
  X509_ALGOR_free(mgf1md);
  pss->maskGenAlgorithm = X509_ALGOR_new();
  ok = ok && pss->maskGenAlgorithm;
  if (ok) X509_ALGOR_set0(pss->maskGenAlgorithm, OBJ_nid2obj(NID_mgf1), V_ASN1_SEQUENCE, mgf1params);
  else ASN1_STRING_free(mgf1params);
  pss->saltLength = ASN1_INTEGER_new();
  ok = ok && pss->saltLength && ASN1_INTEGER_set(pss->saltLength, static_cast<long>(hash_len(h))) == 1;
  ASN1_STRING* params = nullptr;
  if (ok) ok = ASN1_item_pack(pss, ASN1_ITEM_rptr(RSA_PSS_PARAMS), &params) != nullptr;
  RSA_PSS_PARAMS_free(pss);
  if (!ok) return false;
  return X509_ALGOR_set0(alg, OBJ_nid2obj(NID_rsassaPss), V_ASN1_SEQUENCE, params) == 1;
}

}  // namespace

std::vector<Bytes> build_chain(const Bytes& signer, const std::vector<Bytes>& candidates) {
  std::vector<Bytes> chain{signer};
  std::vector<X509Ptr> pool;
  for (const auto& c : candidates)
    if (auto x = x509_from_der(c)) pool.push_back(std::move(x));
  X509Ptr cur = x509_from_der(signer);
  while (cur && chain.size() < 10) {
    if (X509_check_issued(cur.get(), cur.get()) == X509_V_OK) break;  // self-signed: the root
    X509* next = nullptr;
    for (auto& p : pool)
      if (issued_by(cur.get(), p.get())) next = p.get();
    if (!next) break;
    Bytes der = x509_to_der(next);
    bool seen = false;
    for (auto& c : chain) seen = seen || c == der;
    if (seen) break;
    chain.push_back(der);
    cur = x509_from_der(der);
  }
  ERR_clear_error();
  return chain;
}

Result<Bytes> build_pades_cms(SigningKey& key, Hash hash, Scheme scheme, std::span<const std::uint8_t> digest,
                              const std::vector<Bytes>& chain) {
  if (digest.size() != hash_len(hash)) return make_error(Errc::invalid_argument, "digest has the wrong length");
  X509Ptr cert = x509_from_der(key.certificate());
  if (!cert) return openssl_error("the signer's certificate cannot be parsed");
  EVP_PKEY* pub = X509_get0_pubkey(cert.get());
  if (!pub) return openssl_error("the signer's certificate has no usable public key");
  const EVP_MD* md = md_for(static_cast<int>(hash));

  CmsPtr cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, CMS_DETACHED | CMS_BINARY | CMS_PARTIAL), CMS_ContentInfo_free);
  if (!cms) return openssl_error("cannot create CMS SignedData");
  // CMS_CADES: signing-certificate-v2 (ESSCertIDv2 with issuerSerial, RFC 5035), as OpenSSL encodes
  // it. CMS_PARTIAL: OpenSSL does not sign (the key is on a token); no signing-time is added.
  CMS_SignerInfo* si =
      CMS_add1_signer(cms.get(), cert.get(), pub, md, CMS_PARTIAL | CMS_BINARY | CMS_NOSMIMECAP | CMS_CADES);
  if (!si) return openssl_error("cannot add the signer");
  if (CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType, V_ASN1_OBJECT, OBJ_nid2obj(NID_pkcs7_data), -1) != 1 ||
      CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING, digest.data(),
                                  static_cast<int>(digest.size())) != 1)
    return openssl_error("cannot add the signed attributes");

  for (std::size_t i = 1; i < chain.size(); ++i) {
    X509Ptr ca = x509_from_der(chain[i]);
    if (!ca) return openssl_error("a chain certificate cannot be parsed");
    if (CMS_add1_cert(cms.get(), ca.get()) != 1) {
      // "certificate already present" is harmless
      ERR_clear_error();
    }
  }

  X509_ALGOR *dig_alg = nullptr, *sig_alg = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &dig_alg, &sig_alg);
  if (scheme == Scheme::rsa_pss && !set_pss_algorithm(sig_alg, hash)) return openssl_error("cannot encode RSASSA-PSS parameters");
  if (scheme == Scheme::rsa_pkcs1) {
    // sha256WithRSAEncryption etc. names the hash explicitly (RFC 5754 §3.2).
    int nid = hash == Hash::sha256 ? NID_sha256WithRSAEncryption
              : hash == Hash::sha384 ? NID_sha384WithRSAEncryption
                                     : NID_sha512WithRSAEncryption;
    X509_ALGOR_set0(sig_alg, OBJ_nid2obj(nid), V_ASN1_NULL, nullptr);
  }

  // The signed attributes as DER SET OF, then their hash, then the token signs that hash.
  STACK_OF(X509_ATTRIBUTE)* attrs = sk_X509_ATTRIBUTE_new_null();
  for (int i = 0; i < CMS_signed_get_attr_count(si); ++i) sk_X509_ATTRIBUTE_push(attrs, CMS_signed_get_attr(si, i));
  unsigned char* der = nullptr;
  int der_len = ASN1_item_i2d(reinterpret_cast<ASN1_VALUE*>(attrs), &der, ASN1_ITEM_rptr(HOCBA_SIGNED_ATTRS));
  sk_X509_ATTRIBUTE_free(attrs);  // the attributes themselves belong to the SignerInfo
  if (der_len <= 0) return openssl_error("cannot encode the signed attributes");
  unsigned char attr_digest[EVP_MAX_MD_SIZE];
  unsigned attr_digest_len = 0;
  int ok = EVP_Digest(der, static_cast<std::size_t>(der_len), attr_digest, &attr_digest_len, md, nullptr);
  OPENSSL_free(der);
  if (ok != 1) return openssl_error("cannot hash the signed attributes");

  auto sig = key.sign_digest(hash, scheme, std::span<const std::uint8_t>(attr_digest, attr_digest_len));
  if (!sig) return sig.error();
  ASN1_OCTET_STRING* sig_field = CMS_SignerInfo_get0_signature(si);
  if (ASN1_STRING_set(sig_field, sig->data(), static_cast<int>(sig->size())) != 1)
    return openssl_error("cannot store the signature");

  int n = i2d_CMS_ContentInfo(cms.get(), nullptr);
  if (n <= 0) return openssl_error("cannot encode the CMS");
  Bytes out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  i2d_CMS_ContentInfo(cms.get(), &p);
  return out;
}

}  // namespace hocba::signer
