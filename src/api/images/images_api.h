#pragma once
// The Images v2 HTTP endpoints: /v2/images…, /v2/stores/…, /v2/schemas/…, /v2/info/…. Parses
// requests into the image service's types, renders results as Glance does, maps Status to
// Glance's error shape.
//
// Ownership: borrows the image components. Thread-safety: Handle() may be called concurrently.

#include <string>
#include <vector>

#include "api/images/image_json.h"
#include "api/images/list_params.h"
#include "api/schemas.h"
#include "domain/context.h"
#include "http/message.h"
#include "images/image_data.h"
#include "images/image_records.h"
#include "images/image_sharing.h"
#include "images/import_coordinator.h"

namespace glimmer::api::images {

// The image components the endpoints call (all borrowed).
struct ImageComponents {
  glimmer::images::ImageRecords& records;     // /v2/images, tags, actions, /v2/info/usage
  glimmer::images::ImageData& data;           // /file, /v2/stores, /v2/info/stores
  glimmer::images::ImageSharing& sharing;     // /members
  glimmer::images::ImportCoordinator& imports;  // /stage, /import, tasks, /v2/info/import
};

struct ImagesApiOptions {
  RenderOptions render;
  ListLimits limits;
  SchemaOptions schemas;
  size_t max_json_body_bytes = 1 << 20;
};

class ImagesApi {
 public:
  ImagesApi(ImageComponents services, ImagesApiOptions options);

  // `segments` are the path segments after the version prefix ("images", "<id>", ...).
  http::Response Handle(http::Request& req, const domain::RequestContext& ctx,
                        const std::vector<std::string>& segments);

 private:
  http::Response List(http::Request& req, const domain::RequestContext& ctx);
  http::Response Create(http::Request& req, const domain::RequestContext& ctx);
  http::Response Show(http::Request& req, const domain::RequestContext& ctx,
                      const std::string& id);
  http::Response Patch(http::Request& req, const domain::RequestContext& ctx,
                       const std::string& id);
  http::Response Delete(http::Request& req, const domain::RequestContext& ctx,
                        const std::string& id);
  http::Response Upload(http::Request& req, const domain::RequestContext& ctx,
                        const std::string& id);
  http::Response Download(http::Request& req, const domain::RequestContext& ctx,
                          const std::string& id);
  http::Response Stage(http::Request& req, const domain::RequestContext& ctx,
                       const std::string& id);
  http::Response StageOffset(http::Request& req, const domain::RequestContext& ctx,
                             const std::string& id);
  http::Response Import(http::Request& req, const domain::RequestContext& ctx,
                        const std::string& id);
  http::Response Tasks(http::Request& req, const domain::RequestContext& ctx,
                       const std::vector<std::string>& segments);
  http::Response Members(http::Request& req, const domain::RequestContext& ctx,
                         const std::vector<std::string>& segments);
  http::Response Schema(http::Request& req, const std::vector<std::string>& segments);
  http::Response Info(http::Request& req, const domain::RequestContext& ctx,
                      const std::vector<std::string>& segments);
  http::Response DeleteFromStore(http::Request& req, const domain::RequestContext& ctx,
                                 const std::string& store_id, const std::string& image_id);

  ImageComponents services_;
  ImagesApiOptions options_;
};

}  // namespace glimmer::api::images
