// The appliance configuration: one TOML file per school, described by ONE table of keys (name, type,
// default, allowed values, one line of documentation). Unknown keys are rejected, every problem is
// reported at once with its key and line, defaults are applied, and the effective configuration can be
// printed back (secrets redacted). PINs are never in the configuration: only paths to PIN files.
// toml++ stays out of this header.
#pragma once
#include <cstddef>
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

// The properties of a step table [workflow.steps.NAME] (not keys of the table above: step tables are
// read by a special case of the parser). `default_value` is a NEW step's default; a built-in step's
// defaults are their own (default_config(), firmware-config/defaults.toml).
struct StepProperty {
  std::string_view name;                  // "role"
  KeyType type;                           // string, string_list, boolean or choice
  Value default_value;
  std::vector<std::string_view> choices;  // choice; string_list: allowed elements (empty: any)
  std::size_t max_items = 0;              // string_list: the most items (0: any number)
  std::size_t max_chars = 0;              // string, string_list items: the longest, in characters (0: any)
  std::string_view doc;
  bool required_for_new = false;          // a step that is not built in must set it (and not to "")
};
const std::vector<StepProperty>& step_properties();

// The roles that may sign a step (users' roles besides admin and viewer).
const std::vector<std::string_view>& signing_roles();

// The signing chain (docs/configuration.md, "The signing chain"): which signatures a record needs,
// in order, for each school level, and what each step is. A step's name is also its signature
// field's name in the PDF.
struct Step {
  std::string name;                        // "gvcn": [workflow.steps.gvcn]; [a-z][a-z0-9_]{0,31}
  std::string role;                        // who signs: homeroom_teacher | subject_teacher | principal | deputy_principal
  std::vector<std::string> substitutes;    // roles that may sign in the role's place (same role names)
  bool seal = false;                       // signed with the school seal's key, not the signer's own
  std::string scope = "record";            // record | class_subject (one signed score sheet per class and subject)
  std::vector<std::string> title;          // the title block printed above the signature (at most 4 lines)
  std::vector<std::string> substitute_title;  // the title block when a substitute signs (empty: `title`)
  std::string reason;                      // the signature's /Reason
  std::string box;                         // the record's signature box: homeroom | principal | seal | "" (none)
  std::string label;                       // the step's name in the web UI ("Giáo viên chủ nhiệm")
  std::string verb;                        // its action ("Ký", "Ký duyệt", "Đóng dấu")
  std::string done_label;                  // a record's state once signed ("GVCN đã ký")
  std::string waiting_label;               // a record's state while waiting for it ("Chờ GVCN ký")

  // `role` is the step's role or one of its substitutes.
  bool may_sign(std::string_view role) const;
  // The title block for a signer of `role`: substitute_title when `role` is a substitute and it is
  // set, otherwise title.
  const std::vector<std::string>& title_for(std::string_view role) const;
  bool operator==(const Step&) const = default;
};

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
    long long tsa_max_concurrent = 0;
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
  // The signing chain (docs/configuration.md, "The signing chain").
  struct Workflow {
    // Step names in signing order, per school level (each names a step of step_defs).
    std::vector<std::string> primary, lower_secondary, upper_secondary;
    // Every step defined: the built-in ones (gvbm, gvcn, hieu_truong, con_dau), then the file's new
    // ones by name. A step may be defined and used by no level.
    std::vector<Step> step_defs;

    // The step named `name`, or nullptr.
    const Step* step(std::string_view name) const;
    // The chain of a level: "primary", "lower_secondary" or "upper_secondary" (throws
    // std::invalid_argument for any other string: check it with is_level first).
    const std::vector<std::string>& chain(std::string_view level) const;
    static bool is_level(std::string_view level);
    static const std::vector<std::string_view>& levels();  // the three, in school order
    // Every step some level uses, once, the chains merged in order (a step first named by a later
    // chain goes right after its predecessor there): the old flat `workflow.steps` list, e.g. the
    // signature fields a record template must hold. Defaults: gvbm, gvcn, hieu_truong, con_dau.
    std::vector<std::string> used_steps() const;
    bool operator==(const Workflow&) const = default;
  } workflow;
  // Where copies of the official forms differ (pdf::FormOptions, docs/record-rendering.md).
  struct Forms {
    bool primary_homeroom_comment = false;
    bool secondary_subject_comments = false;
    bool operator==(const Forms&) const = default;
  } forms;
  struct Csc {
    bool enabled = true;
    std::vector<std::string> roles;      // roles that may use the CSC API with their own keys
    bool allow_seal = false;             // the seal through CSC (principal, with its PIN only)
  } csc;
  struct Seal {
    std::optional<std::string> pin_file;        // a sealed PIN for the seal token (file)
    std::optional<std::string> pin_credential;  // ... or a systemd credential's name
  } seal;
  // The keys the file set explicitly (the others hold their defaults); a step's properties as
  // "workflow.steps.NAME.PROPERTY". The old `workflow.steps = [...]` counts as setting the three levels.
  std::set<std::string> given;
  bool is_given(std::string_view key) const { return given.count(std::string(key)) > 0; }
};

// The built-in defaults (from the table).
Config default_config();

// Reading and checking a key of a Config by its table name.
Value get(const Config& c, std::string_view key);

enum class Check {
  keys,      // names, types, ranges and allowed values of each key
  complete,  // and what keys need of each other (B-T and above need a signing.tsa_urls; every level's
             // chain at least one step)
};

// Parses TOML text. On failure the Error's message lists every problem, one per line
// ("signing.tsa_timeout_s (line 7): -3 is below 1"), prefixed with `source` when not empty.
Result<Config> parse_config(std::string_view text, const std::string& source = "", Check check = Check::keys);
Result<Config> load_config(const std::string& path, Check check = Check::keys);

// Problems between keys of an otherwise valid configuration (Check::complete), one per entry.
std::vector<std::string> completeness_problems(const Config& c);

// The effective configuration as TOML (every key; optional ones not set are shown commented out).
std::string dump_config(const Config& c);

// The table of keys, then the table of step properties, as Markdown (docs/configuration.md).
std::string keys_markdown();

}  // namespace hocba::config
