// The roles of users (users.role): the one list of them. What each role may do is the workflow's and
// the router's business; here is only which roles exist and how they are spelt.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace hocba::store {

enum class Role { admin, principal, deputy_principal, homeroom_teacher, subject_teacher, viewer };

const char* role_name(Role r);                        // "deputy_principal"
std::optional<Role> parse_role(const std::string& s);  // nullopt for an unknown name
const std::vector<Role>& all_roles();                  // every role, in the order above
// The role names joined with `separator`, for messages and usage texts: "admin, principal, ...".
std::string role_names(const std::string& separator = ", ");

}  // namespace hocba::store
