// The configuration table, the TOML reader (toml++) and the printer. See config.h.
#include "hocba/config/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

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
      {"signing.tsa_timeout_s", KeyType::integer, 180LL, {}, 1, 600,
       "Seconds to wait for each timestamp authority answer (the government's service takes 2 s to over 2 minutes)",
       "--tsa-timeout"},
      {"signing.tsa_retries", KeyType::integer, 2LL, {}, 0, 10,
       "More tries per timestamp authority after the first (2: 3 tries in all)", "--tsa-retries"},
      {"signing.tsa_max_concurrent", KeyType::integer, 4LL, {}, 1, 64,
       "Timestamp requests in flight at once to each timestamp authority; more wait their turn", ""},
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
      // The chain per school level. The steps themselves ([workflow.steps.NAME] tables) are not keys of
      // this table: the parser reads them as a special case (read_workflow), with the properties of
      // step_properties(); `workflow.steps = [...]` (an array) is the old form of the three lists.
      {"workflow.primary", KeyType::string_list, Strings{"gvcn", "hieu_truong", "con_dau"}, {}, 0, 0,
       "Signatures a primary-school record needs, in order (names of [workflow.steps.NAME] tables)", ""},
      {"workflow.lower_secondary", KeyType::string_list, Strings{"gvbm", "gvcn", "hieu_truong", "con_dau"}, {}, 0, 0,
       "Signatures a lower-secondary (THCS) record needs, in order", ""},
      {"workflow.upper_secondary", KeyType::string_list, Strings{"gvbm", "gvcn", "hieu_truong", "con_dau"}, {}, 0, 0,
       "Signatures an upper-secondary (THPT) record needs, in order", ""},
      {"csc.enabled", KeyType::boolean, true, {}, 0, 0,
       "Serve the Cloud Signature Consortium API (/csc/v1, /csc/v2) for remote-signing clients", ""},
      {"csc.roles", KeyType::string_list, Strings{"homeroom_teacher", "subject_teacher", "principal"}, signing_roles(), 0, 0,
       "Roles that may sign with their own keys through the CSC API", ""},
      {"csc.allow_seal", KeyType::boolean, false, {}, 0, 0,
       "The school seal may be used through the CSC API (by a principal, always with the seal's PIN, never a sealed one)", ""},
      {"seal.pin_file", KeyType::path, {}, {}, 0, 0, "A sealed PIN for the school seal's token, read from this file", ""},
      {"seal.pin_credential", KeyType::string, {}, {}, 0, 0,
       "A sealed PIN for the seal's token from this systemd credential ($CREDENTIALS_DIRECTORY/NAME)", ""},
      {"forms.primary_homeroom_comment", KeyType::boolean, false, {}, 0, 0,
       "Primary records print the homeroom teacher's comment (Circular 27's form has no section for it; some provinces "
       "add one)",
       ""},
      {"forms.secondary_subject_comments", KeyType::boolean, false, {}, 0, 0,
       "Secondary records print a comment column in the subject table (Circular 22's form has none; some software adds "
       "one)",
       ""},
  };
  return table;
}

const KeySpec* find_key(std::string_view name) {
  for (const auto& k : keys())
    if (k.name == name) return &k;
  return nullptr;
}

const std::vector<std::string_view>& signing_roles() {
  static const std::vector<std::string_view> roles = {"homeroom_teacher", "subject_teacher", "principal", "deputy_principal"};
  return roles;
}

