#include "db/sql/image_repository.h"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>

#include "db/sql/image_list_sql.h"
#include "db/sql/queries.h"
#include "platform/clock.h"

namespace glimmer::db::sql {
namespace {

using domain::Image;
using domain::Member;

// Binds ?1..?18 of kInsertImage / kUpdateImage.
void BindImage(Statement& st, const Image& image) {
  st.Bind(1, std::string_view(image.id))
      .Bind(2, image.name)
      .Bind(3, domain::ToString(image.status))
      .Bind(4, domain::ToString(image.visibility))
      .Bind(5, int64_t{image.is_protected ? 1 : 0})
      .Bind(6, int64_t{image.os_hidden ? 1 : 0})
      .Bind(7, image.checksum)
      .Bind(8, image.os_hash_algo)
      .Bind(9, image.os_hash_value)
      .Bind(10, image.owner)
      .Bind(11, image.size)
      .Bind(12, image.virtual_size)
      .Bind(13, image.container_format)
      .Bind(14, image.disk_format)
      .Bind(15, image.min_disk)
      .Bind(16, image.min_ram)
      .Bind(17, image.created_at)
      .Bind(18, image.updated_at);
}

// Reads a row whose columns are queries::kImageColumns.
StatusOr<Image> ReadImage(const Statement& st) {
  Image image;
  image.id = st.Text(0);
  image.name = st.OptText(1);
  auto status = domain::ParseImageStatus(st.TextView(2));
  auto visibility = domain::ParseVisibility(st.TextView(3));
  if (!status || !visibility) {
    return DataLossError("image " + image.id + ": bad status/visibility in database");
  }
  image.status = *status;
  image.visibility = *visibility;
  image.is_protected = st.Int(4) != 0;
  image.os_hidden = st.Int(5) != 0;
  image.checksum = st.OptText(6);
  image.os_hash_algo = st.OptText(7);
  image.os_hash_value = st.OptText(8);
  image.owner = st.OptText(9);
  image.size = st.OptInt(10);
  image.virtual_size = st.OptInt(11);
  image.container_format = st.OptText(12);
  image.disk_format = st.OptText(13);
  image.min_disk = st.Int(14);
  image.min_ram = st.Int(15);
  image.created_at = st.Int(16);
  image.updated_at = st.Int(17);
  return image;
}

Status InsertChildren(Connection& conn, const Image& image) {
  if (!image.tags.empty()) {
    ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kInsertTag));
    for (const std::string& tag : image.tags) {
      RETURN_IF_ERROR(st.BindStatic(1, image.id).BindStatic(2, tag).Run());
    }
  }
  if (!image.properties.empty()) {
    ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kInsertProperty));
    for (const auto& [name, value] : image.properties) {
      RETURN_IF_ERROR(st.BindStatic(1, image.id).BindStatic(2, name).BindStatic(3, value).Run());
    }
  }
  if (!image.locations.empty()) {
    ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kInsertLocation));
    for (size_t i = 0; i < image.locations.size(); ++i) {
      const domain::Location& loc = image.locations[i];
      RETURN_IF_ERROR(st.BindStatic(1, image.id)
                          .Bind(2, static_cast<int64_t>(i))
                          .BindStatic(3, loc.store_id)
                          .BindStatic(4, loc.url)
                          .BindStatic(5, loc.metadata_json)
                          .Run());
    }
  }
  return OkStatus();
}

Status DeleteChildren(Connection& conn, std::string_view id) {
  for (const char* sql : {queries::kDeleteTags, queries::kDeleteProperties,
                          queries::kDeleteLocations}) {
    ASSIGN_OR_RETURN(Statement st, conn.Prepare(sql));
    RETURN_IF_ERROR(st.BindStatic(1, id).Run());
  }
  return OkStatus();
}

