#pragma once
// Interoperable image import (glance-api.md §8): the typed request, the task input encoding,
// and the options of the import flow.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "webdownload/fetcher.h"

namespace glimmer::images {

inline constexpr std::string_view kImportTaskType = "api_image_import";
// Image properties of the import contract (rendered on the image, as Glance does).
inline constexpr std::string_view kImportTaskProperty = "os_glance_import_task";
inline constexpr std::string_view kImportingToStores = "os_glance_importing_to_stores";
inline constexpr std::string_view kFailedImport = "os_glance_failed_import";
// The node holding an image's staged data (Glance's name; Glance stores the worker's URL and
// proxies the import request to it, Glimmer stores the node id and pins the task to it).
inline constexpr std::string_view kStageHostProperty = "os_glance_stage_host";
// Hidden: the size, digests and stream inspection of a stage written in one go (PUT /stage
// from byte 0, completed), recorded with the staged size so that glance-direct need not read
// the file again. Removed whenever a stage starts; never set for a resumed stage.
inline constexpr std::string_view kStageDigestProperty = "os_glance_stage_digest";

// POST /v2/images/{id}/import, typed by the API layer (shape checked there).
struct ImportRequest {
  std::string method;  // glance-direct | web-download | copy-image | glance-download
  std::string uri;     // web-download
  std::string glance_image_id, glance_region, glance_service_interface;  // glance-download
  std::vector<std::string> stores;  // explicit target stores (may be empty)
  bool stores_given = false;        // the body had a `stores` key (even an empty list)
  bool all_stores = false;
  bool all_stores_must_succeed = true;
  // Decided by the service when the task is created (inject_image_metadata applies unless the
  // caller has one of inject_ignore_user_roles); recorded in the task input.
  bool inject_metadata = true;
};

// The task's `input` document, in Glance's shape:
// {"image_id": ..., "import_req": {"method": {...}, "stores": [...], ...}, "backend": [...]}.
std::string EncodeImportInput(std::string_view image_id, const ImportRequest& req,
                              const std::vector<std::string>& backends);
struct DecodedImportInput {
  std::string image_id;
  ImportRequest request;
  std::vector<std::string> backends;
};
StatusOr<DecodedImportInput> DecodeImportInput(std::string_view json);
std::string EncodeImportResult(std::string_view image_id);

// Web-download URLs may carry secrets: presigned S3 or Swift temp-URL signatures in the query,
// credentials in the userinfo. Only the task's own project sees them in the task input; task
// messages and logs never do.
// RedactUrl(): `url` without its userinfo, query and fragment ("https://h/p?sig=x" ->
// "https://h/p"). Text that is not an http(s) URL is returned unchanged.
std::string RedactUrl(std::string_view url);
// Every http:// or https:// URL in `text` (up to the next blank or quote) passed through
// RedactUrl.
std::string RedactUrlsIn(std::string_view text);
// A task input document (EncodeImportInput) with import_req.method.uri redacted; anything that
// does not parse is replaced by "{}".
std::string RedactImportInput(std::string_view input_json);

struct ImportOptions {
  // Methods users may call (Glance's enabled_import_methods).
  std::vector<std::string> enabled_methods = {"glance-direct", "web-download", "copy-image"};
  // Import plugins, in order (Glance's image_import_plugins): image_decompression,
  // inject_image_metadata, image_conversion, no_op.
  std::vector<std::string> plugins;
  // inject_image_metadata: properties to add, and roles whose users are exempt.
  std::vector<std::pair<std::string, std::string>> inject;
  std::vector<std::string> inject_ignore_user_roles = {"admin"};
  // web-download: URL filter, address policy, limits (max_bytes is the image size cap).
  webdownload::FetchOptions fetch;
  // A lock older than this (task not updated) may be taken over by a new import (Glance: 60 min).
  int64_t stale_lock_seconds = 3600;
  // glance-download: the image endpoint of each other region (e.g. "RegionTwo" ->
  // "https://glance.two.example:9292"), and the property-name prefixes copied from the remote
  // image (Glance's [glance_download_properties] extra_properties).
  std::map<std::string, std::string> glance_download_regions;
  std::vector<std::string> glance_download_properties = {"hw_", "trait:", "os_distro",
                                                         "os_secure_boot", "os_type"};
  int64_t task_time_to_live_seconds = 48 * 3600;
};

}  // namespace glimmer::images
