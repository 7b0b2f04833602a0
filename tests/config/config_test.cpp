// The configuration table, reader and printer: defaults, every problem at once with its line,
// unknown keys, PINs refused, the shipped files, and the table == defaults.toml == docs.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "hocba/config/config.h"

using namespace hocba;
using namespace hocba::config;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// The keys a TOML file names, set or commented out ("# key = …"), as section.key; with `steps`, the
// properties of its [workflow.steps.NAME] tables as workflow.steps.NAME.property instead.
std::set<std::string> keys_in_file(const std::string& text, bool steps = false) {
  std::set<std::string> out;
  std::regex section(R"(^\[([a-z_.]+)\]\s*$)"), key(R"(^(?:# )?([a-z_]+) = )");
  std::istringstream in(text);
  std::string line, sec;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, section)) sec = m[1];
    else if (std::regex_search(line, m, key) && !sec.empty() && steps == (sec.rfind("workflow.steps.", 0) == 0))
      out.insert(sec + "." + std::string(m[1]));
  }
  return out;
}

}  // namespace

TEST(Config, EmptyFileGivesTheDefaults) {
  auto c = parse_config("");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->signing.level, "B-T");
  EXPECT_TRUE(c->signing.tsa_urls.empty());
  EXPECT_EQ(c->signing.hash, "sha256");
  EXPECT_EQ(c->signing.tsa_timeout_s, 180);
  EXPECT_EQ(c->signing.tsa_retries, 2);
  EXPECT_EQ(c->signing.tsa_max_concurrent, 4);
  EXPECT_EQ(c->signing.timestamp_workers, 32);
  EXPECT_EQ(c->signing.revocation, "require");
  EXPECT_EQ(c->signing.revocation_timeout_s, 15);
  EXPECT_FALSE(c->signing.offline_dir);
  EXPECT_EQ(c->signing.trust_dir, "/etc/hocba/trust");
  EXPECT_TRUE(c->signing.lock_fields);
  EXPECT_FALSE(c->signing.certify_first);
  EXPECT_FALSE(c->school.name);
  EXPECT_TRUE(c->given.empty());
}

TEST(Config, EveryTableKeyMapsToAField) {
  Config c = default_config();
  for (const auto& k : keys()) {
    EXPECT_EQ(get(c, k.name), k.default_value) << k.name;
    EXPECT_FALSE(k.doc.empty()) << k.name;
  }
}

TEST(Config, ValuesAreRead) {
  auto c = parse_config(R"(
[school]
name = "Trường Tiểu học Kim Đồng"
[signing]
level = "B-LTA"
tsa_urls = ["https://tsa.example.vn/tsr", "http://10.0.0.5:8080/tsa"]
hash = "sha512"
tsa_timeout_s = 600
tsa_retries = 0
tsa_max_concurrent = 64
offline_dir = "/var/lib/hocba/offline"
lock_fields = false
certify_first = true
)", "", Check::complete);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(*c->school.name, "Trường Tiểu học Kim Đồng");
  EXPECT_EQ(c->signing.level, "B-LTA");
  EXPECT_EQ(c->signing.tsa_urls.size(), 2u);
  EXPECT_EQ(c->signing.hash, "sha512");
  EXPECT_EQ(c->signing.tsa_timeout_s, 600);
  EXPECT_EQ(c->signing.tsa_retries, 0);
  EXPECT_EQ(c->signing.tsa_max_concurrent, 64);
  EXPECT_EQ(*c->signing.offline_dir, "/var/lib/hocba/offline");
  EXPECT_FALSE(c->signing.lock_fields);
  EXPECT_TRUE(c->signing.certify_first);
  EXPECT_TRUE(c->is_given("signing.hash"));
  EXPECT_FALSE(c->is_given("signing.revocation"));
}