// Loads tags, properties and locations of one image.
Status LoadChildren(Connection& conn, Image& image) {
  {
    ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kSelectTags));
    st.BindStatic(1, image.id);
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      image.tags.push_back(st.Text(0));
    }
  }
  {
    ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kSelectProperties));
    st.BindStatic(1, image.id);
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      image.properties.emplace_hint(image.properties.end(), st.Text(0), st.Text(1));
    }
  }
  {
    ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kSelectLocations));
    st.BindStatic(1, image.id);
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      image.locations.push_back({st.Text(0), st.Text(1), st.Text(2)});
    }
  }
  return OkStatus();
}

// "?, ?, ..., ?)" with `n` placeholders.
std::string Placeholders(size_t n) {
  std::string out;
  out.reserve(n * 3 + 1);
  for (size_t i = 0; i < n; ++i) out += i == 0 ? "?" : ", ?";
  out += ")";
  return out;
}

// Loads the children of a batch of images with one query per child table and chunk. The number
// of placeholders is rounded up to a power of two (padding with NULL) so that few distinct
// statements end up in the connection's cache.
Status LoadChildrenBatch(Connection& conn, std::vector<Image>& images) {
  constexpr size_t kChunk = 512;
  std::unordered_map<std::string_view, Image*> by_id;
  by_id.reserve(images.size());
  for (Image& image : images) by_id.emplace(image.id, &image);

  for (size_t begin = 0; begin < images.size(); begin += kChunk) {
    const size_t n = std::min(kChunk, images.size() - begin);
    size_t slots = 1;
    while (slots < n) slots *= 2;
    const std::string in_list = Placeholders(slots);
    auto bind_ids = [&](Statement& st) {
      for (size_t i = 0; i < slots; ++i) {
        if (i < n) {
          st.BindStatic(static_cast<int>(i) + 1, images[begin + i].id);
        } else {
          st.BindNull(static_cast<int>(i) + 1);
        }
      }
    };
    auto find = [&](const Statement& st) -> Image* {
      auto it = by_id.find(st.TextView(0));
      return it == by_id.end() ? nullptr : it->second;
    };
    {
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(std::string(queries::kBatchTagsPrefix) +
                                                  in_list + queries::kBatchTagsSuffix));
      bind_ids(st);
      while (true) {
        ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        if (Image* image = find(st)) image->tags.push_back(st.Text(1));
      }
    }
    {
      ASSIGN_OR_RETURN(Statement st,
                       conn.Prepare(std::string(queries::kBatchPropertiesPrefix) + in_list +
                                    queries::kBatchPropertiesSuffix));
      bind_ids(st);
      while (true) {
        ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        if (Image* image = find(st)) {
          image->properties.emplace_hint(image->properties.end(), st.Text(1), st.Text(2));
        }
      }
    }
    {
      ASSIGN_OR_RETURN(Statement st,
                       conn.Prepare(std::string(queries::kBatchLocationsPrefix) + in_list +
                                    queries::kBatchLocationsSuffix));
      bind_ids(st);
      while (true) {
        ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        if (Image* image = find(st)) {
          image->locations.push_back({st.Text(1), st.Text(2), st.Text(3)});
        }
      }
    }
  }
  return OkStatus();
}

// Reads all rows of `st` (columns kImageColumns) into `out`.
Status ReadImages(Statement& st, std::vector<Image>& out) {
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return OkStatus();
    ASSIGN_OR_RETURN(Image image, ReadImage(st));
    out.push_back(std::move(image));
  }
}

// Picks the most selective tag/property condition to drive the list query when it matches
// fewer than `threshold` images (bounded index counts, so this costs little).
StatusOr<ListPlan> PlanList(Connection& conn, const domain::ListQuery& query,
                            int64_t threshold) {
  ListPlan plan;
  int64_t best = threshold;
  for (size_t t = 0; t < query.tags.size(); ++t) {
    ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kCountTagBounded));
    st.BindStatic(1, query.tags[t]).Bind(2, best);
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (row && st.Int(0) < best) {
      best = st.Int(0);
      plan.driving_tag = static_cast<int>(t);
    }
  }
  for (size_t p = 0; p < query.properties.size(); ++p) {
    ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kCountPropertyBounded));
    st.BindStatic(1, query.properties[p].first)
        .BindStatic(2, query.properties[p].second)
        .Bind(3, best);
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (row && st.Int(0) < best) {
      best = st.Int(0);
      plan.driving_tag = -1;
      plan.driving_property = static_cast<int>(p);
    }
  }
  return plan;
}

