#pragma once
// Fetching a catalog entry's bytes: local files are read where they are; http(s) URLs are
// downloaded (libcurl) into a temporary file under a scratch folder. Either way the bytes are
// hashed while they are read, with constant memory.
//
// Thread-safety: a SourceFetcher may be used by one thread at a time.
// Errors: NotFound (local file missing), Unavailable (network/HTTP failure, scratch folder not
// writable), InvalidArgument (digest given in the catalog does not match the bytes), and for
// other file errors the codes of platform/file.h (ResourceExhausted: the scratch disk is full).
// Downloads are written owner-only (a scratch folder created here is 0700, files 0600).

#include <cstdint>
#include <memory>
#include <string>

#include "catalog/catalog.h"
#include "common/status.h"

namespace glimmer::catalog {

// The bytes of a source, ready to upload. Owns its temporary file (removed on destruction).
class FetchedSource {
 public:
  FetchedSource() = default;
  FetchedSource(std::string path, bool temporary, int64_t size, std::string sha512);
  FetchedSource(FetchedSource&& other) noexcept;
  FetchedSource& operator=(FetchedSource&& other) noexcept;
  FetchedSource(const FetchedSource&) = delete;
  FetchedSource& operator=(const FetchedSource&) = delete;
  ~FetchedSource();

  const std::string& path() const { return path_; }
  int64_t size() const { return size_; }
  const std::string& sha512() const { return sha512_; }  // lowercase hex

 private:
  void Release();
  std::string path_;
  bool temporary_ = false;
  int64_t size_ = 0;
  std::string sha512_;
};

struct FetchOptions {
  std::string scratch_dir;           // downloads go here (created if missing)
  long connect_timeout_seconds = 30;
  // A download that transfers less than 1 byte/s for this long is aborted.
  long stall_timeout_seconds = 120;
  long max_redirects = 5;
};

class SourceFetcher {
 public:
  explicit SourceFetcher(FetchOptions options);
  StatusOr<FetchedSource> Fetch(const Source& source);

 private:
  StatusOr<FetchedSource> Download(const Source& source);
  FetchOptions options_;
};

// Lowercase hex digests of a stream of bytes (sha512 always, sha256 on request).
class SourceHasher {
 public:
  explicit SourceHasher(bool want_sha256);
  ~SourceHasher();
  SourceHasher(const SourceHasher&) = delete;
  SourceHasher& operator=(const SourceHasher&) = delete;
  void Update(const void* data, size_t n);
  void Finish();
  const std::string& sha512() const { return sha512_; }
  const std::string& sha256() const { return sha256_; }

 private:
  struct Contexts;
  std::unique_ptr<Contexts> ctx_;
  std::string sha512_, sha256_;
};

// Checks the digests the catalog states for `source` against `hasher`'s results.
Status CheckDigests(const Source& source, const SourceHasher& hasher);

}  // namespace glimmer::catalog
