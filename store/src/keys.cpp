// Key bindings.
#include "hocba/store/keys.h"

#include <boost/json.hpp>

#include "hocba/store/users.h"
#include "store_internal.h"

namespace hocba::store {
namespace {

constexpr const char* kKeySelect =
    "SELECT k.id, k.uri, k.label, k.owner_user_id, u.username, k.is_seal FROM keys k LEFT JOIN users u ON u.id = k.owner_user_id "
    "WHERE k.unbound_at IS NULL";

Result<std::vector<Key>> keys_from(Result<std::vector<DbRow>> rows) {
  if (!rows) return rows.error();
  std::vector<Key> out;
  for (const DbRow& r : *rows)
    out.push_back(Key{as_int(r[0]), as_text(r[1]), as_text(r[2]), as_int(r[3]), as_text(r[4]), as_int(r[5]) != 0});
  return out;
}

}  // namespace

Result<std::vector<Key>> Keys::bound() { return keys_from(store_->query(std::string(kKeySelect) + " ORDER BY k.id")); }

Result<std::vector<Key>> Keys::bound_to(std::int64_t user_id, bool with_seal) {
  return keys_from(store_->query(std::string(kKeySelect) + " AND (k.owner_user_id = ? OR (k.is_seal = 1 AND ? = 1)) ORDER BY k.id",
                                 {user_id, std::int64_t(with_seal ? 1 : 0)}));
}

Result<std::vector<Key>> Keys::seal() { return keys_from(store_->query(std::string(kKeySelect) + " AND k.is_seal = 1 ORDER BY k.id")); }

Result<std::optional<Key>> Keys::by_id(std::int64_t id) {
  auto keys = keys_from(store_->query(std::string(kKeySelect) + " AND k.id = ?", {id}));
  if (!keys) return keys.error();
  if (keys->empty()) return std::optional<Key>{};
  return std::optional<Key>{std::move(keys->front())};
}

Result<std::int64_t> Keys::bind(const std::string& actor, const std::string& uri, const std::string& label,
                                const std::optional<std::string>& username) {
  std::int64_t id = 0;
  Status st = store_->transaction([&](Tx& tx) -> Status {
    DbValue owner;
    if (username) {
      auto u = Users::id_of(tx, *username, true);
      if (!u) return u.error();
      if (!*u) return make_error(Errc::not_found, "no active user \"" + *username + "\"");
      owner = **u;
    }
    auto dup = tx.query("SELECT id FROM keys WHERE uri = ? AND unbound_at IS NULL", {uri});
    if (!dup) return dup.error();
    if (!dup->empty())
      return make_error(Errc::invalid_argument, "this key is already bound (binding " + as_text(dup->front()[0]) + "); unbind it first");
    auto r = tx.exec("INSERT INTO keys(uri, owner_user_id, is_seal, created_at, label) VALUES(?,?,?,?,?)",
                     {uri, owner, std::int64_t(username ? 0 : 1), now_utc(), label});
    if (!r) return r.error();
    id = *r;
    boost::json::object d{{"key_id", id}, {"uri", uri}, {"seal", !username}};
    if (username) d["username"] = *username;
    if (auto a = tx.audit(actor, "key.bind", boost::json::serialize(d)); !a) return a.error();
    return {};
  });
  if (!st) return st.error();
  return id;
}

Status Keys::unbind(const std::string& actor, std::int64_t key_id) {
  return store_->transaction([&](Tx& tx) -> Status {
    // A job's first step's key is in jobs, every step's in job_steps.
    auto busy = tx.query("SELECT j.id FROM jobs j WHERE j.state IN ('running','paused') AND (j.key_id = ? OR EXISTS "
                         "(SELECT 1 FROM job_steps s WHERE s.job_id = j.id AND s.key_id = ?))",
                         {key_id, key_id});
    if (!busy) return busy.error();
    if (!busy->empty())
      return make_error(Errc::invalid_argument, "job " + as_text(busy->front()[0]) + " uses this key; cancel it first");
    auto r = tx.exec("UPDATE keys SET unbound_at = ? WHERE id = ? AND unbound_at IS NULL", {now_utc(), key_id});
    if (!r) return r.error();
    if (tx.changes() == 0) return make_error(Errc::not_found, "no bound key " + std::to_string(key_id));
    if (auto a = tx.audit(actor, "key.unbind", boost::json::serialize(boost::json::object{{"key_id", key_id}})); !a) return a.error();
    return {};
  });
}

}  // namespace hocba::store
