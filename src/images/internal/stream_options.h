#pragma once
// StreamToStore's options for the service's uploads, stages and imports.

#include <cstdint>
#include <optional>

#include "images/image_env.h"
#include "images/stream_to_store.h"

namespace glimmer::images::internal {

// For a stream of at most `max_bytes` (image_size_cap or less): the configured buffer size and
// memory budget, the size cap, and the declared size if any.
StreamToStore::Options StreamOptionsFor(const ServiceOptions& options, int64_t max_bytes,
                                        std::optional<int64_t> size_hint);

}  // namespace glimmer::images::internal
