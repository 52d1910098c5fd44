#include "api/errors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace glimmer::api {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

http::Request MakeRequest(std::optional<std::string> accept, std::string method = "GET") {
  http::Request req;
  req.method = std::move(method);
  req.path = "/v2/images/x";
  if (accept.has_value()) req.headers.Set("Accept", *accept);
  return req;
}

std::string ContentType(const http::Response& resp) {
  return std::string(resp.headers.Get("Content-Type").value_or(""));
}

// Expected bodies below were produced by webob (Debian 12's python3-webob, the library Glance
// runs on) for the same exceptions.
constexpr std::string_view kExplanation = "No image found with ID <x> & \"y\" 'z'";

TEST(ErrorResponseTest, HtmlForWildcardAccept) {
  http::Response resp = ErrorResponse(404, kExplanation, MakeRequest("*/*"));
  EXPECT_EQ(resp.status, 404);
  EXPECT_EQ(ContentType(resp), "text/html; charset=UTF-8");
  EXPECT_EQ(resp.body,
            "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n"
            "  <h1>404 Not Found</h1>\n"
            "  No image found with ID &lt;x&gt; &amp; &quot;y&quot; &#x27;z&#x27;<br /><br />\n"
            "\n\n\n </body>\n</html>");
}

TEST(ErrorResponseTest, JsonWhenPreferred) {
  http::Response resp = ErrorResponse(404, kExplanation, MakeRequest("application/json"));
  EXPECT_EQ(ContentType(resp), "application/json");
  EXPECT_EQ(resp.body,
            "{\"message\": \"No image found with ID <x> & \\\"y\\\" 'z'<br /><br />\\n\\n\\n\", "
            "\"code\": \"404 Not Found\", \"title\": \"Not Found\"}");
}

TEST(ErrorResponseTest, PlainWithoutAcceptHeader) {
  for (std::optional<std::string> accept :
       {std::optional<std::string>(), std::optional<std::string>("")}) {
    http::Response resp = ErrorResponse(404, kExplanation, MakeRequest(accept));
    EXPECT_EQ(ContentType(resp), "text/plain; charset=UTF-8");
    EXPECT_EQ(resp.body, "404 Not Found\n\nNo image found with ID  & \"y\" 'z'\n\n   ");
  }
}

TEST(ErrorResponseTest, NegotiationFollowsWebob) {
  struct Case {
    const char* accept;
    const char* content_type;
  } cases[] = {
      {"text/plain", "text/plain; charset=UTF-8"},
      {"application/json, text/html", "text/html; charset=UTF-8"},  // tie → first offer
      {"application/json;q=0.5, text/html;q=0.4", "application/json"},
      {"garbage;;;", "text/html; charset=UTF-8"},  // invalid header → everything acceptable
      {"application/*", "application/json"},
      {"text/*", "text/html; charset=UTF-8"},
      {"text/html;q=0", "text/plain; charset=UTF-8"},
      {"application/json;q=0, */*", "text/html; charset=UTF-8"},
      {"application/json;v=2", "text/plain; charset=UTF-8"},
      {"text/html;level=1", "text/plain; charset=UTF-8"},
      {"application/json;q=1.5", "text/html; charset=UTF-8"},
      {"a/b/c", "text/html; charset=UTF-8"},
      {"*/*;q=0.5, application/json;q=0.5", "text/html; charset=UTF-8"},
      {"*/*;q=0.1, APPLICATION/JSON", "application/json"},
      {"text/html;q=0.2, application/json;q=0.3;ext", "application/json"},
      {",application/json", "text/html; charset=UTF-8"},  // invalid list syntax
      {"application/json, ,text/html;q=0.5", "application/json"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ContentType(ErrorResponse(400, "x", MakeRequest(c.accept))), c.content_type)
        << c.accept;
  }
}

TEST(ErrorResponseTest, EmptyExplanationUsesWebobDefault) {
  http::Response resp = ErrorResponse(404, "", MakeRequest(std::nullopt));
  EXPECT_EQ(resp.body, "404 Not Found\n\nThe resource could not be found.\n\n   ");
  resp = ErrorResponse(401, "", MakeRequest(std::nullopt));
  EXPECT_EQ(resp.body,
            "401 Unauthorized\n\nThis server could not verify that you are authorized to access "
            "the document you requested. Either you supplied the wrong credentials (e.g., bad "
            "password), or your browser does not understand how to supply the credentials "
            "required.\n\n   ");
}

