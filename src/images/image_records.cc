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

// An attribute shown in the image (so neither a custom property nor a reserved name).
bool IsBase(std::string_view f) {
  const domain::AttributeSpec* a = domain::FindAttribute(f);
  return a && a->visible();
}

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

Status ExpectString(const std::string& field, const Value& v, bool nullable) {
  if (v.kind == Value::Kind::kString) {
    if (v.s.size() > kMaxFieldLength) {
      return InvalidArgumentError("Provided object does not match schema 'image': " + Quote(v.s) +
                                  " is too long (maximum " + std::to_string(kMaxFieldLength) +
                                  ") for " + field);
    }
    return OkStatus();
  }
  if (nullable && v.kind == Value::Kind::kNull) return OkStatus();
  return InvalidArgumentError("Provided object does not match schema 'image': Invalid type for " +
                              field + " (expected " + (nullable ? "string or null" : "string") +
                              ")");
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

Status ImageRecords::SetField(const RequestContext& ctx, Image& image, const std::string& field,
                              const Value& v, bool creating) const {
  RETURN_IF_ERROR(domain::CheckSettable(field, creating));
  if (field == "id") {
    if (v.kind != Value::Kind::kString || !IsUuid(v.s)) {
      return InvalidArgumentError(
          "Provided object does not match schema 'image': id is not a valid UUID");
    }
    image.id = ToLower(v.s);
    return OkStatus();
  }
  if (field == "name") {
    RETURN_IF_ERROR(ExpectString(field, v, true));
    image.name = v.kind == Value::Kind::kNull ? std::nullopt : std::optional(v.s);
    return OkStatus();
  }
  if (field == "visibility") {
    std::optional<Visibility> vis;
    if (v.kind == Value::Kind::kString) vis = domain::ParseVisibility(v.s);
    if (!vis) {
      return InvalidArgumentError(
          "Provided object does not match schema 'image': visibility is not one of "
          "['community', 'public', 'private', 'shared']");
    }
    domain::ImageTarget target{&image};
    if (*vis == Visibility::kPublic && image.visibility != Visibility::kPublic &&
        !env_.policy.Allowed(ImageAction::kPublicizeImage, ctx, target)) {
      return PermissionDeniedError("You are not authorized to complete publicize_image action.");
    }
    if (*vis == Visibility::kCommunity && image.visibility != Visibility::kCommunity &&
        !env_.policy.Allowed(ImageAction::kCommunitizeImage, ctx, target)) {
      return PermissionDeniedError("You are not authorized to complete communitize_image action.");
    }
    image.visibility = *vis;
    return OkStatus();
  }
  if (field == "protected" || field == "os_hidden") {
    if (v.kind != Value::Kind::kBool) {
      return InvalidArgumentError("Provided object does not match schema 'image': " + field +
                                  " is not of type 'boolean'");
    }
    (field == "protected" ? image.is_protected : image.os_hidden) = v.b;
    return OkStatus();
  }
  if (field == "min_disk" || field == "min_ram") {
    if (v.kind != Value::Kind::kInt || v.i < 0) {
      return InvalidArgumentError("Provided object does not match schema 'image': " + field +
                                  " must be a non-negative integer");
    }
    (field == "min_disk" ? image.min_disk : image.min_ram) = v.i;
    return OkStatus();
  }
  if (field == "owner") {
    RETURN_IF_ERROR(ExpectString(field, v, true));
    std::optional<std::string> owner =
        v.kind == Value::Kind::kNull ? std::nullopt : std::optional(v.s);
    if (!ctx.IsAdmin() && owner != image.owner) {
      if (!creating) return PermissionDeniedError("Attribute 'owner' is read-only.");
      if (owner != std::optional(ctx.project_id)) {
        return PermissionDeniedError("You are not permitted to create images owned by '" +
                                     owner.value_or("") + "'.");
      }
    }
    image.owner = owner;
    return OkStatus();
  }
  if (field == "container_format" || field == "disk_format") {
    RETURN_IF_ERROR(ExpectString(field, v, true));
    const auto& allowed =
        field == "disk_format" ? env_.options.disk_formats : env_.options.container_formats;
    if (v.kind == Value::Kind::kString &&
        std::find(allowed.begin(), allowed.end(), v.s) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "'" : ", '") + a + "'";
      return InvalidArgumentError("Provided object does not match schema 'image': " + Quote(v.s) +
                                  " is not one of [" + list + "] for " + field);
    }
    auto& target = field == "disk_format" ? image.disk_format : image.container_format;
    std::optional<std::string> value =
        v.kind == Value::Kind::kNull ? std::nullopt : std::optional(v.s);
    if (!creating && value != target && image.status != ImageStatus::kQueued) {
      return PermissionDeniedError("Attribute " + field +
                                   " can be only replaced for a queued image.");
    }
    target = value;
    return OkStatus();
  }
  if (field == "tags") {
    if (v.kind != Value::Kind::kStringList) {
      return InvalidArgumentError(
          "Provided object does not match schema 'image': tags must be an array of strings");
    }
    std::set<std::string> tags;
    for (const auto& t : v.list) {
      if (t.size() > kMaxFieldLength) {
        return InvalidArgumentError("Provided object does not match schema 'image': tag " +
                                    Quote(t) + " is too long");
      }
      tags.insert(t);
    }
    image.tags.assign(tags.begin(), tags.end());
    return OkStatus();
  }
  // A custom property.
  if (field.empty() || field.size() > kMaxFieldLength) {
    return InvalidArgumentError(
        "Provided object does not match schema 'image': property names must be 1 to 255 "
        "characters long");
  }
  if (v.kind != Value::Kind::kString) {
    return InvalidArgumentError("Provided object does not match schema 'image': " + Quote(field) +
                                " is not of type 'string'");
  }
  image.properties[field] = v.s;
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
                                     const std::vector<std::pair<std::string, Value>>& fields) {
  Image image;
  image.id = platform::NewUuid4();
  if (!ctx.project_id.empty()) image.owner = ctx.project_id;
  for (const auto& [field, value] : fields) {
    RETURN_IF_ERROR(SetField(ctx, image, field, value, /*creating=*/true));
  }
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
  query.scope.is_admin = ctx.IsAdmin();
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

Status ImageRecords::ApplyOp(const RequestContext& ctx, Image& image, const PatchOp& op,
                             bool legacy_add) const {
  const std::string& f = op.field;
  bool base = IsBase(f);
  if (domain::IsCustomProperty(f) && env_.options.property_protections) {
    // Glance's property protections: an unreadable property counts as absent.
    bool exists = image.properties.count(f) && PropertyAllowed(PropertyOp::kRead, f, ctx);
    PropertyOp needed = op.op == PatchOp::Op::kRemove ? PropertyOp::kDelete
                        : exists                      ? PropertyOp::kUpdate
                                                      : PropertyOp::kCreate;
    if (op.op == PatchOp::Op::kRemove && !exists) {
      return FailedPreconditionError("Property " + f + " does not exist.");
    }
    if (op.op == PatchOp::Op::kReplace && !exists) {
      return FailedPreconditionError("Property " + f + " does not exist.");
    }
    if (!PropertyAllowed(needed, f, ctx)) {
      return PermissionDeniedError("Property '" + f + "' is protected");
    }
  }
  switch (op.op) {
    case PatchOp::Op::kRemove:
      RETURN_IF_ERROR(domain::CheckSettable(f, /*creating=*/false));
      if (base) return PermissionDeniedError("Attribute " + Quote(f) + " is read-only.");
      if (!image.properties.erase(f)) {
        return FailedPreconditionError("Property " + f + " does not exist.");
      }
      return OkStatus();
    case PatchOp::Op::kReplace:
      if (domain::IsCustomProperty(f) && !image.properties.count(f)) {
        return FailedPreconditionError("Property " + f + " does not exist.");
      }
      return SetField(ctx, image, f, *op.value, /*creating=*/false);
    case PatchOp::Op::kAdd:
      if (legacy_add && !base && image.properties.count(f)) {
        return FailedPreconditionError("Property " + f + " already present.");
      }
      return SetField(ctx, image, f, *op.value, /*creating=*/false);
  }
  return InternalError("unknown patch op");
}

StatusOr<Image> ImageRecords::Update(const RequestContext& ctx, std::string_view id,
                                     const std::vector<PatchOp>& ops, bool legacy_add) {
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(auto loaded, internal::LoadVisible(env_, ctx, id));
    RETURN_IF_ERROR(internal::Authorize(env_, ImageAction::kModifyImage, ctx, loaded));
    Image& image = loaded.image;
    ImageStatus loaded_status = image.status;
    for (const auto& op : ops) RETURN_IF_ERROR(ApplyOp(ctx, image, op, legacy_add));
    if (ops.empty()) {
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
