// Signature timestamps (PAdES B-T) without a network: a fake HttpPoster answers with OpenSSL's
// TS_RESP_create_response (an EC TSA on a fixed clock), or with broken answers on purpose — a wrong
// nonce, a wrong imprint, a rejection, garbage, a tampered signature, a TSA from another PKI, a
// timeout, an HTTP 503 — and the pending-signature file survives a round trip and refuses damage.
#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ts.h>

#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "hocba/common/fileio.h"
#include "hocba/pdf/signing.h"
#include "hocba/signer/key.h"
#include "hocba/signer/pades.h"
#include "hocba/signer/timestamp.h"
#include "hocba/signer/verify.h"
#include "test_env.h"

using namespace hocba;
using namespace hocba::signer;

namespace {

using namespace std::chrono_literals;

// The TSA's clock: 03:00 UTC tomorrow, inside the validity of the certificates made today.
const long kFixedTime = static_cast<long>((std::time(nullptr) / 86400 + 1) * 86400 + 3 * 3600);

std::string utc_iso(long t, int offset_hours = 0) {
  std::time_t s = t + offset_hours * 3600;
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return std::string(buf) + (offset_hours ? "+07:00" : "Z");
}

Bytes must_read(const std::string& path) {
  auto b = read_file(path);
  if (!b) throw std::runtime_error(b.error().message);
  return *b;
}

Bytes sha256(std::span<const std::uint8_t> d) {
  Bytes out(32);
  unsigned len = 0;
  EVP_Digest(d.data(), d.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

template <typename T, typename F>
Bytes der_of(T* obj, F i2d) {
  int n = i2d(obj, nullptr);
  Bytes out(n > 0 ? static_cast<std::size_t>(n) : 0);
  unsigned char* p = out.data();
  if (n > 0) i2d(obj, &p);
  return out;
}

int fixed_time_cb(TS_RESP_CTX*, void*, long* sec, long* usec) {
  *sec = kFixedTime;
  *usec = 0;
  return 1;
}

// An in-process TSA (EC key: quick, and no RSA method games with libp11 in this process).
class Tsa {
 public:
  Tsa(const std::string& key_pem, const std::string& cert_pem, const std::string& chain_pem) {
    ctx_ = TS_RESP_CTX_new();
    BIO* kb = BIO_new_file(key_pem.c_str(), "r");
    BIO* cb = BIO_new_file(cert_pem.c_str(), "r");
    BIO* chb = BIO_new_file(chain_pem.c_str(), "r");
    EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    STACK_OF(X509)* chain = sk_X509_new_null();
    sk_X509_push(chain, PEM_read_bio_X509(chb, nullptr, nullptr, nullptr));
    ok_ = key && cert && TS_RESP_CTX_set_signer_cert(ctx_, cert) == 1 && TS_RESP_CTX_set_signer_key(ctx_, key) == 1 &&
          TS_RESP_CTX_set_certs(ctx_, chain) == 1;
    ASN1_OBJECT* policy = OBJ_txt2obj("1.3.6.1.4.1.55555.1.1", 1);
    TS_RESP_CTX_set_def_policy(ctx_, policy);
    ASN1_OBJECT_free(policy);
    for (const EVP_MD* md : {EVP_sha256(), EVP_sha384(), EVP_sha512()}) TS_RESP_CTX_add_md(ctx_, md);
    TS_RESP_CTX_set_ess_cert_id_digest(ctx_, EVP_sha256());
    TS_RESP_CTX_add_flags(ctx_, TS_TSA_NAME);
    TS_RESP_CTX_set_time_cb(ctx_, fixed_time_cb, nullptr);
    EVP_PKEY_free(key);
    X509_free(cert);
    sk_X509_pop_free(chain, X509_free);
    BIO_free(kb);
    BIO_free(cb);
    BIO_free(chb);
  }
  ~Tsa() { TS_RESP_CTX_free(ctx_); }
  bool ok() const { return ok_; }

  // The response to a DER request, after `edit` changed the request (nonce, imprint) if given.
  Bytes respond(std::span<const std::uint8_t> query, const std::function<void(TS_REQ*)>& edit = {}) {
    const unsigned char* p = query.data();
    TS_REQ* req = d2i_TS_REQ(nullptr, &p, static_cast<long>(query.size()));
    if (!req) return {};
    if (edit) edit(req);
    Bytes edited = der_of(req, i2d_TS_REQ);
    TS_REQ_free(req);
    BIO* in = BIO_new_mem_buf(edited.data(), static_cast<int>(edited.size()));
    TS_RESP* resp = TS_RESP_create_response(ctx_, in);
    BIO_free(in);
    Bytes out = resp ? der_of(resp, i2d_TS_RESP) : Bytes{};
    TS_RESP_free(resp);
    return out;
  }

 private:
  TS_RESP_CTX* ctx_ = nullptr;
  bool ok_ = false;
};

// TimeStampResp { PKIStatusInfo { rejection, "unsupported algorithm", badAlg } }, DER by hand (the
// status setters for failure info and text are private to OpenSSL).
Bytes rejection() {
  const std::string text = "unsupported algorithm";
  std::string info = std::string("\x02\x01\x02\x30", 4) + static_cast<char>(text.size() + 2) + '\x0c' +
                     static_cast<char>(text.size()) + text + std::string("\x03\x02\x07\x80", 4);
  std::string der = std::string("\x30", 1) + static_cast<char>(info.size() + 2) + '\x30' + static_cast<char>(info.size()) + info;
  return Bytes(der.begin(), der.end());
}

// Flips a byte of the token's signature.
Bytes tamper_signature(const Bytes& response) {
  const unsigned char* p = response.data();
  TS_RESP* resp = d2i_TS_RESP(nullptr, &p, static_cast<long>(response.size()));
  PKCS7* token = TS_RESP_get_token(resp);
  PKCS7_SIGNER_INFO* si = sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(token), 0);
  si->enc_digest->data[si->enc_digest->length - 3] ^= 0x01;
  Bytes out = der_of(resp, i2d_TS_RESP);
  TS_RESP_free(resp);
  return out;
}

enum class Answer { good, wrong_nonce, wrong_imprint, rejected, garbage, tampered, other_tsa, timeout, http503 };

// The fake transport: answers each call with the next scripted answer (the last one repeats).
class FakePoster final : public HttpPoster {
 public:
  FakePoster(Tsa& tsa, Tsa& other) : tsa_(tsa), other_(other) {}
  std::vector<Answer> script{Answer::good};
  std::map<std::string, Answer> per_url;  // overrides the script for these URLs
  std::vector<std::string> calls;

  Result<Bytes> post(const std::string& url, const std::string& content_type, std::span<const std::uint8_t> body,
                     std::chrono::milliseconds timeout) override {
    EXPECT_EQ(content_type, "application/timestamp-query");
    Answer a = per_url.count(url) ? per_url[url] : script[std::min(calls.size(), script.size() - 1)];
    calls.push_back(url);
    switch (a) {
      case Answer::good: return tsa_.respond(body);
      case Answer::wrong_nonce:
        return tsa_.respond(body, [](TS_REQ* r) {
          ASN1_INTEGER* n = ASN1_INTEGER_new();
          ASN1_INTEGER_set(n, 42);
          TS_REQ_set_nonce(r, n);
          ASN1_INTEGER_free(n);
        });
      case Answer::wrong_imprint:
        return tsa_.respond(body, [](TS_REQ* r) {
          ASN1_OCTET_STRING* h = TS_MSG_IMPRINT_get_msg(TS_REQ_get_msg_imprint(r));
          h->data[0] ^= 0xff;
        });
      case Answer::rejected: return rejection();
      case Answer::garbage: return Bytes{'<', 'h', 't', 'm', 'l', '>', 'o', 'o', 'p', 's'};
      case Answer::tampered: return tamper_signature(tsa_.respond(body));
      case Answer::other_tsa: return other_.respond(body);
      case Answer::timeout:
        return make_error(Errc::timeout, url + " did not answer within " + std::to_string(timeout.count() / 1000) + " s");
      case Answer::http503: return make_error(Errc::unavailable, url + " answered HTTP 503 Service Unavailable");
    }
    return Bytes{};
  }

 private:
  Tsa& tsa_;
  Tsa& other_;
};

class Timestamps : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    std::string d = dir_->path();
    auto r = test::run(
        "(set -e; cd " + d +
        "; for ca in ca other-ca; do openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $ca.key "
        "-out $ca.pem -days 30 -subj \"/C=VN/O=hocba unit PKI/CN=$ca\" -addext basicConstraints=critical,CA:TRUE "
        "-addext keyUsage=critical,keyCertSign,cRLSign; done"
        "; printf 'basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature,nonRepudiation\\n' > ext"
        "; openssl req -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.csr -utf8 -subj '/C=VN/CN=Nguyễn Văn An'"
        "; openssl x509 -req -in rsa.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 30 -extfile ext -out rsa.pem)");
    ASSERT_EQ(r.status, 0) << r.out;
    test::make_tsa_certificate(d + "/tsa", d + "/ca.pem", d + "/ca.key", "/C=VN/O=hocba unit PKI/CN=Unit Test TSA", "ec");
    test::make_tsa_certificate(d + "/other-tsa", d + "/other-ca.pem", d + "/other-ca.key", "/CN=Other TSA", "ec");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string file(const std::string& n) { return dir_->file(n); }
  static Bytes ca_der() { return (*load_certificates(must_read(file("ca.pem")), "ca"))[0]; }
  static Bytes pdf() { return must_read(std::string(HOCBA_TEST_DATA) + "/pdf/cairo.pdf"); }
  std::unique_ptr<SigningKey> key() { return software_key(must_read(file("rsa.key")), must_read(file("rsa.pem"))); }

  TimestampClientOptions client_opts(std::vector<std::string> urls = {"http://tsa.test/"}) {
    TimestampClientOptions o;
    o.urls = std::move(urls);
    o.timeout = 2s;
    o.retries = 2;
    o.backoff = 1ms;
    return o;
  }

  static test::TempDir* dir_;
  Tsa tsa_{file("tsa.key"), file("tsa.pem"), file("ca.pem")};
  Tsa other_{file("other-tsa.key"), file("other-tsa.pem"), file("other-ca.pem")};
  FakePoster http_{tsa_, other_};
};
test::TempDir* Timestamps::dir_ = nullptr;

const Bytes kSig = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

}  // namespace

