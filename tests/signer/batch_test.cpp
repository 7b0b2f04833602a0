// signer::BatchSigner: the token signs while timestamps are pending. A SoftHSM2 token behind our
// p11test module taking 200 ms per signature (like a USB token), our TSA process holding every
// answer until the token has signed all 8 records: every record ends done and verifies as B-T,
// having been signed before any timestamp came back (how long the token idles between signatures
// is a figure of hocba-timestamp-bench, not a test: docs/bench.md); a TSA that is down leaves every record waiting_for_timestamp with its pending file, which
// finish_pending_file completes later; an input that is not a PDF fails that record only; a token
// that refuses the PIN cancels the rest; stop() leaves the pending files.
#include "hocba/signer/batch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hocba/net/http_client.h"
#include "hocba/common/fileio.h"
#include "hocba/common/secret.h"
#include "hocba/hsm/hsm.h"
#include "hocba/hsm/uri.h"
#include "hocba/signer/key.h"
#include "hocba/signer/pades.h"
#include "hocba/signer/timestamp.h"
#include "hocba/signer/verify.h"
#include "test_env.h"

using namespace hocba;
using namespace hocba::signer;
using namespace std::chrono_literals;

namespace {

constexpr int kRecords = 8;
constexpr auto kSignDelay = 200ms;  // p11test's sign_delay_ms
constexpr auto kTsaDelay = 1000ms;  // hocba-test-tsa --delay-ms

bool exists(const std::string& p) { return std::filesystem::exists(p); }

class Batch : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tokens_ = new test::TempDir();
    test::provision_softhsm(tokens_->path());
    test::make_tsa_certificate(tokens_->file("tsa"), tokens_->file("pki/sub.pem"), tokens_->file("pki/sub.key"),
                               "/C=VN/O=hocba test PKI/CN=hocba Test TSA");
    // The token, slowed down like a USB token: 200 ms more per signature.
    conf_ = tokens_->file("p11test.conf");
    test::write_text(conf_, "module=" + std::string(test::kSoftHsm) + "\nsign_delay_ms=" +
                                std::to_string(kSignDelay.count()) + "\n");
    setenv("HOCBA_P11TEST_CONF", conf_.c_str(), 1);
  }
  static void TearDownTestSuite() {
    delete tokens_;
    tokens_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(hsm_.load_module(HOCBA_P11TEST_MODULE).ok());
    auto uri = hsm::Pkcs11Uri::parse("pkcs11:token=GVCN-3A;object=gvcn-3a");
    ASSERT_TRUE(uri.ok());
    auto k = hsm_.find_key(*uri);
    ASSERT_TRUE(k.ok()) << k.error().message;
    keyref_ = *k;
    std::string err;
    ASSERT_TRUE(Secret::from_file(tokens_->file("pins/GVCN-3A.pin"), pin_, err)) << err;
    TokenSignOptions topts;
    topts.pin = &pin_;
    topts.batch = true;
    key_ = token_key(hsm_, keyref_, topts);
    auto root = read_file(tokens_->file("pki/root.pem"));
    ASSERT_TRUE(root.ok());
    auto certs = load_certificates(*root, "root.pem");
    ASSERT_TRUE(certs.ok());
    anchors_ = *certs;
    auto pdf = read_file(std::string(HOCBA_TEST_DATA) + "/pdf/cairo.pdf");
    ASSERT_TRUE(pdf.ok());
    cairo_ = *pdf;
  }

  // `hold_file`: the TSA answers nothing while that file exists.
  std::unique_ptr<test::ChildServer> start_tsa(std::chrono::milliseconds delay, const std::string& hold_file = "") {
    std::vector<std::string> argv{HOCBA_TEST_TSA, "--key", tokens_->file("tsa.key"), "--cert", tokens_->file("tsa.pem"),
                                  "--chain", tokens_->file("pki/sub.pem"), "--chain", tokens_->file("pki/root.pem"),
                                  "--port", "0", "--delay-ms", std::to_string(delay.count())};
    if (!hold_file.empty()) argv.insert(argv.end(), {"--hold-file", hold_file});
    return std::make_unique<test::ChildServer>(argv, dir_.file("tsa.log"));
  }

  static TimestampClientOptions tsa_options(const std::string& url) {
    TimestampClientOptions o;
    o.urls = {url};
    o.timeout = 10s;
    o.retries = 1;
    o.backoff = 20ms;
    return o;
  }

  static PadesOptions bt() {
    PadesOptions o;
    o.reason = "Xác nhận học bạ";
    o.location = "Hà Nội";
    o.level = Level::B_T;
    return o;
  }

  std::string out(int i) const { return dir_.file("record-" + std::to_string(i) + ".pdf"); }

  std::vector<BatchJob> jobs(int n) const {
    std::vector<BatchJob> js;
    for (int i = 0; i < n; ++i) {
      BatchJob j;
      j.id = "HS" + std::to_string(i);
      j.pdf = cairo_;
      j.output_path = out(i);
      js.push_back(std::move(j));
    }
    return js;
  }

  // The signed file verifies, chained to the test root, as B-T with a good timestamp.
  void expect_bt(const std::string& path) {
    auto pdf = read_file(path);
    ASSERT_TRUE(pdf.ok()) << path << ": " << pdf.error().message;
    auto rep = verify_pdf(*pdf, anchors_);
    ASSERT_TRUE(rep.ok()) << rep.error().message;
    EXPECT_TRUE(rep->all_valid) << to_text(*rep);
    ASSERT_EQ(rep->signatures.size(), 1u);
    const auto& s = rep->signatures[0];
    EXPECT_EQ(s.level, "B-T");
    EXPECT_TRUE(s.timestamp.present);
    EXPECT_TRUE(s.timestamp.imprint_matches);
    EXPECT_TRUE(s.timestamp.verifies) << s.timestamp.detail;
    EXPECT_EQ(s.timestamp.tsa, "CN=hocba Test TSA,O=hocba test PKI,C=VN");
  }

  static test::TempDir* tokens_;
  static std::string conf_;
  test::TempDir dir_;
  hsm::Hsm hsm_;
  hsm::KeyRef keyref_;
  Secret pin_;
  std::unique_ptr<SigningKey> key_;
  std::vector<Bytes> anchors_;
  Bytes cairo_;
};
test::TempDir* Batch::tokens_ = nullptr;
std::string Batch::conf_;

}  // namespace

