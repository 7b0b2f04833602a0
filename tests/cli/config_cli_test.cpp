// `hocba config check` and `--config FILE` for sign: the file's [signing] keys fill in what the
// command line does not give; a command-line option wins.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "test_env.h"

using namespace hocba;

namespace {

std::string q(const std::string& s) { return "'" + s + "'"; }
bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

class ConfigCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tokens_ = new test::TempDir();
    test::provision_softhsm(tokens_->path());
    unsetenv("HOCBA_PKCS11_MODULES");
  }
  static void TearDownTestSuite() {
    delete tokens_;
    tokens_ = nullptr;
  }
  static test::CommandResult hocba(const std::string& args) { return test::run(std::string(HOCBA_CLI) + " " + args); }
  std::string write(const std::string& name, const std::string& text) {
    std::string p = dir_.file(name);
    std::ofstream(p) << text;
    return p;
  }
  // Signs cairo.pdf with GVCN-3A into OUT with the extra arguments; returns the command's result.
  test::CommandResult sign(const std::string& out, const std::string& extra) {
    return hocba("sign --in " + q(std::string(HOCBA_TEST_DATA) + "/pdf/cairo.pdf") + " --out " + q(out) + " --key " +
                 q("pkcs11:token=GVCN-3A;object=gvcn-3a?pin-source=file:" + tokens_->file("pins/GVCN-3A.pin")) + " " + extra);
  }
  // The first signature of OUT as `hocba verify --json` reports it.
  boost::json::object first_signature(const std::string& out) {
    auto v = hocba("verify --json " + q(out) + " 2>/dev/null");
    auto j = boost::json::parse(v.out).as_object();
    return j.at("signatures").as_array().at(0).as_object();
  }

  test::TempDir dir_;
  static test::TempDir* tokens_;
};
test::TempDir* ConfigCli::tokens_ = nullptr;

}  // namespace

TEST_F(ConfigCli, CheckPrintsTheEffectiveConfiguration) {
  auto r = hocba("config check " + q(write("ok.toml", "[school]\nname = \"Trường THCS Láng Hạ\"\n[signing]\nlevel = \"B-B\"\nhash = \"sha384\"\n")));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(has(r.out, "hash = \"sha384\"\n")) << r.out;
  EXPECT_TRUE(has(r.out, "tsa_timeout_s = 180  # default\n")) << r.out;
  EXPECT_TRUE(has(r.out, "name = \"Trường THCS Láng Hạ\"\n")) << r.out;

  auto ex = hocba("config check " + q(std::string(HOCBA_SOURCE_DIR) + "/firmware-config/examples/school.toml"));
  EXPECT_EQ(ex.status, 0) << ex.out;
}

TEST_F(ConfigCli, CheckListsEveryProblem) {
  std::string f = write("bad.toml", "[signing]\nlevel = \"B-T\"\ntsa_timeout_s = -3\nhash = \"md5\"\npin = \"123456\"\n");
  auto r = hocba("config check " + q(f));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_TRUE(has(r.out, "3 problems")) << r.out;
  EXPECT_TRUE(has(r.out, "signing.tsa_timeout_s (line 3): -3 is below 1")) << r.out;
  EXPECT_TRUE(has(r.out, "signing.hash (line 4): \"md5\" is not one of")) << r.out;
  EXPECT_TRUE(has(r.out, "signing.pin (line 5): PINs are never written in the configuration; use pin_file or a systemd credential")) << r.out;
  EXPECT_FALSE(has(r.out, "123456")) << r.out;
  // Keys valid, but B-T without a timestamp authority: the complete check says so.
  auto bt = hocba("config check " + q(write("bt.toml", "[signing]\nlevel = \"B-T\"\n")));
  EXPECT_EQ(bt.status, 1) << bt.out;
  EXPECT_TRUE(has(bt.out, "signing.tsa_urls: signing.level \"B-T\" needs at least one timestamp authority URL")) << bt.out;
}

TEST_F(ConfigCli, SignTakesLevelAndHashFromTheFileAndTheCommandLineWins) {
  std::string cfg = write("school.toml", "[signing]\nlevel = \"B-B\"\nhash = \"sha384\"\n");
  std::string out = dir_.file("a.pdf");
  auto r = sign(out, "--config " + q(cfg));
  ASSERT_EQ(r.status, 0) << r.out;
  auto s = first_signature(out);
  EXPECT_EQ(s.at("digest_algorithm").as_string(), "sha384");
  EXPECT_EQ(s.at("level").as_string(), "B-B");

  std::string out2 = dir_.file("b.pdf");
  auto r2 = sign(out2, "--config " + q(cfg) + " --hash sha512");
  ASSERT_EQ(r2.status, 0) << r2.out;
  EXPECT_EQ(first_signature(out2).at("digest_algorithm").as_string(), "sha512");
}

TEST_F(ConfigCli, DefaultLevelNeedsATsaUnlessTheCommandLineSaysOtherwise) {
  std::string cfg = write("plain.toml", "[school]\ncode = \"01000123\"\n");  // signing.level defaults to B-T
  auto r = sign(dir_.file("c.pdf"), "--config " + q(cfg));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_TRUE(has(r.out, "--level B-T needs --tsa URL (or signing.tsa_urls in " + cfg + ")")) << r.out;
  auto ok = sign(dir_.file("c.pdf"), "--config " + q(cfg) + " --level B-B");
  EXPECT_EQ(ok.status, 0) << ok.out;
  EXPECT_EQ(first_signature(dir_.file("c.pdf")).at("digest_algorithm").as_string(), "sha256");
}

TEST_F(ConfigCli, ABadFileStopsSigningWithEveryProblem) {
  std::string cfg = write("typo.toml", "[signing]\nlevle = \"B-B\"\ntsa_retries = 99\n");
  std::string out = dir_.file("d.pdf");
  auto r = sign(out, "--config " + q(cfg));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_TRUE(has(r.out, "signing.levle (line 2): unknown key; did you mean signing.level?")) << r.out;
  EXPECT_TRUE(has(r.out, "signing.tsa_retries (line 3): 99 is above 10")) << r.out;
  EXPECT_FALSE(std::filesystem::exists(out));
}
