// The appliance configuration: one TOML file per school, described by ONE table of keys (name, type,
// default, allowed values, one line of documentation). Unknown keys are rejected, every problem is
// reported at once with its key and line, defaults are applied, and the effective configuration can be
// printed back (secrets redacted). PINs are never in the configuration: only paths to PIN files.
// toml++ stays out of this header.
#pragma once
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "hocba/common/error.h"

namespace hocba::config {

enum class KeyType { string, path, url_list, string_list, integer, boolean, choice };

// A key's value: nothing (optional key not set), bool, integer, string, or list of strings.
using Value = std::variant<std::monostate, bool, long long, std::string, std::vector<std::string>>;

struct KeySpec {
  std::string_view name;                  // "signing.tsa_urls": section.key
  KeyType type;
  Value default_value;                    // monostate: optional, no default
  std::vector<std::string_view> choices;  // KeyType::choice; string_list: allowed elements (empty: any)
  long long min = 0, max = 0;             // KeyType::integer, inclusive
  std::string_view doc;                   // one line
  std::string_view cli_option;            // the `hocba` option it stands for, "" if none
  bool secret = false;                    // printed back as "<redacted>"
};

// Every key, in the order they are documented and printed.
const std::vector<KeySpec>& keys();
const KeySpec* find_key(std::string_view name);

struct Config {
  struct School {
    std::optional<std::string> name;
    std::optional<std::string> code;
  } school;
  struct Signing {
    std::string level;                   // B-B | B-T | B-LT | B-LTA
    std::vector<std::string> tsa_urls;   // http(s) URLs, tried in order
    std::string hash;                    // sha256 | sha384 | sha512
    long long tsa_timeout_s = 0;
    long long tsa_retries = 0;
    long long timestamp_workers = 0;
    std::string revocation;              // require | prefer | skip
    long long revocation_timeout_s = 0;
    std::optional<std::string> offline_dir;
    std::string trust_dir;
    bool lock_fields = true;
    bool certify_first = false;
  } signing;
  // The daemon hocbad (docs/appliance.md).
  struct Server {
    std::string listen;                  // "ADDR:PORT"
    std::string state_dir;
    std::optional<std::string> tls_cert, tls_key;  // default: state_dir/tls/{cert,key}.pem
    std::vector<std::string> host_names; // put in the self-signed certificate
    long long threads = 0;
    long long max_body_mb = 0;           // class import
    long long max_json_kb = 0;           // every other route
    long long max_connections = 0;
    long long max_connections_per_address = 0;
    long long header_timeout_s = 0;
    long long read_timeout_s = 0;
    long long handshake_timeout_s = 0;
    long long session_hours = 0;
  } server;
  struct Auth {
    long long max_failures = 0;          // per account, before a lock-out
    long long lockout_s = 0;
    long long address_max_failures = 0;  // per client address, in 15 minutes
    long long account_delay_max_s = 0;   // per account, across addresses: the longest slow-down
  } auth;
  struct HsmKeys {
    std::vector<std::string> modules;    // PKCS#11 modules; empty: SoftHSM2
    bool demo_tokens = true;             // provision SoftHSM2 demo tokens in the state folder on first start
  } hsm;
  struct Workflow {
    std::vector<std::string> steps;      // signature fields in signing order
  } workflow;
  struct Csc {
    bool enabled = true;
    std::vector<std::string> roles;      // roles that may use the CSC API with their own keys
    bool allow_seal = false;             // the seal through CSC (principal, with its PIN only)
  } csc;
  struct Seal {
    std::optional<std::string> pin_file;        // a sealed PIN for the seal token (file)
    std::optional<std::string> pin_credential;  // ... or a systemd credential's name
  } seal;
  // The keys the file set explicitly (the others hold their defaults).
  std::set<std::string> given;
  bool is_given(std::string_view key) const { return given.count(std::string(key)) > 0; }
};

// The built-in defaults (from the table).
Config default_config();

// Reading and checking a key of a Config by its table name.
Value get(const Config& c, std::string_view key);

enum class Check {
  keys,      // names, types, ranges and allowed values of each key
  complete,  // and what keys need of each other (B-T and above need a signing.tsa_urls)
};

// Parses TOML text. On failure the Error's message lists every problem, one per line
// ("signing.tsa_timeout_s (line 7): -3 is below 1"), prefixed with `source` when not empty.
Result<Config> parse_config(std::string_view text, const std::string& source = "", Check check = Check::keys);
Result<Config> load_config(const std::string& path, Check check = Check::keys);

// Problems between keys of an otherwise valid configuration (Check::complete), one per entry.
std::vector<std::string> completeness_problems(const Config& c);

// The effective configuration as TOML (every key; optional ones not set are shown commented out).
std::string dump_config(const Config& c);

// The table of keys as a Markdown table (docs/configuration.md).
std::string keys_markdown();

}  // namespace hocba::config
