// hocba-timestamp-bench: what a slow timestamp authority costs a batch on a slow token, with the
// asynchronous pipeline (signer::BatchSigner).
//
//   hocba-timestamp-bench [--records N (50)] [--sign-delay-ms N (200)] [--tsa-delay-ms N (5000)]
//                         [--workers N (32)] [--json]
//
// Sets up, in a temporary directory: SoftHSM2 tokens (scripts/softhsm-provision.sh), reached through
// our PKCS#11 test module (tests/p11test) with sign_delay_ms so that each signature takes as long as
// on a USB token; a TSA certificate from the test issuing CA (the openssl commands of
// tests/common make_tsa_certificate); our test TSA (tests/tsa, hocba-test-tsa --delay-ms) as a
// child process. Then signs N copies of tests/data/pdf/cairo.pdf as PAdES B-T with GVCN-3A
// (RSA-2048) and prints: the serial estimate N x (token + TSA), the token-only time N x token,
// the pipelined wall time, and the overhead beyond the token time next to the last record's wait for
// its timestamp; then how long the token idled between two signatures (median and longest, in ms
// and as a ratio to the token's own delay per signature) and how many records were signed before
// the previous record's timestamp came back. Every output is verified (signer::verify_pdf: valid,
// B-T, timestamp good).
//
// Needs the test tools (configure with HOCBA_BUILD_TESTS=ON, the default); without them it says
// so and exits 2.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "hocba/net/http_client.h"
#include "hocba/common/error.h"
#include "hocba/common/fileio.h"
#include "hocba/common/log.h"
#include "hocba/common/secret.h"
#include "hocba/hsm/hsm.h"
#include "hocba/hsm/uri.h"
#include "hocba/signer/batch.h"
#include "hocba/signer/key.h"
#include "hocba/signer/pades.h"
#include "hocba/signer/timestamp.h"
#include "hocba/signer/verify.h"

#ifndef HOCBA_SOURCE_DIR
#define HOCBA_SOURCE_DIR "."
#endif

namespace {

using namespace hocba;
using Clock = std::chrono::steady_clock;

constexpr const char* kSoftHsm = "/usr/lib/softhsm/libsofthsm2.so";
constexpr const char* kKey = "pkcs11:token=GVCN-3A;object=gvcn-3a";

const char* kUsage =
    "usage: hocba-timestamp-bench [--records N] [--sign-delay-ms N] [--tsa-delay-ms N] [--workers N] [--json]\n"
    "  --records N        records in the batch (default 50)\n"
    "  --sign-delay-ms N  extra time per token signature, as on a USB token (default 200)\n"
    "  --tsa-delay-ms N   time the TSA takes to answer (default 5000)\n"
    "  --workers N        timestamp requests in flight at once (default 32)\n";

std::string g_tmpdir;  // removed on exit
pid_t g_tsa = -1;

void stop_tsa() {
  if (g_tsa <= 0) return;
  kill(g_tsa, SIGTERM);
  waitpid(g_tsa, nullptr, 0);
  g_tsa = -1;
}

void cleanup() {
  stop_tsa();
  if (!g_tmpdir.empty() && !std::getenv("HOCBA_KEEP_TMP")) {
    std::error_code ec;
    std::filesystem::remove_all(g_tmpdir, ec);
  }
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "hocba-timestamp-bench: %s\n", what.c_str());
  cleanup();
  std::exit(1);
}

