#include "store/s3/s3_store.h"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "common/markup.h"
#include "platform/random.h"
#include "store/names.h"
#include "store/s3/s3_client.h"

namespace glimmer::store::s3 {
namespace {

using internal::CanonicalQuery;
using internal::Client;
using internal::Request;
using internal::Response;

constexpr int64_t kMiB = int64_t{1} << 20;
constexpr int kMaxParts = 10000;           // S3's limit
constexpr int64_t kMinPartMiB = 5;         // S3's minimum (except the last part)
constexpr int64_t kMaxPartMiB = 5 * 1024;  // S3's maximum part / single PUT size
constexpr size_t kMaxImageIdLength = 200;
constexpr size_t kMaxKeyLength = 255;
constexpr long kReadBufferSize = 256 * 1024;
constexpr int kMaxResumesPerRead = 2;
constexpr int kMaxListPages = 100000;


std::string Unquote(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

// ---- Option validation --------------------------------------------------------------------------

struct ParsedHost {
  std::string scheme;
  std::string host_port;
};

StatusOr<ParsedHost> ParseHost(std::string_view host) {
  ParsedHost out;
  out.scheme = "https";
  if (host.starts_with("http://")) {
    out.scheme = "http";
    host.remove_prefix(7);
  } else if (host.starts_with("https://")) {
    host.remove_prefix(8);
  } else if (host.find("://") != std::string_view::npos) {
    return InvalidArgumentError("s3_store_host: only http:// and https:// endpoints are supported");
  }
  if (host.ends_with("/")) host.remove_suffix(1);
  std::string_view name = host;
  std::string_view port;
  if (host.starts_with("[")) {  // [IPv6]:port
    const size_t close = host.find(']');
    if (close == std::string_view::npos) return InvalidArgumentError("s3_store_host: bad IPv6");
    for (char c : host.substr(1, close - 1)) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') {
        return InvalidArgumentError("s3_store_host: bad IPv6 address");
      }
    }
    name = host.substr(0, close + 1);
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return InvalidArgumentError("s3_store_host: bad host");
      port = rest.substr(1);
      if (port.empty()) return InvalidArgumentError("s3_store_host: empty port");
    }
  } else {
    const size_t colon = host.find(':');
    if (colon != std::string_view::npos) {
      name = host.substr(0, colon);
      port = host.substr(colon + 1);
      if (port.empty()) return InvalidArgumentError("s3_store_host: empty port");
    }
    if (name.empty() || name.size() > 253) return InvalidArgumentError("s3_store_host: no host");
    for (char c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') {
        return InvalidArgumentError(
            "s3_store_host must be [http[s]://]host[:port] without path, query or credentials");
      }
    }
  }
  if (!port.empty()) {
    if (port.size() > 5) return InvalidArgumentError("s3_store_host: bad port");
    int value = 0;
    for (char c : port) {
      if (c < '0' || c > '9') return InvalidArgumentError("s3_store_host: bad port");
      value = value * 10 + (c - '0');
    }
    if (value < 1 || value > 65535) return InvalidArgumentError("s3_store_host: bad port");
  }
  out.host_port = std::string(host);
  return out;
}

Status ValidateBucket(std::string_view bucket, bool virtual_host) {
  if (bucket.size() < 3 || bucket.size() > 63) {
    return InvalidArgumentError("s3_store_bucket must have 3 to 63 characters");
  }
  for (char c : bucket) {
    const bool dns = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    const bool relaxed = (c >= 'A' && c <= 'Z') || c == '_';
    if (!dns && (virtual_host || !relaxed)) {
      return InvalidArgumentError(virtual_host
                                      ? "s3_store_bucket must be [a-z0-9.-] for virtual-host URLs"
                                      : "s3_store_bucket must be [A-Za-z0-9._-]");
    }
  }
  if (!std::isalnum(static_cast<unsigned char>(bucket.front())) ||
      !std::isalnum(static_cast<unsigned char>(bucket.back()))) {
    return InvalidArgumentError("s3_store_bucket must start and end with a letter or digit");
  }
  return OkStatus();
}

StatusOr<bool> ParseBool(std::string_view key, std::string_view v) {
  std::string s;
  for (char c : v) s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "true" || s == "yes" || s == "on" || s == "1") return true;
  if (s == "false" || s == "no" || s == "off" || s == "0") return false;
  return InvalidArgumentError(std::string(key) + " must be a boolean");
}

StatusOr<int64_t> ParseInt(std::string_view key, std::string_view v) {
  if (v.empty() || v.size() > 15)
    return InvalidArgumentError(std::string(key) + " must be an integer");
  int64_t out = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return InvalidArgumentError(std::string(key) + " must be an integer");
    out = out * 10 + (c - '0');
  }
  return out;
}

// ---- Writer -------------------------------------------------------------------------------------