TEST(ErrorResponseTest, DetailParagraph) {
  http::Response resp = ErrorResponse(400, "x", "d", MakeRequest("text/plain"));
  EXPECT_EQ(resp.body, "400 Bad Request\n\nx\n\n d  ");
}

TEST(ErrorResponseTest, ReasonPhrasesForEveryUsedCode) {
  const std::pair<int, const char*> expected[] = {{400, "Bad Request"},
                                                  {401, "Unauthorized"},
                                                  {403, "Forbidden"},
                                                  {404, "Not Found"},
                                                  {405, "Method Not Allowed"},
                                                  {406, "Not Acceptable"},
                                                  {409, "Conflict"},
                                                  {410, "Gone"},
                                                  {411, "Length Required"},
                                                  {413, "Request Entity Too Large"},
                                                  {415, "Unsupported Media Type"},
                                                  {416, "Request Range Not Satisfiable"},
                                                  {500, "Internal Server Error"},
                                                  {501, "Not Implemented"},
                                                  {503, "Service Unavailable"}};
  for (const auto& [code, title] : expected) {
    EXPECT_EQ(ReasonPhrase(code), title);
    http::Response resp = ErrorResponse(code, "why", MakeRequest("application/json"));
    EXPECT_EQ(resp.status, code);
    EXPECT_THAT(resp.body, HasSubstr("\"code\": \"" + std::to_string(code) + " " + title +
                                     "\", \"title\": \"" + title + "\"}"));
  }
}

TEST(MethodNotAllowedTest, WebobTemplateAndAllowHeader) {
  http::Response resp = MethodNotAllowedResponse("GET", MakeRequest("*/*", "PUT"));
  EXPECT_EQ(resp.status, 405);
  EXPECT_EQ(resp.headers.Get("Allow").value_or(""), "GET");
  EXPECT_EQ(resp.body,
            "<html>\n <head>\n  <title>405 Method Not Allowed</title>\n </head>\n <body>\n"
            "  <h1>405 Method Not Allowed</h1>\n"
            "  The method PUT is not allowed for this resource. <br /><br />\n\n </body>\n</html>");
  resp = MethodNotAllowedResponse("GET", MakeRequest("application/json"));
  EXPECT_EQ(resp.body,
            "{\"message\": \"The method GET is not allowed for this resource. <br /><br />\\n\", "
            "\"code\": \"405 Method Not Allowed\", \"title\": \"Method Not Allowed\"}");
  resp = MethodNotAllowedResponse("GET", MakeRequest("text/plain"));
  EXPECT_EQ(resp.body,
            "405 Method Not Allowed\n\nThe method GET is not allowed for this resource. \n\n ");
}

TEST(MethodNotAllowedTest, ExplanationOnlyTemplateForTasks) {
  http::Response resp =
      MethodNotAllowedResponse("GET", MakeRequest(std::nullopt, "DELETE"), "This op <x>");
  EXPECT_EQ(resp.body, "405 Method Not Allowed\n\nThis op ");
  EXPECT_EQ(resp.headers.Get("Allow").value_or(""), "GET");
}

TEST(ErrorResponseTest, UnsupportedMediaTypeUsesDetail) {
  http::Request req = MakeRequest("*/*", "POST");
  req.headers.Set("Content-Type", "application/json");
  http::Response resp = ErrorResponse(415, "d", req);
  EXPECT_EQ(resp.body,
            "<html>\n <head>\n  <title>415 Unsupported Media Type</title>\n </head>\n <body>\n"
            "  <h1>415 Unsupported Media Type</h1>\n"
            "  The request media type application/json is not supported by this server.\n"
            "<br /><br />\nd\n </body>\n</html>");
  req.headers.Set("Accept", "application/json");
  EXPECT_EQ(ErrorResponse(415, "d", req).body,
            "{\"message\": \"The request media type application/json is not supported by this "
            "server.\\n<br /><br />\\nd\", \"code\": \"415 Unsupported Media Type\", \"title\": "
            "\"Unsupported Media Type\"}");
  req.headers.Set("Accept", "text/plain");
  EXPECT_EQ(ErrorResponse(415, "d", req).body,
            "415 Unsupported Media Type\n\nThe request media type application/json is not "
            "supported by this server. \n\n d");
  // Without a Content-Type webob leaves its placeholder in place.
  EXPECT_EQ(ErrorResponse(415, "bad <fmt>", MakeRequest(std::nullopt)).body,
            "415 Unsupported Media Type\n\nThe request media type ${CONTENT_TYPE} is not "
            "supported by this server. \n\n bad ");
}