const std::vector<StepProperty>& step_properties() {
  static const std::vector<StepProperty> table = {
      {"role", KeyType::choice, {}, signing_roles(), 0, 0, "Who signs the step", true},
      {"substitutes", KeyType::string_list, Strings{}, signing_roles(), 3, 0,
       "Roles that may sign the step in the role's place", false},
      {"seal", KeyType::boolean, false, {}, 0, 0, "Signed with the school seal's key, not the signer's own (at most one per chain)",
       false},
      {"scope", KeyType::choice, std::string("record"), {"record", "class_subject"}, 0, 0,
       "What one signature covers: a record, or one score sheet per class and subject (such steps come first in a chain)",
       false},
      {"title", KeyType::string_list, Strings{}, {}, 4, 80, "The title block printed above the signature, one string per line",
       false},
      {"substitute_title", KeyType::string_list, Strings{}, {}, 4, 80,
       "The title block when a substitute signs (empty: title)", false},
      {"reason", KeyType::string, std::string(""), {}, 0, 200, "The signature's reason (/Reason)", false},
      {"box", KeyType::choice, std::string(""), {"homeroom", "principal", "seal", ""}, 0, 0,
       "The record's signature box it fills (\"\": none)", false},
      {"label", KeyType::string, {}, {}, 0, 80, "The step's name in the web UI", true},
      {"verb", KeyType::string, std::string(""), {}, 0, 80, "Its action in the web UI", false},
      {"done_label", KeyType::string, std::string(""), {}, 0, 80, "A record's state once the step is signed", false},
      {"waiting_label", KeyType::string, std::string(""), {}, 0, 80, "A record's state while it waits for the step", false},
  };
  return table;
}

namespace {

const StepProperty* find_step_property(std::string_view name) {
  for (const auto& sp : step_properties())
    if (sp.name == name) return &sp;
  return nullptr;
}

// The built-in steps (texts as the web UI and the signatures had them before the chain was data).
// Designated initialisers, in Step's member order; the members they leave out keep their defaults
// (GCC 12 warns about that with -Wextra, wrongly for designated initialisers: fixed in GCC 13).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
const std::vector<Step>& built_in_steps() {
  static const std::vector<Step> steps = {
      {.name = "gvbm", .role = "subject_teacher", .scope = "class_subject", .title = {"GIÁO VIÊN BỘ MÔN"},
       .reason = "Giáo viên bộ môn ký xác nhận điểm môn học", .label = "Giáo viên bộ môn", .verb = "Xác nhận điểm",
       .done_label = "GVBM đã xác nhận", .waiting_label = "Chờ GVBM xác nhận điểm"},
      {.name = "gvcn", .role = "homeroom_teacher", .title = {"GIÁO VIÊN CHỦ NHIỆM"},
       .reason = "Giáo viên chủ nhiệm ký xác nhận học bạ", .box = "homeroom", .label = "Giáo viên chủ nhiệm", .verb = "Ký",
       .done_label = "GVCN đã ký", .waiting_label = "Chờ GVCN ký"},
      {.name = "hieu_truong", .role = "principal", .substitutes = {"deputy_principal"}, .title = {"HIỆU TRƯỞNG"},
       .substitute_title = {"KT. HIỆU TRƯỞNG", "PHÓ HIỆU TRƯỞNG"}, .reason = "Hiệu trưởng ký duyệt học bạ", .box = "principal",
       .label = "Hiệu trưởng", .verb = "Ký duyệt", .done_label = "HT đã ký", .waiting_label = "Chờ hiệu trưởng ký"},
      {.name = "con_dau", .role = "principal", .substitutes = {"deputy_principal"}, .seal = true, .title = {"CON DẤU NHÀ TRƯỜNG"},
       .reason = "Đóng dấu của nhà trường", .box = "seal", .label = "Con dấu nhà trường", .verb = "Đóng dấu",
       .done_label = "Đã đóng dấu", .waiting_label = "Chờ đóng dấu"},
  };
  return steps;
}
#pragma GCC diagnostic pop

// The one place a step property's name meets a Step field (both ways).
void set_step(Step& s, std::string_view k, const Value& v) {
  auto str = [&] { return std::get<std::string>(v); };
  if (k == "role") s.role = str();
  else if (k == "substitutes") s.substitutes = std::get<Strings>(v);
  else if (k == "seal") s.seal = std::get<bool>(v);
  else if (k == "scope") s.scope = str();
  else if (k == "title") s.title = std::get<Strings>(v);
  else if (k == "substitute_title") s.substitute_title = std::get<Strings>(v);
  else if (k == "reason") s.reason = str();
  else if (k == "box") s.box = str();
  else if (k == "label") s.label = str();
  else if (k == "verb") s.verb = str();
  else if (k == "done_label") s.done_label = str();
  else if (k == "waiting_label") s.waiting_label = str();
}

Value get_step(const Step& s, std::string_view k) {
  if (k == "role") return s.role;
  if (k == "substitutes") return s.substitutes;
  if (k == "seal") return s.seal;
  if (k == "scope") return s.scope;
  if (k == "title") return s.title;
  if (k == "substitute_title") return s.substitute_title;
  if (k == "reason") return s.reason;
  if (k == "box") return s.box;
  if (k == "label") return s.label;
  if (k == "verb") return s.verb;
  if (k == "done_label") return s.done_label;
  if (k == "waiting_label") return s.waiting_label;
  return {};
}

}  // namespace

