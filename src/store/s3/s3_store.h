#pragma once
// S3Store: image data as one object per image in an S3 bucket (Amazon S3, Ceph RADOS Gateway,
// any S3-compatible service), through libcurl with its built-in AWS SigV4 signing. Options
// follow Glance's `s3` store (see S3StoreOptions).
//
// Locations are `s3://<host[:port]>/<bucket>/<key>` (Glance's form without credentials: secrets
// never appear in a location, which is stored in the database). The key is the image id, or
// `<image id>.<random hex>` when an object of that name already exists (committed data is never
// overwritten). Locations are untrusted text: only this store's host and bucket and a key that
// is a single component of [A-Za-z0-9._-] (not starting with '.', at most 255 characters) are
// accepted; anything else is InvalidArgument.
//
// Writes: nothing is visible before Commit(). Appended bytes are buffered up to
// `s3_store_large_object_size`; a stream that ends within it is sent with one PUT. Beyond it (or
// from the start when the size hint exceeds it) the writer switches to a multipart upload: parts
// of `s3_store_large_object_chunk_size` are uploaded in parallel on the Executor, at most
// `s3_store_thread_pools` in flight; Append() blocks while the window is full, so a writer holds
// at most about max(large_object_size, (thread_pools + 1) x chunk size) bytes, whatever the image
// size (defaults: 704 MiB; size the options for the concurrent uploads expected). Progress never
// depends on the Executor: a caller waiting for the window runs queued parts itself, so a busy
// pool (or the pool the caller runs on) slows an upload down but cannot deadlock it. A part that
// fails with a 5xx or a transport error is retried (3 attempts, backoff 0.2 s, 0.8 s). Every
// payload is signed with its SHA-256 (x-amz-content-sha256), so the server verifies each part.
// Commit() completes the upload with the parts' ETags (a 200 answer carrying an <Error> is a
// failure). Abort(), the destructor of an uncommitted writer and any failure cancel the parts in
// flight and abort the multipart upload, so no incomplete upload is left behind (unless the
// process dies: see CleanupIncomplete()). S3 allows 10000 parts: with a size hint the part size
// grows to fit it, without one an image beyond 10000 x chunk size fails with ResourceExhausted.
//
// Reads: Open() HEADs the object (size, ETag). Sequential ReadAt() calls are served from one
// streaming ranged GET (`Range: bytes=<offset>-`, `If-Match: <ETag>`) driven on the caller's
// thread and paused between calls (memory: one curl buffer, 256 KiB); a read at another offset
// starts a new ranged GET. ReadAt() fills the whole span unless the object ends first. A stream
// that breaks mid-way is resumed at the current offset (twice per call at most). If the object
// changes under a reader, reads fail with Aborted.
//
// Errors (one mapping, s3_client.h MapS3Error): 404/NoSuchKey/NoSuchBucket -> NotFound,
// 403/AccessDenied/SignatureDoesNotMatch -> PermissionDenied, 507/EntityTooLarge/QuotaExceeded
// -> ResourceExhausted, 5xx and transport failures -> Unavailable, others -> Internal; messages
// name the operation, the bucket and key, and S3's error code (never a credential). Writers
// fail only with the Writer codes: a NotFound or PermissionDenied during a write (upload aborted
// by someone else, bucket removed, credentials revoked) is reported as Unavailable.
//
// Thread-safety: all S3Store methods may be called concurrently; a Writer/Reader by one thread at
// a time. Writers and Readers share the store's HTTP client (not the store) and may outlive the
// store; the Executor must outlive the store and every Writer.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "platform/clock.h"
#include "platform/executor.h"
#include "store/store.h"