TEST(Config, EveryProblemAtOnceWithKeyAndLine) {
  auto c = parse_config(R"([school]
name = ""
[signing]
level = "B-X"
tsa_urls = ["ftp://tsa.example.vn", 5]
hash = 256
tsa_timeout_s = -3
tsa_retries = 11
timestamp_workers = 1.5
revocation = "maybe"
lock_fields = "yes"
tsa_url = "http://x"
[sgning]
level = "B-B"
)", "school.toml");
  ASSERT_FALSE(c);
  const std::string& m = c.error().message;
  EXPECT_TRUE(has(m, "school.toml: 12 problems in the configuration:")) << m;
  EXPECT_TRUE(has(m, "school.name (line 2): is empty")) << m;
  EXPECT_TRUE(has(m, "signing.level (line 4): \"B-X\" is not one of \"B-B\", \"B-T\", \"B-LT\", \"B-LTA\"")) << m;
  EXPECT_TRUE(has(m, "signing.tsa_urls[0] (line 5): \"ftp://tsa.example.vn\" is not an http:// or https:// URL")) << m;
  EXPECT_TRUE(has(m, "signing.tsa_urls[1] (line 5): expected an http(s) URL, got an integer")) << m;
  EXPECT_TRUE(has(m, "signing.hash (line 6): expected one of \"sha256\", \"sha384\", \"sha512\", got an integer")) << m;
  EXPECT_TRUE(has(m, "signing.tsa_timeout_s (line 7): -3 is below 1")) << m;
  EXPECT_TRUE(has(m, "signing.tsa_retries (line 8): 11 is above 10")) << m;
  EXPECT_TRUE(has(m, "signing.timestamp_workers (line 9): expected an integer, got a number with a fraction")) << m;
  EXPECT_TRUE(has(m, "signing.revocation (line 10): \"maybe\" is not one of")) << m;
  EXPECT_TRUE(has(m, "signing.lock_fields (line 11): expected true or false, got a string")) << m;
  EXPECT_TRUE(has(m, "signing.tsa_url (line 12): unknown key; did you mean signing.tsa_urls?")) << m;
  EXPECT_TRUE(has(m, "[sgning] (line 13): unknown section; did you mean [signing]?")) << m;
  // In line order.
  EXPECT_LT(m.find("line 2)"), m.find("line 7)"));
  EXPECT_LT(m.find("line 7)"), m.find("line 13)"));
}

TEST(Config, TsaMaxConcurrentIsOneTo64) {
  auto low = parse_config("[signing]\ntsa_max_concurrent = 0\n");
  ASSERT_FALSE(low);
  EXPECT_TRUE(has(low.error().message, "signing.tsa_max_concurrent (line 2): 0 is below 1")) << low.error().message;
  auto high = parse_config("[signing]\ntsa_max_concurrent = 65\n");
  ASSERT_FALSE(high);
  EXPECT_TRUE(has(high.error().message, "signing.tsa_max_concurrent (line 2): 65 is above 64")) << high.error().message;
  auto one = parse_config("[signing]\ntsa_max_concurrent = 1\n");
  ASSERT_TRUE(one) << one.error().message;
  EXPECT_EQ(one->signing.tsa_max_concurrent, 1);
}

TEST(Config, UnknownKeysAreRejected) {
  auto c = parse_config("[signing]\nlevle = \"B-B\"\ncolour = \"blue\"\n[school]\nlevel = \"B-B\"\n");
  ASSERT_FALSE(c);
  const std::string& m = c.error().message;
  EXPECT_TRUE(has(m, "signing.levle (line 2): unknown key; did you mean signing.level?")) << m;
  EXPECT_TRUE(has(m, "signing.colour (line 3): unknown key")) << m;
  EXPECT_TRUE(has(m, "school.level (line 5): unknown key; did you mean signing.level?")) << m;
  auto top = parse_config("level = \"B-B\"\n");
  ASSERT_FALSE(top);
  EXPECT_TRUE(has(top.error().message, "level (line 1): unknown key (keys go in a section); did you mean signing.level?"))
      << top.error().message;
}

TEST(Config, NotTomlIsOneProblemWithItsLine) {
  auto c = parse_config("[signing]\nlevel = \"B-B\n", "x.toml");
  ASSERT_FALSE(c);
  EXPECT_TRUE(has(c.error().message, "x.toml: not valid TOML (line 2)")) << c.error().message;
}

