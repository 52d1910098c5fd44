#include "api/images/image_request.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "domain/image_attributes.h"
#include "images/image_records.h"

namespace glimmer::api::images {
namespace {

using domain::AttributeSpec;
using domain::ImageChanges;
using domain::PatchStep;
using json = nlohmann::ordered_json;
using Kind = AttributeSpec::Kind;
using NullableText = std::optional<std::string>;

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// Glance validates request values with jsonschema against the image schema; its wording.
Status SchemaError(const std::string& what) {
  return InvalidArgumentError("Provided object does not match schema 'image': " + what);
}

StatusOr<json> Parse(std::string_view body) {
  if (body.empty()) return InvalidArgumentError("Body expected in request.");
  try {
    return json::parse(body);
  } catch (const json::parse_error&) {
    return InvalidArgumentError("Malformed JSON in request body.");
  }
}

// A string (at most the attribute's max_length) or, when the attribute is nullable, null.
StatusOr<NullableText> Text(const AttributeSpec& attr, const json& v) {
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (attr.max_length > 0 && s.size() > attr.max_length) {
      return SchemaError(Quote(s) + " is too long (maximum " + std::to_string(attr.max_length) +
                         ") for " + std::string(attr.name));
    }
    return NullableText(std::move(s));
  }
  if (attr.nullable && v.is_null()) return NullableText();
  return SchemaError("Invalid type for " + std::string(attr.name) + " (expected " +
                     (attr.nullable ? "string or null" : "string") + ")");
}

// A JSON integer that fits int64_t and is not negative.
std::optional<int64_t> NonNegative(const json& v) {
  if (v.is_number_integer() && !v.is_number_unsigned()) {
    int64_t i = v.get<int64_t>();
    if (i >= 0) return i;
  } else if (v.is_number_unsigned() && v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v.get<uint64_t>());
  }
  return std::nullopt;
}

StatusOr<NullableText> Format(const AttributeSpec& attr, const json& v,
                              const std::vector<std::string>& allowed) {
  ASSIGN_OR_RETURN(NullableText format, Text(attr, v));
  if (format && std::find(allowed.begin(), allowed.end(), *format) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "'" : ", '") + a + "'";
    return SchemaError(Quote(*format) + " is not one of [" + list + "] for " +
                       std::string(attr.name));
  }
  return format;
}

StatusOr<std::vector<std::string>> Tags(const AttributeSpec& attr, const json& v) {
  auto not_strings = [] {
    return SchemaError("tags must be an array of strings");
  };
  if (!v.is_array()) return not_strings();
  std::vector<std::string> tags;
  for (const auto& e : v) {
    if (!e.is_string()) return not_strings();
    tags.push_back(e.get<std::string>());
  }
  for (const auto& t : tags) {
    if (t.size() > attr.max_length) return SchemaError("tag " + Quote(t) + " is too long");
  }
  return tags;
}

// The member of `changes` that a settable attribute of kind kString or kFormat fills; null for
// the others.
std::optional<NullableText>* TextMember(ImageChanges& changes, std::string_view name) {
  if (name == "name") return &changes.name;
  if (name == "owner") return &changes.owner;
  if (name == "container_format") return &changes.container_format;
  if (name == "disk_format") return &changes.disk_format;
  return nullptr;
}

// Checks `v` as the value of `name` (a settable attribute or custom property) and stores it in
// its member of `out`.
Status SetValue(const std::string& name, const json& v, const SchemaOptions& schema,
                ImageChanges& out) {
  const AttributeSpec* attr = domain::FindAttribute(name);
  if (!attr) {
    if (name.empty() || name.size() > domain::kMaxFieldLength) {
      return SchemaError("property names must be 1 to 255 characters long");
    }
    if (!v.is_string()) return SchemaError(Quote(name) + " is not of type 'string'");
    out.properties.emplace_back(name, v.get<std::string>());
    return OkStatus();
  }
  switch (attr->kind) {
    case Kind::kUuid:
      if (!v.is_string() || !glimmer::images::IsUuid(v.get<std::string>())) {
        return SchemaError("id is not a valid UUID");
      }
      out.id = v.get<std::string>();
      return OkStatus();
    case Kind::kString:
      if (auto* member = TextMember(out, name)) {
        ASSIGN_OR_RETURN(*member, Text(*attr, v));
        return OkStatus();
      }
      break;
    case Kind::kFormat: {
      const auto& allowed =
          name == "disk_format" ? schema.disk_formats : schema.container_formats;
      ASSIGN_OR_RETURN(*TextMember(out, name), Format(*attr, v, allowed));
      return OkStatus();
    }
    case Kind::kVisibility: {
      std::optional<domain::Visibility> vis;
      if (v.is_string()) vis = domain::ParseVisibility(v.get<std::string>());
      if (!vis) {
        return SchemaError(
            "visibility is not one of ['community', 'public', 'private', 'shared']");
      }
      out.visibility = vis;
      return OkStatus();
    }
    case Kind::kBool:
      if (!v.is_boolean()) return SchemaError(name + " is not of type 'boolean'");
      (name == "protected" ? out.is_protected : out.os_hidden) = v.get<bool>();
      return OkStatus();
    case Kind::kInt: {
      std::optional<int64_t> i = NonNegative(v);
      if (!i) return SchemaError(name + " must be a non-negative integer");
      (name == "min_disk" ? out.min_disk : out.min_ram) = i;
      return OkStatus();
    }
    case Kind::kStringList: {
      ASSIGN_OR_RETURN(out.tags, Tags(*attr, v));
      return OkStatus();
    }
    case Kind::kStatus:
    case Kind::kTimestamp:
    case Kind::kLocations:
      break;
  }
  // Read-only and reserved attributes are refused (CheckSettable) before values are read.
  return InternalError("attribute " + name + " cannot be set");
}

