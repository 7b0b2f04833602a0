#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hocba {

std::string to_hex(std::span<const std::uint8_t> b, bool upper = false);
// Lowercase hex SHA-256 of the bytes.
std::string sha256_hex(std::span<const std::uint8_t> b);
std::string sha256_hex(std::string_view s);
// Accepts upper/lower case; ignores whitespace. Returns false on any other character or odd length.
bool from_hex(std::string_view hex, std::vector<std::uint8_t>& out);
// RFC 3986 percent-decoding (for PKCS#11 URIs). Returns false on a malformed escape.
bool percent_decode(std::string_view in, std::string& out);
std::string percent_encode(std::span<const std::uint8_t> b);  // every byte as %XX (RFC 7512 ids)

}  // namespace hocba