// Writers fail with the Writer interface's codes: ResourceExhausted, Unavailable, Internal (and
// Cancelled). An upload or bucket that vanished under the writer (e.g. aborted by a cleanup) or
// credentials refused mid-way make the store unavailable for this write (Glance answers 503 for
// store write failures); the message keeps S3's error code.
Status WriterError(Status s) {
  if (s.code() == StatusCode::kNotFound || s.code() == StatusCode::kPermissionDenied) {
    return UnavailableError(s.message());
  }
  return s;
}

// One part of a multipart upload. The runner (an executor thread, or the writer itself when it
// claims a queued part) owns `data` between kRunning and kDone; `status` and `etag` are written
// before kDone is published under UploadShared::mu.
struct PartTask {
  enum State : int { kQueued, kRunning, kDone };
  int number = 0;
  std::vector<std::byte> data;
  std::atomic<int> state{kQueued};
  Status status;
  std::string etag;
};

// What posted jobs may touch: kept alive by them, so the writer may go away with jobs queued.
struct UploadShared {
  std::shared_ptr<Client> client;
  std::string key;
  std::string upload_id;  // set before the first part is posted, constant afterwards
  std::atomic<bool> cancel{false};
  std::mutex mu;
  std::condition_variable cv;
};

bool TryClaim(PartTask& part) {
  int expected = PartTask::kQueued;
  return part.state.compare_exchange_strong(expected, PartTask::kRunning);
}

void MarkDone(UploadShared& up, PartTask& part) {
  {
    std::lock_guard lock(up.mu);
    part.state.store(PartTask::kDone);
  }
  up.cv.notify_all();
}

// Uploads a claimed part (with the client's retries) and publishes the outcome.
void RunPart(UploadShared& up, PartTask& part) {
  Request r;
  r.method = "PUT";
  r.key = up.key;
  r.query =
      CanonicalQuery({{"partNumber", std::to_string(part.number)}, {"uploadId", up.upload_id}});
  r.body.emplace_back(part.data.data(), part.data.size());
  r.cancel = &up.cancel;
  const std::string op = "upload of part " + std::to_string(part.number);
  StatusOr<Response> resp = up.client->Do(op, r);
  if (!resp.ok()) {
    part.status = resp.status();
  } else if (resp->etag.empty()) {
    part.status = InternalError("S3 " + op + " of " + up.client->Resource(up.key) +
                                " failed: no ETag in the answer");
  } else {
    part.etag = resp->etag;
  }
  MarkDone(up, part);
}

class S3Writer final : public Writer {
 public:
  S3Writer(std::shared_ptr<Client> client, platform::Executor& executor, std::string key,
           std::string location, int64_t threshold, size_t part_size, int window)
      : executor_(executor),
        location_(std::move(location)),
        threshold_(threshold),
        part_size_(part_size),
        window_(static_cast<size_t>(std::max(1, window))),
        shared_(std::make_shared<UploadShared>()) {
    shared_->client = std::move(client);
    shared_->key = std::move(key);
  }
  ~S3Writer() override { Abort(); }

  Status Append(std::span<const std::byte> data) override {
    if (state_ != kOpen) return FailedPreconditionError("image writer is finished");
    return WriterError(AppendData(data));
  }

  StatusOr<std::string> Commit() override {
    if (state_ != kOpen) return FailedPreconditionError("image writer is finished");
    Status status = Finish();
    if (!status.ok()) {
      Abort();
      return WriterError(std::move(status));
    }
    state_ = kCommitted;
    ReleaseBuffers();
    return location_;
  }

  void Abort() override {
    if (state_ != kOpen) return;
    state_ = kAborted;
    shared_->cancel.store(true);
    for (auto& part : in_flight_) {
      if (TryClaim(*part)) {
        std::vector<std::byte>().swap(part->data);
        part->status = CancelledError("upload aborted");
        MarkDone(*shared_, *part);
      }
    }
    {
      std::unique_lock lock(shared_->mu);
      shared_->cv.wait(lock, [&] {
        return std::all_of(in_flight_.begin(), in_flight_.end(),
                           [](const auto& p) { return p->state.load() == PartTask::kDone; });
      });
    }
    in_flight_.clear();
    ReleaseBuffers();
    if (!shared_->upload_id.empty() && !completed_) {
      // Best effort: an upload left behind is removed by a later CleanupIncomplete().
      (void)AbortUpload(*shared_->client, shared_->key, shared_->upload_id);
    }
  }

  std::string location() const override { return location_; }

  static Status AbortUpload(Client& client, const std::string& key, const std::string& id) {
    Request r;
    r.method = "DELETE";
    r.key = key;
    r.query = CanonicalQuery({{"uploadId", id}});
    StatusOr<Response> resp = client.Do("abort of multipart upload", r);
    if (!resp.ok() && resp.status().code() != StatusCode::kNotFound) return resp.status();
    return OkStatus();
  }

