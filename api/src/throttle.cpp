// Login throttling (throttle.h).
#include "throttle.h"

#include <algorithm>

namespace hocba::api {
namespace {

using std::chrono::seconds;

constexpr seconds kMaxLockout{24 * 3600};
// An account's failures are forgotten after this long without one (and its pair entries too).
constexpr seconds kForget{3600};

std::string pair_key(const std::string& account, const std::string& address) { return account + '\0' + address; }

seconds ceil_seconds(std::chrono::steady_clock::duration d) {
  auto s = std::chrono::ceil<seconds>(d);
  return std::max(s, seconds(1));
}

}  // namespace

bool LoginThrottle::expired(const Pair& p, Clock::time_point now) const {
  return p.inflight == 0 && p.locked_until <= now && now - p.last > kForget;
}
bool LoginThrottle::expired(const Account& a, Clock::time_point now) const { return a.inflight == 0 && now - a.last > kForget; }
bool LoginThrottle::expired(const Address& a, Clock::time_point now) const { return now - a.last > limits_.address_window; }

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

std::optional<LoginThrottle::Refusal> LoginThrottle::begin(const std::string& account, const std::string& address,
                                                          Clock::time_point now) {
  std::lock_guard lk(mu_);
  if (auto it = addresses_.find(address); it != addresses_.end()) {
    auto& recent = it->second.recent;
    while (!recent.empty() && now - recent.front() > limits_.address_window) recent.pop_front();
    if (static_cast<int>(recent.size()) >= limits_.address_max_failures)
      return Refusal{Refusal::Kind::address, ceil_seconds(recent.front() + limits_.address_window - now)};
  }
  if (auto it = pairs_.find(pair_key(account, address)); it != pairs_.end()) {
    const Pair& p = it->second;
    if (p.locked_until > now) return Refusal{Refusal::Kind::locked_out, ceil_seconds(p.locked_until - now)};
    if (p.failures + p.inflight >= limits_.max_failures) return Refusal{Refusal::Kind::locked_out, seconds(1)};
  }
  if (auto it = accounts_.find(account); it != accounts_.end()) {
    const Account& a = it->second;
    auto delay = account_delay(a);
    if (delay.count() > 0 && now < a.last_failure + delay) return Refusal{Refusal::Kind::slow_down, ceil_seconds(a.last_failure + delay - now)};
    // A burst from many addresses: no more checks at once than failures allowed before the slow-down.
    if (a.inflight >= 2 * limits_.max_failures) return Refusal{Refusal::Kind::slow_down, seconds(1)};
  }
  auto& p = slot(pairs_, pair_key(account, address), now);
  ++p.inflight;
  p.last = now;
  auto& a = slot(accounts_, account, now);
  ++a.inflight;
  a.last = now;
  return std::nullopt;
}

void LoginThrottle::end(const std::string& account, const std::string& address, bool success, Clock::time_point now) {
  std::lock_guard lk(mu_);
  std::string pk = pair_key(account, address);
  // The entries may have been evicted meanwhile: then they start afresh (never a negative count).
  auto& p = slot(pairs_, pk, now);
  auto& a = slot(accounts_, account, now);
  p.inflight = std::max(0, p.inflight - 1);
  a.inflight = std::max(0, a.inflight - 1);
  p.last = a.last = now;
  if (success) {
    p.failures = 0;
    p.lockouts = 0;
    a.failures = 0;
    if (p.inflight == 0) pairs_.erase(pk);
    if (a.inflight == 0) accounts_.erase(account);
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
  auto& ad = slot(addresses_, address, now);
  ad.last = now;
  ad.recent.push_back(now);
  while (static_cast<int>(ad.recent.size()) > limits_.address_max_failures) ad.recent.pop_front();
}

std::size_t LoginThrottle::entries() const {
  std::lock_guard lk(mu_);
  return pairs_.size() + accounts_.size() + addresses_.size();
}

}  // namespace hocba::api
