// The CSC API's signature activation data (sad_store.h).
#include "sad_store.h"

#include <sodium.h>

#include <algorithm>
#include <array>

#include "hocba/common/bytes.h"

namespace hocba::csc {
namespace {

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

}  // namespace

std::string new_sad() {
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(raw, sizeof raw);
  return b64;
}

std::string sad_key(std::string_view sad) { return sha256_hex(sad); }

void SadStore::purge(Clock::time_point now) {
  std::lock_guard lk(mu_);
  std::erase_if(sads_, [&](const auto& kv) { return kv.second.expires <= now; });
}

std::size_t SadStore::add(const std::string& key, Sad sad, std::size_t max_per_user) {
  std::lock_guard lk(mu_);
  std::size_t mine =
      static_cast<std::size_t>(std::count_if(sads_.begin(), sads_.end(), [&](const auto& kv) { return kv.second.user_id == sad.user_id; }));
  if (mine < max_per_user) sads_[key] = std::move(sad);
  return mine;
}

void SadStore::erase(const std::string& key) {
  std::lock_guard lk(mu_);
  sads_.erase(key);
}

std::variant<std::shared_ptr<Secret>, std::string> SadStore::take(const std::string& key, std::int64_t user_id, std::int64_t key_id,
                                                                  const std::vector<std::string>& hashes, Clock::time_point now) {
  std::lock_guard lk(mu_);
  auto it = sads_.find(key);
  if (it == sads_.end() || it->second.user_id != user_id) return std::string("Invalid parameter SAD (unknown, used up, expired or invalidated)");
  if (it->second.expires <= now) {
    sads_.erase(it);
    return std::string("SAD expired");
  }
  if (it->second.key_id != key_id) return std::string("Invalid parameter SAD: it was issued for another credential");
  for (auto& h : hashes)
    if (!it->second.hashes.count(h)) return std::string("Hash is not authorized by the SAD (or was already signed with it)");
  for (auto& h : hashes) it->second.hashes.erase(h);
  return it->second.pin;
}

void SadStore::settle(const std::string& key, bool pin_refused, const std::vector<std::string>& unsigned_hashes) {
  std::lock_guard lk(mu_);
  auto it = sads_.find(key);
  if (it == sads_.end()) return;
  if (pin_refused) {
    // The PIN this SAD holds is wrong (or cannot be used now): the SAD ends with it.
    sads_.erase(it);
    return;
  }
  // The token failed otherwise (removed, ...): the hashes not signed may be tried again.
  for (auto& h : unsigned_hashes) it->second.hashes.insert(h);
  if (it->second.hashes.empty()) sads_.erase(it);
}

SealPinGuard::Outcome SealPinGuard::check(std::string_view given, const Secret& sealed) {
  std::lock_guard lk(mu_);
  if (mismatches_ >= max_) return {Outcome::Kind::refused, mismatches_};
  if (!same_pin(given, sealed)) return {Outcome::Kind::wrong, ++mismatches_};
  mismatches_ = 0;
  return {Outcome::Kind::ok, 0};
}

}  // namespace hocba::csc
