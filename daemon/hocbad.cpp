// hocbad: the appliance daemon. Reads the configuration, opens the store, loads the tokens (creating
// SoftHSM2 demo tokens on first start when no module is configured), makes a self-signed TLS
// certificate if there is none, and serves the API until SIGTERM (docs/appliance.md).
//
//   hocbad [--config FILE] [--state-dir DIR] [--listen ADDR:PORT] [--check-config]
#include <sys/resource.h>
#include <signal.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>

#include "hocba/api/app.h"
#include "hocba/csc/csc.h"
#include "hocba/net/http_client.h"
#include "hocba/common/metrics.h"
#include "hocba/net/server.h"
#include "hocba/store/store.h"
#include "hocba/net/tls_files.h"
#include "hocba/common/log.h"
#include "hocba/common/secret.h"
#include "hocba/config/config.h"
#include "hocba/hsm/hsm.h"
#include "hocba/signer/timestamp.h"

#ifndef HOCBA_DATA_DIR
#define HOCBA_DATA_DIR "/usr/share/hocba"
#endif
#ifndef HOCBA_SOURCE_DIR
#define HOCBA_SOURCE_DIR ""
#endif

namespace {

using namespace hocba;
namespace fs = std::filesystem;

constexpr const char* kUsage =
    "usage: hocbad [--config FILE] [--state-dir DIR] [--listen ADDR:PORT] [--check-config]\n"
    "  --config FILE       the appliance configuration (TOML; docs/configuration.md); default: built-in defaults\n"
    "  --state-dir DIR     overrides server.state_dir\n"
    "  --listen ADDR:PORT  overrides server.listen (port 0: any free port)\n"
    "  --check-config      check the configuration, print the effective one, and exit (0: good, 1: not)\n";

// sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET.
void sd_notify(const char* state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (!path || !*path) return;
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::size_t len = std::strlen(path);
  if (len >= sizeof sa.sun_path) {
    ::close(fd);
    return;
  }
  std::memcpy(sa.sun_path, path, len);
  if (sa.sun_path[0] == '@') sa.sun_path[0] = '\0';  // abstract namespace
  ::sendto(fd, state, std::strlen(state), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&sa),
           static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len));
  ::close(fd);
}

std::string find_provision_script() {
  if (const char* e = std::getenv("HOCBA_PROVISION_SCRIPT")) return e;
  for (std::string p : {std::string(HOCBA_DATA_DIR) + "/softhsm-provision.sh", std::string(HOCBA_SOURCE_DIR) + "/scripts/softhsm-provision.sh"})
    if (!p.empty() && ::access(p.c_str(), X_OK) == 0) return p;
  return "";
}

std::string find_seal_image() {
  for (std::string p : {std::string(HOCBA_DATA_DIR) + "/seal.png", std::string(HOCBA_SOURCE_DIR) + "/tests/data/images/seal.png"})
    if (!p.empty() && ::access(p.c_str(), R_OK) == 0) return p;
  return "";
}

// Demo tokens: a SoftHSM2 token set with a test PKI in STATE/softhsm, made once (docs/appliance.md).
Status ensure_demo_tokens(const std::string& state_dir) {
  std::string dir = state_dir + "/softhsm";
  if (!fs::exists(dir + "/softhsm2.conf")) {
    std::string script = find_provision_script();
    if (script.empty())
      return make_error(Errc::not_found, "cannot create the demo tokens: softhsm-provision.sh not found (set HOCBA_PROVISION_SCRIPT)");
    spdlog::info("DEMO_TOKENS_CREATE dir={}", dir);
    std::cerr << "hocbad: first start: creating SoftHSM2 demo tokens and a test PKI in " << dir << " (takes a few seconds)\n";
    fs::remove_all(dir + ".tmp");
    std::string cmd = "'" + script + "' '" + dir + ".tmp' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) return make_error(Errc::io, "creating the demo tokens failed (" + script + ")");
    // softhsm2.conf names its token folder: write it for the final place.
    std::error_code ec;
    fs::rename(dir + ".tmp", dir, ec);
    if (ec) return make_error(Errc::io, "cannot move the demo tokens into " + dir + ": " + ec.message());
    std::string conf = "directories.tokendir = " + dir + "/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n";
    if (auto st = write_file_atomic(dir + "/softhsm2.conf", conf.data(), conf.size(), 0600); !st) return st;
    std::string seal = find_seal_image();
    if (!seal.empty() && !fs::exists(state_dir + "/images/seal.png")) {
      fs::create_directories(state_dir + "/images", ec);
      fs::copy_file(seal, state_dir + "/images/seal.png", ec);
    }
  }
  ::setenv("SOFTHSM2_CONF", (dir + "/softhsm2.conf").c_str(), 1);
  return {};
}

