#include "api/metadefs/metadef_json.h"

#include <set>

#include "common/time.h"

namespace glimmer::api::metadefs {
namespace {

constexpr int kMaxDepth = 32;
constexpr char kTypeNames[] = "['array', 'boolean', 'integer', 'number', 'object', 'string', None]";

// Python's repr of a JSON value, as jsonschema prints it in messages (near enough: strings in
// single quotes, everything else as JSON).
std::string Repr(const json& v) {
  if (v.is_string()) return "'" + v.get<std::string>() + "'";
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  if (v.is_null()) return "None";
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

Status Invalid(std::string_view schema, const std::string& reason) {
  return InvalidArgumentError("Provided object does not match schema '" + std::string(schema) +
                              "': " + reason);
}

Status TypeError(std::string_view schema, const json& v, const char* type) {
  return Invalid(schema, Repr(v) + " is not of type '" + type + "'");
}

// Glance's read-only attributes: 403 when a request names them.
Status CheckReadOnly(const json& body, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    if (body.contains(k)) {
      return PermissionDeniedError(std::string("Attribute '") + k + "' is read-only.");
    }
  }
  return OkStatus();
}

Status CheckRequired(std::string_view schema, const json& body,
                     std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    if (!body.contains(k)) return Invalid(schema, std::string("'") + k + "' is a required property");
  }
  return OkStatus();
}

Status CheckAllowed(std::string_view schema, const json& body, const std::set<std::string>& keys) {
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (!keys.count(it.key())) {
      return Invalid(schema, "Additional properties are not allowed ('" + it.key() +
                                 "' was unexpected)");
    }
  }
  return OkStatus();
}

// An optional string member: absent → nullopt; wrong type or too long → 400.
StatusOr<std::optional<std::string>> OptString(std::string_view schema, const json& body,
                                               const char* key, size_t max_length) {
  auto it = body.find(key);
  if (it == body.end()) return std::optional<std::string>();
  if (!it->is_string()) return TypeError(schema, *it, "string");
  std::string s = it->get<std::string>();
  // jsonschema counts characters (code points), not bytes.
  size_t chars = 0;
  for (unsigned char c : s) chars += (c & 0xC0) != 0x80;
  if (max_length && chars > max_length) return Invalid(schema, Repr(*it) + " is too long");
  return std::optional<std::string>(std::move(s));
}

StatusOr<std::string> ReqString(std::string_view schema, const json& body, const char* key,
                                size_t max_length) {
  ASSIGN_OR_RETURN(auto s, OptString(schema, body, key, max_length));
  if (!s) return Invalid(schema, std::string("'") + key + "' is a required property");
  return std::move(*s);
}

Status CheckStringArray(std::string_view schema, const json& v, bool unique) {
  if (!v.is_array()) return TypeError(schema, v, "array");
  std::set<std::string> seen;
  for (const auto& e : v) {
    if (!e.is_string()) return TypeError(schema, e, "string");
    if (unique && !seen.insert(e.get<std::string>()).second) {
      return Invalid(schema, Repr(v) + " has non-unique elements");
    }
  }
  return OkStatus();
}

Status CheckTypeName(std::string_view schema, const json& v) {
  if (!v.is_string()) return TypeError(schema, v, "string");
  static const std::set<std::string> kTypes = {"array",  "boolean", "integer",
                                               "number", "object",  "string"};
  if (!kTypes.count(v.get<std::string>())) {
    return Invalid(schema, Repr(v) + " is not one of " + kTypeNames);
  }
  return OkStatus();
}

Status CheckNonNegativeInt(std::string_view schema, const json& v) {
  if (!v.is_number_integer()) return TypeError(schema, v, "integer");
  if (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0) {
    return Invalid(schema, Repr(v) + " is less than the minimum of 0");
  }
  return OkStatus();
}

// Nesting depth of `text` outside strings (deep bodies are refused before parsing).
int Depth(std::string_view text) {
  int depth = 0, max = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{' || c == '[') max = std::max(max, ++depth);
    if (c == '}' || c == ']') --depth;
  }
  return max;
}

// A property map ({name: definition}) of a namespace or object.
StatusOr<std::vector<std::pair<std::string, json>>> ParsePropertyMap(std::string_view schema,
                                                                     const json& v) {
  if (!v.is_object()) return TypeError(schema, v, "object");
  std::vector<std::pair<std::string, json>> out;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it->is_object()) return TypeError(schema, *it, "object");
    if (it.key().empty() || it.key().size() > 255) {
      return Invalid(schema, "'" + it.key() + "' is not a valid property name");
    }
    ASSIGN_OR_RETURN(json def, NormalizePropertyDefinition(*it, schema));
    def.erase("name");
    out.emplace_back(it.key(), std::move(def));
  }
  return out;
}

