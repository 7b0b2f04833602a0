// hocba: the command line of hocba-signer.
//
//   hocba token list [--module PATH]...
//   hocba key list [--module PATH]...
//   hocba sign --in IN.pdf --out OUT.pdf --key 'pkcs11:...' [--field NAME] [--reason TEXT] [--location TEXT]
//              [--pin-file FILE] [--chain FILE]... [--pss] [--hash sha256|sha384|sha512] [--confirm-pin-risk]
//              [--title TEXT] [--image SIGNATURE.png | --seal-image SEAL.png] [--no-lock] [--certify]
//              [--level B-B|B-T|B-LT|B-LTA] [--tsa URL]... [--tsa-timeout SECONDS] [--tsa-retries N]
//              [--trust CA.pem]... [--trust-dir DIR] [--revocation require|prefer|skip] [--offline-dir DIR]
//   hocba finish OUT.pdf.pending --out OUT.pdf [--tsa URL]... [--tsa-timeout SECONDS] [--tsa-retries N]
//              [--level B-B|B-T|B-LT|B-LTA] [--chain FILE]... [--trust CA.pem]... [--trust-dir DIR] [--revocation …] [--offline-dir DIR]
//   hocba extend FILE.pdf --out OUT.pdf --level B-LT|B-LTA [--tsa URL]... [--tsa-timeout SECONDS] [--tsa-retries N]
//              [--chain FILE]... [--trust CA.pem]... [--trust-dir DIR] [--revocation require|prefer|skip] [--offline-dir DIR]
//   hocba verify FILE.pdf [--trust CA.pem]... [--trust-dir DIR] [--json] [--lang vi|en]
//   hocba render --in CLASS.json --out DIR [--student ID] [--valid-only]
//   hocba export-xml FILE.pdf [--out FILE]
//   hocba config check FILE | hocba config keys
//   hocba audit verify --state-dir DIR | hocba audit export --state-dir DIR [--out FILE]
//   hocba user add --state-dir DIR --username U --role ROLE [--display-name NAME] [--password-file FILE]
//   hocba user list|role|disable|enable --state-dir DIR [--username U] [--role ROLE]
//   hocba key bind --state-dir DIR --key URI (--user U | --seal) [--module PATH]... | key unbind --id N | key bindings
//   hocba class homeroom --state-dir DIR --class-id N --username U
//   hocba class teacher --state-dir DIR --class-id N --subject NAME --username U
// sign, finish and extend take --config FILE: the appliance configuration (firmware-config/) fills in
// the options not given; a command-line option wins (docs/configuration.md).
//
// Exit status: 0 success, 1 failure, 2 usage error, 3 (verify) a signature is not valid,
// 3 (render) the class file has errors and nothing was rendered, 3 (audit verify) the audit chain is broken.
#include <sys/stat.h>
#include <unistd.h>

#include <pwd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"
#include "hocba/common/log.h"
#include "hocba/common/secret.h"
#include "hocba/common/bytes.h"
#include "hocba/net/http_client.h"
#include "hocba/store/keys.h"
#include "hocba/store/sheets.h"
#include "hocba/store/store.h"
#include "hocba/store/users.h"
#include "hocba/config/config.h"
#include "hocba/hsm/hsm.h"
#include "hocba/pdf/record.h"
#include "hocba/pdf/record_xml.h"
#include "hocba/pdf/render.h"
#include "hocba/pdf/signing.h"
#include "hocba/signer/key.h"
#include "hocba/signer/ltv.h"
#include "hocba/signer/pades.h"
#include "hocba/signer/report_text.h"
#include "hocba/signer/revocation.h"
#include "hocba/signer/timestamp.h"
#include "hocba/signer/verify.h"

namespace {

using namespace hocba;

constexpr const char* kDefaultModule = "/usr/lib/softhsm/libsofthsm2.so";

const char* kUsage =
    "usage:\n"
    "  hocba token list [--module PATH]...\n"
    "  hocba key list [--module PATH]...\n"
    "  hocba sign --in IN.pdf --out OUT.pdf --key 'pkcs11:token=...;object=...' [--field NAME]\n"
    "             [--reason TEXT] [--location TEXT] [--pin-file FILE] [--chain FILE]... [--pss]\n"
    "             [--hash sha256|sha384|sha512] [--confirm-pin-risk] [--module PATH]...\n"
    "             [--title TEXT] [--image SIGNATURE.png | --seal-image SEAL.png] [--no-lock] [--certify]\n"
    "             [--level B-B|B-T|B-LT|B-LTA] [--tsa URL]... [--tsa-timeout SECONDS (180)] [--tsa-retries N (2)]\n"
    "             [--trust CA.pem]... [--trust-dir DIR] [--revocation require|prefer|skip] [--offline-dir DIR]\n"
    "  hocba finish OUT.pdf.pending --out OUT.pdf [--tsa URL]... [--tsa-timeout SECONDS] [--tsa-retries N]\n"
    "             [--level B-B|B-T|B-LT|B-LTA] [--chain FILE]... [--trust CA.pem]... [--trust-dir DIR]\n"
    "             [--revocation require|prefer|skip] [--offline-dir DIR]\n"
    "  hocba extend FILE.pdf --out OUT.pdf --level B-LT|B-LTA [--tsa URL]... [--tsa-timeout SECONDS]\n"
    "             [--tsa-retries N] [--chain FILE]... [--trust CA.pem]... [--trust-dir DIR]\n"
    "             [--revocation require|prefer|skip] [--offline-dir DIR]\n"
    "  hocba verify FILE.pdf [--trust CA.pem]... [--trust-dir DIR] [--json] [--lang vi|en]\n"
    "  hocba render --in CLASS.json --out DIR [--student ID] [--valid-only]\n"
    "  hocba export-xml FILE.pdf [--out FILE]   (the record's XML, hocba-record.xml, byte for byte; stdout without --out)\n"
    "  hocba config check FILE    (prints the effective configuration, or every problem)\n"
    "  hocba config keys          (the configuration keys, as a Markdown table)\n"
    "  hocba audit verify --state-dir DIR    (exit 3 when the audit chain is broken)\n"
    "  hocba audit export --state-dir DIR [--out FILE]    (JSON Lines)\n"
    "  hocba user add --state-dir DIR --username U --role admin|principal|deputy_principal|homeroom_teacher|subject_teacher|viewer\n"
    "             [--display-name NAME] [--password-file FILE]   (else the password is asked on the terminal)\n"
    "  hocba user list --state-dir DIR\n"
    "  hocba user role --state-dir DIR --username U --role ROLE | user disable|enable --state-dir DIR --username U\n"
    "  hocba key bind --state-dir DIR --key URI (--user U | --seal) [--module PATH]...   (the key must be on its token)\n"
    "  hocba key unbind --state-dir DIR --id N | hocba key bindings --state-dir DIR\n"
    "  hocba class homeroom --state-dir DIR --class-id N --username U\n"
    "  hocba class teacher --state-dir DIR --class-id N --subject NAME --username U\n"
    "sign, finish and extend take --config FILE: its [signing] keys fill in the options not given on the\n"
    "command line (command line > configuration file > built-in default; sign also takes --no-certify).\n"
    "The PIN comes from the key URI's pin-source=file:PATH, --pin-file FILE, or a prompt on the terminal;\n"
    "never from an argument. Modules: --module, else $HOCBA_PKCS11_MODULES (':'-separated), else SoftHSM2.\n"
    "--revocation defaults to require for B-LT and B-LTA, and to skip (no check) for B-B and B-T.\n";

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> opts;  // --name -> values ("" for flags)
  bool has(const std::string& k) const { return opts.count(k) > 0; }
  std::string get(const std::string& k, const std::string& def = "") const {
    auto it = opts.find(k);
    return it == opts.end() || it->second.empty() ? def : it->second.back();
  }
  std::vector<std::string> all(const std::string& k) const {
    auto it = opts.find(k);
    return it == opts.end() ? std::vector<std::string>{} : it->second;
  }
};