TEST_F(Timestamps, RequestIsRfc3161WithNonceAndCertReq) {
  auto a = make_timestamp_request(kSig);
  auto b = make_timestamp_request(kSig);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->nonce, b->nonce) << "a fresh random nonce each time";
  EXPECT_EQ(a->imprint, sha256(kSig));
  const unsigned char* p = a->der.data();
  TS_REQ* req = d2i_TS_REQ(nullptr, &p, static_cast<long>(a->der.size()));
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(TS_REQ_get_version(req), 1);
  EXPECT_EQ(TS_REQ_get_cert_req(req), 1);
  std::uint64_t nonce = 0;
  ASSERT_EQ(ASN1_INTEGER_get_uint64(&nonce, TS_REQ_get_nonce(req)), 1);
  EXPECT_EQ(nonce, a->nonce);
  TS_MSG_IMPRINT* mi = TS_REQ_get_msg_imprint(req);
  const ASN1_OBJECT* alg = nullptr;
  X509_ALGOR_get0(&alg, nullptr, nullptr, TS_MSG_IMPRINT_get_algo(mi));
  EXPECT_EQ(OBJ_obj2nid(alg), NID_sha256);
  ASN1_OCTET_STRING* h = TS_MSG_IMPRINT_get_msg(mi);
  EXPECT_EQ(Bytes(h->data, h->data + h->length), sha256(kSig));
  EXPECT_EQ(TS_REQ_get_policy_id(req), nullptr);
  TS_REQ_free(req);

  auto c = make_timestamp_request(kSig, Hash::sha384, 7);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->imprint.size(), 48u);
  EXPECT_EQ(c->nonce, 7u);
}

