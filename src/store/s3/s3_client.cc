#include "store/s3/s3_client.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

namespace glimmer::store::s3::internal {
namespace {

constexpr size_t kMaxIdleHandles = 32;
constexpr size_t kMaxErrorBody = 64 * 1024;
constexpr long kUploadBufferSize = 1024 * 1024;  // fewer read callbacks and syscalls
constexpr char kHex[] = "0123456789ABCDEF";

template <typename T>
void SetOpt(CURL* h, CURLoption opt, T value) {
  curl_easy_setopt(h, opt, value);
}

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// State shared with the callbacks of one attempt.
struct Transfer {
  const Request* request = nullptr;
  Response* response = nullptr;
  size_t part = 0;    // body cursor: buffer index
  size_t offset = 0;  // and offset inside it
  bool body_too_large = false;
};

size_t ReadBody(char* out, size_t size, size_t nitems, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t room = size * nitems;
  size_t done = 0;
  const auto& body = t->request->body;
  while (done < room && t->part < body.size()) {
    const auto& buf = body[t->part];
    const size_t n = std::min(room - done, buf.size() - t->offset);
    std::memcpy(out + done, buf.data() + t->offset, n);
    done += n;
    t->offset += n;
    if (t->offset == buf.size()) {
      ++t->part;
      t->offset = 0;
    }
  }
  return done;
}

int SeekBody(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
  t->part = 0;
  t->offset = 0;
  auto left = static_cast<size_t>(offset);
  const auto& body = t->request->body;
  while (t->part < body.size() && left >= body[t->part].size()) {
    left -= body[t->part].size();
    ++t->part;
  }
  if (t->part == body.size() && left > 0) return CURL_SEEKFUNC_FAIL;
  t->offset = left;
  return CURL_SEEKFUNC_OK;
}

size_t WriteBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * nmemb;
  if (t->response->body.size() + n > t->request->max_response_body) {
    t->body_too_large = true;
    return 0;  // aborts the transfer
  }
  t->response->body.append(data, n);
  return n;
}

size_t ReadHeader(char* data, size_t size, size_t nitems, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * nitems;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {  // a new response (e.g. after 100 Continue)
    t->response->etag.clear();
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  const std::string_view name = Trim(line.substr(0, colon));
  const std::string_view value = Trim(line.substr(colon + 1));
  if (EqualsIgnoreCase(name, "etag")) t->response->etag = std::string(value);
  return n;
}

int Progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  const auto* cancel = t->request->cancel;
  return cancel != nullptr && cancel->load(std::memory_order_relaxed) ? 1 : 0;
}

bool Cancelled(const Request& r) {
  return r.cancel != nullptr && r.cancel->load(std::memory_order_relaxed);
}

// Sleeps `ms`, waking early (false) when the request is cancelled.
bool Backoff(const Request& r, long ms) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < end) {
    if (Cancelled(r)) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<long>(ms, 20)));
  }
  return !Cancelled(r);
}

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

// ---- Encoding ----------------------------------------------------------------------------------

std::string UriEncode(std::string_view s, bool keep_slash) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string CanonicalQuery(std::vector<std::pair<std::string, std::string>> params) {
  for (auto& [name, value] : params) {
    name = UriEncode(name, false);
    value = UriEncode(value, false);
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::string Sha256Hex(std::span<const std::span<const std::byte>> buffers) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  for (const auto& b : buffers) EVP_DigestUpdate(ctx, b.data(), b.size());
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  std::string out;
  static constexpr char kLowerHex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < len; ++i) {
    out += kLowerHex[md[i] >> 4];
    out += kLowerHex[md[i] & 0xf];
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  const std::span<const std::byte> one(reinterpret_cast<const std::byte*>(data.data()),
                                       data.size());
  return Sha256Hex(std::span<const std::span<const std::byte>>(&one, 1));
}

// ---- XML --------------------------------------------------------------------------------------

std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view name) {
  std::vector<std::string_view> out;
  std::string open = "<";
  open += name;
  std::string close = "</";
  close += name;
  close += '>';
  size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    const size_t after = pos + open.size();
    if (after >= xml.size()) break;
    const char c = xml[after];
    if (c != '>' && c != '/' && c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      pos = after;  // a longer name with this prefix, e.g. <UploadId> for <Upload>
      continue;
    }
    const size_t gt = xml.find('>', after);
    if (gt == std::string_view::npos) break;
    if (xml[gt - 1] == '/') {  // <name/>
      out.emplace_back();
      pos = gt + 1;
      continue;
    }
    const size_t end = xml.find(close, gt + 1);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(gt + 1, end - gt - 1));
    pos = end + close.size();
  }
  return out;
}

