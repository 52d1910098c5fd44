#include "db/sql/image_list_sql.h"

#include <charconv>
#include <string_view>

#include "db/sql/queries.h"

namespace glimmer::db::sql {
namespace {

using domain::FilterOp;
using domain::ImageColumn;

enum class ValueType { kText, kInt, kBool };

ValueType TypeOf(ImageColumn c) {
  switch (c) {
    case ImageColumn::kSize:
    case ImageColumn::kVirtualSize:
    case ImageColumn::kMinDisk:
    case ImageColumn::kMinRam:
    case ImageColumn::kCreatedAt:
    case ImageColumn::kUpdatedAt:
      return ValueType::kInt;
    case ImageColumn::kProtected:
      return ValueType::kBool;
    default:
      return ValueType::kText;
  }
}

StatusOr<const queries::ColumnSql*> ColumnOf(ImageColumn c) {
  const auto index = static_cast<size_t>(c);
  if (index >= std::size(queries::kColumnSql)) return InvalidArgumentError("unknown column");
  return &queries::kColumnSql[index];
}

StatusOr<SqlValue> ParseValue(ImageColumn c, const std::string& text) {
  switch (TypeOf(c)) {
    case ValueType::kInt: {
      int64_t v = 0;
      const char* end = text.data() + text.size();
      auto [p, ec] = std::from_chars(text.data(), end, v);
      if (ec != std::errc() || p != end || text.empty()) {
        return InvalidArgumentError("not an integer: " + text);
      }
      return SqlValue(v);
    }
    case ValueType::kBool:
      if (text == "true") return SqlValue(int64_t{1});
      if (text == "false") return SqlValue(int64_t{0});
      return InvalidArgumentError("not a boolean: " + text);
    case ValueType::kText:
      break;
  }
  return SqlValue(text);
}

std::string_view OpSql(FilterOp op) {
  switch (op) {
    case FilterOp::kEq:
      return " = ?";
    case FilterOp::kNeq:
      return " != ?";
    case FilterOp::kGt:
      return " > ?";
    case FilterOp::kGte:
      return " >= ?";
    case FilterOp::kLt:
      return " < ?";
    case FilterOp::kLte:
      return " <= ?";
    case FilterOp::kIn:
      break;
  }
  return "";
}

// Visibility scope (glance-api.md §4.4): which rows the caller may list at all.
void AppendScope(const domain::VisibilityScope& scope, const Dialect& dialect, SqlWithBinds& out) {
  const bool has_project = !scope.project_id.empty();
  if (!scope.is_admin) {
    if (has_project) {
      out.sql += dialect.scope_project_open;
      out.binds.emplace_back(scope.project_id);
      out.binds.emplace_back(scope.project_id);
      if (scope.member_status) {
        out.sql += queries::kScopeMemberStatus;
        out.binds.emplace_back(std::string(domain::ToString(*scope.member_status)));
      }
      out.sql += queries::kScopeProjectClose;
    } else {
      out.sql += dialect.scope_no_project;
    }
  }
  if (scope.member_of) {
    out.sql += queries::kSharedWithMember;
    out.binds.emplace_back(*scope.member_of);
  }
  if (scope.visibility_all) return;
  if (scope.visibility) {
    out.sql += queries::kVisibilityEquals;
    out.binds.emplace_back(std::string(domain::ToString(*scope.visibility)));
  } else if (has_project) {
    out.sql += dialect.hide_others_community;
    out.binds.emplace_back(scope.project_id);
  } else {
    out.sql += dialect.hide_all_community;
  }
}

}  // namespace

StatusOr<SqlWithBinds> BuildMarkerSql(const domain::ListQuery& query, const Dialect& dialect) {
  if (query.sort.empty()) return InvalidArgumentError("list query without sort keys");
  SqlWithBinds out;
  out.sql = queries::kListSelect;
  for (size_t k = 0; k < query.sort.size(); ++k) {
    ASSIGN_OR_RETURN(const queries::ColumnSql* col, ColumnOf(query.sort[k].column));
    if (k > 0) out.sql += ", ";
    out.sql += col->sort;
  }
  out.sql += queries::kListFrom;
  out.sql += queries::kMarkerById;
  out.binds.emplace_back(query.marker.value_or(""));
  AppendScope(query.scope, dialect, out);
  return out;
}

StatusOr<SqlWithBinds> BuildListSql(const domain::ListQuery& query,
                                    const std::vector<SqlValue>& marker_values,
                                    const Dialect& dialect, const ListPlan& plan) {
  if (query.sort.empty()) return InvalidArgumentError("list query without sort keys");
  SqlWithBinds out;
  out.sql.reserve(1024);
  out.sql = queries::kListSelect;
  out.sql += queries::kImageColumns;
  out.sql += queries::kListFrom;
  out.sql += queries::kListHidden;
  out.binds.emplace_back(int64_t{query.os_hidden ? 1 : 0});
  AppendScope(query.scope, dialect, out);

  for (const domain::ColumnFilter& f : query.filters) {
    ASSIGN_OR_RETURN(const queries::ColumnSql* col, ColumnOf(f.column));
    if (f.values.empty()) return InvalidArgumentError("filter without a value");
    if (f.op != FilterOp::kIn && f.values.size() != 1) {
      return InvalidArgumentError("filter with several values needs the 'in' operator");
    }
    out.sql += " AND ";
    out.sql += col->raw;
    if (f.op == FilterOp::kIn) {
      out.sql += " IN (";
      for (size_t v = 0; v < f.values.size(); ++v) out.sql += v == 0 ? "?" : ", ?";
      out.sql += ")";
    } else {
      out.sql += OpSql(f.op);
    }
    for (const std::string& v : f.values) {
      ASSIGN_OR_RETURN(SqlValue value, ParseValue(f.column, v));
      out.binds.push_back(std::move(value));
    }
  }
  for (size_t t = 0; t < query.tags.size(); ++t) {
    out.sql += static_cast<int>(t) == plan.driving_tag ? queries::kHasTagDriver
                                                       : queries::kHasTagProbe;
    out.binds.emplace_back(query.tags[t]);
  }
  for (size_t p = 0; p < query.properties.size(); ++p) {
    out.sql += static_cast<int>(p) == plan.driving_property ? queries::kHasPropertyDriver
                                                            : queries::kHasPropertyProbe;
    out.binds.emplace_back(query.properties[p].first);
    out.binds.emplace_back(query.properties[p].second);
  }

  std::vector<const char*> exprs;
  for (const domain::SortKey& key : query.sort) {
    ASSIGN_OR_RETURN(const queries::ColumnSql* col, ColumnOf(key.column));
    exprs.push_back(col->sort);
  }

  if (!marker_values.empty()) {
    if (marker_values.size() != exprs.size()) return InternalError("marker/sort key mismatch");
    // Every row after the marker has k0 >= m0 (ascending) or k0 <= m0 (descending). Stated on
    // its own, this lets SQLite seek an expression index, which it does not do for row values.
    out.sql += " AND ";
    out.sql += exprs[0];
    out.sql += query.sort[0].ascending ? " >= ?" : " <= ?";
    out.binds.push_back(marker_values[0]);
    bool uniform = true;
    for (const auto& key : query.sort) uniform = uniform && key.ascending == query.sort[0].ascending;
    if (uniform) {
      // (k1, k2, ...) > (m1, m2, ...): one index range scan when an index matches.
      out.sql += " AND (";
      for (size_t k = 0; k < exprs.size(); ++k) {
        if (k > 0) out.sql += ", ";
        out.sql += exprs[k];
      }
      out.sql += query.sort[0].ascending ? ") > (" : ") < (";
      for (size_t k = 0; k < exprs.size(); ++k) out.sql += k == 0 ? "?" : ", ?";
      out.sql += ")";
      for (const SqlValue& v : marker_values) out.binds.push_back(v);
    } else {
      // Mixed directions: OR over i of (k0 = m0 AND ... AND k(i-1) = m(i-1) AND ki <> mi).
      out.sql += " AND (";
      for (size_t i = 0; i < exprs.size(); ++i) {
        if (i > 0) out.sql += " OR ";
        out.sql += "(";
        for (size_t j = 0; j < i; ++j) {
          out.sql += exprs[j];
          out.sql += " = ? AND ";
          out.binds.push_back(marker_values[j]);
        }
        out.sql += exprs[i];
        out.sql += query.sort[i].ascending ? " > ?" : " < ?";
        out.binds.push_back(marker_values[i]);
        out.sql += ")";
      }
      out.sql += ")";
    }
  }

  out.sql += queries::kOrderBy;
  for (size_t k = 0; k < exprs.size(); ++k) {
    if (k > 0) out.sql += ", ";
    out.sql += exprs[k];
    out.sql += query.sort[k].ascending ? " ASC" : " DESC";
  }
  out.sql += queries::kLimit;
  out.binds.emplace_back(int64_t{query.limit});
  return out;
}

void BindAll(Statement& stmt, const std::vector<SqlValue>& binds) {
  for (size_t i = 0; i < binds.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    if (const auto* n = std::get_if<int64_t>(&binds[i])) {
      stmt.Bind(index, *n);
    } else {
      stmt.Bind(index, std::string_view(std::get<std::string>(binds[i])));
    }
  }
}

}  // namespace glimmer::db::sql
