#pragma once
// ImageRecords: the image records and Glance's rules on them: create, show, list, update by
// patch, delete, tags, deactivate/reactivate, the domain rules on attributes (defaults,
// read-only and reserved names, who may publicize or own, formats of images with data, property
// protections, per-image quotas) and the project's usage. It knows nothing about HTTP or JSON:
// the API layer checks request values and passes typed changes (domain/image_changes.h), and
// maps Status codes to HTTP statuses. Image data is ImageData's job.
//
// Thread-safety: all methods may be called concurrently.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/context.h"
#include "domain/image.h"
#include "domain/image_changes.h"
#include "domain/list_query.h"
#include "domain/quota.h"
#include "images/image_env.h"
#include "staging/staging_area.h"

namespace glimmer::images {

// True for a lowercase or uppercase hyphenated UUID (8-4-4-4-12 hex).
bool IsUuid(std::string_view s);

class ImageRecords {
 public:
  // Borrows `env`. `staging` (borrowed, may be null): where staged data of deleted images is
  // removed from.
  explicit ImageRecords(const ImageEnv& env, staging::StagingArea* staging = nullptr);

  // POST /v2/images.
  StatusOr<domain::Image> Create(const domain::RequestContext& ctx,
                                 const domain::ImageChanges& changes);
  // GET /v2/images/{id}. NotFound when absent or not visible.
  StatusOr<domain::Image> Get(const domain::RequestContext& ctx, std::string_view id);
  // GET /v2/images. Fills query.scope from ctx and the visibility request.
  StatusOr<std::vector<domain::Image>> List(const domain::RequestContext& ctx,
                                            domain::ListQuery query);
  // PATCH /v2/images/{id}: the steps in order, all or none. `legacy_add` = the v2.0 media type
  // (add of an existing property is a conflict).
  StatusOr<domain::Image> Update(const domain::RequestContext& ctx, std::string_view id,
                                 const std::vector<domain::PatchStep>& steps, bool legacy_add);
  // Deletes the data in every store first, then the record, then any staged data. A store
  // that refuses because the data is in use (FailedPrecondition) stops the deletion: 409
  // "Image X could not be deleted because it is in use: ...", the image stays, without the
  // copies already deleted. Other store errors stop it likewise, with their own code. Data
  // already missing is not an error.
  Status Delete(const domain::RequestContext& ctx, std::string_view id);
  Status AddTag(const domain::RequestContext& ctx, std::string_view id, std::string_view tag);
  Status RemoveTag(const domain::RequestContext& ctx, std::string_view id, std::string_view tag);
  Status Deactivate(const domain::RequestContext& ctx, std::string_view id);
  Status Reactivate(const domain::RequestContext& ctx, std::string_view id);

  // GET /v2/info/usage: the caller's project usage and its limits.
  struct Usage {
    domain::ProjectUsage usage;
    domain::QuotaLimits limits;
  };
  StatusOr<Usage> GetUsage(const domain::RequestContext& ctx);

 private:
  // Sets what `changes` sets, under the domain rules; `creating`: `image` is new.
  Status ApplyChanges(const domain::RequestContext& ctx, domain::Image& image,
                      const domain::ImageChanges& changes, bool creating) const;
  Status ApplyStep(const domain::RequestContext& ctx, domain::Image& image,
                   const domain::PatchStep& step, bool legacy_add) const;
  Status CheckQuotas(const domain::Image& image) const;
  // Property protections: may the caller do `op` on custom property `name`?
  bool PropertyAllowed(policy::PropertyProtections::Operation op, const std::string& name,
                       const domain::RequestContext& ctx) const;
  // Drops the custom properties the caller may not read.
  void Redact(const domain::RequestContext& ctx, domain::Image& image) const;

  const ImageEnv& env_;
  staging::StagingArea* const staging_;
};

}  // namespace glimmer::images
