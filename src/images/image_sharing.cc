// ImageSharing: the members (sharing) operations.
#include "images/image_sharing.h"

#include <algorithm>

#include "images/internal/access.h"

namespace glimmer::images {
namespace {

using domain::Image;
using domain::ImageAction;
using domain::Member;
using domain::RequestContext;
using domain::Visibility;

Status RequireShared(const Image& image) {
  if (image.visibility != Visibility::kShared) {
    return PermissionDeniedError(
        "Only shared images have members. Make the image shared first: "
        "openstack image set --shared " + image.id);
  }
  return OkStatus();
}

bool IsOwnerOrAdmin(const RequestContext& ctx, const Image& image) {
  return ctx.IsAdmin() || (image.owner && *image.owner == ctx.project_id);
}

}  // namespace

ImageSharing::ImageSharing(const ImageEnv& env) : env_(env) {}

StatusOr<Member> ImageSharing::AddMember(const RequestContext& ctx, std::string_view id,
                                         std::string_view member_id) {
  return Add(ctx, id, member_id, domain::MemberStatus::kPending);
}

StatusOr<Member> ImageSharing::AddAcceptedMember(const RequestContext& ctx, std::string_view id,
                                                 std::string_view member_id) {
  return Add(ctx, id, member_id, domain::MemberStatus::kAccepted);
}

StatusOr<Member> ImageSharing::Add(const RequestContext& ctx, std::string_view id,
                                   std::string_view member_id, domain::MemberStatus status) {
  ASSIGN_OR_RETURN(auto loaded, internal::LoadVisible(env_, ctx, id));
  RETURN_IF_ERROR(internal::Authorize(env_, ImageAction::kAddMember, ctx, loaded));
  RETURN_IF_ERROR(RequireShared(loaded.image));
  if (member_id.empty() || member_id.size() > 255) {
    return InvalidArgumentError("Member id must be 1 to 255 characters long.");
  }
  ASSIGN_OR_RETURN(auto members, env_.repo.ListMembers(id));
  for (const auto& m : members) {
    if (m.member_id == member_id) {
      return AlreadyExistsError("Member " + std::string(member_id) +
                                " already associated with image " + std::string(id) + ".");
    }
  }
  if (env_.options.image_member_quota >= 0 &&
      static_cast<int>(members.size()) >= env_.options.image_member_quota) {
    return ResourceExhaustedError("Maximum number of image members exceeded (" +
                                  std::to_string(env_.options.image_member_quota) + ")");
  }
  Member m;
  m.image_id = std::string(id);
  m.member_id = std::string(member_id);
  m.status = status;
  m.created_at = m.updated_at = env_.clock.Now();
  Status st = env_.repo.AddMember(m);
  if (st.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("Member " + std::string(member_id) +
                              " already associated with image " + std::string(id) + ".");
  }
  RETURN_IF_ERROR(st);
  return m;
}

StatusOr<std::vector<Member>> ImageSharing::ListMembers(const RequestContext& ctx,
                                                        std::string_view id) {
  ASSIGN_OR_RETURN(auto loaded, internal::LoadVisible(env_, ctx, id));
  RETURN_IF_ERROR(RequireShared(loaded.image));
  RETURN_IF_ERROR(internal::Authorize(env_, ImageAction::kGetMembers, ctx, loaded));
  ASSIGN_OR_RETURN(auto members, env_.repo.ListMembers(id));
  if (!IsOwnerOrAdmin(ctx, loaded.image)) {
    std::erase_if(members, [&](const Member& m) { return m.member_id != ctx.project_id; });
  }
  return members;
}

StatusOr<Member> ImageSharing::GetMember(const RequestContext& ctx, std::string_view id,
                                         std::string_view member_id) {
  auto not_found = [&] {
    return NotFoundError("Member " + std::string(member_id) + " not found for image " +
                         std::string(id) + ".");
  };
  auto loaded = internal::LoadVisible(env_, ctx, id);
  if (!loaded.ok()) return loaded.status();
  if (loaded->image.visibility != Visibility::kShared) return not_found();
  if (!IsOwnerOrAdmin(ctx, loaded->image) && member_id != ctx.project_id) return not_found();
  if (!internal::Authorize(env_, ImageAction::kGetMember, ctx, *loaded).ok()) return not_found();
  ASSIGN_OR_RETURN(auto member, env_.repo.GetMember(id, member_id));
  if (!member) return not_found();
  return *member;
}

StatusOr<Member> ImageSharing::UpdateMember(const RequestContext& ctx, std::string_view id,
                                            std::string_view member_id,
                                            domain::MemberStatus status) {
  ASSIGN_OR_RETURN(auto loaded, internal::LoadVisible(env_, ctx, id));
  RETURN_IF_ERROR(RequireShared(loaded.image));
  domain::ImageTarget target{&loaded.image, loaded.caller_is_member};
  target.member_id = member_id;
  if (!env_.policy.Allowed(ImageAction::kModifyMember, ctx, target)) {
    if (IsOwnerOrAdmin(ctx, loaded.image) || member_id == ctx.project_id) {
      return PermissionDeniedError(
          "You are not permitted to modify 'status' on this image member.");
    }
    return NotFoundError("Member " + std::string(member_id) + " not found for image " +
                         std::string(id) + ".");
  }
  ASSIGN_OR_RETURN(auto member, env_.repo.GetMember(id, member_id));
  if (!member) {
    return NotFoundError("Member " + std::string(member_id) + " not found for image " +
                         std::string(id) + ".");
  }
  member->status = status;
  member->updated_at = env_.clock.Now();
  RETURN_IF_ERROR(env_.repo.UpdateMember(*member));
  return *member;
}

Status ImageSharing::RemoveMember(const RequestContext& ctx, std::string_view id,
                                  std::string_view member_id) {
  ASSIGN_OR_RETURN(auto loaded, internal::LoadVisible(env_, ctx, id));
  RETURN_IF_ERROR(internal::Authorize(env_, ImageAction::kDeleteMember, ctx, loaded));
  RETURN_IF_ERROR(RequireShared(loaded.image));
  ASSIGN_OR_RETURN(auto member, env_.repo.GetMember(id, member_id));
  if (!member) {
    return NotFoundError("Member " + std::string(member_id) + " not found for image " +
                         std::string(id) + ".");
  }
  return env_.repo.RemoveMember(id, member_id);
}

}  // namespace glimmer::images
