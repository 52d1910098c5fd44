// The image schema served at /v2/schemas/image and the attribute table describe the same
// attributes: its base properties (those without "is_base": false) are the table's visible ones.
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/schemas.h"
#include "domain/image_attributes.h"

namespace glimmer::api::images {
namespace {

TEST(ImageSchema, BasePropertiesAreTheVisibleAttributes) {
  auto doc = nlohmann::json::parse(*SchemaByName("image"));
  std::set<std::string> schema;
  for (const auto& [name, spec] : doc["properties"].items()) {
    if (spec.value("is_base", true)) schema.insert(name);
  }
  std::set<std::string> table;
  for (const auto& attr : domain::ImageAttributes()) {
    if (attr.visible()) table.insert(std::string(attr.name));
  }
  EXPECT_EQ(schema, table);
}

TEST(ImageSchema, MaxLengthsMatchTheTable) {
  auto doc = nlohmann::json::parse(*SchemaByName("image"));
  for (const auto& attr : domain::ImageAttributes()) {
    if (!attr.visible() || attr.max_length == 0) continue;
    const auto& spec = doc["properties"][std::string(attr.name)];
    const auto& limited = attr.kind == domain::AttributeSpec::Kind::kStringList ? spec["items"] : spec;
    if (attr.kind == domain::AttributeSpec::Kind::kFormat) continue;  // an enum in the schema
    ASSERT_TRUE(limited.contains("maxLength")) << attr.name;
    EXPECT_EQ(limited["maxLength"].get<size_t>(), attr.max_length) << attr.name;
  }
}

TEST(ImageSchema, ReadOnlyAttributesAreMarkedReadOnly) {
  auto doc = nlohmann::json::parse(*SchemaByName("image"));
  for (const auto& attr : domain::ImageAttributes()) {
    if (attr.access != domain::AttributeSpec::Access::kReadOnly) continue;
    // Glance's schema lets clients edit locations; Glimmer refuses location edits.
    if (attr.name == "locations") continue;
    EXPECT_TRUE(doc["properties"][std::string(attr.name)].value("readOnly", false)) << attr.name;
  }
}

}  // namespace
}  // namespace glimmer::api::images
