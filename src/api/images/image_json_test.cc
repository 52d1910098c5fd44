#include "api/images/image_json.h"

#include <gtest/gtest.h>

namespace glimmer::api::images {
namespace {

TEST(ImageJson, RendersEveryBaseFieldWithNulls) {
  domain::Image img;
  img.id = "11111111-2222-3333-4444-555555555555";
  img.properties["os_distro"] = "debian";
  img.properties["os_glance_stage_host"] = "hidden";
  auto j = ImageToJson(img, {});
  for (const char* f : {"name", "checksum", "os_hash_algo", "os_hash_value", "owner", "size",
                        "virtual_size", "container_format", "disk_format"}) {
    ASSERT_TRUE(j.contains(f)) << f;
    EXPECT_TRUE(j[f].is_null()) << f;
  }
  EXPECT_EQ(j["status"], "queued");
  EXPECT_EQ(j["visibility"], "shared");
  EXPECT_EQ(j["os_distro"], "debian");
  EXPECT_FALSE(j.contains("os_glance_stage_host"));
  EXPECT_FALSE(j.contains("locations"));
  EXPECT_EQ(j["self"], "/v2/images/" + img.id);
  EXPECT_EQ(j["file"], "/v2/images/" + img.id + "/file");
  EXPECT_EQ(j["created_at"], "1970-01-01T00:00:00Z");
}

}  // namespace
}  // namespace glimmer::api::images
