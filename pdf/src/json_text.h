// Writing JSON text by hand (private to hocba_pdf): Boost.JSON 1.81 writes 6.2 as 6.2E0, so the
// embedded data (the student's object, the score sheet) is written by our own small serialiser.
#pragma once
#include <string>
#include <string_view>

namespace hocba::pdf::detail {

// Appends s as a JSON string literal; invalid UTF-8 becomes U+FFFD, so the result is always valid UTF-8.
void append_json_string(std::string& out, std::string_view s);

}  // namespace hocba::pdf::detail