bool Step::may_sign(std::string_view r) const {
  return r == role || std::find(substitutes.begin(), substitutes.end(), r) != substitutes.end();
}

const std::vector<std::string>& Step::title_for(std::string_view r) const {
  bool substitute = r != role && std::find(substitutes.begin(), substitutes.end(), r) != substitutes.end();
  return substitute && !substitute_title.empty() ? substitute_title : title;
}

const Step* Config::Workflow::step(std::string_view name) const {
  for (const auto& s : step_defs)
    if (s.name == name) return &s;
  return nullptr;
}

const std::vector<std::string_view>& Config::Workflow::levels() {
  static const std::vector<std::string_view> l = {"primary", "lower_secondary", "upper_secondary"};
  return l;
}

bool Config::Workflow::is_level(std::string_view level) {
  return std::find(levels().begin(), levels().end(), level) != levels().end();
}

const std::vector<std::string>& Config::Workflow::chain(std::string_view level) const {
  if (level == "primary") return primary;
  if (level == "lower_secondary") return lower_secondary;
  if (level == "upper_secondary") return upper_secondary;
  throw std::invalid_argument("no such school level: " + std::string(level));
}

std::vector<std::string> Config::Workflow::used_steps() const {
  // Each chain's steps merged in: a step not seen yet goes right after the one before it in its chain
  // (first when it opens the chain), so that the defaults give gvbm, gvcn, hieu_truong, con_dau.
  std::vector<std::string> out;
  for (const auto* l : {&primary, &lower_secondary, &upper_secondary})
    for (std::size_t i = 0; i < l->size(); ++i) {
      const std::string& s = (*l)[i];
      if (std::find(out.begin(), out.end(), s) != out.end()) continue;
      auto at = i == 0 ? out.begin() : std::find(out.begin(), out.end(), (*l)[i - 1]) + 1;
      out.insert(at, s);
    }
  return out;
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
  else if (k == "signing.tsa_max_concurrent") s.tsa_max_concurrent = num();
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
  else if (k == "forms.primary_homeroom_comment") c.forms.primary_homeroom_comment = std::get<bool>(v);
  else if (k == "forms.secondary_subject_comments") c.forms.secondary_subject_comments = std::get<bool>(v);
  else if (k == "csc.roles") c.csc.roles = std::get<Strings>(v);
  else if (k == "csc.allow_seal") c.csc.allow_seal = std::get<bool>(v);
  else if (k == "hsm.modules") c.hsm.modules = std::get<Strings>(v);
  else if (k == "hsm.demo_tokens") c.hsm.demo_tokens = std::get<bool>(v);
  else if (k == "workflow.primary") c.workflow.primary = std::get<Strings>(v);
  else if (k == "workflow.lower_secondary") c.workflow.lower_secondary = std::get<Strings>(v);
  else if (k == "workflow.upper_secondary") c.workflow.upper_secondary = std::get<Strings>(v);
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
  std::vector<std::string_view> names;
  for (const auto& k : keys()) names.push_back(k.name);
  names.push_back("workflow.steps");  // the step tables, not in the key table
  for (auto name : names) {
    std::size_t d = distance(lower(full), name);
    std::string_view kleaf = name.substr(name.rfind('.') + 1);
    if (lower(leaf) == kleaf) d = std::min<std::size_t>(d, 1);
    if (d < best_d) best_d = d, best = name;
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

std::size_t utf8_length(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char ch) { return (ch & 0xC0) != 0x80; }));
}

