#pragma once
// ImageSharing: the members of shared images (glance-api.md §5). Only `shared` images have
// members; new members are pending; only the member's project may accept or reject; only the
// owner adds or removes.
//
// Thread-safety: all methods may be called concurrently.

#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/context.h"
#include "domain/image.h"
#include "images/image_env.h"

namespace glimmer::images {

class ImageSharing {
 public:
  // Borrows `env`.
  explicit ImageSharing(const ImageEnv& env);

  StatusOr<domain::Member> AddMember(const domain::RequestContext& ctx, std::string_view id,
                                     std::string_view member_id);
  // Images API v1's member: v1 had no member status and showed every shared image to its
  // members (member_status 'all'), so its members are added already accepted. The same rules
  // as AddMember otherwise (owner or admin, shared images only, member quota).
  StatusOr<domain::Member> AddAcceptedMember(const domain::RequestContext& ctx,
                                             std::string_view id, std::string_view member_id);
  // The owner (or admin) sees every member; a member sees only its own row.
  StatusOr<std::vector<domain::Member>> ListMembers(const domain::RequestContext& ctx,
                                                    std::string_view id);
  // Every denial is NotFound, as in Glance.
  StatusOr<domain::Member> GetMember(const domain::RequestContext& ctx, std::string_view id,
                                     std::string_view member_id);
  StatusOr<domain::Member> UpdateMember(const domain::RequestContext& ctx, std::string_view id,
                                        std::string_view member_id, domain::MemberStatus status);
  Status RemoveMember(const domain::RequestContext& ctx, std::string_view id,
                      std::string_view member_id);

 private:
  StatusOr<domain::Member> Add(const domain::RequestContext& ctx, std::string_view id,
                               std::string_view member_id, domain::MemberStatus status);

  const ImageEnv& env_;
};

}  // namespace glimmer::images