struct UsageError {
  std::string msg;
};

Args parse(int argc, char** argv, int start, const std::vector<std::string>& with_value,
           const std::vector<std::string>& flags) {
  Args a;
  for (int i = start; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) == 0) {
      std::string name = s.substr(2), value;
      bool inline_value = false;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        inline_value = true;
      }
      if (name == "password") throw UsageError{"passwords are never given as arguments: use --password-file FILE or the prompt"};
      if (name == "pin") throw UsageError{"PINs are never given as arguments: use --pin-file FILE, pin-source in the key URI, or the prompt"};
      bool takes = std::find(with_value.begin(), with_value.end(), name) != with_value.end();
      bool flag = std::find(flags.begin(), flags.end(), name) != flags.end();
      if (!takes && !flag) throw UsageError{"unknown option --" + name};
      if (takes && !inline_value) {
        if (i + 1 >= argc) throw UsageError{"--" + name + " needs a value"};
        value = argv[++i];
      }
      a.opts[name].push_back(value);
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

// --config FILE could not be used: exit 1 with every problem listed.
struct ConfigFailure {
  std::string msg;
};

// --config FILE: the configuration's [signing] keys fill in the options not given on the command line
// (command line > configuration file > built-in default; docs/configuration.md). `cmd` is sign, finish
// or extend. Revocation is filled in only when the file sets it (B-B and B-T do not check by default),
// the trust folder only when the file sets it or the default folder exists.
Args with_config(Args a, const std::string& cmd) {
  if (!a.has("config")) return a;
  auto cfg = config::load_config(a.get("config"));
  if (!cfg) throw ConfigFailure{cfg.error().message};
  const auto& s = cfg->signing;
  auto fill = [&](const std::string& opt, const std::string& v) {
    if (!a.has(opt)) a.opts[opt].push_back(v);
  };
  bool long_term = s.level == "B-LT" || s.level == "B-LTA";
  if (cmd == "sign" && !a.has("level") && !(a.has("tsa") && s.level == "B-B")) fill("level", s.level);
  if (cmd == "extend" && !a.has("level") && long_term) fill("level", s.level);
  std::string level = a.get("level", "B-B");
  if (!a.has("tsa") && !s.tsa_urls.empty()) {
    if (cmd == "finish") a.opts["config-tsa"] = s.tsa_urls;  // before the URLs recorded in the pending file
    else if ((cmd == "sign" && level != "B-B") || (cmd == "extend" && level == "B-LTA")) a.opts["tsa"] = s.tsa_urls;
  }
  fill("tsa-timeout", std::to_string(s.tsa_timeout_s));
  fill("tsa-retries", std::to_string(s.tsa_retries));
  fill("revocation-timeout", std::to_string(s.revocation_timeout_s));
  if (cfg->is_given("signing.revocation")) fill("revocation", s.revocation);
  if (s.offline_dir) fill("offline-dir", *s.offline_dir);
  std::error_code ec;
  if (cfg->is_given("signing.trust_dir") || std::filesystem::is_directory(s.trust_dir, ec)) fill("trust-dir", s.trust_dir);
  if (cmd == "sign") {
    fill("hash", s.hash);
    if (!s.lock_fields && !a.has("lock")) fill("no-lock", "");
    if (s.certify_first && !a.has("no-certify")) fill("certify", "");
  }
  return a;
}

// hocba config check FILE: the effective configuration (stdout, exit 0) or every problem (stderr, exit 1).
// hocba config keys: the table of keys in Markdown (docs/configuration.md).
int cmd_config(const Args& a, const std::string& sub) {
  if (sub == "keys") {
    if (!a.positional.empty()) throw UsageError{"config keys takes no argument"};
    std::fputs(config::keys_markdown().c_str(), stdout);
    return 0;
  }
  if (a.positional.size() != 1) throw UsageError{"config check needs exactly one FILE"};
  auto cfg = config::load_config(a.positional[0], config::Check::complete);
  if (!cfg) {
    std::fprintf(stderr, "hocba: %s\n", cfg.error().message.c_str());
    return 1;
  }
  std::fputs(config::dump_config(*cfg).c_str(), stdout);
  return 0;
}

int fail(const Error& e) {
  std::fprintf(stderr, "hocba: %s\n", e.message.c_str());
  return 1;
}

Status load_modules(hsm::Hsm& h, const Args& a) {
  std::vector<std::string> mods = a.all("module");
  if (mods.empty()) {
    if (const char* env = std::getenv("HOCBA_PKCS11_MODULES"); env && *env) {
      std::string s = env;
      std::size_t start = 0;
      while (start <= s.size()) {
        auto p = s.find(':', start);
        if (p == std::string::npos) p = s.size();
        if (p > start) mods.push_back(s.substr(start, p - start));
        start = p + 1;
      }
    } else {
      mods.push_back(kDefaultModule);
    }
  }
  for (const auto& m : mods)
    if (auto st = h.load_module(m); !st) return st;
  return {};
}

std::string flags_of(const hsm::TokenInfo& t) {
  std::string f;
  auto add = [&](bool b, const char* n) {
    if (!b) return;
    if (!f.empty()) f += ",";
    f += n;
  };
  add(t.login_required, "login-required");
  add(t.pin_count_low, "pin-count-low");
  add(t.pin_final_try, "pin-final-try");
  add(t.pin_locked, "PIN-LOCKED");
  add(t.pin_to_be_changed, "pin-to-be-changed");
  add(!t.initialized, "not-initialized");
  return f.empty() ? "-" : f;
}