TEST_F(Batch, TokenKeepsSigningWhileTimestampsArePending) {
  // The TSA holds every answer until the token has signed the last record: the batch only gets
  // through if the token never waits for a timestamp. Nothing here is timed; the watchdog only lets
  // a batch that would wait forever end, and fail.
  const std::string hold = dir_.file("tsa.hold");
  test::write_text(hold, "");
  auto tsa = start_tsa(0ms, hold);
  std::mutex release_mu;
  std::condition_variable release_cv;
  bool released = false, watchdog_fired = false;
  auto release = [&] {
    std::lock_guard lock(release_mu);
    std::filesystem::remove(hold);
    released = true;
    release_cv.notify_all();
  };
  std::thread watchdog([&] {
    std::unique_lock lock(release_mu);
    if (!release_cv.wait_for(lock, 60s, [&] { return released; })) {
      watchdog_fired = true;
      std::filesystem::remove(hold);
    }
  });
  net::HttpClient http;
  auto topts = tsa_options(tsa->url());
  topts.timeout = 120s;  // the first request waits for all the signatures
  TimestampClient client(http, topts);
  BatchOptions bo;
  bo.timestamp_workers = 4;
  std::vector<BatchProgress> seen;
  int ended = 0;
  bo.on_progress = [&](const BatchProgress& p) {  // calls are serialized, in the order of the events
    seen.push_back(p);
    if (p.signed_count == p.total && p.done == 0) release();
  };
  bo.on_job_end = [&](const JobResult&) { ++ended; };
  BatchSigner batch(*key_, bt(), client, bo);

  auto results = batch.run(jobs(kRecords));
  release();
  watchdog.join();
  EXPECT_FALSE(watchdog_fired) << "the token waited for a timestamp the TSA was holding";

  ASSERT_EQ(results.size(), static_cast<std::size_t>(kRecords));
  for (int i = 0; i < kRecords; ++i) {
    const auto& r = results[i];
    SCOPED_TRACE(r.id);
    EXPECT_EQ(r.id, "HS" + std::to_string(i));
    ASSERT_EQ(r.state, JobState::done) << job_state_name(r.state) << ": " << r.error.message;
    EXPECT_EQ(r.level, Level::B_T);
    EXPECT_EQ(r.output_path, out(i));
    EXPECT_TRUE(r.pending_path.empty());
    EXPECT_FALSE(exists(out(i) + ".pending"));
    EXPECT_TRUE(r.timestamp_time.has_value());
    EXPECT_EQ(r.tsa_name, "CN=hocba Test TSA,O=hocba test PKI,C=VN");
    ASSERT_TRUE(r.sign_start && r.sign_end && r.timestamp_start && r.timestamp_end);
    EXPECT_LE(*r.sign_start, *r.sign_end);
    EXPECT_GE(*r.timestamp_start, *r.sign_end);
    expect_bt(out(i));
  }
  // The pipeline: the token signed record k+1 before record k's timestamp came back.
  for (int i = 0; i + 1 < kRecords; ++i)
    EXPECT_TRUE(*results[i + 1].sign_start < *results[i].timestamp_end)
        << "record " << i + 1 << " was signed after record " << i << "'s timestamp came back";

  EXPECT_EQ(ended, kRecords);
  ASSERT_FALSE(seen.empty());
  // In the order of the events: every record signed, and all of them pending at once, before the
  // first one was done.
  auto all_signed = std::find_if(seen.begin(), seen.end(), [](const BatchProgress& p) { return p.signed_count == kRecords; });
  auto first_done = std::find_if(seen.begin(), seen.end(), [](const BatchProgress& p) { return p.done > 0; });
  ASSERT_NE(all_signed, seen.end());
  EXPECT_LT(all_signed - seen.begin(), first_done - seen.begin());
  std::size_t most_pending = 0;
  for (auto it = seen.begin(); it != first_done; ++it) most_pending = std::max(most_pending, it->pending);
  EXPECT_EQ(most_pending, static_cast<std::size_t>(kRecords));
  for (std::size_t k = 1; k < seen.size(); ++k) EXPECT_GE(seen[k].done, seen[k - 1].done);  // in order
  EXPECT_EQ(seen.back().total, static_cast<std::size_t>(kRecords));
  EXPECT_EQ(seen.back().done, static_cast<std::size_t>(kRecords));
  EXPECT_EQ(seen.back().signed_count, static_cast<std::size_t>(kRecords));
  EXPECT_EQ(seen.back().pending, 0u);
  EXPECT_TRUE(seen.back().finished());
}

