#pragma once
// IWYU pragma: private, include "store/s3/s3_store.h"
// Internals of the S3 store: the HTTP layer (libcurl with its built-in AWS SigV4 signing), URI
// encoding, the mapping of S3 errors to Status, and a minimal XML reader for S3's small
// responses. Not part of the store's interface; exposed in a header for the store's unit tests.
//
// Signing: curl (7.88) signs with CURLOPT_AWS_SIGV4 "aws:amz:<region>:s3", but
//   - it does not add x-amz-content-sha256 (which S3 and RGW require): every request carries
//     that header with the SHA-256 of its payload, which curl then signs as the payload hash, so
//     every body is signed and checked by the server (no UNSIGNED-PAYLOAD);
//   - it signs the query string exactly as written: callers pass a canonical query (parameters
//     sorted by name, "name=value", values encoded with UriEncode) built by CanonicalQuery().
//
// Thread-safety: Client is safe for concurrent use (it pools curl handles under a mutex); the
// free functions are pure.

#include <curl/curl.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace glimmer::store::s3::internal {

// ---- Encoding ----------------------------------------------------------------------------------

// AWS URI encoding: unreserved characters (A-Z a-z 0-9 - _ . ~) are kept, every other byte is
// %XX (upper-case hex); '/' is kept when `keep_slash`.
std::string UriEncode(std::string_view s, bool keep_slash);

// "a=1&b=2": parameters sorted by name (then value), names and values UriEncode()d, a
// parameter without value written "name=" as SigV4's canonical form requires.
std::string CanonicalQuery(std::vector<std::pair<std::string, std::string>> params);

// Lower-case hex SHA-256 of the concatenated buffers.
std::string Sha256Hex(std::span<const std::span<const std::byte>> buffers);
std::string Sha256Hex(std::string_view data);

// ---- Minimal XML ------------------------------------------------------------------------------
// S3's responses are small, flat documents with a default namespace and no CDATA. These helpers
// find elements by local name; they never allocate in proportion to anything but the input.

// Raw inner text of every element <name ...>...</name> (or <name/>, empty) in `xml`, in order.
// Elements of the same name nested in each other are not supported (S3 has none).
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view name);
// Decoded text of the first <name> element, or nullopt.
std::optional<std::string> XmlText(std::string_view xml, std::string_view name);
// Decodes the predefined entities and numeric character references (&#N; &#xN;); an unknown or
// malformed reference is kept verbatim.
std::string XmlDecode(std::string_view text);

// ---- Errors -----------------------------------------------------------------------------------

// The one mapping from an S3 answer to Status. `operation` ("upload part 3", "read object") and
// `resource` ("bucket B key K") name what failed; `s3_code` is the <Code> of the error body
// (empty when there was none, e.g. for HEAD).
//   404 / NoSuchKey / NoSuchBucket / NoSuchUpload         -> NotFound
//   403 / AccessDenied / SignatureDoesNotMatch / ...       -> PermissionDenied
//   507 / EntityTooLarge / QuotaExceeded                   -> ResourceExhausted
//   5xx / SlowDown / RequestTimeout                        -> Unavailable
//   anything else                                          -> Internal
Status MapS3Error(std::string_view operation, std::string_view resource, long http_status,
                  std::string_view s3_code, std::string_view s3_message);
// Transport failures (connection refused, reset, timeout, DNS, TLS...) -> Unavailable;
// cancellation -> Cancelled; others -> Internal.
Status MapCurlError(std::string_view operation, std::string_view resource, CURLcode code,
                    std::string_view detail);
// Whether a failed attempt may be retried: transport errors that can be transient, 5xx, and
// S3's SlowDown / RequestTimeout / InternalError.
bool IsRetryableCurlError(CURLcode code);
bool IsRetryableHttp(long http_status, std::string_view s3_code);

// ---- HTTP client ------------------------------------------------------------------------------

struct ClientConfig {
  std::string scheme;     // "http" or "https"
  std::string host_port;  // "127.0.0.1:47480", "s3.example.com"
  std::string bucket;
  bool virtual_host = false;  // bucket.host/key instead of host/bucket/key
  std::string region;
  std::string access_key;
  std::string secret_key;
  std::string ca_file;  // empty: the system's CA bundle
  long connect_timeout_ms = 10000;
  // A transfer slower than this many bytes/s for low_speed_time_s seconds fails (stall guard).
  long low_speed_bytes_per_second = 1024;
  long low_speed_time_s = 60;
  // Attempts of a retryable request (first try included) and the first backoff (x4 per retry).
  int attempts = 3;
  long backoff_ms = 200;
};

struct Request {
  std::string method = "GET";        // GET, HEAD, PUT, POST, DELETE
  std::string key;                   // empty: the bucket itself
  std::string query;                 // canonical query (CanonicalQuery()), without '?'
  std::vector<std::string> headers;  // extra "Name: value" lines (signed by curl)
  // Payload of PUT/POST, sent as the concatenation of these buffers (not copied; must stay
  // valid until the call returns). payload_sha256 is computed when empty.
  std::vector<std::span<const std::byte>> body;
  std::string payload_sha256;
  size_t max_response_body = size_t{4} << 20;  // larger bodies fail with Internal
  bool retry = true;  // retry on IsRetryable*() (safe: every S3 request we make is idempotent)
  // When set and true, the transfer (and any backoff) stops with Cancelled.
  const std::atomic<bool>* cancel = nullptr;
};

struct Response {
  long http_status = 0;
  std::string body;  // capped by max_response_body
  std::string etag;  // ETag header, quotes included, as S3 sends it
  int64_t content_length = -1;
};

class Client {
 public:
  explicit Client(ClientConfig config);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ClientConfig& config() const { return config_; }
  // "bucket B key K" / "bucket B", for messages.
  std::string Resource(std::string_view key) const;
  std::string Url(std::string_view key, std::string_view query) const;

  // Performs a request (with retries per Request::retry) and returns the response of a 2xx
  // answer; any other answer or a transport failure becomes a Status through MapS3Error /
  // MapCurlError, naming `operation`.
  StatusOr<Response> Do(std::string_view operation, const Request& request);

  // For streaming transfers managed by the caller (the reader's ranged GET): sets every common
  // option (URL, signing, credentials, TLS, timeouts, headers incl. x-amz-content-sha256 of an
  // empty payload) for a GET of `key` on `handle`. `*headers` receives the header list, which
  // the caller frees with curl_slist_free_all after the transfer. No callbacks are set.
  Status PrepareGet(CURL* handle, std::string_view key, const std::vector<std::string>& headers,
                    curl_slist** out_headers, char* errbuf) const;

 private:
  // One try; `response` receives the answer (status, capped body, ETag, length).
  CURLcode PerformOnce(CURL* handle, const Request& request, const std::string& payload_sha256,
                       Response* response, char* errbuf);
  CURL* AcquireHandle();
  void ReleaseHandle(CURL* handle);
  Status SetCommonOptions(CURL* handle, const std::string& url, curl_slist* headers,
                          char* errbuf) const;

  const ClientConfig config_;
  const std::string sigv4_;  // "aws:amz:<region>:s3"
  std::mutex mu_;
  std::vector<CURL*> idle_;  // guarded by mu_; reused for their live connections
};

}  // namespace glimmer::store::s3::internal
