#include "images/internal/stream_options.h"

namespace glimmer::images::internal {

StreamToStore::Options StreamOptionsFor(const ServiceOptions& options, int64_t max_bytes,
                                        std::optional<int64_t> size_hint) {
  StreamToStore::Options o;
  o.buffer_size = options.upload_buffer_size;
  o.max_bytes = max_bytes;
  o.image_size_cap = options.image_size_cap;
  o.size_hint = size_hint;
  o.budget = options.upload_budget;
  return o;
}

}  // namespace glimmer::images::internal
