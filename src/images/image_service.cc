#include "images/image_service.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <spdlog/spdlog.h>

#include "formats/inspector.h"
#include "images/format_check.h"
#include "platform/random.h"

namespace glimmer::images {
namespace {

using domain::Image;
using domain::ImageAction;
using domain::ImageStatus;
using domain::RequestContext;
using domain::Visibility;

constexpr size_t kMaxFieldLength = 255;
// Hidden internal property: where an upload in `saving` will commit its data. Recorded before the
// data becomes visible in the store, so recovery after a crash can remove it.
constexpr std::string_view kUploadLocation = "os_glance_upload_location";
constexpr std::string_view kUploadNode = "os_glance_upload_node";

// Attributes no request may set, and what Glance answers for them.
const std::set<std::string, std::less<>> kReadOnly = {
    "created_at", "updated_at", "status",   "checksum", "size",   "virtual_size", "os_hash_algo",
    "os_hash_value", "direct_url", "self",   "file",     "schema", "stores",       "locations"};
const std::set<std::string, std::less<>> kReserved = {"location", "deleted", "deleted_at"};
const std::set<std::string, std::less<>> kBaseFields = {
    "id",        "name",       "visibility", "protected", "os_hidden", "owner",
    "min_disk",  "min_ram",    "tags",       "container_format",       "disk_format"};

bool IsBase(std::string_view f) {
  return kBaseFields.count(f) > 0 || kReadOnly.count(f) > 0;
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

void ResetData(Image& image) {
  image.properties.erase(std::string(kUploadLocation));
  image.properties.erase(std::string(kUploadNode));
  image.size.reset();
  image.virtual_size.reset();
  image.checksum.reset();
  image.os_hash_algo.reset();
  image.os_hash_value.reset();
  image.locations.clear();
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

ImageService::ImageService(db::ImageRepository& repo, StoreSet stores,
                           const domain::Policy& policy, platform::Executor& hash_pool,
                           const platform::Clock& clock, ServiceOptions options)
    : repo_(repo),
      stores_(std::move(stores)),
      policy_(policy),
      hash_pool_(hash_pool),
      clock_(clock),
      options_(std::move(options)) {}

bool ImageService::PropertyAllowed(PropertyOp op, const std::string& name,
                                   const RequestContext& ctx) const {
  if (!options_.property_protections || name.rfind("os_glance", 0) == 0) return true;
  return options_.property_protections->Allowed(op, name, ctx);
}

void ImageService::Redact(const RequestContext& ctx, Image& image) const {
  if (!options_.property_protections) return;
  std::erase_if(image.properties, [&](const auto& kv) {
    return !PropertyAllowed(PropertyOp::kRead, kv.first, ctx);
  });
}

StatusOr<ImageService::Loaded> ImageService::LoadVisible(const RequestContext& ctx,
                                                         std::string_view id) {
  auto image = repo_.Get(id);
  if (!image.ok()) {
    if (image.status().code() == StatusCode::kNotFound) {
      return NotFoundError("No image found with ID " + std::string(id));
    }
    return image.status();
  }
  Loaded loaded{std::move(*image), false};
  bool owner = loaded.image.owner && *loaded.image.owner == ctx.project_id;
  if (!owner && !ctx.project_id.empty() && loaded.image.visibility == Visibility::kShared) {
    ASSIGN_OR_RETURN(auto member, repo_.GetMember(id, ctx.project_id));
    loaded.caller_is_member = member.has_value();
  }
  if (!domain::CanSee(ctx, loaded.image, loaded.caller_is_member)) {
    return NotFoundError("No image found with ID " + std::string(id));
  }
  SortLocations(loaded.image);
  return loaded;
}

void ImageService::SortLocations(Image& image) const {
  if (!stores_.multistore || image.locations.size() < 2) return;
  auto weight = [&](const domain::Location& loc) -> int64_t {
    const store::Store* s = stores_.ById(loc.store_id);
    return s ? s->info().weight : 0;
  };
  std::stable_sort(image.locations.begin(), image.locations.end(),
                   [&](const domain::Location& a, const domain::Location& b) {
                     return weight(a) > weight(b);
                   });
}

std::string ImageService::LocationMetadata(const store::Store& store) const {
  if (!stores_.multistore) return "{}";
  return "{\"store\": \"" + store.info().id + "\"}";
}

Status ImageService::Authorize(ImageAction action, const RequestContext& ctx,
                               const Loaded& loaded) const {
  domain::ImageTarget target;
  target.image = &loaded.image;
  target.caller_is_member = loaded.caller_is_member;
  if (!policy_.Allowed(action, ctx, target)) {
    return PermissionDeniedError("You are not authorized to complete " +
                                 std::string(domain::ToString(action)) + " action.");
  }
  return OkStatus();
}

Status ImageService::SetField(const RequestContext& ctx, Image& image, const std::string& field,
                              const Value& v, bool creating) const {
  if (kReserved.count(field) || field.rfind("os_glance", 0) == 0) {
    return PermissionDeniedError("Attribute " + Quote(field) + " is reserved.");
  }
  if (kReadOnly.count(field)) {
    return PermissionDeniedError("Attribute " + Quote(field) + " is read-only.");
  }
  if (field == "id") {
    if (!creating) return PermissionDeniedError("Attribute 'id' is read-only.");
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
        !policy_.Allowed(ImageAction::kPublicizeImage, ctx, target)) {
      return PermissionDeniedError("You are not authorized to complete publicize_image action.");
    }
    if (*vis == Visibility::kCommunity && image.visibility != Visibility::kCommunity &&
        !policy_.Allowed(ImageAction::kCommunitizeImage, ctx, target)) {
      return PermissionDeniedError(
          "You are not authorized to complete communitize_image action.");
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
        field == "disk_format" ? options_.disk_formats : options_.container_formats;
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
    return InvalidArgumentError("Provided object does not match schema 'image': " +
                                Quote(field) + " is not of type 'string'");
  }
  image.properties[field] = v.s;
  return OkStatus();
}

Status ImageService::CheckQuotas(const Image& image) const {
  if (options_.image_tag_quota >= 0 &&
      static_cast<int>(image.tags.size()) > options_.image_tag_quota) {
    return ResourceExhaustedError("Maximum number of tags exceeded (" +
                                  std::to_string(options_.image_tag_quota) + ")");
  }
  int props = 0;
  for (const auto& [k, v] : image.properties) {
    if (k.rfind("os_glance", 0) != 0) ++props;
  }
  if (options_.image_property_quota >= 0 && props > options_.image_property_quota) {
    return ResourceExhaustedError("Maximum number of image properties exceeded (" +
                                  std::to_string(options_.image_property_quota) + ")");
  }
  return OkStatus();
}

StatusOr<Image> ImageService::Create(const RequestContext& ctx,
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
  if (!policy_.Allowed(ImageAction::kAddImage, ctx, target)) {
    return PermissionDeniedError("You are not authorized to complete add_image action.");
  }
  RETURN_IF_ERROR(CheckQuotas(image));
  for (const auto& [name, value] : image.properties) {
    if (!PropertyAllowed(PropertyOp::kCreate, name, ctx)) {
      return PermissionDeniedError("Property '" + name + "' is protected");
    }
  }
  image.created_at = image.updated_at = clock_.Now();
  Status st = options_.quotas.Unlimited() ? repo_.Create(image)
                                          : repo_.CreateWithinQuota(image, options_.quotas);
  if (st.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("Image with identifier " + image.id + " already exists!");
  }
  RETURN_IF_ERROR(st);
  Redact(ctx, image);
  return image;
}

StatusOr<Image> ImageService::Get(const RequestContext& ctx, std::string_view id) {
  ASSIGN_OR_RETURN(auto loaded, LoadVisible(ctx, id));
  Redact(ctx, loaded.image);
  return std::move(loaded.image);
}

StatusOr<std::vector<Image>> ImageService::List(const RequestContext& ctx,
                                                domain::ListQuery query) {
  if (!policy_.Allowed(ImageAction::kGetImages, ctx, {})) {
    return PermissionDeniedError("You are not authorized to complete get_images action.");
  }
  query.scope.project_id = ctx.project_id;
  query.scope.is_admin = ctx.IsAdmin();
  auto rows = repo_.List(query);
  if (!rows.ok() && rows.status().code() == StatusCode::kNotFound && query.marker) {
    // Glance: an unknown marker is 400; another project's image used as marker is 403.
    if (repo_.Get(*query.marker).ok()) {
      return PermissionDeniedError("The marker image " + *query.marker + " is not visible.");
    }
    return InvalidArgumentError("marker not found");
  }
  if (rows.ok()) {
    for (auto& image : *rows) {
      SortLocations(image);
      Redact(ctx, image);
    }
  }
  return rows;
}

Status ImageService::ApplyOp(const RequestContext& ctx, Image& image, const PatchOp& op,
                             bool legacy_add) const {
  const std::string& f = op.field;
  bool base = IsBase(f);
  if (!base && !kReserved.count(f) && f.rfind("os_glance", 0) != 0 &&
      options_.property_protections) {
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
      if (kReserved.count(f) || f.rfind("os_glance", 0) == 0) {
        return PermissionDeniedError("Attribute " + Quote(f) + " is reserved.");
      }
      if (base) return PermissionDeniedError("Attribute " + Quote(f) + " is read-only.");
      if (!image.properties.erase(f)) {
        return FailedPreconditionError("Property " + f + " does not exist.");
      }
      return OkStatus();
    case PatchOp::Op::kReplace:
      if (!base && !kReserved.count(f) && f.rfind("os_glance", 0) != 0 &&
          !image.properties.count(f)) {
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

StatusOr<Image> ImageService::Update(const RequestContext& ctx, std::string_view id,
                                     const std::vector<PatchOp>& ops, bool legacy_add) {
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(auto loaded, LoadVisible(ctx, id));
    RETURN_IF_ERROR(Authorize(ImageAction::kModifyImage, ctx, loaded));
    Image& image = loaded.image;
    ImageStatus loaded_status = image.status;
    for (const auto& op : ops) RETURN_IF_ERROR(ApplyOp(ctx, image, op, legacy_add));
    if (ops.empty()) {
      Redact(ctx, image);
      return image;
    }
    RETURN_IF_ERROR(CheckQuotas(image));
    image.updated_at = clock_.Now();
    Status st = repo_.Update(image, loaded_status);
    if (st.code() == StatusCode::kAborted && attempt < kMaxUpdateRetries) continue;
    if (st.code() == StatusCode::kAborted) return AbortedError("Image changed concurrently");
    RETURN_IF_ERROR(st);
    Redact(ctx, image);
    return image;
  }
}

Status ImageService::Delete(const RequestContext& ctx, std::string_view id) {
  ASSIGN_OR_RETURN(auto loaded, LoadVisible(ctx, id));
  RETURN_IF_ERROR(Authorize(ImageAction::kDeleteImage, ctx, loaded));
  const Image& image = loaded.image;
  if (image.is_protected) {
    return PermissionDeniedError("Image " + std::string(id) + " is protected and cannot be deleted.");
  }
  // As Glance: the data of every copy first, then the record, so that a store refusing (data in
  // use) leaves an image that still points at the data it kept.
  std::vector<std::string> deleted;
  for (const domain::Location& loc : image.locations) {
    store::Store* store = stores_.ForLocation(loc.url);
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
      Status rm = repo_.RemoveLocation(id, url, image.status, clock_.Now());
      if (!rm.ok() && rm.code() != StatusCode::kNotFound) {
        spdlog::warn("image {}: could not drop the deleted location {}: {}", id, url,
                     rm.ToString());
      }
    }
    spdlog::warn("image {}: store {} did not delete {}: {}", id, store->info().id, loc.url,
                 st.ToString());
    if (st.code() == StatusCode::kFailedPrecondition) {
      return FailedPreconditionError("Image " + std::string(id) +
                                     " could not be deleted because it is in use: " +
                                     st.message());
    }
    return Status(st.code(), "Image " + std::string(id) + " could not be deleted: " + st.message());
  }
  RETURN_IF_ERROR(repo_.Delete(id));
  if (import_) {
    Status st = import_->staging->Remove(id);
    if (!st.ok()) spdlog::warn("image {}: could not remove staged data: {}", id, st.ToString());
  }
  return OkStatus();
}

Status ImageService::DeleteFromStore(const RequestContext& ctx, std::string_view store_id,
                                     std::string_view id) {
  if (!stores_.multistore) return NotFoundError("");
  store::Store* store = stores_.ById(store_id);
  if (!store) {
    return FailedPreconditionError("The selected store " + std::string(store_id) +
                                   " is not available on this node.");
  }
  domain::Location removed;
  size_t position = 0;
  for (int attempt = 0;; ++attempt) {
    auto loaded = LoadVisible(ctx, id);
    if (!loaded.ok()) {
      if (loaded.status().code() == StatusCode::kNotFound) {
        return NotFoundError("Failed to find image " + std::string(id));
      }
      return loaded.status();
    }
    RETURN_IF_ERROR(Authorize(ImageAction::kGetImageLocation, ctx, *loaded));
    RETURN_IF_ERROR(Authorize(ImageAction::kDeleteImageLocation, ctx, *loaded));
    const Image& image = loaded->image;
    if (image.status != ImageStatus::kActive) {
      return FailedPreconditionError(
          "It's not allowed to remove image data from store if image status is not 'active'");
    }
    if (image.locations.size() == 1) {
      return PermissionDeniedError("Cannot delete image data from the only store containing it. "
                                   "Consider deleting the image instead.");
    }
    auto it = std::find_if(image.locations.begin(), image.locations.end(),
                           [&](const domain::Location& l) { return l.store_id == store_id; });
    if (it == image.locations.end()) {
      return NotFoundError("Image " + std::string(id) + " is not stored in store " +
                           std::string(store_id) + ".");
    }
    removed = *it;
    position = static_cast<size_t>(it - image.locations.begin());
    // The record first, atomically and only while another copy remains; then the data.
    Status st = repo_.RemoveLocation(id, removed.url, ImageStatus::kActive, clock_.Now());
    if (st.ok()) break;
    // Lost a race (status changed, copy removed or image deleted meanwhile): check again.
    if ((st.code() == StatusCode::kAborted || st.code() == StatusCode::kNotFound) &&
        attempt < kMaxUpdateRetries) {
      continue;
    }
    return st;
  }
  Status deleted = store->Delete(removed.url);
  if (deleted.ok()) return OkStatus();
  if (deleted.code() == StatusCode::kNotFound) {
    spdlog::warn("image {}: the data at {} was already gone from store {}; its location is "
                 "removed", id, removed.url, store_id);
    return OkStatus();
  }
  // The store kept the data: so does the record.
  spdlog::warn("image {}: store {} did not delete {}: {}", id, store_id, removed.url,
               deleted.ToString());
  Status restored;
  for (int attempt = 0; attempt < kMaxUpdateRetries; ++attempt) {
    auto image = repo_.Get(id);
    if (!image.ok()) {
      restored = image.status();
      break;
    }
    image->locations.insert(image->locations.begin() +
                                static_cast<std::ptrdiff_t>(
                                    std::min(position, image->locations.size())),
                            removed);
    image->updated_at = clock_.Now();
    restored = repo_.Update(*image, image->status);
    if (restored.code() != StatusCode::kAborted) break;
  }
  if (!restored.ok()) {
    spdlog::error("image {}: could not record again the copy kept by store {} at {}: {}", id,
                  store_id, removed.url, restored.ToString());
  }
  if (deleted.code() == StatusCode::kFailedPrecondition) {
    return FailedPreconditionError("The data for Image " + std::string(id) +
                                   " could not be deleted because it is in use: " +
                                   deleted.message());
  }
  return InternalError("deleting image " + std::string(id) + " from store " +
                       std::string(store_id) + ": " + deleted.ToString());
}

Status ImageService::AuthorizeStoresDetail(const RequestContext& ctx) const {
  if (!policy_.Allowed(ImageAction::kStoresInfoDetail, ctx, {})) {
    return PermissionDeniedError("You are not authorized to complete stores_info_detail action.");
  }
  return OkStatus();
}

Status ImageService::AddTag(const RequestContext& ctx, std::string_view id,
                            std::string_view tag) {
  if (tag.size() > kMaxFieldLength) {
    return InvalidArgumentError("Tag is too long (maximum 255 characters)");
  }
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(auto loaded, LoadVisible(ctx, id));
    RETURN_IF_ERROR(Authorize(ImageAction::kModifyImage, ctx, loaded));
    Image& image = loaded.image;
    if (std::find(image.tags.begin(), image.tags.end(), tag) != image.tags.end()) {
      return OkStatus();
    }
    image.tags.emplace_back(tag);
    std::sort(image.tags.begin(), image.tags.end());
    RETURN_IF_ERROR(CheckQuotas(image));
    image.updated_at = clock_.Now();
    Status st = repo_.Update(image, image.status);
    if (st.code() == StatusCode::kAborted && attempt < kMaxUpdateRetries) continue;
    return st;
  }
}

Status ImageService::RemoveTag(const RequestContext& ctx, std::string_view id,
                               std::string_view tag) {
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(auto loaded, LoadVisible(ctx, id));
    RETURN_IF_ERROR(Authorize(ImageAction::kModifyImage, ctx, loaded));
    Image& image = loaded.image;
    auto it = std::find(image.tags.begin(), image.tags.end(), tag);
    if (it == image.tags.end()) return NotFoundError("Tag " + std::string(tag) + " not found.");
    image.tags.erase(it);
    image.updated_at = clock_.Now();
    Status st = repo_.Update(image, image.status);
    if (st.code() == StatusCode::kAborted && attempt < kMaxUpdateRetries) continue;
    return st;
  }
}

Status ImageService::Deactivate(const RequestContext& ctx, std::string_view id) {
  ASSIGN_OR_RETURN(auto loaded, LoadVisible(ctx, id));
  RETURN_IF_ERROR(Authorize(ImageAction::kDeactivate, ctx, loaded));
  Image& image = loaded.image;
  if (image.status == ImageStatus::kDeactivated) return OkStatus();
  if (image.status != ImageStatus::kActive) {
    return PermissionDeniedError("Not allowed to deactivate image in status '" +
                                 std::string(domain::ToString(image.status)) + "'");
  }
  image.status = ImageStatus::kDeactivated;
  image.updated_at = clock_.Now();
  Status st = repo_.Update(image, ImageStatus::kActive);
  if (st.code() == StatusCode::kAborted) return FailedPreconditionError("Image status changed");
  return st;
}

Status ImageService::Reactivate(const RequestContext& ctx, std::string_view id) {
  ASSIGN_OR_RETURN(auto loaded, LoadVisible(ctx, id));
  RETURN_IF_ERROR(Authorize(ImageAction::kReactivate, ctx, loaded));
  Image& image = loaded.image;
  if (image.status == ImageStatus::kActive) return OkStatus();
  if (image.status != ImageStatus::kDeactivated) {
    return PermissionDeniedError("Not allowed to reactivate image in status '" +
                                 std::string(domain::ToString(image.status)) + "'");
  }
  image.status = ImageStatus::kActive;
  image.updated_at = clock_.Now();
  Status st = repo_.Update(image, ImageStatus::kDeactivated);
  if (st.code() == StatusCode::kAborted) return FailedPreconditionError("Image status changed");
  return st;
}

Status ImageService::RollbackUpload(std::string_view id) {
  for (int attempt = 0; attempt < kMaxUpdateRetries; ++attempt) {
    auto image = repo_.Get(id);
    if (!image.ok()) return image.status();
    if (image->status != ImageStatus::kSaving) return OkStatus();
    image->status = ImageStatus::kQueued;
    ResetData(*image);
    image->updated_at = clock_.Now();
    Status st = repo_.Update(*image, ImageStatus::kSaving);
    if (st.code() != StatusCode::kAborted) return st;
  }
  return AbortedError("could not roll back upload");
}

StatusOr<ImageService::Pumped> ImageService::Pump(store::Writer& writer, const ReadFn& read,
                                                  int64_t max_bytes,
                                                  std::optional<int64_t> size_hint) {
  StreamToStore stream(writer, hash_pool_, StreamOptions(max_bytes, size_hint));
  for (;;) {
    auto n = read(stream.Buffer());
    if (!n.ok()) {
      stream.Cancel();
      return n.status();
    }
    if (*n == 0) break;
    RETURN_IF_ERROR(stream.Commit(*n));
  }
  return stream.Finish();
}

StreamToStore::Options ImageService::StreamOptions(int64_t max_bytes,
                                                   std::optional<int64_t> size_hint) const {
  StreamToStore::Options o;
  o.buffer_size = options_.upload_buffer_size;
  o.max_bytes = max_bytes;
  o.image_size_cap = options_.image_size_cap;
  o.size_hint = size_hint;
  o.budget = options_.upload_budget;
  return o;
}

void ImageService::ApplyPumped(const Pumped& pumped, Image& image) const {
  image.size = pumped.size;
  image.checksum = pumped.md5_hex;
  image.os_hash_algo = "sha512";
  image.os_hash_value = pumped.sha512_hex;
  image.virtual_size = pumped.virtual_size;
}

Status ImageService::CheckFormat(store::Store& target, const std::string& location,
                                 const Image& image, Pumped& pumped) const {
  pumped.virtual_size.reset();
  if (image.container_format != "bare") return OkStatus();
  ASSIGN_OR_RETURN(auto reader, target.Open(location));
  FormatCheckOptions opts;
  opts.max_virtual_size = options_.max_virtual_size;
  ASSIGN_OR_RETURN(pumped.virtual_size, CheckStoredFormat(*reader, image, opts));
  return OkStatus();
}

Status ImageService::Upload(const RequestContext& ctx, std::string_view id, const ReadFn& read,
                            std::optional<int64_t> size_hint, std::string_view store_id) {
  store::Store* chosen = store_id.empty() ? stores_.Default() : stores_.ById(store_id);
  if (!chosen) {
    if (!store_id.empty()) {
      return InvalidArgumentError("Store for identifier " + std::string(store_id) + " not found");
    }
    return UnavailableError("No store is configured");
  }
  ASSIGN_OR_RETURN(auto loaded, LoadVisible(ctx, id));
  RETURN_IF_ERROR(Authorize(ImageAction::kUploadImage, ctx, loaded));
  Image image = std::move(loaded.image);
  if (image.status != ImageStatus::kQueued) {
    return FailedPreconditionError("Image status transition from " +
                                   std::string(domain::ToString(image.status)) +
                                   " to saving is not allowed");
  }
  if (!image.disk_format || !image.container_format) {
    return InvalidArgumentError(
        "Properties disk_format, container_format must be set prior to saving data.");
  }
  if (size_hint && *size_hint > options_.image_size_cap) {
    return ResourceExhaustedError("Image exceeds the storage quota: image size " +
                                  std::to_string(*size_hint) + " is over the limit of " +
                                  std::to_string(options_.image_size_cap) + " bytes");
  }
  store::Store& target = *chosen;
  // Bytes this project may still store (the final activation re-checks exactly, atomically).
  int64_t max_bytes = options_.image_size_cap;
  if (options_.quotas.image_size_total >= 0 && image.owner) {
    ASSIGN_OR_RETURN(auto usage, repo_.GetProjectUsage(*image.owner));
    int64_t left = std::max<int64_t>(0, options_.quotas.image_size_total - usage.image_size_total);
    if (size_hint && *size_hint > left) {
      return ResourceExhaustedError("image_size_total quota exceeded: " +
                                    std::to_string(*size_hint) + " bytes requested, " +
                                    std::to_string(left) + " bytes left");
    }
    max_bytes = std::min(max_bytes, left);
  }

  auto writer = target.NewWriter(id, size_hint);
  if (!writer.ok()) return writer.status();
  image.status = ImageStatus::kSaving;
  image.updated_at = clock_.Now();
  if (std::string pending = (*writer)->location(); !pending.empty()) {
    image.properties[std::string(kUploadLocation)] = pending;
  }
  if (!options_.node_id.empty()) image.properties[std::string(kUploadNode)] = options_.node_id;
  Status claim = options_.quotas.Unlimited()
                     ? repo_.Update(image, ImageStatus::kQueued)
                     : repo_.UpdateWithinQuota(image, ImageStatus::kQueued, options_.quotas);
  if (claim.code() == StatusCode::kAborted) {
    return FailedPreconditionError("Image status transition to saving is not allowed: the image "
                                   "is being changed by another request");
  }
  RETURN_IF_ERROR(claim);

  // From here on, any failure must return the image to queued with no data kept.
  auto fail = [&](Status st) -> Status {
    Status rb = RollbackUpload(id);
    if (rb.code() == StatusCode::kNotFound) {
      return GoneError("Image " + std::string(id) + " was deleted during the upload");
    }
    if (!rb.ok()) spdlog::error("image {}: rollback failed: {}", id, rb.ToString());
    return st;
  };

  auto pumped = Pump(**writer, read, max_bytes, size_hint);
  if (!pumped.ok()) {
    (*writer)->Abort();
    return fail(pumped.status());
  }
  if (image.container_format == "bare" && !pumped->stream_failure.empty()) {
    (*writer)->Abort();
    return fail(UnsupportedMediaError("Image failed safety checks: " + pumped->stream_failure));
  }
  auto location = (*writer)->Commit();
  if (!location.ok()) return fail(location.status());
  // The deep format check reads the stored copy's metadata (random access, bounded memory).
  Status checked = CheckFormat(target, *location, image, *pumped);
  if (!checked.ok()) {
    (void)target.Delete(*location);
    return fail(checked);
  }

  image.status = ImageStatus::kActive;
  ApplyPumped(*pumped, image);
  image.locations = {domain::Location{target.info().id, *location, LocationMetadata(target)}};
  image.properties.erase(std::string(kUploadLocation));
  image.properties.erase(std::string(kUploadNode));
  image.updated_at = clock_.Now();
  Status done = options_.quotas.Unlimited()
                    ? repo_.Update(image, ImageStatus::kSaving)
                    : repo_.UpdateWithinQuota(image, ImageStatus::kSaving, options_.quotas);
  if (!done.ok()) {
    (void)target.Delete(*location);
    if (done.code() == StatusCode::kResourceExhausted) return fail(done);
    if (done.code() == StatusCode::kAborted || done.code() == StatusCode::kNotFound) {
      return GoneError("Image " + std::string(id) + " was deleted during the upload");
    }
    return fail(done);
  }
  return OkStatus();
}

StatusOr<ImageService::Download> ImageService::OpenDownload(
    const RequestContext& ctx, std::string_view id, const std::vector<std::string>& prefer) {
  ASSIGN_OR_RETURN(auto loaded, LoadVisible(ctx, id));
  domain::ImageTarget target{&loaded.image, loaded.caller_is_member};
  if (!policy_.Allowed(ImageAction::kDownloadImage, ctx, target)) {
    return PermissionDeniedError("You are not authorized to complete download_image action.");
  }
  if (loaded.image.status == ImageStatus::kDeactivated && !ctx.IsAdmin()) {
    return PermissionDeniedError("The requested image has been deactivated. Image data download "
                                 "is forbidden.");
  }
  if (!prefer.empty()) {
    if (!policy_.Allowed(ImageAction::kDownloadFromStore, ctx, target)) {
      return PermissionDeniedError(
          "You are not authorized to complete download_from_store action.");
    }
    if (!stores_.multistore) {
      return InvalidArgumentError("Store selection for download is not available when multiple "
                                  "backends are not enabled.");
    }
    for (const auto& s : prefer) {
      if (!stores_.ById(s)) return InvalidArgumentError("Store '" + s + "' is not configured.");
    }
    // The preferred stores' copies first, in the order asked; then the others, as they were.
    std::vector<domain::Location> ordered;
    for (size_t i = 0; i < prefer.size(); ++i) {
      const std::string& s = prefer[i];
      if (std::find(prefer.begin(), prefer.begin() + static_cast<std::ptrdiff_t>(i), s) !=
          prefer.begin() + static_cast<std::ptrdiff_t>(i)) {
        continue;  // named twice
      }
      for (const auto& loc : loaded.image.locations) {
        if (loc.store_id == s) ordered.push_back(loc);
      }
    }
    for (const auto& loc : loaded.image.locations) {
      if (std::find(prefer.begin(), prefer.end(), loc.store_id) == prefer.end()) {
        ordered.push_back(loc);
      }
    }
    loaded.image.locations = std::move(ordered);
  }
  Download d;
  d.image = std::move(loaded.image);
  if (d.image.locations.empty() || d.image.status != ImageStatus::kActive &&
                                       d.image.status != ImageStatus::kDeactivated) {
    return d;  // no data: 204
  }
  Status last = NotFoundError("Image data not found");
  for (const auto& loc : d.image.locations) {
    store::Store* store = stores_.ForLocation(loc.url);
    if (!store) continue;
    auto reader = store->Open(loc.url);
    if (reader.ok()) {
      d.reader = std::move(*reader);
      return d;
    }
    last = reader.status();
    spdlog::warn("image {}: cannot open {}: {}", id, loc.url, last.ToString());
  }
  if (last.code() == StatusCode::kNotFound) {
    return NotFoundError("Image data for " + std::string(id) + " is missing from the store");
  }
  return last;
}

StatusOr<ImageService::Usage> ImageService::GetUsage(const RequestContext& ctx) {
  if (ctx.project_id.empty()) return PermissionDeniedError("A project-scoped token is required.");
  Usage u;
  ASSIGN_OR_RETURN(u.usage, repo_.GetProjectUsage(ctx.project_id));
  u.limits = options_.quotas;
  return u;
}

Status ImageService::RecoverAfterCrash() {
  for (auto* s : stores_.stores) RETURN_IF_ERROR(s->CleanupIncomplete());
  // Only this node's interrupted work: other nodes sharing the database may be uploading or
  // staging right now (images without a node mark predate it and are taken as this node's).
  auto other_node = [&](const Image& image, std::string_view property) {
    auto it = image.properties.find(std::string(property));
    return it != image.properties.end() && !options_.node_id.empty() &&
           it->second != options_.node_id;
  };
  ASSIGN_OR_RETURN(auto interrupted, repo_.ListByStatus({ImageStatus::kSaving}));
  for (const auto& image : interrupted) {
    if (other_node(image, kUploadNode)) continue;
    spdlog::warn("image {}: upload was interrupted; returning it to queued", image.id);
    if (auto it = image.properties.find(std::string(kUploadLocation));
        it != image.properties.end()) {
      if (auto* store = stores_.ForLocation(it->second)) {
        Status st = store->Delete(it->second);
        if (!st.ok() && st.code() != StatusCode::kNotFound) RETURN_IF_ERROR(st);
      }
    }
    RETURN_IF_ERROR(RollbackUpload(image.id));
  }
  if (!import_) return OkStatus();
  // A stage cut by the crash: back to queued; what was staged stays for resumption.
  // An import whose task has ended or vanished: back to queued (running tasks are resumed by
  // the task runner and keep their images).
  ASSIGN_OR_RETURN(auto importing,
                   repo_.ListByStatus({ImageStatus::kUploading, ImageStatus::kImporting}));
  for (auto& image : importing) {
    const bool stage = image.status == ImageStatus::kUploading &&
                       !image.properties.count(std::string(kImportTaskProperty));
    if (!stage && !LockIsStale(image)) continue;
    if (stage && other_node(image, kStageHostProperty)) continue;
    ImageStatus was = image.status;
    if (was == ImageStatus::kUploading && stage) {
      spdlog::warn("image {}: staging was interrupted; returning it to queued", image.id);
    } else if (was == ImageStatus::kImporting) {
      spdlog::warn("image {}: its import task has ended; returning it to queued", image.id);
      ResetData(image);
      (void)import_->staging->Remove(image.id);
    } else {
      continue;
    }
    image.status = ImageStatus::kQueued;
    image.properties.erase(std::string(kImportTaskProperty));
    image.properties.erase(std::string(kImportingToStores));
    image.updated_at = clock_.Now();
    Status st = repo_.Update(image, was);
    if (!st.ok() && st.code() != StatusCode::kAborted && st.code() != StatusCode::kNotFound) {
      return st;
    }
  }
  // Staged data of images that are gone.
  ASSIGN_OR_RETURN(auto staged, import_->staging->List());
  for (const auto& id : staged) {
    auto image = repo_.Get(id);
    if (image.status().code() == StatusCode::kNotFound) (void)import_->staging->Remove(id);
  }
  return OkStatus();
}

Status ImageService::ReclaimFromSilentNodes(const std::vector<std::string>& nodes) {
  auto silent = [&](const Image& image, std::string_view property) -> std::optional<std::string> {
    auto it = image.properties.find(std::string(property));
    if (it == image.properties.end() || it->second == options_.node_id) return std::nullopt;
    if (std::find(nodes.begin(), nodes.end(), it->second) == nodes.end()) return std::nullopt;
    return it->second;
  };
  ASSIGN_OR_RETURN(auto images,
                   repo_.ListByStatus({ImageStatus::kSaving, ImageStatus::kUploading}));
  Status first_error;
  for (Image& image : images) {
    if (image.status == ImageStatus::kSaving) {
      auto node = silent(image, kUploadNode);
      if (!node) continue;
      if (auto it = image.properties.find(std::string(kUploadLocation));
          it != image.properties.end()) {
        store::Store* store = stores_.ForLocation(it->second);
        if (store && !store->info().node_local) {
          Status st = store->Delete(it->second);
          if (!st.ok() && st.code() != StatusCode::kNotFound) {
            // Tried again at the next check rather than forgotten with the image reset.
            spdlog::warn("image {}: cannot delete {} left by node {}: {}", image.id, it->second,
                         *node, st.ToString());
            if (first_error.ok()) first_error = st;
            continue;
          }
        }
      }
      spdlog::warn("image {}: its upload on node {} stopped (the node has been silent for two "
                   "leases); returning it to queued",
                   image.id, *node);
      image.status = ImageStatus::kQueued;
      ResetData(image);
      image.updated_at = clock_.Now();
      Status st = repo_.UpdateIfProperty(image, ImageStatus::kSaving, kUploadNode, *node);
      if (!st.ok() && st.code() != StatusCode::kAborted && st.code() != StatusCode::kNotFound &&
          first_error.ok()) {
        first_error = st;
      }
      continue;
    }
    // uploading: a stage in progress or staged data awaiting glance-direct (an import holds the
    // lock once it started; the task runner deals with those).
    if (image.properties.count(std::string(kImportTaskProperty))) continue;
    auto node = silent(image, kStageHostProperty);
    if (!node) continue;
    spdlog::warn("image {}: its staged data is on node {}, silent for two leases; returning it "
                 "to queued (stage it again, or resume on that node when it is back)",
                 image.id, *node);
    image.status = ImageStatus::kQueued;
    image.size.reset();
    image.updated_at = clock_.Now();
    Status st = repo_.UpdateIfProperty(image, ImageStatus::kUploading, kStageHostProperty, *node);
    if (!st.ok() && st.code() != StatusCode::kAborted && st.code() != StatusCode::kNotFound &&
        first_error.ok()) {
      first_error = st;
    }
  }
  return first_error;
}

}  // namespace glimmer::images