 private:
  enum State { kOpen, kCommitted, kAborted };

  Status AppendData(std::span<const std::byte> data) {
    if (multipart_) (void)Reap();  // keeps the first part failure in error_
    RETURN_IF_ERROR(error_);
    size_t pos = 0;
    while (pos < data.size()) {
      if (!multipart_ && total_ + static_cast<int64_t>(data.size() - pos) > threshold_) {
        error_ = StartMultipart();
        RETURN_IF_ERROR(error_);
      }
      if (current_.size() == part_size_) {
        if (multipart_) {
          RETURN_IF_ERROR(SubmitPart(std::move(current_)));
          current_ = NewBuffer();
        } else {
          blocks_.push_back(std::move(current_));
          current_ = NewBuffer();
        }
      }
      const size_t n = std::min(part_size_ - current_.size(), data.size() - pos);
      if (current_.capacity() < current_.size() + n) {  // first block grows; later ones are full
        current_.reserve(
            std::min(part_size_, std::max(current_.size() + n, 2 * current_.capacity())));
      }
      current_.insert(current_.end(), data.begin() + static_cast<ptrdiff_t>(pos),
                      data.begin() + static_cast<ptrdiff_t>(pos + n));
      pos += n;
      total_ += static_cast<int64_t>(n);
    }
    return OkStatus();
  }

  std::vector<std::byte> NewBuffer() {
    std::vector<std::byte> buf;
    if (!free_.empty()) {
      buf = std::move(free_.back());
      free_.pop_back();
      buf.clear();
    } else if (multipart_) {
      buf.reserve(part_size_);
    }
    return buf;
  }

  void ReleaseBuffers() {
    free_.clear();
    blocks_.clear();
    std::vector<std::byte>().swap(current_);
  }

  Status StartMultipart() {
    Request r;
    r.method = "POST";
    r.key = shared_->key;
    r.query = CanonicalQuery({{"uploads", ""}});
    r.headers.push_back("Content-Type: application/octet-stream");
    ASSIGN_OR_RETURN(Response resp, shared_->client->Do("start of multipart upload", r));
    std::optional<std::string> id = internal::XmlText(resp.body, "UploadId");
    if (!id.has_value() || id->empty()) {
      return InternalError("S3 start of multipart upload of " +
                           shared_->client->Resource(shared_->key) + " returned no UploadId");
    }
    shared_->upload_id = *id;
    multipart_ = true;
    std::vector<std::vector<std::byte>> blocks = std::move(blocks_);
    blocks_.clear();
    for (auto& block : blocks) RETURN_IF_ERROR(SubmitPart(std::move(block)));
    return OkStatus();
  }

  // Moves finished parts out of the window: records ETags, keeps the first error, recycles
  // buffers. Returns error_.
  Status Reap() {
    for (auto it = in_flight_.begin(); it != in_flight_.end();) {
      PartTask& part = **it;
      if (part.state.load() != PartTask::kDone) {
        ++it;
        continue;
      }
      if (!part.status.ok()) {
        if (error_.ok()) error_ = part.status;
      } else {
        etags_[static_cast<size_t>(part.number - 1)] = part.etag;
      }
      if (free_.empty() && part.data.capacity() == part_size_) {
        free_.push_back(std::move(part.data));
      }
      it = in_flight_.erase(it);
    }
    return error_;
  }

  // Waits until at most `limit` parts are in flight, running queued parts itself rather than
  // waiting for the executor to start them.
  Status WaitForWindow(size_t limit) {
    for (;;) {
      RETURN_IF_ERROR(Reap());
      if (in_flight_.size() <= limit) return OkStatus();
      bool ran = false;
      for (auto& part : in_flight_) {
        if (TryClaim(*part)) {
          RunPart(*shared_, *part);
          ran = true;
          break;
        }
      }
      if (ran) continue;
      std::unique_lock lock(shared_->mu);
      shared_->cv.wait(lock, [&] {
        return std::any_of(in_flight_.begin(), in_flight_.end(),
                           [](const auto& p) { return p->state.load() == PartTask::kDone; });
      });
    }
  }

  Status SubmitPart(std::vector<std::byte> data) {
    if (next_part_ > kMaxParts) {
      error_ = ResourceExhaustedError("image data exceeds S3's limit of 10000 parts of " +
                                      std::to_string(part_size_ / kMiB) +
                                      " MiB (raise s3_store_large_object_chunk_size)");
      return error_;
    }
    error_ = WaitForWindow(window_ - 1);
    RETURN_IF_ERROR(error_);
    auto part = std::make_shared<PartTask>();
    part->number = next_part_++;
    part->data = std::move(data);
    etags_.emplace_back();
    in_flight_.push_back(part);
    executor_.Post([up = shared_, part] {
      if (TryClaim(*part)) RunPart(*up, *part);
    });
    return OkStatus();
  }

