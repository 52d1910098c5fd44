// ImageSharing: the members rules.
#include "images/image_sharing.h"

#include <gtest/gtest.h>

#include "images/testing/image_fixture.h"

namespace glimmer::images {
namespace {

using domain::ImageStatus;
using domain::RequestContext;
using testkit::ImageTest;

TEST_F(ImageTest, MembersRules) {
  std::string id = CreateRaw(alice_);
  // Only shared images have members.
  ASSERT_TRUE(service_->records
                  .Update(alice_, id,
                          {domain::ReplaceStep("visibility", {.visibility = domain::Visibility::kPrivate})},
                          false)
                  .ok());
  EXPECT_EQ(service_->sharing.AddMember(alice_, id, "p-bob").status().code(),
            StatusCode::kPermissionDenied);
  ASSERT_TRUE(service_->records
                  .Update(alice_, id,
                          {domain::ReplaceStep("visibility", {.visibility = domain::Visibility::kShared})},
                          false)
                  .ok());
  EXPECT_EQ(service_->records.Get(bob_, id).status().code(), StatusCode::kNotFound);
  auto m = service_->sharing.AddMember(alice_, id, "p-bob");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->status, domain::MemberStatus::kPending);
  EXPECT_EQ(service_->sharing.AddMember(alice_, id, "p-bob").status().code(),
            StatusCode::kAlreadyExists);
  // A pending member can read the image already.
  EXPECT_TRUE(service_->records.Get(bob_, id).ok());
  // Only the member may accept; the owner may not.
  EXPECT_EQ(service_->sharing.UpdateMember(alice_, id, "p-bob", domain::MemberStatus::kAccepted)
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(
      service_->sharing.UpdateMember(bob_, id, "p-bob", domain::MemberStatus::kAccepted).ok());
  // A member sees only its own row; the owner sees all.
  ASSERT_TRUE(service_->sharing.AddMember(alice_, id, "p-carol").ok());
  EXPECT_EQ(service_->sharing.ListMembers(bob_, id)->size(), 1u);
  EXPECT_EQ(service_->sharing.ListMembers(alice_, id)->size(), 2u);
  EXPECT_EQ(service_->sharing.GetMember(bob_, id, "p-carol").status().code(),
            StatusCode::kNotFound);
  // The member cannot remove itself; the owner can.
  EXPECT_EQ(service_->sharing.RemoveMember(bob_, id, "p-bob").code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(service_->sharing.RemoveMember(alice_, id, "p-bob").ok());
  EXPECT_EQ(service_->records.Get(bob_, id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->sharing.RemoveMember(alice_, id, "p-bob").code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace glimmer::images
