#pragma once
// The one place where librados/librbd return codes (negative errno values) become Status codes:
//   ENOSPC, EDQUOT          -> ResourceExhausted "Image storage media is full" (Glance: 413)
//   ETIMEDOUT, ENOTCONN, ECONNREFUSED, ECONNRESET, ECONNABORTED, EHOSTUNREACH, ENETUNREACH,
//   ENETDOWN, EPIPE, ESHUTDOWN (Ceph's EBLOCKLISTED), EAGAIN, EBUSY,
//   EACCES, EPERM, EROFS    -> Unavailable (Glance: 503)
//   ENOENT                  -> NotFound
//   EEXIST                  -> AlreadyExists
//   anything else           -> Internal
// The message is "<operation>: <strerror>". Callers that give EBUSY/ENOTEMPTY a meaning of their
// own (Delete) handle them before calling this.

#include <string_view>

#include "common/status.h"

namespace glimmer::store::rbd {

// `r` is a librados/librbd return value (negative errno); positive values are accepted too.
Status RbdErrorToStatus(int r, std::string_view operation);

}  // namespace glimmer::store::rbd
