#pragma once
// Loading an image as a caller may see it, and the policy check on it: the first two steps of
// every image operation (records, data, sharing, import).

#include <string_view>

#include "common/status.h"
#include "domain/context.h"
#include "domain/image.h"
#include "domain/policy.h"
#include "images/image_env.h"

namespace glimmer::images::internal {

// Optimistic-concurrency retries of one change to an image.
inline constexpr int kMaxUpdateRetries = 5;

struct Loaded {
  domain::Image image;
  bool caller_is_member = false;  // the caller's project is a member of this shared image
};

// The image `id` with its locations in download order (SortLocations). NotFound ("No image
// found with ID <id>") when absent or not visible to `ctx`.
StatusOr<Loaded> LoadVisible(const ImageEnv& env, const domain::RequestContext& ctx,
                             std::string_view id);

// PermissionDenied ("You are not authorized to complete <action> action.") unless the policy
// allows `action` on `loaded`.
Status Authorize(const ImageEnv& env, domain::ImageAction action, const domain::RequestContext& ctx,
                 const Loaded& loaded);

// Writes `image`, loaded as queued and since moved to its next status (saving, uploading), if
// it is still queued; with project quotas set, they are checked in the same transaction
// (ResourceExhausted). FailedPrecondition ("Image status transition to <status> is not
// allowed: the image is being changed by another request") when another request changed it
// first.
Status ClaimQueued(const ImageEnv& env, const domain::Image& image);

}  // namespace glimmer::images::internal