StatusOr<bool> ImageIsLive(Connection& conn, std::string_view id) {
  ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kImageLiveExists));
  st.BindStatic(1, id);
  return st.Step();
}

Status ImageNotFound(std::string_view id) {
  return NotFoundError("image " + std::string(id) + " not found");
}

StatusOr<Member> ReadMember(const Statement& st, std::string_view image_id) {
  Member m;
  m.image_id = std::string(image_id);
  m.member_id = st.Text(0);
  auto status = domain::ParseMemberStatus(st.TextView(1));
  if (!status) return DataLossError("bad member status in database");
  m.status = *status;
  m.created_at = st.Int(2);
  m.updated_at = st.Int(3);
  return m;
}

StatusOr<domain::ProjectUsage> UsageIn(Connection& conn, std::string_view owner,
                                       std::string_view exclude_id) {
  ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kProjectUsage));
  st.BindStatic(1, owner).BindStatic(2, exclude_id);
  ASSIGN_OR_RETURN(bool row, st.Step());
  domain::ProjectUsage u;
  if (row) {
    u.image_count_total = st.Int(0);
    u.image_size_total = st.Int(1);
    u.image_count_uploading = st.Int(2);
    u.image_stage_total = st.Int(3);
  }
  return u;
}

// Runs one of the dialect's lock statements (empty: the engine needs none) with ?1 = key.
Status Lock(Connection& conn, const char* lock_sql, std::string_view key) {
  if (*lock_sql == '\0') return OkStatus();
  ASSIGN_OR_RETURN(Statement st, conn.Prepare(lock_sql));
  return st.BindStatic(1, key).Run();
}

// The owner's usage with `image` in its new state; ResourceExhausted naming the exceeded limit.
// Serialized per owner, so two nodes' concurrent writes cannot both fit the last free unit.
Status CheckQuotaIn(Connection& conn, const Dialect& dialect, const Image& image,
                    const domain::QuotaLimits& limits) {
  if (limits.Unlimited() || !image.owner) return OkStatus();
  RETURN_IF_ERROR(Lock(conn, dialect.lock_owner_quota, *image.owner));
  ASSIGN_OR_RETURN(auto u, UsageIn(conn, *image.owner, image.id));
  using domain::ImageStatus;
  const ImageStatus s = image.status;
  u.image_count_total += 1;
  if (s == ImageStatus::kActive || s == ImageStatus::kDeactivated ||
      s == ImageStatus::kPendingDelete) {
    u.image_size_total += image.size.value_or(0);
  }
  if (s == ImageStatus::kSaving || s == ImageStatus::kUploading || s == ImageStatus::kImporting) {
    u.image_count_uploading += 1;
  }
  if (s == ImageStatus::kUploading || s == ImageStatus::kImporting) {
    u.image_stage_total += image.size.value_or(0);
  }
  auto over = [](int64_t limit, int64_t used) { return limit >= 0 && used > limit; };
  if (over(limits.image_count_total, u.image_count_total)) {
    return ResourceExhaustedError("image_count_total quota exceeded (limit " +
                                  std::to_string(limits.image_count_total) + ")");
  }
  if (over(limits.image_size_total, u.image_size_total)) {
    return ResourceExhaustedError("image_size_total quota exceeded (limit " +
                                  std::to_string(limits.image_size_total) + " bytes)");
  }
  if (over(limits.image_count_uploading, u.image_count_uploading)) {
    return ResourceExhaustedError("image_count_uploading quota exceeded (limit " +
                                  std::to_string(limits.image_count_uploading) + ")");
  }
  if (over(limits.image_stage_total, u.image_stage_total)) {
    return ResourceExhaustedError("image_stage_total quota exceeded (limit " +
                                  std::to_string(limits.image_stage_total) + " bytes)");
  }
  return OkStatus();
}

