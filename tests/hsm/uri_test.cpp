#include <gtest/gtest.h>

#include "hocba/hsm/uri.h"

using hocba::hsm::Pkcs11Uri;

TEST(Pkcs11Uri, ParsesPathAndQueryAttributes) {
  auto u = Pkcs11Uri::parse(
      "pkcs11:token=GVCN%203A;object=gvcn;id=%01%a0;type=private?module-path=/usr/lib/x.so&pin-source=file:/run/pin");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(*u->token, "GVCN 3A");
  EXPECT_EQ(*u->object, "gvcn");
  EXPECT_EQ(*u->id, (std::vector<std::uint8_t>{0x01, 0xa0}));
  EXPECT_EQ(*u->type, "private");
  EXPECT_EQ(*u->module_path, "/usr/lib/x.so");
  EXPECT_EQ(*u->pin_file(), "/run/pin");
}

TEST(Pkcs11Uri, RoundTrips) {
  auto u = Pkcs11Uri::parse("pkcs11:token=Tr%C6%B0%E1%BB%9Dng;object=con-dau;id=%03");
  ASSERT_TRUE(u.ok());
  auto again = Pkcs11Uri::parse(u->to_string());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again->token, "Trường");
  EXPECT_EQ(*again->id, std::vector<std::uint8_t>{3});
}

TEST(Pkcs11Uri, RefusesPinValueAndGarbage) {
  auto u = Pkcs11Uri::parse("pkcs11:token=A;object=b?pin-value=1234");
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.error().message.find("pin-value"), std::string::npos);
  EXPECT_FALSE(Pkcs11Uri::parse("token=A").ok());
  EXPECT_FALSE(Pkcs11Uri::parse("pkcs11:token=%zz").ok());
  EXPECT_FALSE(Pkcs11Uri::parse("pkcs11:token").ok());
  EXPECT_FALSE(Pkcs11Uri::parse("pkcs11:object=a?pin-source=|/bin/cat").value().pin_file().ok());
}