  Status Finish() {
    RETURN_IF_ERROR(error_);
    Client& client = *shared_->client;
    if (!multipart_) {
      Request r;
      r.method = "PUT";
      r.key = shared_->key;
      r.headers.push_back("Content-Type: application/octet-stream");
      for (const auto& b : blocks_) r.body.emplace_back(b.data(), b.size());
      if (!current_.empty()) r.body.emplace_back(current_.data(), current_.size());
      return client.Do("upload of object", r).status();
    }
    if (!current_.empty()) {
      RETURN_IF_ERROR(SubmitPart(std::move(current_)));
      current_.clear();
    }
    RETURN_IF_ERROR(WaitForWindow(0));
    std::string xml = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < etags_.size(); ++i) {
      xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
             EscapeMarkup(etags_[i]) + "</ETag></Part>";
    }
    xml += "</CompleteMultipartUpload>";
    Request r;
    r.method = "POST";
    r.key = shared_->key;
    r.query = CanonicalQuery({{"uploadId", shared_->upload_id}});
    r.headers.push_back("Content-Type: application/xml");
    r.body.emplace_back(reinterpret_cast<const std::byte*>(xml.data()), xml.size());
    const std::string op = "completion of multipart upload";
    StatusOr<Response> resp = client.Do(op, r);
    if (!resp.ok()) {
      // A retried completion finds the upload gone when the first attempt succeeded unseen.
      if (resp.status().code() == StatusCode::kNotFound && CompletedUnseen(client)) {
        completed_ = true;
        return OkStatus();
      }
      return resp.status();
    }
    // S3 may answer 200 and report the failure in the body.
    if (internal::XmlElements(resp->body, "Error").size() > 0 ||
        resp->body.find("<CompleteMultipartUploadResult") == std::string::npos) {
      const std::string code = internal::XmlText(resp->body, "Code").value_or("");
      const std::string message = internal::XmlText(resp->body, "Message").value_or("");
      Status s = internal::MapS3Error(op, client.Resource(shared_->key), resp->http_status,
                                      code.empty() ? "InternalError" : code, message);
      return s;
    }
    completed_ = true;
    return OkStatus();
  }

  bool CompletedUnseen(Client& client) {
    Request r;
    r.method = "HEAD";
    r.key = shared_->key;
    StatusOr<Response> head = client.Do("check of completed upload", r);
    const std::string suffix = "-" + std::to_string(etags_.size());
    return head.ok() && Unquote(head->etag).ends_with(suffix) && head->content_length == total_;
  }

  platform::Executor& executor_;
  const std::string location_;
  const int64_t threshold_;  // a stream of at most this many bytes is sent with one PUT
  const size_t part_size_;
  const size_t window_;
  std::shared_ptr<UploadShared> shared_;

  State state_ = kOpen;
  Status error_;  // first failure; the writer only aborts afterwards
  int64_t total_ = 0;
  bool multipart_ = false;
  bool completed_ = false;
  std::vector<std::vector<std::byte>> blocks_;  // single-PUT candidate: full blocks
  std::vector<std::byte> current_;              // block / part being filled
  std::vector<std::vector<std::byte>> free_;    // at most one recycled part buffer
  std::deque<std::shared_ptr<PartTask>> in_flight_;
  std::vector<std::string> etags_;  // by part number - 1
  int next_part_ = 1;
};

// ---- Reader -------------------------------------------------------------------------------------

class S3Reader final : public Reader {
 public:
  S3Reader(std::shared_ptr<Client> client, std::string key, int64_t size, std::string etag)
      : client_(std::move(client)), key_(std::move(key)), size_(size), etag_(std::move(etag)) {}
  ~S3Reader() override {
    StopStream();
    if (multi_ != nullptr) curl_multi_cleanup(multi_);
    if (easy_ != nullptr) curl_easy_cleanup(easy_);
  }

  int64_t size() const override { return size_; }