bool has_control(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char ch) { return ch < 0x20 || ch == 0x7f; });
}

bool is_step_name(std::string_view n) {
  if (n.empty() || n.size() > 32 || n[0] < 'a' || n[0] > 'z') return false;
  return std::all_of(n.begin(), n.end(), [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'; });
}

// "; did you mean X?" for a close name among `names`.
std::string did_you_mean_among(const std::string& name, const std::vector<std::string>& names) {
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, name.size() / 5) + 1;
  for (const auto& n : names) {
    std::size_t d = distance(lower(name), n);
    if (d < best_d) best_d = d, best = n;
  }
  return best.empty() ? "" : "; did you mean " + best + "?";
}

std::string one_of(const std::vector<std::string_view>& choices) {
  std::string allowed;
  for (auto c : choices) allowed += (allowed.empty() ? "\"" : ", \"") + std::string(c) + "\"";
  return allowed;
}

// Checks one step property's node (`key`: workflow.steps.NAME.PROPERTY); the value when acceptable.
std::optional<Value> check_step_value(const StepProperty& sp, const std::string& key, const toml::node& n, Problems& p) {
  auto expected = [&](const std::string& what) {
    p.add(key, n.source(), "expected " + what + ", got " + type_name(n));
    return std::nullopt;
  };
  // A text's problem, or "".
  auto text_problem = [&](const std::string& s) -> std::string {
    if (has_control(s)) return "holds a control character (a new line, a tab, …)";
    if (sp.max_chars && utf8_length(s) > sp.max_chars)
      return "is " + std::to_string(utf8_length(s)) + " characters long; at most " + std::to_string(sp.max_chars);
    return "";
  };
  switch (sp.type) {
    case KeyType::boolean: {
      auto v = n.value_exact<bool>();
      if (!v) return expected("true or false");
      return Value(*v);
    }
    case KeyType::choice: {
      auto s = n.value_exact<std::string>();
      if (!s) return expected("one of " + one_of(sp.choices));
      if (std::find(sp.choices.begin(), sp.choices.end(), *s) == sp.choices.end()) {
        std::vector<std::string> names(sp.choices.begin(), sp.choices.end());
        p.add(key, n.source(), "\"" + *s + "\" is not one of " + one_of(sp.choices) + did_you_mean_among(*s, names));
        return std::nullopt;
      }
      return Value(*s);
    }
    case KeyType::string: {
      auto s = n.value_exact<std::string>();
      if (!s) return expected("a string");
      std::string bad = text_problem(*s);
      if (bad.empty() && sp.required_for_new && s->empty()) bad = "is empty";
      if (!bad.empty()) {
        p.add(key, n.source(), bad);
        return std::nullopt;
      }
      return Value(*s);
    }
    case KeyType::string_list: {
      const toml::array* arr = n.as_array();
      if (!arr) return expected("an array of strings");
      if (sp.max_items && arr->size() > sp.max_items) {
        p.add(key, n.source(), "holds " + std::to_string(arr->size()) + " items; at most " + std::to_string(sp.max_items));
        return std::nullopt;
      }
      Strings items;
      bool ok = true;
      for (std::size_t i = 0; i < arr->size(); ++i) {
        const toml::node& e = *arr->get(i);
        std::string at = key + "[" + std::to_string(i) + "]";
        auto s = e.value_exact<std::string>();
        std::string bad;
        if (!s || s->empty()) bad = std::string("expected a non-empty string, got ") + (s ? "an empty one" : type_name(e));
        else if (!sp.choices.empty() && std::find(sp.choices.begin(), sp.choices.end(), *s) == sp.choices.end())
          bad = "\"" + *s + "\" is not one of " + one_of(sp.choices) +
                did_you_mean_among(*s, Strings(sp.choices.begin(), sp.choices.end()));
        else if (std::find(items.begin(), items.end(), *s) != items.end()) bad = "\"" + *s + "\" is listed twice";
        else bad = text_problem(*s);
        if (!bad.empty()) {
          p.add(at, e.source(), bad);
          ok = false;
        } else {
          items.push_back(*s);
        }
      }
      if (!ok) return std::nullopt;
      return Value(std::move(items));
    }
    default: break;
  }
  return std::nullopt;
}

constexpr std::size_t kMaxSteps = 16;

// [workflow.steps.NAME] tables: a built-in step's table overrides the properties it gives, any other
// name defines a new step. `defined` receives every name with a table (even one with problems, so
// that the chains naming it are not reported again).
void read_steps(const toml::table& t, const toml::source_region& where, Config& c, Problems& p,
                const std::set<std::string>& refused, std::set<std::string>& defined) {
  std::vector<Step> added;
  for (auto&& [nk, nnode] : t) {
    std::string name(nk.str()), key = "workflow.steps." + name;
    if (refused.count(key)) continue;
    if (!is_step_name(name)) {
      p.add(key, nk.source(), "a step's name is a lower-case letter and up to 31 more lower-case letters, digits or _");
      continue;
    }
    const toml::table* st = nnode.as_table();
    if (!st) {
      p.add(key, nk.source(), std::string("expected a table [") + key + "] of the step's properties, got " + type_name(nnode));
      continue;
    }
    defined.insert(name);
    Step fresh;
    Step* s = nullptr;
    for (auto& d : c.workflow.step_defs)
      if (d.name == name) s = &d;
    bool is_new = s == nullptr;
    if (is_new) {
      fresh.name = name;
      for (const auto& sp : step_properties())
        if (!std::holds_alternative<std::monostate>(sp.default_value)) set_step(fresh, sp.name, sp.default_value);
      s = &fresh;
    }
    bool ok = true;
    const toml::node* substitutes_node = nullptr;
    for (auto&& [pk, pnode] : *st) {
      std::string prop(pk.str()), full = key + "." + prop;
      if (refused.count(full)) continue;
      const StepProperty* sp = find_step_property(prop);
      if (!sp) {
        Strings names;
        for (const auto& q : step_properties()) names.emplace_back(q.name);
        p.add(full, pk.source(), "unknown step property" + did_you_mean_among(prop, names));
        ok = false;
        continue;
      }
      if (auto v = check_step_value(*sp, full, pnode, p)) {
        set_step(*s, sp->name, *v);
        c.given.insert(full);
        if (prop == "substitutes") substitutes_node = &pnode;
      } else {
        ok = false;
      }
    }
    if (is_new) {
      std::string missing;
      for (const auto& sp : step_properties())
        if (sp.required_for_new && !st->contains(sp.name)) missing += (missing.empty() ? "" : " and ") + std::string(sp.name);
      if (!missing.empty()) {
        p.add(key, nnode.source(), "a new step needs " + missing);
        ok = false;
      }
    }
    if (!s->role.empty() && std::find(s->substitutes.begin(), s->substitutes.end(), s->role) != s->substitutes.end()) {
      p.add(key + ".substitutes", substitutes_node ? substitutes_node->source() : nnode.source(),
            "\"" + s->role + "\" is the step's own role, not a substitute");
      ok = false;
    }
    if (is_new && ok) added.push_back(std::move(fresh));
  }
  std::size_t count = c.workflow.step_defs.size();
  for (const auto& n : defined)
    if (!c.workflow.step(n)) ++count;  // new steps, with or without problems
  if (count > kMaxSteps)
    p.add("workflow.steps", where,
          std::to_string(count) + " steps are defined (the " + std::to_string(built_in_steps().size()) +
              " built-in ones included); at most " + std::to_string(kMaxSteps));
  for (auto& s : added) c.workflow.step_defs.push_back(std::move(s));
}

// What a chain (one level's list, or the old `steps` array) needs of its steps. `node`: the array it was
// read from (for lines), or nullptr for a default list.
void check_chain(const std::string& key, const Strings& list, const toml::node* node, const Config& c,
                 const std::set<std::string>& defined, Problems& p) {
  const toml::array* arr = node ? node->as_array() : nullptr;
  auto add = [&](std::size_t i, const std::string& what) {
    if (arr && i < arr->size()) p.add(key + "[" + std::to_string(i) + "]", arr->get(i)->source(), what);
    else p.add_plain(key + " (the default, " + toml_value(list) + "): " + what);
  };
  Strings names;
  for (const auto& s : c.workflow.step_defs) names.push_back(s.name);
  for (const auto& n : defined)
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  std::string first_record, first_seal;
  std::map<std::string, std::string> box_owner;  // a record box's kind -> the step that fills it
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string& n = list[i];
    if (std::find(names.begin(), names.end(), n) == names.end()) {
      add(i, "\"" + n + "\" is not a defined step (no [workflow.steps." + n + "])" + did_you_mean_among(n, names));
      continue;
    }
    const Step* s = c.workflow.step(n);
    if (!s) continue;  // a new step with problems of its own
    if (s->scope == "class_subject" && !first_record.empty())
      add(i, "\"" + n + "\" signs per class and subject (scope = \"class_subject\") and must come before every step that "
             "signs the record; \"" + first_record + "\" comes before it");
    if (s->scope == "record" && first_record.empty()) first_record = n;
    if (s->scope == "record" && !s->box.empty()) {
      auto [it, fresh] = box_owner.emplace(s->box, n);
      if (!fresh)
        add(i, "\"" + n + "\" fills the " + s->box + " box (box = \"" + s->box + "\") that \"" + it->second +
                   "\" fills already; a box on the form holds one signature");
    }
    if (s->seal) {
      if (!first_seal.empty())
        add(i, "\"" + n + "\" is a second seal step after \"" + first_seal + "\"; a record carries the school seal once");
      else first_seal = n;
    }
  }
}

