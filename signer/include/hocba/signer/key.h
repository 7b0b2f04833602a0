// The signer's view of a key: a certificate, CA certificates, and an operation that signs a
// digest. It does not know where the key lives (a token in production, software in tests).
#pragma once
#include <memory>
#include <span>
#include <span>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"

namespace hocba::hsm {
class Hsm;
struct KeyRef;
}  // namespace hocba::hsm

namespace hocba {
class Secret;
}

namespace hocba::signer {

enum class Hash { sha256, sha384, sha512 };
enum class Scheme { rsa_pkcs1, rsa_pss, ecdsa };

const char* hash_name(Hash h);
std::size_t hash_len(Hash h);

class SigningKey {
 public:
  virtual ~SigningKey() = default;
  virtual const Bytes& certificate() const = 0;       // DER
  virtual std::vector<Bytes> ca_certificates() const = 0;  // DER, any order, may be empty
  virtual bool is_rsa() const = 0;
  virtual std::size_t max_signature_size() const = 0;  // bytes, for placeholder sizing
  // Signs `digest` (already hashed with `hash`). ECDSA signatures are returned DER-encoded.
  virtual Result<Bytes> sign_digest(Hash hash, Scheme scheme, std::span<const std::uint8_t> digest) = 0;
};

// A key in software (PEM/DER private key and certificate): for tests and test services only.
std::unique_ptr<SigningKey> software_key(const Bytes& private_key_pem, const Bytes& cert_pem_or_der,
                                         std::vector<Bytes> ca_certs = {});

struct TokenSignOptions {
  const Secret* pin = nullptr;
  bool confirm_pin_risk = false;
  bool batch = false;  // lower priority on the token's queue
  bool check_pin_when_logged_in = false;  // hsm::SignRequest's: the PIN is checked even on an open token
};

// A key on a PKCS#11 token, signing through hsm::Hsm.
std::unique_ptr<SigningKey> token_key(hsm::Hsm& hsm, const hsm::KeyRef& key, TokenSignOptions opts);

// Parses one or more PEM certificates (or one DER certificate) into DER blobs.
Result<std::vector<Bytes>> load_certificates(const Bytes& pem_or_der, const std::string& what);

}  // namespace hocba::signer