TEST(ErrorResponseTest, NotImplementedTemplate) {
  http::Response resp = ErrorResponse(501, "", MakeRequest("*/*", "PUT"));
  EXPECT_EQ(resp.body,
            "<html>\n <head>\n  <title>501 Not Implemented</title>\n </head>\n <body>\n"
            "  <h1>501 Not Implemented</h1>\n  \nThe request method PUT is not implemented for "
            "this server. <br /><br />\n\n </body>\n</html>");
}

TEST(ErrorResponseTest, JsonEscapesLikePython) {
  http::Response resp =
      ErrorResponse(400, "caf\xc3\xa9 \xf0\x9f\x98\x80 \x7f\t\\", MakeRequest("application/json"));
  EXPECT_THAT(resp.body,
              HasSubstr("\"message\": \"caf\\u00e9 \\ud83d\\ude00 \\u007f\\t\\\\<br /><br />"));
}

TEST(UnauthorizedTest, CarriesKeystoneChallenge) {
  http::Response resp =
      UnauthorizedResponse("http://127.0.0.1:9292/identity", MakeRequest("application/json"));
  EXPECT_EQ(resp.status, 401);
  EXPECT_EQ(resp.headers.Get("WWW-Authenticate").value_or(""),
            "Keystone uri=\"http://127.0.0.1:9292/identity\"");
  EXPECT_THAT(resp.body, HasSubstr("This server could not verify"));
}

TEST(HttpStatusForTest, OneMapping) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kFailedPrecondition), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAborted), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kGone), 410);
  EXPECT_EQ(HttpStatusFor(StatusCode::kResourceExhausted), 413);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnsupportedMedia), 415);
  EXPECT_EQ(HttpStatusFor(StatusCode::kOutOfRange), 416);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnimplemented), 501);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(StatusCode::kInternal), 500);
  EXPECT_EQ(HttpStatusFor(StatusCode::kDataLoss), 500);
}

TEST(ErrorFromStatusTest, MessagesBecomeExplanationsExceptFor500) {
  http::Request req = MakeRequest("application/json");
  http::Response resp = ErrorFromStatus(NotFoundError("No image found with ID abc"), req);
  EXPECT_EQ(resp.status, 404);
  EXPECT_THAT(resp.body, HasSubstr("\"message\": \"No image found with ID abc<br /><br />"));

  resp = ErrorFromStatus(InternalError("sqlite: disk I/O error at /secret/path"), req);
  EXPECT_EQ(resp.status, 500);
  EXPECT_THAT(resp.body, Not(HasSubstr("secret")));
  EXPECT_THAT(resp.body, HasSubstr("The server has either erred"));
  resp = ErrorFromStatus(DataLossError("corrupt row 7"), req);
  EXPECT_EQ(resp.status, 500);
  EXPECT_THAT(resp.body, Not(HasSubstr("row 7")));

  resp = ErrorFromStatus(UnauthenticatedError("token expired"), req, "http://h:9292/v3");
  EXPECT_EQ(resp.status, 401);
  EXPECT_EQ(resp.headers.Get("WWW-Authenticate").value_or(""), "Keystone uri=\"http://h:9292/v3\"");
  EXPECT_THAT(resp.body, HasSubstr("token expired"));

  req.headers.Set("Content-Type", "application/octet-stream");
  resp = ErrorFromStatus(UnsupportedMediaError("Image failed safety checks"), req);
  EXPECT_EQ(resp.status, 415);
  EXPECT_THAT(resp.body, HasSubstr("application/octet-stream is not supported by this server."
                                   "\\n<br /><br />\\nImage failed safety checks"));

  resp = ErrorFromStatus(AlreadyExistsError("Image with identifier x already exists!"), req);
  EXPECT_EQ(resp.status, 409);
  EXPECT_THAT(resp.body, HasSubstr("\"title\": \"Conflict\""));
}

}  // namespace
}  // namespace glimmer::api
