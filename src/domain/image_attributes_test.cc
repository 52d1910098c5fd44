#include "domain/image_attributes.h"

#include <gtest/gtest.h>

namespace glimmer::domain {
namespace {

TEST(ImageAttributes, FindsAttributesNotProperties) {
  ASSERT_NE(FindAttribute("disk_format"), nullptr);
  EXPECT_EQ(FindAttribute("disk_format")->access, AttributeSpec::Access::kSettable);
  EXPECT_EQ(FindAttribute("os_distro"), nullptr);
  EXPECT_FALSE(FindAttribute("deleted")->visible());
  EXPECT_TRUE(IsCustomProperty("os_distro"));
  EXPECT_FALSE(IsCustomProperty("owner"));
  EXPECT_FALSE(IsCustomProperty("os_glance_import_task"));
}

TEST(ImageAttributes, ServiceAndHiddenProperties) {
  EXPECT_TRUE(IsServiceProperty("os_glance"));
  EXPECT_TRUE(IsServiceProperty("os_glance_failed_import"));
  EXPECT_FALSE(IsServiceProperty("os_glanc"));
  EXPECT_TRUE(IsHiddenProperty("os_glance_upload_node"));
  EXPECT_FALSE(IsHiddenProperty("os_glance_failed_import"));  // shown, as Glance does
}

TEST(ImageAttributes, CheckSettableUsesGlanceText) {
  EXPECT_TRUE(CheckSettable("name", false).ok());
  EXPECT_TRUE(CheckSettable("os_distro", false).ok());
  EXPECT_TRUE(CheckSettable("id", true).ok());
  EXPECT_EQ(CheckSettable("id", false).message(), "Attribute 'id' is read-only.");
  EXPECT_EQ(CheckSettable("status", true).message(), "Attribute 'status' is read-only.");
  EXPECT_EQ(CheckSettable("deleted_at", true).message(), "Attribute 'deleted_at' is reserved.");
  EXPECT_EQ(CheckSettable("os_glance_x", false).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckSettable("os_glance_x", false).message(), "Attribute 'os_glance_x' is reserved.");
}

TEST(ImageAttributes, SortKeysInGlanceOrder) {
  std::vector<std::string_view> want = {"name", "status", "container_format", "disk_format",
                                        "size", "id",     "created_at",       "updated_at"};
  EXPECT_EQ(SortKeys(), want);
}

}  // namespace
}  // namespace glimmer::domain
