#pragma once
// The top of the HTTP API: version discovery, the embedded identity endpoint, authentication,
// and dispatch of /v2[.N]/… to the Images API (and of /v1/… to the Images API v1). This is the http::Handler the server runs.
//
// Ownership: borrows everything it is given. Thread-safety: Handle() may be called concurrently.

#include <optional>
#include <string>

#include "api/identity/identity_api.h"
#include "api/images/images_api.h"
#include "api/metadefs/metadefs_api.h"
#include "api/v1/images_v1_api.h"
#include "http/message.h"
#include "identity/identity_service.h"

namespace glimmer::api {

struct RouterOptions {
  // Base URL for links in the versions document; empty = derived from the request.
  std::string public_endpoint;
  // oslo.middleware's disable_by_file backend: /healthcheck answers 503 while this file exists.
  std::string healthcheck_disable_file;
  // enable_v1_api: /v1 served and listed in the versions document; off, /v1 is an unknown
  // version (300 with the versions document).
  bool enable_v1_api = true;
};

class Router {
 public:
  Router(glimmer::identity::IdentityService& identity, identity::IdentityApi& identity_api,
         images::ImagesApi& images_api, metadefs::MetadefsApi& metadefs_api,
         v1::ImagesV1Api& images_v1_api, RouterOptions options);

  http::Response Handle(http::Request& req);
  // Requests answered without a worker, on the network thread: /healthcheck (oslo.middleware's
  // shape: 200 "OK", HEAD 204, 503 "DISABLED BY FILE"). Cheap and non-blocking; nullopt for
  // everything else.
  std::optional<http::Response> HandleInline(const http::Request& req) const;

 private:
  http::Response Versions(const http::Request& req, int status) const;

  glimmer::identity::IdentityService& identity_;
  identity::IdentityApi& identity_api_;
  images::ImagesApi& images_api_;
  metadefs::MetadefsApi& metadefs_api_;
  v1::ImagesV1Api& images_v1_api_;
  RouterOptions options_;
};

}  // namespace glimmer::api
