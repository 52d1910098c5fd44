#pragma once
// Translates a validated domain::ListQuery into SQL for the images table (internal to the
// SQL repositories). Semantics follow Glance's image_get_all (glance-api.md §4).

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"
#include "db/sql/database.h"
#include "domain/list_query.h"

namespace glimmer::db::sql {

using SqlValue = std::variant<int64_t, std::string>;

struct SqlWithBinds {
  std::string sql;
  std::vector<SqlValue> binds;  // for the `?` placeholders, in order
};

// SELECT of the marker's sort-key values (one column per query.sort key, NULLs coalesced), only
// if the marker is a live image inside the caller's visibility scope. Requires query.marker.
StatusOr<SqlWithBinds> BuildMarkerSql(const domain::ListQuery& query, const Dialect& dialect);

// Which tag or property condition (index into query.tags / query.properties), if any, should
// drive the query (be evaluated first, as an id list) instead of being probed per row.
struct ListPlan {
  int driving_tag = -1;
  int driving_property = -1;
};

// Images matching one tag/property below which that condition drives the query.
inline constexpr int64_t kDrivingThreshold = 2000;

// The page query: SELECT kImageColumns ... ORDER BY ... LIMIT. `marker_values` holds the
// marker's sort-key values (empty when there is no marker). InvalidArgument for malformed
// filter values (non-integer on an integer column, empty IN list, unknown sort column).
StatusOr<SqlWithBinds> BuildListSql(const domain::ListQuery& query,
                                    const std::vector<SqlValue>& marker_values,
                                    const Dialect& dialect, const ListPlan& plan = {});

// Binds `binds` to `stmt` starting at parameter 1.
void BindAll(Statement& stmt, const std::vector<SqlValue>& binds);

}  // namespace glimmer::db::sql
