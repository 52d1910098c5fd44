#include "domain/image.h"
#include "domain/task.h"

#include <array>
#include <utility>

namespace glimmer::domain {
namespace {

template <typename E, size_t N>
std::optional<E> Lookup(const std::array<std::pair<E, std::string_view>, N>& table,
                        std::string_view s) {
  for (const auto& [e, name] : table) {
    if (name == s) return e;
  }
  return std::nullopt;
}
template <typename E, size_t N>
std::string_view Name(const std::array<std::pair<E, std::string_view>, N>& table, E e) {
  for (const auto& [v, name] : table) {
    if (v == e) return name;
  }
  return "unknown";
}

constexpr std::array<std::pair<ImageStatus, std::string_view>, 9> kStatuses{{
    {ImageStatus::kQueued, "queued"},
    {ImageStatus::kSaving, "saving"},
    {ImageStatus::kActive, "active"},
    {ImageStatus::kKilled, "killed"},
    {ImageStatus::kDeleted, "deleted"},
    {ImageStatus::kPendingDelete, "pending_delete"},
    {ImageStatus::kDeactivated, "deactivated"},
    {ImageStatus::kUploading, "uploading"},
    {ImageStatus::kImporting, "importing"},
}};
constexpr std::array<std::pair<Visibility, std::string_view>, 4> kVisibilities{{
    {Visibility::kPublic, "public"},
    {Visibility::kPrivate, "private"},
    {Visibility::kShared, "shared"},
    {Visibility::kCommunity, "community"},
}};
constexpr std::array<std::pair<MemberStatus, std::string_view>, 3> kMemberStatuses{{
    {MemberStatus::kPending, "pending"},
    {MemberStatus::kAccepted, "accepted"},
    {MemberStatus::kRejected, "rejected"},
}};
constexpr std::array<std::pair<TaskStatus, std::string_view>, 4> kTaskStatuses{{
    {TaskStatus::kPending, "pending"},
    {TaskStatus::kProcessing, "processing"},
    {TaskStatus::kSuccess, "success"},
    {TaskStatus::kFailure, "failure"},
}};

}  // namespace

std::string_view ToString(ImageStatus s) { return Name(kStatuses, s); }
std::optional<ImageStatus> ParseImageStatus(std::string_view s) { return Lookup(kStatuses, s); }
std::string_view ToString(Visibility v) { return Name(kVisibilities, v); }
std::optional<Visibility> ParseVisibility(std::string_view s) { return Lookup(kVisibilities, s); }
std::string_view ToString(MemberStatus s) { return Name(kMemberStatuses, s); }
std::optional<MemberStatus> ParseMemberStatus(std::string_view s) {
  return Lookup(kMemberStatuses, s);
}

std::string_view ToString(TaskStatus s) { return Name(kTaskStatuses, s); }
std::optional<TaskStatus> ParseTaskStatus(std::string_view s) { return Lookup(kTaskStatuses, s); }

}  // namespace glimmer::domain