// The [workflow] section: the chain per level, the step tables, and the old `steps = [...]`.
void read_workflow(const toml::table& wt, Config& c, Problems& p, const std::set<std::string>& refused) {
  const auto& levels = Config::Workflow::levels();
  std::vector<const toml::node*> level_node(levels.size(), nullptr);
  std::vector<bool> level_ok(levels.size(), true);
  const toml::node* legacy = nullptr;
  std::set<std::string> defined;
  for (const auto& s : c.workflow.step_defs) defined.insert(s.name);
  for (auto&& [kk, node] : wt) {
    std::string leaf(kk.str()), full = "workflow." + leaf;
    if (refused.count(full)) continue;
    if (leaf == "steps") {
      if (node.is_array()) legacy = &node;
      else if (const toml::table* t = node.as_table()) read_steps(*t, node.source(), c, p, refused, defined);
      else
        p.add(full, kk.source(),
              std::string("expected tables [workflow.steps.NAME] (or, in the old form, an array of step names), got ") +
                  type_name(node));
      continue;
    }
    const KeySpec* spec = find_key(full);
    if (!spec) {
      p.add(full, kk.source(), "unknown key" + did_you_mean(full));
      continue;
    }
    std::size_t li = std::find(levels.begin(), levels.end(), leaf) - levels.begin();
    if (auto v = check_value(*spec, node, p)) {
      set(c, spec->name, *v);
      c.given.insert(full);
      if (li < levels.size()) level_node[li] = &node;
    } else if (li < levels.size()) {
      level_ok[li] = false;
    }
  }
  if (legacy) {
    std::string given_levels;
    for (std::size_t i = 0; i < levels.size(); ++i)
      if (level_node[i] || !level_ok[i]) given_levels += (given_levels.empty() ? "" : ", ") + std::string(levels[i]);
    if (!given_levels.empty()) {
      p.add("workflow.steps", legacy->source(),
            "the old form steps = [...] sets the chain of every level; write either it or the levels (" + given_levels +
                "), not both");
      return;
    }
    static const KeySpec legacy_spec{"workflow.steps", KeyType::string_list, Strings{}, {}, 0, 0, "", ""};
    auto v = check_value(legacy_spec, *legacy, p);
    if (!v) return;
    for (auto level : levels) {
      set(c, "workflow." + std::string(level), *v);
      c.given.insert("workflow." + std::string(level));
    }
    check_chain("workflow.steps", std::get<Strings>(*v), legacy, c, defined, p);
    return;
  }
  for (std::size_t i = 0; i < levels.size(); ++i)
    if (level_ok[i]) check_chain("workflow." + std::string(levels[i]), c.workflow.chain(levels[i]), level_node[i], c, defined, p);
}

}  // namespace