std::optional<std::string> XmlText(std::string_view xml, std::string_view name) {
  const auto all = XmlElements(xml, name);
  if (all.empty()) return std::nullopt;
  return XmlDecode(all.front());
}

std::string XmlDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '&') {
      out += text[i++];
      continue;
    }
    const size_t semi = text.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) {
      out += text[i++];
      continue;
    }
    const std::string_view ref = text.substr(i + 1, semi - i - 1);
    bool ok = true;
    if (ref == "lt") {
      out += '<';
    } else if (ref == "gt") {
      out += '>';
    } else if (ref == "amp") {
      out += '&';
    } else if (ref == "quot") {
      out += '"';
    } else if (ref == "apos") {
      out += '\'';
    } else if (ref.size() >= 2 && ref[0] == '#') {
      const bool hex = ref[1] == 'x' || ref[1] == 'X';
      const std::string_view digits = ref.substr(hex ? 2 : 1);
      uint32_t cp = 0;
      ok = !digits.empty();
      for (char d : digits) {
        int v;
        if (d >= '0' && d <= '9') {
          v = d - '0';
        } else if (hex && d >= 'a' && d <= 'f') {
          v = d - 'a' + 10;
        } else if (hex && d >= 'A' && d <= 'F') {
          v = d - 'A' + 10;
        } else {
          ok = false;
          break;
        }
        cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
        if (cp > 0x10FFFF) {
          ok = false;
          break;
        }
      }
      if (ok && (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
      if (ok) {  // UTF-8
        if (cp < 0x80) {
          out += static_cast<char>(cp);
        } else if (cp < 0x800) {
          out += static_cast<char>(0xC0 | (cp >> 6));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
          out += static_cast<char>(0xE0 | (cp >> 12));
          out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
          out += static_cast<char>(0xF0 | (cp >> 18));
          out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
          out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        }
      }
    } else {
      ok = false;
    }
    if (!ok) {
      out += text[i++];
      continue;
    }
    i = semi + 1;
  }
  return out;
}


// ---- Errors -----------------------------------------------------------------------------------

Status MapS3Error(std::string_view operation, std::string_view resource, long http_status,
                  std::string_view s3_code, std::string_view s3_message) {
  std::string msg = "S3 ";
  msg += operation;
  msg += " of ";
  msg += resource;
  msg += " failed: HTTP ";
  msg += std::to_string(http_status);
  if (!s3_code.empty()) {
    msg += ' ';
    msg += s3_code;
  }
  if (!s3_message.empty()) {
    msg += " (";
    msg += s3_message.substr(0, 200);
    msg += ')';
  }
  const auto is = [&](std::initializer_list<std::string_view> codes) {
    return std::find(codes.begin(), codes.end(), s3_code) != codes.end();
  };
  if (is({"NoSuchKey", "NoSuchBucket", "NoSuchUpload"})) return NotFoundError(std::move(msg));
  if (is({"AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId", "AllAccessDisabled",
          "AccountProblem", "InvalidToken", "ExpiredToken", "RequestTimeTooSkewed"})) {
    return PermissionDeniedError(std::move(msg));
  }
  if (is({"EntityTooLarge", "QuotaExceeded", "InsufficientStorage", "TooManyBuckets"})) {
    return ResourceExhaustedError(std::move(msg));
  }
  if (is({"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"})) {
    return UnavailableError(std::move(msg));
  }
  if (http_status == 404) return NotFoundError(std::move(msg));
  if (http_status == 401 || http_status == 403) return PermissionDeniedError(std::move(msg));
  if (http_status == 507 || http_status == 413) return ResourceExhaustedError(std::move(msg));
  if (http_status >= 500 && http_status <= 599) return UnavailableError(std::move(msg));
  return InternalError(std::move(msg));
}

Status MapCurlError(std::string_view operation, std::string_view resource, CURLcode code,
                    std::string_view detail) {
  std::string msg = "S3 ";
  msg += operation;
  msg += " of ";
  msg += resource;
  msg += " failed: ";
  msg += detail.empty() ? std::string_view(curl_easy_strerror(code)) : detail;
  switch (code) {
    case CURLE_ABORTED_BY_CALLBACK:
      return CancelledError(std::move(msg));
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
      return UnavailableError(std::move(msg));
    default:
      return InternalError(std::move(msg));
  }
}

