// ImageRecords: image records, tags, status changes and Glance's attribute rules.
#include "images/image_records.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <spdlog/spdlog.h>

#include "domain/image_attributes.h"
#include "images/internal/access.h"
#include "images/internal/locations.h"
#include "platform/random.h"

namespace glimmer::images {
namespace {

using domain::Image;
using domain::ImageAction;
using domain::ImageStatus;
using domain::RequestContext;
using domain::Visibility;
using internal::kMaxUpdateRetries;

using domain::kMaxFieldLength;
using domain::PatchStep;

// An attribute shown in the image (so neither a custom property nor a reserved name).
bool IsBase(std::string_view f) {
  const domain::AttributeSpec* a = domain::FindAttribute(f);
  return a && a->visible();
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

using PropertyOp = policy::PropertyProtections::Operation;

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}
ImageRecords::ImageRecords(const ImageEnv& env, staging::StagingArea* staging)
    : env_(env), staging_(staging) {}

bool ImageRecords::PropertyAllowed(PropertyOp op, const std::string& name,
                                   const RequestContext& ctx) const {
  if (!env_.options.property_protections || domain::IsServiceProperty(name)) return true;
  return env_.options.property_protections->Allowed(op, name, ctx);
}

void ImageRecords::Redact(const RequestContext& ctx, Image& image) const {
  if (!env_.options.property_protections) return;
  std::erase_if(image.properties,
                [&](const auto& kv) { return !PropertyAllowed(PropertyOp::kRead, kv.first, ctx); });
}

Status ImageRecords::ApplyChanges(const RequestContext& ctx, Image& image,
                                  const domain::ImageChanges& c, bool creating) const {
  if (c.id) image.id = ToLower(*c.id);
  if (c.name) image.name = *c.name;
  if (c.visibility) {
    const Visibility vis = *c.visibility;
    domain::ImageTarget target{&image};
    if (vis == Visibility::kPublic && image.visibility != Visibility::kPublic &&
        !env_.policy.Allowed(ImageAction::kPublicizeImage, ctx, target)) {
      return PermissionDeniedError("You are not authorized to complete publicize_image action.");
    }
    if (vis == Visibility::kCommunity && image.visibility != Visibility::kCommunity &&
        !env_.policy.Allowed(ImageAction::kCommunitizeImage, ctx, target)) {
      return PermissionDeniedError("You are not authorized to complete communitize_image action.");
    }
    image.visibility = vis;
  }
  if (c.is_protected) image.is_protected = *c.is_protected;
  if (c.os_hidden) image.os_hidden = *c.os_hidden;
  if (c.owner) {
    const std::optional<std::string>& owner = *c.owner;
    if (!ctx.IsAdmin() && owner != image.owner) {
      if (!creating) return PermissionDeniedError("Attribute 'owner' is read-only.");
      if (owner != std::optional(ctx.project_id)) {
        return PermissionDeniedError("You are not permitted to create images owned by '" +
                                     owner.value_or("") + "'.");
      }
    }
    image.owner = owner;
  }
  // Glance: the formats of an image that has (or is getting) data are fixed.
  auto set_format = [&](std::string_view field, std::optional<std::string>& target,
                        const std::optional<std::string>& value) -> Status {
    if (!creating && value != target && image.status != ImageStatus::kQueued) {
      return PermissionDeniedError("Attribute " + std::string(field) +
                                   " can be only replaced for a queued image.");
    }
    target = value;
    return OkStatus();
  };
  if (c.container_format) {
    RETURN_IF_ERROR(set_format("container_format", image.container_format, *c.container_format));
  }
  if (c.disk_format) RETURN_IF_ERROR(set_format("disk_format", image.disk_format, *c.disk_format));
  if (c.tags) {
    std::set<std::string> tags(c.tags->begin(), c.tags->end());
    image.tags.assign(tags.begin(), tags.end());
  }
  if (c.min_ram) image.min_ram = *c.min_ram;
  if (c.min_disk) image.min_disk = *c.min_disk;
  for (const auto& [name, value] : c.properties) {
    RETURN_IF_ERROR(domain::CheckSettable(name, creating));
    image.properties[name] = value;
  }
  return OkStatus();
}

Status ImageRecords::CheckQuotas(const Image& image) const {
  if (env_.options.image_tag_quota >= 0 &&
      static_cast<int>(image.tags.size()) > env_.options.image_tag_quota) {
    return ResourceExhaustedError("Maximum number of tags exceeded (" +
                                  std::to_string(env_.options.image_tag_quota) + ")");
  }
  int props = 0;
  for (const auto& [k, v] : image.properties) {
    if (!domain::IsServiceProperty(k)) ++props;
  }
  if (env_.options.image_property_quota >= 0 && props > env_.options.image_property_quota) {
    return ResourceExhaustedError("Maximum number of image properties exceeded (" +
                                  std::to_string(env_.options.image_property_quota) + ")");
  }
  return OkStatus();
}

StatusOr<Image> ImageRecords::Create(const RequestContext& ctx,
                                     const domain::ImageChanges& changes) {
  Image image;
  image.id = platform::NewUuid4();
  if (!ctx.project_id.empty()) image.owner = ctx.project_id;
  RETURN_IF_ERROR(ApplyChanges(ctx, image, changes, /*creating=*/true));
  domain::ImageTarget target;
  std::string owner = image.owner.value_or("");
  target.owner = owner;
  if (!env_.policy.Allowed(ImageAction::kAddImage, ctx, target)) {
    return PermissionDeniedError("You are not authorized to complete add_image action.");
  }
  RETURN_IF_ERROR(CheckQuotas(image));
  for (const auto& [name, value] : image.properties) {
    if (!PropertyAllowed(PropertyOp::kCreate, name, ctx)) {
      return PermissionDeniedError("Property '" + name + "' is protected");
    }
  }
  image.created_at = image.updated_at = env_.clock.Now();
  Status st = env_.options.quotas.Unlimited()
                  ? env_.repo.Create(image)
                  : env_.repo.CreateWithinQuota(image, env_.options.quotas);
  if (st.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("Image with identifier " + image.id + " already exists!");
  }
  RETURN_IF_ERROR(st);
  Redact(ctx, image);
  return image;
}

StatusOr<Image> ImageRecords::Get(const RequestContext& ctx, std::string_view id) {
  ASSIGN_OR_RETURN(auto loaded, internal::LoadVisible(env_, ctx, id));
  Redact(ctx, loaded.image);
  return std::move(loaded.image);
}

StatusOr<std::vector<Image>> ImageRecords::List(const RequestContext& ctx,
                                                domain::ListQuery query) {
  if (!env_.policy.Allowed(ImageAction::kGetImages, ctx, {})) {
    return PermissionDeniedError("You are not authorized to complete get_images action.");
  }
  query.scope.project_id = ctx.project_id;
  query.scope.is_admin = ctx.IsAdmin() && !query.scope.admin_as_user;
  auto rows = env_.repo.List(query);
  if (!rows.ok() && rows.status().code() == StatusCode::kNotFound && query.marker) {
    // Glance: an unknown marker is 400; another project's image used as marker is 403.
    if (env_.repo.Get(*query.marker).ok()) {
      return PermissionDeniedError("The marker image " + *query.marker + " is not visible.");
    }
    return InvalidArgumentError("marker not found");
  }
  if (rows.ok()) {
    for (auto& image : *rows) {
      internal::SortLocations(env_.stores, image);
      Redact(ctx, image);
    }
  }
  return rows;
}

Status ImageRecords::ApplyStep(const RequestContext& ctx, Image& image, const PatchStep& step,
                               bool legacy_add) const {
  const std::string& f = step.path;
  const bool base = IsBase(f);
  if (domain::IsCustomProperty(f) && env_.options.property_protections) {
    // Glance's property protections: an unreadable property counts as absent.
    bool exists = image.properties.count(f) && PropertyAllowed(PropertyOp::kRead, f, ctx);
    PropertyOp needed = step.op == PatchStep::Op::kRemove ? PropertyOp::kDelete
                        : exists                          ? PropertyOp::kUpdate
                                                          : PropertyOp::kCreate;
    if (step.op != PatchStep::Op::kAdd && !exists) {
      return FailedPreconditionError("Property " + f + " does not exist.");
    }
    if (!PropertyAllowed(needed, f, ctx)) {
      return PermissionDeniedError("Property '" + f + "' is protected");
    }
  }
  switch (step.op) {
    case PatchStep::Op::kRemove:
      RETURN_IF_ERROR(domain::CheckSettable(f, /*creating=*/false));
      if (base) return PermissionDeniedError("Attribute '" + f + "' is read-only.");
      if (!image.properties.erase(f)) {
        return FailedPreconditionError("Property " + f + " does not exist.");
      }
      return OkStatus();
    case PatchStep::Op::kReplace:
      if (domain::IsCustomProperty(f) && !image.properties.count(f)) {
        return FailedPreconditionError("Property " + f + " does not exist.");
      }
      break;
    case PatchStep::Op::kAdd:
      if (legacy_add && !base && image.properties.count(f)) {
        return FailedPreconditionError("Property " + f + " already present.");
      }
      break;
  }
  RETURN_IF_ERROR(domain::CheckSettable(f, /*creating=*/false));
  RETURN_IF_ERROR(step.invalid);  // the request's value did not fit `f`
  return ApplyChanges(ctx, image, step.value, /*creating=*/false);
}

StatusOr<Image> ImageRecords::Update(const RequestContext& ctx, std::string_view id,
                                     const std::vector<PatchStep>& steps, bool legacy_add) {
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(auto loaded, internal::LoadVisible(env_, ctx, id));
    RETURN_IF_ERROR(internal::Authorize(env_, ImageAction::kModifyImage, ctx, loaded));
    Image& image = loaded.image;
    ImageStatus loaded_status = image.status;
    for (const auto& step : steps) RETURN_IF_ERROR(ApplyStep(ctx, image, step, legacy_add));
    if (steps.empty()) {
      Redact(ctx, image);
      return image;
    }
    RETURN_IF_ERROR(CheckQuotas(image));
    image.updated_at = env_.clock.Now();
    Status st = env_.repo.Update(image, loaded_status);
    if (st.code() == StatusCode::kAborted && attempt < kMaxUpdateRetries) continue;
    if (st.code() == StatusCode::kAborted) return AbortedError("Image changed concurrently");
    RETURN_IF_ERROR(st);
    Redact(ctx, image);
    return image;
  }
}

Status ImageRecords::Delete(const RequestContext& ctx, std::string_view id) {
  ASSIGN_OR_RETURN(auto loaded, internal::LoadVisible(env_, ctx, id));
  RETURN_IF_ERROR(internal::Authorize(env_, ImageAction::kDeleteImage, ctx, loaded));
  const Image& image = loaded.image;
  if (image.is_protected) {
    return PermissionDeniedError("Image " + std::string(id) +
                                 " is protected and cannot be deleted.");
  }
  // As Glance: the data of every copy first, then the record, so that a store refusing (data in
  // use) leaves an image that still points at the data it kept.
  std::vector<std::string> deleted;
  for (const domain::Location& loc : image.locations) {
    store::Store* store = env_.stores.ForLocation(loc.url);
    if (!store) {
      spdlog::warn("image {}: no configured store holds {}; its data is left there", id, loc.url);
      continue;
    }
    Status st = store->Delete(loc.url);
    if (st.ok() || st.code() == StatusCode::kNotFound) {
      deleted.push_back(loc.url);
      continue;
    }
    // Stop here; the copies already deleted leave the record.
    for (const std::string& url : deleted) {
      Status rm = env_.repo.RemoveLocation(id, url, image.status, env_.clock.Now());
      if (!rm.ok() && rm.code() != StatusCode::kNotFound) {
        spdlog::warn("image {}: could not drop the deleted location {}: {}", id, url,
                     rm.ToString());
      }
    }
    spdlog::warn("image {}: store {} did not delete {}: {}", id, store->info().id, loc.url,
                 st.ToString());
    if (st.code() == StatusCode::kFailedPrecondition) {
      return FailedPreconditionError("Image " + std::string(id) +
                                     " could not be deleted because it is in use: " + st.message());
    }
    return Status(st.code(), "Image " + std::string(id) + " could not be deleted: " + st.message());
  }
  RETURN_IF_ERROR(env_.repo.Delete(id));
  if (staging_) {
    Status st = staging_->Remove(id);
    if (!st.ok()) spdlog::warn("image {}: could not remove staged data: {}", id, st.ToString());
  }
  return OkStatus();
}

Status ImageRecords::AddTag(const RequestContext& ctx, std::string_view id, std::string_view tag) {
  if (tag.size() > kMaxFieldLength) {
    return InvalidArgumentError("Tag is too long (maximum 255 characters)");
  }
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(auto loaded, internal::LoadVisible(env_, ctx, id));
    RETURN_IF_ERROR(internal::Authorize(env_, ImageAction::kModifyImage, ctx, loaded));
    Image& image = loaded.image;
    if (std::find(image.tags.begin(), image.tags.end(), tag) != image.tags.end()) {
      return OkStatus();
    }
    image.tags.emplace_back(tag);
    std::sort(image.tags.begin(), image.tags.end());
    RETURN_IF_ERROR(CheckQuotas(image));
    image.updated_at = env_.clock.Now();
    Status st = env_.repo.Update(image, image.status);
    if (st.code() == StatusCode::kAborted && attempt < kMaxUpdateRetries) continue;
    return st;
  }
}

