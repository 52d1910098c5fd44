#pragma once
// The names stores give to image data (file names, RBD image names, S3 keys). They come from
// image ids and, read back from locations, from the database: untrusted text either way.

#include <cstddef>
#include <string_view>

namespace glimmer::store {

// [A-Za-z0-9._-]{1,max_length}, not starting with '.': safe as one path component, RBD image
// name or S3 key on every backend (no separators, no "." / "..", nothing to escape).
bool IsSafeDataName(std::string_view name, size_t max_length);

}  // namespace glimmer::store