StatusOr<domain::MetadefObject> ObjectFrom(std::string_view schema, const json& body,
                                           bool strict) {
  if (!body.is_object()) return TypeError(schema, body, "object");
  if (strict) {
    RETURN_IF_ERROR(CheckAllowed(schema, body, {"name", "description", "required", "properties",
                                                "schema", "self", "created_at", "updated_at"}));
  }
  domain::MetadefObject o;
  ASSIGN_OR_RETURN(o.name, ReqString(schema, body, "name", strict ? 80 : 0));
  ASSIGN_OR_RETURN(o.description, OptString(schema, body, "description", 0));
  if (auto it = body.find("required"); it != body.end()) {
    RETURN_IF_ERROR(CheckStringArray(schema, *it, true));
    o.required_json = it->dump();
  }
  if (auto it = body.find("properties"); it != body.end()) {
    ASSIGN_OR_RETURN(auto props, ParsePropertyMap(schema, *it));
    json map = json::object();
    for (auto& [k, v] : props) map[k] = std::move(v);
    o.properties_json = map.dump();
  }
  return o;
}

json ParseStored(const std::string& text, json fallback) {
  json v = json::parse(text, nullptr, false);
  return v.is_discarded() ? fallback : v;
}

void SetTimes(json& j, UnixMicros created, UnixMicros updated) {
  j["created_at"] = FormatIsoSeconds(created);
  j["updated_at"] = FormatIsoSeconds(updated);
}

}  // namespace

StatusOr<json> ParseBody(std::string_view text) {
  if (Depth(text) > kMaxDepth) {
    return InvalidArgumentError("Malformed JSON in request body: nesting too deep.");
  }
  json body = json::parse(text, nullptr, false);
  if (body.is_discarded()) return InvalidArgumentError("Malformed JSON in request body.");
  if (!body.is_object()) return InvalidArgumentError("Body expected to be a JSON object.");
  return body;
}

StatusOr<json> NormalizePropertyDefinition(const json& def, std::string_view schema) {
  if (!def.is_object()) return TypeError(schema, def, "object");
  RETURN_IF_ERROR(CheckRequired(schema, def, {"title", "type"}));
  json out = json::object();
  for (auto it = def.begin(); it != def.end(); ++it) {
    const std::string& k = it.key();
    const json& v = *it;
    if (k == "name") {
      if (!v.is_string()) return TypeError(schema, v, "string");
      if (v.get<std::string>().size() > 80) return Invalid(schema, Repr(v) + " is too long");
    } else if (k == "title" || k == "description" || k == "pattern") {
      if (!v.is_string()) return TypeError(schema, v, "string");
    } else if (k == "operators") {
      RETURN_IF_ERROR(CheckStringArray(schema, v, false));
    } else if (k == "required") {
      RETURN_IF_ERROR(CheckStringArray(schema, v, true));
    } else if (k == "type") {
      RETURN_IF_ERROR(CheckTypeName(schema, v));
    } else if (k == "minimum" || k == "maximum") {
      if (!v.is_number()) return TypeError(schema, v, "number");
    } else if (k == "maxLength" || k == "minLength" || k == "maxItems" || k == "minItems") {
      RETURN_IF_ERROR(CheckNonNegativeInt(schema, v));
    } else if (k == "enum") {
      if (!v.is_array()) return TypeError(schema, v, "array");
    } else if (k == "readonly" || k == "uniqueItems" || k == "additionalItems") {
      if (!v.is_boolean()) return TypeError(schema, v, "boolean");
    } else if (k == "default") {
      // any value
    } else if (k == "items") {
      if (!v.is_object()) return TypeError(schema, v, "object");
      json items = json::object();
      if (auto t = v.find("type"); t != v.end()) {
        RETURN_IF_ERROR(CheckTypeName(schema, *t));
        items["type"] = *t;
      }
      if (auto e = v.find("enum"); e != v.end()) {
        if (!e->is_array()) return TypeError(schema, *e, "array");
        items["enum"] = *e;
      }
      out[k] = std::move(items);
      continue;
    } else {
      continue;  // not a PropertyType field: dropped
    }
    out[k] = v;
  }
  return out;
}

