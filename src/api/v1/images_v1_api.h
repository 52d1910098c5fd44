#pragma once
// The Images API v1 (/v1/images…, /v1/shared-images/…), as python-glanceclient 4.1 speaks it
// (../shared/reference/images-v1.md): metadata in x-image-meta-* headers, data as the body,
// v1's JSON and status codes. A thin layer: every call goes through the same ImageRecords,
// ImageData and ImageSharing as v2, so both APIs always agree about every image, and the same
// policy, quotas, format checks and crash safety apply.
//
// Ownership: borrows the image components. Thread-safety: Handle() may be called concurrently.

#include <string>
#include <vector>

#include "api/images/images_api.h"
#include "domain/context.h"
#include "http/message.h"

namespace glimmer::api::v1 {

struct ImagesV1ApiOptions {
  images::ListLimits limits;
  std::vector<std::string> disk_formats;       // the configured ones
  std::vector<std::string> container_formats;  // the configured ones
  size_t max_json_body_bytes = 1 << 20;
};

class ImagesV1Api {
 public:
  ImagesV1Api(images::ImageComponents services, ImagesV1ApiOptions options);

  // `segments` are the path segments after the version prefix ("images", "<id>", ...).
  http::Response Handle(http::Request& req, const domain::RequestContext& ctx,
                        const std::vector<std::string>& segments);

 private:
  http::Response List(http::Request& req, const domain::RequestContext& ctx, bool detail);
  http::Response Create(http::Request& req, const domain::RequestContext& ctx);
  http::Response Meta(http::Request& req, const domain::RequestContext& ctx,
                      const std::string& id);
  http::Response Show(http::Request& req, const domain::RequestContext& ctx,
                      const std::string& id);
  http::Response Update(http::Request& req, const domain::RequestContext& ctx,
                        const std::string& id);
  http::Response Delete(http::Request& req, const domain::RequestContext& ctx,
                        const std::string& id);
  http::Response Members(http::Request& req, const domain::RequestContext& ctx,
                         const std::vector<std::string>& segments);
  http::Response SharedImages(http::Request& req, const domain::RequestContext& ctx,
                              const std::string& tenant);

  images::ImageComponents services_;
  ImagesV1ApiOptions options_;
};

}  // namespace glimmer::api::v1
