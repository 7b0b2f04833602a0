// The CSC API's signature activation data (docs/csc.md, "Signing: authorize, then signHash"): what
// each SAD handed out by credentials/authorize allows (a user, a credential, the exact hashes, each
// once, and the PIN, for at most its lifetime), and the guard on seal PINs given through CSC when the
// seal's PIN is sealed. Each is one object with its lock inside. Private to csc/.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "hocba/common/secret.h"

namespace hocba::csc {

using Clock = std::chrono::steady_clock;

// A new SAD: 32 random bytes, base64url. The store keeps only its SHA-256 (sad_key).
std::string new_sad();
std::string sad_key(std::string_view sad);

class SadStore {
 public:
  struct Sad {
    std::int64_t user_id = 0, key_id = 0;
    std::set<std::string> hashes;  // base64 of the hashes it may sign (each once)
    Clock::time_point expires;
    std::shared_ptr<Secret> pin;
  };

  // Removes the expired SADs (their PINs are wiped once no signing holds them).
  void purge(Clock::time_point now);
  // Stores `sad` under `key` unless its user holds `max_per_user` already. Returns how many the user
  // held before; the SAD was stored when that is below `max_per_user` (one lock: requests at the same
  // moment cannot all pass the check).
  std::size_t add(const std::string& key, Sad sad, std::size_t max_per_user);
  void erase(const std::string& key);
  // Takes `hashes` out of SAD `key` for `user_id` to sign with `key_id` (so that two requests cannot
  // sign one hash): its PIN, or why it is refused (nothing is taken then).
  std::variant<std::shared_ptr<Secret>, std::string> take(const std::string& key, std::int64_t user_id, std::int64_t key_id,
                                                          const std::vector<std::string>& hashes, Clock::time_point now);
  // After signing what take() gave: a PIN the token refused ends the SAD; otherwise the hashes not
  // signed (`unsigned_hashes`) go back, and a SAD with no hash left ends.
  void settle(const std::string& key, bool pin_refused, const std::vector<std::string>& unsigned_hashes);

 private:
  std::mutex mu_;
  std::map<std::string, Sad> sads_;
};

// Seal PINs given through CSC while the seal's PIN is sealed: compared with the sealed one here, never
// sent to the token, and after `max_mismatches` wrong ones in a row the seal is refused through CSC
// (until the process restarts).
class SealPinGuard {
 public:
  explicit SealPinGuard(int max_mismatches) : max_(max_mismatches) {}
  struct Outcome {
    enum class Kind { ok, wrong, refused } kind;
    int mismatches;  // wrong PINs in a row, this one included
  };
  Outcome check(std::string_view given, const Secret& sealed);
  int max() const { return max_; }

 private:
  const int max_;
  std::mutex mu_;
  int mismatches_ = 0;  // guarded by mu_
};

}  // namespace hocba::csc