int cmd_token_list(const Args& a) {
  hsm::Hsm h;
  if (auto st = load_modules(h, a); !st) return fail(st.error());
  auto toks = h.tokens();
  if (!toks) return fail(toks.error());
  std::string module;
  for (const auto& t : *toks) {
    if (t.module != module) {
      module = t.module;
      std::printf("module %s\n", module.c_str());
    }
    if (!t.present) {
      std::printf("  slot %lu: no token (%s)\n", t.slot_id, t.slot_description.c_str());
      continue;
    }
    std::printf("  slot %lu: token \"%s\" serial %s model %s manufacturer %s flags %s%s\n    %s\n", t.slot_id,
                t.label.c_str(), t.serial.c_str(), t.model.c_str(), t.manufacturer.c_str(), flags_of(t).c_str(),
                t.hocba_failures ? (" wrong-pins-counted=" + std::to_string(t.hocba_failures)).c_str() : "",
                t.uri.c_str());
  }
  return 0;
}

int cmd_key_list(const Args& a) {
  hsm::Hsm h;
  if (auto st = load_modules(h, a); !st) return fail(st.error());
  auto objs = h.objects();
  if (!objs) return fail(objs.error());
  for (const auto& o : *objs) {
    if (o.kind == hsm::ObjectInfo::Kind::private_key) {
      std::string alg = o.algorithm == hsm::KeyAlgorithm::rsa  ? "RSA-" + std::to_string(o.bits)
                        : o.algorithm == hsm::KeyAlgorithm::ec ? "EC " + (o.curve.empty() ? std::to_string(o.bits) : o.curve)
                                                               : "other";
      std::printf("key   %-14s %-12s id=%s label=\"%s\"%s\n      %s\n", o.token_label.c_str(), alg.c_str(),
                  to_hex(o.id).c_str(), o.label.c_str(),
                  o.has_certificate ? (" subject=\"" + o.subject + "\"").c_str() : " (no certificate)", o.uri.c_str());
    } else {
      std::printf("cert  %-14s %-12s id=%s label=\"%s\" subject=\"%s\"\n", o.token_label.c_str(), "", to_hex(o.id).c_str(),
                  o.label.c_str(), o.subject.c_str());
    }
  }
  return 0;
}

Result<std::vector<Bytes>> load_cert_files(const std::vector<std::string>& files) {
  std::vector<Bytes> out;
  for (const auto& f : files) {
    auto data = read_file(f, 1 << 22);
    if (!data) return data.error();
    auto certs = signer::load_certificates(*data, f);
    if (!certs) return certs.error();
    out.insert(out.end(), certs->begin(), certs->end());
  }
  return out;
}

// --tsa-timeout SECONDS (default 180) and --tsa-retries N (default 2: 3 tries in all) for `urls`; the
// defaults are signing.tsa_timeout_s and signing.tsa_retries's. One process asks for one timestamp at
// a time, so signing.tsa_max_concurrent (the client's default, 4) never binds here.
signer::TimestampClientOptions tsa_options(const Args& a, std::vector<std::string> urls) {
  signer::TimestampClientOptions o;
  for (const auto& u : urls)
    if (auto parsed = net::parse_url(u); !parsed) throw UsageError{"--tsa: " + parsed.error().message};
  o.urls = std::move(urls);
  double secs = 0;
  int retries = -1;
  try {
    secs = std::stod(a.get("tsa-timeout", "180"));
    retries = std::stoi(a.get("tsa-retries", "2"));
  } catch (const std::exception&) {
  }
  if (!(secs > 0 && secs <= 600)) throw UsageError{"--tsa-timeout must be a number of seconds, more than 0 and at most 600"};
  if (retries < 0 || retries > 10) throw UsageError{"--tsa-retries must be 0 to 10"};
  o.timeout = std::chrono::milliseconds(static_cast<long long>(secs * 1000));
  o.retries = retries;
  return o;
}

// --level: B-B, B-T (the default when --tsa is given), B-LT or B-LTA.
signer::Level level_option(const Args& a, signer::Level def) {
  auto level = signer::parse_level(a.get("level", signer::level_name(a.has("tsa") && def == signer::Level::B_B ? signer::Level::B_T : def)));
  if (!level) throw UsageError{"--level must be B-B, B-T, B-LT or B-LTA"};
  if (*level == signer::Level::B_B && a.has("tsa")) throw UsageError{"--tsa is for --level B-T and above"};
  return *level;
}

// Every certificate (.pem, .crt, .cer, .der) in a folder: "trust anchors come from a configured folder".
Result<std::vector<Bytes>> load_cert_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return make_error(Errc::io, "cannot read the folder " + dir + ": " + ec.message());
  std::vector<std::string> files;
  for (const auto& e : it) {
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (e.is_regular_file(ec) && (ext == ".pem" || ext == ".crt" || ext == ".cer" || ext == ".der")) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) return make_error(Errc::not_found, "the folder " + dir + " holds no certificate file (.pem, .crt, .cer, .der)");
  return load_cert_files(files);
}

// --trust FILE... and --trust-dir DIR.
Result<std::vector<Bytes>> trust_anchors(const Args& a) {
  auto anchors = load_cert_files(a.all("trust"));
  if (!anchors) return anchors.error();
  for (const auto& d : a.all("trust-dir")) {
    auto more = load_cert_dir(d);
    if (!more) return more.error();
    anchors->insert(anchors->end(), more->begin(), more->end());
  }
  return anchors;
}

// Revocation and long-term validation settings from --revocation, --offline-dir, --trust,
// --trust-dir and --chain. The policy defaults to require for B-LT/B-LTA and to skip below.
struct LtvSetup {
  std::unique_ptr<signer::RevocationChecker> checker;
  signer::LtvOptions opts;
  bool active() const { return opts.revocation && opts.policy != signer::RevocationPolicy::skip; }
};

Result<std::unique_ptr<LtvSetup>> ltv_setup(const Args& a, signer::Level level, signer::Fetcher& http, std::vector<Bytes> extra) {
  auto s = std::make_unique<LtvSetup>();
  bool long_term = level == signer::Level::B_LT || level == signer::Level::B_LTA;
  auto policy = signer::parse_policy(a.get("revocation", long_term ? "require" : "skip"));
  if (!policy) throw UsageError{"--revocation must be require, prefer or skip"};
  s->opts.policy = *policy;
  signer::RevocationOptions ro;
  ro.offline_dir = a.get("offline-dir");
  if (a.has("revocation-timeout")) ro.timeout = std::chrono::seconds(std::stoll(a.get("revocation-timeout")));  // --config
  // --offline-dir: the pre-fetched files only, no network.
  s->checker = std::make_unique<signer::RevocationChecker>(ro.offline_dir.empty() ? &http : nullptr, ro);
  if (auto st = s->checker->load_offline(); !st) return st.error();
  s->opts.revocation = s->checker.get();
  auto anchors = trust_anchors(a);
  if (!anchors) return anchors.error();
  s->opts.trust_anchors = std::move(*anchors);
  s->opts.extra_certs = std::move(extra);
  return s;
}