TEST(Config, PinValuesAreRefusedAndNeverRepeated) {
  auto c = parse_config("[seal]\npin = \"123456\"\n[signing]\nuser_pin = 1234\nso_PIN = \"87654321\"\n");
  ASSERT_FALSE(c);
  const std::string& m = c.error().message;
  EXPECT_TRUE(has(m, "seal.pin (line 2): PINs are never written in the configuration; use pin_file or a systemd credential")) << m;
  EXPECT_TRUE(has(m, "signing.user_pin (line 4): PINs are never written in the configuration")) << m;
  EXPECT_TRUE(has(m, "signing.so_PIN (line 5): PINs are never written in the configuration")) << m;
  EXPECT_FALSE(has(m, "123456")) << m;
  EXPECT_FALSE(has(m, "1234\n")) << m;
  EXPECT_FALSE(has(m, "87654321")) << m;
  EXPECT_FALSE(has(m, "unknown section")) << m;  // the PIN problem is the one that matters
  // A path under a *pin key is not a PIN (but the key is still unknown here).
  auto p = parse_config("[signing]\nseal_pin = \"/run/credentials/hocbad.service/seal-pin\"\n");
  ASSERT_FALSE(p);
  EXPECT_FALSE(has(p.error().message, "PINs are never")) << p.error().message;
  EXPECT_TRUE(has(p.error().message, "signing.seal_pin (line 2): unknown key")) << p.error().message;
}

TEST(Config, CompleteCheckWantsATsaFromBT) {
  EXPECT_TRUE(parse_config("", "", Check::keys));
  auto c = parse_config("", "", Check::complete);
  ASSERT_FALSE(c);
  EXPECT_TRUE(has(c.error().message, "signing.tsa_urls: signing.level \"B-T\" needs at least one timestamp authority URL"))
      << c.error().message;
  EXPECT_TRUE(parse_config("[signing]\nlevel = \"B-B\"\n", "", Check::complete));
}

TEST(Config, DumpPrintsTheEffectiveConfigurationAndParsesBack) {
  auto c = parse_config("[school]\nname = \"Trường \\\"A\\\"\"\n[signing]\nhash = \"sha384\"\ntsa_urls = [\"http://tsa.example.vn\"]\n");
  ASSERT_TRUE(c) << c.error().message;
  std::string d = dump_config(*c);
  EXPECT_TRUE(has(d, "hash = \"sha384\"\n")) << d;
  EXPECT_TRUE(has(d, "tsa_timeout_s = 180  # default\n")) << d;
  EXPECT_TRUE(has(d, "# offline_dir = (not set)\n")) << d;
  EXPECT_TRUE(has(d, "[school]\n")) << d;
  auto back = parse_config(d);
  ASSERT_TRUE(back) << back.error().message << "\n" << d;
  for (const auto& k : keys()) EXPECT_EQ(get(*back, k.name), get(*c, k.name)) << k.name;
}

TEST(Config, ShippedFilesParseCleanly) {
  auto d = load_config(std::string(HOCBA_CONFIG_DIR) + "/defaults.toml");
  ASSERT_TRUE(d) << d.error().message;
  for (const auto& k : keys()) EXPECT_EQ(get(*d, k.name), k.default_value) << "defaults.toml disagrees with the table on " << k.name;
  EXPECT_EQ(d->workflow, default_config().workflow) << "defaults.toml disagrees with the built-in steps";
  auto s = load_config(std::string(HOCBA_CONFIG_DIR) + "/examples/school.toml", Check::complete);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->signing.level, "B-LT");
  EXPECT_FALSE(s->signing.tsa_urls.empty());
}

TEST(Config, TableAndDefaultsTomlListTheSameKeys) {
  std::set<std::string> table;
  for (const auto& k : keys()) table.insert(std::string(k.name));
  EXPECT_EQ(keys_in_file(slurp(std::string(HOCBA_CONFIG_DIR) + "/defaults.toml")), table);
}

TEST(Config, DefaultsTomlShowsEveryPropertyOfEveryBuiltInStep) {
  std::set<std::string> expected;
  for (const auto& s : default_config().workflow.step_defs)
    for (const auto& p : step_properties()) expected.insert("workflow.steps." + s.name + "." + std::string(p.name));
  EXPECT_EQ(keys_in_file(slurp(std::string(HOCBA_CONFIG_DIR) + "/defaults.toml"), true), expected);
}

TEST(Config, DocsHoldTheGeneratedKeyTable) {
  std::string doc = slurp(std::string(HOCBA_DOCS_DIR) + "/configuration.md");
  EXPECT_TRUE(has(doc, keys_markdown())) << "regenerate the table in docs/configuration.md with `hocba config keys`";
}

TEST(Config, MissingFileIsAnError) {
  auto c = load_config("/nonexistent/hocba.toml");
  ASSERT_FALSE(c);
  EXPECT_TRUE(has(c.error().message, "cannot read the configuration /nonexistent/hocba.toml"));
}
