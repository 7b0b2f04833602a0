// Login sessions.
#include "hocba/store/sessions.h"

#include <sodium.h>

#include <ctime>

#include "store_internal.h"

namespace hocba::store {
namespace {

std::string token_hash(const std::string& token) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(token.data()), token.size());
  char hex[sizeof h * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, h, sizeof h);
  return hex;
}

std::int64_t now_unix() { return static_cast<std::int64_t>(std::time(nullptr)); }

}  // namespace

Result<std::string> Sessions::create(std::int64_t user_id, std::int64_t expires_unix, const std::string& address) {
  if (sodium_init() < 0) return make_error(Errc::crypto, "libsodium cannot be initialised");
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(raw, sizeof raw);
  std::string token = b64;
  sodium_memzero(b64, sizeof b64);
  Status st = store_->transaction([&](Tx& tx) -> Status {
    if (auto r = tx.exec("DELETE FROM sessions WHERE expires_unix <= ?", {now_unix()}); !r) return r.error();
    if (auto r = tx.exec("INSERT INTO sessions(token_hash, user_id, created_at, expires_unix, address) VALUES(?,?,?,?,?)",
                         {token_hash(token), user_id, now_utc(), expires_unix, address});
        !r)
      return r.error();
    return {};
  });
  if (!st) return st.error();
  return token;
}

Result<std::optional<std::int64_t>> Sessions::user_of(const std::string& token) {
  auto rows = store_->query("SELECT user_id FROM sessions WHERE token_hash = ? AND expires_unix > ?", {token_hash(token), now_unix()});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<std::int64_t>{};
  return std::optional<std::int64_t>{as_int(rows->front()[0])};
}

Result<bool> Sessions::end(const std::string& actor, const std::string& token, std::int64_t user_id, const std::string& detail_json) {
  bool ended = false;
  Status st = store_->transaction([&](Tx& tx) -> Status {
    if (auto r = tx.exec("DELETE FROM sessions WHERE token_hash = ? AND user_id = ?", {token_hash(token), user_id}); !r) return r.error();
    ended = tx.changes() > 0;
    if (ended)
      if (auto a = tx.audit(actor, "logout", detail_json); !a) return a.error();
    return {};
  });
  if (!st) return st.error();
  return ended;
}

Status Sessions::end_all(Tx& tx, std::int64_t user_id) {
  if (auto r = tx.exec("DELETE FROM sessions WHERE user_id = ?", {user_id}); !r) return r.error();
  return {};
}

}  // namespace hocba::store
