#pragma once
// GET /v2/images query parameters → a validated domain::ListQuery, with Glance's rules and error
// messages (glance-api.md §4), plus the `first`/`next` paging links.

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "domain/list_query.h"

namespace glimmer::api::images {

struct ListLimits {
  int limit_param_default = 25;
  int api_limit_max = 1000;
};

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// InvalidArgument (400) for every malformed parameter. The visibility scope's project/admin
// fields are left for the service to fill.
StatusOr<domain::ListQuery> ParseListQuery(const QueryParams& params, const ListLimits& limits);

// "/v2/images[?<params without marker>]".
std::string FirstLink(const QueryParams& params);
// "/v2/images?<params without marker>&marker=<id>". Repeated parameters are kept.
std::string NextLink(const QueryParams& params, const std::string& marker);

// "k=v&k2=v2", percent-encoded as Glance's links are.
std::string EncodeQuery(const QueryParams& params);

// Splits "a,b,\"c,d\"" as Glance's `in:` operator does. InvalidArgument on unbalanced quotes.
StatusOr<std::vector<std::string>> SplitInValues(std::string_view value);

}  // namespace glimmer::api::images
