// The roles of users.
#include "hocba/store/roles.h"

namespace hocba::store {

const char* role_name(Role r) {
  switch (r) {
    case Role::admin: return "admin";
    case Role::principal: return "principal";
    case Role::deputy_principal: return "deputy_principal";
    case Role::homeroom_teacher: return "homeroom_teacher";
    case Role::subject_teacher: return "subject_teacher";
    case Role::viewer: return "viewer";
  }
  return "viewer";
}

const std::vector<Role>& all_roles() {
  static const std::vector<Role> all = {Role::admin,           Role::principal,       Role::deputy_principal,
                                        Role::homeroom_teacher, Role::subject_teacher, Role::viewer};
  return all;
}

std::optional<Role> parse_role(const std::string& s) {
  for (Role r : all_roles())
    if (s == role_name(r)) return r;
  return std::nullopt;
}

std::string role_names(const std::string& separator) {
  std::string out;
  for (Role r : all_roles()) out += (out.empty() ? "" : separator) + role_name(r);
  return out;
}

}  // namespace hocba::store
