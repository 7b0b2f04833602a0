#include "hocba/hsm/uri.h"

#include "hocba/common/bytes.h"
#include "hocba/common/secret.h"

#include <cctype>

namespace hocba::hsm {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto pos = s.find(sep, start);
    if (pos == std::string_view::npos) pos = s.size();
    if (pos > start) out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
  return out;
}

// Characters that may appear unescaped in a path attribute value (RFC 7512 pk11-pchar).
bool is_pchar(unsigned char c) {
  return std::isalnum(c) || std::string_view("-._~:[]@!$'()*+,=&").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string escape(std::string_view v) {
  std::string out;
  for (unsigned char c : v) {
    if (is_pchar(c) && c != '&') {
      out.push_back(static_cast<char>(c));
    } else {
      out += percent_encode(std::span<const std::uint8_t>(&c, 1));
    }
  }
  return out;
}

}  // namespace

Result<Pkcs11Uri> Pkcs11Uri::parse(std::string_view uri) {
  constexpr std::string_view scheme = "pkcs11:";
  if (uri.substr(0, scheme.size()) != scheme)
    return make_error(Errc::invalid_argument, "key URI must start with \"pkcs11:\" (RFC 7512), got \"" +
                                                  std::string(uri.substr(0, 40)) + "\"");
  uri.remove_prefix(scheme.size());
  std::string_view path = uri, query;
  if (auto q = uri.find('?'); q != std::string_view::npos) {
    path = uri.substr(0, q);
    query = uri.substr(q + 1);
  }
  Pkcs11Uri u;
  auto bad = [](std::string_view what) {
    return make_error(Errc::invalid_argument, "malformed PKCS#11 URI attribute \"" + std::string(what) + "\"");
  };
  for (auto attr : split(path, ';')) {
    auto eq = attr.find('=');
    if (eq == std::string_view::npos) return bad(attr);
    std::string name(attr.substr(0, eq)), value;
    if (!percent_decode(attr.substr(eq + 1), value)) return bad(attr);
    if (name == "token") u.token = value;
    else if (name == "manufacturer") u.manufacturer = value;
    else if (name == "serial") u.serial = value;
    else if (name == "model") u.model = value;
    else if (name == "object") u.object = value;
    else if (name == "type") {
      if (value != "private" && value != "public" && value != "cert" && value != "secret-key" && value != "data")
        return bad(attr);
      u.type = value;
    } else if (name == "id") u.id = std::vector<std::uint8_t>(value.begin(), value.end());
    else if (name == "library-manufacturer") u.library_manufacturer = value;
    else if (name == "library-description") u.library_description = value;
    else if (name == "slot-id") {
      try {
        u.slot_id = std::stoul(value);
      } catch (...) {
        return bad(attr);
      }
    }
    // Other path attributes (library-version, slot-description, ...) are accepted and ignored.
  }
  for (auto attr : split(query, '&')) {
    auto eq = attr.find('=');
    if (eq == std::string_view::npos) return bad(attr);
    std::string name(attr.substr(0, eq)), value;
    if (!percent_decode(attr.substr(eq + 1), value)) return bad(attr);
    if (name == "module-path") u.module_path = value;
    else if (name == "module-name") u.module_name = value;
    else if (name == "pin-source") u.pin_source = value;
    else if (name == "pin-value") {
      u.has_pin_value = true;
      wipe(value);
    }
  }
  if (u.has_pin_value)
    return make_error(Errc::invalid_argument,
                      "the key URI carries pin-value; PINs are never given in arguments: use pin-source=file:PATH, "
                      "--pin-file FILE or the prompt");
  return u;
}

std::string Pkcs11Uri::to_string() const {
  std::string s = "pkcs11:";
  bool first = true;
  auto add = [&](const char* name, const std::string& v) {
    if (!first) s += ';';
    first = false;
    s += name;
    s += '=';
    s += escape(v);
  };
  if (token) add("token", *token);
  if (manufacturer) add("manufacturer", *manufacturer);
  if (serial) add("serial", *serial);
  if (model) add("model", *model);
  if (object) add("object", *object);
  if (id) {
    if (!first) s += ';';
    first = false;
    s += "id=" + percent_encode(*id);
  }
  if (type) add("type", *type);
  std::string q;
  auto addq = [&](const char* name, const std::string& v) {
    q += q.empty() ? '?' : '&';
    q += name;
    q += '=';
    q += escape(v);
  };
  if (module_path) addq("module-path", *module_path);
  if (module_name) addq("module-name", *module_name);
  if (pin_source) addq("pin-source", *pin_source);
  return s + q;
}

Result<std::string> Pkcs11Uri::pin_file() const {
  if (!pin_source) return make_error(Errc::not_found, "no pin-source");
  std::string_view v = *pin_source;
  if (v.substr(0, 7) == "file://") v.remove_prefix(7);
  else if (v.substr(0, 5) == "file:") v.remove_prefix(5);
  else if (!v.empty() && v[0] != '/')
    return make_error(Errc::invalid_argument, "pin-source \"" + std::string(v) + "\" is not supported: use file:PATH");
  return std::string(v);
}

}  // namespace hocba::hsm
