#include "webdownload/fetcher.h"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace glimmer::webdownload {
namespace {

struct CurlEasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// A resolved and checked address for one hop.
struct PinnedAddress {
  sockaddr_storage addr{};
  std::string text;  // numeric form, no brackets
};

// Per-hop state shared with the libcurl callbacks.
struct HopState {
  const FetchOptions* options = nullptr;
  const FetchSink* sink = nullptr;
  CURL* handle = nullptr;
  std::string host;
  AddressPolicyOptions address_policy;  // for this hop (see ListedInAllowedHosts)
  std::vector<PinnedAddress> pinned;
  std::string reason;            // reason phrase of the last status line
  std::string location;          // Location header of the last response
  bool discarded_body = false;   // non-2xx response: body dropped, transfer aborted on purpose
  bool size_exceeded = false;
  int64_t announced_length = -1;
  int64_t bytes = 0;
  Status sink_status;
  Status socket_status;
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Resolves a Location value against the URL it came from (RFC 3986 section 5).
std::optional<std::string> ResolveLocation(const std::string& base, const std::string& location) {
  auto b = boost::urls::parse_uri(base);
  auto ref = boost::urls::parse_uri_reference(location);
  if (!b || !ref) return std::nullopt;
  boost::urls::url dest;
  if (!boost::urls::resolve(*b, *ref, dest)) return std::nullopt;
  return std::string(dest.buffer());
}

bool Is2xx(long code) { return code >= 200 && code < 300; }
bool IsRedirect(long code) {
  return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
}

std::string_view StandardReason(long code) {
  switch (code) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 410: return "Gone";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

Status SizeExceeded(const FetchOptions& options, const std::string& host) {
  return ResourceExhaustedError("download from host " + host + " exceeds the maximum size of " +
                                std::to_string(options.max_bytes) + " bytes");
}

size_t HeaderCallback(char* data, size_t size, size_t nitems, void* user) {
  auto* st = static_cast<HopState*>(user);
  size_t n = size * nitems;
  std::string_view line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {
    st->reason.clear();
    st->location.clear();
    size_t sp1 = line.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 != std::string_view::npos) {
      std::string_view r = line.substr(sp2 + 1);
      while (!r.empty() && (r.back() == '\r' || r.back() == '\n' || r.back() == ' ')) {
        r.remove_suffix(1);
      }
      st->reason = std::string(r.substr(0, 100));
    }
  } else if (line.size() > 9 && (line[0] == 'L' || line[0] == 'l') &&
             Lower(line.substr(0, 9)) == "location:") {
    std::string_view value = line.substr(9);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' ||
                              value.back() == ' ' || value.back() == '\t')) {
      value.remove_suffix(1);
    }
    st->location = std::string(value.substr(0, 8192));
  } else if (line == "\r\n" || line == "\n") {
    long code = 0;
    curl_easy_getinfo(st->handle, CURLINFO_RESPONSE_CODE, &code);
    curl_off_t cl = -1;
    curl_easy_getinfo(st->handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
    if (Is2xx(code)) {
      st->announced_length = cl;
      if (cl > st->options->max_bytes) {
        st->size_exceeded = true;
        return 0;  // aborts the transfer before any body byte is read
      }
    }
  }
  return n;
}

size_t WriteCallback(char* data, size_t size, size_t nmemb, void* user) {
  auto* st = static_cast<HopState*>(user);
  size_t n = size * nmemb;
  long code = 0;
  curl_easy_getinfo(st->handle, CURLINFO_RESPONSE_CODE, &code);
  if (!Is2xx(code)) {
    st->discarded_body = true;  // error/redirect bodies are never read
    return 0;
  }
  if (st->bytes + static_cast<int64_t>(n) > st->options->max_bytes) {
    st->size_exceeded = true;
    return 0;
  }
  Status s = (*st->sink)(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), n));
  if (!s.ok()) {
    st->sink_status = std::move(s);
    return 0;
  }
  st->bytes += static_cast<int64_t>(n);
  return n;
}

