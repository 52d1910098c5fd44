#pragma once
// The image record as Glimmer's domain sees it: plain values, no JSON, no SQL.
// Field meanings and defaults follow Glance (docs: ../shared/reference/glance-api.md §3).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"

namespace glimmer::domain {

enum class ImageStatus {
  kQueued,
  kSaving,
  kActive,
  kKilled,
  kDeleted,
  kPendingDelete,
  kDeactivated,
  kUploading,
  kImporting,
};
std::string_view ToString(ImageStatus s);
std::optional<ImageStatus> ParseImageStatus(std::string_view s);

enum class Visibility { kPublic, kPrivate, kShared, kCommunity };
std::string_view ToString(Visibility v);
std::optional<Visibility> ParseVisibility(std::string_view s);

enum class MemberStatus { kPending, kAccepted, kRejected };
std::string_view ToString(MemberStatus s);
std::optional<MemberStatus> ParseMemberStatus(std::string_view s);

// Where an image's bytes live: one entry per store holding a copy.
struct Location {
  std::string store_id;  // e.g. "file" (the default store's id)
  std::string url;       // store-specific URI, e.g. file:///var/lib/glimmer/images/<id>
  std::string metadata_json = "{}";  // opaque store metadata, rendered as-is
};

struct Image {
  std::string id;  // lowercase hyphenated UUID
  std::optional<std::string> name;
  ImageStatus status = ImageStatus::kQueued;
  Visibility visibility = Visibility::kShared;
  bool is_protected = false;
  bool os_hidden = false;
  std::optional<std::string> checksum;       // md5 hex
  std::optional<std::string> os_hash_algo;   // "sha512"
  std::optional<std::string> os_hash_value;  // hex
  std::optional<std::string> owner;          // project id
  std::optional<int64_t> size;
  std::optional<int64_t> virtual_size;
  std::optional<std::string> container_format;
  std::optional<std::string> disk_format;
  int64_t min_disk = 0;  // GiB
  int64_t min_ram = 0;   // MiB
  std::vector<std::string> tags;                  // set semantics, kept sorted
  std::map<std::string, std::string> properties;  // custom properties (includes os_glance_*)
  std::vector<Location> locations;
  UnixMicros created_at = 0;
  UnixMicros updated_at = 0;
};

struct Member {
  std::string image_id;
  std::string member_id;  // project id
  MemberStatus status = MemberStatus::kPending;
  UnixMicros created_at = 0;
  UnixMicros updated_at = 0;
};

}  // namespace glimmer::domain
