// HTTP Basic credentials (RFC 7617), as the CSC API's auth/login takes them: a pure function of the
// Authorization header's value, apart from the route so that it can be tested and fuzzed alone.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "hocba/common/secret.h"

namespace hocba::net {

struct BasicCredentials {
  std::string username;
  Secret password;
};

// "Basic base64(username:password)" (scheme "Basic" or "basic"; standard base64 with or without
// padding, at most 1024 decoded bytes) -> the user name and the password. nullopt when the scheme is
// another, the base64 is malformed or too long, there is no ':' or the user name is empty. Every
// intermediate copy of the decoded bytes is wiped.
std::optional<BasicCredentials> parse_basic_authorization(std::string_view header_value);

}  // namespace hocba::net
