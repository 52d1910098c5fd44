#pragma once
// The format check of data written to a store: the stored copy is inspected with Glimmer's
// native inspector (formats/), which walks every metadata table, and judged by AcceptFormat
// (format_acceptance.h, FormatUse::kUpload).

#include <cstdint>
#include <optional>

#include "common/status.h"
#include "domain/image.h"
#include "store/store.h"

namespace glimmer::images {

struct FormatCheckOptions {
  int64_t max_virtual_size = int64_t{1} << 44;  // 16 TiB
};

// The virtual size to record (nullopt: unknown / not applicable), or the rejection
// (UnsupportedMedia, 415).
StatusOr<std::optional<int64_t>> CheckStoredFormat(store::Reader& data,
                                                   const domain::Image& image,
                                                   const FormatCheckOptions& options);

}  // namespace glimmer::images
