#pragma once
// Shared by the identity service's source files: record ids and name rules.

#include <cctype>
#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace glimmer::identity::internal {

inline constexpr size_t kIdBytes = 16;  // ids are 32 lowercase hex chars
inline constexpr size_t kMaxNameLength = 255;

inline std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

inline bool IsNotFound(const Status& s) { return s.code() == StatusCode::kNotFound; }

// Keystone's rule for project, user, group and role names.
inline Status ValidateName(std::string_view name, std::string_view what) {
  if (name.empty()) return InvalidArgumentError(std::string(what) + " name must not be empty");
  if (name.size() > kMaxNameLength) {
    return InvalidArgumentError(std::string(what) + " name is longer than 255 characters");
  }
  return OkStatus();
}

}  // namespace glimmer::identity::internal
