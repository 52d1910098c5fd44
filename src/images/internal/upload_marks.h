#pragma once
// The hidden properties an upload in progress leaves on its image, and how they are cleared.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/image.h"

namespace glimmer::images::internal {

// Where an upload (or an import's write) will commit its data. Recorded before the data becomes
// visible in the store, so recovery after a crash can remove it.
inline constexpr std::string_view kUploadLocation = "os_glance_upload_location";
// The node running an upload in `saving`.
inline constexpr std::string_view kUploadNode = "os_glance_upload_node";

// Forgets the image's data: the two marks above, size, virtual_size, checksums, locations.
void ResetData(domain::Image& image);

// Node marks (kUploadNode, os_glance_stage_host) in crash recovery.
// True when `image` has `property` naming another node than `self` (an image without the mark,
// or any image when `self` is empty, counts as this node's).
bool MarkedByOtherNode(const domain::Image& image, std::string_view property,
                       const std::string& self);
// The node named by `image`'s `property` when it is one of `nodes` and not `self`.
std::optional<std::string> MarkedBySilentNode(const domain::Image& image, std::string_view property,
                                              const std::string& self,
                                              const std::vector<std::string>& nodes);

}  // namespace glimmer::images::internal
