// The configuration table, the TOML reader (toml++) and the printer. See config.h.
#include "hocba/config/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace hocba::config {

namespace {
using Strings = std::vector<std::string>;
}  // namespace

const std::vector<KeySpec>& keys() {
  static const std::vector<KeySpec> table = {
      {"school.name", KeyType::string, {}, {}, 0, 0, "The school's name, shown in logs and reports", ""},
      {"school.code", KeyType::string, {}, {}, 0, 0, "The school's code in the education department's database", ""},
      {"signing.level", KeyType::choice, std::string("B-T"), {"B-B", "B-T", "B-LT", "B-LTA"}, 0, 0,
       "PAdES level of new signatures; B-T and above need signing.tsa_urls", "--level"},
      {"signing.tsa_urls", KeyType::url_list, Strings{}, {}, 0, 0,
       "RFC 3161 timestamp authorities (http or https URLs), tried in order", "--tsa"},
      {"signing.hash", KeyType::choice, std::string("sha256"), {"sha256", "sha384", "sha512"}, 0, 0,
       "Digest algorithm of signatures", "--hash"},
      {"signing.tsa_timeout_s", KeyType::integer, 30LL, {}, 1, 600, "Seconds to wait for each timestamp authority answer",
       "--tsa-timeout"},
      {"signing.tsa_retries", KeyType::integer, 2LL, {}, 0, 10, "More tries per timestamp authority after the first",
       "--tsa-retries"},
      {"signing.timestamp_workers", KeyType::integer, 32LL, {}, 1, 256, "Timestamp requests in flight at once (daemon)", ""},
      {"signing.revocation", KeyType::choice, std::string("require"), {"require", "prefer", "skip"}, 0, 0,
       "Revocation policy: refuse, warn or skip when a certificate's status cannot be obtained (B-LT and above; "
       "B-B and B-T check only when set explicitly)",
       "--revocation"},
      {"signing.revocation_timeout_s", KeyType::integer, 15LL, {}, 1, 600, "Seconds to wait for each OCSP responder or CRL server",
       ""},
      {"signing.offline_dir", KeyType::path, {}, {}, 0, 0,
       "Folder of pre-fetched OCSP responses and CRLs; when set, nothing is fetched online", "--offline-dir"},
      {"signing.trust_dir", KeyType::path, std::string("/etc/hocba/trust"), {}, 0, 0,
       "Folder of trust anchors (.pem, .crt, .cer, .der); the default is skipped when it does not exist", "--trust-dir"},
      {"signing.lock_fields", KeyType::boolean, true, {}, 0, 0,
       "Each signature locks its field and those signed before it (FieldMDP)", "--no-lock"},
      {"signing.certify_first", KeyType::boolean, false, {}, 0, 0,
       "The first signature of a record certifies it (DocMDP P=2)", "--certify"},
      {"server.listen", KeyType::string, std::string("0.0.0.0:8443"), {}, 0, 0,
       "Address and port of hocbad's HTTPS API (port 0: any free port, printed at start; hocbad --listen)", ""},
      {"server.state_dir", KeyType::path, std::string("/var/lib/hocba"), {}, 0, 0,
       "hocbad's state: database, audit head, records, TLS files, demo tokens (hocbad --state-dir)", ""},
      {"server.tls_cert", KeyType::path, {}, {}, 0, 0,
       "TLS certificate (PEM); default state_dir/tls/cert.pem, self-signed on first start", ""},
      {"server.tls_key", KeyType::path, {}, {}, 0, 0, "TLS private key (PEM); default state_dir/tls/key.pem", ""},
      {"server.host_names", KeyType::string_list, Strings{}, {}, 0, 0,
       "Names and addresses the self-signed certificate is made for (besides localhost and 127.0.0.1)", ""},
      {"server.threads", KeyType::integer, 4LL, {}, 1, 64, "Threads serving HTTPS requests", ""},
      {"server.max_body_mb", KeyType::integer, 32LL, {}, 1, 1024,
       "Largest request body of a class import (the only large upload), in MiB", ""},
      {"server.max_json_kb", KeyType::integer, 64LL, {}, 1, 16384,
       "Largest request body of every other route, in KiB", ""},
      {"server.max_connections", KeyType::integer, 512LL, {}, 8, 60000,
       "Connections served at once; more wait in the kernel's queue (the unit's LimitNOFILE is sized for it)", ""},
      {"server.max_connections_per_address", KeyType::integer, 64LL, {}, 1, 60000,
       "Connections from one client address at once; more are closed at once", ""},
      {"server.header_timeout_s", KeyType::integer, 10LL, {}, 1, 120,
       "Seconds a client may take to send a request's header once connected or between requests", ""},
      {"server.read_timeout_s", KeyType::integer, 30LL, {}, 1, 600, "Seconds a client may take to send a request", ""},
      {"server.handshake_timeout_s", KeyType::integer, 5LL, {}, 1, 120, "Seconds a client may take for the TLS handshake",
       ""},
      {"server.session_hours", KeyType::integer, 12LL, {}, 1, 720, "Hours a login session lasts", ""},
      {"auth.max_failures", KeyType::integer, 5LL, {}, 1, 100,
       "Wrong passwords in a row for one account from one address before that address is locked out of it", ""},
      {"auth.lockout_s", KeyType::integer, 300LL, {}, 1, 86400,
       "Seconds an address stays locked out of an account (doubling each time, at most 24 hours)", ""},
      {"auth.account_delay_max_s", KeyType::integer, 60LL, {}, 1, 600,
       "Longest wait between login attempts on one account after many failures from anywhere (it never locks the owner "
       "out for longer)",
       ""},
      {"auth.address_max_failures", KeyType::integer, 20LL, {}, 1, 10000,
       "Failed logins from one address within 15 minutes before it is refused", ""},
      {"hsm.modules", KeyType::string_list, Strings{}, {}, 0, 0, "PKCS#11 modules hocbad loads; empty: SoftHSM2", ""},
      {"hsm.demo_tokens", KeyType::boolean, true, {}, 0, 0,
       "With no module set: create SoftHSM2 demo tokens and a test PKI in the state folder on first start", ""},
      {"workflow.steps", KeyType::string_list, Strings{"gvcn", "hieu_truong", "con_dau"}, {"gvcn", "hieu_truong", "con_dau"},
       0, 0, "Signatures a record needs, in order (homeroom teacher, principal, school seal)", ""},
      {"csc.enabled", KeyType::boolean, true, {}, 0, 0,
       "Serve the Cloud Signature Consortium API (/csc/v1, /csc/v2) for remote-signing clients", ""},
      {"csc.roles", KeyType::string_list, Strings{"homeroom_teacher", "subject_teacher", "principal"},
       {"principal", "homeroom_teacher", "subject_teacher"}, 0, 0, "Roles that may sign with their own keys through the CSC API", ""},
      {"csc.allow_seal", KeyType::boolean, false, {}, 0, 0,
       "The school seal may be used through the CSC API (by a principal, always with the seal's PIN, never a sealed one)", ""},
      {"seal.pin_file", KeyType::path, {}, {}, 0, 0, "A sealed PIN for the school seal's token, read from this file", ""},
      {"seal.pin_credential", KeyType::string, {}, {}, 0, 0,
       "A sealed PIN for the seal's token from this systemd credential ($CREDENTIALS_DIRECTORY/NAME)", ""},
  };
  return table;
}

