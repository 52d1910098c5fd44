#pragma once
// Glance's image attributes, written once: every attribute of an image that is not a custom
// property, with its type, length limit, who may set it, and how the APIs name it. The schema
// test (api/images/image_schema_test.cc), the JSON renderer and request parser, the records
// service, glance-download and the catalog all read this table instead of keeping a copy.
//
// Custom properties are every other name. Names starting with "os_glance" are the service's own
// properties (IsServiceProperty): no request may set or remove them, and some are never shown.

#include <span>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace glimmer::domain {

// Longest name, owner, tag or custom property name Glance accepts (its schema's maxLength).
inline constexpr size_t kMaxFieldLength = 255;

struct AttributeSpec {
  enum class Kind {
    kUuid,        // id
    kString,      // text, `nullable` says whether null is allowed
    kBool,
    kInt,         // non-negative
    kVisibility,  // one of domain::Visibility
    kStatus,      // one of domain::ImageStatus
    kFormat,      // a configured disk or container format (or null)
    kStringList,  // tags: a set of strings, each at most max_length long
    kTimestamp,
    kLocations,   // [{url, metadata}]
  };
  enum class Access {
    kSettable,    // create and update
    kCreateOnly,  // create only; read-only afterwards (id)
    kReadOnly,    // shown, never set by a request: "Attribute 'x' is read-only."
    kReserved,    // neither shown nor set: "Attribute 'x' is reserved."
  };

  std::string_view name;
  Kind kind;
  size_t max_length;  // 0: no limit (for kStringList: each item's limit)
  Access access;
  bool nullable;
  int sort_rank;               // 1-based place in Glance's list of v2 sort keys; 0: not one
  std::string_view v1_header;  // the Images v1 header carrying it; empty: none

  // Shown in the image's JSON and its schema (everything but the reserved attributes).
  constexpr bool visible() const { return access != Access::kReserved; }
};

// Every attribute, in the order of Glance's image schema (etc/schema-image.json's base part),
// then the reserved ones.
std::span<const AttributeSpec> ImageAttributes();

// The attribute named `name`; null for a custom property.
const AttributeSpec* FindAttribute(std::string_view name);

// True for the service's own properties ("os_glance" prefix), reserved like the reserved
// attributes.
bool IsServiceProperty(std::string_view name);

// True for the service properties that are internal bookkeeping, never shown to clients
// (where an upload or stage is running, ...). The other os_glance_* properties are shown.
bool IsHiddenProperty(std::string_view name);

// A custom property a request may set: neither an attribute nor a service property.
inline bool IsCustomProperty(std::string_view name) {
  return FindAttribute(name) == nullptr && !IsServiceProperty(name);
}

// Whether a request may set `name` (an attribute or a custom property). PermissionDenied with
// Glance's text for the reserved attributes and service properties ("Attribute 'x' is
// reserved."), the read-only ones, and `id` after creation ("Attribute 'x' is read-only.").
Status CheckSettable(std::string_view name, bool creating);

// The v2 sort keys in Glance's order ("name", "status", ...).
std::vector<std::string_view> SortKeys();

}  // namespace glimmer::domain
