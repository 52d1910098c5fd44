#pragma once
// Image metadata repository: the only way the rest of Glimmer reads or writes image records.
// Implementations: db/sqlite (embedded default); PostgreSQL later. Every implementation must pass
// the repository contract tests (db/sqlite/*_test.cc today).
//
// Thread-safety: all methods may be called concurrently from any thread.
// Errors: NotFound (absent or soft-deleted), AlreadyExists (duplicate id/member),
// Aborted (a conditional update lost its race), Unavailable/Internal (database errors).

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/image.h"
#include "domain/list_query.h"
#include "domain/quota.h"

namespace glimmer::db {

class ImageRepository {
 public:
  virtual ~ImageRepository() = default;
  ImageRepository(const ImageRepository&) = delete;
  ImageRepository& operator=(const ImageRepository&) = delete;

  // Inserts a new image with its tags, properties and locations. AlreadyExists if the id was
  // ever used (Glance never reuses ids, even of deleted images).
  virtual Status Create(const domain::Image& image) = 0;

  // Returns the image (with tags, properties, locations). NotFound if absent or deleted.
  virtual StatusOr<domain::Image> Get(std::string_view id) = 0;

  // Replaces the stored record (all columns, tags, properties, locations) with `image`, in one
  // transaction. If `expected_status` is set, the update only happens when the stored status
  // equals it; otherwise Aborted. NotFound if absent or deleted.
  virtual Status Update(const domain::Image& image,
                        std::optional<domain::ImageStatus> expected_status) = 0;

  // Like Update, and also only when custom property `name` currently has `expected_value`
  // (nullopt: absent); otherwise Aborted. This is the compare-and-set behind the per-image
  // import lock (os_glance_import_task).
  virtual Status UpdateIfProperty(const domain::Image& image,
                                  std::optional<domain::ImageStatus> expected_status,
                                  std::string_view name,
                                  const std::optional<std::string>& expected_value) = 0;

  // Removes the location `url` of image `id` (and sets its updated_at) in one transaction, only
  // while the image's status is `expected_status` and another location remains. NotFound when
  // the image is absent or deleted or has no such location; Aborted when the status differs or
  // `url` is its last location. Removing one copy this way (rather than by Update) keeps two
  // concurrent removals of different copies, each working from a stale read, from both
  // succeeding and leaving the image without data.
  virtual Status RemoveLocation(std::string_view id, std::string_view url,
                                domain::ImageStatus expected_status, UnixMicros updated_at) = 0;

  // Quota-guarded variants: in the same transaction as the write, the owner's usage (all its
  // other images plus this one in its new state) is checked against `limits`;
  // ResourceExhausted (nothing written) when the write would exceed a limit. This is what keeps
  // concurrent uploads of one project from overshooting.
  virtual Status CreateWithinQuota(const domain::Image& image,
                                   const domain::QuotaLimits& limits) = 0;
  virtual Status UpdateWithinQuota(const domain::Image& image,
                                   std::optional<domain::ImageStatus> expected_status,
                                   const domain::QuotaLimits& limits) = 0;
  // UpdateIfProperty with the quota check of UpdateWithinQuota in the same transaction: the
  // import flow's writes that grow a project's usage (staged bytes of a web-download, the
  // activation of an imported image) while it holds the import lock.
  virtual Status UpdateIfPropertyWithinQuota(const domain::Image& image,
                                             std::optional<domain::ImageStatus> expected_status,
                                             std::string_view name,
                                             const std::optional<std::string>& expected_value,
                                             const domain::QuotaLimits& limits) = 0;
  // Usage of `owner`'s images (GET /v2/info/usage). Staged bytes (image_stage_total) are the
  // sizes of images `uploading` (staged, or being staged: the stage records what it reserves)
  // and `importing` (their data still waits in staging).
  virtual StatusOr<domain::ProjectUsage> GetProjectUsage(std::string_view owner) = 0;

  // Soft-deletes: status becomes deleted, the row is never returned again and its id can
  // never be reused. NotFound if absent or already deleted.
  virtual Status Delete(std::string_view id) = 0;

  // Executes a validated list query. NotFound if the marker is not a visible image.
  virtual StatusOr<std::vector<domain::Image>> List(const domain::ListQuery& query) = 0;

  // Images in any of `statuses` (crash recovery at start-up: saving/uploading/importing).
  virtual StatusOr<std::vector<domain::Image>> ListByStatus(
      const std::vector<domain::ImageStatus>& statuses) = 0;

  // Members (sharing). A member row gives read access regardless of its status.
  virtual StatusOr<std::optional<domain::Member>> GetMember(std::string_view image_id,
                                                            std::string_view member_id) = 0;
  virtual StatusOr<std::vector<domain::Member>> ListMembers(std::string_view image_id) = 0;
  virtual Status AddMember(const domain::Member& member) = 0;     // AlreadyExists on duplicate
  virtual Status UpdateMember(const domain::Member& member) = 0;  // NotFound if absent
  virtual Status RemoveMember(std::string_view image_id, std::string_view member_id) = 0;

 protected:
  ImageRepository() = default;
};

}  // namespace glimmer::db
