#include "images/import.h"

#include <nlohmann/json.hpp>

namespace glimmer::images {

using json = nlohmann::json;

std::string EncodeImportInput(std::string_view image_id, const ImportRequest& req,
                              const std::vector<std::string>& backends) {
  json method = {{"name", req.method}};
  if (req.method == "web-download") method["uri"] = req.uri;
  if (req.method == "glance-download") {
    method["glance_image_id"] = req.glance_image_id;
    method["glance_region"] = req.glance_region;
    method["glance_service_interface"] = req.glance_service_interface;
  }
  json import_req = {{"method", method},
                     {"all_stores", req.all_stores},
                     {"all_stores_must_succeed", req.all_stores_must_succeed}};
  if (!req.stores.empty()) import_req["stores"] = req.stores;
  json input = {{"image_id", image_id},
                {"import_req", import_req},
                {"backend", backends},
                {"glimmer_inject_metadata", req.inject_metadata}};
  return input.dump();
}

StatusOr<DecodedImportInput> DecodeImportInput(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("image_id") || !j.contains("import_req")) {
    return InternalError("malformed import task input");
  }
  DecodedImportInput out;
  try {
    out.image_id = j.at("image_id").get<std::string>();
    const json& r = j.at("import_req");
    const json& m = r.at("method");
    out.request.method = m.at("name").get<std::string>();
    out.request.uri = m.value("uri", "");
    out.request.glance_image_id = m.value("glance_image_id", "");
    out.request.glance_region = m.value("glance_region", "");
    out.request.glance_service_interface = m.value("glance_service_interface", "");
    out.request.stores = r.value("stores", std::vector<std::string>{});
    out.request.all_stores = r.value("all_stores", false);
    out.request.all_stores_must_succeed = r.value("all_stores_must_succeed", true);
    out.backends = j.value("backend", std::vector<std::string>{});
    out.request.inject_metadata = j.value("glimmer_inject_metadata", true);
  } catch (const json::exception& e) {
    return InternalError(std::string("malformed import task input: ") + e.what());
  }
  return out;
}

std::string EncodeImportResult(std::string_view image_id) {
  return json{{"image_id", image_id}}.dump();
}

}  // namespace glimmer::images
