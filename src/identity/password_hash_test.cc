#include "identity/password_hash.h"

#include <gtest/gtest.h>

namespace glimmer::identity {
namespace {

TEST(PasswordHashTest, RoundTripAndFormat) {
  std::string h = HashPassword("s3cret", 1000);
  EXPECT_EQ(h.rfind("pbkdf2-sha256$1000$", 0), 0u) << h;
  EXPECT_EQ(PasswordHashIterations(h), 1000);
  EXPECT_TRUE(VerifyPassword("s3cret", h));
  EXPECT_FALSE(VerifyPassword("s3cret ", h));
  EXPECT_FALSE(VerifyPassword("", h));
  EXPECT_FALSE(VerifyPassword("S3cret", h));
}

TEST(PasswordHashTest, SaltMakesHashesDiffer) {
  std::string a = HashPassword("same", 10);
  std::string b = HashPassword("same", 10);
  EXPECT_NE(a, b);
  EXPECT_TRUE(VerifyPassword("same", a));
  EXPECT_TRUE(VerifyPassword("same", b));
}

TEST(PasswordHashTest, DefaultIterations) {
  std::string h = HashPassword("pw");
  EXPECT_EQ(PasswordHashIterations(h), kDefaultPasswordIterations);
  EXPECT_TRUE(VerifyPassword("pw", h));
}

TEST(PasswordHashTest, IterationCountIsPartOfTheHash) {
  std::string h = HashPassword("pw", 100);
  std::string tampered = h;
  tampered.replace(tampered.find("$100$"), 5, "$101$");
  EXPECT_FALSE(VerifyPassword("pw", tampered));
}

TEST(PasswordHashTest, MalformedHashesNeverMatch) {
  for (const char* bad : {"", "pw", "pbkdf2-sha256$", "pbkdf2-sha256$10$$",
                          "pbkdf2-sha256$x$AAAA$AAAA", "pbkdf2-sha256$0$AAAA$AAAA",
                          "pbkdf2-sha256$-5$AAAA$AAAA", "pbkdf2-sha256$10$AAA$AAAA",
                          "bcrypt$10$AAAA$AAAA", "pbkdf2-sha256$99999999999$AAAA$AAAA",
                          "pbkdf2-sha256$10$AAAA$AAAA$extra"}) {
    EXPECT_FALSE(VerifyPassword("pw", bad)) << bad;
    EXPECT_FALSE(VerifyPassword("", bad)) << bad;
    EXPECT_EQ(PasswordHashIterations(bad), 0) << bad;
  }
}

TEST(PasswordHashTest, Sha256Hex) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace glimmer::identity
