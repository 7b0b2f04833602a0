// HTTP Basic credentials as the CSC API's auth/login reads them (api/src/basic_auth.cpp; fuzzed by
// fuzz/fuzz_http_request.cpp).
#include "hocba/net/basic_auth.h"

#include <gtest/gtest.h>

#include <string>

using hocba::net::parse_basic_authorization;

TEST(BasicAuth, ReadsUserAndPasswordWithOrWithoutPadding) {
  auto c = parse_basic_authorization("Basic YWRtaW46cGFzczp3b3Jk");  // admin:pass:word
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "admin");
  EXPECT_EQ(c->password.view(), "pass:word");
  auto p = parse_basic_authorization("basic YTpi");  // a:b, lower-case scheme
  ASSERT_TRUE(p);
  EXPECT_EQ(p->username, "a");
  EXPECT_EQ(p->password.view(), "b");
  auto unpadded = parse_basic_authorization("Basic YTpiYw");  // a:bc without "=="
  ASSERT_TRUE(unpadded);
  EXPECT_EQ(unpadded->password.view(), "bc");
}

TEST(BasicAuth, AnEmptyPasswordIsAPasswordButAnEmptyUserIsNot) {
  auto c = parse_basic_authorization("Basic YWRtaW46");  // admin:
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->password.empty());
  EXPECT_FALSE(parse_basic_authorization("Basic OnNlY3JldA=="));  // :secret
}

TEST(BasicAuth, RefusesOtherSchemesMalformedBase64AndOversizedCredentials) {
  EXPECT_FALSE(parse_basic_authorization(""));
  EXPECT_FALSE(parse_basic_authorization("Basic "));
  EXPECT_FALSE(parse_basic_authorization("Bearer YWRtaW46eA=="));
  EXPECT_FALSE(parse_basic_authorization("Basic YWRtaW4"));       // "admin": no colon
  EXPECT_FALSE(parse_basic_authorization("Basic YWRt aW46eA=="));  // a space inside
  EXPECT_FALSE(parse_basic_authorization("Basic YWRtaW46eA==="));  // too much padding
  EXPECT_FALSE(parse_basic_authorization(std::string("Basic YWRtaW46\0eA==", 19)));
  std::string big = "Basic ";
  for (int i = 0; i < 400; ++i) big += "YWFh";  // 1200 decoded bytes: over the 1024 limit
  EXPECT_FALSE(parse_basic_authorization(big));
}
