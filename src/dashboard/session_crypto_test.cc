#include "dashboard/session_crypto.h"

#include <gtest/gtest.h>

#include "platform/random.h"

namespace glimmer::dashboard {
namespace {

TEST(Base64Url, RoundTripsEveryLength) {
  for (size_t n = 0; n < 70; ++n) {
    const std::string bytes = platform::RandomBytes(n);
    const std::string text = Base64UrlEncode(bytes);
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
    auto back = Base64UrlDecode(text);
    ASSERT_TRUE(back.ok()) << n;
    EXPECT_EQ(*back, bytes);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(Base64Url, RejectsOtherAlphabetsPaddingAndBadLengths) {
  EXPECT_FALSE(Base64UrlDecode("ab+c").ok());
  EXPECT_FALSE(Base64UrlDecode("ab/c").ok());
  EXPECT_FALSE(Base64UrlDecode("YQ==").ok());
  EXPECT_FALSE(Base64UrlDecode("abcde").ok());  // 5 chars: impossible length
  EXPECT_FALSE(Base64UrlDecode("YR").ok());     // non-canonical trailing bits
  EXPECT_TRUE(Base64UrlDecode("YQ").ok());
}

TEST(SessionCrypto, SealUnsealRoundTrip) {
  const std::string secret = platform::RandomBytes(kSecretBytes);
  auto sealed = Seal(secret, "gAAAAA-the-bearer-token", "aad");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->nonce.size(), 12u);
  EXPECT_EQ(sealed->ciphertext.size(), std::string("gAAAAA-the-bearer-token").size() + 16);
  EXPECT_EQ(sealed->ciphertext.find("the-bearer"), std::string::npos);
  auto plain = Unseal(secret, *sealed, "aad");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(*plain, "gAAAAA-the-bearer-token");
}

TEST(SessionCrypto, FreshNonceEachSeal) {
  const std::string secret = platform::RandomBytes(kSecretBytes);
  auto a = Seal(secret, "token", "");
  auto b = Seal(secret, "token", "");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->nonce, b->nonce);
  EXPECT_NE(a->ciphertext, b->ciphertext);
}

TEST(SessionCrypto, WrongSecretAadNonceOrTamperingFails) {
  const std::string secret = platform::RandomBytes(kSecretBytes);
  auto sealed = Seal(secret, "token-value", "digest|u|p|1");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(Unseal(platform::RandomBytes(kSecretBytes), *sealed, "digest|u|p|1").status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(Unseal(secret, *sealed, "digest|u|p2|1").status().code(),
            StatusCode::kUnauthenticated);
  Sealed flipped = *sealed;
  flipped.ciphertext[0] ^= 1;
  EXPECT_FALSE(Unseal(secret, flipped, "digest|u|p|1").ok());
  Sealed bad_tag = *sealed;
  bad_tag.ciphertext.back() ^= 0x80;
  EXPECT_FALSE(Unseal(secret, bad_tag, "digest|u|p|1").ok());
  Sealed other_nonce = *sealed;
  other_nonce.nonce[3] ^= 1;
  EXPECT_FALSE(Unseal(secret, other_nonce, "digest|u|p|1").ok());
  Sealed short_nonce = *sealed;
  short_nonce.nonce.resize(8);
  EXPECT_FALSE(Unseal(secret, short_nonce, "digest|u|p|1").ok());
  Sealed truncated = *sealed;
  truncated.ciphertext.resize(10);
  EXPECT_FALSE(Unseal(secret, truncated, "digest|u|p|1").ok());
}

TEST(SessionCrypto, CsrfTokenIsDeterministicPerSecretAndUnlinkedToDigest) {
  const std::string secret = platform::RandomBytes(kSecretBytes);
  const std::string csrf = DeriveCsrfToken(secret);
  EXPECT_EQ(csrf.size(), 43u);
  EXPECT_EQ(csrf, DeriveCsrfToken(secret));
  EXPECT_NE(csrf, DeriveCsrfToken(platform::RandomBytes(kSecretBytes)));
  EXPECT_NE(csrf, Base64UrlEncode(secret));
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SessionCrypto, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

}  // namespace
}  // namespace glimmer::dashboard