bool IsRetryableCurlError(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

bool IsRetryableHttp(long http_status, std::string_view s3_code) {
  if (s3_code == "SlowDown" || s3_code == "RequestTimeout" || s3_code == "InternalError" ||
      s3_code == "ServiceUnavailable") {
    return true;
  }
  return http_status == 500 || http_status == 502 || http_status == 503 || http_status == 504;
}

// ---- Client -----------------------------------------------------------------------------------

Client::Client(ClientConfig config)
    : config_(std::move(config)), sigv4_("aws:amz:" + config_.region + ":s3") {
  InitCurlOnce();
}

Client::~Client() {
  for (CURL* h : idle_) curl_easy_cleanup(h);
}

std::string Client::Resource(std::string_view key) const {
  std::string out = "bucket " + config_.bucket;
  if (!key.empty()) out += " key " + std::string(key);
  return out;
}

std::string Client::Url(std::string_view key, std::string_view query) const {
  std::string url = config_.scheme + "://";
  if (config_.virtual_host) {
    url += config_.bucket + "." + config_.host_port + "/";
  } else {
    url += config_.host_port + "/" + config_.bucket;
    if (!key.empty()) url += "/";
  }
  url += UriEncode(key, true);
  if (!query.empty()) {
    url += '?';
    url += query;
  }
  return url;
}

CURL* Client::AcquireHandle() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      CURL* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void Client::ReleaseHandle(CURL* handle) {
  curl_easy_reset(handle);  // keeps the handle's live connections
  std::lock_guard lock(mu_);
  if (idle_.size() < kMaxIdleHandles) {
    idle_.push_back(handle);
    return;
  }
  curl_easy_cleanup(handle);
}

Status Client::SetCommonOptions(CURL* h, const std::string& url, curl_slist* headers,
                                char* errbuf) const {
  SetOpt(h, CURLOPT_URL, url.c_str());
  SetOpt(h, CURLOPT_ERRORBUFFER, errbuf);
  SetOpt(h, CURLOPT_NOSIGNAL, 1L);
  SetOpt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  SetOpt(h, CURLOPT_FOLLOWLOCATION, 0L);
  SetOpt(h, CURLOPT_PROXY, "");  // never a proxy from the environment
  SetOpt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  SetOpt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!config_.ca_file.empty()) SetOpt(h, CURLOPT_CAINFO, config_.ca_file.c_str());
  SetOpt(h, CURLOPT_USERAGENT, "glimmer-s3-store");
  SetOpt(h, CURLOPT_CONNECTTIMEOUT_MS, config_.connect_timeout_ms);
  SetOpt(h, CURLOPT_LOW_SPEED_LIMIT, config_.low_speed_bytes_per_second);
  SetOpt(h, CURLOPT_LOW_SPEED_TIME, config_.low_speed_time_s);
  SetOpt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  SetOpt(h, CURLOPT_TCP_NODELAY, 1L);
  if (curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4_.c_str()) != CURLE_OK) {
    return InternalError("libcurl was built without AWS SigV4 support");
  }
  SetOpt(h, CURLOPT_USERNAME, config_.access_key.c_str());
  SetOpt(h, CURLOPT_PASSWORD, config_.secret_key.c_str());
  SetOpt(h, CURLOPT_HTTPHEADER, headers);
  return OkStatus();
}

Status Client::PrepareGet(CURL* handle, std::string_view key,
                          const std::vector<std::string>& headers, curl_slist** out_headers,
                          char* errbuf) const {
  static const std::string kEmptySha256 = Sha256Hex(std::string_view());
  Slist list;
  for (const std::string& h : headers) list.reset(curl_slist_append(list.release(), h.c_str()));
  list.reset(curl_slist_append(list.release(), ("x-amz-content-sha256: " + kEmptySha256).c_str()));
  if (!list) return InternalError("out of memory building S3 request headers");
  const std::string url = Url(key, "");
  RETURN_IF_ERROR(SetCommonOptions(handle, url, list.get(), errbuf));
  SetOpt(handle, CURLOPT_HTTPGET, 1L);
  *out_headers = list.release();
  return OkStatus();
}

