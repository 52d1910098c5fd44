#pragma once
// HttpFetcher: downloads one http(s) URL for web-download, streaming the body to a sink with
// constant memory, with SSRF defences and hard limits.
//
// Per hop: the URL is checked with ParseAndValidateUrl (UrlFilterOptions); the host is resolved
// here (getaddrinfo) and EVERY resolved address must pass CheckAddress (AddressPolicyOptions);
// libcurl is then pinned to exactly those addresses (CURLOPT_RESOLVE) and an open-socket hook
// refuses any other address, so a DNS rebind between check and connect cannot reach anything
// else. Redirects (301/302/303/307/308) are followed manually up to max_redirects, each
// Location re-validated the same way. Only http and https are spoken; proxies from the
// environment are ignored; TLS peer and host verification are always on; the body is passed
// through undecoded (no Content-Encoding handling).
//
// Only the body of the final 2xx response reaches the sink. The sink may be called many times;
// a non-OK Status from it aborts the download and is returned unchanged.
//
// Errors (messages name the host / URL):
//   InvalidArgument     URL rejected by the filter (also for a redirect target), address refused
//                       ("address 127.0.0.1 of host localhost is not allowed (loopback)"),
//                       malformed redirect.
//   ResourceExhausted   body (or announced Content-Length) larger than max_bytes.
//   Unavailable         could not resolve host X; connection failed; TLS failure; timeouts
//                       (connect, stalled transfer, total); "server answered 404 Not Found";
//                       too many redirects.
//   anything            returned by the sink.
//
// Thread-safety: an HttpFetcher holds no per-call state; Fetch may be called concurrently from
// several threads (each call uses its own libcurl handle). getaddrinfo is blocking and bounded
// only by the system resolver's own timeouts.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>
#include <string_view>

#include "common/status.h"
#include "webdownload/address_policy.h"
#include "webdownload/url_filter.h"

namespace glimmer::webdownload {

struct FetchOptions {
  UrlFilterOptions url_filter;
  AddressPolicyOptions address_policy;
  int max_redirects = 5;
  int64_t max_bytes = 1099511627776;     // body cap (Glance's image_size_cap default: 1 TiB)
  int64_t connect_timeout_ms = 10000;    // TCP + TLS handshake
  int64_t low_speed_bytes_per_second = 1024;  // below this for low_speed_time_s => stalled
  int64_t low_speed_time_s = 30;         // libcurl granularity is one second
  int64_t total_timeout_ms = 0;          // whole download incl. redirects; 0 = none
  std::string ca_file;                   // extra CA bundle (PEM); empty = system store
  std::string user_agent = "glimmer-web-download/1";
  // Extra request headers ("Name: value"), e.g. X-Auth-Token for glance-download. They are sent
  // on every hop: callers that send credentials set max_redirects = 0.
  std::vector<std::string> headers;
};

struct FetchResult {
  std::string final_url;      // URL of the response whose body was delivered
  int http_status = 0;        // 2xx
  int64_t bytes = 0;          // body bytes delivered to the sink
  int64_t content_length = -1;  // as announced by the server; -1 if absent
  std::string content_type;   // empty if absent
  int redirects = 0;          // redirects followed
};

using FetchSink = std::function<Status(std::span<const std::byte>)>;

class HttpFetcher final {
 public:
  HttpFetcher();  // performs curl_global_init once per process
  HttpFetcher(const HttpFetcher&) = delete;
  HttpFetcher& operator=(const HttpFetcher&) = delete;

  StatusOr<FetchResult> Fetch(std::string_view url, const FetchOptions& options,
                              const FetchSink& sink) const;
};

}  // namespace glimmer::webdownload
