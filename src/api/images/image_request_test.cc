#include "api/images/image_request.h"

#include <gtest/gtest.h>

namespace glimmer::api::images {
namespace {

using domain::PatchStep;

const SchemaOptions kSchema = [] {
  SchemaOptions o;
  o.disk_formats = {"raw", "qcow2"};
  o.container_formats = {"bare", "ovf"};
  return o;
}();

Status CreateError(std::string_view body) { return ParseCreateBody(body, kSchema).status(); }

std::string Schema(const std::string& what) {
  return "Provided object does not match schema 'image': " + what;
}

TEST(ImageRequest, CreateBodyIsTyped) {
  auto c = ParseCreateBody(
      R"({"name":"x","min_ram":5,"tags":["b","a"],"protected":true,"visibility":"private",
          "owner":null,"disk_format":"raw","id":"AAAAAAAA-bbbb-cccc-dddd-eeeeeeeeeeee","p":"1",
          "os_distro":"debian"})",
      kSchema);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->name, std::optional<std::string>("x"));
  EXPECT_EQ(c->min_ram, 5);
  EXPECT_EQ(c->tags, (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(c->is_protected, true);
  EXPECT_EQ(c->visibility, domain::Visibility::kPrivate);
  ASSERT_TRUE(c->owner.has_value());
  EXPECT_FALSE(c->owner->has_value());  // null
  EXPECT_EQ(c->disk_format, std::optional<std::string>("raw"));
  EXPECT_FALSE(c->container_format.has_value());
  EXPECT_EQ(c->id, "AAAAAAAA-bbbb-cccc-dddd-eeeeeeeeeeee");
  using Property = std::pair<std::string, std::string>;
  EXPECT_EQ(c->properties, (std::vector<Property>{{"p", "1"}, {"os_distro", "debian"}}));
}

TEST(ImageRequest, CreateErrorsUseGlanceWording) {
  EXPECT_EQ(CreateError("").message(), "Body expected in request.");
  EXPECT_EQ(CreateError("{bad").message(), "Malformed JSON in request body.");
  EXPECT_EQ(CreateError("[1]").message(), "Body expected to be a JSON object.");
  EXPECT_EQ(CreateError(R"({"status":"active"})").message(), "Attribute 'status' is read-only.");
  EXPECT_EQ(CreateError(R"({"status":"active"})").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(CreateError(R"({"os_glance_x":1})").message(), "Attribute 'os_glance_x' is reserved.");
  EXPECT_EQ(CreateError(R"({"deleted":"1"})").message(), "Attribute 'deleted' is reserved.");
  EXPECT_EQ(CreateError(R"({"foo":1})").message(), Schema("'foo' is not of type 'string'"));
  EXPECT_EQ(CreateError(R"({"foo":1.5})").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateError("{\"" + std::string(256, 'k') + "\":\"v\"}").message(),
            Schema("property names must be 1 to 255 characters long"));
  EXPECT_EQ(CreateError("{\"name\":\"" + std::string(256, 'n') + "\"}").message(),
            Schema("'" + std::string(256, 'n') + "' is too long (maximum 255) for name"));
  EXPECT_EQ(CreateError(R"({"name":1})").message(),
            Schema("Invalid type for name (expected string or null)"));
  EXPECT_EQ(CreateError(R"({"disk_format":"bogus"})").message(),
            Schema("'bogus' is not one of ['raw', 'qcow2'] for disk_format"));
  EXPECT_EQ(CreateError(R"({"container_format":7})").message(),
            Schema("Invalid type for container_format (expected string or null)"));
  EXPECT_EQ(CreateError(R"({"id":"not-a-uuid"})").message(), Schema("id is not a valid UUID"));
  EXPECT_EQ(CreateError(R"({"min_ram":-1})").message(),
            Schema("min_ram must be a non-negative integer"));
  EXPECT_EQ(CreateError(R"({"min_disk":18446744073709551615})").message(),
            Schema("min_disk must be a non-negative integer"));
  EXPECT_EQ(CreateError(R"({"min_disk":true})").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateError(R"({"protected":"yes"})").message(),
            Schema("protected is not of type 'boolean'"));
  EXPECT_EQ(CreateError(R"({"visibility":"everyone"})").message(),
            Schema("visibility is not one of ['community', 'public', 'private', 'shared']"));
  EXPECT_EQ(CreateError(R"({"tags":["a",1]})").message(),
            Schema("tags must be an array of strings"));
  EXPECT_EQ(CreateError("{\"tags\":[\"" + std::string(256, 't') + "\"]}").message(),
            Schema("tag '" + std::string(256, 't') + "' is too long"));
  // The first error in request order.
  EXPECT_EQ(CreateError(R"({"min_ram":-1,"status":"x"})").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateError(R"({"status":"x","min_ram":-1})").code(), StatusCode::kPermissionDenied);
}

TEST(ImageRequest, PatchBodies) {
  auto steps = ParsePatchBody(R"([{"op":"replace","path":"/name","value":"n"},
                                  {"op":"remove","path":"/a~1b~0c"},
                                  {"op":"add","path":"/min_disk","value":"x"},
                                  {"op":"replace","path":"/status","value":"active"}])",
                              false, false, kSchema);
  ASSERT_TRUE(steps.ok()) << steps.status().ToString();
  ASSERT_EQ(steps->size(), 4u);
  EXPECT_EQ((*steps)[0].value.name, std::optional<std::string>("n"));
  EXPECT_EQ((*steps)[1].path, "a/b~c");
  EXPECT_EQ((*steps)[1].op, PatchStep::Op::kRemove);
  // A value that does not fit is reported by the service, in turn.
  EXPECT_EQ((*steps)[2].invalid.message(), Schema("min_disk must be a non-negative integer"));
  EXPECT_FALSE((*steps)[2].value.min_disk.has_value());
  // Names no request may set are left to the service.
  EXPECT_TRUE((*steps)[3].invalid.ok());
  EXPECT_EQ((*steps)[3].path, "status");
  auto legacy = ParsePatchBody(R"([{"add":"/x","value":"1"}])", true, false, kSchema);
  ASSERT_TRUE(legacy.ok());
  EXPECT_EQ((*legacy)[0].op, PatchStep::Op::kAdd);
  using Property = std::pair<std::string, std::string>;
  EXPECT_EQ((*legacy)[0].value.properties, (std::vector<Property>{{"x", "1"}}));
  for (const char* bad : {R"({"op":"add"})", R"([{"op":"move","path":"/a"}])",
                          R"([{"op":"add","path":"/tags/-","value":"x"}])",
                          R"([{"op":"add","path":"name","value":"x"}])",
                          R"([{"op":"add","path":"/name"}])", R"([{"op":"add","path":"/a/"}])",
                          R"([{"op":"add","path":"/a~2","value":"x"}])", "[1]", ""}) {
    EXPECT_EQ(ParsePatchBody(bad, false, false, kSchema).status().code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(ParsePatchBody(R"([{"add":"/x","replace":"/y","value":"1"}])", true, false, kSchema)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParsePatchBody(R"([{"op":"add","path":"/locations/-","value":{}}])", false, false,
                           kSchema)
                .status()
                .message(),
            "It's not allowed to update locations if locations are invisible.");
}

}  // namespace
}  // namespace glimmer::api::images
