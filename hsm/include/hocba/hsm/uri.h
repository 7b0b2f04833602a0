// RFC 7512 PKCS#11 URIs: pkcs11:token=GVCN-3A;object=gvcn;id=%01?module-path=/usr/lib/x.so&pin-source=file:/run/pin
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hocba/common/error.h"

namespace hocba::hsm {

struct Pkcs11Uri {
  // Path attributes (all optional; absent ones match anything).
  std::optional<std::string> token, manufacturer, serial, model;
  std::optional<std::string> object, type;  // type: private, public, cert, secret-key, data
  std::optional<std::vector<std::uint8_t>> id;
  std::optional<std::string> library_manufacturer, library_description;
  std::optional<unsigned long> slot_id;
  // Query attributes.
  std::optional<std::string> module_path, module_name, pin_source;
  bool has_pin_value = false;  // pin-value is refused: PINs never travel in arguments

  static Result<Pkcs11Uri> parse(std::string_view uri);
  // Canonical form (without any pin-value).
  std::string to_string() const;
  // The path of the pin-source (only `file:` sources are supported), if any.
  Result<std::string> pin_file() const;
};

}  // namespace hocba::hsm
