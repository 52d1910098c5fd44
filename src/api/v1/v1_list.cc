#include "api/v1/v1_list.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

#include "common/time.h"
#include "images/image_records.h"

namespace glimmer::api::v1 {
namespace {

using domain::ColumnFilter;
using domain::FilterOp;
using domain::ImageColumn;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Python's int() of a query value, as v1's validators use it.
bool ParsePyInt(std::string_view s, int64_t& out) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

// v1's validate_boolean: none, true, false, 1, 0 in any case.
bool IsV1Boolean(std::string_view v) {
  const std::string l = Lower(v);
  return l == "none" || l == "true" || l == "false" || l == "1" || l == "0";
}

Status BadFilter(const std::string& key, const std::string& value) {
  return InvalidArgumentError("Bad value passed to filter " + key + " got " + value);
}

struct SortColumn {
  std::string_view key;
  ImageColumn column;
};
// Glance v1's registry sort keys.
constexpr SortColumn kSortKeys[] = {
    {"name", ImageColumn::kName},       {"status", ImageColumn::kStatus},
    {"container_format", ImageColumn::kContainerFormat},
    {"disk_format", ImageColumn::kDiskFormat},
    {"size", ImageColumn::kSize},       {"id", ImageColumn::kId},
    {"created_at", ImageColumn::kCreatedAt}, {"updated_at", ImageColumn::kUpdatedAt},
};

}  // namespace

StatusOr<domain::ListQuery> ParseV1ListQuery(const images::QueryParams& params,
                                             const images::ListLimits& limits, bool is_admin) {
  domain::ListQuery q;
  q.limit = limits.limit_param_default;
  q.scope.member_status = std::nullopt;  // v1: member_status 'all'
  std::string sort_key = "created_at", sort_dir = "desc";
  std::optional<std::string> is_public;
  // The last value of a repeated parameter counts (webob's params.get).
  auto last = [&](std::string_view key) -> std::optional<std::string> {
    std::optional<std::string> v;
    for (const auto& [k, val] : params) {
      if (k == key) v = val;
    }
    return v;
  };
  if (auto v = last("limit")) {
    int64_t n = 0;
    if (!ParsePyInt(*v, n)) return InvalidArgumentError("limit param must be an integer");
    if (n < 0) return InvalidArgumentError("limit param must be positive");
    q.limit = static_cast<int>(std::min<int64_t>(n, limits.api_limit_max));
  }
  if (auto v = last("marker")) {
    if (!glimmer::images::IsUuid(*v)) return InvalidArgumentError("Invalid marker format");
    q.marker = Lower(*v);
  }
  if (auto v = last("sort_key")) {
    sort_key = *v;
    const bool known = std::any_of(std::begin(kSortKeys), std::end(kSortKeys),
                                   [&](const SortColumn& s) { return s.key == sort_key; });
    if (!known) {
      return InvalidArgumentError(
          "Unsupported sort_key. Acceptable values: name, status, container_format, "
          "disk_format, size, id, created_at, updated_at");
    }
  }
  if (auto v = last("sort_dir")) {
    sort_dir = *v;
    if (sort_dir != "asc" && sort_dir != "desc") {
      return InvalidArgumentError("Unsupported sort_dir. Acceptable values: asc, desc");
    }
  }
  std::vector<std::string> done;
  for (const auto& [key, ignored] : params) {
    if (std::find(done.begin(), done.end(), key) != done.end()) continue;
    done.push_back(key);
    const std::string value = *last(key);
    if (key == "name" || key == "status" || key == "container_format" ||
        key == "disk_format") {
      ImageColumn col = key == "name"               ? ImageColumn::kName
                        : key == "status"           ? ImageColumn::kStatus
                        : key == "container_format" ? ImageColumn::kContainerFormat
                                                    : ImageColumn::kDiskFormat;
      q.filters.push_back(ColumnFilter{col, FilterOp::kEq, {value}});
    } else if (key == "min_ram" || key == "min_disk" || key == "size_min" ||
               key == "size_max") {
      int64_t n = 0;
      if (!ParsePyInt(value, n) || n < 0) return BadFilter(key, value);
      ColumnFilter f{key == "min_ram"    ? ImageColumn::kMinRam
                     : key == "min_disk" ? ImageColumn::kMinDisk
                                         : ImageColumn::kSize,
                     key == "size_min"   ? FilterOp::kGte
                     : key == "size_max" ? FilterOp::kLte
                                         : FilterOp::kEq,
                     {std::to_string(n)}};
      q.filters.push_back(std::move(f));
    } else if (key == "protected") {
      if (!IsV1Boolean(value)) return BadFilter(key, value);
      const std::string l = Lower(value);
      if (l == "none") continue;
      const bool b = l == "true" || l == "1";
      q.filters.push_back(ColumnFilter{ImageColumn::kProtected, FilterOp::kEq,
                                       {b ? "true" : "false"}});
    } else if (key == "is_public") {
      if (!IsV1Boolean(value)) return BadFilter(key, value);
      is_public = Lower(value);
    } else if (key == "changes-since") {
      auto t = ParseIso8601(value);
      if (!t) return InvalidArgumentError("Invalid time format for changes-since.");
      q.filters.push_back(ColumnFilter{ImageColumn::kUpdatedAt, FilterOp::kGte,
                                       {std::to_string(*t)}});
    } else if (key.starts_with("property-") && key.size() > 9) {
      q.properties.emplace_back(key.substr(9), value);
    }
  }
  // An admin sees every image (None), but, as in Glance, not other projects' community images.
  if (is_admin) {
    if (!is_public || *is_public == "true" || *is_public == "1") {
      q.scope.admin_as_user = true;
    } else if (*is_public != "none") {  // false, 0: every image that is not public
      q.filters.push_back(ColumnFilter{ImageColumn::kVisibility, FilterOp::kNeq, {"public"}});
    }
  }
  const bool ascending = sort_dir == "asc";
  for (const SortColumn& s : kSortKeys) {
    if (s.key == sort_key) q.sort.push_back({s.column, ascending});
  }
  for (ImageColumn tie : {ImageColumn::kCreatedAt, ImageColumn::kId}) {
    if (q.sort.front().column != tie) q.sort.push_back({tie, ascending});
  }
  return q;
}

}  // namespace glimmer::api::v1
