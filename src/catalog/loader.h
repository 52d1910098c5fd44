#pragma once
// Loads a provider catalog into the image service: registers each entry as a public image
// owned by the provider project, through the same ImageRecords/ImageData calls as the API (so the same
// rules and the normal upload data path apply), and on re-runs applies only what changed
// (see plan.h for the rules).
//
// Ownership: borrows the services and the fetcher, which must outlive the loader.
// Thread-safety: one Load at a time per loader.
// Errors: Load itself fails only when the provider project cannot be found/created or the
// provider's images cannot be listed; per-entry failures are reported in EntryResult (an entry
// that fails leaves no new image behind).

#include <functional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/fetch.h"
#include "catalog/plan.h"
#include "common/status.h"
#include "domain/context.h"
#include "domain/image.h"

namespace glimmer::identity {
class IdentityService;
}
namespace glimmer::images {
class ImageData;
class ImageRecords;
}

namespace glimmer::catalog {

struct LoadOptions {
  std::string provider_project_name = "provider";
  // Plan only: sources are still fetched and hashed (to detect changed bytes), nothing is
  // written and a missing provider project is not created.
  bool dry_run = false;
};

struct EntryResult {
  enum class Kind { kCreated, kUpdated, kUnchanged, kReplaced, kFailed };
  Kind kind = Kind::kFailed;
  std::string name;
  std::string image_id;      // the image now registered under the name ("" if failed/dry run)
  std::string old_image_id;  // kReplaced: the retired (or discarded) image
  std::string detail;        // kUpdated: changed fields; kReplaced: reason; kFailed: error
};

struct LoadReport {
  std::string provider_project_id;  // "" in a dry run when the project does not exist yet
  bool created_provider_project = false;
  std::vector<EntryResult> entries;  // in catalog order
  // The provider's visible images whose name is not in the catalog (left untouched).
  std::vector<domain::Image> not_in_catalog;
  bool ok() const;
};

std::string_view ToString(EntryResult::Kind kind);  // "created", "updated", ...

class CatalogLoader {
 public:
  CatalogLoader(identity::IdentityService& identity, images::ImageRecords& records,
                images::ImageData& data, SourceFetcher& fetcher);

  // `on_entry` is called after each entry (for progress output); may be empty.
  StatusOr<LoadReport> Load(const Catalog& catalog, const LoadOptions& options,
                            const std::function<void(const EntryResult&)>& on_entry = {});

 private:
  StatusOr<std::vector<domain::Image>> ListProviderImages(const domain::RequestContext& ctx,
                                                          const std::string& provider_id);
  EntryResult LoadEntry(const domain::RequestContext& ctx, const Entry& entry,
                        const std::vector<const domain::Image*>& current, bool dry_run);
  // Creates the image for `entry` (optionally hidden) and uploads `bytes`; deletes it on failure.
  StatusOr<domain::Image> CreateAndUpload(const domain::RequestContext& ctx, const Entry& entry,
                                          const FetchedSource& bytes, bool hidden);

  identity::IdentityService& identity_;
  images::ImageRecords& records_;
  images::ImageData& data_;
  SourceFetcher& fetcher_;
};

// The context the loader acts with: admin, scoped to the provider project.
domain::RequestContext ProviderContext(const std::string& project_id,
                                       const std::string& project_name);

}  // namespace glimmer::catalog
