#pragma once
// SQL implementation of db::ImageRepository (contract: db/image_repository.h), on any
// sql::Database backend (SQLite, PostgreSQL). Compare-and-set and quota-guarded writes lock
// what they read first (Dialect::lock_image_row, lock_owner_quota), so they hold across nodes.
//
// Ownership: borrows the Database, which must outlive the repository.
// Thread-safety: all methods may be called concurrently.
// Member methods: GetMember returns nullopt when the image has no such member and NotFound when
// the image is absent or deleted; ListMembers/AddMember/UpdateMember/RemoveMember return NotFound
// for an absent or deleted image; UpdateMember/RemoveMember NotFound for an absent member.
// List: InvalidArgument for malformed filter values or an empty sort; NotFound for an unknown or
// invisible marker.

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "db/image_repository.h"
#include "db/sql/database.h"
#include "db/sql/image_list_sql.h"

namespace glimmer::db::sql {

class SqlImageRepository final : public ImageRepository {
 public:
  explicit SqlImageRepository(Database& db) : db_(db) {}
  // `driving_threshold`: see kDrivingThreshold; tests use 0 (tag/property conditions always
  // probed per row) to cover both query shapes.
  SqlImageRepository(Database& db, int64_t driving_threshold)
      : db_(db), driving_threshold_(driving_threshold) {}

  Status Create(const domain::Image& image) override;
  StatusOr<domain::Image> Get(std::string_view id) override;
  Status Update(const domain::Image& image,
                std::optional<domain::ImageStatus> expected_status) override;
  Status UpdateIfProperty(const domain::Image& image,
                          std::optional<domain::ImageStatus> expected_status,
                          std::string_view name,
                          const std::optional<std::string>& expected_value) override;
  Status RemoveLocation(std::string_view id, std::string_view url,
                        domain::ImageStatus expected_status, UnixMicros updated_at) override;
  Status CreateWithinQuota(const domain::Image& image,
                           const domain::QuotaLimits& limits) override;
  Status UpdateWithinQuota(const domain::Image& image,
                           std::optional<domain::ImageStatus> expected_status,
                           const domain::QuotaLimits& limits) override;
  Status UpdateIfPropertyWithinQuota(const domain::Image& image,
                                     std::optional<domain::ImageStatus> expected_status,
                                     std::string_view name,
                                     const std::optional<std::string>& expected_value,
                                     const domain::QuotaLimits& limits) override;
  StatusOr<domain::ProjectUsage> GetProjectUsage(std::string_view owner) override;
  Status Delete(std::string_view id) override;
  StatusOr<std::vector<domain::Image>> List(const domain::ListQuery& query) override;
  StatusOr<std::vector<domain::Image>> ListByStatus(
      const std::vector<domain::ImageStatus>& statuses) override;
  StatusOr<std::optional<domain::Member>> GetMember(std::string_view image_id,
                                                    std::string_view member_id) override;
  StatusOr<std::vector<domain::Member>> ListMembers(std::string_view image_id) override;
  Status AddMember(const domain::Member& member) override;
  Status UpdateMember(const domain::Member& member) override;
  Status RemoveMember(std::string_view image_id, std::string_view member_id) override;

 private:
  Database& db_;
  const int64_t driving_threshold_ = kDrivingThreshold;
};

std::unique_ptr<ImageRepository> NewImageRepository(Database& db);

}  // namespace glimmer::db::sql