Status CreateIn(Connection& conn, const Image& image) {
  ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kInsertImage));
  BindImage(st, image);
  Status inserted = st.Run();
  if (inserted.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("image id " + image.id + " already exists");
  }
  RETURN_IF_ERROR(inserted);
  return InsertChildren(conn, image);
}

Status UpdateIn(Connection& conn, const Image& image,
                std::optional<domain::ImageStatus> expected_status) {
  {
    ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kUpdateImage));
    BindImage(st, image);
    if (expected_status) st.Bind(19, domain::ToString(*expected_status));
    RETURN_IF_ERROR(st.Run());
  }
  if (conn.Changes() == 0) {
    ASSIGN_OR_RETURN(bool live, ImageIsLive(conn, image.id));
    if (!live || !expected_status) return ImageNotFound(image.id);
    return AbortedError("image " + image.id + " is no longer " +
                        std::string(domain::ToString(*expected_status)));
  }
  RETURN_IF_ERROR(DeleteChildren(conn, image.id));
  return InsertChildren(conn, image);
}

// The compare-and-set of UpdateIfProperty, inside a write transaction. The image row is
// locked before the read, so a concurrent compare-and-set waits for this one.
Status UpdateIfPropertyIn(Connection& conn, const Dialect& dialect, const Image& image,
                          std::optional<domain::ImageStatus> expected_status,
                          std::string_view name,
                          const std::optional<std::string>& expected_value) {
  RETURN_IF_ERROR(Lock(conn, dialect.lock_image_row, image.id));
  std::optional<std::string> current;
  {
    ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kSelectImageProperty));
    st.Bind(1, image.id).Bind(2, name);
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) current = st.Text(0);
  }
  if (current != expected_value) {
    ASSIGN_OR_RETURN(bool live, ImageIsLive(conn, image.id));
    if (!live) return ImageNotFound(image.id);
    return AbortedError("image " + image.id + ": " + std::string(name) + " changed");
  }
  return UpdateIn(conn, image, expected_status);
}

}  // namespace

Status SqlImageRepository::UpdateIfPropertyWithinQuota(
    const Image& image, std::optional<domain::ImageStatus> expected_status, std::string_view name,
    const std::optional<std::string>& expected_value, const domain::QuotaLimits& limits) {
  return db_.Write([&](Connection& conn) -> Status {
    // The owner's quota lock first, then the image row: the order of UpdateWithinQuota too.
    RETURN_IF_ERROR(CheckQuotaIn(conn, db_.dialect(), image, limits));
    return UpdateIfPropertyIn(conn, db_.dialect(), image, expected_status, name, expected_value);
  });
}

Status SqlImageRepository::CreateWithinQuota(const Image& image,
                                                const domain::QuotaLimits& limits) {
  return db_.Write([&](Connection& conn) -> Status {
    RETURN_IF_ERROR(CheckQuotaIn(conn, db_.dialect(), image, limits));
    return CreateIn(conn, image);
  });
}

Status SqlImageRepository::UpdateWithinQuota(
    const Image& image, std::optional<domain::ImageStatus> expected_status,
    const domain::QuotaLimits& limits) {
  return db_.Write([&](Connection& conn) -> Status {
    RETURN_IF_ERROR(CheckQuotaIn(conn, db_.dialect(), image, limits));
    return UpdateIn(conn, image, expected_status);
  });
}

StatusOr<domain::ProjectUsage> SqlImageRepository::GetProjectUsage(std::string_view owner) {
  domain::ProjectUsage usage;
  RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> Status {
    ASSIGN_OR_RETURN(usage, UsageIn(conn, owner, ""));
    return OkStatus();
  }));
  return usage;
}

Status SqlImageRepository::Create(const Image& image) {
  return db_.Write([&](Connection& conn) -> Status { return CreateIn(conn, image); });
}

StatusOr<Image> SqlImageRepository::Get(std::string_view id) {
  std::optional<Image> image;
  RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> Status {
    {
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kSelectImage));
      st.BindStatic(1, id);
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return ImageNotFound(id);
      ASSIGN_OR_RETURN(image, ReadImage(st));
    }
    return LoadChildren(conn, *image);
  }));
  return std::move(*image);
}

