// Login throttling (throttle.h).
#include "throttle.h"

#include <algorithm>

namespace hocba::api {
namespace {

using std::chrono::seconds;

constexpr seconds kMaxLockout{24 * 3600};
// An account's failures are forgotten after this long without one (and its pair entries too).
constexpr seconds kForget{3600};

seconds ceil_seconds(std::chrono::steady_clock::duration d) {
  auto s = std::chrono::ceil<seconds>(d);
  return std::max(s, seconds(1));
}

}  // namespace

bool LoginThrottle::expired(const Pair& p, Clock::time_point now) const {
  return p.inflight == 0 && p.locked_until <= now && now - p.last > kForget;
}
bool LoginThrottle::expired(const Account& a, Clock::time_point now) const { return a.inflight == 0 && now - a.last > kForget; }
bool LoginThrottle::expired(const Address& a, Clock::time_point now) const {
  return a.inflight == 0 && now - a.last > limits_.address_window;
}

std::string LoginThrottle::pair_key(const Who& w) {
  return w.device.empty() ? w.account + '\0' + w.address : w.account + '\0' + "device:" + w.device;
}

// The entry for `key`, made room for when the map is full: expired entries go first, then the least
// recently used one that has no password check under way.
template <class Map>
typename Map::mapped_type& LoginThrottle::slot(Map& m, const std::string& key, Clock::time_point now) {
  if (auto it = m.find(key); it != m.end()) return it->second;
  if (m.size() >= limits_.max_entries) {
    std::erase_if(m, [&](const auto& kv) { return expired(kv.second, now); });
    while (m.size() >= limits_.max_entries) {
      auto victim = m.end();
      for (auto it = m.begin(); it != m.end(); ++it) {
        if constexpr (requires { it->second.inflight; })
          if (it->second.inflight > 0) continue;
        if (victim == m.end() || it->second.last < victim->second.last) victim = it;
      }
      if (victim == m.end()) victim = m.begin();  // everything busy: still bounded
      m.erase(victim);
    }
  }
  auto& e = m[key];
  e.last = now;
  return e;
}

// The slow-down starts at twice the per-address limit, so that one address alone (locked out of the
// account at max_failures) does not slow its owner down.
seconds LoginThrottle::account_delay(const Account& a) const {
  int from = 2 * limits_.max_failures;
  if (a.failures < from) return seconds(0);
  int doublings = std::min(a.failures - from, 20);
  return std::min(seconds(1LL << doublings), limits_.account_delay_max);
}

std::optional<LoginThrottle::Refusal> LoginThrottle::begin(const Who& who, Clock::time_point now) {
  std::lock_guard lk(mu_);
  if (checks_ >= limits_.max_checks) return Refusal{Refusal::Kind::busy, seconds(1)};
  if (auto it = addresses_.find(who.address); it != addresses_.end()) {
    auto& ad = it->second;
    while (!ad.recent.empty() && now - ad.recent.front() > limits_.address_window) ad.recent.pop_front();
    if (static_cast<int>(ad.recent.size()) + ad.inflight >= limits_.address_max_failures)
      return Refusal{Refusal::Kind::address,
                     ad.recent.empty() ? seconds(1) : ceil_seconds(ad.recent.front() + limits_.address_window - now)};
    if (ad.inflight >= limits_.max_checks_per_address) return Refusal{Refusal::Kind::busy, seconds(1)};
  }
  std::string pk = pair_key(who);
  if (auto it = pairs_.find(pk); it != pairs_.end()) {
    const Pair& p = it->second;
    if (p.locked_until > now) return Refusal{Refusal::Kind::locked_out, ceil_seconds(p.locked_until - now)};
    if (p.failures + p.inflight >= limits_.max_failures) return Refusal{Refusal::Kind::locked_out, seconds(1)};
  }
  if (auto it = accounts_.find(who.account); it != accounts_.end()) {
    Account& a = it->second;
    if (a.failures > 0 && now - a.last_failure > kForget) a.failures = 0;
    if (who.device.empty() && !who.trusted) {
      auto delay = account_delay(a);
      if (delay.count() > 0 && now < a.last_failure + delay)
        return Refusal{Refusal::Kind::slow_down, ceil_seconds(a.last_failure + delay - now)};
      // A burst from many addresses: no more checks at once than failures allowed before the slow-down.
      if (a.inflight >= 2 * limits_.max_failures) return Refusal{Refusal::Kind::slow_down, seconds(1)};
    }
  }
  auto& p = slot(pairs_, pk, now);
  ++p.inflight;
  p.last = now;
  auto& a = slot(accounts_, who.account, now);
  ++a.inflight;
  a.last = now;
  auto& ad = slot(addresses_, who.address, now);
  ++ad.inflight;
  ad.last = now;
  ++checks_;
  return std::nullopt;
}

void LoginThrottle::end(const Who& who, bool success, Clock::time_point now) {
  std::lock_guard lk(mu_);
  std::string pk = pair_key(who);
  // The entries may have been evicted meanwhile: then they start afresh (never a negative count).
  auto& p = slot(pairs_, pk, now);
  auto& a = slot(accounts_, who.account, now);
  auto& ad = slot(addresses_, who.address, now);
  p.inflight = std::max(0, p.inflight - 1);
  a.inflight = std::max(0, a.inflight - 1);
  ad.inflight = std::max(0, ad.inflight - 1);
  checks_ = std::max(0, checks_ - 1);
  p.last = a.last = ad.last = now;
  if (success) {
    p.failures = 0;
    p.lockouts = 0;
    a.failures = 0;
    if (p.inflight == 0) pairs_.erase(pk);
    if (a.inflight == 0) accounts_.erase(who.account);
    return;
  }
  if (++p.failures >= limits_.max_failures) {
    auto lock = limits_.lockout * (1LL << std::min(p.lockouts, 16));
    p.locked_until = now + std::min<seconds>(std::chrono::duration_cast<seconds>(lock), kMaxLockout);
    ++p.lockouts;
    p.failures = 0;
  }
  ++a.failures;
  a.last_failure = now;
  ad.recent.push_back(now);
  while (static_cast<int>(ad.recent.size()) > limits_.address_max_failures) ad.recent.pop_front();
}

std::size_t LoginThrottle::entries() const {
  std::lock_guard lk(mu_);
  return pairs_.size() + accounts_.size() + addresses_.size();
}

}  // namespace hocba::api
