#pragma once
// HTTP request/response as handlers see them. Handlers are synchronous code: they run on a fiber
// of the server's handler pool and may block on work that needs a thread (database, disk). Reading
// a request body suspends the fiber, not its thread, until bytes arrive (http/server.h). No Boost
// types leak here, so API code compiles without Beast.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace glimmer::http {

// Ordered, case-insensitive multimap of header fields.
class Headers {
 public:
  // First value of `name`, if present.
  std::optional<std::string_view> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  // Replaces every field named `name` with one field.
  void Set(std::string name, std::string value);
  void Add(std::string name, std::string value);
  void Remove(std::string_view name);
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// The request body as a blocking stream. Reading past the end returns 0.
// Errors: DeadlineExceeded when the client is below the minimum body rate or stalls past the body
// timeout, InvalidArgument on malformed chunked encoding (or an oversized chunk extension or
// trailer), Cancelled when the client closed the connection early.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // Reads up to out.size() bytes; returns 0 at the end of the body.
  virtual StatusOr<size_t> Read(std::span<std::byte> out) = 0;
  // Declared Content-Length, if any (absent for chunked bodies).
  virtual std::optional<uint64_t> content_length() const = 0;
  virtual bool chunked() const = 0;
  // Whether the body has at least one byte (Content-Length > 0, or chunked).
  bool MayHaveBody() const { return chunked() || content_length().value_or(0) > 0; }
};

// Reads the whole body into a string. ResourceExhausted if it exceeds `max_bytes`.
StatusOr<std::string> ReadAll(BodyReader& body, size_t max_bytes);

struct Request {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // raw request-target, e.g. "/v2/images?limit=1"
  std::string path;    // percent-decoded path, no query
  std::vector<std::string> segments;  // path split on '/', each segment decoded separately
  std::string raw_query;  // after '?', undecoded
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order, repeats kept
  Headers headers;
  BodyReader* body = nullptr;  // never null while the handler runs
  std::string remote_address;  // "ip:port"
  std::string host;            // Host header or listen address, for absolute URLs
  std::string scheme = "http";
  // x-openstack-request-id of this request: "req-<uuid>", or the client's own id (prefixed with
  // "req-" when needed) as Glance does. The server echoes it on the response.
  std::string request_id;

  // First query value for `key`.
  std::optional<std::string_view> QueryValue(std::string_view key) const;
  // Absolute base URL "http://host" (no trailing slash).
  std::string BaseUrl() const { return scheme + "://" + host; }
};

// A streamed response body. If file() is set the server uses sendfile(2) on it (zero-copy);
// otherwise it calls Read() until it returns 0.
class BodySource {
 public:
  virtual ~BodySource() = default;
  struct FileRange {
    int fd;  // owned by the BodySource
    int64_t offset;
    int64_t length;
  };
  virtual std::optional<FileRange> file() const { return std::nullopt; }
  virtual StatusOr<size_t> Read(std::span<std::byte> out) = 0;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;  // used when `stream` is null
  // Streamed body. If `stream_length` is set it is sent with Content-Length, else chunked.
  std::unique_ptr<BodySource> stream;
  std::optional<int64_t> stream_length;
  // Called by the server once the response has been fully sent (or the connection dropped),
  // with true when every byte reached the socket.
  std::function<void(bool)> on_complete;
};

// What a handler is: any callable taking the request and producing the response. Exceptions
// escaping a handler become a generic 500 (and are logged); handlers should return errors.
using Handler = std::function<Response(Request&)>;

}  // namespace glimmer::http
