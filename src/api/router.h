#pragma once
// The top of the HTTP API: version discovery, the embedded identity endpoint, authentication,
// and dispatch of /v2[.N]/… to the Images API. This is the http::Handler the server runs.
//
// Ownership: borrows everything it is given. Thread-safety: Handle() may be called concurrently.

#include <string>

#include "api/identity/identity_api.h"
#include "api/images/images_api.h"
#include "http/message.h"
#include "identity/identity_service.h"

namespace glimmer::api {

struct RouterOptions {
  // Base URL for links in the versions document; empty = derived from the request.
  std::string public_endpoint;
};

class Router {
 public:
  Router(glimmer::identity::IdentityService& identity, identity::IdentityApi& identity_api,
         images::ImagesApi& images_api, RouterOptions options);

  http::Response Handle(http::Request& req);

 private:
  http::Response Versions(const http::Request& req, int status) const;

  glimmer::identity::IdentityService& identity_;
  identity::IdentityApi& identity_api_;
  images::ImagesApi& images_api_;
  RouterOptions options_;
};

}  // namespace glimmer::api