namespace glimmer::store::s3 {

namespace internal {
class Client;
}  // namespace internal

struct S3StoreOptions {
  std::string store_id = "s3";
  std::string host;        // s3_store_host: "http://127.0.0.1:47480", "https://s3.example.com"
                           // (no scheme: https); no path, query or credentials
  std::string access_key;  // s3_store_access_key
  std::string secret_key;  // s3_store_secret_key
  std::string bucket;      // s3_store_bucket: 3-63 chars, [a-z0-9.-] ([A-Za-z0-9._-] if path)
  bool create_bucket_on_put = false;         // s3_store_create_bucket_on_put (done by Create())
  std::string bucket_url_format = "path";    // s3_store_bucket_url_format: path | virtual
                                             // ("auto" is taken as path)
  std::string region_name = "us-east-1";     // s3_store_region_name (RGW accepts any)
  int64_t large_object_size_mib = 100;       // s3_store_large_object_size: single-PUT limit
  // s3_store_large_object_chunk_size: >= 5. Glance's default: with 10 parts in flight an
  // upload holds about 110 MiB.
  int64_t large_object_chunk_size_mib = 10;
  int thread_pools = 10;                     // s3_store_thread_pools: parts in flight, >= 1
  std::string cacert;                        // s3_store_cacert: CA bundle for https
  // s3_store_incomplete_upload_ttl (seconds): CleanupIncomplete() aborts multipart uploads
  // initiated longer ago than this. Must exceed the longest upload of any node sharing the
  // bucket (Glimmer's task_time_limit is 4 h).
  int64_t incomplete_upload_ttl_seconds = 24 * 3600;
  int64_t connect_timeout_ms = 10000;  // s3_store_connect_timeout_ms (Glimmer's own)
  std::string description;  // store_description (empty: none, as Glance shows it)

  // Reads Glance's option names from a backend section (values as text; unknown keys are
  // ignored). InvalidArgument names the bad option.
  static StatusOr<S3StoreOptions> FromConfig(std::string store_id,
                                             const std::map<std::string, std::string>& section);
};

// An object's metadata as HEAD returns it.
struct ObjectInfo {
  int64_t size = 0;
  std::string etag;  // without quotes; "<md5>-<parts>" for multipart uploads
};

// A multipart upload that was initiated and neither completed nor aborted.
struct IncompleteUpload {
  std::string key;
  std::string upload_id;
  UnixMicros initiated = 0;
};

class S3Store final : public Store {
 public:
  // Validates the options (InvalidArgument naming the option), then checks the bucket with a
  // HEAD: creates it when missing and create_bucket_on_put, else NotFound; PermissionDenied for
  // refused credentials; Unavailable when the endpoint cannot be reached. `clock` dates
  // incomplete uploads for CleanupIncomplete(); both must outlive the store.
  static StatusOr<std::unique_ptr<S3Store>> Create(
      S3StoreOptions options, platform::Executor& executor,
      const platform::Clock& clock = platform::Clock::Real());
  ~S3Store() override;

  // Call before sharing the store.
  void set_is_default(bool is_default) { info_.is_default = is_default; }
  void set_description(std::string description) { info_.description = std::move(description); }
  void set_weight(int64_t weight) { info_.weight = weight; }

  const StoreInfo& info() const override { return info_; }
  // InvalidArgument for an image id that is not a safe key ([A-Za-z0-9._-], not starting with
  // '.', at most 200 chars). One HEAD to pick a key that holds no committed data.
  StatusOr<std::unique_ptr<Writer>> NewWriter(std::string_view image_id,
                                              std::optional<int64_t> size_hint) override;
  // NotFound if the object is absent; InvalidArgument if not a location of this store.
  StatusOr<std::unique_ptr<Reader>> Open(std::string_view location) override;
  // HEAD then DELETE: NotFound if already absent; InvalidArgument if not a location of this store.
  Status Delete(std::string_view location) override;
  bool Owns(std::string_view location) const override;
  // Aborts the bucket's incomplete multipart uploads initiated more than
  // incomplete_upload_ttl_seconds ago (by the clock given to Create(), against S3's Initiated
  // time). Several Glimmer nodes may share a bucket: uploads of live nodes are younger than the
  // TTL and are left alone; only keys that this store could have written are considered.
  // Returns the first error; continues past individual failures.
  Status CleanupIncomplete() override;

  // HEAD of the object at `location`. NotFound, InvalidArgument as Open().
  StatusOr<ObjectInfo> Stat(std::string_view location);
  // Every incomplete multipart upload in the bucket (all pages of ListMultipartUploads).
  StatusOr<std::vector<IncompleteUpload>> ListIncompleteUploads();

  // The object key a location designates, or InvalidArgument.
  StatusOr<std::string> KeyForLocation(std::string_view location) const;
  std::string LocationForKey(std::string_view key) const;

  const S3StoreOptions& options() const { return options_; }

 private:
  S3Store(S3StoreOptions options, std::shared_ptr<internal::Client> client,
          platform::Executor& executor, const platform::Clock& clock, std::string host_port);
  Status CheckBucket();

  StoreInfo info_;
  const S3StoreOptions options_;
  const std::shared_ptr<internal::Client> client_;
  platform::Executor& executor_;
  const platform::Clock& clock_;
  const std::string location_prefix_;  // "s3://<host_port>/<bucket>/"
};

}  // namespace glimmer::store::s3
