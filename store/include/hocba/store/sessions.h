// Login sessions (the sessions table). A session is named by an opaque random token given to the
// client; only its SHA-256 is stored. No SQLite or libsodium type appears here.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "hocba/common/error.h"
#include "hocba/store/store.h"

namespace hocba::store {

class Sessions {
 public:
  explicit Sessions(Store& store) : store_(&store) {}

  // Starts a session of `user_id` until `expires_unix` (seconds since 1970) from `address`, removing the
  // expired ones; returns its token (32 random bytes, base64url).
  Result<std::string> create(std::int64_t user_id, std::int64_t expires_unix, const std::string& address);
  // The user of the live session named by `token`; nullopt when unknown or expired.
  Result<std::optional<std::int64_t>> user_of(const std::string& token);
  // Ends the session named by `token` if it is `user_id`'s, with the audit entry "logout" by `actor`
  // (detail `detail_json`); false when there was no such session (nothing audited).
  Result<bool> end(const std::string& actor, const std::string& token, std::int64_t user_id,
                   const std::string& detail_json = "{}");

  // Inside a caller's transaction: ends every session of `user_id`.
  static Status end_all(Tx& tx, std::int64_t user_id);

 private:
  Store* store_;
};

}  // namespace hocba::store
