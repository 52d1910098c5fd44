#pragma once
// Glance's format rule for data written to a store (glance-api.md §11.3), applied with
// Glimmer's native inspector (formats/), which walks every metadata table:
//   - container_format other than bare: not inspected;
//   - detected == disk_format: accepted if safe; virtual_size = the format's virtual size;
//   - disk_format ami/aki/ari/ploop and detected raw: accepted (not inspectable);
//   - disk_format raw, detected another format: accepted if that format is safe (Glance's
//     compatibility rule), virtual_size = byte count;
//   - disk_format iso and detected gpt (hybrid ISO): treated as iso;
//   - any other mismatch or a failed safety check: UnsupportedMedia (415) naming the check.

#include <cstdint>
#include <optional>

#include "common/status.h"
#include "domain/image.h"
#include "store/store.h"

namespace glimmer::images {

struct FormatCheckOptions {
  int64_t max_virtual_size = int64_t{1} << 44;  // 16 TiB
};

// The virtual size to record (nullopt: unknown / not applicable), or the rejection.
StatusOr<std::optional<int64_t>> CheckStoredFormat(store::Reader& data,
                                                   const domain::Image& image,
                                                   const FormatCheckOptions& options);

}  // namespace glimmer::images
