#pragma once
// The stage digest property (kStageDigestProperty) of a stage written in one go: written by
// ImportCoordinator::Stage, read by the glance-direct import.

#include <optional>
#include <string>

#include "domain/image.h"
#include "images/stream_to_store.h"

namespace glimmer::images::internal {

std::string EncodeStageDigest(const StreamResult& r);
// nullopt when absent or unreadable (the import then reads the staged file).
std::optional<StreamResult> DecodeStageDigest(const domain::Image& image);

}  // namespace glimmer::images::internal
