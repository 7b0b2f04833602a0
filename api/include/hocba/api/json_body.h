// The JSON helpers every handler uses (the App's and its route modules'): reading a request's body
// and fields, and answering in JSON. Defined in api/src/app.cpp.
#pragma once
#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hocba/common/secret.h"
#include "hocba/net/http.h"

namespace hocba::api {

namespace json = boost::json;

// The body as a JSON object; nullopt when it is not one.
std::optional<json::object> parse_object(const std::string& body);
// The string at `key`; "" when absent or not a string.
std::string str_field(const json::object& o, std::string_view key);
// Moves a secret (PIN, password) out of a parsed body and zeroes it there.
Secret take_secret(json::object& o, std::string_view key);
std::int64_t int_field(const json::object& o, std::string_view key, std::int64_t def = 0);
// Present but not a positive integer (an id given as a string, a fraction, a negative number).
bool bad_int_field(const json::object& o, std::string_view key);
net::HttpResponse ok_json(const json::value& v, int status = 200);

}  // namespace hocba::api
