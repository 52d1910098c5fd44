#include "domain/policy.h"

#include <gtest/gtest.h>

namespace glimmer::domain {
namespace {

RequestContext Ctx(std::string project, std::vector<std::string> roles) {
  RequestContext c;
  c.project_id = std::move(project);
  c.roles = std::move(roles);
  return c;
}

TEST(CanSee, VisibilityRules) {
  Image img;
  img.owner = "own";
  auto other = Ctx("other", {"reader"});
  img.visibility = Visibility::kPublic;
  EXPECT_TRUE(CanSee(other, img, false));
  img.visibility = Visibility::kCommunity;
  EXPECT_TRUE(CanSee(other, img, false));
  img.visibility = Visibility::kShared;
  EXPECT_FALSE(CanSee(other, img, false));
  EXPECT_TRUE(CanSee(other, img, true));
  img.visibility = Visibility::kPrivate;
  EXPECT_FALSE(CanSee(other, img, true));
  EXPECT_FALSE(CanSee(Ctx("own", {}), img, false));  // no role at all
  EXPECT_TRUE(CanSee(Ctx("own", {"reader"}), img, false));
}

}  // namespace
}  // namespace glimmer::domain