const KeySpec* find_key(std::string_view name) {
  for (const auto& k : keys())
    if (k.name == name) return &k;
  return nullptr;
}

namespace {

std::optional<std::string> opt_string(const Value& v) {
  if (auto s = std::get_if<std::string>(&v)) return *s;
  return std::nullopt;
}

// The one place a key name meets a Config field (both ways); tests check every table key goes through.
bool set(Config& c, std::string_view k, const Value& v) {
  auto str = [&] { return std::get<std::string>(v); };
  auto num = [&] { return std::get<long long>(v); };
  auto& s = c.signing;
  if (k == "school.name") c.school.name = opt_string(v);
  else if (k == "school.code") c.school.code = opt_string(v);
  else if (k == "signing.level") s.level = str();
  else if (k == "signing.tsa_urls") s.tsa_urls = std::get<Strings>(v);
  else if (k == "signing.hash") s.hash = str();
  else if (k == "signing.tsa_timeout_s") s.tsa_timeout_s = num();
  else if (k == "signing.tsa_retries") s.tsa_retries = num();
  else if (k == "signing.timestamp_workers") s.timestamp_workers = num();
  else if (k == "signing.revocation") s.revocation = str();
  else if (k == "signing.revocation_timeout_s") s.revocation_timeout_s = num();
  else if (k == "signing.offline_dir") s.offline_dir = opt_string(v);
  else if (k == "signing.trust_dir") s.trust_dir = str();
  else if (k == "signing.lock_fields") s.lock_fields = std::get<bool>(v);
  else if (k == "signing.certify_first") s.certify_first = std::get<bool>(v);
  else if (k == "server.listen") c.server.listen = str();
  else if (k == "server.state_dir") c.server.state_dir = str();
  else if (k == "server.tls_cert") c.server.tls_cert = opt_string(v);
  else if (k == "server.tls_key") c.server.tls_key = opt_string(v);
  else if (k == "server.host_names") c.server.host_names = std::get<Strings>(v);
  else if (k == "server.threads") c.server.threads = num();
  else if (k == "server.max_body_mb") c.server.max_body_mb = num();
  else if (k == "server.max_json_kb") c.server.max_json_kb = num();
  else if (k == "server.max_connections") c.server.max_connections = num();
  else if (k == "server.max_connections_per_address") c.server.max_connections_per_address = num();
  else if (k == "server.header_timeout_s") c.server.header_timeout_s = num();
  else if (k == "server.read_timeout_s") c.server.read_timeout_s = num();
  else if (k == "server.handshake_timeout_s") c.server.handshake_timeout_s = num();
  else if (k == "server.session_hours") c.server.session_hours = num();
  else if (k == "auth.max_failures") c.auth.max_failures = num();
  else if (k == "auth.lockout_s") c.auth.lockout_s = num();
  else if (k == "auth.address_max_failures") c.auth.address_max_failures = num();
  else if (k == "auth.account_delay_max_s") c.auth.account_delay_max_s = num();
  else if (k == "csc.enabled") c.csc.enabled = std::get<bool>(v);
  else if (k == "csc.roles") c.csc.roles = std::get<Strings>(v);
  else if (k == "csc.allow_seal") c.csc.allow_seal = std::get<bool>(v);
  else if (k == "hsm.modules") c.hsm.modules = std::get<Strings>(v);
  else if (k == "hsm.demo_tokens") c.hsm.demo_tokens = std::get<bool>(v);
  else if (k == "workflow.steps") c.workflow.steps = std::get<Strings>(v);
  else if (k == "seal.pin_file") c.seal.pin_file = opt_string(v);
  else if (k == "seal.pin_credential") c.seal.pin_credential = opt_string(v);
  else return false;
  return true;
}

Value of(const std::optional<std::string>& s) { return s ? Value(*s) : Value(); }

std::string lower(std::string_view s) {
  std::string r(s);
  std::transform(r.begin(), r.end(), r.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return r;
}

std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// "; did you mean signing.tsa_urls?" for a close key name (or the same key in another section).
std::string did_you_mean(const std::string& full) {
  std::string_view best;
  std::size_t best_d = std::max<std::size_t>(2, full.size() / 5) + 1;
  std::string leaf = full.substr(full.rfind('.') + 1);
  for (const auto& k : keys()) {
    std::size_t d = distance(lower(full), k.name);
    std::string_view kleaf = k.name.substr(k.name.rfind('.') + 1);
    if (lower(leaf) == kleaf) d = std::min<std::size_t>(d, 1);
    if (d < best_d) best_d = d, best = k.name;
  }
  return best.empty() ? "" : "; did you mean " + std::string(best) + "?";
}

std::string did_you_mean_section(const std::string& sec) {
  std::set<std::string> secs;
  for (const auto& k : keys()) secs.insert(std::string(k.name.substr(0, k.name.find('.'))));
  for (const auto& s : secs)
    if (distance(lower(sec), s) <= 2) return "; did you mean [" + s + "]?";
  return "";
}

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number with a fraction";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

bool is_url(const std::string& u) {
  std::string l = lower(u);
  std::size_t host = l.rfind("https://", 0) == 0 ? 8 : l.rfind("http://", 0) == 0 ? 7 : 0;
  if (host == 0 || u.size() <= host || u[host] == '/' || u[host] == ':') return false;
  return std::none_of(u.begin(), u.end(), [](unsigned char ch) { return ch <= ' ' || ch == 0x7f; });
}

bool looks_like_pin_key(std::string_view key) {
  std::string l = lower(key);
  return l.size() >= 3 && l.compare(l.size() - 3, 3, "pin") == 0;
}

// A value of a *pin key that is acceptable: a path (to a PIN file or credential), never the PIN itself.
bool is_path_value(const toml::node& n) {
  auto s = n.value<std::string>();
  return s && s->find('/') != std::string::npos;
}

constexpr const char* kPinMessage = "PINs are never written in the configuration; use pin_file or a systemd credential";

struct Problems {
  std::vector<std::pair<std::size_t, std::string>> list;  // line, text
  void add(const std::string& key, const toml::source_region& where, const std::string& what) {
    std::size_t line = where.begin.line;
    list.emplace_back(line, key + (line ? " (line " + std::to_string(line) + ")" : "") + ": " + what);
  }
  void add_plain(const std::string& what) { list.emplace_back(0, what); }
};

// Checks one known key's node; returns the value when it is acceptable.
std::optional<Value> check_value(const KeySpec& k, const toml::node& n, Problems& p) {
  std::string key(k.name);
  auto expected = [&](const char* what) {
    p.add(key, n.source(), std::string("expected ") + what + ", got " + type_name(n));
    return std::nullopt;
  };
  switch (k.type) {
    case KeyType::string:
    case KeyType::path: {
      auto s = n.value_exact<std::string>();
      if (!s) return expected(k.type == KeyType::path ? "a path (a string)" : "a string");
      if (s->empty()) {
        p.add(key, n.source(), "is empty; remove the key instead");
        return std::nullopt;
      }
      if (s->find('\0') != std::string::npos) {
        p.add(key, n.source(), "holds a NUL character");
        return std::nullopt;
      }
      return Value(*s);
    }
    case KeyType::choice: {
      auto s = n.value_exact<std::string>();
      std::string allowed;
      for (auto c : k.choices) allowed += (allowed.empty() ? "\"" : ", \"") + std::string(c) + "\"";
      if (!s) return expected(("one of " + allowed).c_str());
      if (std::find(k.choices.begin(), k.choices.end(), *s) == k.choices.end()) {
        p.add(key, n.source(), "\"" + *s + "\" is not one of " + allowed);
        return std::nullopt;
      }
      return Value(*s);
    }
    case KeyType::integer: {
      auto v = n.value_exact<int64_t>();
      if (!v) return expected("an integer");
      if (*v < k.min) p.add(key, n.source(), std::to_string(*v) + " is below " + std::to_string(k.min));
      else if (*v > k.max) p.add(key, n.source(), std::to_string(*v) + " is above " + std::to_string(k.max));
      else return Value(static_cast<long long>(*v));
      return std::nullopt;
    }
    case KeyType::boolean: {
      auto v = n.value_exact<bool>();
      if (!v) return expected("true or false");
      return Value(*v);
    }
    case KeyType::url_list: {
      const toml::array* arr = n.as_array();
      if (!arr) return expected("an array of http(s) URLs");
      Strings urls;
      bool ok = true;
      for (std::size_t i = 0; i < arr->size(); ++i) {
        const toml::node& e = *arr->get(i);
        std::string at = key + "[" + std::to_string(i) + "]";
        auto s = e.value_exact<std::string>();
        if (!s) {
          p.add(at, e.source(), std::string("expected an http(s) URL, got ") + type_name(e));
          ok = false;
        } else if (!is_url(*s)) {
          p.add(at, e.source(), "\"" + *s + "\" is not an http:// or https:// URL");
          ok = false;
        } else {
          urls.push_back(*s);
        }
      }
      if (!ok) return std::nullopt;
      return Value(std::move(urls));
    }
    case KeyType::string_list: {
      const toml::array* arr = n.as_array();
      if (!arr) return expected("an array of strings");
      Strings items;
      bool ok = true;
      for (std::size_t i = 0; i < arr->size(); ++i) {
        const toml::node& e = *arr->get(i);
        std::string at = key + "[" + std::to_string(i) + "]";
        auto s = e.value_exact<std::string>();
        if (!s || s->empty()) {
          p.add(at, e.source(), std::string("expected a non-empty string, got ") + (s ? "an empty one" : type_name(e)));
          ok = false;
        } else if (!k.choices.empty() && std::find(k.choices.begin(), k.choices.end(), *s) == k.choices.end()) {
          std::string allowed;
          for (auto c : k.choices) allowed += (allowed.empty() ? "\"" : ", \"") + std::string(c) + "\"";
          p.add(at, e.source(), "\"" + *s + "\" is not one of " + allowed);
          ok = false;
        } else if (std::find(items.begin(), items.end(), *s) != items.end()) {
          p.add(at, e.source(), "\"" + *s + "\" is listed twice");
          ok = false;
        } else {
          items.push_back(*s);
        }
      }
      if (!ok) return std::nullopt;
      return Value(std::move(items));
    }
  }
  return std::nullopt;
}

// Any key named like *pin holding something other than a path, anywhere in the document.
void check_pins(const toml::table& t, const std::string& prefix, Problems& p, std::set<std::string>& refused) {
  for (auto&& [k, node] : t) {
    std::string full = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const toml::table* sub = node.as_table()) {
      check_pins(*sub, full, p, refused);
    } else if (looks_like_pin_key(k.str()) && !is_path_value(node)) {
      p.add(full, k.source(), kPinMessage);  // the value itself is never repeated
      refused.insert(full);
    }
  }
}

std::string toml_string(const std::string& s) {
  std::string r = "\"";
  for (unsigned char ch : s) {
    if (ch == '"' || ch == '\\') r += '\\', r += static_cast<char>(ch);
    else if (ch == '\n') r += "\\n";
    else if (ch == '\t') r += "\\t";
    else if (ch < 0x20 || ch == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", ch);
      r += buf;
    } else r += static_cast<char>(ch);
  }
  return r + "\"";
}

std::string toml_value(const Value& v) {
  if (std::holds_alternative<bool>(v)) return std::get<bool>(v) ? "true" : "false";
  if (std::holds_alternative<long long>(v)) return std::to_string(std::get<long long>(v));
  if (std::holds_alternative<std::string>(v)) return toml_string(std::get<std::string>(v));
  if (std::holds_alternative<Strings>(v)) {
    std::string r = "[";
    for (const auto& s : std::get<Strings>(v)) r += (r.size() > 1 ? ", " : "") + toml_string(s);
    return r + "]";
  }
  return "";
}

}  // namespace

