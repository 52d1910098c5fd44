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

// Glance's defaults, as a table a reader can check: who may do what to an image owned by "own".
TEST(DefaultPolicy, Matrix) {
  DefaultPolicy p;
  Image img;
  img.owner = "own";
  img.visibility = Visibility::kPrivate;
  auto owner_member = Ctx("own", {"member"});
  auto owner_reader = Ctx("own", {"reader"});
  auto other_member = Ctx("other", {"member"});
  auto admin = Ctx("x", {"admin"});
  ImageTarget t{&img};
  struct Row {
    ImageAction action;
    bool owner_member, owner_reader, other_member, admin;
  };
  for (const Row& r : std::vector<Row>{
           {ImageAction::kModifyImage, true, false, false, true},
           {ImageAction::kDeleteImage, true, false, false, true},
           {ImageAction::kUploadImage, true, false, false, true},
           {ImageAction::kDownloadImage, true, false, false, true},
           {ImageAction::kDeactivate, true, false, false, true},
           {ImageAction::kPublicizeImage, false, false, false, true},
           {ImageAction::kCommunitizeImage, true, false, false, true},
           {ImageAction::kGetImage, true, true, false, true},
       }) {
    EXPECT_EQ(p.Allowed(r.action, owner_member, t), r.owner_member) << ToString(r.action);
    EXPECT_EQ(p.Allowed(r.action, owner_reader, t), r.owner_reader) << ToString(r.action);
    EXPECT_EQ(p.Allowed(r.action, other_member, t), r.other_member) << ToString(r.action);
    EXPECT_EQ(p.Allowed(r.action, admin, t), r.admin) << ToString(r.action);
  }
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
