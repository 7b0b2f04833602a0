// Time-based one-time passwords for the optional second login factor: RFC 6238 TOTP over RFC 4226
// HOTP with HMAC-SHA1, 30-second steps counted from the Unix epoch, as authenticator apps expect.
// Secrets travel as RFC 4648 base32 (A–Z, 2–7) without padding. No OpenSSL or libsodium type here.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "hocba/common/fileio.h"

namespace hocba::api {

constexpr int kTotpStepSeconds = 30;
constexpr int kTotpDigits = 6;

// RFC 4648 base32 of `bytes`, uppercase, without '=' padding.
std::string base32_encode(std::span<const std::uint8_t> bytes);
// Decodes RFC 4648 base32, in upper or lower case, unpadded or with the full '=' padding. Returns
// nullopt for any other character, for a length no encoder produces, or for non-zero unused bits
// in the last character (so decoding and encoding again gives back the same text, in upper case).
std::optional<Bytes> base32_decode(std::string_view text);

// A new secret: 20 random bytes (160 bits, as RFC 4226 recommends) from libsodium, as base32 (32
// characters). Throws std::runtime_error only if libsodium cannot be initialised.
std::string totp_new_secret();

// The code of step floor(unix_time / 30), `digits` long with leading zeros (RFC 4226 section 5.3
// dynamic truncation). Returns "" when the secret is empty or not valid base32, when digits is
// outside 6..9, or when unix_time is negative.
std::string totp_code(std::string_view secret_base32, std::int64_t unix_time, int digits = kTotpDigits);

// Checks a 6-digit `code` against the steps from (step - window) to (step + window) of `unix_time`.
// Returns the step counter that matched, so that the caller can store it and refuse the same step
// (or an earlier one) next time (a replayed code); nullopt when nothing matched, the code is not
// exactly 6 ASCII digits, the secret is invalid, or window is outside 0..10. Codes are compared in
// constant time.
std::optional<std::int64_t> totp_check(std::string_view secret_base32, std::string_view code, std::int64_t unix_time,
                                       int window = 1);

// The provisioning URI for QR codes, in the format authenticator apps read:
// otpauth://totp/ISSUER:ACCOUNT?secret=SECRET&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
// ISSUER and ACCOUNT are UTF-8 and percent-encoded (every byte except A–Z a–z 0–9 - . _ ~, so ':',
// '@', spaces and Vietnamese letters are escaped); the secret is given as is.
std::string totp_uri(std::string_view secret_base32, std::string_view account,
                     std::string_view issuer = "hocba-signer");

}  // namespace hocba::api
