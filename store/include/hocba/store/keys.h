// Key bindings (the keys table): which PKCS#11 key (by URI) belongs to which user, or to the school
// seal. A binding is never deleted: unbinding stamps it, so that old signatures still name their key.
// No SQLite type appears here.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/store/store.h"

namespace hocba::store {

struct Key {
  std::int64_t id = 0;
  std::string uri, label;
  std::int64_t owner_user_id = 0;  // 0 for the seal
  std::string owner_username;      // "" for the seal
  bool seal = false;
};

class Keys {
 public:
  explicit Keys(Store& store) : store_(&store) {}

  // Bound keys only (unbound ones are history), by id.
  Result<std::vector<Key>> bound();
  // `user_id`'s own bound keys, and the seal's too when `with_seal`.
  Result<std::vector<Key>> bound_to(std::int64_t user_id, bool with_seal = false);
  Result<std::vector<Key>> seal();  // the school seal's bound keys
  Result<std::optional<Key>> by_id(std::int64_t id);  // nullopt when not bound (any more)

  // Binds a key URI to a user (username, an active user) or to the school seal (nullopt), audited
  // "key.bind" by `actor`. A URI is bound to one owner at a time (Errc::invalid_argument when already
  // bound). Returns the binding's id.
  Result<std::int64_t> bind(const std::string& actor, const std::string& uri, const std::string& label,
                            const std::optional<std::string>& username);
  // Unbinds ("key.unbind"); refused while a running or paused job uses it; Errc::not_found when not bound.
  Status unbind(const std::string& actor, std::int64_t key_id);

 private:
  Store* store_;
};

}  // namespace hocba::store