void print_warnings(const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) std::fprintf(stderr, "hocba: warning: %s\n", w.c_str());
}

// The TSA did not give a timestamp: the signature is kept, not lost (OUT.pending, `hocba finish`).
int keep_pending(const signer::PendingSignature& p, const std::string& out, const Error& e) {
  std::string path = out + ".pending";
  if (auto st = write_file_atomic(path, p.serialize(), 0600); !st)
    return fail(make_error(e.code, e.message + "; the signature could not be kept either: " + st.error().message));
  return fail(make_error(e.code, e.message + "; " + out + " not written, the signature is kept in " + path +
                                     ": complete it with `hocba finish " + path + " --out " + out + "`"));
}

std::string timestamp_note(const signer::TimestampToken& t) {
  return ", PAdES B-T, timestamp " + signer::iso_time(t.gen_time, 7 * 60) + " by " + t.tsa_name;
}

int cmd_sign(const Args& a) {
  for (const char* req : {"in", "out", "key"})
    if (!a.has(req)) throw UsageError{std::string("sign needs --") + req};
  std::string in = a.get("in"), out = a.get("out");
  auto uri = hsm::Pkcs11Uri::parse(a.get("key"));
  if (!uri) return fail(uri.error());
  auto pdf = read_file(in);
  if (!pdf) return fail(pdf.error());
  auto extra = load_cert_files(a.all("chain"));
  if (!extra) return fail(extra.error());

  signer::PadesOptions opts;
  opts.field_name = a.get("field");
  opts.reason = a.get("reason");
  opts.location = a.get("location");
  opts.extra_certs = *extra;
  std::string hash = a.get("hash", "sha256");
  if (hash == "sha256") opts.hash = signer::Hash::sha256;
  else if (hash == "sha384") opts.hash = signer::Hash::sha384;
  else if (hash == "sha512") opts.hash = signer::Hash::sha512;
  else throw UsageError{"--hash must be sha256, sha384 or sha512"};
  if (a.has("image") && a.has("seal-image")) throw UsageError{"--image and --seal-image exclude each other"};
  if (a.has("image") || a.has("seal-image") || a.has("title")) {
    signer::VisibleSignature vis;
    vis.title = a.get("title");
    vis.seal = a.has("seal-image");
    std::string img = a.get(vis.seal ? "seal-image" : "image");
    if (!img.empty()) {
      auto png = read_file(img, 8u << 20);
      if (!png) return fail(png.error());
      vis.image_png = std::move(*png);
    }
    opts.appearance = std::move(vis);
  }
  // Each signature locks what it vouches for (FieldMDP: this field and those signed before it), unless --no-lock.
  if (a.has("lock") && a.has("no-lock")) throw UsageError{"--lock and --no-lock exclude each other"};
  opts.lock_signed_fields = !a.has("no-lock");
  if (a.has("certify") && a.has("no-certify")) throw UsageError{"--certify and --no-certify exclude each other"};
  if (a.has("certify")) opts.certify_p = 2;
  opts.level = level_option(a, signer::Level::B_B);
  if (opts.level != signer::Level::B_B && !a.has("tsa"))
    throw UsageError{std::string("--level ") + signer::level_name(opts.level) + " needs --tsa URL" +
                     (a.has("config") ? " (or signing.tsa_urls in " + a.get("config") + ")" : "")};
  net::HttpClient http;
  signer::TimestampClient tsa(http, tsa_options(a, a.all("tsa")));
  if (opts.level != signer::Level::B_B) opts.timestamps = &tsa;

  hsm::Hsm h;
  if (!uri->module_path || a.has("module"))
    if (auto st = load_modules(h, a); !st) return fail(st.error());
  auto key = h.find_key(*uri);
  if (!key) return fail(key.error());
  if (a.has("pss")) {
    if (key->algorithm != hsm::KeyAlgorithm::rsa) return fail(make_error(Errc::invalid_argument, "--pss needs an RSA key"));
    opts.scheme = signer::Scheme::rsa_pss;
  }

  // The PIN: pin-source, --pin-file, or the terminal. Never an argument.
  Secret pin;
  std::string err;
  if (uri->pin_source) {
    auto path = uri->pin_file();
    if (!path) return fail(path.error());
    if (!Secret::from_file(*path, pin, err)) return fail(make_error(Errc::io, err));
  } else if (a.has("pin-file")) {
    if (!Secret::from_file(a.get("pin-file"), pin, err)) return fail(make_error(Errc::io, err));
  } else if (!Secret::from_terminal("PIN for token \"" + key->token_label + "\": ", pin, err)) {
    return fail(make_error(Errc::pin_required, err));
  }

  // Revocation: checked before signing (a revoked certificate never signs) for B-LT/B-LTA, or
  // whenever --revocation asks; the same answers then go into the DSS.
  std::vector<Bytes> chain_certs = key->ca_certs;
  chain_certs.insert(chain_certs.end(), extra->begin(), extra->end());
  auto ltv = ltv_setup(a, opts.level, http, chain_certs);
  if (!ltv) return fail(ltv.error());
  (*ltv)->opts.timestamps = &tsa;
  if ((*ltv)->active() || opts.level == signer::Level::B_LT || opts.level == signer::Level::B_LTA) opts.ltv = &(*ltv)->opts;

  signer::TokenSignOptions topts;
  topts.pin = &pin;
  topts.confirm_pin_risk = a.has("confirm-pin-risk");
  auto sk = signer::token_key(h, *key, topts);
  // Sign now; B-T and above: then ask the TSA, and keep the signature in OUT.pending if it gives nothing.
  auto pending = signer::prepare_and_sign(*pdf, *sk, opts);
  pin.clear();
  if (!pending) {
    if (pending.error().code == Errc::pin_needs_confirm)
      return fail(make_error(Errc::pin_needs_confirm, pending.error().message + "; add --confirm-pin-risk if you are sure of the PIN"));
    return fail(pending.error());
  }
  print_warnings(pending->warnings);
  pending->warnings.clear();
  std::optional<Bytes> token;
  std::string note;
  if (opts.level != signer::Level::B_B) {
    auto t = tsa.timestamp(pending->signature_value);
    if (!t) return keep_pending(*pending, out, t.error());
    token = std::move(t->der);
    note = timestamp_note(*t);
  }
  auto signed_pdf = signer::finish(*pending, token, opts.ltv);
  if (!signed_pdf) return token ? keep_pending(*pending, out, signed_pdf.error()) : fail(signed_pdf.error());
  print_warnings(signed_pdf->warnings);
  if (signed_pdf->level != signer::Level::B_B && signed_pdf->level != signer::Level::B_T)
    note.replace(note.find("B-T"), 3, signer::level_name(signed_pdf->level));
  else if (signed_pdf->level != opts.level)
    note += "; " + std::string(signer::level_name(opts.level)) + " not reached: validation data incomplete (see the warnings)";
  if (auto st = write_file_atomic(out, signed_pdf->pdf); !st) return fail(st.error());
  std::fprintf(stderr, "hocba: signed %s -> %s (field \"%s\", key %s%s)\n", in.c_str(), out.c_str(),
               signed_pdf->field_name.c_str(), key->uri.c_str(), note.c_str());
  return 0;
}

