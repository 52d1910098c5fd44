#include "api/images/image_json.h"

#include "common/time.h"
#include "domain/image_attributes.h"

namespace glimmer::api::images {
namespace {

using json = nlohmann::ordered_json;

template <typename T>
json OrNull(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
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

}  // namespace glimmer::api::images