CURLcode Client::PerformOnce(CURL* h, const Request& request, const std::string& payload_sha256,
                             Response* response, char* errbuf) {
  *response = Response();
  Transfer t;
  t.request = &request;
  t.response = response;

  Slist headers;
  for (const std::string& line : request.headers) {
    headers.reset(curl_slist_append(headers.release(), line.c_str()));
  }
  headers.reset(
      curl_slist_append(headers.release(), ("x-amz-content-sha256: " + payload_sha256).c_str()));
  if (!headers) return CURLE_OUT_OF_MEMORY;
  const std::string url = Url(request.key, request.query);
  if (!SetCommonOptions(h, url, headers.get(), errbuf).ok()) return CURLE_NOT_BUILT_IN;

  curl_off_t body_size = 0;
  for (const auto& b : request.body) body_size += static_cast<curl_off_t>(b.size());
  if (request.method == "HEAD") {
    SetOpt(h, CURLOPT_NOBODY, 1L);
  } else if (request.method == "GET") {
    SetOpt(h, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "PUT") {
    SetOpt(h, CURLOPT_UPLOAD, 1L);
    SetOpt(h, CURLOPT_INFILESIZE_LARGE, body_size);
  } else if (request.method == "POST") {
    SetOpt(h, CURLOPT_POST, 1L);
    SetOpt(h, CURLOPT_POSTFIELDSIZE_LARGE, body_size);
  } else {
    SetOpt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (request.method == "PUT" || request.method == "POST") {
    SetOpt(h, CURLOPT_READFUNCTION, &ReadBody);
    SetOpt(h, CURLOPT_READDATA, &t);
    SetOpt(h, CURLOPT_SEEKFUNCTION, &SeekBody);
    SetOpt(h, CURLOPT_SEEKDATA, &t);
    SetOpt(h, CURLOPT_UPLOAD_BUFFERSIZE, kUploadBufferSize);
  }
  SetOpt(h, CURLOPT_WRITEFUNCTION, &WriteBody);
  SetOpt(h, CURLOPT_WRITEDATA, &t);
  SetOpt(h, CURLOPT_HEADERFUNCTION, &ReadHeader);
  SetOpt(h, CURLOPT_HEADERDATA, &t);
  if (request.cancel != nullptr) {
    SetOpt(h, CURLOPT_NOPROGRESS, 0L);
    SetOpt(h, CURLOPT_XFERINFOFUNCTION, &Progress);
    SetOpt(h, CURLOPT_XFERINFODATA, &t);
  }
  // Requests without a streaming body are small: bound them in time as well.
  if (body_size == 0) SetOpt(h, CURLOPT_TIMEOUT_MS, 120000L);

  errbuf[0] = '\0';
  CURLcode rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response->http_status);
  curl_off_t length = -1;
  curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
  response->content_length = length;
  if (rc == CURLE_WRITE_ERROR && t.body_too_large) {
    std::snprintf(errbuf, CURL_ERROR_SIZE, "response body larger than %zu bytes",
                  request.max_response_body);
  }
  // Never leave pointers to this frame's objects in a pooled handle.
  SetOpt(h, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));
  return rc;
}

StatusOr<Response> Client::Do(std::string_view operation, const Request& request) {
  const std::string resource = Resource(request.key);
  const std::string sha = request.payload_sha256.empty()
                              ? Sha256Hex(std::span<const std::span<const std::byte>>(
                                    request.body.data(), request.body.size()))
                              : request.payload_sha256;
  CURL* h = AcquireHandle();
  if (h == nullptr) return InternalError("curl_easy_init failed");
  Status last;
  const int attempts = request.retry ? std::max(1, config_.attempts) : 1;
  long backoff = config_.backoff_ms;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (Cancelled(request)) {
      last = CancelledError("S3 " + std::string(operation) + " of " + resource + " cancelled");
      break;
    }
    Response response;
    char errbuf[CURL_ERROR_SIZE];
    const CURLcode rc = PerformOnce(h, request, sha, &response, errbuf);
    bool retryable = false;
    if (rc != CURLE_OK) {
      if (rc == CURLE_ABORTED_BY_CALLBACK && Cancelled(request)) {
        last = CancelledError("S3 " + std::string(operation) + " of " + resource + " cancelled");
        break;
      }
      last = MapCurlError(operation, resource, rc, errbuf);
      retryable = IsRetryableCurlError(rc);
    } else if (response.http_status >= 200 && response.http_status < 300) {
      ReleaseHandle(h);
      return response;
    } else {
      const std::string_view body(response.body.data(),
                                  std::min(response.body.size(), kMaxErrorBody));
      const std::string code = XmlText(body, "Code").value_or("");
      const std::string message = XmlText(body, "Message").value_or("");
      last = MapS3Error(operation, resource, response.http_status, code, message);
      retryable = IsRetryableHttp(response.http_status, code);
    }
    if (!retryable || attempt == attempts) break;
    if (!Backoff(request, backoff)) {
      last = CancelledError("S3 " + std::string(operation) + " of " + resource + " cancelled");
      break;
    }
    backoff *= 4;
  }
  ReleaseHandle(h);
  return last;
}

}  // namespace glimmer::store::s3::internal
