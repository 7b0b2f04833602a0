// Test kit for batch jobs end to end (tests/appliance, bench/): hocbad behind our PKCS#11 test module
// (tests/p11test) as a slow, removable token, and the checks of signed records with pdfsig and qpdf.
#pragma once
#include <sys/stat.h>

#include <iostream>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "appliance.h"
#include "test_env.h"

namespace hocba::test {

// hocbad with the PKCS#11 test module in front of SoftHSM2: `sign_delay_ms` per signature on every
// token (each token signs on its own thread in hocbad, so two tokens sign at the same time), and a
// state file counting the logins and signatures the tokens saw.
struct SlowToken {
  TempDir dir;
  std::string conf = dir.file("p11test.conf");
  std::string state = dir.file("p11test.state");

  explicit SlowToken(int sign_delay_ms, const std::string& extra = "") {
    write_text(conf, "sign_delay_ms=" + std::to_string(sign_delay_ms) + "\nstate_file=" + state + "\n" + extra);
  }
  // `steps`: the [workflow] steps list, e.g. R"(["hieu_truong", "con_dau"])"; `more`: more TOML.
  ApplianceOptions options(const std::string& steps, const std::string& more = "") const {
    ApplianceOptions o;
    o.config_toml = std::string("[hsm]\nmodules = [\"") + HOCBA_P11TEST_MODULE + "\"]\n\n[workflow]\nsteps = " + steps + "\n" + more;
    o.extra_env = {"HOCBA_P11TEST_CONF=" + conf};
    return o;
  }
  // A counter of the state file ("sign_calls", "login_calls", "fails.SERIAL"); 0 when absent.
  long long counter(const std::string& name) const {
    struct stat st {};
    if (::stat(state.c_str(), &st) != 0) return 0;
    std::smatch m;
    std::string text = read_text(state);
    return std::regex_search(text, m, std::regex("(?:^|\n)" + std::regex_replace(name, std::regex(R"([.])"), R"(\.)") + R"(=(\d+))"))
               ? std::stoll(m[1])
               : 0;
  }
  long long sign_calls() const { return counter("sign_calls"); }
  long long login_calls() const { return counter("login_calls"); }
};

// The signed fields pdfsig lists (unsigned form fields left out), in the file's order: name, and
// whether it says the signature is valid.
inline std::vector<std::pair<std::string, bool>> signed_fields(const std::string& pdfsig_out) {
  std::vector<std::pair<std::string, bool>> out;
  std::vector<std::string> blocks;
  for (std::size_t p = pdfsig_out.find("Signature #"); p != std::string::npos;) {
    std::size_t next = pdfsig_out.find("Signature #", p + 1);
    blocks.push_back(pdfsig_out.substr(p, next == std::string::npos ? std::string::npos : next - p));
    p = next;
  }
  for (auto& b : blocks) {
    if (b.find("is not signed") != std::string::npos) continue;
    std::smatch m;
    std::string name = std::regex_search(b, m, std::regex(R"(Signature Field Name: (\S+))")) ? std::string(m[1]) : "?";
    out.emplace_back(name, b.find("Signature Validation: Signature is Valid.") != std::string::npos);
  }
  return out;
}

// `qpdf --check` on each file (one shell for all); the files it finds fault with (their output is
// printed).
inline std::vector<std::string> qpdf_check(const std::vector<std::string>& files, const std::string& tmp) {
  std::vector<std::string> bad;
  if (files.empty()) return bad;
  std::string list = tmp + "/qpdf-files.txt";
  std::string text;
  for (auto& f : files) text += f + "\n";
  write_text(list, text);
  auto r = run("while IFS= read -r f; do out=$(qpdf --check \"$f\" 2>&1) || printf 'BAD %s\\n%s\\n' \"$f\" \"$out\"; done < " + list);
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("BAD ", 0) == 0) bad.push_back(line.substr(4));
  if (!bad.empty()) std::cout << r.out.substr(0, 4000);
  return bad;
}

// pdfsig's output for each of `files` (one shell for all), by file.
inline std::vector<std::pair<std::string, std::string>> pdfsig_all(const std::vector<std::string>& files, const std::string& tmp) {
  std::string list = tmp + "/pdfsig-files.txt";
  std::string text;
  for (auto& f : files) text += f + "\n";
  write_text(list, text);
  auto r = run("while IFS= read -r f; do echo \"=== $f\"; pdfsig \"$f\" 2>&1; done < " + list);
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("=== ", 0) == 0) out.emplace_back(line.substr(4), "");
    else if (!out.empty()) out.back().second += line + "\n";
  }
  return out;
}

}  // namespace hocba::test
