// Users (the users table): accounts, their passwords (Argon2id hashes), roles and two-factor secrets.
// Changes made here are audited in the same transaction. No SQLite or libsodium type appears here.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/secret.h"
#include "hocba/store/roles.h"
#include "hocba/store/store.h"

namespace hocba::store {

struct User {
  std::int64_t id = 0;
  std::string username, display_name;
  Role role = Role::viewer;
  bool disabled = false;
  bool totp = false;  // two-factor login (TOTP) is on
};

// What an administrator changes on an account (PATCH /api/v1/users/{id}); unset fields stay.
struct UserChange {
  std::optional<Role> role;
  std::optional<std::string> display_name;
  std::optional<bool> disabled;             // disabling ends the user's sessions
  std::optional<std::string> password_hash;  // from hash_password(); ends the user's sessions
  bool totp_off = false;                     // turns two-factor login off
};

// 1 to 64 of a-z 0-9 . _ - (what add() accepts).
bool valid_username(const std::string& username);
// Why `name` cannot be a display name ("it holds a control character (U+0009)"), "" when it can: it must be
// UTF-8 without C0 or C1 control characters (tab and line feed too), DEL, U+FFFE or U+FFFF, and at most
// kMaxDisplayName characters. add() and change() refuse such a name (Errc::invalid_argument).
inline constexpr std::size_t kMaxDisplayName = 128;
std::string display_name_problem(const std::string& name);
// An Argon2id hash of `password` (crypto_pwhash_str, interactive limits), as stored. Errc::crypto when
// it cannot be made (out of memory).
Result<std::string> hash_password(const Secret& password);

class Users {
 public:
  explicit Users(Store& store) : store_(&store) {}

  // --- reads ---
  Result<std::optional<User>> by_id(std::int64_t id);
  Result<std::optional<User>> by_username(const std::string& username);
  Result<std::vector<User>> list();  // by username
  // The stored password hash of `username` (Errc::not_found when there is none).
  Result<std::string> password_hash(const std::string& username);
  // Checks a password against the stored hash (false also when the user does not exist or is disabled).
  // An unknown or disabled user costs the same Argon2id check, so that the time of the answer does not
  // tell which usernames exist.
  bool check_password(const std::string& username, const Secret& password);
  // The user's TOTP secret (base32), nullopt when two-factor login is off.
  Result<std::optional<std::string>> totp_secret(std::int64_t user_id);

  // --- single changes ---
  // Uses TOTP time step `step` of the user: true when it is later than the last one used (and is now
  // the last one), false when it was used already. One statement: of two logins with one code, one wins.
  Result<bool> consume_totp_step(std::int64_t user_id, std::int64_t step);

  // --- administration, each audited by `actor` in one transaction ---
  // Adds a user ("user.add"). Errc::invalid_argument for a bad username, an empty password or a
  // username already taken.
  Result<std::int64_t> add(const std::string& actor, const std::string& username, const std::string& display_name, Role role,
                           const Secret& password);
  Status set_role(const std::string& actor, const std::string& username, Role role);  // "user.role"; ends its sessions
  Status set_disabled(const std::string& actor, const std::string& username, bool disabled);  // "user.disable"/"user.enable"
  // "user.change" with what changed; Errc::not_found when there is no user `id`.
  Status change(const std::string& actor, std::int64_t id, const UserChange& change);
  // One's own password ("user.password"): ends all the user's sessions.
  Status change_own_password(const std::string& actor, std::int64_t id, const std::string& password_hash);
  // Turns two-factor login on with `secret`, `step` being the step of the code that confirmed it ("user.totp_on").
  Status enable_totp(const std::string& actor, std::int64_t id, const std::string& secret, std::int64_t step);

  // --- inside a caller's transaction ---
  static Result<std::optional<std::int64_t>> id_of(Tx& tx, const std::string& username, bool active_only = false);
  static Status set_password(Tx& tx, std::int64_t id, const std::string& password_hash);  // also ends its sessions
  static Status set_role(Tx& tx, std::int64_t id, Role role);
  static Status set_display_name(Tx& tx, std::int64_t id, const std::string& display_name);
  static Status set_disabled(Tx& tx, std::int64_t id, bool disabled);  // disabling also ends its sessions
  static Status set_totp(Tx& tx, std::int64_t id, const std::string& secret, std::int64_t last_step);
  static Status clear_totp(Tx& tx, std::int64_t id);

 private:
  Store* store_;
};

}  // namespace hocba::store
