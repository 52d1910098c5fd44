#include "api/responses.h"

#include <utility>

namespace glimmer::api {

http::Response JsonTextResponse(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

http::Response EmptyResponse(int status) {
  http::Response r;
  r.status = status;
  return r;
}

}  // namespace glimmer::api