  StatusOr<size_t> ReadAt(int64_t offset, std::span<std::byte> out) override {
    if (offset < 0) return OutOfRangeError("negative read offset");
    if (offset >= size_ || out.empty()) return size_t{0};
    const size_t want =
        static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(out.size()), size_ - offset));
    if (!active_ || offset != pos_) RETURN_IF_ERROR(StartStream(offset));
    size_t got = 0;
    if (leftover_off_ < leftover_.size()) {
      const size_t n = std::min(want, leftover_.size() - leftover_off_);
      std::memcpy(out.data(), leftover_.data() + leftover_off_, n);
      leftover_off_ += n;
      got += n;
      pos_ += static_cast<int64_t>(n);
      if (leftover_off_ == leftover_.size()) {
        leftover_.clear();
        leftover_off_ = 0;
      }
    }
    int resumes = 0;
    while (got < want) {
      dst_ = out.data() + got;
      dst_left_ = want - got;
      Status driven = Drive();
      const size_t n = (want - got) - dst_left_;
      dst_ = nullptr;
      dst_left_ = 0;
      got += n;
      pos_ += static_cast<int64_t>(n);
      if (!driven.ok()) {
        StopStream();
        return driven;
      }
      if (got == want) break;
      bool resumable = false;
      Status ended = StreamEndStatus(&resumable);
      StopStream();
      if (!resumable || ++resumes > kMaxResumesPerRead) return ended;
      std::this_thread::sleep_for(std::chrono::milliseconds(100 * resumes));
      RETURN_IF_ERROR(StartStream(pos_));
    }
    return got;
  }

 private:
  static size_t OnData(char* data, size_t size, size_t nmemb, void* user) {
    auto* self = static_cast<S3Reader*>(user);
    const size_t len = size * nmemb;
    if (!self->status_checked_) {
      self->status_checked_ = true;
      long code = 0;
      curl_easy_getinfo(self->easy_, CURLINFO_RESPONSE_CODE, &code);
      self->error_response_ = !(code == 206 || (code == 200 && self->stream_start_ == 0));
    }
    if (self->error_response_) {
      if (self->error_body_.size() < 64 * 1024) self->error_body_.append(data, len);
      return len;
    }
    if (self->dst_left_ == 0) {
      self->paused_ = true;
      return CURL_WRITEFUNC_PAUSE;
    }
    const size_t n = std::min(len, self->dst_left_);
    std::memcpy(self->dst_, data, n);
    self->dst_ += n;
    self->dst_left_ -= n;
    if (n < len) {  // leftover_ is empty whenever dst_left_ > 0
      self->leftover_.assign(reinterpret_cast<const std::byte*>(data) + n,
                             reinterpret_cast<const std::byte*>(data) + len);
      self->leftover_off_ = 0;
    }
    return len;
  }

  Status StartStream(int64_t offset) {
    StopStream();
    if (multi_ == nullptr) multi_ = curl_multi_init();
    if (easy_ == nullptr) {
      easy_ = curl_easy_init();
    } else {
      curl_easy_reset(easy_);
    }
    if (multi_ == nullptr || easy_ == nullptr) return InternalError("curl initialisation failed");
    std::vector<std::string> headers = {"Range: bytes=" + std::to_string(offset) + "-"};
    if (!etag_.empty()) headers.push_back("If-Match: \"" + etag_ + "\"");
    RETURN_IF_ERROR(client_->PrepareGet(easy_, key_, headers, &headers_, errbuf_));
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &S3Reader::OnData);
    curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy_, CURLOPT_BUFFERSIZE, kReadBufferSize);
    errbuf_[0] = '\0';
    stream_start_ = offset;
    pos_ = offset;
    leftover_.clear();
    leftover_off_ = 0;
    paused_ = false;
    done_ = false;
    done_code_ = CURLE_OK;
    status_checked_ = false;
    error_response_ = false;
    error_body_.clear();
    if (curl_multi_add_handle(multi_, easy_) != CURLM_OK) {
      return InternalError("curl_multi_add_handle failed");
    }
    active_ = true;
    return OkStatus();
  }

  void StopStream() {
    if (active_) {
      curl_multi_remove_handle(multi_, easy_);
      active_ = false;
    }
    if (headers_ != nullptr) {
      curl_slist_free_all(headers_);
      headers_ = nullptr;
    }
    leftover_.clear();
    leftover_off_ = 0;
  }

  // Runs the transfer on this thread until dst_left_ == 0 or the transfer ends.
  Status Drive() {
    while (dst_left_ > 0 && !done_) {
      if (paused_) {
        paused_ = false;
        curl_easy_pause(easy_, CURLPAUSE_CONT);  // may deliver buffered data at once
        if (dst_left_ == 0) break;
      }
      int running = 0;
      if (curl_multi_perform(multi_, &running) != CURLM_OK) {
        return InternalError("curl_multi_perform failed reading " + client_->Resource(key_));
      }
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy_) {
          done_ = true;
          done_code_ = msg->data.result;
        }
      }
      if (dst_left_ == 0 || done_) break;
      if (paused_) continue;
      if (curl_multi_poll(multi_, nullptr, 0, 1000, nullptr) != CURLM_OK) {
        return InternalError("curl_multi_poll failed reading " + client_->Resource(key_));
      }
    }
    return OkStatus();
  }

  // Why the stream ended before delivering what was asked; *resumable when a new ranged GET
  // at the current offset may succeed.
  Status StreamEndStatus(bool* resumable) {
    *resumable = false;
    long code = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &code);
    const std::string resource = client_->Resource(key_);
    const bool good_status = code == 206 || (code == 200 && stream_start_ == 0);
    if (code != 0 && !good_status) {
      if (code == 412) {
        return AbortedError("S3 read of " + resource +
                            " failed: the object changed during the read");
      }
      if (code == 200) {
        return InternalError("S3 read of " + resource + " failed: the server ignored the Range");
      }
      return internal::MapS3Error("read of object", resource, code,
                                  internal::XmlText(error_body_, "Code").value_or(""),
                                  internal::XmlText(error_body_, "Message").value_or(""));
    }
    if (done_code_ != CURLE_OK) {
      *resumable = internal::IsRetryableCurlError(done_code_);
      return internal::MapCurlError("read of object", resource, done_code_, errbuf_);
    }
    *resumable = true;
    return UnavailableError("S3 read of " + resource + " failed: the stream ended at offset " +
                            std::to_string(pos_) + " of " + std::to_string(size_));
  }

  const std::shared_ptr<Client> client_;
  const std::string key_;
  const int64_t size_;
  const std::string etag_;

  CURLM* multi_ = nullptr;
  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;
  char errbuf_[CURL_ERROR_SIZE] = {};
  bool active_ = false;  // easy_ is in multi_
  bool paused_ = false;  // the write callback paused the transfer
  bool done_ = false;    // the transfer ended
  CURLcode done_code_ = CURLE_OK;
  bool status_checked_ = false;
  bool error_response_ = false;
  std::string error_body_;
  int64_t stream_start_ = 0;
  int64_t pos_ = 0;  // offset of the next byte handed out (leftover_ first, then the stream)
  std::vector<std::byte> leftover_;  // at most one callback's worth
  size_t leftover_off_ = 0;
  std::byte* dst_ = nullptr;  // target of the ReadAt in progress
  size_t dst_left_ = 0;
};

}  // namespace

