#pragma once
// Dashboard session repository: the server side of the dashboard's session cookie
// (docs/design/dashboard.md §3.2). A record holds nothing usable on its own: the key is the
// SHA-256 of the cookie's secret and the Keystone token is sealed under a key derived from that
// secret (dashboard/session_crypto.h does the cryptography; this layer only stores text).
//
// Thread-safety: all methods may be called concurrently.
// Errors: NotFound (absent), AlreadyExists (duplicate id_digest), Internal/Unavailable on
// database errors.

#include <string>
#include <string_view>

#include "common/status.h"
#include "common/time.h"

namespace glimmer::db {

struct DashboardSessionRecord {
  std::string id_digest;     // lowercase hex SHA-256 of the cookie secret (primary key)
  std::string sealed_token;  // base64url of AES-256-GCM ciphertext + tag of the bearer token
  std::string nonce;         // base64url of the 12-byte GCM nonce
  std::string csrf_digest;   // lowercase hex SHA-256 of the session's CSRF token
  std::string user_id;
  std::string project_id;
  UnixMicros created_at = 0;
  UnixMicros expires_at = 0;  // the token's expiry
};

class SessionRepository {
 public:
  virtual ~SessionRepository() = default;
  SessionRepository(const SessionRepository&) = delete;
  SessionRepository& operator=(const SessionRepository&) = delete;

  virtual Status Create(const DashboardSessionRecord& record) = 0;
  // The record, expired or not (the caller compares expires_at with its clock).
  virtual StatusOr<DashboardSessionRecord> Get(std::string_view id_digest) = 0;
  // Idempotent: deleting an absent record is OK.
  virtual Status Delete(std::string_view id_digest) = 0;
  // Removes records whose expires_at <= now; returns how many.
  virtual StatusOr<int> PurgeExpired(UnixMicros now) = 0;

 protected:
  SessionRepository() = default;
};

}  // namespace glimmer::db