TEST_F(Timestamps, GoodAnswerGivesACheckedToken) {
  ASSERT_TRUE(tsa_.ok());
  auto req = make_timestamp_request(kSig);
  auto tok = check_timestamp_response(tsa_.respond(req->der), *req, {ca_der()});
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  EXPECT_EQ(tok->gen_time, std::chrono::system_clock::from_time_t(kFixedTime));
  EXPECT_NE(tok->tsa_name.find("CN=Unit Test TSA"), std::string::npos) << tok->tsa_name;
  EXPECT_EQ(tok->policy, "1.3.6.1.4.1.55555.1.1");
  EXPECT_FALSE(tok->serial_hex.empty());
  // Without anchors the token's own certificate is enough.
  auto again = check_timestamp_response(tsa_.respond(req->der), *req, {});
  EXPECT_TRUE(again.ok()) << again.error().message;

  auto info = read_timestamp_token(tok->der);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->imprint, sha256(kSig));
  EXPECT_EQ(info->imprint_algorithm, "SHA256");
  auto check = check_timestamp_token(tok->der, kSig, {ca_der()});
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->imprint_matches);
  EXPECT_TRUE(check->verifies) << check->detail;
  auto other = check_timestamp_token(tok->der, Bytes{9, 9, 9}, {});
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->imprint_matches);
}

