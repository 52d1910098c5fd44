#pragma once
// The one place where errno values from the filesystem store become Status codes:
//   ENOSPC, EDQUOT        -> ResourceExhausted "Image storage media is full" (Glance: 413)
//   EACCES, EPERM, EROFS  -> Unavailable (Glance's StorageWriteDenied: 503)
//   ENOENT                -> NotFound
//   anything else         -> Internal, with `operation` and strerror(err)
// Messages never contain absolute paths.

#include <string_view>

#include "common/status.h"

namespace glimmer::store::filesystem {

Status ErrnoToStatus(int err, std::string_view operation);

}  // namespace glimmer::store::filesystem