// Completes a pending signature (saved by `sign` when the TSA gave no timestamp): asks the TSA
// again (--tsa, else the URLs recorded at signing), or with --level B-B embeds it without one.
int cmd_finish(const Args& a) {
  if (a.positional.size() != 1) throw UsageError{"finish needs exactly one OUT.pdf.pending file"};
  if (!a.has("out")) throw UsageError{"finish needs --out"};
  std::string path = a.positional[0], out = a.get("out");
  auto data = read_file(path);
  if (!data) return fail(data.error());
  auto pending = signer::PendingSignature::parse(*data);
  if (!pending) return fail(make_error(pending.error().code, path + ": " + pending.error().message));
  signer::Level level = level_option(a, pending->level);
  std::vector<std::string> urls = a.has("tsa") ? a.all("tsa") : a.has("config-tsa") ? a.all("config-tsa") : pending->tsa_urls;
  if (level != signer::Level::B_B && urls.empty()) throw UsageError{"no timestamp authority recorded in " + path + ": give --tsa URL"};
  auto topts = tsa_options(a, urls);
  topts.hash = pending->timestamp_hash;
  pending->level = level;
  net::HttpClient http;
  signer::TimestampClient tsa(http, topts);
  auto extra = load_cert_files(a.all("chain"));
  if (!extra) return fail(extra.error());
  auto ltv = ltv_setup(a, level, http, *extra);
  if (!ltv) return fail(ltv.error());
  (*ltv)->opts.timestamps = &tsa;
  std::optional<Bytes> token;
  std::string note;
  if (level != signer::Level::B_B) {
    auto t = tsa.timestamp(pending->signature_value);
    if (!t) return fail(make_error(t.error().code, t.error().message + "; " + path + " is kept: try again later"));
    token = std::move(t->der);
    note = timestamp_note(*t);
  }
  auto signed_pdf = signer::finish(std::move(*pending), token, &(*ltv)->opts);
  if (!signed_pdf) return fail(make_error(signed_pdf.error().code, signed_pdf.error().message + "; " + path + " is kept"));
  print_warnings(signed_pdf->warnings);
  if (signed_pdf->level != signer::Level::B_B && signed_pdf->level != signer::Level::B_T)
    note.replace(note.find("B-T"), 3, signer::level_name(signed_pdf->level));
  if (auto st = write_file_atomic(out, signed_pdf->pdf); !st) return fail(st.error());
  std::remove(path.c_str());
  std::fprintf(stderr, "hocba: finished %s -> %s (field \"%s\"%s)\n", path.c_str(), out.c_str(),
               signed_pdf->field_name.c_str(), note.empty() ? ", PAdES B-B" : note.c_str());
  return 0;
}

int cmd_verify(const Args& a) {
  if (a.positional.size() != 1) throw UsageError{"verify needs exactly one FILE.pdf"};
  auto lang = signer::parse_lang(a.has("lang") ? a.get("lang") : "en");
  if (!lang) throw UsageError{"verify: --lang must be vi or en"};
  auto pdf = read_file(a.positional[0]);
  if (!pdf) return fail(pdf.error());
  auto anchors = trust_anchors(a);
  if (!anchors) return fail(anchors.error());
  auto rep = signer::verify_pdf(*pdf, *anchors);
  if (!rep) return fail(rep.error());
  if (a.has("json")) std::printf("%s\n", signer::to_json(*rep).c_str());
  else std::printf("%s", signer::to_text(*rep, *lang).c_str());
  return rep->all_valid ? 0 : 3;
}

// Adds long-term validation data (B-LT) for every signature of a signed record, and with B-LTA an
// archive timestamp over it (again later to renew it).
int cmd_extend(const Args& a) {
  if (a.positional.size() != 1) throw UsageError{"extend needs exactly one FILE.pdf"};
  if (!a.has("out")) throw UsageError{"extend needs --out"};
  if (!a.has("level")) throw UsageError{"extend needs --level B-LT or B-LTA"};
  auto level = signer::parse_level(a.get("level"));
  if (!level || (*level != signer::Level::B_LT && *level != signer::Level::B_LTA)) throw UsageError{"extend: --level must be B-LT or B-LTA"};
  if (*level == signer::Level::B_LTA && !a.has("tsa")) throw UsageError{"--level B-LTA needs --tsa URL (the archive timestamp)"};
  if (*level == signer::Level::B_LT && a.has("tsa")) throw UsageError{"--tsa is for --level B-LTA (B-LT adds no timestamp)"};
  std::string in = a.positional[0], out = a.get("out");
  auto pdf = read_file(in);
  if (!pdf) return fail(pdf.error());
  auto extra = load_cert_files(a.all("chain"));
  if (!extra) return fail(extra.error());
  net::HttpClient http;
  signer::TimestampClient tsa(http, tsa_options(a, a.all("tsa")));
  auto ltv = ltv_setup(a, *level, http, *extra);
  if (!ltv) return fail(ltv.error());
  if (*level == signer::Level::B_LTA) (*ltv)->opts.timestamps = &tsa;
  auto ext = signer::extend(*pdf, *level, (*ltv)->opts);
  if (!ext) return fail(make_error(ext.error().code, ext.error().message + "; " + out + " not written"));
  print_warnings(ext->warnings);
  if (auto st = write_file_atomic(out, ext->pdf); !st) return fail(st.error());
  std::string what = ext->complete ? "PAdES " + std::string(signer::level_name(ext->level))
                                   : std::string(signer::level_name(*level)) + " not reached: validation data incomplete (see the warnings)";
  std::string ts = ext->archive_timestamp ? ", archive timestamp " + signer::iso_time(ext->archive_timestamp->gen_time, 7 * 60) + " by " +
                                                ext->archive_timestamp->tsa_name + " in field \"" + ext->archive_field + "\""
                                          : "";
  std::fprintf(stderr, "hocba: extended %s -> %s (%s; %zu signature(s), %zu certificate(s), %zu OCSP response(s), %zu CRL(s)%s)\n",
               in.c_str(), out.c_str(), what.c_str(), ext->signatures, ext->certs, ext->ocsps, ext->crls, ts.c_str());
  return 0;
}

