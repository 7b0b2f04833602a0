// fuzz_make_seeds WORK_DIR IN.pdf: makes the seeds that need our own code, for make-seeds.sh.
// WORK_DIR holds the test PKI made by make-seeds.sh (signer.key/.pem, root.pem, tsa.key/.pem, ts.cnf).
// Writes into WORK_DIR: tsq.der (the timestamp request the DER targets check answers against),
// signed-bb.pdf, signed-bt.pdf (B-T, its token from `openssl ts -reply`), signed-twice.pdf (a second
// B-T signature over signed-bt.pdf, into a named field), cms.der (the CMS of signed-bb.pdf).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "fuzz_constants.h"
#include "hocba/pdf/signing.h"
#include "hocba/signer/pades.h"
#include "hocba/signer/timestamp.h"

using namespace hocba;

namespace {
std::string dir;

Bytes slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    std::exit(1);
  }
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
void spit(const std::string& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
template <class T>
T must(Result<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "%s: %s\n", what, r.error().message.c_str());
    std::exit(1);
  }
  return std::move(*r);
}

// A TSA: `openssl ts -reply` on the request.
class OpensslTsa : public signer::HttpPoster {
 public:
  Result<Bytes> post(const std::string&, const std::string&, std::span<const std::uint8_t> body, std::chrono::milliseconds) override {
    spit(dir + "/post.tsq", Bytes(body.begin(), body.end()));
    std::string cmd = "cd '" + dir + "' && openssl ts -reply -config ts.cnf -queryfile post.tsq -signer tsa.pem -inkey tsa.key " +
                      "-chain root.pem -out post.tsr 2>/dev/null";
    if (std::system(cmd.c_str()) != 0) return make_error(Errc::unavailable, "openssl ts -reply failed");
    return slurp(dir + "/post.tsr");
  }
};
}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: fuzz_make_seeds WORK_DIR IN.pdf\n");
    return 2;
  }
  dir = argv[1];
  Bytes sv(fuzz::kSignatureValue.begin(), fuzz::kSignatureValue.end());
  spit(dir + "/tsq.der", must(signer::make_timestamp_request(sv, signer::Hash::sha256, fuzz::kNonce), "request").der);

  Bytes in = slurp(argv[2]);
  auto key = signer::software_key(slurp(dir + "/signer.key"), slurp(dir + "/signer.pem"), {slurp(dir + "/root.pem")});
  signer::PadesOptions o;
  o.reason = "Ký học bạ";
  auto pending = must(signer::prepare_and_sign(in, *key, o), "prepare_and_sign");
  spit(dir + "/cms.der", pending.cms);
  spit(dir + "/signed-bb.pdf", must(signer::finish(pending, std::nullopt), "finish").pdf);

  OpensslTsa tsa;
  signer::TimestampClientOptions to;
  to.urls = {"http://tsa.test/"};
  to.retries = 0;
  signer::TimestampClient client(tsa, to);
  o.level = signer::Level::B_T;
  o.timestamps = &client;
  Bytes bt = must(signer::sign_pdf(in, *key, o), "sign_pdf B-T").pdf;
  spit(dir + "/signed-bt.pdf", bt);
  o.field_name = "hieu_truong";
  o.lock_signed_fields = true;
  spit(dir + "/signed-twice.pdf", must(signer::sign_pdf(bt, *key, o), "sign_pdf twice").pdf);
  return 0;
}
