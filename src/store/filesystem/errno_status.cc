#include "store/filesystem/errno_status.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace glimmer::store::filesystem {

Status ErrnoToStatus(int err, std::string_view operation) {
  char buf[256];
  // GNU strerror_r: returns a pointer to the message (thread-safe, unlike strerror).
  const std::string detail = std::string(operation) + ": " + strerror_r(err, buf, sizeof buf);
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return ResourceExhaustedError("Image storage media is full");
    case EACCES:
    case EPERM:
    case EROFS:
      return UnavailableError("Insufficient permissions on image storage media (" + detail + ")");
    case ENOENT:
      return NotFoundError(detail);
    default:
      return InternalError(detail);
  }
}

}  // namespace glimmer::store::filesystem