// ---- Options ------------------------------------------------------------------------------------

StatusOr<S3StoreOptions> S3StoreOptions::FromConfig(
    std::string store_id, const std::map<std::string, std::string>& section) {
  S3StoreOptions o;
  o.store_id = std::move(store_id);
  auto get = [&](const char* key) -> const std::string* {
    auto it = section.find(key);
    return it == section.end() ? nullptr : &it->second;
  };
  if (auto* v = get("s3_store_host")) o.host = *v;
  if (auto* v = get("s3_store_access_key")) o.access_key = *v;
  if (auto* v = get("s3_store_secret_key")) o.secret_key = *v;
  if (auto* v = get("s3_store_bucket")) o.bucket = *v;
  if (auto* v = get("s3_store_create_bucket_on_put")) {
    ASSIGN_OR_RETURN(o.create_bucket_on_put, ParseBool("s3_store_create_bucket_on_put", *v));
  }
  if (auto* v = get("s3_store_bucket_url_format")) o.bucket_url_format = *v;
  if (auto* v = get("s3_store_region_name"); v != nullptr && !v->empty()) o.region_name = *v;
  if (auto* v = get("s3_store_large_object_size")) {
    ASSIGN_OR_RETURN(o.large_object_size_mib, ParseInt("s3_store_large_object_size", *v));
  }
  if (auto* v = get("s3_store_large_object_chunk_size")) {
    ASSIGN_OR_RETURN(o.large_object_chunk_size_mib,
                     ParseInt("s3_store_large_object_chunk_size", *v));
  }
  if (auto* v = get("s3_store_thread_pools")) {
    ASSIGN_OR_RETURN(const int64_t n, ParseInt("s3_store_thread_pools", *v));
    if (n > 1000) return InvalidArgumentError("s3_store_thread_pools is too large");
    o.thread_pools = static_cast<int>(n);
  }
  if (auto* v = get("s3_store_cacert")) o.cacert = *v;
  if (auto* v = get("s3_store_incomplete_upload_ttl")) {
    ASSIGN_OR_RETURN(o.incomplete_upload_ttl_seconds,
                     ParseInt("s3_store_incomplete_upload_ttl", *v));
  }
  if (auto* v = get("s3_store_connect_timeout_ms")) {
    ASSIGN_OR_RETURN(o.connect_timeout_ms, ParseInt("s3_store_connect_timeout_ms", *v));
  }
  if (auto* v = get("store_description"); v != nullptr && !v->empty()) o.description = *v;
  return o;
}

// ---- Store --------------------------------------------------------------------------------------

S3Store::S3Store(S3StoreOptions options, std::shared_ptr<Client> client,
                 platform::Executor& executor, const platform::Clock& clock, std::string host_port)
    : options_(std::move(options)),
      client_(std::move(client)),
      executor_(executor),
      clock_(clock),
      location_prefix_("s3://" + host_port + "/" + options_.bucket + "/") {
  info_.id = options_.store_id;
  info_.type = "s3";
  info_.description = options_.description;
}

S3Store::~S3Store() = default;