Config default_config() {
  Config c;
  for (const auto& k : keys()) set(c, k.name, k.default_value);
  return c;
}

Value get(const Config& c, std::string_view k) {
  const auto& s = c.signing;
  if (k == "school.name") return of(c.school.name);
  if (k == "school.code") return of(c.school.code);
  if (k == "signing.level") return s.level;
  if (k == "signing.tsa_urls") return s.tsa_urls;
  if (k == "signing.hash") return s.hash;
  if (k == "signing.tsa_timeout_s") return s.tsa_timeout_s;
  if (k == "signing.tsa_retries") return s.tsa_retries;
  if (k == "signing.timestamp_workers") return s.timestamp_workers;
  if (k == "signing.revocation") return s.revocation;
  if (k == "signing.revocation_timeout_s") return s.revocation_timeout_s;
  if (k == "signing.offline_dir") return of(s.offline_dir);
  if (k == "signing.trust_dir") return s.trust_dir;
  if (k == "signing.lock_fields") return s.lock_fields;
  if (k == "signing.certify_first") return s.certify_first;
  if (k == "server.listen") return c.server.listen;
  if (k == "server.state_dir") return c.server.state_dir;
  if (k == "server.tls_cert") return of(c.server.tls_cert);
  if (k == "server.tls_key") return of(c.server.tls_key);
  if (k == "server.host_names") return c.server.host_names;
  if (k == "server.threads") return c.server.threads;
  if (k == "server.max_body_mb") return c.server.max_body_mb;
  if (k == "server.max_json_kb") return c.server.max_json_kb;
  if (k == "server.max_connections") return c.server.max_connections;
  if (k == "server.max_connections_per_address") return c.server.max_connections_per_address;
  if (k == "server.header_timeout_s") return c.server.header_timeout_s;
  if (k == "server.read_timeout_s") return c.server.read_timeout_s;
  if (k == "server.handshake_timeout_s") return c.server.handshake_timeout_s;
  if (k == "server.session_hours") return c.server.session_hours;
  if (k == "auth.max_failures") return c.auth.max_failures;
  if (k == "auth.lockout_s") return c.auth.lockout_s;
  if (k == "auth.address_max_failures") return c.auth.address_max_failures;
  if (k == "auth.account_delay_max_s") return c.auth.account_delay_max_s;
  if (k == "csc.enabled") return c.csc.enabled;
  if (k == "csc.roles") return c.csc.roles;
  if (k == "csc.allow_seal") return c.csc.allow_seal;
  if (k == "hsm.modules") return c.hsm.modules;
  if (k == "hsm.demo_tokens") return c.hsm.demo_tokens;
  if (k == "workflow.steps") return c.workflow.steps;
  if (k == "seal.pin_file") return of(c.seal.pin_file);
  if (k == "seal.pin_credential") return of(c.seal.pin_credential);
  return {};
}

