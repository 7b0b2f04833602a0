// Login throttling that slows guessing down without letting anyone lock an owner out (docs/appliance.md,
// "Logins"):
// - per (account, client address): `max_failures` wrong answers in a row lock that address out of that
//   account for `lockout` (doubling each time, at most 24 hours); the owner at another address is not;
// - per account, across addresses: after 2 x `max_failures` failures, each next attempt waits a delay
//   that doubles from 1 s up to `account_delay_max` (minutes at most: a slow-down, never a lock-out);
// - per client address: `address_max_failures` failures within 15 minutes refuse that address.
// - a known device (a cookie given at the last successful login) is its own "address" and is not
//   slowed down by failures elsewhere;
// - password checks at once are capped per address and in all (each Argon2id check takes 64 MiB).
// Every map is bounded (`max_entries` each): expired entries go first, then the least recently used.
// Password checks under way count as failures until they end, so a burst cannot race the limits; an
// account's failures are forgotten an hour after the last one.
#pragma once
#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace hocba::api {

class LoginThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  struct Limits {
    int max_failures = 5;
    std::chrono::seconds lockout{300};
    int address_max_failures = 20;
    std::chrono::seconds address_window{15 * 60};
    std::chrono::seconds account_delay_max{60};
    int max_checks_per_address = 2;  // password checks (64 MiB of Argon2id each) at once from one address
    int max_checks = 4;              // ... and in all
    std::size_t max_entries = 10000;  // per map
  };
  struct Refusal {
    enum class Kind { address, locked_out, slow_down, busy } kind;
    std::chrono::seconds retry_after;
  };
  // Who tries. `device`: an id of a browser or client this account logged in from before (its device
  // cookie): the pair lock-out is then per (account, device), and the account's slow-down does not
  // apply, so that nobody elsewhere can keep the owner out. `trusted`: the account's own session
  // re-checks its password (the slow-down does not apply either).
  struct Who {
    std::string account, address, device;
    bool trusted = false;
  };

  explicit LoginThrottle(Limits limits) : limits_(limits) {}

  // Before a password is checked: a refusal, or nothing (the attempt is then counted as under way and
  // end() must follow: see Attempt).
  std::optional<Refusal> begin(const Who& who, Clock::time_point now = Clock::now());
  void end(const Who& who, bool success, Clock::time_point now = Clock::now());

  // An attempt under way; ends as a failure unless succeeded() (also when an exception unwinds).
  class Attempt {
   public:
    Attempt(LoginThrottle& t, Who who) : t_(&t), who_(std::move(who)) {}
    Attempt(const Attempt&) = delete;
    Attempt& operator=(const Attempt&) = delete;
    ~Attempt() { finish(false); }
    void finish(bool success) {
      if (t_) t_->end(who_, success);
      t_ = nullptr;
    }

   private:
    LoginThrottle* t_;
    Who who_;
  };

  // Entries kept, over all maps (tests check the bound).
  std::size_t entries() const;

 private:
  struct Pair {
    int failures = 0, inflight = 0, lockouts = 0;
    Clock::time_point locked_until{}, last{};
  };
  struct Account {
    int failures = 0, inflight = 0;
    Clock::time_point last_failure{}, last{};
  };
  struct Address {
    std::deque<Clock::time_point> recent;
    int inflight = 0;
    Clock::time_point last{};
  };
  std::chrono::seconds account_delay(const Account& a) const;
  template <class Map>
  typename Map::mapped_type& slot(Map& m, const std::string& key, Clock::time_point now);
  bool expired(const Pair& p, Clock::time_point now) const;
  bool expired(const Account& a, Clock::time_point now) const;
  bool expired(const Address& a, Clock::time_point now) const;
  static std::string pair_key(const Who& w);

  Limits limits_;
  mutable std::mutex mu_;
  int checks_ = 0;  // password checks under way, in all
  std::map<std::string, Pair> pairs_;
  std::map<std::string, Account> accounts_;
  std::map<std::string, Address> addresses_;
};

}  // namespace hocba::api