// mkdir -p
// The output folder and its new parents, synced into their parents (common/fileio.h).
Status make_dirs(const std::string& dir) { return make_dirs_durable(dir, 0755); }

// One PDF per student: <personal_id>.pdf in DIR, written atomically. Every error and warning of the
// class file is printed; with errors nothing is rendered (exit 3) unless --valid-only.
int cmd_render(const Args& a) {
  for (const char* req : {"in", "out"})
    if (!a.has(req)) throw UsageError{std::string("render needs --") + req};
  if (!a.positional.empty()) throw UsageError{"render takes no positional argument (\"" + a.positional[0] + "\")"};
  std::string in = a.get("in"), dir = a.get("out"), only = a.get("student");
  bool valid_only = a.has("valid-only");
  auto json = read_file(in, std::size_t(64) << 20);
  if (!json) return fail(json.error());
  auto parsed = pdf::parse_class(std::string_view(reinterpret_cast<const char*>(json->data()), json->size()));
  if (!parsed) return fail(make_error(parsed.error().code, in + ": " + parsed.error().message));
  const pdf::ClassFile& cf = *parsed;
  for (const auto& e : cf.errors) std::fprintf(stderr, "error: %s\n", e.to_string().c_str());
  for (const auto& w : cf.warnings) std::fprintf(stderr, "warning: %s\n", w.to_string().c_str());

  std::vector<const pdf::Student*> todo;
  for (const auto& s : cf.students)
    if (only.empty() || s.personal_id == only) todo.push_back(&s);
  bool only_rejected = false;  // --student names a student whose record has errors
  if (!only.empty() && todo.empty()) {
    for (const auto& e : cf.errors)
      if (e.student_id == only) only_rejected = true;
    if (!only_rejected) return fail(make_error(Errc::not_found, "no student with personal ID " + only + " in " + in));
  }
  if (!cf.class_ok() || only_rejected || (!cf.errors.empty() && !valid_only)) {
    std::fprintf(stderr, "hocba: %zu error(s) in %s%s; nothing rendered%s\n", cf.errors.size(), in.c_str(),
                 cf.class_ok() ? "" : " (class-level)",
                 cf.class_ok() && !only_rejected ? " (fix them, or add --valid-only to render the students without errors)" : "");
    return 3;
  }
  if (auto st = make_dirs(dir); !st) return fail(st.error());

  bool tty = ::isatty(2) == 1;
  std::size_t rendered = 0, failed = 0;
  std::map<std::string, std::size_t> reasons;  // failure message -> count
  for (std::size_t i = 0; i < todo.size(); ++i) {
    const pdf::Student& s = *todo[i];
    if (tty) {
      constexpr int kWidth = 30;
      int done = static_cast<int>((i * kWidth) / todo.size());
      std::fprintf(stderr, "\r[%s%s] %zu/%zu %s\x1b[K", std::string(static_cast<std::size_t>(done), '#').c_str(),
                   std::string(static_cast<std::size_t>(kWidth - done), ' ').c_str(), i + 1, todo.size(), s.full_name.c_str());
      std::fflush(stderr);
    }
    auto doc = pdf::render_record(cf.info, s);
    Status st = doc ? write_file_atomic(dir + "/" + s.personal_id + ".pdf", *doc) : Status(doc.error());
    if (st) {
      ++rendered;
    } else {
      ++failed;
      ++reasons[st.error().message];
      if (tty) std::fputs("\r\x1b[K", stderr);
      std::fprintf(stderr, "hocba: %s (%s): %s\n", s.full_name.c_str(), s.personal_id.c_str(), st.error().message.c_str());
    }
  }
  if (tty) std::fputs("\r\x1b[K", stderr);
  std::size_t with_errors = only.empty() ? cf.rejected.size() : 0;
  std::string why;
  auto add = [&](const std::string& r) { why += (why.empty() ? "" : "; ") + r; };
  if (with_errors) add(std::to_string(with_errors) + " with errors in the class file");
  for (const auto& [msg, n] : reasons) add(std::to_string(n) + " failed: " + msg);
  std::fprintf(stderr, "hocba: rendered %zu, skipped %zu%s -> %s\n", rendered, with_errors + failed,
               why.empty() ? "" : (" (" + why + ")").c_str(), dir.c_str());
  return failed == 0 ? 0 : 1;
}

// A signed file's attachment must be the one its last signature covers: an incremental update appended
// after it can replace the attachment in the last revision (and stay a well-formed PDF). Reads it from
// the revision the last signature covers (the bytes up to the end of its /ByteRange) and compares it
// with the last revision's `xml` (both read, or both missing). Unsigned files pass.
Status check_attachment_as_signed(const std::string& in, const Bytes& pdf, const Result<Bytes>& xml) {
  const std::string name = pdf::kRecordXmlFileName;
  auto ins = pdf::inspect(pdf);
  if (!ins) return make_error(ins.error().code, in + ": " + ins.error().message);
  if (ins->signatures.empty()) return {};
  const pdf::FoundSignature& last = ins->signatures.back();
  if (last.covered_end == 0 || last.covered_end > pdf.size())
    return make_error(Errc::bad_pdf, in + ": the /ByteRange of its last signature (field " + last.field_name + ") does not end inside the file");
  auto as_signed = pdf::embedded_file(std::span<const std::uint8_t>(pdf).first(last.covered_end), name);
  if (!as_signed && as_signed.error().code != Errc::not_found)
    return make_error(as_signed.error().code, in + ": the revision its last signature covers cannot be read: " + as_signed.error().message);
  bool same = as_signed && xml ? *as_signed == *xml : !as_signed && !xml && xml.error().code == Errc::not_found;
  if (same) return {};
  return make_error(Errc::verify_failed, in + ": " + name + " was changed after the last signature (field " + last.field_name +
                                             "): an incremental update appended after it " + (as_signed ? "replaces or removes" : "adds") +
                                             " the attachment, so neither version is exported");
}