StatusOr<std::unique_ptr<S3Store>> S3Store::Create(S3StoreOptions options,
                                                   platform::Executor& executor,
                                                   const platform::Clock& clock) {
  if (options.store_id.empty()) return InvalidArgumentError("S3 store id is empty");
  if (options.host.empty()) return InvalidArgumentError("s3_store_host is not set");
  ASSIGN_OR_RETURN(ParsedHost host, ParseHost(options.host));
  std::string format = options.bucket_url_format;
  if (format == "auto" || format.empty()) format = "path";
  if (format != "path" && format != "virtual") {
    return InvalidArgumentError("s3_store_bucket_url_format must be path or virtual");
  }
  RETURN_IF_ERROR(ValidateBucket(options.bucket, format == "virtual"));
  if (options.access_key.empty()) return InvalidArgumentError("s3_store_access_key is not set");
  if (options.secret_key.empty()) return InvalidArgumentError("s3_store_secret_key is not set");
  for (char c : options.region_name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return InvalidArgumentError("s3_store_region_name must be [A-Za-z0-9_-]");
    }
  }
  if (options.region_name.empty()) options.region_name = "us-east-1";
  if (options.large_object_size_mib < 0 || options.large_object_size_mib > kMaxPartMiB) {
    return InvalidArgumentError("s3_store_large_object_size must be 0 to 5120 (MiB)");
  }
  if (options.large_object_chunk_size_mib < kMinPartMiB ||
      options.large_object_chunk_size_mib > kMaxPartMiB) {
    return InvalidArgumentError("s3_store_large_object_chunk_size must be 5 to 5120 (MiB)");
  }
  if (options.thread_pools < 1 || options.thread_pools > 1000) {
    return InvalidArgumentError("s3_store_thread_pools must be 1 to 1000");
  }
  if (options.incomplete_upload_ttl_seconds < 0) {
    return InvalidArgumentError("s3_store_incomplete_upload_ttl must not be negative");
  }
  if (options.connect_timeout_ms <= 0) {
    return InvalidArgumentError("s3_store_connect_timeout_ms must be positive");
  }
  options.bucket_url_format = format;

  internal::ClientConfig cc;
  cc.scheme = host.scheme;
  cc.host_port = host.host_port;
  cc.bucket = options.bucket;
  cc.virtual_host = format == "virtual";
  cc.region = options.region_name;
  cc.access_key = options.access_key;
  cc.secret_key = options.secret_key;
  cc.ca_file = options.cacert;
  cc.connect_timeout_ms = static_cast<long>(options.connect_timeout_ms);
  auto client = std::make_shared<Client>(std::move(cc));
  std::unique_ptr<S3Store> store(
      new S3Store(std::move(options), std::move(client), executor, clock, host.host_port));
  RETURN_IF_ERROR(store->CheckBucket());
  return store;
}

Status S3Store::CheckBucket() {
  Request head;
  head.method = "HEAD";
  StatusOr<Response> found = client_->Do("check of bucket", head);
  if (found.ok()) return OkStatus();
  if (found.status().code() != StatusCode::kNotFound) return found.status();
  if (!options_.create_bucket_on_put) {
    return NotFoundError("S3 bucket " + options_.bucket +
                         " does not exist (and s3_store_create_bucket_on_put is false)");
  }
  Request create;
  create.method = "PUT";
  std::string xml;
  if (options_.region_name != "us-east-1") {
    xml = "<CreateBucketConfiguration><LocationConstraint>" +
          EscapeMarkup(options_.region_name) +
          "</LocationConstraint></CreateBucketConfiguration>";
    create.headers.push_back("Content-Type: application/xml");
    create.body.emplace_back(reinterpret_cast<const std::byte*>(xml.data()), xml.size());
  }
  StatusOr<Response> created = client_->Do("creation of bucket", create);
  if (created.ok()) return OkStatus();
  // Another node may have created it meanwhile.
  if (client_->Do("check of bucket", head).ok()) return OkStatus();
  return created.status();
}

std::string S3Store::LocationForKey(std::string_view key) const {
  return location_prefix_ + std::string(key);
}

StatusOr<std::string> S3Store::KeyForLocation(std::string_view location) const {
  if (location.starts_with(location_prefix_)) {
    const std::string_view key = location.substr(location_prefix_.size());
    if (IsSafeDataName(key, kMaxKeyLength)) return std::string(key);
  }
  return InvalidArgumentError("location is not in this image store");
}

bool S3Store::Owns(std::string_view location) const { return KeyForLocation(location).ok(); }