std::vector<std::string> completeness_problems(const Config& c) {
  std::vector<std::string> out;
  if (c.workflow.steps.empty()) out.push_back("workflow.steps: a record needs at least one signature");
  if (c.seal.pin_file && c.seal.pin_credential)
    out.push_back("seal.pin_file and seal.pin_credential: set one of them, not both");
  if (c.signing.level != "B-B" && c.signing.tsa_urls.empty())
    out.push_back("signing.tsa_urls: signing.level \"" + c.signing.level +
                  "\" needs at least one timestamp authority URL (or set signing.level = \"B-B\")");
  return out;
}

Result<Config> parse_config(std::string_view text, const std::string& source, Check check) {
  std::string prefix = source.empty() ? "" : source + ": ";
  toml::table doc;
  try {
    doc = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    auto line = e.source().begin.line;
    return make_error(Errc::invalid_argument, prefix + "not valid TOML" + (line ? " (line " + std::to_string(line) + ")" : "") +
                                                  ": " + std::string(e.description()));
  }
  Config c = default_config();
  Problems p;
  std::set<std::string> refused;
  check_pins(doc, "", p, refused);
  for (auto&& [sk, snode] : doc) {
    std::string sec(sk.str());
    const toml::table* st = snode.as_table();
    bool known_section = std::any_of(keys().begin(), keys().end(), [&](const KeySpec& k) {
      return k.name.substr(0, k.name.find('.')) == sec;
    });
    if (!st) {
      if (refused.count(sec)) continue;
      p.add(sec, sk.source(), known_section ? "is a section: write it as [" + sec + "]" : "unknown key (keys go in a section)" + did_you_mean(sec));
      continue;
    }
    if (!known_section) {
      if (std::all_of(st->begin(), st->end(), [&](auto&& kv) { return refused.count(sec + "." + std::string(kv.first.str())) > 0; }) && !st->empty())
        continue;
      p.add("[" + sec + "]", sk.source(), "unknown section" + did_you_mean_section(sec));
      continue;
    }
    for (auto&& [kk, node] : *st) {
      std::string full = sec + "." + std::string(kk.str());
      if (refused.count(full)) continue;
      const KeySpec* spec = find_key(full);
      if (!spec) {
        p.add(full, kk.source(), "unknown key" + did_you_mean(full));
        continue;
      }
      if (auto v = check_value(*spec, node, p)) {
        set(c, spec->name, *v);
        c.given.insert(full);
      }
    }
  }
  if (p.list.empty() && check == Check::complete)
    for (auto& s : completeness_problems(c)) p.add_plain(s);
  if (p.list.empty()) return c;
  std::stable_sort(p.list.begin(), p.list.end(), [](auto& a, auto& b) {
    return (a.first == 0 ? SIZE_MAX : a.first) < (b.first == 0 ? SIZE_MAX : b.first);
  });
  std::string msg = prefix + std::to_string(p.list.size()) + (p.list.size() == 1 ? " problem" : " problems") + " in the configuration:";
  for (auto& [line, text] : p.list) msg += "\n  " + text;
  return make_error(Errc::invalid_argument, msg);
}

