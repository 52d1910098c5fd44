// ImageRecords: create, visibility, patch and tag rules.
#include "images/image_records.h"

#include <gtest/gtest.h>

#include "images/testing/image_fixture.h"

namespace glimmer::images {
namespace {

using domain::ImageStatus;
using domain::RequestContext;
using testkit::ImageTest;

TEST_F(ImageTest, CreateDefaultsAndRules) {
  auto img = service_->records.Create(alice_, {});
  ASSERT_TRUE(img.ok());
  EXPECT_EQ(img->status, ImageStatus::kQueued);
  EXPECT_EQ(img->visibility, domain::Visibility::kShared);
  EXPECT_EQ(img->owner, "p-alice");
  auto code = [&](std::vector<std::pair<std::string, Value>> f) {
    return service_->records.Create(alice_, f).status().code();
  };
  EXPECT_EQ(code({{"status", Value::String("active")}}), StatusCode::kPermissionDenied);
  EXPECT_EQ(code({{"os_glance_x", Value::String("1")}}), StatusCode::kPermissionDenied);
  EXPECT_EQ(code({{"deleted", Value::String("1")}}), StatusCode::kPermissionDenied);
  EXPECT_EQ(code({{"foo", Value::Int(1)}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{std::string(256, 'k'), Value::String("v")}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{"visibility", Value::String("public")}}), StatusCode::kPermissionDenied);
  EXPECT_EQ(code({{"owner", Value::String("p-bob")}}), StatusCode::kPermissionDenied);
  EXPECT_EQ(code({{"disk_format", Value::String("bogus")}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{"id", Value::String("not-a-uuid")}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({{"min_ram", Value::Int(-1)}}), StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->records.Create(reader_, {}).status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(service_->records.Create(admin_, {{"visibility", Value::String("public")}}).ok());
  std::string id = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
  EXPECT_TRUE(service_->records.Create(alice_, {{"id", Value::String(id)}}).ok());
  EXPECT_EQ(code({{"id", Value::String(id)}}), StatusCode::kAlreadyExists);
}

TEST_F(ImageTest, VisibilityAndPermissions) {
  std::string id = CreateRaw(alice_);
  ASSERT_TRUE(service_->records
                  .Update(alice_, id,
                          {{PatchOp::Op::kReplace, "visibility", Value::String("private")}}, false)
                  .ok());
  EXPECT_EQ(service_->records.Get(bob_, id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->records.Delete(bob_, id).code(), StatusCode::kNotFound);
  EXPECT_TRUE(service_->records.Get(reader_, id).ok());
  EXPECT_EQ(service_->records
                .Update(reader_, id, {{PatchOp::Op::kReplace, "name", Value::String("x")}}, false)
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(service_->records.Get(admin_, id).ok());
  ASSERT_TRUE(service_->records
                  .Update(alice_, id,
                          {{PatchOp::Op::kReplace, "visibility", Value::String("community")}},
                          false)
                  .ok());
  EXPECT_TRUE(service_->records.Get(bob_, id).ok());
  EXPECT_EQ(service_->records
                .Update(bob_, id, {{PatchOp::Op::kReplace, "name", Value::String("x")}}, false)
                .status()
                .code(),
            StatusCode::kPermissionDenied);
}

TEST_F(ImageTest, PatchSemantics) {
  std::string id = CreateRaw(alice_);
  auto code = [&](PatchOp op, bool legacy = false) {
    return service_->records.Update(alice_, id, {op}, legacy).status().code();
  };
  EXPECT_EQ(code({PatchOp::Op::kReplace, "foo", Value::String("1")}),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(code({PatchOp::Op::kAdd, "foo", Value::String("1")}), StatusCode::kOk);
  EXPECT_EQ(code({PatchOp::Op::kAdd, "foo", Value::String("2")}), StatusCode::kOk);
  EXPECT_EQ(code({PatchOp::Op::kAdd, "foo", Value::String("3")}, true),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(service_->records.Get(alice_, id)->properties.at("foo"), "2");
  EXPECT_EQ(code({PatchOp::Op::kRemove, "foo", std::nullopt}), StatusCode::kOk);
  EXPECT_EQ(code({PatchOp::Op::kRemove, "foo", std::nullopt}), StatusCode::kFailedPrecondition);
  EXPECT_EQ(code({PatchOp::Op::kRemove, "name", std::nullopt}), StatusCode::kPermissionDenied);
  EXPECT_EQ(code({PatchOp::Op::kReplace, "status", Value::String("active")}),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(code({PatchOp::Op::kReplace, "owner", Value::String("p-bob")}),
            StatusCode::kPermissionDenied);
  Value tags;
  tags.kind = Value::Kind::kStringList;
  tags.list = {"b", "a", "a"};
  EXPECT_EQ(code({PatchOp::Op::kReplace, "tags", tags}), StatusCode::kOk);
  EXPECT_EQ(service_->records.Get(alice_, id)->tags, (std::vector<std::string>{"a", "b"}));
  // A failing op leaves the image untouched (all or nothing).
  auto before = *service_->records.Get(alice_, id);
  EXPECT_FALSE(service_->records
                   .Update(alice_, id,
                           {{PatchOp::Op::kReplace, "name", Value::String("new")},
                            {PatchOp::Op::kReplace, "min_disk", Value::Int(-5)}},
                           false)
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
