#pragma once
// What the image components share: the repository, the stores, the policy, the hashing pool, the
// clock and the service options. Built once by the wiring (or a test) and borrowed by
// ImageRecords, ImageData, ImageSharing, ImportCoordinator and ImportHandler, which must not
// outlive it. Nothing in it changes after construction, so it may be read from any thread.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "db/image_repository.h"
#include "domain/policy.h"
#include "domain/quota.h"
#include "platform/clock.h"
#include "platform/executor.h"
#include "platform/memory_budget.h"
#include "policy/property_protections.h"
#include "store/store.h"

namespace glimmer::images {

struct ServiceOptions {
  int64_t image_size_cap = 1099511627776;
  int image_property_quota = 128;
  int image_tag_quota = 128;
  int image_member_quota = 128;
  domain::QuotaLimits quotas;  // per-project limits (unlimited by default)
  // Property protections (Glance's property_protection_file); null = none. Not owned.
  const policy::PropertyProtections* property_protections = nullptr;
  size_t upload_buffer_size = 4 << 20;  // x3 buffers in flight per upload
  // Process-wide bound on the memory of those buffers (borrowed; null = none): see
  // store::HashingPipeline::Options::budget.
  platform::MemoryBudget* upload_budget = nullptr;
  int64_t max_virtual_size = int64_t{1} << 44;  // images declaring more are refused (16 TiB)
  // This node's id among the nodes sharing the database. Uploads and stages in progress are
  // marked with it (os_glance_upload_node, os_glance_stage_host), so that a node's crash
  // recovery only resets its own, and a glance-direct import runs on the node holding the
  // staged data.
  std::string node_id;
};

// The stores the service writes to and reads from, in configuration order (enabled_backends);
// the default store is the one whose info().is_default is set (else the first).
struct StoreSet {
  std::vector<store::Store*> stores;
  bool multistore = false;  // several named stores configured (enabled_backends)
  store::Store* Default() const {
    for (auto* s : stores) {
      if (s->info().is_default) return s;
    }
    return stores.empty() ? nullptr : stores.front();
  }
  store::Store* ById(std::string_view id) const {
    for (auto* s : stores) {
      if (s->info().id == id) return s;
    }
    return nullptr;
  }
  store::Store* ForLocation(std::string_view url) const {
    for (auto* s : stores) {
      if (s->Owns(url)) return s;
    }
    return nullptr;
  }
};

// Fills a buffer from a request body or another source; 0 = end.
using ReadFn = std::function<StatusOr<size_t>(std::span<std::byte>)>;

// The shared state, borrowed (repo, policy, hash_pool, clock) or held (stores, options).
struct ImageEnv {
  db::ImageRepository& repo;
  StoreSet stores;
  const domain::Policy& policy;
  platform::Executor& hash_pool;  // the two digests of every upload, stage and import
  const platform::Clock& clock;
  ServiceOptions options;
};

}  // namespace glimmer::images