// Refuses to open a socket to anything but the checked, pinned addresses.
curl_socket_t OpenSocketCallback(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* st = static_cast<HopState*>(user);
  std::string text = AddressToString(&address->addr);
  bool pinned = std::any_of(st->pinned.begin(), st->pinned.end(),
                            [&](const PinnedAddress& p) { return p.text == text; });
  if (!pinned) {
    st->socket_status = InvalidArgumentError("connection to unchecked address " + text +
                                             " of host " + st->host + " refused");
    return CURL_SOCKET_BAD;
  }
  Status s = CheckAddress(&address->addr, st->address_policy, st->host);
  if (!s.ok()) {
    st->socket_status = std::move(s);
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

StatusOr<std::vector<PinnedAddress>> ResolveAndCheck(const ValidatedUrl& v,
                                                     const AddressPolicyOptions& policy) {
  std::vector<PinnedAddress> out;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = v.host_is_ip ? AI_NUMERICHOST : 0;
  addrinfo* res = nullptr;
  std::string port = std::to_string(v.port);
  int rc = getaddrinfo(v.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    return UnavailableError("could not resolve host " + v.host + ": " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(res, &freeaddrinfo);
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    PinnedAddress p;
    std::memcpy(&p.addr, ai->ai_addr, std::min<size_t>(ai->ai_addrlen, sizeof p.addr));
    p.text = AddressToString(ai->ai_addr);
    // Every address must pass: a name with one public and one internal address is refused.
    RETURN_IF_ERROR(CheckAddress(ai->ai_addr, policy, v.host));
    bool dup = std::any_of(out.begin(), out.end(),
                           [&](const PinnedAddress& q) { return q.text == p.text; });
    if (!dup) out.push_back(std::move(p));
  }
  if (out.empty()) return UnavailableError("could not resolve host " + v.host + ": no address");
  return out;
}

bool IsTlsError(CURLcode rc) {
  switch (rc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
      return true;
    default:
      return false;
  }
}

Status MapCurlError(CURLcode rc, const char* errbuf, const HopState& st, const FetchOptions& o,
                    CURL* h) {
  std::string detail = errbuf[0] != '\0' ? std::string(errbuf) : curl_easy_strerror(rc);
  const std::string& host = st.host;
  if (IsTlsError(rc)) return UnavailableError("TLS failure with host " + host + ": " + detail);
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
      return UnavailableError("could not resolve host " + host);
    case CURLE_COULDNT_CONNECT:
      return UnavailableError("could not connect to host " + host + ": " + detail);
    case CURLE_OPERATION_TIMEDOUT: {
      curl_off_t connect_us = 0;
      curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connect_us);
      if (connect_us == 0) {
        return UnavailableError("connecting to host " + host + " timed out after " +
                                std::to_string(o.connect_timeout_ms) + " ms");
      }
      if (detail.rfind("Operation too slow", 0) == 0) {
        return UnavailableError("download from host " + host + " stalled: less than " +
                                std::to_string(o.low_speed_bytes_per_second) + " bytes/s for " +
                                std::to_string(o.low_speed_time_s) + " s");
      }
      return UnavailableError("download from host " + host + " timed out after " +
                              std::to_string(o.total_timeout_ms) + " ms");
    }
    case CURLE_UNSUPPORTED_PROTOCOL:
      return InvalidArgumentError("unsupported protocol: " + detail);
    case CURLE_PARTIAL_FILE:
      return UnavailableError("download from host " + host + " was truncated: " + detail);
    default:
      return UnavailableError("download from host " + host + " failed: " + detail);
  }
}

template <typename T>
void SetOpt(CURL* h, CURLoption opt, T value) {
  curl_easy_setopt(h, opt, value);
}

}  // namespace

HttpFetcher::HttpFetcher() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

