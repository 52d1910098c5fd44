#pragma once
// How the filesystem store reports a failed file operation. errno itself is mapped once, by
// platform::PosixError() (platform/file.h):
//   ENOSPC, EDQUOT        -> ResourceExhausted, which the store words as Glance does:
//                            "Image storage media is full" (Glance: 413)
//   EACCES, EPERM, EROFS  -> Unavailable (Glance's StorageWriteDenied: 503)
//   ENOENT                -> NotFound
//   EIO, anything else    -> Internal, "<operation>: <strerror>"
// Messages never contain absolute paths.

#include <string_view>

#include "common/status.h"

namespace glimmer::store::filesystem {

// `file_status` (from platform/file.h) as the store reports it: a full disk or quota becomes
// "Image storage media is full"; anything else is returned unchanged. OK stays OK.
Status StoreError(const Status& file_status);

// StoreError(platform::PosixError(operation, err)).
Status ErrnoToStatus(int err, std::string_view operation);

}  // namespace glimmer::store::filesystem
