#include "api/images/image_json.h"

#include <gtest/gtest.h>

namespace glimmer::api::images {
namespace {

using glimmer::images::PatchOp;
using glimmer::images::Value;

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

TEST(ImageJson, CreateBody) {
  auto f = ParseCreateBody(R"({"name":"x","min_ram":5,"tags":["a"],"protected":true,"p":1.5})");
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->size(), 5u);
  EXPECT_EQ((*f)[0].first, "name");
  EXPECT_EQ((*f)[1].second.kind, Value::Kind::kInt);
  EXPECT_EQ((*f)[2].second.kind, Value::Kind::kStringList);
  EXPECT_EQ((*f)[3].second.kind, Value::Kind::kBool);
  EXPECT_EQ((*f)[4].second.kind, Value::Kind::kNumber);
  EXPECT_FALSE(ParseCreateBody("[1]").ok());
  EXPECT_FALSE(ParseCreateBody("{bad").ok());
  EXPECT_FALSE(ParseCreateBody("").ok());
}

TEST(ImageJson, PatchBodies) {
  auto ops = ParsePatchBody(R"([{"op":"replace","path":"/name","value":"n"},
                                {"op":"remove","path":"/a~1b~0c"}])",
                            false, false);
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  EXPECT_EQ((*ops)[1].field, "a/b~c");
  EXPECT_EQ((*ops)[1].op, PatchOp::Op::kRemove);
  auto legacy = ParsePatchBody(R"([{"add":"/x","value":"1"}])", true, false);
  ASSERT_TRUE(legacy.ok());
  EXPECT_EQ((*legacy)[0].op, PatchOp::Op::kAdd);
  for (const char* bad : {R"({"op":"add"})", R"([{"op":"move","path":"/a"}])",
                          R"([{"op":"add","path":"/tags/-","value":"x"}])",
                          R"([{"op":"add","path":"name","value":"x"}])",
                          R"([{"op":"add","path":"/name"}])", R"([{"op":"add","path":"/a/"}])",
                          R"([{"op":"add","path":"/a~2","value":"x"}])"}) {
    EXPECT_EQ(ParsePatchBody(bad, false, false).status().code(), StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(ParsePatchBody(R"([{"add":"/x","replace":"/y","value":"1"}])", true, false)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParsePatchBody(R"([{"op":"add","path":"/locations/-","value":{}}])", false, false)
                .status()
                .code(),
            StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace glimmer::api::images