StatusOr<FetchResult> HttpFetcher::Fetch(std::string_view url, const FetchOptions& options,
                                         const FetchSink& sink) const {
  FetchResult result;
  std::string current(url);
  int64_t elapsed_us = 0;
  for (int hop = 0;; ++hop) {
    auto validated = ParseAndValidateUrl(current, options.url_filter);
    if (!validated.ok()) {
      if (hop == 0) return validated.status();
      return InvalidArgumentError("redirect to " + current + " refused: " +
                                  validated.status().message());
    }
    const ValidatedUrl& v = *validated;
    if (v.scheme != "http" && v.scheme != "https") {
      return InvalidArgumentError("URL rejected: scheme '" + v.scheme +
                                  "' cannot be downloaded (only http and https)");
    }
    // A host the operator lists in allowed_hosts is vouched for: its private addresses are
    // allowed. Redirect targets get the plain policy.
    AddressPolicyOptions policy = options.address_policy;
    if (hop == 0 && ListedInAllowedHosts(v.host, options.url_filter)) {
      policy.allow_private_addresses = true;
    }
    auto resolved = ResolveAndCheck(v, policy);
    if (!resolved.ok()) {
      if (hop == 0) return resolved.status();
      return Status(resolved.status().code(),
                    "redirect to " + v.url + " refused: " + resolved.status().message());
    }
    const std::vector<PinnedAddress>& pinned = *resolved;

    CurlEasy easy(curl_easy_init());
    if (!easy) return InternalError("curl_easy_init failed");
    CURL* h = easy.get();
    HopState st;
    st.options = &options;
    st.sink = &sink;
    st.handle = h;
    st.host = v.host;
    st.address_policy = policy;
    st.pinned = pinned;

    CurlSlist resolve;
    if (!v.host_is_ip) {
      std::string entry = v.host + ":" + std::to_string(v.port) + ":";
      for (size_t i = 0; i < pinned.size(); ++i) {
        if (i > 0) entry += ",";
        bool v6 = pinned[i].addr.ss_family == AF_INET6;
        entry += v6 ? "[" + pinned[i].text + "]" : pinned[i].text;
      }
      resolve.reset(curl_slist_append(nullptr, entry.c_str()));
      SetOpt(h, CURLOPT_RESOLVE, resolve.get());
    }
    CurlSlist extra_headers;
    for (const std::string& hdr : options.headers) {
      curl_slist* l = curl_slist_append(extra_headers.get(), hdr.c_str());
      if (!l) return InternalError("curl_slist_append failed");
      (void)extra_headers.release();
      extra_headers.reset(l);
    }
    if (extra_headers) SetOpt(h, CURLOPT_HTTPHEADER, extra_headers.get());
    char errbuf[CURL_ERROR_SIZE] = {};
    SetOpt(h, CURLOPT_URL, v.url.c_str());
    SetOpt(h, CURLOPT_ERRORBUFFER, errbuf);
    SetOpt(h, CURLOPT_NOSIGNAL, 1L);
    SetOpt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    SetOpt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SetOpt(h, CURLOPT_FOLLOWLOCATION, 0L);
    SetOpt(h, CURLOPT_PROXY, "");  // never a proxy from the environment
    SetOpt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    SetOpt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options.ca_file.empty()) SetOpt(h, CURLOPT_CAINFO, options.ca_file.c_str());
    SetOpt(h, CURLOPT_USERAGENT, options.user_agent.c_str());
    SetOpt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout_ms));
    SetOpt(h, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(options.low_speed_bytes_per_second));
    SetOpt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options.low_speed_time_s));
    if (options.total_timeout_ms > 0) {
      int64_t remaining_ms = options.total_timeout_ms - elapsed_us / 1000;
      if (remaining_ms <= 0) {
        return UnavailableError("download of " + std::string(url) + " timed out after " +
                                std::to_string(options.total_timeout_ms) + " ms");
      }
      SetOpt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(remaining_ms));
    }
    SetOpt(h, CURLOPT_BUFFERSIZE, 256L * 1024);
    SetOpt(h, CURLOPT_HEADERFUNCTION, &HeaderCallback);
    SetOpt(h, CURLOPT_HEADERDATA, &st);
    SetOpt(h, CURLOPT_WRITEFUNCTION, &WriteCallback);
    SetOpt(h, CURLOPT_WRITEDATA, &st);
    SetOpt(h, CURLOPT_OPENSOCKETFUNCTION, &OpenSocketCallback);
    SetOpt(h, CURLOPT_OPENSOCKETDATA, &st);

    CURLcode rc = curl_easy_perform(h);
    curl_off_t hop_us = 0;
    curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &hop_us);
    elapsed_us += hop_us;

    if (!st.sink_status.ok()) return st.sink_status;
    if (st.size_exceeded) return SizeExceeded(options, v.host);
    if (!st.socket_status.ok()) return st.socket_status;
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && st.discarded_body)) {
      return MapCurlError(rc, errbuf, st, options, h);
    }

    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (Is2xx(code)) {
      result.final_url = v.url;
      result.http_status = static_cast<int>(code);
      result.bytes = st.bytes;
      result.content_length = st.announced_length;
      char* ct = nullptr;
      curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
      if (ct != nullptr) result.content_type = ct;
      result.redirects = hop;
      return result;
    }
    if (IsRedirect(code)) {
      std::optional<std::string> location;
      if (!st.location.empty()) location = ResolveLocation(v.url, st.location);
      if (!location) {
        return UnavailableError("server " + v.host + " answered " + std::to_string(code) +
                                " without a usable Location header");
      }
      if (hop + 1 > options.max_redirects) {
        return UnavailableError("too many redirects (more than " +
                                std::to_string(options.max_redirects) + ") starting at " +
                                std::string(url));
      }
      current = *location;
      continue;
    }
    std::string reason = st.reason.empty() ? std::string(StandardReason(code)) : st.reason;
    return UnavailableError("server answered " + std::to_string(code) +
                            (reason.empty() ? "" : " " + reason) + " for " + v.url);
  }
}

}  // namespace glimmer::webdownload
