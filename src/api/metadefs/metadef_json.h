#pragma once
// JSON ⇄ metadef domain types, at the API edge. Request bodies are checked as Glance's schemas
// (src/api/schemas/metadef-*.json) check them, with Glance's answers: read-only attributes 403
// ("Attribute 'self' is read-only."), everything else 400 ("Provided object does not match
// schema 'namespace': ..."). Property definitions keep only the fields of Glance's PropertyType
// (unknown fields inside a namespace's or object's property map are dropped, as wsme drops them;
// a property POSTed on its own refuses them, as its schema does).
//
// All functions are pure and thread-safe.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "domain/metadef.h"
#include "metadefs/metadef_service.h"

namespace glimmer::api::metadefs {

using json = nlohmann::ordered_json;

// Parses a request body: InvalidArgument for malformed JSON, nesting deeper than 32, or a body
// that is not an object.
StatusOr<json> ParseBody(std::string_view text);

// POST / PUT /v2/metadefs/namespaces[/{ns}]: the fields, and (create only) the contents.
struct NamespaceBody {
  glimmer::metadefs::NamespaceFields fields;
  domain::MetadefNamespaceTree contents;
};
StatusOr<NamespaceBody> ParseNamespace(const json& body);
// POST …/properties and PUT …/properties/{name}.
StatusOr<domain::MetadefProperty> ParseProperty(const json& body);
// POST …/objects and PUT …/objects/{name}.
StatusOr<domain::MetadefObject> ParseObject(const json& body);
// POST / PUT …/tags/{name} (PUT's body names the tag) and POST …/tags ({"tags":[{"name"}]}).
StatusOr<std::string> ParseTag(const json& body);
StatusOr<std::vector<std::string>> ParseTags(const json& body);
// POST …/resource_types.
StatusOr<domain::MetadefAssociation> ParseAssociation(const json& body);

// Validates one property definition (a namespace file's or a request's), returning it with only
// Glance's fields, without "name". `schema` names the schema in messages.
StatusOr<json> NormalizePropertyDefinition(const json& def, std::string_view schema);

// Rendering. `prefix` (GET namespace ?resource_type=): prepended to property names.
json NamespaceToJson(const domain::MetadefNamespace& ns);
json ListedNamespaceToJson(const glimmer::metadefs::ListedNamespace& listed);
json NamespaceTreeToJson(const domain::MetadefNamespaceTree& tree,
                         const std::optional<std::string>& prefix);
json PropertyToJson(const domain::MetadefProperty& p, bool with_name);
json ObjectToJson(std::string_view ns, const domain::MetadefObject& o,
                  const std::optional<std::string>& prefix = std::nullopt);
json TagToJson(const domain::MetadefTag& t);
json AssociationToJson(const domain::MetadefAssociation& a);
json ResourceTypeToJson(const domain::MetadefResourceType& r);

}  // namespace glimmer::api::metadefs
