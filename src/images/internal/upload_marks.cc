#include "images/internal/upload_marks.h"

#include <algorithm>
#include <string>

namespace glimmer::images::internal {

void ResetData(domain::Image& image) {
  image.properties.erase(std::string(kUploadLocation));
  image.properties.erase(std::string(kUploadNode));
  image.size.reset();
  image.virtual_size.reset();
  image.checksum.reset();
  image.os_hash_algo.reset();
  image.os_hash_value.reset();
  image.locations.clear();
}

bool MarkedByOtherNode(const domain::Image& image, std::string_view property,
                       const std::string& self) {
  auto it = image.properties.find(std::string(property));
  return it != image.properties.end() && !self.empty() && it->second != self;
}

std::optional<std::string> MarkedBySilentNode(const domain::Image& image, std::string_view property,
                                              const std::string& self,
                                              const std::vector<std::string>& nodes) {
  auto it = image.properties.find(std::string(property));
  if (it == image.properties.end() || it->second == self) return std::nullopt;
  if (std::find(nodes.begin(), nodes.end(), it->second) == nodes.end()) return std::nullopt;
  return it->second;
}

}  // namespace glimmer::images::internal