Status ImageRecords::RemoveTag(const RequestContext& ctx, std::string_view id,
                               std::string_view tag) {
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(auto loaded, internal::LoadVisible(env_, ctx, id));
    RETURN_IF_ERROR(internal::Authorize(env_, ImageAction::kModifyImage, ctx, loaded));
    Image& image = loaded.image;
    auto it = std::find(image.tags.begin(), image.tags.end(), tag);
    if (it == image.tags.end()) return NotFoundError("Tag " + std::string(tag) + " not found.");
    image.tags.erase(it);
    image.updated_at = env_.clock.Now();
    Status st = env_.repo.Update(image, image.status);
    if (st.code() == StatusCode::kAborted && attempt < kMaxUpdateRetries) continue;
    return st;
  }
}

Status ImageRecords::Deactivate(const RequestContext& ctx, std::string_view id) {
  ASSIGN_OR_RETURN(auto loaded, internal::LoadVisible(env_, ctx, id));
  RETURN_IF_ERROR(internal::Authorize(env_, ImageAction::kDeactivate, ctx, loaded));
  Image& image = loaded.image;
  if (image.status == ImageStatus::kDeactivated) return OkStatus();
  if (image.status != ImageStatus::kActive) {
    return PermissionDeniedError("Not allowed to deactivate image in status '" +
                                 std::string(domain::ToString(image.status)) + "'");
  }
  image.status = ImageStatus::kDeactivated;
  image.updated_at = env_.clock.Now();
  Status st = env_.repo.Update(image, ImageStatus::kActive);
  if (st.code() == StatusCode::kAborted) return FailedPreconditionError("Image status changed");
  return st;
}

