#include "api/images/image_json.h"

#include "common/time.h"
#include "domain/image_attributes.h"

namespace glimmer::api::images {
namespace {

using glimmer::images::PatchOp;
using glimmer::images::Value;
using json = nlohmann::ordered_json;

template <typename T>
json OrNull(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

StatusOr<json> Parse(std::string_view body) {
  try {
    return json::parse(body);
  } catch (const json::parse_error&) {
    return InvalidArgumentError("Malformed JSON in request body.");
  }
}

// Decodes a JSON pointer of exactly one segment ("/name" → "name"), Glance's rule for images
// (locations may go one level deeper; those are handled by the caller).
StatusOr<std::vector<std::string>> DecodePointer(const std::string& pointer) {
  auto invalid = [&] {
    return InvalidArgumentError("Invalid JSON pointer for this resource: '" + pointer + "'");
  };
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
  if (pointer.back() == '/') return invalid();
  return segments;
}

}  // namespace

json ImageToJson(const domain::Image& image, const RenderOptions& options) {
  json j;
  j["id"] = image.id;
  j["name"] = OrNull(image.name);
  j["status"] = std::string(domain::ToString(image.status));
  j["visibility"] = std::string(domain::ToString(image.visibility));
  j["protected"] = image.is_protected;
  j["os_hidden"] = image.os_hidden;
  j["checksum"] = OrNull(image.checksum);
  j["os_hash_algo"] = OrNull(image.os_hash_algo);
  j["os_hash_value"] = OrNull(image.os_hash_value);
  j["owner"] = OrNull(image.owner);
  j["size"] = OrNull(image.size);
  j["virtual_size"] = OrNull(image.virtual_size);
  j["container_format"] = OrNull(image.container_format);
  j["disk_format"] = OrNull(image.disk_format);
  j["min_disk"] = image.min_disk;
  j["min_ram"] = image.min_ram;
  j["tags"] = image.tags;
  j["created_at"] = FormatIsoSeconds(image.created_at);
  j["updated_at"] = FormatIsoSeconds(image.updated_at);
  for (const auto& [k, v] : image.properties) {
    if (domain::IsHiddenProperty(k)) continue;  // internal bookkeeping, never shown
    j[k] = v;
  }
  if (options.multistore && !image.locations.empty()) {
    std::string stores;
    for (const auto& l : image.locations) stores += (stores.empty() ? "" : ",") + l.store_id;
    j["stores"] = stores;
  }
  if (options.show_multiple_locations) {
    json locs = json::array();
    for (const auto& l : image.locations) {
      json meta = json::parse(l.metadata_json, nullptr, false);
      if (meta.is_discarded()) meta = json::object();
      locs.push_back({{"url", l.url}, {"metadata", meta}});
    }
    j["locations"] = locs;
  }
  if (options.show_image_direct_url && !image.locations.empty()) {
    j["direct_url"] = image.locations.front().url;
  }
  j["self"] = "/v2/images/" + image.id;
  j["file"] = "/v2/images/" + image.id + "/file";
  j["schema"] = "/v2/schemas/image";
  return j;
}

json MemberToJson(const domain::Member& m) {
  json j;
  j["created_at"] = FormatIsoSeconds(m.created_at);
  j["updated_at"] = FormatIsoSeconds(m.updated_at);
  j["image_id"] = m.image_id;
  j["member_id"] = m.member_id;
  j["status"] = std::string(domain::ToString(m.status));
  j["schema"] = "/v2/schemas/member";
  return j;
}

Value ToValue(const json& j) {
  Value v;
  switch (j.type()) {
    case json::value_t::null:
      v.kind = Value::Kind::kNull;
      break;
    case json::value_t::boolean:
      v.kind = Value::Kind::kBool;
      v.b = j.get<bool>();
      break;
    case json::value_t::number_integer:
      v.kind = Value::Kind::kInt;
      v.i = j.get<int64_t>();
      break;
    case json::value_t::number_unsigned:
      if (j.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
        v.kind = Value::Kind::kNumber;
      } else {
        v.kind = Value::Kind::kInt;
        v.i = static_cast<int64_t>(j.get<uint64_t>());
      }
      break;
    case json::value_t::number_float:
      v.kind = Value::Kind::kNumber;
      break;
    case json::value_t::string:
      v.kind = Value::Kind::kString;
      v.s = j.get<std::string>();
      break;
    case json::value_t::array: {
      v.kind = Value::Kind::kStringList;
      for (const auto& e : j) {
        if (!e.is_string()) {
          v.kind = Value::Kind::kOther;
          v.list.clear();
          break;
        }
        v.list.push_back(e.get<std::string>());
      }
      break;
    }
    default:
      v.kind = Value::Kind::kOther;
  }
  return v;
}

StatusOr<std::vector<std::pair<std::string, Value>>> ParseCreateBody(std::string_view body) {
  if (body.empty()) return InvalidArgumentError("Body expected in request.");
  ASSIGN_OR_RETURN(json j, Parse(body));
  if (!j.is_object()) return InvalidArgumentError("Body expected to be a JSON object.");
  std::vector<std::pair<std::string, Value>> out;
  for (auto it = j.begin(); it != j.end(); ++it) out.emplace_back(it.key(), ToValue(it.value()));
  return out;
}

StatusOr<std::vector<PatchOp>> ParsePatchBody(std::string_view body, bool legacy_v20,
                                              bool show_multiple_locations) {
  if (body.empty()) return InvalidArgumentError("Body expected in request.");
  ASSIGN_OR_RETURN(json j, Parse(body));
  if (!j.is_array()) {
    return InvalidArgumentError("Request body must be a JSON array of operation objects.");
  }
  std::vector<PatchOp> ops;
  for (const auto& raw : j) {
    if (!raw.is_object()) {
      return InvalidArgumentError("Operations must be JSON objects.");
    }
    PatchOp op;
    std::string path;
    if (legacy_v20) {
      int found = 0;
      for (const char* name : {"add", "replace", "remove"}) {
        if (raw.contains(name)) {
          ++found;
          op.op = std::string_view(name) == "add"       ? PatchOp::Op::kAdd
                  : std::string_view(name) == "replace" ? PatchOp::Op::kReplace
                                                        : PatchOp::Op::kRemove;
          if (!raw[name].is_string()) return InvalidArgumentError("Invalid JSON pointer");
          path = raw[name].get<std::string>();
        }
      }
      if (found != 1) {
        return InvalidArgumentError(
            "Operation objects must contain exactly one member named \"add\", \"remove\", or "
            "\"replace\".");
      }
    } else {
      auto it = raw.find("op");
      if (it == raw.end() || !it->is_string()) {
        return InvalidArgumentError("Unable to find 'op' in JSON Schema change");
      }
      std::string name = it->get<std::string>();
      if (name == "add") {
        op.op = PatchOp::Op::kAdd;
      } else if (name == "replace") {
        op.op = PatchOp::Op::kReplace;
      } else if (name == "remove") {
        op.op = PatchOp::Op::kRemove;
      } else {
        return InvalidArgumentError("Invalid operation: `" + name + "`.");
      }
      auto p = raw.find("path");
      if (p == raw.end() || !p->is_string()) {
        return InvalidArgumentError("Unable to find 'path' in JSON Schema change");
      }
      path = p->get<std::string>();
    }
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
    op.field = segments.front();
    if (op.op != PatchOp::Op::kRemove) {
      auto v = raw.find("value");
      if (v == raw.end()) {
        return InvalidArgumentError("Unable to find '`value`' in JSON Schema change");
      }
      op.value = ToValue(*v);
    }
    ops.push_back(std::move(op));
  }
  return ops;
}

}  // namespace glimmer::api::images
