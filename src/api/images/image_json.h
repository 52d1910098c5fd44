#pragma once
// JSON ⇄ domain conversions for the Images API. The only place image records meet JSON.

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "domain/image.h"
#include "images/image_records.h"

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

// A JSON value typed for the service.
glimmer::images::Value ToValue(const nlohmann::ordered_json& j);

// The body of POST /v2/images: an object, fields in request order. InvalidArgument otherwise.
StatusOr<std::vector<std::pair<std::string, glimmer::images::Value>>> ParseCreateBody(
    std::string_view body);

// The body of PATCH /v2/images/{id} for either patch media type. InvalidArgument (400) for
// malformed documents and JSON pointers; PermissionDenied for location edits while locations are
// hidden.
StatusOr<std::vector<glimmer::images::PatchOp>> ParsePatchBody(std::string_view body,
                                                               bool legacy_v20,
                                                               bool show_multiple_locations);

}  // namespace glimmer::api::images
