#pragma once
// The bodies of POST /v2/images and PATCH /v2/images/{id}, parsed into typed changes. Types,
// lengths and formats are checked here against the attribute table (domain/image_attributes.h),
// with Glance's jsonschema wording ("Provided object does not match schema 'image': ..."): the
// images service below only sees typed values.

#include <string_view>
#include <vector>

#include "api/schemas.h"
#include "common/status.h"
#include "domain/image_changes.h"

namespace glimmer::api::images {

// POST /v2/images: a JSON object of attributes and custom properties. InvalidArgument (400) for
// a malformed body or value, PermissionDenied (403) for read-only and reserved names; the first
// error in request order. `schema` gives the disk and container formats a request may name.
StatusOr<domain::ImageChanges> ParseCreateBody(std::string_view body, const SchemaOptions& schema);

// PATCH /v2/images/{id}, either media type (`legacy_v20`: application/openstack-images-v2.0-
// json-patch). InvalidArgument for malformed documents and JSON pointers; PermissionDenied for
// location edits (never supported; the message says why when locations are hidden). A value that
// does not fit its path does not fail the parse: it is left in PatchStep::invalid, for the
// service to report in Glimmer's order.
StatusOr<std::vector<domain::PatchStep>> ParsePatchBody(std::string_view body, bool legacy_v20,
                                                       bool show_multiple_locations,
                                                       const SchemaOptions& schema);

}  // namespace glimmer::api::images
