#include "images/internal/access.h"

#include <string>
#include <utility>

#include "images/internal/locations.h"

namespace glimmer::images::internal {

StatusOr<Loaded> LoadVisible(const ImageEnv& env, const domain::RequestContext& ctx,
                             std::string_view id) {
  auto image = env.repo.Get(id);
  if (!image.ok()) {
    if (image.status().code() == StatusCode::kNotFound) {
      return NotFoundError("No image found with ID " + std::string(id));
    }
    return image.status();
  }
  Loaded loaded{std::move(*image), false};
  bool owner = loaded.image.owner && *loaded.image.owner == ctx.project_id;
  if (!owner && !ctx.project_id.empty() && loaded.image.visibility == domain::Visibility::kShared) {
    ASSIGN_OR_RETURN(auto member, env.repo.GetMember(id, ctx.project_id));
    loaded.caller_is_member = member.has_value();
  }
  if (!domain::CanSee(ctx, loaded.image, loaded.caller_is_member)) {
    return NotFoundError("No image found with ID " + std::string(id));
  }
  SortLocations(env.stores, loaded.image);
  return loaded;
}

Status Authorize(const ImageEnv& env, domain::ImageAction action, const domain::RequestContext& ctx,
                 const Loaded& loaded) {
  domain::ImageTarget target;
  target.image = &loaded.image;
  target.caller_is_member = loaded.caller_is_member;
  if (!env.policy.Allowed(action, ctx, target)) {
    return PermissionDeniedError("You are not authorized to complete " +
                                 std::string(domain::ToString(action)) + " action.");
  }
  return OkStatus();
}

Status ClaimQueued(const ImageEnv& env, const domain::Image& image) {
  const domain::ImageStatus queued = domain::ImageStatus::kQueued;
  Status claim = env.options.quotas.Unlimited()
                     ? env.repo.Update(image, queued)
                     : env.repo.UpdateWithinQuota(image, queued, env.options.quotas);
  if (claim.code() == StatusCode::kAborted) {
    return FailedPreconditionError("Image status transition to " +
                                   std::string(domain::ToString(image.status)) +
                                   " is not allowed: the image is being changed by another "
                                   "request");
  }
  return claim;
}

}  // namespace glimmer::images::internal