TEST_F(Batch, TsaDownLeavesEveryRecordWaitingAndFinishCompletesThem) {
  net::HttpClient http;
  TimestampClient down(http, tsa_options("http://127.0.0.1:" + std::to_string(test::closed_port()) + "/"));
  BatchSigner batch(*key_, bt(), down);
  auto results = batch.run(jobs(kRecords));
  ASSERT_EQ(results.size(), static_cast<std::size_t>(kRecords));
  for (int i = 0; i < kRecords; ++i) {
    const auto& r = results[i];
    SCOPED_TRACE(r.id);
    EXPECT_EQ(r.state, JobState::waiting_for_timestamp) << job_state_name(r.state);
    EXPECT_EQ(r.error.code, Errc::unavailable) << r.error.message;
    EXPECT_NE(r.error.message.find("the signature is kept in " + out(i) + ".pending"), std::string::npos) << r.error.message;
    EXPECT_EQ(r.pending_path, out(i) + ".pending");
    EXPECT_TRUE(exists(out(i) + ".pending"));
    EXPECT_FALSE(exists(out(i)));
    EXPECT_TRUE(r.sign_end.has_value());
    EXPECT_TRUE(r.output_path.empty());
  }
  // The reason names the TSA when it was asked (and says it was not asked once it kept failing).
  EXPECT_NE(results[0].error.message.find("cannot connect"), std::string::npos) << results[0].error.message;
  EXPECT_EQ(std::filesystem::status(out(0) + ".pending").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  // Later, with a TSA that answers: every pending signature is finished and verifies.
  auto tsa = start_tsa(0ms);
  TimestampClient up(http, tsa_options(tsa->url()));
  for (int i = 0; i < kRecords; ++i) {
    auto done = finish_pending_file(out(i) + ".pending", out(i), &up);
    ASSERT_TRUE(done.ok()) << done.error().message;
    EXPECT_EQ(done->level, Level::B_T);
    EXPECT_FALSE(exists(out(i) + ".pending"));
    expect_bt(out(i));
  }
  // Nothing left to finish: a clear error.
  auto again = finish_pending_file(out(0) + ".pending", out(0), &up);
  EXPECT_FALSE(again.ok());
}

TEST_F(Batch, TsaFailureLimitStopsAskingADeadTsa) {
  net::HttpClient http;
  TimestampClient down(http, tsa_options("http://127.0.0.1:" + std::to_string(test::closed_port()) + "/"));
  BatchOptions bo;
  bo.timestamp_workers = 1;
  bo.tsa_failure_limit = 2;
  BatchSigner batch(*key_, bt(), down, bo);
  auto results = batch.run(jobs(4));
  ASSERT_EQ(results.size(), 4u);
  for (const auto& r : results) {
    EXPECT_EQ(r.state, JobState::waiting_for_timestamp);
    EXPECT_TRUE(exists(r.pending_path));
  }
  EXPECT_TRUE(results[0].timestamp_start.has_value());
  EXPECT_TRUE(results[1].timestamp_start.has_value());
  for (int i = 2; i < 4; ++i) {
    EXPECT_FALSE(results[i].timestamp_start.has_value());
    EXPECT_NE(results[i].error.message.find("the timestamp was not asked: the last 2 records got none"), std::string::npos)
        << results[i].error.message;
  }
}

TEST_F(Batch, ASigningFailureFailsThatRecordOnly) {
  auto tsa = start_tsa(0ms);
  net::HttpClient http;
  TimestampClient client(http, tsa_options(tsa->url()));
  auto js = jobs(4);
  std::string text = "this is not a PDF\n";
  js[2].pdf.assign(text.begin(), text.end());
  js[3].pdf.clear();
  js[3].input_path = std::string(HOCBA_TEST_DATA) + "/pdf/qpdf-xrefstream.pdf";  // read when its turn comes
  BatchSigner batch(*key_, bt(), client);
  auto results = batch.run(std::move(js));
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[2].state, JobState::failed);
  EXPECT_FALSE(results[2].error.message.empty());
  EXPECT_FALSE(results[2].timestamp_start.has_value());
  EXPECT_FALSE(exists(out(2)));
  EXPECT_FALSE(exists(out(2) + ".pending"));
  for (int i : {0, 1, 3}) {
    EXPECT_EQ(results[i].state, JobState::done) << results[i].id << ": " << results[i].error.message;
    expect_bt(out(i));
  }
}