Config default_config() {
  Config c;
  for (const auto& k : keys()) set(c, k.name, k.default_value);
  c.workflow.step_defs = built_in_steps();
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
  if (k == "signing.tsa_max_concurrent") return s.tsa_max_concurrent;
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
  if (k == "forms.primary_homeroom_comment") return c.forms.primary_homeroom_comment;
  if (k == "forms.secondary_subject_comments") return c.forms.secondary_subject_comments;
  if (k == "csc.roles") return c.csc.roles;
  if (k == "csc.allow_seal") return c.csc.allow_seal;
  if (k == "hsm.modules") return c.hsm.modules;
  if (k == "hsm.demo_tokens") return c.hsm.demo_tokens;
  if (k == "workflow.primary") return c.workflow.primary;
  if (k == "workflow.lower_secondary") return c.workflow.lower_secondary;
  if (k == "workflow.upper_secondary") return c.workflow.upper_secondary;
  if (k == "seal.pin_file") return of(c.seal.pin_file);
  if (k == "seal.pin_credential") return of(c.seal.pin_credential);
  return {};
}

std::vector<std::string> completeness_problems(const Config& c) {
  std::vector<std::string> out;
  for (auto level : Config::Workflow::levels())
    if (c.workflow.chain(level).empty())
      out.push_back("workflow." + std::string(level) + ": a record needs at least one signature (the chain is empty)");
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
    if (sec == "workflow") {  // the step tables are not keys of the table
      read_workflow(*st, c, p, refused);
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

namespace {

// Every defined step as its table (after the [workflow] keys), every property shown.
std::string dump_steps(const Config& c) {
  std::string out;
  for (const auto& s : c.workflow.step_defs) {
    std::string key = "workflow.steps." + s.name;
    out += "\n[" + key + "]\n";
    for (const auto& sp : step_properties()) {
      out += std::string(sp.name) + " = " + toml_value(get_step(s, sp.name));
      if (!c.is_given(key + "." + std::string(sp.name))) out += "  # default";
      out += "\n";
    }
  }
  return out;
}

}  // namespace

std::string dump_config(const Config& c) {
  std::string out = "# effective configuration (\"# default\": not set in the file)\n";
  std::string section;
  for (const auto& k : keys()) {
    std::string sec(k.name.substr(0, k.name.find('.'))), leaf(k.name.substr(k.name.find('.') + 1));
    if (sec != section) {
      if (section == "workflow") out += dump_steps(c);
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
  if (section == "workflow") out += dump_steps(c);
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
  out += "\nThe properties of a step, `[workflow.steps.NAME]` (a built-in step's own defaults are in "
         "`firmware-config/defaults.toml`; the default below is a new step's):\n\n"
         "| property | type | default | allowed | what |\n|---|---|---|---|---|\n";
  for (const auto& sp : step_properties()) {
    std::string type, allowed;
    auto choices = [&] {
      for (auto ch : sp.choices) allowed += (allowed.empty() ? "`" : ", `") + (ch.empty() ? std::string("\"\"") : std::string(ch)) + "`";
    };
    switch (sp.type) {
      case KeyType::string_list:
        type = "array of strings";
        choices();
        if (sp.max_items) allowed += (allowed.empty() ? "" : "; ") + std::string("at most ") + std::to_string(sp.max_items);
        if (sp.max_chars) allowed += ", each at most " + std::to_string(sp.max_chars) + " characters";
        break;
      case KeyType::boolean: type = "boolean"; break;
      case KeyType::choice: type = "string"; choices(); break;
      default:
        type = "string";
        if (sp.max_chars) allowed = "at most " + std::to_string(sp.max_chars) + " characters";
        break;
    }
    std::string def = sp.required_for_new ? "(required)" : "`" + toml_value(sp.default_value) + "`";
    out += "| `" + std::string(sp.name) + "` | " + type + " | " + def + " | " + allowed + " | " + std::string(sp.doc) + " |\n";
  }
  return out;
}

}  // namespace hocba::config
