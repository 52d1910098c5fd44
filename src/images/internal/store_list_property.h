#pragma once
// Image properties holding a comma-separated list of store ids (os_glance_importing_to_stores,
// os_glance_failed_import).

#include <string>
#include <string_view>
#include <vector>

#include "domain/image.h"

namespace glimmer::images::internal {

// The items of property `key` (empty items skipped); empty when the property is absent.
std::vector<std::string> StoreListProperty(const domain::Image& image, std::string_view key);
// Sets property `key` to the items joined by commas; removes it when `items` is empty.
void SetStoreListProperty(domain::Image& image, std::string_view key,
                          const std::vector<std::string>& items);
// "a,b,c".
std::string JoinList(const std::vector<std::string>& items);

}  // namespace glimmer::images::internal
