#pragma once
// The metadata-definition endpoints, /v2/metadefs/... (Glance 25 glance/api/v2/router.py; table
// in docs/design/api-surface.md §3.1): parses requests into the metadef service's types, renders
// results as Glance does (with `self` and `schema` links), maps Status to Glance's error shape.
// Every other method on a known path is 405 with Allow.
//
// Ownership: borrows the service. Thread-safety: Handle() may be called concurrently.

#include <string>
#include <vector>

#include "api/images/list_params.h"
#include "domain/context.h"
#include "http/message.h"
#include "metadefs/metadef_service.h"

namespace glimmer::api::metadefs {

struct MetadefsApiOptions {
  images::ListLimits limits;  // limit_param_default, api_limit_max
  size_t max_json_body_bytes = 1 << 20;
};

class MetadefsApi {
 public:
  MetadefsApi(glimmer::metadefs::MetadefService& service, MetadefsApiOptions options);

  // `segments` are the path segments after the version prefix, starting with "metadefs".
  http::Response Handle(http::Request& req, const domain::RequestContext& ctx,
                        const std::vector<std::string>& segments);

 private:
  http::Response Namespaces(http::Request& req, const domain::RequestContext& ctx);
  http::Response Namespace(http::Request& req, const domain::RequestContext& ctx,
                           const std::string& ns);
  http::Response Collection(http::Request& req, const domain::RequestContext& ctx,
                            const std::string& ns, const std::string& kind);
  http::Response Element(http::Request& req, const domain::RequestContext& ctx,
                         const std::string& ns, const std::string& kind,
                         const std::string& name);

  glimmer::metadefs::MetadefService& service_;
  MetadefsApiOptions options_;
};

}  // namespace glimmer::api::metadefs
