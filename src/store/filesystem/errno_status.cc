#include "store/filesystem/errno_status.h"

#include "platform/file.h"

namespace glimmer::store::filesystem {

Status StoreError(const Status& file_status) {
  if (file_status.code() == StatusCode::kResourceExhausted) {
    return ResourceExhaustedError("Image storage media is full");
  }
  return file_status;
}

Status ErrnoToStatus(int err, std::string_view operation) {
  return StoreError(platform::PosixError(operation, err));
}

}  // namespace glimmer::store::filesystem
