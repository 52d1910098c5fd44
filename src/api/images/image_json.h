#pragma once
// Images and members as the Images API renders them (Glance's JSON). Request bodies are parsed
// in image_request.h.

#include <nlohmann/json.hpp>

#include "domain/image.h"

namespace glimmer::api::images {

struct RenderOptions {
  bool show_multiple_locations = false;
  bool show_image_direct_url = false;
  bool multistore = false;  // several stores: render `stores` (ids holding a copy, comma list)
};

// The image as Glance renders it: every base field (null when unset), custom properties
// flattened at the top level (hidden os_glance_* ones omitted), relative self/file/schema.
nlohmann::ordered_json ImageToJson(const domain::Image& image, const RenderOptions& options);

// {"created_at", "updated_at", "image_id", "member_id", "status", "schema"} as Glance renders it.
nlohmann::ordered_json MemberToJson(const domain::Member& member);

}  // namespace glimmer::api::images
