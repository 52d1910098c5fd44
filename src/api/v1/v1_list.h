#pragma once
// GET /v1/images[/detail] query parameters → a domain::ListQuery, with Glance v1's rules
// (its API filters and its registry's paging; ../shared/reference/images-v1.md §5.3):
// limit (default limit_param_default, capped at api_limit_max), marker (a UUID),
// sort_key/sort_dir (one key; default created_at desc), the filters name, status,
// container_format, disk_format, min_ram, min_disk, size_min, size_max, protected,
// changes-since and property-<key>, and is_public, which only admins' requests honour:
// absent or True = what a user of the admin's project sees, False = every non-public image,
// None = every image. Every shared image of which the caller is a member is listed, whatever
// the member status (v1 had none). Unknown parameters are ignored, as v1 did.
//
// Pure functions; thread-safe.

#include "api/images/list_params.h"
#include "common/status.h"
#include "domain/list_query.h"

namespace glimmer::api::v1 {

// InvalidArgument (400) with Glance v1's messages for malformed values.
StatusOr<domain::ListQuery> ParseV1ListQuery(const images::QueryParams& params,
                                             const images::ListLimits& limits, bool is_admin);

}  // namespace glimmer::api::v1