StatusOr<std::unique_ptr<Writer>> S3Store::NewWriter(std::string_view image_id,
                                                     std::optional<int64_t> size_hint) {
  if (!IsSafeDataName(image_id, kMaxImageIdLength)) {
    return InvalidArgumentError("image id is not usable as an S3 object key");
  }
  std::string key(image_id);
  Request head;
  head.method = "HEAD";
  head.key = key;
  StatusOr<Response> existing = client_->Do("check of object", head);
  if (existing.ok()) {
    key += "." + platform::RandomHex(6);  // never overwrite committed data
  } else if (existing.status().code() != StatusCode::kNotFound) {
    return existing.status();
  }

  int64_t part = options_.large_object_chunk_size_mib * kMiB;
  int64_t threshold = options_.large_object_size_mib * kMiB;
  if (size_hint.has_value() && *size_hint > threshold) {
    const int64_t needed = (*size_hint + kMaxParts - 1) / kMaxParts;
    if (needed > part) part = std::min((needed + kMiB - 1) / kMiB * kMiB, kMaxPartMiB * kMiB);
    threshold = -1;  // multipart from the first byte
  }
  return std::unique_ptr<Writer>(
      std::make_unique<S3Writer>(client_, executor_, key, LocationForKey(key), threshold,
                                 static_cast<size_t>(part), options_.thread_pools));
}

StatusOr<ObjectInfo> S3Store::Stat(std::string_view location) {
  ASSIGN_OR_RETURN(const std::string key, KeyForLocation(location));
  Request head;
  head.method = "HEAD";
  head.key = key;
  ASSIGN_OR_RETURN(Response resp, client_->Do("check of object", head));
  if (resp.content_length < 0) {
    return InternalError("S3 check of object of " + client_->Resource(key) +
                         " failed: no Content-Length");
  }
  return ObjectInfo{resp.content_length, Unquote(resp.etag)};
}

StatusOr<std::unique_ptr<Reader>> S3Store::Open(std::string_view location) {
  ASSIGN_OR_RETURN(const std::string key, KeyForLocation(location));
  ASSIGN_OR_RETURN(ObjectInfo info, Stat(location));
  return std::unique_ptr<Reader>(
      std::make_unique<S3Reader>(client_, key, info.size, std::move(info.etag)));
}

Status S3Store::Delete(std::string_view location) {
  ASSIGN_OR_RETURN(const std::string key, KeyForLocation(location));
  RETURN_IF_ERROR(Stat(location).status());  // S3 answers 204 for absent objects too
  Request del;
  del.method = "DELETE";
  del.key = key;
  return client_->Do("deletion of object", del).status();
}

StatusOr<std::vector<IncompleteUpload>> S3Store::ListIncompleteUploads() {
  std::vector<IncompleteUpload> out;
  std::string key_marker;
  std::string id_marker;
  for (int page = 0; page < kMaxListPages; ++page) {
    std::vector<std::pair<std::string, std::string>> params = {{"uploads", ""}};
    if (!key_marker.empty()) params.emplace_back("key-marker", key_marker);
    if (!id_marker.empty()) params.emplace_back("upload-id-marker", id_marker);
    Request list;
    list.method = "GET";
    list.query = CanonicalQuery(std::move(params));
    list.max_response_body = size_t{16} << 20;
    ASSIGN_OR_RETURN(Response resp, client_->Do("listing of multipart uploads", list));
    for (std::string_view upload : internal::XmlElements(resp.body, "Upload")) {
      IncompleteUpload u;
      u.key = internal::XmlText(upload, "Key").value_or("");
      u.upload_id = internal::XmlText(upload, "UploadId").value_or("");
      const std::string initiated = internal::XmlText(upload, "Initiated").value_or("");
      const std::optional<UnixMicros> t = ParseIso8601(initiated);
      if (u.key.empty() || u.upload_id.empty() || !t.has_value()) {
        return InternalError("S3 listing of multipart uploads of bucket " + options_.bucket +
                             " returned a malformed <Upload>");
      }
      u.initiated = *t;
      out.push_back(std::move(u));
    }
    if (internal::XmlText(resp.body, "IsTruncated").value_or("false") != "true") return out;
    std::string next_key = internal::XmlText(resp.body, "NextKeyMarker").value_or("");
    std::string next_id = internal::XmlText(resp.body, "NextUploadIdMarker").value_or("");
    if (next_key.empty() || (next_key == key_marker && next_id == id_marker)) {
      return InternalError("S3 listing of multipart uploads of bucket " + options_.bucket +
                           " is truncated without a usable marker");
    }
    key_marker = std::move(next_key);
    id_marker = std::move(next_id);
  }
  return InternalError("S3 listing of multipart uploads of bucket " + options_.bucket +
                       " has too many pages");
}

Status S3Store::CleanupIncomplete() {
  ASSIGN_OR_RETURN(std::vector<IncompleteUpload> uploads, ListIncompleteUploads());
  const UnixMicros now = clock_.Now();
  const UnixMicros ttl = options_.incomplete_upload_ttl_seconds * 1000000;
  Status first_error;
  for (const IncompleteUpload& u : uploads) {
    if (!IsSafeDataName(u.key, kMaxKeyLength)) continue;  // not a key this store writes
    if (u.initiated + ttl > now) continue;            // possibly a live upload of some node
    Status s = S3Writer::AbortUpload(*client_, u.key, u.upload_id);
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  return first_error;
}

}  // namespace glimmer::store::s3
