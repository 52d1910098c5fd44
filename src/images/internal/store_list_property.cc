#include "images/internal/store_list_property.h"

namespace glimmer::images::internal {

std::string JoinList(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::vector<std::string> StoreListProperty(const domain::Image& image, std::string_view key) {
  std::vector<std::string> out;
  auto it = image.properties.find(std::string(key));
  if (it == image.properties.end()) return out;
  size_t start = 0;
  const std::string& v = it->second;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    if (comma == std::string::npos) comma = v.size();
    if (comma > start) out.push_back(v.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

void SetStoreListProperty(domain::Image& image, std::string_view key,
                          const std::vector<std::string>& items) {
  if (items.empty()) {
    image.properties.erase(std::string(key));
  } else {
    image.properties[std::string(key)] = JoinList(items);
  }
}

}  // namespace glimmer::images::internal