Result<Config> load_config(const std::string& path, Check check) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::io, "cannot read the configuration " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.size() > (1u << 20)) return make_error(Errc::too_large, path + ": the configuration is larger than 1 MiB");
  return parse_config(text, path, check);
}

std::string dump_config(const Config& c) {
  std::string out = "# effective configuration (\"# default\": not set in the file)\n";
  std::string section;
  for (const auto& k : keys()) {
    std::string sec(k.name.substr(0, k.name.find('.'))), leaf(k.name.substr(k.name.find('.') + 1));
    if (sec != section) {
      out += (section.empty() ? "\n[" : "\n[") + sec + "]\n";
      section = sec;
    }
    Value v = get(c, k.name);
    if (std::holds_alternative<std::monostate>(v)) {
      out += "# " + leaf + " = (not set)\n";
      continue;
    }
    out += leaf + " = " + (k.secret ? std::string("\"<redacted>\"") : toml_value(v));
    if (!c.is_given(k.name)) out += "  # default";
    out += "\n";
  }
  return out;
}

std::string keys_markdown() {
  std::string out = "| key | type | default | allowed | `hocba` option | what |\n|---|---|---|---|---|---|\n";
  for (const auto& k : keys()) {
    std::string type, allowed;
    switch (k.type) {
      case KeyType::string: type = "string"; break;
      case KeyType::path: type = "path"; break;
      case KeyType::url_list: type = "array of URLs"; allowed = "http:// or https://"; break;
      case KeyType::string_list:
        type = "array of strings";
        for (auto ch : k.choices) allowed += (allowed.empty() ? "`" : ", `") + std::string(ch) + "`";
        break;
      case KeyType::integer:
        type = "integer";
        allowed = std::to_string(k.min) + " to " + std::to_string(k.max);
        break;
      case KeyType::boolean: type = "boolean"; break;
      case KeyType::choice:
        type = "string";
        for (auto ch : k.choices) allowed += (allowed.empty() ? "`" : ", `") + std::string(ch) + "`";
        break;
    }
    std::string def = std::holds_alternative<std::monostate>(k.default_value) ? "(not set)" : "`" + toml_value(k.default_value) + "`";
    out += "| `" + std::string(k.name) + "` | " + type + " | " + def + " | " + allowed + " | " +
           (k.cli_option.empty() ? std::string("—") : "`" + std::string(k.cli_option) + "`") + " | " + std::string(k.doc) + " |\n";
  }
  return out;
}

}  // namespace hocba::config