// Decodes a JSON pointer ("/name" → {"name"}; "~1" is '/', "~0" is '~').
StatusOr<std::vector<std::string>> DecodePointer(const std::string& pointer) {
  if (pointer.empty() || pointer[0] != '/') {
    return InvalidArgumentError("Pointer `" + pointer + "` does not start with \"/\".");
  }
  std::vector<std::string> segments;
  std::string cur;
  for (size_t i = 1; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      if (cur.empty()) {
        return InvalidArgumentError("Pointer `" + pointer + "` contains adjacent \"/\".");
      }
      segments.push_back(cur);
      cur.clear();
      continue;
    }
    char c = pointer[i];
    if (c == '~') {
      if (i + 1 >= pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1')) {
        return InvalidArgumentError("Pointer `" + pointer +
                                    "` contains \"~\" not part of a recognized escape sequence.");
      }
      cur.push_back(pointer[i + 1] == '0' ? '~' : '/');
      ++i;
      continue;
    }
    cur.push_back(c);
  }
  if (pointer.back() == '/') {
    return InvalidArgumentError("Invalid JSON pointer for this resource: '" + pointer + "'");
  }
  return segments;
}

// The operation and JSON pointer of one patch object, in either media type's form.
Status ParseOperation(const json& raw, bool legacy_v20, PatchStep& step, std::string& path) {
  if (legacy_v20) {
    int found = 0;
    for (const char* name : {"add", "replace", "remove"}) {
      if (!raw.contains(name)) continue;
      ++found;
      step.op = std::string_view(name) == "add"       ? PatchStep::Op::kAdd
                : std::string_view(name) == "replace" ? PatchStep::Op::kReplace
                                                      : PatchStep::Op::kRemove;
      if (!raw[name].is_string()) return InvalidArgumentError("Invalid JSON pointer");
      path = raw[name].get<std::string>();
    }
    if (found != 1) {
      return InvalidArgumentError(
          "Operation objects must contain exactly one member named \"add\", \"remove\", or "
          "\"replace\".");
    }
    return OkStatus();
  }
  auto it = raw.find("op");
  if (it == raw.end() || !it->is_string()) {
    return InvalidArgumentError("Unable to find 'op' in JSON Schema change");
  }
  std::string name = it->get<std::string>();
  if (name == "add") {
    step.op = PatchStep::Op::kAdd;
  } else if (name == "replace") {
    step.op = PatchStep::Op::kReplace;
  } else if (name == "remove") {
    step.op = PatchStep::Op::kRemove;
  } else {
    return InvalidArgumentError("Invalid operation: `" + name + "`.");
  }
  auto p = raw.find("path");
  if (p == raw.end() || !p->is_string()) {
    return InvalidArgumentError("Unable to find 'path' in JSON Schema change");
  }
  path = p->get<std::string>();
  return OkStatus();
}

}  // namespace

StatusOr<ImageChanges> ParseCreateBody(std::string_view body, const SchemaOptions& schema) {
  ASSIGN_OR_RETURN(json j, Parse(body));
  if (!j.is_object()) return InvalidArgumentError("Body expected to be a JSON object.");
  ImageChanges changes;
  for (auto it = j.begin(); it != j.end(); ++it) {
    RETURN_IF_ERROR(domain::CheckSettable(it.key(), /*creating=*/true));
    RETURN_IF_ERROR(SetValue(it.key(), it.value(), schema, changes));
  }
  return changes;
}

StatusOr<std::vector<PatchStep>> ParsePatchBody(std::string_view body, bool legacy_v20,
                                                bool show_multiple_locations,
                                                const SchemaOptions& schema) {
  ASSIGN_OR_RETURN(json j, Parse(body));
  if (!j.is_array()) {
    return InvalidArgumentError("Request body must be a JSON array of operation objects.");
  }
  std::vector<PatchStep> steps;
  for (const auto& raw : j) {
    if (!raw.is_object()) return InvalidArgumentError("Operations must be JSON objects.");
    PatchStep step;
    std::string path;
    RETURN_IF_ERROR(ParseOperation(raw, legacy_v20, step, path));
    ASSIGN_OR_RETURN(auto segments, DecodePointer(path));
    if (segments.front() == "locations") {
      if (!show_multiple_locations) {
        return PermissionDeniedError(
            "It's not allowed to update locations if locations are invisible.");
      }
      return PermissionDeniedError("Editing image locations is not supported by this Glimmer.");
    }
    if (segments.size() != 1) {
      return InvalidArgumentError("Invalid JSON pointer for this resource: '" + path + "'");
    }
    step.path = segments.front();
    if (step.op != PatchStep::Op::kRemove) {
      auto v = raw.find("value");
      if (v == raw.end()) {
        return InvalidArgumentError("Unable to find '`value`' in JSON Schema change");
      }
      // Names no request may set keep an empty value: the service refuses them.
      if (domain::CheckSettable(step.path, /*creating=*/false).ok()) {
        step.invalid = SetValue(step.path, *v, schema, step.value);
      }
    }
    steps.push_back(std::move(step));
  }
  return steps;
}

}  // namespace glimmer::api::images