TEST_F(Timestamps, BrokenAnswersAreRefusedWithClearReasons) {
  struct Case {
    Answer answer;
    const char* says;
  } cases[] = {
      {Answer::wrong_nonce, "nonce does not match"},
      {Answer::wrong_imprint, "message imprint is not the hash of this signature"},
      {Answer::rejected, "refused the request: rejection, badAlg: unsupported algorithm"},
      {Answer::garbage, "not an RFC 3161 TimeStampResp"},
      {Answer::tampered, "does not verify"},
      {Answer::other_tsa, "does not chain to a trusted timestamping anchor"},
  };
  for (const auto& c : cases) {
    http_.script = {c.answer};
    auto req = make_timestamp_request(kSig);
    auto body = http_.post("http://tsa.test/", "application/timestamp-query", req->der, 2s);
    ASSERT_TRUE(body.ok());
    auto tok = check_timestamp_response(*body, *req, {ca_der()});
    ASSERT_FALSE(tok.ok()) << static_cast<int>(c.answer);
    EXPECT_EQ(tok.error().code, Errc::verify_failed);
    EXPECT_NE(tok.error().message.find(c.says), std::string::npos) << tok.error().message;
    EXPECT_EQ(tok.error().message.find('\n'), std::string::npos) << "one line";
  }
  // A TSA certificate from another PKI is fine when no anchors are configured.
  http_.script = {Answer::other_tsa};
  auto req = make_timestamp_request(kSig);
  auto ok = check_timestamp_response(*http_.post("u", "application/timestamp-query", req->der, 2s), *req, {});
  EXPECT_TRUE(ok.ok()) << ok.error().message;
}

