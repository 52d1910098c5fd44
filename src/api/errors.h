#pragma once
// Error responses shaped exactly like Glance's (webob.exc.WSGIHTTPException), and the ONE mapping
// from glimmer::Status to HTTP status codes.
//
// Format negotiation follows webob: the offers are text/html and application/json, ranked by the
// q-value of the most specific matching Accept range (ties go to text/html); a missing or empty
// Accept header matches nothing and yields text/plain; an unparsable Accept header accepts
// everything and yields text/html.
//   HTML  : "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n"
//           "  <h1>404 Not Found</h1>\n  EXPLANATION<br /><br />\nDETAIL\n\n </body>\n</html>"
//           (explanation and detail HTML-escaped)
//   JSON  : {"message": "EXPLANATION<br /><br />\nDETAIL\n\n", "code": "404 Not Found",
//            "title": "Not Found"}  (Python json.dumps formatting, non-ASCII as \uXXXX)
//   plain : "404 Not Found\n\n" + the body with tags stripped (webob strip_tags)
// 405, 406, 415 and 501 use webob's own body templates, which ignore the explanation and embed
// the request method / Accept / Content-Type; for those the explanation passed here becomes
// webob's `detail` (which is what Glance passes).
//
// All functions are pure and thread-safe.

#include <string>
#include <string_view>

#include "common/status.h"
#include "http/message.h"

namespace glimmer::api {

// webob's reason phrase ("Not Found", "Request Entity Too Large", "Request Range Not
// Satisfiable", ...); "Unknown Status" for codes webob does not know.
std::string_view ReasonPhrase(int status);

// webob's default explanation for `status` (used when the explanation is empty).
std::string_view DefaultExplanation(int status);

// A Glance-shaped error. An empty `explanation` means webob's default for the status.
http::Response ErrorResponse(int status, std::string_view explanation, const http::Request& req);

// As above with webob's `detail` (a second paragraph after the explanation).
http::Response ErrorResponse(int status, std::string_view explanation, std::string_view detail,
                             const http::Request& req);

// 405 with `Allow: <allow>` (e.g. "GET" or "GET, POST"). With an empty explanation the body is
// webob's "The method X is not allowed for this resource."; with one, the body is exactly the
// explanation (Glance's DELETE /v2/tasks/{id} uses body_template='${explanation}').
http::Response MethodNotAllowedResponse(std::string_view allow, const http::Request& req,
                                        std::string_view explanation = {});

// 401 with `WWW-Authenticate: Keystone uri="<auth_uri>"` (header omitted when auth_uri is empty).
http::Response UnauthorizedResponse(std::string_view auth_uri, const http::Request& req,
                                    std::string_view explanation = {});

// The one Status → HTTP mapping: InvalidArgument 400, Unauthenticated 401, PermissionDenied 403,
// NotFound 404, AlreadyExists/FailedPrecondition/Aborted 409, Gone 410, ResourceExhausted 413,
// UnsupportedMedia 415, OutOfRange 416, Unimplemented 501, Unavailable 503, everything else 500.
int HttpStatusFor(StatusCode code);

// Error response for a non-OK status. The status message becomes the explanation, except for
// 500s, which always carry webob's generic text so internals never leak (log the status
// yourself). For 401 the WWW-Authenticate header uses `auth_uri` when given.
http::Response ErrorFromStatus(const Status& status, const http::Request& req,
                               std::string_view auth_uri = {});

}  // namespace glimmer::api
