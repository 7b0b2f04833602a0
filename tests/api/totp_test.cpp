// TOTP and base32: the RFC known-answer tables, the acceptance window, what is refused, the URI.
#include "hocba/api/totp.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <string>
#include <vector>

#include "test_env.h"

using namespace hocba;
using namespace hocba::api;

namespace {

// The RFC 4226/6238 test secret: the ASCII bytes "12345678901234567890".
const std::string kRfcSecret = base32_encode(std::span<const std::uint8_t>(
    reinterpret_cast<const std::uint8_t*>("12345678901234567890"), 20));

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

TEST(Base32, Rfc4648Vectors) {
  struct Case {
    const char* plain;
    const char* padded;
    const char* unpadded;
  };
  const Case cases[] = {{"", "", ""},
                        {"f", "MY======", "MY"},
                        {"fo", "MZXQ====", "MZXQ"},
                        {"foo", "MZXW6===", "MZXW6"},
                        {"foob", "MZXW6YQ=", "MZXW6YQ"},
                        {"fooba", "MZXW6YTB", "MZXW6YTB"},
                        {"foobar", "MZXW6YTBOI======", "MZXW6YTBOI"}};
  for (const auto& c : cases) {
    std::string plain = c.plain;
    EXPECT_EQ(base32_encode(bytes_of(plain)), c.unpadded);
    for (const char* text : {c.padded, c.unpadded}) {
      auto d = base32_decode(text);
      ASSERT_TRUE(d) << text;
      EXPECT_EQ(std::string(d->begin(), d->end()), plain) << text;
    }
    std::string lower = c.unpadded;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    auto d = base32_decode(lower);
    ASSERT_TRUE(d) << lower;
    EXPECT_EQ(std::string(d->begin(), d->end()), plain);
  }
  EXPECT_EQ(kRfcSecret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

TEST(Base32, RoundTripsEveryLength) {
  Bytes b;
  for (int n = 0; n < 64; ++n) {
    std::string e = base32_encode(b);
    EXPECT_EQ(e.size(), (b.size() * 8 + 4) / 5);
    auto d = base32_decode(e);
    ASSERT_TRUE(d) << e;
    EXPECT_EQ(*d, b);
    b.push_back(static_cast<std::uint8_t>(n * 37 + 11));
  }
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<std::uint8_t>(i);
  EXPECT_EQ(*base32_decode(base32_encode(all)), all);
}

TEST(Base32, RefusesMalformedText) {
  for (const char* bad : {"M", "MZX", "MZXW6Y", "MZXW6YTBO",  // lengths no encoder produces
                          "MY=", "MY=====", "MY=======", "MZXQ====MZXQ====", "========", "M=Y=====",  // padding
                          "MZ1Q", "MZ8Q", "MZ Q", "MZXQ\n", "MZ-Q", "MZXÔ",                      // characters
                          "MZ", "MZXR", "MZXW7", "MZXW6YR"}) {                                     // unused bits set
    EXPECT_FALSE(base32_decode(bad)) << bad;
  }
}

TEST(Totp, Rfc6238AppendixB) {
  struct Case {
    std::int64_t t;
    const char* code;
  };
  const Case cases[] = {{59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
                        {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"}};
  for (const auto& c : cases) EXPECT_EQ(totp_code(kRfcSecret, c.t, 8), c.code) << c.t;
}

TEST(Totp, Rfc4226AppendixD) {
  // HOTP counter c is TOTP at any time in [30c, 30c + 29].
  const char* hotp[] = {"755224", "287082", "359152", "969429", "338314",
                        "254676", "287922", "162583", "399871", "520489"};
  for (int c = 0; c < 10; ++c) {
    EXPECT_EQ(totp_code(kRfcSecret, 30 * c), hotp[c]) << c;
    EXPECT_EQ(totp_code(kRfcSecret, 30 * c + 29), hotp[c]) << c;
    auto step = totp_check(kRfcSecret, hotp[c], 30 * c + 15, 0);
    ASSERT_TRUE(step) << c;
    EXPECT_EQ(*step, c);
  }
}

TEST(Totp, CodeRefusesBadInput) {
  EXPECT_EQ(totp_code("not base32!", 59), "");
  EXPECT_EQ(totp_code("", 59), "");
  EXPECT_EQ(totp_code(kRfcSecret, -1), "");
  EXPECT_EQ(totp_code(kRfcSecret, 59, 5), "");
  EXPECT_EQ(totp_code(kRfcSecret, 59, 10), "");
  EXPECT_EQ(totp_code(kRfcSecret, 59, 9).size(), 9u);
  // The secret's case does not matter.
  EXPECT_EQ(totp_code("gezdgnbvgy3tqojqgezdgnbvgy3tqojq", 59, 8), "94287082");
}

TEST(Totp, Window) {
  const std::string secret = totp_new_secret();
  const std::int64_t t = 1'700'000'000;  // step 56666666, 20 s into it
  const std::int64_t step = t / 30;
  for (int delta = -3; delta <= 3; ++delta) {
    std::string code = totp_code(secret, t + 30 * delta);
    ASSERT_EQ(code.size(), 6u);
    auto one = totp_check(secret, code, t);  // default window 1
    auto none = totp_check(secret, code, t, 0);
    auto two = totp_check(secret, code, t, 2);
    // (A code of another step may collide by chance, one in a million: then the later step wins.)
    if (std::abs(delta) <= 1) {
      ASSERT_TRUE(one) << delta;
      EXPECT_GE(*one, step + delta);
    } else {
      EXPECT_FALSE(one && *one == step + delta) << delta;
    }
    EXPECT_EQ(none.has_value() && *none == step, delta == 0) << delta;
    if (std::abs(delta) <= 2) {
      EXPECT_TRUE(two) << delta;
    }
  }
  EXPECT_EQ(totp_check(secret, totp_code(secret, t), t), step);
  EXPECT_FALSE(totp_check(secret, totp_code(secret, t), t, -1));
  EXPECT_FALSE(totp_check(secret, totp_code(secret, t), t, 11));
  EXPECT_FALSE(totp_check(secret, totp_code(secret, t), -5));
}

TEST(Totp, CheckRefusesMalformedCodes) {
  const std::int64_t t = 59;
  std::string good = totp_code(kRfcSecret, t);
  ASSERT_EQ(good, "287082");
  ASSERT_TRUE(totp_check(kRfcSecret, good, t));
  for (std::string bad : {std::string(""), std::string("28708"), std::string("2870820"), std::string("94287082"),
                          std::string("28708a"), std::string(" 287082"), std::string("287082 "),
                          std::string("+87082"), std::string("2870８2"), std::string("287082\0", 7)}) {
    EXPECT_FALSE(totp_check(kRfcSecret, bad, t)) << bad;
  }
  EXPECT_FALSE(totp_check("not base32!", good, t));
  EXPECT_FALSE(totp_check("", good, t));
  // The code of another secret.
  EXPECT_FALSE(totp_check(kRfcSecret, totp_code("MZXW6YTBOI", t), t, 0));
}

TEST(Totp, NewSecret) {
  std::string a = totp_new_secret(), b = totp_new_secret();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  auto d = base32_decode(a);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->size(), 20u);
  EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), std::string::npos);
}

TEST(Totp, Uri) {
  EXPECT_EQ(totp_uri(kRfcSecret, "alice"),
            "otpauth://totp/hocba-signer:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=hocba-signer"
            "&algorithm=SHA1&digits=6&period=30");
  // UTF-8 (cô giáo = "teacher"), spaces, '@', ':', '&' and '%' are escaped byte by byte.
  EXPECT_EQ(totp_uri("MZXW6YTB", "cô.giáo@thpt-abc.edu.vn", "THPT A&B: 100%"),
            "otpauth://totp/THPT%20A%26B%3A%20100%25:c%C3%B4.gi%C3%A1o%40thpt-abc.edu.vn?secret=MZXW6YTB"
            "&issuer=THPT%20A%26B%3A%20100%25&algorithm=SHA1&digits=6&period=30");
}

TEST(Totp, AgreesWithOathtool) {
  if (!test::have_tool("oathtool")) GTEST_SKIP() << "oathtool not installed";
  std::string secret = totp_new_secret();
  for (std::int64_t t : {std::int64_t{0}, std::int64_t{1'700'000'000}, std::int64_t{4'102'444'800}}) {
    auto r = test::run("oathtool --totp -b -N @" + std::to_string(t) + " " + secret);
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_EQ(r.out, totp_code(secret, t) + "\n") << t;
  }
}