TEST_F(Timestamps, TimestampAttributeIsAddedAsUnsignedAttribute) {
  auto k = key();
  PadesOptions opts;
  auto pending = prepare_and_sign(pdf(), *k, opts);
  ASSERT_TRUE(pending.ok()) << pending.error().message;
  auto req = make_timestamp_request(pending->signature_value);
  auto tok = check_timestamp_response(tsa_.respond(req->der), *req, {ca_der()});
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  auto with = add_signature_timestamp(pending->cms, tok->der);
  ASSERT_TRUE(with.ok()) << with.error().message;

  const unsigned char* p = with->data();
  CMS_ContentInfo* cms = d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(with->size()));
  ASSERT_NE(cms, nullptr);
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
  EXPECT_EQ(CMS_unsigned_get_attr_count(si), 1);
  X509_ATTRIBUTE* a = CMS_unsigned_get_attr(si, 0);
  char oid[64];
  OBJ_obj2txt(oid, sizeof oid, X509_ATTRIBUTE_get0_object(a), 1);
  EXPECT_STREQ(oid, "1.2.840.113549.1.9.16.2.14");
  ASN1_TYPE* v = X509_ATTRIBUTE_get0_type(a, 0);
  ASSERT_EQ(v->type, V_ASN1_SEQUENCE);
  EXPECT_EQ(Bytes(v->value.sequence->data, v->value.sequence->data + v->value.sequence->length), tok->der);
  EXPECT_EQ(CMS_signed_get_attr_count(si), 3) << "the signed attributes are untouched";
  CMS_ContentInfo_free(cms);
  EXPECT_EQ(*cms_signature_value(*with), pending->signature_value);
  auto twice = add_signature_timestamp(*with, tok->der);
  EXPECT_FALSE(twice.ok());
}

TEST_F(Timestamps, SignPdfAtBTVerifiesWithTheTsaTime) {
  TimestampClient client(http_, client_opts());
  auto k = key();
  PadesOptions opts;
  opts.extra_certs = {ca_der()};
  opts.level = Level::B_T;
  opts.timestamps = &client;
  auto out = sign_pdf(pdf(), *k, opts);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->level, Level::B_T);
  EXPECT_EQ(out->reserved_size - out->cms_size > 0, true);

  auto rep = verify_pdf(out->pdf, {ca_der()});
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  ASSERT_EQ(rep->signatures.size(), 1u);
  const auto& s = rep->signatures[0];
  EXPECT_TRUE(s.valid) << s.integrity_detail << s.timestamp.detail;
  EXPECT_EQ(s.level, "B-T");
  EXPECT_TRUE(s.timestamp.present);
  EXPECT_TRUE(s.timestamp.imprint_matches);
  EXPECT_TRUE(s.timestamp.verifies) << s.timestamp.detail;
  EXPECT_EQ(s.timestamp.time, utc_iso(kFixedTime, 7));
  EXPECT_EQ(s.timestamp.time_utc, utc_iso(kFixedTime));
  EXPECT_EQ(s.timestamp.time.substr(11), "10:00:00+07:00");
  EXPECT_NE(s.timestamp.tsa.find("Unit Test TSA"), std::string::npos);
  std::string text = to_text(*rep);
  EXPECT_NE(text.find("PAdES B-T"), std::string::npos) << text;
  EXPECT_NE(text.find(utc_iso(kFixedTime, 7) + " (" + utc_iso(kFixedTime) + ")"), std::string::npos) << text;
  EXPECT_NE(to_json(*rep).find("\"level\":\"B-T\""), std::string::npos);

  // A B-B signature says so.
  auto bb = sign_pdf(pdf(), *k, PadesOptions{});
  auto rb = verify_pdf(bb->pdf, {});
  EXPECT_EQ(rb->signatures[0].level, "B-B");
  EXPECT_FALSE(rb->signatures[0].timestamp.present);
  EXPECT_EQ(bb->level, Level::B_B);
}