TEST_F(Batch, APinTheTokenRefusesCancelsTheRest) {
  Secret wrong("000000");
  TokenSignOptions topts;
  topts.pin = &wrong;
  auto bad = token_key(hsm_, keyref_, topts);
  net::HttpClient http;
  TimestampClient client(http, tsa_options("http://127.0.0.1:" + std::to_string(test::closed_port()) + "/"));
  BatchSigner batch(*bad, bt(), client);
  auto results = batch.run(jobs(3));
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].state, JobState::failed);
  EXPECT_EQ(results[0].error.code, Errc::pin_incorrect) << results[0].error.message;
  for (int i : {1, 2}) {
    EXPECT_EQ(results[i].state, JobState::cancelled);
    EXPECT_NE(results[i].error.message.find("the token failed on an earlier record"), std::string::npos);
    EXPECT_FALSE(results[i].sign_start.has_value());
  }
  // The token now reports a recent wrong PIN: one signature with the right PIN, confirmed, clears it
  // for the tests that follow in this process.
  TokenSignOptions confirm;
  confirm.pin = &pin_;
  confirm.confirm_pin_risk = true;
  auto good = token_key(hsm_, keyref_, confirm);
  Bytes digest(32, 1);
  EXPECT_TRUE(good->sign_digest(Hash::sha256, Scheme::rsa_pkcs1, digest).ok());
}