Result<std::optional<Secret>> seal_pin(const config::Config& c) {
  std::string path;
  if (c.seal.pin_file) path = *c.seal.pin_file;
  if (c.seal.pin_credential) {
    const char* d = std::getenv("CREDENTIALS_DIRECTORY");
    if (!d) return make_error(Errc::not_found, "seal.pin_credential is set but systemd passed no credentials ($CREDENTIALS_DIRECTORY)");
    path = std::string(d) + "/" + *c.seal.pin_credential;
  }
  if (path.empty()) return std::optional<Secret>{};
  Secret s;
  std::string err;
  if (!Secret::from_file(path, s, err)) return make_error(Errc::io, "cannot read the seal's PIN: " + err);
  if (s.empty()) return make_error(Errc::invalid_argument, "the seal's PIN file " + path + " is empty");
  return std::optional<Secret>(std::move(s));
}

// The configuration's digest: audited when it differs from the last one this state folder saw.
std::string config_digest(const config::Config& c) {
  std::string dump = config::dump_config(c);
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(dump.data()), dump.size());
  char hex[sizeof h * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, h, sizeof h);
  return hex;
}

// The connection cap the file descriptors allow: the soft RLIMIT_NOFILE is raised to the hard one, and
// 256 descriptors are kept for the store, the records, the tokens and the logs.
std::size_t connection_cap(std::size_t wanted) {
  constexpr rlim_t kReserve = 256;
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return wanted;
  if (rl.rlim_cur < rl.rlim_max) {
    rlim_t before = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) rl.rlim_cur = before;
  }
  if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= wanted + kReserve) return wanted;
  std::size_t cap = rl.rlim_cur > kReserve + 8 ? static_cast<std::size_t>(rl.rlim_cur - kReserve) : 8;
  spdlog::warn("SERVER_CONNECTIONS_CAPPED wanted={} cap={} nofile={} hint=raise_LimitNOFILE", wanted, cap,
               static_cast<unsigned long long>(rl.rlim_cur));
  return cap;
}

