#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstring>

#include "hocba/hsm/hsm.h"
#include "hocba/signer/key.h"
#include "ossl.h"

namespace hocba::signer {

static_assert(static_cast<int>(Hash::sha256) == static_cast<int>(hsm::HashAlg::sha256) &&
              static_cast<int>(Hash::sha384) == static_cast<int>(hsm::HashAlg::sha384) &&
              static_cast<int>(Hash::sha512) == static_cast<int>(hsm::HashAlg::sha512));

const char* hash_name(Hash h) {
  switch (h) {
    case Hash::sha256: return "SHA-256";
    case Hash::sha384: return "SHA-384";
    case Hash::sha512: return "SHA-512";
  }
  return "?";
}

std::size_t hash_len(Hash h) {
  switch (h) {
    case Hash::sha256: return 32;
    case Hash::sha384: return 48;
    case Hash::sha512: return 64;
  }
  return 0;
}

const EVP_MD* md_for(int h) {
  switch (static_cast<Hash>(h)) {
    case Hash::sha256: return EVP_sha256();
    case Hash::sha384: return EVP_sha384();
    case Hash::sha512: return EVP_sha512();
  }
  return nullptr;
}

std::string name_to_string(const X509_NAME* n) {
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  X509_NAME_print_ex(bio.get(), n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* p = nullptr;
  long len = BIO_get_mem_data(bio.get(), &p);
  return std::string(p, static_cast<std::size_t>(len));
}

std::string serial_hex(const X509* x) {
  std::string out;
  if (!x) return out;
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr);
  if (char* hex = bn ? BN_bn2hex(bn) : nullptr) {
    out = hex;
    OPENSSL_free(hex);
  }
  BN_free(bn);
  return out;
}

Result<std::vector<Bytes>> load_certificates(const Bytes& data, const std::string& what) {
  std::vector<Bytes> out;
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())), BIO_free);
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    out.push_back(x509_to_der(x));
    X509_free(x);
  }
  ERR_clear_error();
  if (out.empty()) {
    if (auto x = x509_from_der(data)) out.push_back(x509_to_der(x.get()));
    ERR_clear_error();
  }
  if (out.empty()) return make_error(Errc::invalid_argument, what + " holds no PEM or DER certificate");
  return out;
}

namespace {

std::size_t max_sig_size(EVP_PKEY* pub) {
  // RSA: the modulus size. ECDSA: DER SEQUENCE of two INTEGERs, each up to the order size + 1.
  int bytes = (EVP_PKEY_get_bits(pub) + 7) / 8;
  if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA) return static_cast<std::size_t>(bytes);
  return static_cast<std::size_t>(2 * (bytes + 3) + 3);
}

class SoftwareKey final : public SigningKey {
 public:
  SoftwareKey(EvpPkeyPtr key, Bytes cert, std::vector<Bytes> cas)
      : key_(std::move(key)), cert_(std::move(cert)), cas_(std::move(cas)) {}
  const Bytes& certificate() const override { return cert_; }
  std::vector<Bytes> ca_certificates() const override { return cas_; }
  bool is_rsa() const override { return EVP_PKEY_get_base_id(key_.get()) == EVP_PKEY_RSA; }
  std::size_t max_signature_size() const override { return max_sig_size(key_.get()); }
  Result<Bytes> sign_digest(Hash hash, Scheme scheme, std::span<const std::uint8_t> digest) override {
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new(key_.get(), nullptr), EVP_PKEY_CTX_free);
    if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), md_for(static_cast<int>(hash))) != 1)
      return openssl_error("cannot set up a software signature");
    if (scheme == Scheme::rsa_pss &&
        (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md_for(static_cast<int>(hash))) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), static_cast<int>(hash_len(hash))) != 1))
      return openssl_error("cannot set up RSA-PSS");
    std::size_t len = 0;
    if (EVP_PKEY_sign(ctx.get(), nullptr, &len, digest.data(), digest.size()) != 1)
      return openssl_error("cannot size a software signature");
    Bytes sig(len);
    if (EVP_PKEY_sign(ctx.get(), sig.data(), &len, digest.data(), digest.size()) != 1)
      return openssl_error("software signature failed");
    sig.resize(len);
    return sig;
  }

 private:
  EvpPkeyPtr key_;
  Bytes cert_;
  std::vector<Bytes> cas_;
};

class TokenKey final : public SigningKey {
 public:
  TokenKey(hsm::Hsm& h, hsm::KeyRef ref, TokenSignOptions o) : hsm_(h), ref_(std::move(ref)), opts_(o) {
    if (auto x = x509_from_der(ref_.certificate)) max_ = max_sig_size(X509_get0_pubkey(x.get()));
  }
  const Bytes& certificate() const override { return ref_.certificate; }
  std::vector<Bytes> ca_certificates() const override { return ref_.ca_certs; }
  bool is_rsa() const override { return ref_.algorithm == hsm::KeyAlgorithm::rsa; }
  std::size_t max_signature_size() const override { return max_; }
  Result<Bytes> sign_digest(Hash hash, Scheme scheme, std::span<const std::uint8_t> digest) override {
    hsm::SignRequest req;
    req.mechanism = scheme == Scheme::rsa_pss ? hsm::Mechanism::rsa_pss
                    : scheme == Scheme::ecdsa ? hsm::Mechanism::ecdsa
                                              : hsm::Mechanism::rsa_pkcs1;
    req.hash = static_cast<hsm::HashAlg>(static_cast<int>(hash));
    req.digest.assign(digest.begin(), digest.end());
    req.pin = opts_.pin;
    req.confirm_pin_risk = opts_.confirm_pin_risk;
    req.priority = opts_.batch ? hsm::Priority::batch : hsm::Priority::interactive;
    req.check_pin_when_logged_in = opts_.check_pin_when_logged_in;
    return hsm_.sign(ref_, req);
  }

 private:
  hsm::Hsm& hsm_;
  hsm::KeyRef ref_;
  TokenSignOptions opts_;
  std::size_t max_ = 512;
};

}  // namespace

std::unique_ptr<SigningKey> software_key(const Bytes& key_pem, const Bytes& cert, std::vector<Bytes> cas) {
  BioPtr kb(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())), BIO_free);
  EvpPkeyPtr k(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  auto certs = load_certificates(cert, "certificate");
  if (!k || !certs) {
    ERR_clear_error();
    return nullptr;
  }
  return std::make_unique<SoftwareKey>(std::move(k), certs->front(), std::move(cas));
}

std::unique_ptr<SigningKey> token_key(hsm::Hsm& h, const hsm::KeyRef& key, TokenSignOptions opts) {
  return std::make_unique<TokenKey>(h, key, opts);
}

}  // namespace hocba::signer