TEST_F(Batch, StopLetsTimestampsInFlightFinishAndKeepsThePendingFiles) {
  auto tsa = start_tsa(kTsaDelay);
  net::HttpClient http;
  TimestampClient client(http, tsa_options(tsa->url()));
  BatchOptions bo;
  BatchSigner* self = nullptr;
  // Stop as soon as the token has signed the third record (before it is queued for its timestamp).
  bo.on_progress = [&](const BatchProgress& p) {
    if (p.signed_count == 3 && !self->stopping()) self->stop();
  };
  BatchSigner batch(*key_, bt(), client, bo);
  self = &batch;
  auto results = batch.run(jobs(kRecords));
  ASSERT_EQ(results.size(), static_cast<std::size_t>(kRecords));
  for (int i : {0, 1}) {  // asked before stop(): answered after it
    EXPECT_EQ(results[i].state, JobState::done) << results[i].error.message;
    expect_bt(out(i));
  }
  EXPECT_EQ(results[2].state, JobState::waiting_for_timestamp);
  EXPECT_NE(results[2].error.message.find("the batch was stopped"), std::string::npos) << results[2].error.message;
  EXPECT_TRUE(exists(out(2) + ".pending"));
  EXPECT_FALSE(exists(out(2)));
  for (int i = 3; i < kRecords; ++i) {
    EXPECT_EQ(results[i].state, JobState::cancelled);
    EXPECT_FALSE(exists(out(i) + ".pending"));
    EXPECT_FALSE(exists(out(i)));
  }
  // The kept one is finished later.
  auto done = finish_pending_file(out(2) + ".pending", out(2), &client);
  ASSERT_TRUE(done.ok()) << done.error().message;
  expect_bt(out(2));
}

TEST_F(Batch, BBToASinkWithoutPendingFiles) {
  BatchSigner batch(*key_, PadesOptions{});
  std::mutex mu;
  std::vector<Bytes> got(2);
  auto js = jobs(2);
  for (int i = 0; i < 2; ++i) {
    js[i].output_path.clear();
    js[i].deliver = [&, i](const SignOutcome& o) -> Status {
      std::lock_guard lock(mu);
      got[i] = o.pdf;
      return {};
    };
  }
  auto results = batch.run(std::move(js));
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(results[i].state, JobState::done) << results[i].error.message;
    EXPECT_EQ(results[i].level, Level::B_B);
    EXPECT_TRUE(results[i].output_path.empty());
    auto rep = verify_pdf(got[i], anchors_);
    ASSERT_TRUE(rep.ok());
    EXPECT_TRUE(rep->all_valid) << to_text(*rep);
    EXPECT_EQ(rep->signatures.at(0).level, "B-B");
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path()));
}
