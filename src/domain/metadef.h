#pragma once
// Metadata definitions (Glance's /v2/metadefs): namespaces of property definitions that
// dashboards offer when editing the metadata of images, volumes, flavors... A namespace is
// addressed by its name; properties, objects and tags by their name within a namespace;
// resource types by their name. The JSON-schema fragments of properties and objects are kept as
// JSON text that the API edge (or the loader) has validated: no rule here looks inside them.

#include <optional>
#include <string>
#include <vector>

#include "common/time.h"

namespace glimmer::domain {

struct MetadefNamespace {
  std::string name;  // Glance's "namespace"
  std::optional<std::string> display_name;
  std::optional<std::string> description;
  // "public" or "private"; nullopt for namespaces loaded from files without one (Glance treats
  // them as not public).
  std::optional<std::string> visibility;
  bool is_protected = false;
  std::string owner;  // a project id, or "admin" for namespaces loaded from files
  UnixMicros created_at = 0;
  UnixMicros updated_at = 0;
};

// One property definition: `schema_json` is a JSON object (title, type, enum, ...) without the
// name.
struct MetadefProperty {
  std::string name;
  std::string schema_json;
  UnixMicros created_at = 0;
  UnixMicros updated_at = 0;
};

struct MetadefObject {
  std::string name;
  std::optional<std::string> description;
  std::string required_json = "[]";    // JSON array of property names
  std::string properties_json = "{}";  // JSON object: property name -> definition
  UnixMicros created_at = 0;
  UnixMicros updated_at = 0;
};

struct MetadefTag {
  std::string name;
  UnixMicros created_at = 0;
  UnixMicros updated_at = 0;
};

struct MetadefResourceType {
  std::string name;
  bool is_protected = false;  // seeded by the loader; cannot be deleted
  UnixMicros created_at = 0;
  UnixMicros updated_at = 0;
};

// A namespace's association with a resource type ("OS::Glance::Image"): the namespace's
// properties apply to that kind of resource, their names prefixed with `prefix`.
struct MetadefAssociation {
  std::string name;  // the resource type's name
  std::optional<std::string> prefix;
  std::optional<std::string> properties_target;
  UnixMicros created_at = 0;
  UnixMicros updated_at = 0;
};

// A namespace with everything in it (GET /v2/metadefs/namespaces/{ns}, POST with contents, the
// loader's files).
struct MetadefNamespaceTree {
  MetadefNamespace ns;
  std::vector<MetadefAssociation> associations;
  std::vector<MetadefProperty> properties;
  std::vector<MetadefObject> objects;
  std::vector<MetadefTag> tags;
};

}  // namespace glimmer::domain
