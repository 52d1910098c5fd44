#include "store/rbd/rbd_errors.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace glimmer::store::rbd {

Status RbdErrorToStatus(int r, std::string_view operation) {
  const int err = r < 0 ? -r : r;
  std::string message(operation);
  message += ": ";
  message += std::strerror(err);
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return ResourceExhaustedError("Image storage media is full (" + message + ")");
    case ETIMEDOUT:
    case ENOTCONN:
    case ECONNREFUSED:
    case ECONNRESET:
    case ECONNABORTED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ENETDOWN:
    case EPIPE:
    case ESHUTDOWN:  // Ceph's EBLOCKLISTED: this client was fenced off
    case EAGAIN:
    case EBUSY:
    case EACCES:
    case EPERM:
    case EROFS:
      return UnavailableError(message);
    case ENOENT:
      return NotFoundError(message);
    case EEXIST:
      return AlreadyExistsError(message);
    default:
      return InternalError(message);
  }
}

}  // namespace glimmer::store::rbd