int shell(const std::string& cmd, const std::string& log) {
  int st = std::system(("(" + cmd + ") >>'" + log + "' 2>&1").c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string text_of(const std::string& path) {
  auto b = read_file(path, 1 << 20);
  return b ? std::string(b->begin(), b->end()) : std::string();
}

void write_text(const std::string& path, const std::string& s) {
  if (auto st = write_file_atomic(path, s.data(), s.size()); !st) die(st.error().message);
}

// Starts the test TSA; returns its port (it prints it as its first line).
int start_tsa(const std::vector<std::string>& argv, const std::string& log) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) die("pipe failed");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  g_tsa = fork();
  if (g_tsa < 0) die("fork failed");
  if (g_tsa == 0) {
    dup2(fds[1], STDOUT_FILENO);
    int e = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (e >= 0) dup2(e, STDERR_FILENO);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  std::string line;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (line.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fds[0], POLLIN, 0};
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) break;
    char c[64];
    ssize_t n = read(fds[0], c, sizeof c);
    if (n <= 0) break;
    line.append(c, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int port = std::atoi(line.c_str());
  if (port <= 0) die("the test TSA printed no port: " + text_of(log));
  return port;
}

int parse_count(const char* s, const char* opt, long lo) {
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  if (!end || *end || v < lo || v > 1000000) {
    std::fprintf(stderr, "hocba-timestamp-bench: %s needs an integer of at least %ld\n%s", opt, lo, kUsage);
    std::exit(2);
  }
  return static_cast<int>(v);
}

double secs(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  hocba::log::init("warn");
  int records = 50, sign_delay_ms = 200, tsa_delay_ms = 5000, workers = 32;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "hocba-timestamp-bench: %s needs a value\n%s", a.c_str(), kUsage);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--records") records = parse_count(value(), "--records", 1);
    else if (a == "--sign-delay-ms") sign_delay_ms = parse_count(value(), "--sign-delay-ms", 0);
    else if (a == "--tsa-delay-ms") tsa_delay_ms = parse_count(value(), "--tsa-delay-ms", 0);
    else if (a == "--workers") workers = parse_count(value(), "--workers", 1);
    else if (a == "--json") json = true;
    else if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "hocba-timestamp-bench: unknown argument %s\n%s", a.c_str(), kUsage);
      return 2;
    }
  }

#if defined(HOCBA_TEST_TSA) && defined(HOCBA_P11TEST_MODULE)
  const std::string tsa_bin = HOCBA_TEST_TSA, p11test = HOCBA_P11TEST_MODULE;
#else
  const std::string tsa_bin, p11test;
