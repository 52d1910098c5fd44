#pragma once
// Glimmer's one error model: every fallible call that crosses a component boundary returns
// Status or StatusOr<T>. Codes follow abseil's canonical list; the API layer maps them to HTTP
// statuses in exactly one place (api/errors.cc).
//
// Thread-safety: Status and StatusOr are values; const methods may be called concurrently.

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace glimmer {

// One meaning per code. Which HTTP status each becomes is decided once, in api/errors.cc (and
// the identity API's Keystone-shaped errors), never here or in the layers between.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the request itself is malformed or violates a rule.
  kUnauthenticated,     // no valid credentials.
  kPermissionDenied,    // the caller may see the resource but not do this.
  kNotFound,            // absent, or not visible to the caller.
  kAlreadyExists,       // duplicate id/member.
  kFailedPrecondition,  // wrong state (e.g. image not queued).
  kAborted,             // a conditional write lost a race with a concurrent one (only that).
  kResourceExhausted,   // quota or size cap.
  kUnsupportedMedia,    // Glimmer's extension: wrong Content-Type, or an image failed its format
                        // checks (Glance answers both with 415).
  kOutOfRange,          // bad byte range.
  kGone,                // Glimmer's extension: the resource vanished during the operation.
  kUnavailable,         // a backend (database, store, remote) is down or full for now (only that).
  kDataLoss,            // corrupt stored data.
  kInternal,
  kUnimplemented,
  kCancelled,           // the client went away (closed before its body ended); also a task
                        // stopped by shutdown or a lost lease.
  kDeadlineExceeded,    // the client was too slow (below the body rate, or stalled); also a task
                        // over its time limit.
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgumentError(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status UnauthenticatedError(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status PermissionDeniedError(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExistsError(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPreconditionError(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status AbortedError(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
inline Status ResourceExhaustedError(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status UnsupportedMediaError(std::string m) { return {StatusCode::kUnsupportedMedia, std::move(m)}; }
inline Status OutOfRangeError(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
inline Status GoneError(std::string m) { return {StatusCode::kGone, std::move(m)}; }
inline Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DataLossError(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status UnimplementedError(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status CancelledError(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
inline Status DeadlineExceededError(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }

// StatusOr<T>: either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const Status& status) : v_(status) { assert(!status.ok()); }  // NOLINT: implicit by design
  StatusOr(Status&& status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT
  StatusOr(const T& value) : v_(value) {}  // NOLINT
  StatusOr(T&& value) : v_(std::move(value)) {}  // NOLINT
  template <typename U>
    requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
             !std::is_same_v<std::decay_t<U>, Status> && !std::is_same_v<std::decay_t<U>, StatusOr>)
  StatusOr(U&& value) : v_(T(std::forward<U>(value))) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace glimmer

#define GLIMMER_CONCAT_INNER_(a, b) a##b
#define GLIMMER_CONCAT_(a, b) GLIMMER_CONCAT_INNER_(a, b)

// RETURN_IF_ERROR(expr): returns the Status from the enclosing function if expr is not OK.
#define RETURN_IF_ERROR(expr)                           \
  do {                                                  \
    ::glimmer::Status _glimmer_st = (expr);             \
    if (!_glimmer_st.ok()) return _glimmer_st;          \
  } while (0)

// ASSIGN_OR_RETURN(lhs, expr): evaluates a StatusOr; returns its Status on error, else assigns.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(GLIMMER_CONCAT_(_glimmer_sor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()