// The record's XML twin (docs/record-xml.md), embedded in every rendered record as hocba-record.xml:
// written byte for byte to --out (atomically) or to stdout. Works on a signed record too: the last
// revision is read, and must hold the same attachment as the revision the last signature covers
// (signing never changes it), else the file is refused.
int cmd_export_xml(const Args& a) {
  if (a.positional.size() != 1) throw UsageError{"export-xml needs exactly one FILE.pdf"};
  const std::string in = a.positional[0];
  auto pdf = read_file(in);
  if (!pdf) return fail(pdf.error());  // names the file
  auto xml = pdf::embedded_file(*pdf, pdf::kRecordXmlFileName);
  if (xml || xml.error().code == Errc::not_found)
    if (auto st = check_attachment_as_signed(in, *pdf, xml); !st) return fail(st.error());
  if (!xml && xml.error().code == Errc::not_found)
    return fail(make_error(Errc::not_found, in + " holds no " + std::string(pdf::kRecordXmlFileName) +
                                               " (records rendered before the XML twin existed have only the JSON)"));
  if (!xml) return fail(make_error(xml.error().code, in + ": " + xml.error().message));
  if (a.has("out")) {
    if (auto st = write_file_atomic(a.get("out"), *xml); !st) return fail(st.error());
    return 0;
  }
  if (std::fwrite(xml->data(), 1, xml->size(), stdout) != xml->size() || std::fflush(stdout) != 0)
    return fail(make_error(Errc::io, std::string("writing to standard output failed: ") + std::strerror(errno)));
  return 0;
}

// The appliance's state (docs/audit.md): audit verify / export, user add.
Result<store::Store> open_store(const Args& a, const std::string& cmd) {
  if (!a.has("state-dir")) throw UsageError{cmd + " needs --state-dir DIR"};
  if (!a.positional.empty()) throw UsageError{cmd + " takes no positional argument (\"" + a.positional[0] + "\")"};
  return store::Store::open(a.get("state-dir"));
}

int cmd_audit(const Args& a, const std::string& sub) {
  auto store = open_store(a, "audit " + sub);
  if (!store) return fail(store.error());
  if (sub == "verify") {
    auto v = store->verify_audit();
    if (!v) return fail(v.error());
    if (!v->ok) {
      std::fprintf(stderr, "audit: %s\n", v->message.c_str());
      return 3;
    }
    std::printf("audit: %lld entries, chain intact\n", static_cast<long long>(v->checked));
    return 0;
  }
  if (!a.has("out")) {
    if (auto st = store->export_audit(std::cout); !st) return fail(st.error());
    return 0;
  }
  std::ostringstream os;
  if (auto st = store->export_audit(os); !st) return fail(st.error());
  std::string text = os.str();
  if (auto st = write_file_atomic(a.get("out"), text.data(), text.size(), 0600); !st) return fail(st.error());
  return 0;
}

std::string cli_actor();

int cmd_user_add(const Args& a) {
  for (const char* req : {"username", "role"})
    if (!a.has(req)) throw UsageError{std::string("user add needs --") + req};
  auto role = store::parse_role(a.get("role"));
  if (!role) throw UsageError{"unknown role \"" + a.get("role") + "\" (" + store::role_names() + ")"};
  auto store = open_store(a, "user add");
  if (!store) return fail(store.error());
  Secret password;
  std::string err;
  if (a.has("password-file")) {
    if (!Secret::from_file(a.get("password-file"), password, err))
      return fail(make_error(Errc::io, "cannot read the password file " + a.get("password-file")));
  } else {
    Secret again;
    if (!Secret::from_terminal("New password for " + a.get("username") + ": ", password, err) ||
        !Secret::from_terminal("Repeat the password: ", again, err))
      return fail(make_error(Errc::invalid_argument, "no terminal to ask for the password; give it with --password-file FILE"));
    if (password.view() != again.view()) return fail(make_error(Errc::invalid_argument, "the two passwords differ; nothing changed"));
  }
  if (password.size() < 8) return fail(make_error(Errc::invalid_argument, "the password must have at least 8 characters"));
  auto id = store::Users(*store).add(cli_actor(), a.get("username"), a.get("display-name"), *role, password);
  if (!id) return fail(id.error());
  std::printf("user %s added (id %lld, role %s)\n", a.get("username").c_str(), static_cast<long long>(*id), store::role_name(*role));
  return 0;
}

std::string cli_actor() {
  const passwd* pw = ::getpwuid(::geteuid());
  return "cli:" + (pw && pw->pw_name ? std::string(pw->pw_name) : std::to_string(::geteuid()));
}

// hocba user list|role|disable|enable: accounts in the appliance's store.
int cmd_user(const Args& a, const std::string& sub) {
  auto store = open_store(a, "user " + sub);
  if (!store) return fail(store.error());
  if (sub == "list") {
    auto users = store::Users(*store).list();
    if (!users) return fail(users.error());
    for (const store::User& u : *users)
      std::printf("%-24s %-17s %-8s %s%s\n", u.username.c_str(), store::role_name(u.role), u.disabled ? "disabled" : "active",
                  u.display_name.c_str(), u.totp ? " (TOTP)" : "");
    return 0;
  }
  if (!a.has("username")) throw UsageError{"user " + sub + " needs --username"};
  Status st;
  if (sub == "role") {
    auto role = store::parse_role(a.get("role"));
    if (!role) throw UsageError{"user role needs --role " + store::role_names("|")};
    st = store::Users(*store).set_role(cli_actor(), a.get("username"), *role);
  } else {
    st = store::Users(*store).set_disabled(cli_actor(), a.get("username"), sub == "disable");
  }
  if (!st) return fail(st.error());
  std::printf("user %s: %s\n", a.get("username").c_str(), sub == "role" ? ("role " + a.get("role")).c_str() : (sub + "d").c_str());
  return 0;
}

// hocba key bind|unbind|bindings: which key belongs to whom (or to the school seal).
int cmd_key_binding(const Args& a, const std::string& sub) {
  auto store = open_store(a, "key " + sub);
  if (!store) return fail(store.error());
  if (sub == "bindings") {
    auto keys = store::Keys(*store).bound();
    if (!keys) return fail(keys.error());
    for (const store::Key& k : *keys)
      std::printf("%-4lld %-14s %s\n", static_cast<long long>(k.id), k.seal ? "(school seal)" : k.owner_username.c_str(), k.uri.c_str());
    return 0;
  }
  if (sub == "unbind") {
    if (!a.has("id")) throw UsageError{"key unbind needs --id N (see hocba key bindings)"};
    if (auto st = store::Keys(*store).unbind(cli_actor(), std::stoll(a.get("id"))); !st) return fail(st.error());
    std::printf("key binding %s removed\n", a.get("id").c_str());
    return 0;
  }
  if (!a.has("key") || a.has("user") == a.has("seal")) throw UsageError{"key bind needs --key URI and either --user NAME or --seal"};
  // The key must exist on its token, with a certificate.
  auto uri = hsm::Pkcs11Uri::parse(a.get("key"));
  if (!uri) return fail(uri.error());
  if (uri->pin_source || uri->has_pin_value) throw UsageError{"a bound key's URI must not carry a PIN"};
  hsm::Hsm h;
  if (auto st = load_modules(h, a); !st) return fail(st.error());
  auto key = h.find_key(*uri);
  if (!key) return fail(key.error());
  if (key->certificate.empty()) return fail(make_error(Errc::not_found, "the key has no certificate on its token"));
  // The key's canonical URI (token serial, CKA_ID): two spellings of one key are one binding.
  auto id = store::Keys(*store).bind(cli_actor(), key->uri, key->label, a.has("seal") ? std::nullopt : std::optional<std::string>(a.get("user")));
  if (!id) return fail(id.error());
  std::printf("key binding %lld: %s -> %s\n", static_cast<long long>(*id), key->uri.c_str(),
              a.has("seal") ? "the school seal" : a.get("user").c_str());
  return 0;
}

