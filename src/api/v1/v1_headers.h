#pragma once
// Images v1 metadata as HTTP headers and v1 JSON (../shared/reference/images-v1.md §5.2).
//
// In: every x-image-meta-<field> and x-image-meta-property-<key> header of a request, percent-
// decoded (glanceclient ≥ 2.11 quotes every value, RFC 8187), checked as Glance v1 checked them
// (get_image_meta_from_headers and validate_image_meta) and typed: an ImageChanges for the
// records service plus v1's own fields (is_public, the size and checksum claims, status).
// Out: the image's metadata as x-image-meta-* headers (HEAD and GET /v1/images/{id}) and as
// v1's JSON, both from the attribute table's v1 column (domain/image_attributes.h).
//
// Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "domain/image.h"
#include "domain/image_changes.h"
#include "http/message.h"

namespace glimmer::api::v1 {

inline constexpr std::string_view kMetaPrefix = "x-image-meta-";
inline constexpr std::string_view kPropertyPrefix = "x-image-meta-property-";

// What a request's x-image-meta-* headers say.
struct V1Meta {
  // id (create), name, formats, owner, min_ram, min_disk, protected, and the custom
  // properties, in header order. An empty header value is v1's None: null for nullable
  // attributes, not set for the others.
  domain::ImageChanges changes;
  std::optional<bool> is_public;
  std::optional<int64_t> size;          // x-image-meta-size: the size the data must have
  std::optional<std::string> checksum;  // x-image-meta-checksum: the md5 the data must have
  std::optional<std::string> status;    // never settable; an update may only repeat it
  std::optional<std::string> id;        // as sent (changes.id holds it on create)
  std::optional<std::string> store;     // x-image-meta-store
  std::optional<std::string> location;  // x-image-meta-location (or -uri)
  std::optional<std::string> copy_from;  // x-image-meta-copy_from or x-glance-api-copy-from
  // The custom properties sent, by key (for purging the others on update).
  std::set<std::string> property_keys;
};

struct FormatLists {
  const std::vector<std::string>& disk_formats;
  const std::vector<std::string>& container_formats;
};

// Parses the x-image-meta-* headers. InvalidArgument (400) with Glance v1's messages: an
// unknown x-image-meta-<field> ("Bad header: x-image-meta-foo"), a header given twice, a value
// that is not valid percent-encoded UTF-8, an integer that is not a non-negative integer, an
// unknown format, a name or property value too long, a property key that is an attribute name.
// PermissionDenied (403) for the service's own properties (os_glance_*).
StatusOr<V1Meta> ParseV1Headers(const http::Headers& headers, const FormatLists& formats);

// Percent-decodes %XX escapes ('+' stays '+'). InvalidArgument for a malformed escape or a
// result that is not valid UTF-8.
StatusOr<std::string> PercentDecode(std::string_view value);

// Percent-encodes what cannot travel as a header value as is: control characters, non-ASCII
// bytes and '%' itself (so PercentDecode gives the value back). Plain ASCII is left readable.
std::string EncodeHeaderValue(std::string_view value);

// oslo strutils.bool_from_string (not strict): "1", "t", "true", "on", "y", "yes" in any case
// are true, everything else (including "None") is false.
bool BoolFromString(std::string_view value);

// The image's metadata as v1 headers: x-image-meta-<field> for every field with a value
// (booleans True/False, integers in decimal), x-image-meta-is_public, and
// x-image-meta-property-<key> for each shown custom property. Never the location.
void WriteV1Headers(const domain::Image& image, http::Headers& out);

// v1's image JSON: {"id", "name", "status", "is_public", "protected", "size", "checksum",
// "container_format", "disk_format", "min_disk", "min_ram", "owner", "created_at",
// "updated_at", "deleted_at", "deleted", "virtual_size", "properties": {...}}.
nlohmann::ordered_json ImageToV1Json(const domain::Image& image);

// The brief form of GET /v1/images: id, name, disk_format, container_format, checksum, size.
nlohmann::ordered_json ImageToV1BriefJson(const domain::Image& image);

// v1's timestamps: "2026-11-25T13:26:28.000000" (Python's isoformat of a naive UTC time).
std::string V1Timestamp(UnixMicros t);

}  // namespace glimmer::api::v1
