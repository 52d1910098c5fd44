#include "catalog/fetch.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <mutex>
#include <vector>

#include "platform/file.h"
#include "platform/random.h"

namespace glimmer::catalog {
namespace {

constexpr size_t kChunk = 1 << 20;

std::string Hex(const unsigned char* p, unsigned n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (unsigned i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;

// What the libcurl write callback writes to.
struct Sink {
  platform::WritableFile* file = nullptr;
  SourceHasher* hasher = nullptr;
  int64_t size = 0;
  Status write_error;
};

size_t WriteToSink(char* data, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * nmemb;
  Status written = sink->file->Append(std::as_bytes(std::span(data, n)));
  if (!written.ok()) {
    sink->write_error = std::move(written);
    return 0;  // makes libcurl fail with CURLE_WRITE_ERROR
  }
  sink->hasher->Update(data, n);
  sink->size += static_cast<int64_t>(n);
  return n;
}

// Redacts credentials (user:password@) from a URL for messages.
std::string ForDisplay(const std::string& url) {
  auto scheme = url.find("://");
  auto at = url.find('@');
  auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (scheme != std::string::npos && at != std::string::npos && (slash == std::string::npos || at < slash)) {
    return url.substr(0, scheme + 3) + "***@" + url.substr(at + 1);
  }
  return url;
}

}  // namespace

// ---------------------------------------------------------------------------- SourceHasher
struct SourceHasher::Contexts {
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> sha512{EVP_MD_CTX_new()};
  std::unique_ptr<EVP_MD_CTX, Free> sha256;
};

SourceHasher::SourceHasher(bool want_sha256) : ctx_(std::make_unique<Contexts>()) {
  EVP_DigestInit_ex(ctx_->sha512.get(), EVP_sha512(), nullptr);
  if (want_sha256) {
    ctx_->sha256.reset(EVP_MD_CTX_new());
    EVP_DigestInit_ex(ctx_->sha256.get(), EVP_sha256(), nullptr);
  }
}

SourceHasher::~SourceHasher() = default;

void SourceHasher::Update(const void* data, size_t n) {
  EVP_DigestUpdate(ctx_->sha512.get(), data, n);
  if (ctx_->sha256) EVP_DigestUpdate(ctx_->sha256.get(), data, n);
}

void SourceHasher::Finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_DigestFinal_ex(ctx_->sha512.get(), md, &n);
  sha512_ = Hex(md, n);
  if (ctx_->sha256) {
    EVP_DigestFinal_ex(ctx_->sha256.get(), md, &n);
    sha256_ = Hex(md, n);
  }
}

Status CheckDigests(const Source& source, const SourceHasher& hasher) {
  if (!source.sha256.empty() && source.sha256 != hasher.sha256()) {
    return InvalidArgumentError("sha256 mismatch for " + source.Describe() + ": the catalog says " +
                                source.sha256 + ", the source has " + hasher.sha256());
  }
  if (!source.sha512.empty() && source.sha512 != hasher.sha512()) {
    return InvalidArgumentError("sha512 mismatch for " + source.Describe() + ": the catalog says " +
                                source.sha512 + ", the source has " + hasher.sha512());
  }
  return OkStatus();
}

// --------------------------------------------------------------------------- FetchedSource
FetchedSource::FetchedSource(std::string path, bool temporary, int64_t size, std::string sha512)
    : path_(std::move(path)), temporary_(temporary), size_(size), sha512_(std::move(sha512)) {}

FetchedSource::FetchedSource(FetchedSource&& other) noexcept { *this = std::move(other); }

FetchedSource& FetchedSource::operator=(FetchedSource&& other) noexcept {
  if (this != &other) {
    Release();
    path_ = std::move(other.path_);
    temporary_ = other.temporary_;
    size_ = other.size_;
    sha512_ = std::move(other.sha512_);
    other.temporary_ = false;
    other.path_.clear();
  }
  return *this;
}

FetchedSource::~FetchedSource() { Release(); }

void FetchedSource::Release() {
  if (temporary_ && !path_.empty()) (void)platform::FileSystem::Default().RemoveFile(path_);
  temporary_ = false;
}

// --------------------------------------------------------------------------- SourceFetcher
SourceFetcher::SourceFetcher(FetchOptions options) : options_(std::move(options)) {
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// The messages below name the operator's files and folders: they are for the operator running
// `glimmer catalog load`, never for an API client. Only the errno part comes from platform/.
StatusOr<FetchedSource> SourceFetcher::Fetch(const Source& source) {
  if (!source.url.empty()) return Download(source);
  platform::FileSystem& fs = platform::FileSystem::Default();
  StatusOr<platform::FileInfo> info = fs.Stat(source.file);
  if ((!info.ok() && info.status().code() == StatusCode::kNotFound) ||
      (info.ok() && info->type != platform::FileType::kRegular)) {
    return NotFoundError("source file " + source.file + " does not exist or is not a file");
  }
  if (!info.ok()) return platform::Annotate("source file " + source.file, info.status());
  StatusOr<std::unique_ptr<platform::SequentialFile>> in = fs.NewSequentialFile(source.file);
  if (!in.ok()) return platform::Annotate("cannot open source file " + source.file, in.status());
  SourceHasher hasher(!source.sha256.empty());
  std::vector<std::byte> buf(kChunk);
  int64_t size = 0;
  for (;;) {
    StatusOr<size_t> n = (*in)->Read(buf);
    if (!n.ok()) return platform::Annotate("error reading " + source.file, n.status());
    if (*n == 0) break;
    hasher.Update(buf.data(), *n);
    size += static_cast<int64_t>(*n);
  }
  hasher.Finish();
  RETURN_IF_ERROR(CheckDigests(source, hasher));
  return FetchedSource(source.file, /*temporary=*/false, size, hasher.sha512());
}

StatusOr<FetchedSource> SourceFetcher::Download(const Source& source) {
  platform::FileSystem& fs = platform::FileSystem::Default();
  // Downloads are image data before any check: the folder (when created here) and the files are
  // owner-only.
  Status scratch = fs.CreateDirs(options_.scratch_dir, 0700);
  if (!scratch.ok()) {
    return platform::Annotate("cannot create scratch folder " + options_.scratch_dir, scratch);
  }
  std::string path = options_.scratch_dir + "/download-" + platform::RandomHex(8);
  platform::WritableFileOptions create;
  create.mode = platform::OpenMode::kCreateExclusive;
  create.permissions = 0600;
  StatusOr<std::unique_ptr<platform::WritableFile>> out = fs.NewWritableFile(path, create);
  if (!out.ok()) return platform::Annotate("cannot create temporary file " + path, out.status());
  // The file is removed on every error path.
  struct RemoveOnError {
    const std::string& path;
    bool armed = true;
    ~RemoveOnError() {
      if (armed) (void)platform::FileSystem::Default().RemoveFile(path);
    }
  } guard{path};

  CurlHandle curl(curl_easy_init());
  if (!curl) return UnavailableError("cannot initialise libcurl");
  SourceHasher hasher(!source.sha256.empty());
  Sink sink{out->get(), &hasher, 0, OkStatus()};
  char error[CURL_ERROR_SIZE] = {0};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, source.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, options_.max_redirects);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_seconds);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options_.stall_timeout_seconds);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "glimmer-catalog/0.1");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &WriteToSink);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    if (!sink.write_error.ok()) {
      return platform::Annotate("cannot write temporary file " + path, sink.write_error);
    }
    std::string detail = error[0] ? error : curl_easy_strerror(rc);
    return UnavailableError("cannot download " + ForDisplay(source.url) + ": " + detail);
  }
  Status closed = (*out)->Close();
  if (!closed.ok()) return platform::Annotate("cannot write temporary file " + path, closed);
  hasher.Finish();
  RETURN_IF_ERROR(CheckDigests(source, hasher));
  guard.armed = false;
  return FetchedSource(path, /*temporary=*/true, sink.size, hasher.sha512());
}

}  // namespace glimmer::catalog