// hocba class homeroom --state-dir D --class-id N --username U
int cmd_class_homeroom(const Args& a) {
  if (!a.has("class-id") || !a.has("username")) throw UsageError{"class homeroom needs --class-id N and --username U"};
  auto store = open_store(a, "class homeroom");
  if (!store) return fail(store.error());
  if (auto st = store->set_homeroom(cli_actor(), std::stoll(a.get("class-id")), a.get("username")); !st) return fail(st.error());
  std::printf("class %s: homeroom teacher %s\n", a.get("class-id").c_str(), a.get("username").c_str());
  return 0;
}

// hocba class teacher --state-dir D --class-id N --subject NAME --username U: the subject teacher who
// confirms that subject's scores in that class. hocba cannot render: the assignment marks the class's
// sheets dirty, and hocbad makes the score sheet for them at its next sweep (within 30 s, or at its
// start) or when they confirm their sheets.
int cmd_class_teacher(const Args& a) {
  if (!a.has("class-id") || !a.has("subject") || !a.has("username"))
    throw UsageError{"class teacher needs --class-id N, --subject NAME and --username U"};
  auto store = open_store(a, "class teacher");
  if (!store) return fail(store.error());
  if (auto st = store::Sheets(*store).set_teacher(cli_actor(), std::stoll(a.get("class-id")), a.get("subject"), a.get("username")); !st)
    return fail(st.error());
  std::printf("class %s: %s taught by %s (hocbad makes the score sheet within 30 s)\n", a.get("class-id").c_str(), a.get("subject").c_str(),
              a.get("username").c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  hocba::disable_core_dumps();
  hocba::log::init("off");  // errors are reported as one line; HOCBA_LOG=info shows diagnostics
  try {
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "help") {
      std::fputs(kUsage, argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
    std::string cmd = argv[1];
    std::string sub = argc > 2 ? argv[2] : "";
    if (cmd == "token" && sub == "list") return cmd_token_list(parse(argc, argv, 3, {"module"}, {}));
    if (cmd == "key" && sub == "list") return cmd_key_list(parse(argc, argv, 3, {"module"}, {}));
    if (cmd == "sign")
      return cmd_sign(with_config(parse(argc, argv, 2, {"in", "out", "key", "field", "reason", "location", "pin-file", "chain", "hash", "module",
                                                 "image", "seal-image", "title", "level", "tsa", "tsa-timeout", "tsa-retries",
                                                 "trust", "trust-dir", "revocation", "offline-dir", "config"},
                            {"pss", "confirm-pin-risk", "lock", "no-lock", "certify", "no-certify"}), cmd));
    if (cmd == "finish")
      return cmd_finish(with_config(parse(argc, argv, 2, {"out", "tsa", "tsa-timeout", "tsa-retries", "level", "chain", "trust", "trust-dir",
                                              "revocation", "offline-dir", "config"}, {}), cmd));
    if (cmd == "extend")
      return cmd_extend(with_config(parse(argc, argv, 2, {"out", "level", "tsa", "tsa-timeout", "tsa-retries", "chain", "trust", "trust-dir",
                                              "revocation", "offline-dir", "config"}, {}), cmd));
    if (cmd == "config" && (sub == "check" || sub == "keys")) return cmd_config(parse(argc, argv, 3, {}, {}), sub);
    if (cmd == "verify") return cmd_verify(parse(argc, argv, 2, {"trust", "trust-dir", "lang"}, {"json"}));
    if (cmd == "audit" && sub == "verify") return cmd_audit(parse(argc, argv, 3, {"state-dir"}, {}), sub);
    if (cmd == "audit" && sub == "export") return cmd_audit(parse(argc, argv, 3, {"state-dir", "out"}, {}), sub);
    if (cmd == "user" && sub == "add")
      return cmd_user_add(parse(argc, argv, 3, {"state-dir", "username", "role", "display-name", "password-file"}, {}));
    if (cmd == "user" && sub == "list") return cmd_user(parse(argc, argv, 3, {"state-dir"}, {}), sub);
    if (cmd == "user" && sub == "role") return cmd_user(parse(argc, argv, 3, {"state-dir", "username", "role"}, {}), sub);
    if (cmd == "user" && (sub == "disable" || sub == "enable")) return cmd_user(parse(argc, argv, 3, {"state-dir", "username"}, {}), sub);
    if (cmd == "key" && sub == "bind") return cmd_key_binding(parse(argc, argv, 3, {"state-dir", "key", "user", "module"}, {"seal"}), sub);
    if (cmd == "key" && (sub == "unbind" || sub == "bindings"))
      return cmd_key_binding(parse(argc, argv, 3, {"state-dir", "id"}, {}), sub);
    if (cmd == "class" && sub == "homeroom") return cmd_class_homeroom(parse(argc, argv, 3, {"state-dir", "class-id", "username"}, {}));
    if (cmd == "class" && sub == "teacher")
      return cmd_class_teacher(parse(argc, argv, 3, {"state-dir", "class-id", "subject", "username"}, {}));
    if (cmd == "export-xml") return cmd_export_xml(parse(argc, argv, 2, {"out"}, {}));
    if (cmd == "render") return cmd_render(parse(argc, argv, 2, {"in", "out", "student"}, {"valid-only"}));
    throw UsageError{"unknown command \"" + cmd + (sub.empty() ? "" : " " + sub) + "\""};
  } catch (const ConfigFailure& e) {
    std::fprintf(stderr, "hocba: %s\n", e.msg.c_str());
    return 1;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "hocba: %s\n%s", e.msg.c_str(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hocba: internal error: %s\n", e.what());
    return 1;
  }
}
