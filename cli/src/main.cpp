// hocba: the command line of hocba-signer.
//
//   hocba token list [--module PATH]...
//   hocba key list [--module PATH]...
//   hocba sign --in IN.pdf --out OUT.pdf --key 'pkcs11:...' [--field NAME] [--reason TEXT] [--location TEXT]
//              [--pin-file FILE] [--chain FILE]... [--pss] [--hash sha256|sha384|sha512] [--confirm-pin-risk]
//              [--title TEXT] [--image SIGNATURE.png | --seal-image SEAL.png] [--lock] [--certify]
//   hocba verify FILE.pdf [--trust CA.pem]... [--json]
//
// Exit status: 0 success, 1 failure, 2 usage error, 3 (verify) a signature is not valid.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"
#include "hocba/common/log.h"
#include "hocba/common/secret.h"
#include "hocba/common/bytes.h"
#include "hocba/hsm/hsm.h"
#include "hocba/signer/key.h"
#include "hocba/signer/pades.h"
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
    "             [--title TEXT] [--image SIGNATURE.png | --seal-image SEAL.png] [--lock] [--certify]\n"
    "  hocba verify FILE.pdf [--trust CA.pem]... [--json]\n"
    "The PIN comes from the key URI's pin-source=file:PATH, --pin-file FILE, or a prompt on the terminal;\n"
    "never from an argument. Modules: --module, else $HOCBA_PKCS11_MODULES (':'-separated), else SoftHSM2.\n";

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
  opts.lock_signed_fields = a.has("lock");
  if (a.has("certify")) opts.certify_p = 2;

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

  signer::TokenSignOptions topts;
  topts.pin = &pin;
  topts.confirm_pin_risk = a.has("confirm-pin-risk");
  auto sk = signer::token_key(h, *key, topts);
  auto signed_pdf = signer::sign_pdf(*pdf, *sk, opts);
  pin.clear();
  if (!signed_pdf) {
    if (signed_pdf.error().code == Errc::pin_needs_confirm)
      return fail(make_error(Errc::pin_needs_confirm, signed_pdf.error().message + "; add --confirm-pin-risk if you are sure of the PIN"));
    return fail(signed_pdf.error());
  }
  if (auto st = write_file_atomic(out, signed_pdf->pdf); !st) return fail(st.error());
  std::fprintf(stderr, "hocba: signed %s -> %s (field \"%s\", key %s)\n", in.c_str(), out.c_str(),
               signed_pdf->field_name.c_str(), key->uri.c_str());
  return 0;
}

int cmd_verify(const Args& a) {
  if (a.positional.size() != 1) throw UsageError{"verify needs exactly one FILE.pdf"};
  auto pdf = read_file(a.positional[0]);
  if (!pdf) return fail(pdf.error());
  auto anchors = load_cert_files(a.all("trust"));
  if (!anchors) return fail(anchors.error());
  auto rep = signer::verify_pdf(*pdf, *anchors);
  if (!rep) return fail(rep.error());
  if (a.has("json")) std::printf("%s\n", signer::to_json(*rep).c_str());
  else std::printf("%s", signer::to_text(*rep).c_str());
  return rep->all_valid ? 0 : 3;
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
      return cmd_sign(parse(argc, argv, 2, {"in", "out", "key", "field", "reason", "location", "pin-file", "chain", "hash", "module",
                                                 "image", "seal-image", "title"},
                            {"pss", "confirm-pin-risk", "lock", "certify"}));
    if (cmd == "verify") return cmd_verify(parse(argc, argv, 2, {"trust"}, {"json"}));
    throw UsageError{"unknown command \"" + cmd + (sub.empty() ? "" : " " + sub) + "\""};
  } catch (const UsageError& e) {
    std::fprintf(stderr, "hocba: %s\n%s", e.msg.c_str(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hocba: internal error: %s\n", e.what());
    return 1;
  }
}
