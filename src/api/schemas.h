#pragma once
// The JSON-schema documents Glance serves under /v2/schemas/... (GET only), reproduced from
// Glance's own definitions (glance/api/v2/images.py, etc/schema-image.json, image_members.py,
// tasks.py, metadef_*.py). python-glanceclient builds its client-side models from these: the
// image schema's disk/container format enums and the `"is_base": false` marker on the custom
// properties of schema-image.json are load-bearing.
//
// member(s) and task(s) are served in their "minimal" form (no links / additionalProperties on
// the collection), as Glance does. All functions are pure and thread-safe; documents are built
// from immutable data on each call (cache the string if it matters).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace glimmer::api {

struct SchemaOptions {
  // Enums of disk_format / container_format (null is always allowed as well). Take these from
  // Config::disk_formats / container_formats.
  std::vector<std::string> disk_formats = {"ami", "ari",   "aki", "vhd", "vhdx", "vmdk",
                                           "raw", "qcow2", "vdi", "iso", "ploop"};
  std::vector<std::string> container_formats = {"ami", "ari", "aki",    "bare",
                                                "ovf", "ova", "docker", "compressed"};
  // Glance always lists `locations` and `direct_url` in the schema (independently of
  // show_multiple_locations / show_image_direct_url); keep true for fidelity.
  bool include_locations = true;
  bool include_direct_url = true;
};

std::string ImageSchema(const SchemaOptions& options = {});
std::string ImagesSchema(const SchemaOptions& options = {});
std::string MemberSchema();
std::string MembersSchema();
std::string TaskSchema();
std::string TasksSchema();
std::string MetadefNamespaceSchema();
std::string MetadefNamespacesSchema();
std::string MetadefResourceTypeSchema();   // "resource_type_association"
std::string MetadefResourceTypesSchema();  // "resource_type_associations"
std::string MetadefPropertySchema();
std::string MetadefPropertiesSchema();
std::string MetadefObjectSchema();
std::string MetadefObjectsSchema();
std::string MetadefTagSchema();
std::string MetadefTagsSchema();

// The document for a path below /v2/schemas/ ("image", "images", "member", "members", "task",
// "tasks", "metadefs/namespace", "metadefs/namespaces", "metadefs/resource_type", ...,
// "metadefs/tags"); nullopt for anything else.
std::optional<std::string> SchemaByName(std::string_view name, const SchemaOptions& options = {});

}  // namespace glimmer::api