#endif
  for (const auto& [path, what] : {std::pair{tsa_bin, "hocba-test-tsa (tests/tsa)"},
                                   std::pair{p11test, "libhocba-p11test.so (tests/p11test)"}}) {
    if (path.empty() || !std::filesystem::exists(path)) {
      std::fprintf(stderr,
                   "hocba-timestamp-bench: needs the test tools, and %s is not built%s%s; configure with "
                   "-DHOCBA_BUILD_TESTS=ON and build it\n",
                   what, path.empty() ? "" : " at ", path.c_str());
      return 2;
    }
  }

  auto pdf = read_file(std::string(HOCBA_SOURCE_DIR) + "/tests/data/pdf/cairo.pdf");
  if (!pdf) die(pdf.error().message);

  // Tokens, the TSA's certificate, the slow token's configuration.
  char tmpl[] = "/tmp/hocba-timestamp-bench-XXXXXX";
  if (!mkdtemp(tmpl)) die("cannot create a temporary directory");
  g_tmpdir = tmpl;
  const std::string dir = g_tmpdir, log = dir + "/setup.log";
  std::fprintf(stderr, "hocba-timestamp-bench: provisioning SoftHSM2 tokens and a TSA certificate in %s ...\n", dir.c_str());
  if (shell("bash '" + std::string(HOCBA_SOURCE_DIR) + "/scripts/softhsm-provision.sh' '" + dir + "'", log) != 0)
    die("provisioning failed:\n" + text_of(log));
  setenv("SOFTHSM2_CONF", (dir + "/softhsm2.conf").c_str(), 1);
  write_text(dir + "/tsa.ext", "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                               "extendedKeyUsage=critical,timeStamping\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
  const std::string t = dir + "/tsa", pki = dir + "/pki";
  if (shell("openssl req -new -utf8 -newkey rsa:2048 -nodes -keyout '" + t + ".key' -out '" + t +
                ".csr' -subj '/C=VN/O=hocba test PKI/CN=hocba Bench TSA' && openssl x509 -req -in '" + t + ".csr' -CA '" +
                pki + "/sub.pem' -CAkey '" + pki + "/sub.key' -set_serial 0x$(openssl rand -hex 8) -days 30 -extfile '" +
                t + ".ext' -out '" + t + ".pem'",
            log) != 0)
    die("making the TSA certificate failed:\n" + text_of(log));
  write_text(dir + "/p11test.conf", "module=" + std::string(kSoftHsm) + "\nsign_delay_ms=" + std::to_string(sign_delay_ms) + "\n");
  setenv("HOCBA_P11TEST_CONF", (dir + "/p11test.conf").c_str(), 1);
  const int port = start_tsa({tsa_bin, "--key", t + ".key", "--cert", t + ".pem", "--chain", pki + "/sub.pem", "--chain",
                              pki + "/root.pem", "--port", "0", "--delay-ms", std::to_string(tsa_delay_ms)},
                             dir + "/tsa.log");
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";

  int rc = 0;
  {
    hsm::Hsm h;
    if (auto st = h.load_module(p11test); !st) die(st.error().message);
    auto uri = hsm::Pkcs11Uri::parse(kKey);
    if (!uri) die(uri.error().message);
    auto key = h.find_key(*uri);
    if (!key) die(key.error().message);
    Secret pin;
    std::string err;
    if (!Secret::from_file(dir + "/pins/GVCN-3A.pin", pin, err)) die(err);
    signer::TokenSignOptions topts;
    topts.pin = &pin;
    topts.batch = true;
    auto tk = signer::token_key(h, *key, topts);
    // Log in before the clock starts (one signature, not counted): a batch starts on a token that
    // is ready.
    {
      Bytes digest(32, 0x5a);
      if (auto s = tk->sign_digest(signer::Hash::sha256, signer::Scheme::rsa_pkcs1, digest); !s) die(s.error().message);
    }
    auto root = read_file(pki + "/root.pem");
    if (!root) die(root.error().message);
    auto anchors = signer::load_certificates(*root, "root.pem");
    if (!anchors) die(anchors.error().message);

    net::HttpClient http;
    signer::TimestampClientOptions to;
    to.urls = {url};
    to.timeout = std::chrono::milliseconds(tsa_delay_ms + 30000);
    to.max_concurrent = workers;  // --workers requests in flight at once, not the client's default cap of 4
    to.retries = 1;
    signer::TimestampClient client(http, to);
    signer::PadesOptions opts;
    opts.reason = "hocba-timestamp-bench";
    opts.location = "Hà Nội";
    opts.level = signer::Level::B_T;
    signer::BatchOptions bo;
    bo.timestamp_workers = static_cast<std::size_t>(workers);
    bo.max_queued_in_memory = static_cast<std::size_t>(records);

    std::vector<signer::BatchJob> jobs;
    for (int i = 0; i < records; ++i) {
      signer::BatchJob j;
      j.id = "record-" + std::to_string(i + 1);
      j.pdf = *pdf;
      j.output_path = dir + "/" + j.id + ".pdf";
      jobs.push_back(std::move(j));
    }
    signer::BatchSigner batch(*tk, opts, client, bo);
    std::fprintf(stderr, "hocba-timestamp-bench: signing %d records (token %d ms/signature, TSA %d ms, %d workers) ...\n",
                 records, sign_delay_ms, tsa_delay_ms, workers);
    const auto start = Clock::now();
    auto results = batch.run(std::move(jobs));
    const auto wall = Clock::now() - start;

    // Every record done, and its file valid B-T.
    int done = 0, valid = 0;
    Clock::duration token_sum{}, token_span{}, last_wait{}, last_ts{};
    Clock::time_point last_sign_end = start;
    for (const auto& r : results) {
      if (r.state != signer::JobState::done) {
        std::fprintf(stderr, "hocba-timestamp-bench: %s: %s: %s\n", r.id.c_str(), signer::job_state_name(r.state),
                     r.error.message.c_str());
        continue;
      }
      ++done;
      token_sum += *r.sign_end - *r.sign_start;
      last_sign_end = std::max(last_sign_end, *r.sign_end);
      auto f = read_file(r.output_path);
      if (!f) continue;
      auto rep = signer::verify_pdf(*f, *anchors);
      if (rep && rep->all_valid && rep->signatures.size() == 1 && rep->signatures[0].level == "B-T" &&
          rep->signatures[0].timestamp.verifies)
        ++valid;
    }
    // The token's idle time between two signatures (on the signing thread: the next record's PDF
    // work and the hand-off of the previous one to the timestamp workers), and whether each record
    // was signed before the previous one's timestamp came back.
    std::vector<double> gaps_ms;
    int signed_before_previous_ts = 0;
    for (std::size_t i = 1; i < results.size(); ++i) {
      const auto &prev = results[i - 1], &cur = results[i];
      if (!prev.sign_end || !cur.sign_start) continue;
      gaps_ms.push_back(std::chrono::duration<double, std::milli>(*cur.sign_start - *prev.sign_end).count());
      if (prev.timestamp_end && *cur.sign_start < *prev.timestamp_end) ++signed_before_previous_ts;
    }
    std::sort(gaps_ms.begin(), gaps_ms.end());
    const double gap_median = gaps_ms.empty() ? 0.0 : gaps_ms[(gaps_ms.size() - 1) / 2];
    const double gap_max = gaps_ms.empty() ? 0.0 : gaps_ms.back();
    // As a share of the token's own time per signature (0 when the bench gives it none).
    auto of_delay = [&](double ms) { return sign_delay_ms > 0 ? ms / sign_delay_ms : 0.0; };
    if (done == records) {
      const auto& last = results.back();
      last_wait = *last.timestamp_end - *last.sign_end;  // from the token's last signature to its timestamp
      last_ts = *last.timestamp_end - *last.timestamp_start;
      token_span = last_sign_end - start;
    }
    const double serial = records * (sign_delay_ms + tsa_delay_ms) / 1000.0;
    const double token_nominal = records * sign_delay_ms / 1000.0;
    const double overhead = secs(wall) - secs(token_span);
    std::printf("hocba-timestamp-bench: %d records (cairo.pdf, PAdES B-T, RSA-2048 on SoftHSM2 via p11test), token %d ms/signature, "
                "TSA %d ms, %d timestamp workers, %ld CPU(s)\n",
                records, sign_delay_ms, tsa_delay_ms, workers, sysconf(_SC_NPROCESSORS_ONLN));
    std::printf("serial estimate (%d x (%.1f + %.1f s)):         %8.1f s\n", records, sign_delay_ms / 1000.0,
                tsa_delay_ms / 1000.0, serial);
    std::printf("token-only time (%d x %.1f s):                 %8.1f s\n", records, sign_delay_ms / 1000.0, token_nominal);
    std::printf("token busy, measured (start to last signature): %8.2f s  (%.1f ms per record on the token, our CPU included)\n",
                secs(token_span), done ? secs(token_sum) * 1e3 / done : 0.0);
    std::printf("pipelined wall time:                            %8.2f s\n", secs(wall));
    std::printf("overhead beyond the token time:                 %8.2f s  (last record: %.2f s from its signature to its timestamp, "
                "%.2f s asking the TSA)\n",
                overhead, secs(last_wait), secs(last_ts));
    std::printf("token idle between two signatures:              median %.1f ms, longest %.1f ms = %.3f / %.3f x the token's "
                "%d ms per signature (%zu gaps)\n",
                gap_median, gap_max, of_delay(gap_median), of_delay(gap_max), sign_delay_ms, gaps_ms.size());
    std::printf("signed before the previous record's timestamp came back: %d/%zu\n", signed_before_previous_ts,
                gaps_ms.size());
    std::printf("records done: %d/%d, valid B-T with a good timestamp: %d\n", done, records, valid);
    if (json)
      std::printf("{\"records\":%d,\"sign_delay_ms\":%d,\"tsa_delay_ms\":%d,\"workers\":%d,\"serial_s\":%.3f,"
                  "\"token_only_s\":%.3f,\"token_busy_s\":%.3f,\"wall_s\":%.3f,\"overhead_s\":%.3f,\"last_wait_s\":%.3f,"
                  "\"gap_median_ms\":%.3f,\"gap_max_ms\":%.3f,\"gap_max_of_delay\":%.4f,"
                  "\"signed_before_previous_timestamp\":%d,\"done\":%d,\"valid\":%d}\n",
                  records, sign_delay_ms, tsa_delay_ms, workers, serial, token_nominal, secs(token_span), secs(wall), overhead,
                  secs(last_wait), gap_median, gap_max, of_delay(gap_max), signed_before_previous_ts, done, valid);
    if (done != records || valid != records) rc = 1;
    pin.clear();
    h.shutdown();
  }
  cleanup();
  return rc;
}
