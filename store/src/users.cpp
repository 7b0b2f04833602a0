// Users: accounts, passwords, roles, two-factor secrets.
#include "hocba/store/users.h"

#include <sodium.h>

#include <boost/json.hpp>
#include <cstdio>

#include "hocba/store/sessions.h"
#include "store_internal.h"

namespace hocba::store {
namespace {

constexpr const char* kUserCols = "id, username, display_name, role, disabled, totp_secret IS NOT NULL";

Result<User> user_from_row(const DbRow& r) {
  auto role = parse_role(as_text(r[3]));
  if (!role) return make_error(Errc::io, "user " + as_text(r[1]) + " has an unknown role \"" + as_text(r[3]) + "\"");
  return User{as_int(r[0]), as_text(r[1]), as_text(r[2]), *role, as_int(r[4]) != 0, as_int(r[5]) != 0};
}

Result<std::optional<User>> first_user(Result<std::vector<DbRow>> rows) {
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<User>{};
  auto u = user_from_row(rows->front());
  if (!u) return u.error();
  return std::optional<User>{std::move(*u)};
}

Status check_display_name(const std::string& name) {
  std::string problem = display_name_problem(name);
  if (problem.empty()) return {};
  return make_error(Errc::invalid_argument, "invalid display name: " + problem);
}

Status done(const Result<std::int64_t>& r) { return r ? Status::success() : Status(r.error()); }

// `fn` on the user named `username`, then the audit entry `action` with `detail` (plus the username),
// in one transaction.
template <typename Fn>
Status on_user(Store& s, const std::string& actor, const std::string& username, const std::string& action, boost::json::object detail,
               Fn fn) {
  return s.transaction([&](Tx& tx) -> Status {
    auto id = Users::id_of(tx, username);
    if (!id) return id.error();
    if (!*id) return make_error(Errc::not_found, "no user \"" + username + "\"");
    if (auto st = fn(tx, **id); !st) return st;
    detail["username"] = username;
    if (auto a = tx.audit(actor, action, boost::json::serialize(detail)); !a) return a.error();
    return {};
  });
}

}  // namespace

bool valid_username(const std::string& u) {
  if (u.empty() || u.size() > 64) return false;
  for (char c : u)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) return false;
  return true;
}

