#include "store/names.h"

namespace glimmer::store {

bool IsSafeDataName(std::string_view name, size_t max_length) {
  if (name.empty() || name.size() > max_length || name[0] == '.') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace glimmer::store