int run(int argc, char** argv) {
  std::string config_path, state_override, listen_override;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(std::string(name) + " needs a value");
      return argv[++i];
    };
    if (a == "--config") config_path = value("--config");
    else if (a == "--state-dir") state_override = value("--state-dir");
    else if (a == "--listen") listen_override = value("--listen");
    else if (a == "--check-config") check_only = true;
    else if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    } else {
      std::cerr << "hocbad: unknown argument " << a << "\n" << kUsage;
      return 2;
    }
  }

  auto cfg = config_path.empty() ? Result<config::Config>(config::default_config()) : config::load_config(config_path);
  if (!cfg) {
    std::cerr << "hocbad: " << cfg.error().message << "\n";
    return 1;
  }
  if (!state_override.empty()) cfg->server.state_dir = state_override, cfg->given.insert("server.state_dir");
  if (!listen_override.empty()) cfg->server.listen = listen_override, cfg->given.insert("server.listen");
  // The effective level: the configured one, but B-B when no timestamp authority is configured and the
  // file did not ask for a level (the built-in default B-T needs a TSA this appliance may not have).
  std::string level = cfg->signing.level;
  std::vector<std::string> problems;
  for (auto& p : config::completeness_problems(*cfg))
    if (p.rfind("signing.tsa_urls", 0) != 0 || cfg->is_given("signing.level")) problems.push_back(p);
  if (level != "B-B" && cfg->signing.tsa_urls.empty() && !cfg->is_given("signing.level")) level = "B-B";
  if (check_only) {
    if (!problems.empty()) {
      std::cerr << "hocbad: " << problems.size() << " problem(s) in the configuration:\n";
      for (auto& p : problems) std::cerr << "  " << p << "\n";
      return 1;
    }
    std::cout << config::dump_config(*cfg);
    std::cout << "# signatures are made at " << level << "\n";
    return 0;
  }
  if (!problems.empty()) {
    for (auto& p : problems) std::cerr << "hocbad: " << p << "\n";
    return 1;
  }

  log::init("info");
  disable_core_dumps();
  // Every thread started from here on inherits this mask; the main thread waits for the signals.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  const std::string state = cfg->server.state_dir;
  auto store = store::Store::open(state);
  if (!store) {
    std::cerr << "hocbad: " << store.error().message << "\n";
    return 1;
  }

  // Tokens.
  hsm::Hsm hsm;
  std::vector<std::string> modules = cfg->hsm.modules;
  if (modules.empty()) {
    modules.push_back("/usr/lib/softhsm/libsofthsm2.so");
    if (cfg->hsm.demo_tokens && !std::getenv("SOFTHSM2_CONF"))
      if (auto st = ensure_demo_tokens(state); !st) {
        std::cerr << "hocbad: " << st.error().message << "\n";
        return 1;
      }
  }
  for (auto& m : modules)
    if (auto st = hsm.load_module(m); !st) {
      std::cerr << "hocbad: " << st.error().message << "\n";
      return 1;
    }

  auto pin = seal_pin(*cfg);
  if (!pin) {
    std::cerr << "hocbad: " << pin.error().message << "\n";
    return 1;
  }

  // TLS.
  std::string cert = cfg->server.tls_cert.value_or(state + "/tls/cert.pem");
  std::string key = cfg->server.tls_key.value_or(state + "/tls/key.pem");
  auto tls = net::ensure_tls_files(cert, key, cfg->server.host_names);
  if (!tls) {
    std::cerr << "hocbad: " << tls.error().message << "\n";
    return 1;
  }

  // Timestamps (B-T and above).
  net::HttpClient http;
  std::unique_ptr<signer::TimestampClient> tsa;
  if (level != "B-B") {
    signer::TimestampClientOptions to;
    to.urls = cfg->signing.tsa_urls;
    to.timeout = std::chrono::seconds(cfg->signing.tsa_timeout_s);
    to.retries = static_cast<int>(cfg->signing.tsa_retries);
    to.max_concurrent = static_cast<int>(cfg->signing.tsa_max_concurrent);
    tsa = std::make_unique<signer::TimestampClient>(http, to);
  }

  // Audit: the start, and the configuration when it changed.
  std::string digest = config_digest(*cfg);
  auto last = store->last_audit("config.load");
  std::string last_digest;
  if (last && *last) {
    boost::system::error_code ec;
    auto v = boost::json::parse((*last)->detail_json, ec);
    if (!ec && v.is_object() && v.as_object().contains("sha256")) last_digest = boost::json::value_to<std::string>(v.as_object().at("sha256"));
  }
  if (digest != last_digest) {
    boost::json::object d{{"sha256", digest}, {"file", config_path.empty() ? "(built-in defaults)" : config_path}, {"level", level}};
    if (auto e = store->append_audit("system", "config.load", boost::json::serialize(d)); !e) {
      std::cerr << "hocbad: " << e.error().message << "\n";
      return 1;
    }
  }

  Metrics metrics;
  api::AppOptions ao;
  ao.cfg = *cfg;
  ao.state_dir = state;
  ao.level = level;
  ao.modules = modules;
  if (*pin) ao.seal_pin.emplace(std::move(**pin));
  std::vector<std::unique_ptr<api::RouteModule>> route_modules;
  route_modules.push_back(std::make_unique<csc::CscModule>());  // the CSC API (csc.enabled off: its routes answer 404)
  api::App app(std::move(ao), *store, hsm, tsa.get(), metrics, std::move(route_modules));
  if (auto st = app.start(); !st) {
    std::cerr << "hocbad: " << st.error().message << "\n";
    return 1;
  }

  net::ServerOptions so;
  so.listen = cfg->server.listen;
  so.cert_path = tls->cert_path;
  so.key_path = tls->key_path;
  so.io_threads = static_cast<std::size_t>(std::min<long long>(cfg->server.threads, 4));
  so.handler_threads = static_cast<std::size_t>(cfg->server.threads) * 4;
  so.max_body_bytes = static_cast<std::size_t>(cfg->server.max_json_kb) << 10;
  so.on_header = [&app](const net::HttpRequest& head) { return app.on_header(head); };
  so.read_timeout = std::chrono::seconds(cfg->server.read_timeout_s);
  so.handshake_timeout = std::chrono::seconds(cfg->server.handshake_timeout_s);
  so.header_timeout = std::chrono::seconds(cfg->server.header_timeout_s);
  so.idle_timeout = std::chrono::seconds(std::max<long long>(cfg->server.header_timeout_s, 30));
  so.max_connections_per_address = static_cast<std::size_t>(cfg->server.max_connections_per_address);
  so.max_connections = connection_cap(static_cast<std::size_t>(cfg->server.max_connections));
  net::Server server(so, [&app](net::HttpRequest& r) { return app.handle(r); });
  auto port = server.start();
  if (!port) {
    std::cerr << "hocbad: " << port.error().message << "\n";
    return 1;
  }
  std::string host = so.listen.substr(0, so.listen.rfind(':'));
  // The first line on stdout names the address (tests read the port from it).
  std::cout << "hocbad: listening on https://" << host << ":" << *port << "/" << std::endl;
  std::cout << "hocbad: TLS certificate SHA-256 fingerprint " << tls->fingerprint_sha256
            << (tls->generated ? " (new, self-signed: check it on the first visit)" : "") << std::endl;
  spdlog::info("SERVICE_START listen={}:{} level={} state={} fingerprint={}", host, *port, level, state, tls->fingerprint_sha256);
  (void)store->append_audit("system", "service.start", boost::json::serialize(boost::json::object{{"listen", host + ":" + std::to_string(*port)}}));
  sd_notify("READY=1");

  int sig = 0;
  sigwait(&sigs, &sig);
  sd_notify("STOPPING=1");
  spdlog::info("SERVICE_STOPPING signal={}", sig);
  // Requests being answered finish; then every job finishes the record on the token and pauses.
  server.stop();
  app.stop();
  (void)store->append_audit("system", "service.stop", boost::json::serialize(boost::json::object{{"signal", sig}}));
  spdlog::info("SERVICE_STOP");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "hocbad: " << e.what() << "\n";
    return 2;
  }
}
