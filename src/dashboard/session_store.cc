#include "dashboard/session_store.h"

#include <utility>

#include "dashboard/session_crypto.h"
#include "platform/random.h"

namespace glimmer::dashboard {
namespace {

Status NoSession() { return UnauthenticatedError("No dashboard session, or it has ended."); }

}  // namespace

std::string SealAad(const db::DashboardSessionRecord& r) {
  return r.id_digest + "|" + r.user_id + "|" + r.project_id + "|" + std::to_string(r.expires_at);
}

SessionStore::SessionStore(db::SessionRepository& repo, const platform::Clock& clock,
                           SessionStoreOptions options)
    : repo_(repo), clock_(clock), options_(options) {}

StatusOr<NewSession> SessionStore::Create(std::string_view bearer, std::string_view user_id,
                                          std::string_view project_id, UnixMicros expires_at) {
  const std::string secret = platform::RandomBytes(kSecretBytes);
  db::DashboardSessionRecord r;
  r.id_digest = Sha256Hex(secret);
  r.user_id = std::string(user_id);
  r.project_id = std::string(project_id);
  r.created_at = clock_.Now();
  r.expires_at = expires_at;
  const std::string csrf = DeriveCsrfToken(secret);
  if (csrf.empty()) return InternalError("cannot derive the CSRF token");
  r.csrf_digest = Sha256Hex(csrf);
  ASSIGN_OR_RETURN(Sealed sealed, Seal(secret, bearer, SealAad(r)));
  r.nonce = Base64UrlEncode(sealed.nonce);
  r.sealed_token = Base64UrlEncode(sealed.ciphertext);
  RETURN_IF_ERROR(repo_.Create(r));

  NewSession out;
  out.cookie_value = Base64UrlEncode(secret);
  out.session = Session{r.id_digest,   std::string(bearer), csrf, r.csrf_digest,
                        r.user_id,     r.project_id,        r.expires_at};
  return out;
}

StatusOr<db::DashboardSessionRecord> SessionStore::Load(const std::string& digest) {
  const UnixMicros now = clock_.Now();
  if (options_.cache_max_age > 0) {
    std::lock_guard lock(mu_);
    auto it = cache_.find(digest);
    if (it != cache_.end()) {
      if (now - it->second.cached_at < options_.cache_max_age) return it->second.record;
      cache_.erase(it);
    }
  }
  StatusOr<db::DashboardSessionRecord> record = repo_.Get(digest);
  if (!record.ok()) {
    if (record.status().code() == StatusCode::kNotFound) return NoSession();
    return record.status();
  }
  if (options_.cache_max_age > 0) {
    std::lock_guard lock(mu_);
    if (cache_.size() >= options_.cache_capacity) cache_.clear();  // rare; simple and bounded
    cache_[digest] = Cached{*record, now};
  }
  return record;
}

StatusOr<Session> SessionStore::Open(std::string_view cookie_value) {
  StatusOr<std::string> secret = Base64UrlDecode(cookie_value);
  if (!secret.ok() || secret->size() != kSecretBytes) return NoSession();
  const std::string digest = Sha256Hex(*secret);
  ASSIGN_OR_RETURN(db::DashboardSessionRecord r, Load(digest));
  if (r.expires_at <= clock_.Now()) {
    (void)Remove(digest);
    return NoSession();
  }
  Sealed sealed;
  StatusOr<std::string> nonce = Base64UrlDecode(r.nonce);
  StatusOr<std::string> ciphertext = Base64UrlDecode(r.sealed_token);
  if (!nonce.ok() || !ciphertext.ok()) return NoSession();
  sealed.nonce = std::move(*nonce);
  sealed.ciphertext = std::move(*ciphertext);
  StatusOr<std::string> bearer = Unseal(*secret, sealed, SealAad(r));
  if (!bearer.ok()) return NoSession();
  Session s;
  s.id_digest = digest;
  s.bearer = std::move(*bearer);
  s.csrf_token = DeriveCsrfToken(*secret);
  s.csrf_digest = r.csrf_digest;
  s.user_id = r.user_id;
  s.project_id = r.project_id;
  s.expires_at = r.expires_at;
  return s;
}

Status SessionStore::Remove(std::string_view id_digest) {
  {
    std::lock_guard lock(mu_);
    cache_.erase(std::string(id_digest));
  }
  return repo_.Delete(id_digest);
}

StatusOr<int> SessionStore::PurgeExpired() { return repo_.PurgeExpired(clock_.Now()); }

}  // namespace glimmer::dashboard
