#pragma once
// Dashboard sessions (design §3.2): created at sign-in from a bearer token, found again from the
// cookie's value, removed at sign-out, rescoping or when their token stops validating.
//
// The cookie value is base64url of a 32-byte random secret. The repository keeps SHA-256(secret)
// as the key, the bearer sealed under a key derived from the secret (AAD: the record's digest,
// user, project and expiry, so a sealed token cannot be moved to another record), and the digest
// of the session's CSRF token (derived from the secret, see session_crypto.h).
//
// A per-node cache keeps records (still sealed) for cache_max_age, like the token cache: a
// session removed on another node is seen here within that time; its token's revocation, which
// the edge checks on every request, is what ends it everywhere.
//
// Ownership: borrows the repository and the clock. Thread-safety: all methods may be called
// concurrently.

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"
#include "common/time.h"
#include "db/session_repository.h"
#include "platform/clock.h"

namespace glimmer::dashboard {

struct Session {
  std::string id_digest;
  std::string bearer;      // the Keystone token: memory only, never sent to the browser
  std::string csrf_token;  // derived from the secret (sent to the page in the session document)
  std::string csrf_digest;
  std::string user_id;
  std::string project_id;
  UnixMicros expires_at = 0;
};

struct NewSession {
  std::string cookie_value;  // base64url(secret): the only copy, goes into Set-Cookie
  Session session;
};

struct SessionStoreOptions {
  UnixMicros cache_max_age = 30LL * 1'000'000;  // 0 = no cache
  size_t cache_capacity = 10000;
};

class SessionStore {
 public:
  SessionStore(db::SessionRepository& repo, const platform::Clock& clock,
               SessionStoreOptions options = {});
  SessionStore(const SessionStore&) = delete;
  SessionStore& operator=(const SessionStore&) = delete;

  // A new session for `bearer`, expiring with it. Errors: the repository's; Internal when
  // sealing fails.
  StatusOr<NewSession> Create(std::string_view bearer, std::string_view user_id,
                              std::string_view project_id, UnixMicros expires_at);
  // The live session named by a cookie value. Unauthenticated when the value is malformed, names
  // no session, the session has expired (its row is then deleted) or does not unseal.
  StatusOr<Session> Open(std::string_view cookie_value);
  // Deletes the session's record (here and from the cache). Idempotent.
  Status Remove(std::string_view id_digest);
  // Deletes expired records; returns how many.
  StatusOr<int> PurgeExpired();

 private:
  struct Cached {
    db::DashboardSessionRecord record;
    UnixMicros cached_at;
  };
  StatusOr<db::DashboardSessionRecord> Load(const std::string& digest);

  db::SessionRepository& repo_;
  const platform::Clock& clock_;
  const SessionStoreOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, Cached> cache_;  // guarded by mu_
};

// AAD binding a sealed token to its record.
std::string SealAad(const db::DashboardSessionRecord& record);

}  // namespace glimmer::dashboard
