// PKCS#11 tokens and HSMs through libp11. No libp11 or OpenSSL type appears here.
//
// Thread-safe: every operation on a token runs on that token's own worker thread, one at a time,
// interactive requests ahead of batch ones. PIN safety: the token's PIN flags are read before every
// login; a token that reports count-low / final-try is not touched without explicit confirmation,
// a locked one never; a PIN that failed is never sent again; failures are counted per token.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"
#include "hocba/common/secret.h"
#include "hocba/hsm/uri.h"

namespace hocba::hsm {

enum class KeyAlgorithm { rsa, ec, other };
enum class Mechanism { rsa_pkcs1, rsa_pss, ecdsa };
enum class HashAlg { sha256, sha384, sha512 };
enum class Priority { interactive = 0, batch = 1 };

const char* hash_name(HashAlg h);
std::size_t hash_size(HashAlg h);

struct TokenInfo {
  std::string module;         // module path
  unsigned long slot_id = 0;
  std::string slot_description;
  bool removable = false;
  bool present = false;
  std::string label, manufacturer, model, serial;
  bool initialized = false, login_required = false;
  bool pin_count_low = false, pin_final_try = false, pin_locked = false, pin_to_be_changed = false;
  unsigned hocba_failures = 0;  // wrong PINs counted by this process for this token
  std::string uri;              // pkcs11:token=...;serial=...
};

struct ObjectInfo {
  enum class Kind { private_key, certificate } kind = Kind::private_key;
  std::string module, token_label, token_serial;
  std::string label;
  Bytes id;
  KeyAlgorithm algorithm = KeyAlgorithm::other;  // keys
  int bits = 0;                                  // keys: modulus or curve size
  std::string curve;                             // EC keys: "P-256", "P-384", ...
  bool has_certificate = false;                  // keys: a certificate object with the same CKA_ID exists
  std::string subject;                           // certificates (and keys that have one), RFC 2253, UTF-8
  std::string uri;
};

// A resolved key: where it lives and what it is. Cheap to copy; holds no libp11 pointers.
struct KeyRef {
  std::string module, token_label, token_serial;
  std::string label;
  Bytes id;
  KeyAlgorithm algorithm = KeyAlgorithm::other;
  int bits = 0;
  std::string curve;
  Bytes certificate;           // DER of the certificate object with the key's CKA_ID
  std::vector<Bytes> ca_certs; // DER of the other certificates on the token (CA certificates)
  std::string uri;
};

struct SignRequest {
  Mechanism mechanism = Mechanism::rsa_pkcs1;
  HashAlg hash = HashAlg::sha256;
  Bytes digest;               // the hash to sign (DigestInfo wrapping for PKCS#1 is done here)
  const Secret* pin = nullptr;  // needed when the token is not logged in (or always-authenticate)
  bool confirm_pin_risk = false;  // caller confirmed: proceed although the token reports count-low/final-try
  Priority priority = Priority::interactive;
  // When the token is already logged in (by an earlier request of this process), require `pin` and
  // check it against the PIN that logged in (a keyed hash kept in memory), without asking the token:
  // a daemon serving several people must not let an open token sign for a wrong PIN.
  bool check_pin_when_logged_in = false;
};

class Hsm {
 public:
  Hsm();
  ~Hsm();  // stops workers, logs out, C_Finalize's every module (before OpenSSL's own clean-up)
  Hsm(const Hsm&) = delete;
  Hsm& operator=(const Hsm&) = delete;

  // Loads a PKCS#11 module (idempotent per path). Several modules may be loaded at once.
  Status load_module(const std::string& path);
  std::vector<std::string> modules() const;

  // Every slot of every loaded module (tokens absent from a slot are listed with present=false).
  Result<std::vector<TokenInfo>> tokens();
  // Private keys and certificates on every present token (no login: public objects only,
  // unless a token was already logged in by this process).
  Result<std::vector<ObjectInfo>> objects();

  // Resolves a key URI (loading module-path if given). Fails with not_found / token_not_present.
  Result<KeyRef> find_key(const Pkcs11Uri& uri);

  // Signs a digest on the key's token. Blocks until done; safe from any thread.
  Result<Bytes> sign(const KeyRef& key, const SignRequest& req);

  // Logs the token out (e.g. at the end of a batch).
  Status logout(const KeyRef& key);

  // Stops using every module (called by the destructor; may be called earlier).
  void shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hocba::hsm
