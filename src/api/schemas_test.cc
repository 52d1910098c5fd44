#include "api/schemas.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace glimmer::api {
namespace {

using Json = nlohmann::ordered_json;
using ::testing::ElementsAre;

Json ParsedImageSchema(const SchemaOptions& options = {}) {
  return Json::parse(ImageSchema(options));
}

TEST(ImageSchemaTest, ShapeAndLinks) {
  Json s = ParsedImageSchema();
  EXPECT_EQ(s["name"], "image");
  EXPECT_EQ(s["additionalProperties"], Json({{"type", "string"}}));
  EXPECT_EQ(s["links"], Json::parse(R"([{"rel":"self","href":"{self}"},
      {"rel":"enclosure","href":"{file}"},{"rel":"describedby","href":"{schema}"}])"));
  // Base properties first, in Glance's order, then the custom ones.
  std::vector<std::string> keys;
  for (auto& [k, v] : s["properties"].items()) keys.push_back(k);
  ASSERT_GE(keys.size(), 34u);
  EXPECT_EQ(keys[0], "id");
  EXPECT_EQ(keys[1], "name");
  EXPECT_EQ(keys.back(), "cinder_encryption_key_deletion_policy");
}

TEST(ImageSchemaTest, CustomPropertiesAreMarkedNotBase) {
  Json props = ParsedImageSchema()["properties"];
  for (const char* custom :
       {"kernel_id", "ramdisk_id", "instance_uuid", "architecture", "os_distro", "os_version",
        "description", "cinder_encryption_key_id", "cinder_encryption_key_deletion_policy"}) {
    ASSERT_TRUE(props.contains(custom)) << custom;
    EXPECT_EQ(props[custom]["is_base"], false) << custom;
  }
  for (const char* base :
       {"id",         "name",         "status",           "visibility",    "protected",
        "os_hidden",  "checksum",     "os_hash_algo",     "os_hash_value", "owner",
        "size",       "virtual_size", "container_format", "disk_format",   "created_at",
        "updated_at", "tags",         "min_ram",          "min_disk",      "self",
        "file",       "schema",       "stores",           "locations",     "direct_url"}) {
    ASSERT_TRUE(props.contains(base)) << base;
    EXPECT_FALSE(props[base].contains("is_base")) << base;
  }
  EXPECT_EQ(props["cinder_encryption_key_deletion_policy"]["enum"],
            Json({"on_image_deletion", "do_not_delete"}));
  EXPECT_EQ(props["kernel_id"]["type"], Json({"null", "string"}));
}

TEST(ImageSchemaTest, BaseFieldFacts) {
  Json props = ParsedImageSchema()["properties"];
  EXPECT_EQ(
      props["id"]["pattern"],
      "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$");
  EXPECT_EQ(props["status"]["enum"],
            Json({"queued", "saving", "active", "killed", "deleted", "uploading", "importing",
                  "pending_delete", "deactivated"}));
  EXPECT_EQ(props["status"]["readOnly"], true);
  EXPECT_EQ(props["visibility"]["enum"], Json({"community", "public", "private", "shared"}));
  EXPECT_EQ(props["name"]["maxLength"], 255);
  EXPECT_EQ(props["checksum"]["maxLength"], 32);
  EXPECT_EQ(props["os_hash_value"]["maxLength"], 128);
  EXPECT_EQ(props["size"]["type"], Json({"null", "integer"}));
  EXPECT_EQ(props["min_ram"]["type"], "integer");
  EXPECT_EQ(props["tags"]["items"]["maxLength"], 255);
  EXPECT_EQ(props["locations"]["items"]["required"], Json({"url", "metadata"}));
  for (const char* ro :
       {"checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size", "created_at",
        "updated_at", "direct_url", "self", "file", "stores", "schema"}) {
    EXPECT_EQ(props[ro]["readOnly"], true) << ro;
  }
  EXPECT_FALSE(props["name"].contains("readOnly"));
}

TEST(ImageSchemaTest, FormatEnumsComeFromOptions) {
  Json props = ParsedImageSchema()["properties"];
  EXPECT_EQ(props["disk_format"]["enum"], Json({nullptr, "ami", "ari", "aki", "vhd", "vhdx", "vmdk",
                                                "raw", "qcow2", "vdi", "iso", "ploop"}));
  EXPECT_EQ(props["container_format"]["enum"],
            Json({nullptr, "ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"}));

  SchemaOptions options;
  options.disk_formats = {"raw", "qcow2"};
  options.container_formats = {"bare"};
  options.include_locations = false;
  options.include_direct_url = false;
  props = ParsedImageSchema(options)["properties"];
  EXPECT_EQ(props["disk_format"]["enum"], Json({nullptr, "raw", "qcow2"}));
  EXPECT_EQ(props["container_format"]["enum"], Json({nullptr, "bare"}));
  EXPECT_FALSE(props.contains("locations"));
  EXPECT_FALSE(props.contains("direct_url"));
  EXPECT_TRUE(props.contains("stores"));
}

TEST(ImagesSchemaTest, CollectionWrapsImageSchema) {
  SchemaOptions options;
  options.disk_formats = {"iso"};
  Json s = Json::parse(ImagesSchema(options));
  EXPECT_EQ(s["name"], "images");
  EXPECT_EQ(s["properties"]["images"]["type"], "array");
  EXPECT_EQ(s["properties"]["images"]["items"], ParsedImageSchema(options));
  EXPECT_EQ(s["properties"]["first"], Json({{"type", "string"}}));
  EXPECT_EQ(s["properties"]["next"], Json({{"type", "string"}}));
  EXPECT_EQ(s["properties"]["schema"], Json({{"type", "string"}}));
  EXPECT_EQ(s["links"], Json::parse(R"([{"rel":"first","href":"{first}"},
      {"rel":"next","href":"{next}"},{"rel":"describedby","href":"{schema}"}])"));
}

TEST(MemberSchemaTest, MinimalForms) {
  Json m = Json::parse(MemberSchema());
  EXPECT_EQ(m["name"], "member");
  EXPECT_EQ(m["properties"]["status"]["enum"], Json({"pending", "accepted", "rejected"}));
  for (const char* k : {"member_id", "image_id", "created_at", "updated_at", "status", "schema"}) {
    EXPECT_TRUE(m["properties"].contains(k)) << k;
  }
  Json ms = Json::parse(MembersSchema());
  EXPECT_EQ(ms["name"], "members");
  EXPECT_EQ(ms["properties"]["members"]["items"]["name"], "member");
  EXPECT_FALSE(ms.contains("additionalProperties"));
}

TEST(TaskSchemaTest, TaskAndListHideDetails) {
  Json t = Json::parse(TaskSchema());
  EXPECT_EQ(t["name"], "task");
  EXPECT_EQ(t["properties"]["type"]["enum"],
            Json({"import", "api_image_import", "location_import"}));
  EXPECT_EQ(t["properties"]["status"]["enum"],
            Json({"pending", "processing", "success", "failure"}));
  EXPECT_TRUE(t["properties"].contains("input"));
  Json ts = Json::parse(TasksSchema());
  Json item = ts["properties"]["tasks"]["items"]["properties"];
  EXPECT_FALSE(item.contains("input"));
  EXPECT_FALSE(item.contains("result"));
  EXPECT_FALSE(item.contains("message"));
  EXPECT_TRUE(item.contains("status"));
}

TEST(MetadefSchemasTest, AllParseWithExpectedNames) {
  const std::pair<const char*, const char*> expected[] = {
      {"metadefs/namespace", "namespace"},
      {"metadefs/namespaces", "namespaces"},
      {"metadefs/resource_type", "resource_type_association"},
      {"metadefs/resource_types", "resource_type_associations"},
      {"metadefs/property", "property"},
      {"metadefs/properties", "properties"},
      {"metadefs/object", "object"},
      {"metadefs/objects", "objects"},
      {"metadefs/tag", "tag"},
      {"metadefs/tags", "tags"},
  };
  for (const auto& [path, name] : expected) {
    std::optional<std::string> doc = SchemaByName(path);
    ASSERT_TRUE(doc.has_value()) << path;
    Json s = Json::parse(*doc);
    EXPECT_EQ(s["name"], name) << path;
    EXPECT_TRUE(s["properties"].is_object()) << path;
  }
  Json ns = Json::parse(MetadefNamespaceSchema());
  EXPECT_EQ(ns["required"], Json({"namespace"}));
  EXPECT_EQ(ns["properties"]["visibility"]["enum"], Json({"public", "private"}));
  Json tag = Json::parse(MetadefTagSchema());
  EXPECT_EQ(tag["properties"]["name"]["maxLength"], 80);
  Json namespaces = Json::parse(MetadefNamespacesSchema());
  EXPECT_TRUE(namespaces["properties"].contains("namespaces"));
  EXPECT_TRUE(namespaces.contains("links"));
}

// A shared fragment ({"$include": file}) is written once and inlined wherever it is referenced:
// the property definition appears in the property, properties, object and namespace documents.
TEST(MetadefSchemasTest, SharedPropertyDefinitionIsInlinedEverywhere) {
  const Json property_fields = Json::parse(MetadefPropertySchema())["properties"];
  ASSERT_TRUE(property_fields.contains("operators"));
  EXPECT_EQ(Json::parse(MetadefPropertiesSchema())["properties"]["properties"]
                ["additionalProperties"]["properties"], property_fields);
  for (const std::string& doc : {MetadefObjectSchema(), MetadefNamespaceSchema()}) {
    const Json property_map = Json::parse(doc)["definitions"]["property"];
    EXPECT_EQ(property_map["additionalProperties"]["properties"], property_fields);
    EXPECT_EQ(property_map["additionalProperties"]["required"], Json({"title", "type"}));
  }
}

TEST(SchemaByNameTest, NoDocumentKeepsAnInclude) {
  for (const char* name : {"image", "images", "member", "members", "task", "tasks",
                           "metadefs/namespace", "metadefs/namespaces", "metadefs/resource_type",
                           "metadefs/resource_types", "metadefs/property", "metadefs/properties",
                           "metadefs/object", "metadefs/objects", "metadefs/tag", "metadefs/tags"}) {
    std::optional<std::string> doc = SchemaByName(name);
    ASSERT_TRUE(doc.has_value()) << name;
    EXPECT_EQ(doc->find("$include"), std::string::npos) << name;
  }
}

TEST(SchemaByNameTest, KnownAndUnknown) {
  for (const char* name : {"image", "images", "member", "members", "task", "tasks"}) {
    EXPECT_TRUE(SchemaByName(name).has_value()) << name;
  }
  EXPECT_EQ(*SchemaByName("image"), ImageSchema());
  for (const char* name : {"", "imagez", "metadefs", "metadefs/", "metadefs/image", "/image"}) {
    EXPECT_FALSE(SchemaByName(name).has_value()) << name;
  }
}

}  // namespace
}  // namespace glimmer::api