TEST_F(Timestamps, ClientRetriesThenGivesOneClearLine) {
  {
    http_.script = {Answer::http503, Answer::good};
    TimestampClient client(http_, client_opts());
    auto t = client.timestamp(kSig);
    ASSERT_TRUE(t.ok()) << t.error().message;
    EXPECT_EQ(http_.calls.size(), 2u);
  }
  {
    http_.calls.clear();
    http_.script = {Answer::timeout};
    auto o = client_opts();
    o.timeout = 30s;
    TimestampClient client(http_, o);
    auto t = client.timestamp(kSig);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.error().code, Errc::unavailable);
    EXPECT_EQ(t.error().message, "the timestamp authority at http://tsa.test/ did not answer within 30 s (3 tries)");
    EXPECT_EQ(http_.calls.size(), 3u);
  }
  {
    http_.calls.clear();
    http_.script = {Answer::wrong_nonce};
    TimestampClient client(http_, client_opts());
    auto t = client.timestamp(kSig);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.error().code, Errc::verify_failed);
    EXPECT_NE(t.error().message.find("gave no usable timestamp (3 tries)"), std::string::npos) << t.error().message;
  }
  {
    // The first URL never answers: the second one is asked.
    http_.calls.clear();
    http_.script = {Answer::good};
    http_.per_url["http://down.test/"] = Answer::timeout;
    auto o = client_opts({"http://down.test/", "http://tsa.test/"});
    o.retries = 1;
    TimestampClient client(http_, o);
    auto t = client.timestamp(kSig);
    ASSERT_TRUE(t.ok()) << t.error().message;
    EXPECT_EQ(http_.calls, (std::vector<std::string>{"http://down.test/", "http://down.test/", "http://tsa.test/"}));
  }
}

TEST_F(Timestamps, PlaceholderIsSizedFromTheLargestTokenSeen) {
  TimestampClient client(http_, client_opts());
  EXPECT_EQ(client.estimated_token_size(), TimestampClient::kDefaultTokenSize);
  auto t = client.timestamp(kSig);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(client.estimated_token_size(), t->der.size());
  client.note_token_size("http://tsa.test/", 100);  // smaller: the largest is kept
  EXPECT_EQ(client.estimated_token_size(), t->der.size());
  client.note_token_size("http://elsewhere.test/", 99999);  // not a configured URL
  EXPECT_EQ(client.estimated_token_size(), t->der.size());

  auto k = key();
  PadesOptions bb;
  auto plain = prepare_and_sign(pdf(), *k, bb);
  PadesOptions bt;
  bt.level = Level::B_T;
  bt.timestamps = &client;
  auto stamped = prepare_and_sign(pdf(), *k, bt);
  ASSERT_TRUE(plain.ok() && stamped.ok());
  EXPECT_EQ(stamped->contents_length - plain->contents_length, 2 * (t->der.size() + kTimestampMargin));
  EXPECT_EQ(stamped->tsa_urls, std::vector<std::string>{"http://tsa.test/"});
}

TEST_F(Timestamps, PendingSignatureSurvivesAFileAndFinishesLater) {
  TimestampClient client(http_, client_opts());
  auto k = key();
  PadesOptions opts;
  opts.extra_certs = {ca_der()};
  opts.level = Level::B_T;
  opts.timestamps = &client;
  auto pending = prepare_and_sign(pdf(), *k, opts);
  ASSERT_TRUE(pending.ok()) << pending.error().message;
  Bytes file = pending->serialize();
  auto back = PendingSignature::parse(file);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->prepared_pdf, pending->prepared_pdf);
  EXPECT_EQ(back->cms, pending->cms);
  EXPECT_EQ(back->signature_value, pending->signature_value);
  EXPECT_EQ(back->byte_range, pending->byte_range);
  EXPECT_EQ(back->field_name, "Signature1");
  EXPECT_EQ(back->level, Level::B_T);
  EXPECT_EQ(back->tsa_urls, std::vector<std::string>{"http://tsa.test/"});
  EXPECT_EQ(back->serialize(), file);

  // Damage anywhere is refused, never a crash.
  for (std::size_t at : {std::size_t(0), std::size_t(30), file.size() / 2, file.size() - 1}) {
    Bytes bad = file;
    bad[at] ^= 0x20;
    EXPECT_FALSE(PendingSignature::parse(bad).ok()) << at;
  }
  for (std::size_t n : {std::size_t(0), std::size_t(10), file.size() / 3, file.size() - 1})
    EXPECT_FALSE(PendingSignature::parse(std::span<const std::uint8_t>(file.data(), n)).ok()) << n;

  // A token for another signature is refused; the right one finishes it.
  auto req_other = make_timestamp_request(kSig);
  auto other = check_timestamp_response(tsa_.respond(req_other->der), *req_other, {});
  ASSERT_TRUE(other.ok());
  auto wrong = finish(*back, other->der);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("does not cover this signature"), std::string::npos);

  auto tok = client.timestamp(back->signature_value);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  auto done = finish(*back, tok->der);
  ASSERT_TRUE(done.ok()) << done.error().message;
  auto rep = verify_pdf(done->pdf, {ca_der()});
  ASSERT_TRUE(rep.ok());
  EXPECT_TRUE(rep->all_valid);
  EXPECT_EQ(rep->signatures[0].level, "B-T");

  // Without a token: a valid B-B signature (nothing is lost when no TSA ever answers).
  auto plain = finish(*back, std::nullopt);
  ASSERT_TRUE(plain.ok());
  auto rb = verify_pdf(plain->pdf, {ca_der()});
  EXPECT_TRUE(rb->all_valid);
  EXPECT_EQ(rb->signatures[0].level, "B-B");
}

