// ImageRecords: create, visibility, patch and tag rules.
#include "images/image_records.h"

#include <gtest/gtest.h>

#include "images/testing/image_fixture.h"

namespace glimmer::images {
namespace {

using domain::ImageChanges;
using domain::ImageStatus;
using domain::PatchStep;
using domain::RemoveStep;
using domain::ReplaceStep;
using domain::SetPropertyStep;
using domain::RequestContext;
using domain::Visibility;
using testkit::ImageTest;

TEST_F(ImageTest, CreateDefaultsAndRules) {
  auto img = service_->records.Create(alice_, {});
  ASSERT_TRUE(img.ok());
  EXPECT_EQ(img->status, ImageStatus::kQueued);
  EXPECT_EQ(img->visibility, domain::Visibility::kShared);
  EXPECT_EQ(img->owner, "p-alice");
  auto code = [&](const ImageChanges& c) {
    return service_->records.Create(alice_, c).status().code();
  };
  auto property = [](std::string name) {
    ImageChanges c;
    c.properties.emplace_back(std::move(name), "1");
    return c;
  };
  EXPECT_EQ(code(property("status")), StatusCode::kPermissionDenied);
  EXPECT_EQ(code(property("os_glance_x")), StatusCode::kPermissionDenied);
  EXPECT_EQ(code(property("deleted")), StatusCode::kPermissionDenied);
  EXPECT_EQ(code({.visibility = Visibility::kPublic}), StatusCode::kPermissionDenied);
  EXPECT_EQ(code({.owner = "p-bob"}), StatusCode::kPermissionDenied);
  EXPECT_EQ(service_->records.Create(reader_, {}).status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(service_->records.Create(admin_, {.visibility = Visibility::kPublic}).ok());
  std::string id = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
  auto created = service_->records.Create(alice_, {.id = "AAAAAAAA-bbbb-cccc-dddd-eeeeeeeeeeee"});
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->id, id);
  EXPECT_EQ(code({.id = id}), StatusCode::kAlreadyExists);
}

TEST_F(ImageTest, VisibilityAndPermissions) {
  std::string id = CreateRaw(alice_);
  auto visibility = [](Visibility v) { return ReplaceStep("visibility", {.visibility = v}); };
  const PatchStep rename = ReplaceStep("name", {.name = "x"});
  ASSERT_TRUE(service_->records.Update(alice_, id, {visibility(Visibility::kPrivate)}, false).ok());
  EXPECT_EQ(service_->records.Get(bob_, id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->records.Delete(bob_, id).code(), StatusCode::kNotFound);
  EXPECT_TRUE(service_->records.Get(reader_, id).ok());
  EXPECT_EQ(service_->records.Update(reader_, id, {rename}, false).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(service_->records.Get(admin_, id).ok());
  ASSERT_TRUE(
      service_->records.Update(alice_, id, {visibility(Visibility::kCommunity)}, false).ok());
  EXPECT_TRUE(service_->records.Get(bob_, id).ok());
  EXPECT_EQ(service_->records.Update(bob_, id, {rename}, false).status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(ImageTest, PatchSemantics) {
  std::string id = CreateRaw(alice_);
  auto code = [&](PatchStep step, bool legacy = false) {
    return service_->records.Update(alice_, id, {step}, legacy).status().code();
  };
  using Op = PatchStep::Op;
  EXPECT_EQ(code(SetPropertyStep(Op::kReplace, "foo", "1")), StatusCode::kFailedPrecondition);
  EXPECT_EQ(code(SetPropertyStep(Op::kAdd, "foo", "1")), StatusCode::kOk);
  EXPECT_EQ(code(SetPropertyStep(Op::kAdd, "foo", "2")), StatusCode::kOk);
  EXPECT_EQ(code(SetPropertyStep(Op::kAdd, "foo", "3"), true), StatusCode::kFailedPrecondition);
  EXPECT_EQ(service_->records.Get(alice_, id)->properties.at("foo"), "2");
  EXPECT_EQ(code(RemoveStep("foo")), StatusCode::kOk);
  EXPECT_EQ(code(RemoveStep("foo")), StatusCode::kFailedPrecondition);
  EXPECT_EQ(code(RemoveStep("name")), StatusCode::kPermissionDenied);
  EXPECT_EQ(code(ReplaceStep("status", {})), StatusCode::kPermissionDenied);
  EXPECT_EQ(code(ReplaceStep("owner", {.owner = "p-bob"})), StatusCode::kPermissionDenied);
  EXPECT_EQ(code(ReplaceStep("tags", {.tags = std::vector<std::string>{"b", "a", "a"}})),
            StatusCode::kOk);
  EXPECT_EQ(service_->records.Get(alice_, id)->tags, (std::vector<std::string>{"a", "b"}));
  // A step whose value the request parser rejected fails with the parser's message, in turn.
  PatchStep bad = ReplaceStep("min_disk", {});
  bad.invalid = InvalidArgumentError("min_disk must be a non-negative integer");
  EXPECT_EQ(service_->records.Update(alice_, id, {bad}, false).status().message(),
            "min_disk must be a non-negative integer");
  EXPECT_EQ(code(RemoveStep("missing")), StatusCode::kFailedPrecondition);
  // A failing step leaves the image untouched (all or nothing).
  auto before = *service_->records.Get(alice_, id);
  EXPECT_FALSE(
      service_->records.Update(alice_, id, {ReplaceStep("name", {.name = "new"}), bad}, false)
          .ok());
  EXPECT_EQ(service_->records.Get(alice_, id)->name, before.name);
}

TEST_F(ImageTest, Tags) {
  std::string id = CreateRaw(alice_);
  ASSERT_TRUE(service_->records.AddTag(alice_, id, "t1").ok());
  ASSERT_TRUE(service_->records.AddTag(alice_, id, "t1").ok());
  EXPECT_EQ(service_->records.Get(alice_, id)->tags, std::vector<std::string>{"t1"});
  EXPECT_EQ(service_->records.AddTag(alice_, id, std::string(256, 't')).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->records.RemoveTag(alice_, id, "nope").code(), StatusCode::kNotFound);
  EXPECT_TRUE(service_->records.RemoveTag(alice_, id, "t1").ok());
  EXPECT_EQ(service_->records.AddTag(reader_, id, "t2").code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace glimmer::images
