#include "api/versions.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace glimmer::api {
namespace {

TEST(VersionsDocumentTest, NewestFirstOneCurrentSameHref) {
  nlohmann::json doc = nlohmann::json::parse(VersionsDocument("http://127.0.0.1:9292/"));
  const nlohmann::json& versions = doc.at("versions");
  ASSERT_EQ(versions.size(), 19u);
  int current = 0;
  for (size_t i = 0; i < versions.size(); ++i) {
    const nlohmann::json& v = versions[i];
    EXPECT_EQ(v.at("id"), "v2." + std::to_string(18 - i));
    EXPECT_EQ(v.at("status"), i == 0 ? "CURRENT" : "SUPPORTED");
    current += v.at("status") == "CURRENT";
    ASSERT_EQ(v.at("links").size(), 1u);
    EXPECT_EQ(v.at("links")[0].at("rel"), "self");
    EXPECT_EQ(v.at("links")[0].at("href"), "http://127.0.0.1:9292/v2/");
  }
  EXPECT_EQ(current, 1);
  EXPECT_EQ(versions.back().at("id"), "v2.0");
}

TEST(VersionsDocumentTest, UsesPublicEndpointVerbatim) {
  nlohmann::json doc = nlohmann::json::parse(VersionsDocument("https://img.example.com/glance"));
  EXPECT_EQ(doc["versions"][5]["links"][0]["href"], "https://img.example.com/glance/v2/");
}

TEST(IsKnownVersionPrefixTest, AcceptsExactlyV2Minors) {
  EXPECT_TRUE(IsKnownVersionPrefix("v2"));
  for (int minor = 0; minor <= 18; ++minor) {
    EXPECT_TRUE(IsKnownVersionPrefix("v2." + std::to_string(minor))) << minor;
  }
  for (const char* bad : {"v2.19", "v2.", "v2.01", "v1", "v1.1", "v3", "V2", "v2.0.1", "v2.x",
                          "v2.-1", "", "images", "v20", "v2.100"}) {
    EXPECT_FALSE(IsKnownVersionPrefix(bad)) << bad;
  }
}

TEST(VersionsDocumentTest, V1FollowsV2WhenEnabled) {
  nlohmann::json doc = nlohmann::json::parse(VersionsDocument("http://h:9292", /*v1=*/true));
  const nlohmann::json& versions = doc.at("versions");
  ASSERT_EQ(versions.size(), 21u);
  EXPECT_EQ(versions[19].at("id"), "v1.1");
  EXPECT_EQ(versions[20].at("id"), "v1.0");
  for (size_t i : {19u, 20u}) {
    EXPECT_EQ(versions[i].at("status"), "SUPPORTED");
    EXPECT_EQ(versions[i].at("links")[0].at("href"), "http://h:9292/v1/");
  }
}

TEST(IsV1PrefixTest, AcceptsV1AndItsTwoMinors) {
  for (const char* good : {"v1", "v1.0", "v1.1"}) EXPECT_TRUE(IsV1Prefix(good)) << good;
  for (const char* bad : {"v1.2", "v1.", "v2", "V1", "v10", ""}) {
    EXPECT_FALSE(IsV1Prefix(bad)) << bad;
  }
}

}  // namespace
}  // namespace glimmer::api
