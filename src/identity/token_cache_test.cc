#include "identity/token_cache.h"

#include <gtest/gtest.h>

namespace glimmer::identity {
namespace {

domain::RequestContext Ctx(std::string user) {
  domain::RequestContext c;
  c.user_id = std::move(user);
  c.authenticated = true;
  return c;
}

TEST(TokenCacheTest, HitUntilMaxAgeOrExpiry) {
  TokenCache cache(10, /*max_age=*/30);
  cache.Insert("a", Ctx("ua"), /*now=*/100, /*token_expires_at=*/1000, cache.generation());
  cache.Insert("b", Ctx("ub"), 100, /*expires earlier than max age*/ 110, cache.generation());
  ASSERT_TRUE(cache.Lookup("a", 129).has_value());
  EXPECT_EQ(cache.Lookup("a", 129)->user_id, "ua");
  EXPECT_FALSE(cache.Lookup("a", 130).has_value());
  EXPECT_TRUE(cache.Lookup("b", 109).has_value());
  EXPECT_FALSE(cache.Lookup("b", 110).has_value());
  EXPECT_EQ(cache.size(), 0u);  // stale entries are dropped on lookup
}

TEST(TokenCacheTest, AlreadyExpiredTokensAreNotCached) {
  TokenCache cache(10, 30);
  cache.Insert("a", Ctx("ua"), 100, 100, cache.generation());
  EXPECT_EQ(cache.size(), 0u);
}

TEST(TokenCacheTest, EvictsLeastRecentlyUsed) {
  TokenCache cache(2, 1000);
  cache.Insert("a", Ctx("ua"), 0, 1000, cache.generation());
  cache.Insert("b", Ctx("ub"), 0, 1000, cache.generation());
  ASSERT_TRUE(cache.Lookup("a", 1).has_value());  // b is now the oldest
  cache.Insert("c", Ctx("uc"), 2, 1000, cache.generation());
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_TRUE(cache.Lookup("a", 3).has_value());
  EXPECT_FALSE(cache.Lookup("b", 3).has_value());
  EXPECT_TRUE(cache.Lookup("c", 3).has_value());
}

TEST(TokenCacheTest, EraseAndClear) {
  TokenCache cache(10, 1000);
  cache.Insert("a", Ctx("ua"), 0, 1000, cache.generation());
  cache.Insert("b", Ctx("ub"), 0, 1000, cache.generation());
  cache.Erase("a");
  cache.Erase("missing");
  EXPECT_FALSE(cache.Lookup("a", 1).has_value());
  EXPECT_TRUE(cache.Lookup("b", 1).has_value());
  cache.Clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.Lookup("b", 1).has_value());
}

TEST(TokenCacheTest, ReinsertRefreshes) {
  TokenCache cache(10, 30);
  cache.Insert("a", Ctx("old"), 0, 1000, cache.generation());
  cache.Insert("a", Ctx("new"), 20, 1000, cache.generation());
  EXPECT_EQ(cache.size(), 1u);
  ASSERT_TRUE(cache.Lookup("a", 40).has_value());
  EXPECT_EQ(cache.Lookup("a", 40)->user_id, "new");
}

TEST(TokenCacheTest, InsertComputedBeforeARevocationIsDropped) {
  TokenCache cache(10, 1000);
  // A validation reads the generation, then the database (token still valid)...
  uint64_t before = cache.generation();
  // ...meanwhile the token is revoked in the database and erased here...
  cache.Erase("a");
  EXPECT_NE(cache.generation(), before);
  // ...and the validation's late insert must not bring it back.
  cache.Insert("a", Ctx("ua"), 0, 1000, before);
  EXPECT_FALSE(cache.Lookup("a", 1).has_value());
  EXPECT_EQ(cache.size(), 0u);

  before = cache.generation();
  cache.Clear();
  cache.Insert("b", Ctx("ub"), 0, 1000, before);
  EXPECT_FALSE(cache.Lookup("b", 1).has_value());

  cache.Insert("c", Ctx("uc"), 0, 1000, cache.generation());  // nothing happened meanwhile
  EXPECT_TRUE(cache.Lookup("c", 1).has_value());
}

}  // namespace
}  // namespace glimmer::identity
