#include "images/internal/locations.h"

#include <algorithm>
#include <cstdint>

namespace glimmer::images::internal {

void SortLocations(const StoreSet& stores, domain::Image& image) {
  if (!stores.multistore || image.locations.size() < 2) return;
  auto weight = [&](const domain::Location& loc) -> int64_t {
    const store::Store* s = stores.ById(loc.store_id);
    return s ? s->info().weight : 0;
  };
  std::stable_sort(
      image.locations.begin(), image.locations.end(),
      [&](const domain::Location& a, const domain::Location& b) { return weight(a) > weight(b); });
}

std::string LocationMetadata(const StoreSet& stores, const store::Store& store) {
  if (!stores.multistore) return "{}";
  return "{\"store\": \"" + store.info().id + "\"}";
}

}  // namespace glimmer::images::internal