Status SqlImageRepository::Update(const Image& image,
                                     std::optional<domain::ImageStatus> expected_status) {
  return db_.Write(
      [&](Connection& conn) -> Status { return UpdateIn(conn, image, expected_status); });
}

Status SqlImageRepository::UpdateIfProperty(const Image& image,
                                               std::optional<domain::ImageStatus> expected_status,
                                               std::string_view name,
                                               const std::optional<std::string>& expected_value) {
  return db_.Write([&](Connection& conn) -> Status {
    return UpdateIfPropertyIn(conn, db_.dialect(), image, expected_status, name, expected_value);
  });
}

Status SqlImageRepository::RemoveLocation(std::string_view id, std::string_view url,
                                          domain::ImageStatus expected_status,
                                          UnixMicros updated_at) {
  return db_.Write([&](Connection& conn) -> Status {
    RETURN_IF_ERROR(Lock(conn, db_.dialect().lock_image_row, id));
    {
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kSelectLiveImageStatus));
      st.BindStatic(1, id);
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return ImageNotFound(id);
      if (st.TextView(0) != domain::ToString(expected_status)) {
        return AbortedError("image " + std::string(id) + " is no longer " +
                            std::string(domain::ToString(expected_status)));
      }
    }
    {
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kCountLocations));
      st.BindStatic(1, id).BindStatic(2, url);
      ASSIGN_OR_RETURN(bool row, st.Step());
      const int64_t total = row ? st.Int(0) : 0;
      const int64_t matching = row ? st.Int(1) : 0;
      if (matching == 0) {
        return NotFoundError("image " + std::string(id) + " has no such location");
      }
      if (total - matching < 1) {
        return AbortedError("image " + std::string(id) + ": that is its last location");
      }
    }
    {
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kDeleteLocation));
      RETURN_IF_ERROR(st.BindStatic(1, id).BindStatic(2, url).Run());
    }
    ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kTouchImage));
    return st.BindStatic(1, id).Bind(2, updated_at).Run();
  });
}

Status SqlImageRepository::Delete(std::string_view id) {
  const UnixMicros now = platform::Clock::Real().Now();
  return db_.Write([&](Connection& conn) -> Status {
    ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kSoftDeleteImage));
    RETURN_IF_ERROR(st.BindStatic(1, id).Bind(2, now).Run());
    if (conn.Changes() == 0) return ImageNotFound(id);
    return OkStatus();
  });
}

StatusOr<std::vector<Image>> SqlImageRepository::List(const domain::ListQuery& query) {
  std::vector<SqlValue> marker_values;
  std::optional<SqlWithBinds> marker_sql;
  if (query.marker) {
    ASSIGN_OR_RETURN(marker_sql, BuildMarkerSql(query, db_.dialect()));
  }
  std::vector<Image> images;
  RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> Status {
    if (marker_sql) {
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(marker_sql->sql));
      BindAll(st, marker_sql->binds);
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return NotFoundError("marker " + *query.marker + " not found");
      for (size_t k = 0; k < query.sort.size(); ++k) {
        const int col = static_cast<int>(k);
        if (st.IsInteger(col)) {
          marker_values.emplace_back(st.Int(col));
        } else {
          marker_values.emplace_back(st.Text(col));
        }
      }
    }
    if (query.limit <= 0) return OkStatus();
    ASSIGN_OR_RETURN(ListPlan plan, PlanList(conn, query, driving_threshold_));
    ASSIGN_OR_RETURN(SqlWithBinds list_sql,
                     BuildListSql(query, marker_values, db_.dialect(), plan));
    {
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(list_sql.sql));
      BindAll(st, list_sql.binds);
      images.reserve(static_cast<size_t>(std::min(query.limit, 1000)));
      RETURN_IF_ERROR(ReadImages(st, images));
    }
    return LoadChildrenBatch(conn, images);
  }));
  return images;
}