StatusOr<NamespaceBody> ParseNamespace(const json& body) {
  constexpr std::string_view kSchema = "namespace";
  RETURN_IF_ERROR(CheckReadOnly(body, {"self", "schema", "created_at", "updated_at"}));
  RETURN_IF_ERROR(CheckAllowed(kSchema, body,
                               {"namespace", "display_name", "description", "visibility",
                                "protected", "owner", "resource_type_associations", "properties",
                                "objects", "tags"}));
  NamespaceBody out;
  auto& f = out.fields;
  ASSIGN_OR_RETURN(f.name, ReqString(kSchema, body, "namespace", 80));
  ASSIGN_OR_RETURN(f.display_name, OptString(kSchema, body, "display_name", 80));
  ASSIGN_OR_RETURN(f.description, OptString(kSchema, body, "description", 500));
  ASSIGN_OR_RETURN(f.visibility, OptString(kSchema, body, "visibility", 0));
  if (f.visibility && *f.visibility != "public" && *f.visibility != "private") {
    return Invalid(kSchema, Repr(body["visibility"]) + " is not one of ['public', 'private']");
  }
  if (auto it = body.find("protected"); it != body.end()) {
    if (!it->is_boolean()) return TypeError(kSchema, *it, "boolean");
    f.is_protected = it->get<bool>();
  }
  ASSIGN_OR_RETURN(f.owner, OptString(kSchema, body, "owner", 255));
  auto& c = out.contents;
  if (auto it = body.find("resource_type_associations"); it != body.end()) {
    if (!it->is_array()) return TypeError(kSchema, *it, "array");
    for (const auto& a : *it) {
      if (!a.is_object()) return TypeError(kSchema, a, "object");
      domain::MetadefAssociation assoc;
      ASSIGN_OR_RETURN(assoc.name, ReqString(kSchema, a, "name", 80));
      ASSIGN_OR_RETURN(assoc.prefix, OptString(kSchema, a, "prefix", 80));
      ASSIGN_OR_RETURN(assoc.properties_target, OptString(kSchema, a, "properties_target", 80));
      c.associations.push_back(std::move(assoc));
    }
  }
  if (auto it = body.find("properties"); it != body.end()) {
    ASSIGN_OR_RETURN(auto props, ParsePropertyMap(kSchema, *it));
    for (auto& [name, def] : props) c.properties.push_back({name, def.dump()});
  }
  if (auto it = body.find("objects"); it != body.end()) {
    if (!it->is_array()) return TypeError(kSchema, *it, "array");
    for (const auto& o : *it) {
      ASSIGN_OR_RETURN(auto obj, ObjectFrom(kSchema, o, false));
      c.objects.push_back(std::move(obj));
    }
  }
  if (auto it = body.find("tags"); it != body.end()) {
    if (!it->is_array()) return TypeError(kSchema, *it, "array");
    for (const auto& t : *it) {
      if (!t.is_object()) return TypeError(kSchema, t, "object");
      ASSIGN_OR_RETURN(std::string name, ReqString(kSchema, t, "name", 80));
      c.tags.push_back({std::move(name)});
    }
  }
  return out;
}

StatusOr<domain::MetadefProperty> ParseProperty(const json& body) {
  constexpr std::string_view kSchema = "property";
  RETURN_IF_ERROR(CheckReadOnly(body, {"created_at", "updated_at"}));
  static const std::set<std::string> kFields = {
      "name",    "title",    "description", "operators", "type",      "required", "minimum",
      "maximum", "maxLength", "minLength",  "pattern",   "enum",      "readonly", "default",
      "items",   "maxItems", "minItems",    "uniqueItems", "additionalItems"};
  RETURN_IF_ERROR(CheckAllowed(kSchema, body, kFields));
  RETURN_IF_ERROR(CheckRequired(kSchema, body, {"type", "title", "name"}));
  domain::MetadefProperty p;
  ASSIGN_OR_RETURN(p.name, ReqString(kSchema, body, "name", 80));
  ASSIGN_OR_RETURN(json def, NormalizePropertyDefinition(body, kSchema));
  def.erase("name");
  p.schema_json = def.dump();
  return p;
}

StatusOr<domain::MetadefObject> ParseObject(const json& body) {
  RETURN_IF_ERROR(CheckReadOnly(body, {"self", "schema", "created_at", "updated_at"}));
  return ObjectFrom("object", body, true);
}

StatusOr<std::string> ParseTag(const json& body) {
  constexpr std::string_view kSchema = "tag";
  RETURN_IF_ERROR(CheckReadOnly(body, {"created_at", "updated_at"}));
  RETURN_IF_ERROR(CheckAllowed(kSchema, body, {"name"}));
  return ReqString(kSchema, body, "name", 80);
}

StatusOr<std::vector<std::string>> ParseTags(const json& body) {
  constexpr std::string_view kSchema = "tags";
  RETURN_IF_ERROR(CheckReadOnly(body, {"created_at", "updated_at"}));
  std::vector<std::string> out;
  auto it = body.find("tags");
  if (it == body.end()) return out;
  if (!it->is_array()) return TypeError(kSchema, *it, "array");
  for (const auto& t : *it) {
    if (!t.is_object()) return TypeError(kSchema, t, "object");
    RETURN_IF_ERROR(CheckAllowed(kSchema, t, {"name", "created_at", "updated_at"}));
    ASSIGN_OR_RETURN(std::string name, ReqString(kSchema, t, "name", 80));
    out.push_back(std::move(name));
  }
  return out;
}

