#pragma once
// A validated image-list request, as the repository executes it. The API layer parses and
// validates query strings into this; the repository turns it into indexed SQL.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/image.h"

namespace glimmer::domain {

// Columns that may be filtered with operators or sorted on. Custom properties are separate.
enum class ImageColumn {
  kId,
  kName,
  kStatus,
  kVisibility,
  kContainerFormat,
  kDiskFormat,
  kOwner,
  kChecksum,
  kOsHashValue,
  kSize,
  kVirtualSize,
  kMinDisk,
  kMinRam,
  kProtected,
  kCreatedAt,
  kUpdatedAt,
};

enum class FilterOp { kEq, kNeq, kIn, kGt, kGte, kLt, kLte };

// One condition on a base column. Values are text as the client sent them, except:
// integer columns carry decimal text, kProtected "true"/"false" (already validated),
// timestamps carry decimal UnixMicros (already parsed).
struct ColumnFilter {
  ImageColumn column;
  FilterOp op = FilterOp::kEq;
  std::vector<std::string> values;  // exactly one unless op == kIn
};

struct SortKey {
  ImageColumn column;  // one of: name, status, container_format, disk_format, size, id,
                       // created_at, updated_at
  bool ascending = false;
};

// Which rows the caller may see (Glance's _select_images_query, see glance-api.md §4.4).
struct VisibilityScope {
  std::string project_id;     // caller's project ("" for none)
  bool is_admin = false;
  // nullopt = no visibility filter; otherwise only that visibility.
  std::optional<Visibility> visibility;
  bool visibility_all = false;  // ?visibility=all
  // Member status for shared images the caller is a member of; nullopt = all.
  std::optional<MemberStatus> member_status = MemberStatus::kAccepted;
  // Images API v1 (is_public absent or True): an admin sees what a user of its project sees.
  bool admin_as_user = false;
  // Only shared images that have this project as a member, in any member status
  // (GET /v1/shared-images/{tenant}).
  std::optional<std::string> member_of;
};

struct ListQuery {
  VisibilityScope scope;
  std::vector<ColumnFilter> filters;                             // AND-ed
  std::vector<std::pair<std::string, std::string>> properties;  // custom property equality, AND-ed
  std::vector<std::string> tags;                                 // image has every tag
  bool os_hidden = false;  // false: hidden images excluded; true: only hidden images
  std::vector<SortKey> sort;  // complete, tie-breakers (created_at, id) already appended
  std::optional<std::string> marker;  // id of last image seen; must be visible, else NotFound
  int limit = 25;
};

}  // namespace glimmer::domain
