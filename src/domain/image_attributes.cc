#include "domain/image_attributes.h"

#include <algorithm>
#include <array>
#include <string>

namespace glimmer::domain {
namespace {

using Kind = AttributeSpec::Kind;
using Access = AttributeSpec::Access;

// `visibility` has no v1 header of its own: v1's is_public is derived from it.
constexpr std::array kAttributes = {
    AttributeSpec{"id", Kind::kUuid, 0, Access::kCreateOnly, false, 6, "x-image-meta-id"},
    AttributeSpec{"name", Kind::kString, kMaxFieldLength, Access::kSettable, true, 1,
                  "x-image-meta-name"},
    AttributeSpec{"status", Kind::kStatus, 0, Access::kReadOnly, false, 2, "x-image-meta-status"},
    AttributeSpec{"visibility", Kind::kVisibility, 0, Access::kSettable, false, 0, ""},
    AttributeSpec{"protected", Kind::kBool, 0, Access::kSettable, false, 0,
                  "x-image-meta-protected"},
    AttributeSpec{"os_hidden", Kind::kBool, 0, Access::kSettable, false, 0, ""},
    AttributeSpec{"checksum", Kind::kString, 32, Access::kReadOnly, true, 0,
                  "x-image-meta-checksum"},
    AttributeSpec{"os_hash_algo", Kind::kString, 64, Access::kReadOnly, true, 0, ""},
    AttributeSpec{"os_hash_value", Kind::kString, 128, Access::kReadOnly, true, 0, ""},
    AttributeSpec{"owner", Kind::kString, kMaxFieldLength, Access::kSettable, true, 0,
                  "x-image-meta-owner"},
    AttributeSpec{"size", Kind::kInt, 0, Access::kReadOnly, true, 5, "x-image-meta-size"},
    AttributeSpec{"virtual_size", Kind::kInt, 0, Access::kReadOnly, true, 0,
                  "x-image-meta-virtual_size"},
    AttributeSpec{"container_format", Kind::kFormat, kMaxFieldLength, Access::kSettable, true, 3,
                  "x-image-meta-container_format"},
    AttributeSpec{"disk_format", Kind::kFormat, kMaxFieldLength, Access::kSettable, true, 4,
                  "x-image-meta-disk_format"},
    AttributeSpec{"created_at", Kind::kTimestamp, 0, Access::kReadOnly, false, 7,
                  "x-image-meta-created_at"},
    AttributeSpec{"updated_at", Kind::kTimestamp, 0, Access::kReadOnly, false, 8,
                  "x-image-meta-updated_at"},
    AttributeSpec{"tags", Kind::kStringList, kMaxFieldLength, Access::kSettable, false, 0, ""},
    AttributeSpec{"direct_url", Kind::kString, 0, Access::kReadOnly, false, 0, ""},
    AttributeSpec{"min_ram", Kind::kInt, 0, Access::kSettable, false, 0, "x-image-meta-min_ram"},
    AttributeSpec{"min_disk", Kind::kInt, 0, Access::kSettable, false, 0, "x-image-meta-min_disk"},
    AttributeSpec{"self", Kind::kString, 0, Access::kReadOnly, false, 0, ""},
    AttributeSpec{"file", Kind::kString, 0, Access::kReadOnly, false, 0, ""},
    AttributeSpec{"stores", Kind::kString, 0, Access::kReadOnly, false, 0, ""},
    AttributeSpec{"schema", Kind::kString, 0, Access::kReadOnly, false, 0, ""},
    AttributeSpec{"locations", Kind::kLocations, 0, Access::kReadOnly, false, 0, ""},
    AttributeSpec{"location", Kind::kString, 0, Access::kReserved, false, 0,
                  "x-image-meta-location"},
    AttributeSpec{"deleted", Kind::kBool, 0, Access::kReserved, false, 0, "x-image-meta-deleted"},
    AttributeSpec{"deleted_at", Kind::kTimestamp, 0, Access::kReserved, true, 0,
                  "x-image-meta-deleted_at"},
};

constexpr std::string_view kServicePrefix = "os_glance";

// Bookkeeping of uploads, stages and hashing in progress (images/import.h,
// images/internal/upload_marks.h).
constexpr std::array<std::string_view, 5> kHiddenProperties = {
    "os_glance_stage_host", "os_glance_hash_op_host", "os_glance_upload_location",
    "os_glance_upload_node", "os_glance_stage_digest"};

}  // namespace

std::span<const AttributeSpec> ImageAttributes() { return kAttributes; }

const AttributeSpec* FindAttribute(std::string_view name) {
  for (const AttributeSpec& a : kAttributes) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

bool IsServiceProperty(std::string_view name) { return name.starts_with(kServicePrefix); }

bool IsHiddenProperty(std::string_view name) {
  return std::find(kHiddenProperties.begin(), kHiddenProperties.end(), name) !=
         kHiddenProperties.end();
}

Status CheckSettable(std::string_view name, bool creating) {
  const AttributeSpec* a = FindAttribute(name);
  const std::string quoted = "'" + std::string(name) + "'";
  if ((a && a->access == Access::kReserved) || (!a && IsServiceProperty(name))) {
    return PermissionDeniedError("Attribute " + quoted + " is reserved.");
  }
  if (a && (a->access == Access::kReadOnly || (a->access == Access::kCreateOnly && !creating))) {
    return PermissionDeniedError("Attribute " + quoted + " is read-only.");
  }
  return OkStatus();
}

std::vector<std::string_view> SortKeys() {
  std::vector<const AttributeSpec*> keys;
  for (const AttributeSpec& a : kAttributes) {
    if (a.sort_rank > 0) keys.push_back(&a);
  }
  std::sort(keys.begin(), keys.end(),
            [](const auto* x, const auto* y) { return x->sort_rank < y->sort_rank; });
  std::vector<std::string_view> names;
  for (const auto* a : keys) names.push_back(a->name);
  return names;
}

}  // namespace glimmer::domain
