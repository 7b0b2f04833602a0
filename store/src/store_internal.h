// Shared by the store's sources (not installed).
#pragma once
#include <string>

namespace hocba::store {

// Now, UTC, ISO 8601 with milliseconds: 2026-11-23T11:12:31.123Z (created_at columns, audit entries).
std::string now_utc();

}  // namespace hocba::store