StatusOr<domain::MetadefAssociation> ParseAssociation(const json& body) {
  constexpr std::string_view kSchema = "resource_type_association";
  RETURN_IF_ERROR(CheckReadOnly(body, {"created_at", "updated_at"}));
  RETURN_IF_ERROR(CheckAllowed(kSchema, body, {"name", "prefix", "properties_target"}));
  domain::MetadefAssociation a;
  ASSIGN_OR_RETURN(a.name, ReqString(kSchema, body, "name", 80));
  ASSIGN_OR_RETURN(a.prefix, OptString(kSchema, body, "prefix", 80));
  ASSIGN_OR_RETURN(a.properties_target, OptString(kSchema, body, "properties_target", 80));
  return a;
}

// ---- rendering ----

json NamespaceToJson(const domain::MetadefNamespace& ns) {
  json j;
  j["namespace"] = ns.name;
  if (ns.display_name) j["display_name"] = *ns.display_name;
  if (ns.description) j["description"] = *ns.description;
  if (ns.visibility) j["visibility"] = *ns.visibility;
  j["protected"] = ns.is_protected;
  j["owner"] = ns.owner;
  SetTimes(j, ns.created_at, ns.updated_at);
  j["self"] = "/v2/metadefs/namespaces/" + ns.name;
  j["schema"] = "/v2/schemas/metadefs/namespace";
  return j;
}

json ListedNamespaceToJson(const glimmer::metadefs::ListedNamespace& listed) {
  json j = NamespaceToJson(listed.ns);
  if (!listed.associations.empty()) {
    json list = json::array();
    for (const auto& a : listed.associations) list.push_back(AssociationToJson(a));
    j["resource_type_associations"] = std::move(list);
  }
  return j;
}

json NamespaceTreeToJson(const domain::MetadefNamespaceTree& tree,
                         const std::optional<std::string>& prefix) {
  json j = ListedNamespaceToJson({tree.ns, tree.associations});
  const std::string pre = prefix.value_or("");
  if (!tree.properties.empty()) {
    json props = json::object();
    for (const auto& p : tree.properties) props[pre + p.name] = PropertyToJson(p, false);
    j["properties"] = std::move(props);
  }
  if (!tree.objects.empty()) {
    json objs = json::array();
    for (const auto& o : tree.objects) objs.push_back(ObjectToJson(tree.ns.name, o, prefix));
    j["objects"] = std::move(objs);
  }
  if (!tree.tags.empty()) {
    json tags = json::array();
    for (const auto& t : tree.tags) tags.push_back(json{{"name", t.name}});
    j["tags"] = std::move(tags);
  }
  return j;
}

json PropertyToJson(const domain::MetadefProperty& p, bool with_name) {
  json def = ParseStored(p.schema_json, json::object());
  if (!with_name) return def;
  json j;
  j["name"] = p.name;
  for (auto it = def.begin(); it != def.end(); ++it) j[it.key()] = it.value();
  return j;
}

json ObjectToJson(std::string_view ns, const domain::MetadefObject& o,
                  const std::optional<std::string>& prefix) {
  const std::string pre = prefix.value_or("");
  json j;
  j["name"] = o.name;
  if (o.description) j["description"] = *o.description;
  json required = ParseStored(o.required_json, json::array());
  if (!required.empty()) {
    json r = json::array();
    for (const auto& n : required) r.push_back(pre + n.get<std::string>());
    j["required"] = std::move(r);
  }
  json props = ParseStored(o.properties_json, json::object());
  if (!props.empty()) {
    json p = json::object();
    for (auto it = props.begin(); it != props.end(); ++it) p[pre + it.key()] = it.value();
    j["properties"] = std::move(p);
  }
  SetTimes(j, o.created_at, o.updated_at);
  j["self"] = "/v2/metadefs/namespaces/" + std::string(ns) + "/objects/" + o.name;
  j["schema"] = "/v2/schemas/metadefs/object";
  return j;
}

json TagToJson(const domain::MetadefTag& t) {
  json j;
  j["name"] = t.name;
  SetTimes(j, t.created_at, t.updated_at);
  return j;
}

json AssociationToJson(const domain::MetadefAssociation& a) {
  json j;
  j["name"] = a.name;
  if (a.prefix) j["prefix"] = *a.prefix;
  if (a.properties_target) j["properties_target"] = *a.properties_target;
  SetTimes(j, a.created_at, a.updated_at);
  return j;
}

json ResourceTypeToJson(const domain::MetadefResourceType& r) {
  json j;
  j["name"] = r.name;
  SetTimes(j, r.created_at, r.updated_at);
  return j;
}

}  // namespace glimmer::api::metadefs