StatusOr<std::vector<Image>> SqlImageRepository::ListByStatus(
    const std::vector<domain::ImageStatus>& statuses) {
  std::vector<Image> images;
  if (statuses.empty()) return images;
  const std::string sql = std::string(queries::kListSelect) + queries::kImageColumns +
                          queries::kImagesByStatusWhere + Placeholders(statuses.size()) +
                          queries::kImagesByStatusSuffix;
  RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> Status {
    {
      ASSIGN_OR_RETURN(Statement st, conn.Prepare(sql));
      for (size_t i = 0; i < statuses.size(); ++i) {
        st.BindStatic(static_cast<int>(i) + 1, domain::ToString(statuses[i]));
      }
      RETURN_IF_ERROR(ReadImages(st, images));
    }
    return LoadChildrenBatch(conn, images);
  }));
  return images;
}

StatusOr<std::optional<Member>> SqlImageRepository::GetMember(std::string_view image_id,
                                                                 std::string_view member_id) {
  std::optional<Member> member;
  RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> Status {
    ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kSelectMember));
    st.BindStatic(1, image_id).BindStatic(2, member_id);
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return ImageNotFound(image_id);
    if (st.IsNull(0)) return OkStatus();
    ASSIGN_OR_RETURN(member, ReadMember(st, image_id));
    return OkStatus();
  }));
  return member;
}

StatusOr<std::vector<Member>> SqlImageRepository::ListMembers(std::string_view image_id) {
  std::vector<Member> members;
  RETURN_IF_ERROR(db_.Read([&](Connection& conn) -> Status {
    ASSIGN_OR_RETURN(bool live, ImageIsLive(conn, image_id));
    if (!live) return ImageNotFound(image_id);
    ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kListMembers));
    st.BindStatic(1, image_id);
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return OkStatus();
      ASSIGN_OR_RETURN(Member m, ReadMember(st, image_id));
      members.push_back(std::move(m));
    }
  }));
  return members;
}

Status SqlImageRepository::AddMember(const Member& member) {
  return db_.Write([&](Connection& conn) -> Status {
    ASSIGN_OR_RETURN(bool live, ImageIsLive(conn, member.image_id));
    if (!live) return ImageNotFound(member.image_id);
    ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kInsertMember));
    Status inserted = st.BindStatic(1, member.image_id)
                          .BindStatic(2, member.member_id)
                          .BindStatic(3, domain::ToString(member.status))
                          .Bind(4, member.created_at)
                          .Bind(5, member.updated_at)
                          .Run();
    if (inserted.code() == StatusCode::kAlreadyExists) {
      return AlreadyExistsError("member " + member.member_id + " of image " + member.image_id +
                                " already exists");
    }
    return inserted;
  });
}

Status SqlImageRepository::UpdateMember(const Member& member) {
  return db_.Write([&](Connection& conn) -> Status {
    ASSIGN_OR_RETURN(bool live, ImageIsLive(conn, member.image_id));
    if (!live) return ImageNotFound(member.image_id);
    ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kUpdateMember));
    RETURN_IF_ERROR(st.BindStatic(1, member.image_id)
                        .BindStatic(2, member.member_id)
                        .BindStatic(3, domain::ToString(member.status))
                        .Bind(4, member.updated_at)
                        .Run());
    if (conn.Changes() == 0) {
      return NotFoundError("member " + member.member_id + " of image " + member.image_id +
                           " not found");
    }
    return OkStatus();
  });
}

Status SqlImageRepository::RemoveMember(std::string_view image_id,
                                           std::string_view member_id) {
  return db_.Write([&](Connection& conn) -> Status {
    ASSIGN_OR_RETURN(bool live, ImageIsLive(conn, image_id));
    if (!live) return ImageNotFound(image_id);
    ASSIGN_OR_RETURN(Statement st, conn.Prepare(queries::kDeleteMember));
    RETURN_IF_ERROR(st.BindStatic(1, image_id).BindStatic(2, member_id).Run());
    if (conn.Changes() == 0) {
      return NotFoundError("member " + std::string(member_id) + " of image " +
                           std::string(image_id) + " not found");
    }
    return OkStatus();
  });
}

std::unique_ptr<ImageRepository> NewImageRepository(Database& db) {
  return std::make_unique<SqlImageRepository>(db);
}

}  // namespace glimmer::db::sql
