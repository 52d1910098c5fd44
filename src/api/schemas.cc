#include "api/schemas.h"

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "api/schemas_embedded.h"
#include "common/embedded_text.h"

namespace glimmer::api {
namespace {

using Json = nlohmann::ordered_json;

// The documents are the files of api/schemas/, embedded at build time, as Glance serves them
// (glance/api/v2/*.py, etc/schema-image.json). image.json is the image schema without the
// schema-image.json properties, which follow from image-custom-properties.json (each marked
// "is_base": false, as Glance adds). A fragment shared by several documents is written once
// and referenced as {"$include": "<file>"}, which is replaced by that file's document.
Json Document(std::string_view file) {
  const std::optional<std::string_view> text = common::FindEmbeddedText(EmbeddedSchemaFiles(), file);
  // The files are part of the build; a missing one is a programming error, caught by the tests.
  if (!text) throw std::logic_error("no embedded schema file " + std::string(file));
  Json doc = Json::parse(*text);
  auto resolve = [](auto& self, Json& node) -> void {
    if (node.is_object() && node.size() == 1 && node.contains("$include")) {
      node = Document(node["$include"].get<std::string>());
      return;
    }
    if (node.is_structured()) {
      for (Json& child : node) self(self, child);
    }
  };
  resolve(resolve, doc);
  return doc;
}

Json FormatEnum(const std::vector<std::string>& formats) {
  Json values = Json::array({nullptr});
  for (const std::string& f : formats) values.push_back(f);
  return values;
}

Json ImageSchemaJson(const SchemaOptions& options) {
  Json doc = Document("image.json");
  Json& props = doc["properties"];
  props["disk_format"]["enum"] = FormatEnum(options.disk_formats);
  props["container_format"]["enum"] = FormatEnum(options.container_formats);
  if (!options.include_locations) props.erase("locations");
  if (!options.include_direct_url) props.erase("direct_url");
  const Json custom = Document("image-custom-properties.json");
  for (const auto& [name, value] : custom.items()) props[name] = value;
  // Keep "additionalProperties" and "links" after "properties", as Glance orders them.
  Json ordered;
  ordered["name"] = doc["name"];
  ordered["properties"] = std::move(props);
  ordered["additionalProperties"] = doc["additionalProperties"];
  ordered["links"] = doc["links"];
  return ordered;
}

// A paged collection of `item` documents, as Glance builds its list schemas: the items under
// `key`, `first`/`next`/`schema` links, and the item's shared definitions hoisted to the top.
Json PagedCollection(std::string_view name, std::string_view key, Json item) {
  Json doc;
  doc["name"] = name;
  Json definitions;
  if (item.contains("definitions")) {
    definitions = std::move(item["definitions"]);
    item.erase("definitions");
  }
  doc["properties"][std::string(key)] = {{"type", "array"}, {"items", std::move(item)}};
  doc["properties"]["first"] = {{"type", "string"}};
  doc["properties"]["next"] = {{"type", "string"}};
  doc["properties"]["schema"] = {{"type", "string"}};
  doc["links"] = Json::array({{{"rel", "first"}, {"href", "{first}"}},
                              {{"rel", "next"}, {"href", "{next}"}},
                              {{"rel", "describedby"}, {"href", "{schema}"}}});
  if (!definitions.is_null()) doc["definitions"] = std::move(definitions);
  return doc;
}

}  // namespace

std::string ImageSchema(const SchemaOptions& options) { return ImageSchemaJson(options).dump(); }

std::string ImagesSchema(const SchemaOptions& options) {
  return PagedCollection("images", "images", ImageSchemaJson(options)).dump();
}

std::string MemberSchema() { return Document("member.json").dump(); }
std::string MembersSchema() { return Document("members.json").dump(); }
std::string TaskSchema() { return Document("task.json").dump(); }
std::string TasksSchema() { return Document("tasks.json").dump(); }
std::string MetadefNamespaceSchema() { return Document("metadef-namespace.json").dump(); }
std::string MetadefNamespacesSchema() {
  return PagedCollection("namespaces", "namespaces", Document("metadef-namespace.json")).dump();
}
std::string MetadefResourceTypeSchema() { return Document("metadef-resource-type.json").dump(); }
std::string MetadefResourceTypesSchema() {
  return PagedCollection("resource_type_associations", "resource_type_associations",
                         Document("metadef-resource-type.json"))
      .dump();
}
std::string MetadefPropertySchema() { return Document("metadef-property.json").dump(); }
std::string MetadefPropertiesSchema() { return Document("metadef-properties.json").dump(); }
std::string MetadefObjectSchema() { return Document("metadef-object.json").dump(); }
std::string MetadefObjectsSchema() {
  return PagedCollection("objects", "objects", Document("metadef-object.json")).dump();
}
std::string MetadefTagSchema() { return Document("metadef-tag.json").dump(); }
std::string MetadefTagsSchema() {
  return PagedCollection("tags", "tags", Document("metadef-tag.json")).dump();
}

std::optional<std::string> SchemaByName(std::string_view name, const SchemaOptions& options) {
  if (name == "image") return ImageSchema(options);
  if (name == "images") return ImagesSchema(options);
  if (name == "member") return MemberSchema();
  if (name == "members") return MembersSchema();
  if (name == "task") return TaskSchema();
  if (name == "tasks") return TasksSchema();
  if (name == "metadefs/namespace") return MetadefNamespaceSchema();
  if (name == "metadefs/namespaces") return MetadefNamespacesSchema();
  if (name == "metadefs/resource_type") return MetadefResourceTypeSchema();
  if (name == "metadefs/resource_types") return MetadefResourceTypesSchema();
  if (name == "metadefs/property") return MetadefPropertySchema();
  if (name == "metadefs/properties") return MetadefPropertiesSchema();
  if (name == "metadefs/object") return MetadefObjectSchema();
  if (name == "metadefs/objects") return MetadefObjectsSchema();
  if (name == "metadefs/tag") return MetadefTagSchema();
  if (name == "metadefs/tags") return MetadefTagsSchema();
  return std::nullopt;
}

}  // namespace glimmer::api
