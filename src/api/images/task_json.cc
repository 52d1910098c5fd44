#include "api/images/task_json.h"

#include "common/time.h"
#include "images/image_records.h"

namespace glimmer::api::images {

using ordered_json = nlohmann::ordered_json;
using json = nlohmann::json;

ordered_json TaskToJson(const domain::Task& t, bool summary) {
  ordered_json j;
  j["id"] = t.id;
  j["type"] = t.type;
  j["status"] = std::string(domain::ToString(t.status));
  j["owner"] = t.owner;
  if (!summary) {
    j["input"] = ordered_json::parse(t.input_json, nullptr, false);
    if (j["input"].is_discarded()) j["input"] = ordered_json::object();
    if (t.result_json) {
      j["result"] = ordered_json::parse(*t.result_json, nullptr, false);
      if (j["result"].is_discarded()) j["result"] = nullptr;
    } else {
      j["result"] = nullptr;
    }
    j["message"] = t.message;
  }
  if (t.expires_at) j["expires_at"] = FormatIsoSeconds(*t.expires_at);
  j["created_at"] = FormatIsoSeconds(t.created_at);
  j["updated_at"] = FormatIsoSeconds(t.updated_at);
  j["image_id"] = t.image_id ? ordered_json(*t.image_id) : ordered_json(nullptr);
  j["request_id"] = t.request_id ? ordered_json(*t.request_id) : ordered_json(nullptr);
  j["user_id"] = t.user_id ? ordered_json(*t.user_id) : ordered_json(nullptr);
  j["self"] = "/v2/tasks/" + t.id;
  j["schema"] = "/v2/schemas/task";
  return j;
}

StatusOr<glimmer::images::ImportRequest> ParseImportBody(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return InvalidArgumentError("Malformed JSON in request body.");
  if (!j.is_object()) return InvalidArgumentError("Request body must be a JSON object");
  glimmer::images::ImportRequest r;
  auto m = j.find("method");
  if (m == j.end() || !m->is_object()) {
    return InvalidArgumentError("Import request requires a 'method' field.");
  }
  auto name = m->find("name");
  if (name == m->end() || !name->is_string() || name->get<std::string>().empty()) {
    return InvalidArgumentError("Import request requires a 'name' field in 'method'.");
  }
  r.method = name->get<std::string>();
  auto str = [&](const char* key, std::string& out) -> Status {
    auto it = m->find(key);
    if (it == m->end()) return OkStatus();
    if (!it->is_string()) return InvalidArgumentError(std::string("'") + key + "' must be a string");
    out = it->get<std::string>();
    return OkStatus();
  };
  RETURN_IF_ERROR(str("uri", r.uri));
  RETURN_IF_ERROR(str("glance_image_id", r.glance_image_id));
  RETURN_IF_ERROR(str("glance_region", r.glance_region));
  RETURN_IF_ERROR(str("glance_service_interface", r.glance_service_interface));
  if (r.method == "web-download" && r.uri.empty()) {
    return InvalidArgumentError("URI for web-download import method is missing");
  }
  if (r.method == "glance-download") {
    if (r.glance_region.empty() || r.glance_image_id.empty()) {
      return InvalidArgumentError("glance-download needs 'glance_region' and 'glance_image_id'");
    }
    if (!glimmer::images::IsUuid(r.glance_image_id)) {
      return InvalidArgumentError("glance_image_id must be a UUID");
    }
    if (r.glance_service_interface.empty()) r.glance_service_interface = "public";
  }
  r.stores_given = j.contains("stores");
  if (auto s = j.find("stores"); s != j.end() && !s->is_null()) {
    if (!s->is_array()) return InvalidArgumentError("'stores' must be a list of store ids");
    for (const auto& id : *s) {
      if (!id.is_string()) return InvalidArgumentError("'stores' must be a list of store ids");
      r.stores.push_back(id.get<std::string>());
    }
  }
  auto flag = [&](const char* key, bool& out) -> Status {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return OkStatus();
    if (!it->is_boolean()) {
      return InvalidArgumentError(std::string("'") + key + "' must be a boolean value");
    }
    out = it->get<bool>();
    return OkStatus();
  };
  RETURN_IF_ERROR(flag("all_stores", r.all_stores));
  RETURN_IF_ERROR(flag("all_stores_must_succeed", r.all_stores_must_succeed));
  if (r.all_stores && r.stores_given) {
    return InvalidArgumentError("All_stores parameter can't be used with x-image-meta-store "
                                "header or stores parameter");
  }
  return r;
}

}  // namespace glimmer::api::images
