#include <gtest/gtest.h>

#include <set>

#include "crypto/crypto.hpp"

namespace qr::crypto {
namespace {

TEST(Crypto, Sha256KnownAnswer) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, HmacSha256Rfc4231Case2) {
  EXPECT_EQ(hex(hmac_sha256(std::string_view("Jefe"), "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, Base64UrlHasNoPaddingOrUnsafeCharacters) {
  const unsigned char bytes[] = {0xfb, 0xff, 0xfe};
  EXPECT_EQ(base64url(bytes), "-__-");
  const unsigned char two[] = {'h', 'i'};
  EXPECT_EQ(base64url(two), "aGk");
}

TEST(Crypto, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
}

TEST(Crypto, OsRandomIsNotRepeating) {
  OsRandom random;
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    unsigned char b[16];
    random.fill(std::as_writable_bytes(std::span(b)));
    seen.insert(hex(b));
  }
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace qr::crypto
