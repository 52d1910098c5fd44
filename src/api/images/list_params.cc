#include "api/images/list_params.h"

#include <charconv>
#include <map>
#include <set>

#include "common/time.h"
#include "domain/image_attributes.h"

namespace glimmer::api::images {
namespace {

using domain::ColumnFilter;
using domain::FilterOp;
using domain::ImageColumn;

// The column of each attribute that can be sorted on or filtered by name.
const std::map<std::string, ImageColumn, std::less<>> kColumns = {
    {"id", ImageColumn::kId},
    {"name", ImageColumn::kName},
    {"status", ImageColumn::kStatus},
    {"container_format", ImageColumn::kContainerFormat},
    {"disk_format", ImageColumn::kDiskFormat},
    {"owner", ImageColumn::kOwner},
    {"checksum", ImageColumn::kChecksum},
    {"os_hash_value", ImageColumn::kOsHashValue},
    {"size", ImageColumn::kSize},
    {"virtual_size", ImageColumn::kVirtualSize},
    {"min_disk", ImageColumn::kMinDisk},
    {"min_ram", ImageColumn::kMinRam},
    {"created_at", ImageColumn::kCreatedAt},
    {"updated_at", ImageColumn::kUpdatedAt},
};

// Columns filtered with `in:`/`eq:` operators.
const std::set<std::string, std::less<>> kOperatorColumns = {"name", "id", "status",
                                                             "container_format", "disk_format"};
// Columns filtered by plain equality.
const std::set<std::string, std::less<>> kEqualityColumns = {
    "owner", "checksum", "os_hash_value", "size", "virtual_size", "min_disk", "min_ram"};
// Integer columns that accept <name>_min / <name>_max.
const std::set<std::string, std::less<>> kRangeColumns = {"size", "virtual_size", "min_disk",
                                                          "min_ram"};

// The column of a sort key; nullopt when `key` is not one (domain::SortKeys()).
std::optional<ImageColumn> SortColumn(std::string_view key) {
  const domain::AttributeSpec* attr = domain::FindAttribute(key);
  if (!attr || attr->sort_rank == 0) return std::nullopt;
  return kColumns.find(attr->name)->second;
}

bool ParseInt(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  const char* b = s.data();
  if (*b == '+') ++b;
  auto [p, ec] = std::from_chars(b, s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Glance's split_filter_op: "op:value"; an ISO timestamp (which contains ':') is "eq".
std::pair<std::string, std::string> SplitOp(std::string_view expr) {
  auto colon = expr.find(':');
  if (colon == std::string_view::npos) return {"eq", std::string(expr)};
  if (ParseIso8601(expr)) return {"eq", std::string(expr)};
  return {std::string(expr.substr(0, colon)), std::string(expr.substr(colon + 1))};
}

std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string Encode(const QueryParams& params) {
  std::string q;
  for (const auto& [k, v] : params) {
    if (!q.empty()) q += '&';
    q += UrlEncode(k) + "=" + UrlEncode(v);
  }
  return q;
}

}  // namespace

std::string EncodeQuery(const QueryParams& params) { return Encode(params); }

StatusOr<std::vector<std::string>> SplitInValues(std::string_view value) {
  std::vector<std::string> out;
  std::string cur;
  size_t i = 0;
  auto bad = [] {
    return InvalidArgumentError("Invalid filter value: the quotes are not closed properly.");
  };
  while (i <= value.size()) {
    if (i < value.size() && value[i] == '"') {
      size_t end = value.find('"', i + 1);
      if (end == std::string_view::npos) return bad();
      cur = std::string(value.substr(i + 1, end - i - 1));
      i = end + 1;
      if (i < value.size() && value[i] != ',') return bad();
    } else {
      size_t end = value.find(',', i);
      if (end == std::string_view::npos) end = value.size();
      cur = std::string(value.substr(i, end - i));
      if (cur.find('"') != std::string::npos) return bad();
      i = end;
    }
    out.push_back(cur);
    ++i;  // skip the comma (or step past the end)
  }
  return out;
}

StatusOr<domain::ListQuery> ParseListQuery(const QueryParams& params, const ListLimits& limits) {
  domain::ListQuery q;
  q.limit = limits.limit_param_default;
  std::vector<std::string> sort_keys, sort_dirs;
  bool has_sort = false, has_classic = false;
  for (const auto& [key, value] : params) {
    if (key == "limit") {
      int64_t v;
      if (!ParseInt(value, v)) return InvalidArgumentError("limit param must be an integer");
      if (v < 0) return InvalidArgumentError("limit param must be positive");
      q.limit = static_cast<int>(std::min<int64_t>(v, limits.api_limit_max));
    } else if (key == "marker") {
      q.marker = value;
    } else if (key == "sort") {
      has_sort = true;
      size_t start = 0;
      std::string_view all = value;
      while (start <= all.size()) {
        size_t comma = all.find(',', start);
        if (comma == std::string_view::npos) comma = all.size();
        std::string_view item = all.substr(start, comma - start);
        auto colon = item.find(':');
        std::string k(item.substr(0, colon));
        std::string d = colon == std::string_view::npos ? "desc" : std::string(item.substr(colon + 1));
        auto trim = [](std::string& s) {
          while (!s.empty() && s.front() == ' ') s.erase(0, 1);
          while (!s.empty() && s.back() == ' ') s.pop_back();
        };
        trim(k);
        trim(d);
        if (d.empty()) d = "desc";
        sort_keys.push_back(k);
        sort_dirs.push_back(d);
        start = comma + 1;
      }
    } else if (key == "sort_key") {
      has_classic = true;
      sort_keys.push_back(value);
    } else if (key == "sort_dir") {
      has_classic = true;
      sort_dirs.push_back(value);
    } else if (key == "visibility") {
      if (value == "all") {
        q.scope.visibility_all = true;
      } else if (auto v = domain::ParseVisibility(value)) {
        q.scope.visibility = v;
      } else {
        return InvalidArgumentError("Invalid visibility value: " + value);
      }
    } else if (key == "member_status") {
      if (value == "all") {
        q.scope.member_status.reset();
      } else if (auto s = domain::ParseMemberStatus(value)) {
        q.scope.member_status = s;
      } else {
        return InvalidArgumentError("Invalid status value: " + value);
      }
    } else if (key == "tag") {
      q.tags.push_back(value);
    } else if (key == "os_hidden") {
      std::string lower = value;
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower != "true" && lower != "false") {
        return InvalidArgumentError("Invalid value '" + value +
                                    "' for 'os_hidden' filter. Valid values are 'true' or "
                                    "'false'.");
      }
      q.os_hidden = lower == "true";
    } else if (key == "protected") {
      if (value != "true" && value != "false") {
        return InvalidArgumentError("Invalid value '" + value +
                                    "' for 'protected' filter. Valid values are 'true' or "
                                    "'false'.");
      }
      q.filters.push_back({ImageColumn::kProtected, FilterOp::kEq, {value}});
    } else if (key == "changes-since") {
      return InvalidArgumentError("The \"changes-since\" filter is no longer available on v2.");
    } else if (key == "created_at" || key == "updated_at") {
      auto [op, ts] = SplitOp(value);
      static const std::map<std::string, FilterOp, std::less<>> kOps = {
          {"eq", FilterOp::kEq}, {"neq", FilterOp::kNeq}, {"gt", FilterOp::kGt},
          {"gte", FilterOp::kGte}, {"lt", FilterOp::kLt}, {"lte", FilterOp::kLte}};
      auto parsed = ParseIso8601(ts);
      if (!parsed) return InvalidArgumentError("Invalid time format for " + key + ".");
      auto it = kOps.find(op);
      if (it == kOps.end()) {
        return InvalidArgumentError("Invalid operator specified for " + key + ".");
      }
      // Glance stores seconds; compare at second precision.
      q.filters.push_back({key == "created_at" ? ImageColumn::kCreatedAt : ImageColumn::kUpdatedAt,
                           it->second, {std::to_string(*parsed / 1000000 * 1000000)}});
    } else if (kOperatorColumns.count(key)) {
      const ImageColumn column = kColumns.at(key);
      auto [op, v] = SplitOp(value);
      if (op == "in") {
        ASSIGN_OR_RETURN(auto values, SplitInValues(v));
        q.filters.push_back({column, FilterOp::kIn, std::move(values)});
      } else if (op == "eq") {
        q.filters.push_back({column, FilterOp::kEq, {v}});
      } else {
        return InvalidArgumentError("Unable to filter by unknown operator '" + op + "'.");
      }
    } else if (kEqualityColumns.count(key)) {
      if (kRangeColumns.count(key)) {
        int64_t v;
        if (!ParseInt(value, v)) return InvalidArgumentError("Invalid value for " + key + ".");
      }
      q.filters.push_back({kColumns.at(key), FilterOp::kEq, {value}});
    } else if (key.size() > 4 && (key.ends_with("_min") || key.ends_with("_max"))) {
      const std::string column_name = key.substr(0, key.size() - 4);
      if (!kRangeColumns.count(column_name)) {
        q.properties.emplace_back(key, value);
        continue;
      }
      int64_t v;
      if (!ParseInt(value, v)) {
        return InvalidArgumentError("Unable to filter using the specified range.");
      }
      q.filters.push_back({kColumns.at(column_name),
                           key.ends_with("_min") ? FilterOp::kGte : FilterOp::kLte,
                           {std::to_string(v)}});
    } else {
      q.properties.emplace_back(key, value);
    }
  }
  if (has_sort && has_classic) {
    return InvalidArgumentError("Old and new sorting syntax cannot be combined");
  }
  if (has_classic && sort_dirs.size() > 1 && sort_dirs.size() != sort_keys.size()) {
    return InvalidArgumentError("Number of sort dirs does not match the number of sort keys");
  }
  std::string available;
  for (std::string_view k : domain::SortKeys()) {
    available += (available.empty() ? "" : ", ") + std::string(k);
  }
  if (sort_keys.empty()) sort_keys.push_back("created_at");
  if (sort_dirs.empty()) sort_dirs.push_back("desc");
  for (size_t i = 0; i < sort_keys.size(); ++i) {
    std::optional<ImageColumn> column = SortColumn(sort_keys[i]);
    if (!column) {
      return InvalidArgumentError("Invalid sort key: " + sort_keys[i] +
                                  ". It must be one of the following: " + available + ".");
    }
    const std::string& dir = sort_dirs.size() == 1 ? sort_dirs[0] : sort_dirs[i];
    if (dir != "asc" && dir != "desc") {
      return InvalidArgumentError("Invalid sort direction: " + dir);
    }
    bool dup = false;
    for (const auto& k : q.sort) dup |= k.column == *column;
    if (!dup) q.sort.push_back({*column, dir == "asc"});
  }
  for (auto tie : {ImageColumn::kCreatedAt, ImageColumn::kId}) {
    bool present = false;
    for (const auto& k : q.sort) present |= k.column == tie;
    if (!present) q.sort.push_back({tie, q.sort.front().ascending});
  }
  return q;
}

std::string FirstLink(const QueryParams& params) {
  QueryParams p;
  for (const auto& kv : params) {
    if (kv.first != "marker") p.push_back(kv);
  }
  std::string q = Encode(p);
  return q.empty() ? "/v2/images" : "/v2/images?" + q;
}

std::string NextLink(const QueryParams& params, const std::string& marker) {
  QueryParams p;
  for (const auto& kv : params) {
    if (kv.first != "marker") p.push_back(kv);
  }
  p.emplace_back("marker", marker);
  return "/v2/images?" + Encode(p);
}

}  // namespace glimmer::api::images
