// Wall-clock time stamps as the appliance stores them.
#pragma once
#include <string>

namespace hocba {

// Now in UTC, ISO 8601 to the second: "2026-12-07T16:59:03Z".
std::string now_iso();

}  // namespace hocba