TEST_F(Timestamps, TokenTooLargeForThePlaceholderIsAClearError) {
  TimestampClient client(http_, client_opts());
  client.note_token_size("http://tsa.test/", 1);  // a TSA that once gave a tiny token
  auto k = key();
  PadesOptions opts;
  opts.level = Level::B_T;
  opts.timestamps = &client;
  auto out = sign_pdf(pdf(), *k, opts);
  auto t = client.timestamp(kSig);
  if (t->der.size() < kTimestampMargin) GTEST_SKIP() << "the token fits the margin";
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, Errc::too_large);
  EXPECT_NE(out.error().message.find("does not fit the space reserved"), std::string::npos) << out.error().message;
}

TEST_F(Timestamps, TimestampForAnotherSignatureMakesItInvalid) {
  TimestampClient client(http_, client_opts());
  auto k = key();
  PadesOptions opts;
  opts.level = Level::B_T;
  opts.timestamps = &client;
  auto pending = prepare_and_sign(pdf(), *k, opts);
  ASSERT_TRUE(pending.ok());
  auto req = make_timestamp_request(kSig);  // not this signature's value
  auto tok = check_timestamp_response(tsa_.respond(req->der), *req, {});
  ASSERT_TRUE(tok.ok());
  auto cms = add_signature_timestamp(pending->cms, tok->der);
  ASSERT_TRUE(cms.ok());
  pdf::PreparedSignature p;
  p.file = pending->prepared_pdf;
  p.byte_range = pending->byte_range;
  p.contents_offset = pending->contents_offset;
  p.contents_length = pending->contents_length;
  ASSERT_TRUE(pdf::embed_signature(p, *cms).ok());
  auto rep = verify_pdf(p.file, {ca_der()});
  ASSERT_TRUE(rep.ok());
  const auto& s = rep->signatures[0];
  EXPECT_TRUE(s.intact);
  EXPECT_TRUE(s.timestamp.present);
  EXPECT_FALSE(s.timestamp.imprint_matches);
  EXPECT_FALSE(s.valid);
  EXPECT_EQ(s.level, "B-B");
  EXPECT_NE(to_text(*rep).find("NOT valid: its message imprint is not the hash of this signature"), std::string::npos)
      << to_text(*rep);
}

TEST(Levels, NamesAndReservedLevels) {
  EXPECT_STREQ(level_name(Level::B_T), "B-T");
  EXPECT_EQ(parse_level("B-B"), Level::B_B);
  EXPECT_EQ(parse_level("b_t"), Level::B_T);
  EXPECT_EQ(parse_level("B-LTA"), Level::B_LTA);
  EXPECT_FALSE(parse_level("B-X").has_value());
}
