#pragma once
// Successful responses of the API edge: a JSON document, or no body. (Errors: errors.h.)

#include <string>

#include <nlohmann/json.hpp>

#include "http/message.h"

namespace glimmer::api {

// `body` with Content-Type: application/json.
http::Response JsonTextResponse(int status, std::string body);

// `body` serialized compactly; invalid UTF-8 in a string (never expected: values come from
// validated input) is replaced rather than thrown on. Json: nlohmann::json or ordered_json (a
// braced list builds an ordered_json: keys in the order written, as Glance's documents).
template <typename Json = nlohmann::ordered_json>
http::Response JsonResponse(int status, const Json& body) {
  return JsonTextResponse(status, body.dump(-1, ' ', false, Json::error_handler_t::replace));
}

// A status without a body (204, or v1's 200 for DELETE).
http::Response EmptyResponse(int status);

}  // namespace glimmer::api
