#pragma once
// Change detection: what loading one catalog entry does to the provider's images. Pure
// functions over values (no I/O), so every decision is unit-tested.
//
// Rules (docs/catalog.md, "Re-running a catalog"):
//   - no visible image of the provider has the entry's name      -> kCreate
//   - the image has no data (an interrupted load left it queued)  -> kReplace, discard_current
//   - the source's sha512 differs from the image's os_hash_value,
//     or disk_format / container_format differ (Glance forbids
//     changing them on an active image)                           -> kReplace (retire the old one)
//   - otherwise the metadata differences as patch operations      -> kUpdate, or kUnchanged when
//                                                                     there are none (no write)
// The catalog is authoritative for what it manages: visibility (public), min_disk, min_ram,
// tags and custom properties (properties missing from the entry are removed, except the
// service's own os_glance_* ones).

#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "domain/image.h"
#include "domain/image_changes.h"

namespace glimmer::catalog {

struct EntryPlan {
  enum class Kind { kCreate, kUpdate, kUnchanged, kReplace };
  Kind kind = Kind::kCreate;
  std::vector<domain::PatchStep> ops;  // kUpdate: the patch for the current image
  std::string reason;                // kReplace: why ("the image bytes changed", ...)
  bool discard_current = false;      // kReplace: delete the current image instead of retiring it
};

// `current`: the provider's visible image named entry.name, or null. `source_sha512`: the
// lowercase hex sha512 of the entry's source bytes.
EntryPlan PlanEntry(const Entry& entry, const domain::Image* current,
                    std::string_view source_sha512);

// What ImageRecords::Create sets for a public image for `entry`.
domain::ImageChanges CreateFields(const Entry& entry);

// The patch that retires a replaced image: renamed "NAME (YYYY-MM-DD)" after its creation date
// (UTC) and hidden from default listings (os_hidden), so that its id keeps working.
std::vector<domain::PatchStep> RetireOps(const domain::Image& old);

// "NAME (YYYY-MM-DD)".
std::string RetiredName(std::string_view name, UnixMicros created_at);

}  // namespace glimmer::catalog