std::string display_name_problem(const std::string& name) {
  auto hex = [](char32_t cp) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
    return std::string(buf);
  };
  std::size_t chars = 0;
  for (std::size_t i = 0; i < name.size(); ++chars) {
    const auto c = static_cast<unsigned char>(name[i]);
    const std::size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    const std::string not_utf8 = "it is not UTF-8 (at byte " + std::to_string(i + 1) + ")";
    if (n == 0 || i + n > name.size()) return not_utf8;
    char32_t cp = n == 1 ? c : c & (0x7fu >> n);
    for (std::size_t k = 1; k < n; ++k) {
      const auto cc = static_cast<unsigned char>(name[i + k]);
      if ((cc & 0xc0) != 0x80) return not_utf8;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr char32_t kLeast[] = {0, 0, 0x80, 0x800, 0x10000};  // shorter forms are overlong
    if (cp < kLeast[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return not_utf8;
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return "it holds a control character (" + hex(cp) + ")";
    if (cp == 0xfffe || cp == 0xffff) return "it holds the noncharacter " + hex(cp);
    i += n;
  }
  if (chars > kMaxDisplayName)
    return "it is " + std::to_string(chars) + " characters long; at most " + std::to_string(kMaxDisplayName);
  return "";
}

Result<std::string> hash_password(const Secret& password) {
  if (sodium_init() < 0) return make_error(Errc::crypto, "libsodium cannot be initialised");
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.c_str(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return make_error(Errc::crypto, "cannot hash the password (out of memory)");
  return std::string(hash);
}

// --- reads ---------------------------------------------------------------------------------------------

Result<std::optional<User>> Users::by_id(std::int64_t id) {
  return first_user(store_->query(std::string("SELECT ") + kUserCols + " FROM users WHERE id = ?", {id}));
}

Result<std::optional<User>> Users::by_username(const std::string& username) {
  return first_user(store_->query(std::string("SELECT ") + kUserCols + " FROM users WHERE username = ?", {username}));
}

Result<std::vector<User>> Users::list() {
  auto rows = store_->query(std::string("SELECT ") + kUserCols + " FROM users ORDER BY username");
  if (!rows) return rows.error();
  std::vector<User> out;
  for (const DbRow& r : *rows) {
    auto u = user_from_row(r);
    if (!u) return u.error();
    out.push_back(std::move(*u));
  }
  return out;
}

Result<std::string> Users::password_hash(const std::string& username) {
  auto rows = store_->query("SELECT password_hash FROM users WHERE username = ?", {username});
  if (!rows) return rows.error();
  if (rows->empty()) return make_error(Errc::not_found, "no user \"" + username + "\"");
  return as_text(rows->front()[0]);
}

bool Users::check_password(const std::string& username, const Secret& password) {
  static const std::string dummy = [] {
    unsigned char junk[16];
    randombytes_buf(junk, sizeof junk);
    auto h = hash_password(Secret(std::string_view(reinterpret_cast<const char*>(junk), sizeof junk)));
    sodium_memzero(junk, sizeof junk);
    return h ? *h : std::string();
  }();
  std::string h;
  bool found = false;
  if (auto rows = store_->query("SELECT password_hash FROM users WHERE username = ? AND disabled = 0", {username}); rows && !rows->empty()) {
    h = as_text(rows->front()[0]);
    found = true;
  }
  // The lock on the store is not held during the (deliberately slow) check.
  bool ok = crypto_pwhash_str_verify(found ? h.c_str() : dummy.c_str(), password.c_str(), password.size()) == 0;
  return found && ok;
}

Result<std::optional<std::string>> Users::totp_secret(std::int64_t user_id) {
  auto rows = store_->query("SELECT totp_secret FROM users WHERE id = ?", {user_id});
  if (!rows) return rows.error();
  if (rows->empty() || is_null(rows->front()[0])) return std::optional<std::string>{};
  return std::optional<std::string>{as_text(rows->front()[0])};
}

Result<bool> Users::consume_totp_step(std::int64_t user_id, std::int64_t step) {
  bool consumed = false;
  Status st = store_->transaction([&](Tx& tx) -> Status {
    auto r = tx.exec("UPDATE users SET totp_last_step = ? WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)",
                     {step, user_id, step});
    if (!r) return r.error();
    consumed = tx.changes() == 1;
    return {};
  });
  if (!st) return st.error();
  return consumed;
}

// --- administration ------------------------------------------------------------------------------------

Result<std::int64_t> Users::add(const std::string& actor, const std::string& username, const std::string& display_name, Role role,
                                const Secret& password) {
  if (!valid_username(username))
    return make_error(Errc::invalid_argument, "invalid username \"" + username + "\": use 1 to 64 of a-z 0-9 . _ -");
  if (password.empty()) return make_error(Errc::invalid_argument, "the password is empty");
  if (auto st = check_display_name(display_name); !st) return st.error();
  auto hash = hash_password(password);
  if (!hash) return hash.error();
  std::int64_t id = 0;
  Status st = store_->transaction([&](Tx& tx) -> Status {
    auto taken = id_of(tx, username);
    if (!taken) return taken.error();
    if (*taken) return make_error(Errc::invalid_argument, "user \"" + username + "\" already exists");
    auto r = tx.exec("INSERT INTO users(username, display_name, role, password_hash, created_at) VALUES(?,?,?,?,?)",
                     {username, display_name, std::string(role_name(role)), *hash, now_utc()});
    if (!r) return r.error();
    id = *r;
    boost::json::object d{{"user_id", id}, {"username", username}, {"display_name", display_name}, {"role", role_name(role)}};
    if (auto a = tx.audit(actor, "user.add", boost::json::serialize(d)); !a) return a.error();
    return {};
  });
  if (!st) return st.error();
  return id;
}

Status Users::set_role(const std::string& actor, const std::string& username, Role role) {
  return on_user(*store_, actor, username, "user.role", {{"role", role_name(role)}}, [&](Tx& tx, std::int64_t id) -> Status {
    if (auto st = set_role(tx, id, role); !st) return st;
    return Sessions::end_all(tx, id);
  });
}

Status Users::set_disabled(const std::string& actor, const std::string& username, bool disabled) {
  return on_user(*store_, actor, username, disabled ? "user.disable" : "user.enable", {},
                 [&](Tx& tx, std::int64_t id) { return set_disabled(tx, id, disabled); });
}

Status Users::change(const std::string& actor, std::int64_t id, const UserChange& c) {
  return store_->transaction([&](Tx& tx) -> Status {
    auto rows = tx.query("SELECT 1 FROM users WHERE id = ?", {id});
    if (!rows) return rows.error();
    if (rows->empty()) return make_error(Errc::not_found, "no user " + std::to_string(id));
    boost::json::object d{{"user_id", id}};
    if (c.role) {
      if (auto st = set_role(tx, id, *c.role); !st) return st;
      d["role"] = role_name(*c.role);
    }
    if (c.display_name) {
      if (auto st = set_display_name(tx, id, *c.display_name); !st) return st;
      d["display_name"] = *c.display_name;
    }
    if (c.disabled) {
      if (auto st = set_disabled(tx, id, *c.disabled); !st) return st;
      d["disabled"] = *c.disabled;
    }
    if (c.password_hash) {
      if (auto st = set_password(tx, id, *c.password_hash); !st) return st;
      d["password"] = "changed";
    }
    if (c.totp_off) {
      if (auto st = clear_totp(tx, id); !st) return st;
      d["totp"] = "off";
    }
    if (auto a = tx.audit(actor, "user.change", boost::json::serialize(d)); !a) return a.error();
    return {};
  });
}

Status Users::change_own_password(const std::string& actor, std::int64_t id, const std::string& password_hash) {
  return store_->transaction([&](Tx& tx) -> Status {
    if (auto st = set_password(tx, id, password_hash); !st) return st;
    if (auto a = tx.audit(actor, "user.password"); !a) return a.error();
    return {};
  });
}

Status Users::enable_totp(const std::string& actor, std::int64_t id, const std::string& secret, std::int64_t step) {
  return store_->transaction([&](Tx& tx) -> Status {
    if (auto st = set_totp(tx, id, secret, step); !st) return st;
    if (auto a = tx.audit(actor, "user.totp_on"); !a) return a.error();
    return {};
  });
}

// --- inside a transaction ------------------------------------------------------------------------------

Result<std::optional<std::int64_t>> Users::id_of(Tx& tx, const std::string& username, bool active_only) {
  auto rows = tx.query(active_only ? "SELECT id FROM users WHERE username = ? AND disabled = 0" : "SELECT id FROM users WHERE username = ?",
                       {username});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<std::int64_t>{};
  return std::optional<std::int64_t>{as_int(rows->front()[0])};
}

Status Users::set_password(Tx& tx, std::int64_t id, const std::string& password_hash) {
  if (auto st = done(tx.exec("UPDATE users SET password_hash = ? WHERE id = ?", {password_hash, id})); !st) return st;
  return Sessions::end_all(tx, id);
}

Status Users::set_role(Tx& tx, std::int64_t id, Role role) {
  return done(tx.exec("UPDATE users SET role = ? WHERE id = ?", {std::string(role_name(role)), id}));
}

Status Users::set_display_name(Tx& tx, std::int64_t id, const std::string& display_name) {
  if (auto st = check_display_name(display_name); !st) return st;
  return done(tx.exec("UPDATE users SET display_name = ? WHERE id = ?", {display_name, id}));
}

Status Users::set_disabled(Tx& tx, std::int64_t id, bool disabled) {
  if (auto st = done(tx.exec("UPDATE users SET disabled = ? WHERE id = ?", {std::int64_t(disabled ? 1 : 0), id})); !st) return st;
  return disabled ? Sessions::end_all(tx, id) : Status::success();
}

Status Users::set_totp(Tx& tx, std::int64_t id, const std::string& secret, std::int64_t last_step) {
  return done(tx.exec("UPDATE users SET totp_secret = ?, totp_last_step = ? WHERE id = ?", {secret, last_step, id}));
}

Status Users::clear_totp(Tx& tx, std::int64_t id) { return done(tx.exec("UPDATE users SET totp_secret = NULL WHERE id = ?", {id})); }

}  // namespace hocba::store
