#pragma once
// Bounded in-memory cache of validated tokens, keyed by token digest.
//
// An entry is served until the earlier of (insert time + max_age) and the token's own expiry;
// max_age bounds how long a revocation made on another node can go unnoticed here. When full,
// the least recently used entry is evicted.
//
// Revocations on this node: the caller first records the revocation in the database, then
// calls Erase or Clear. Both move the cache to a new generation, and Insert drops an entry
// computed under an older one: a validation that read the database before the revocation and
// inserts after the Erase/Clear cannot put the revoked token back (read generation() before
// reading the database, pass it to Insert).
//
// Thread-safety: all methods may be called concurrently.

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/time.h"
#include "domain/context.h"

namespace glimmer::identity {

class TokenCache {
 public:
  TokenCache(size_t capacity, UnixMicros max_age);
  TokenCache(const TokenCache&) = delete;
  TokenCache& operator=(const TokenCache&) = delete;

  // The cached context for `digest` if present and still fresh at `now`.
  std::optional<domain::RequestContext> Lookup(std::string_view digest, UnixMicros now);
  // The current generation; changes on every Erase and Clear.
  uint64_t generation() const;
  // Caches `context` for a token that expires at `token_expires_at`, unless the cache has
  // moved past `generation` (the value of generation() read before the token was loaded).
  void Insert(std::string digest, domain::RequestContext context, UnixMicros now,
              UnixMicros token_expires_at, uint64_t generation);
  void Erase(std::string_view digest);
  void Clear();
  size_t size() const;

 private:
  struct Entry {
    domain::RequestContext context;
    UnixMicros valid_until;
    std::list<std::string>::iterator lru_pos;
  };

  const size_t capacity_;
  const UnixMicros max_age_;
  mutable std::mutex mu_;
  uint64_t generation_ = 0;                         // guarded by mu_
  std::unordered_map<std::string, Entry> entries_;  // guarded by mu_
  std::list<std::string> lru_;                      // front = most recent; guarded by mu_
};

}  // namespace glimmer::identity
