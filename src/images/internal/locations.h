#pragma once
// Where an image's copies are read from and what is recorded with a new one.

#include <string>

#include "domain/image.h"
#include "images/image_env.h"
#include "store/store.h"

namespace glimmer::images::internal {

// With several stores: orders `image`'s locations by decreasing store weight, keeping the
// recorded order among equals (Glance sorts them so whenever it loads an image).
void SortLocations(const StoreSet& stores, domain::Image& image);

// The location metadata Glance records with a copy: {"store": "<id>"} with several stores,
// else "{}".
std::string LocationMetadata(const StoreSet& stores, const store::Store& store);

}  // namespace glimmer::images::internal