Status ImageRecords::Reactivate(const RequestContext& ctx, std::string_view id) {
  ASSIGN_OR_RETURN(auto loaded, internal::LoadVisible(env_, ctx, id));
  RETURN_IF_ERROR(internal::Authorize(env_, ImageAction::kReactivate, ctx, loaded));
  Image& image = loaded.image;
  if (image.status == ImageStatus::kActive) return OkStatus();
  if (image.status != ImageStatus::kDeactivated) {
    return PermissionDeniedError("Not allowed to reactivate image in status '" +
                                 std::string(domain::ToString(image.status)) + "'");
  }
  image.status = ImageStatus::kActive;
  image.updated_at = env_.clock.Now();
  Status st = env_.repo.Update(image, ImageStatus::kDeactivated);
  if (st.code() == StatusCode::kAborted) return FailedPreconditionError("Image status changed");
  return st;
}

StatusOr<ImageRecords::Usage> ImageRecords::GetUsage(const RequestContext& ctx) {
  if (ctx.project_id.empty()) return PermissionDeniedError("A project-scoped token is required.");
  Usage u;
  ASSIGN_OR_RETURN(u.usage, env_.repo.GetProjectUsage(ctx.project_id));
  u.limits = env_.options.quotas;
  return u;
}

}  // namespace glimmer::images
